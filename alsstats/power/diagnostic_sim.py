r"""Simulation-based power for diagnostic-accuracy studies (DeLong tests).

Two designs, both run through :func:`alsstats.power.engine.map_replicates` (so they
scale out and checkpoint like trial simulations) and both analysed with the
validation harness (:func:`alsstats.validation.delong.delong_test`,
:func:`alsstats.validation.delong.delong_ci`):

* :func:`compare_auc_power` — two markers measured on the same subjects, binormal
  with equal variances: healthy scores :math:`N(0, 1)`, diseased
  :math:`N(\mu_k, 1)` with :math:`\mu_k = \sqrt 2\,\Phi^{-1}(A_k)` (so marker ``k``
  has AUC :math:`A_k`), correlated ``corr_diseased`` / ``corr_healthy`` between
  markers.  Rejection: paired DeLong test of :math:`A_1 = A_2` at ``alpha``.
* :func:`cohort_auc_power` — cohorts from the synthetic generator
  (:func:`alsstats.simulate.simulate_cohort`) with the given group sizes; baseline
  visits of the ``positive`` groups against the ``negative`` groups.  With one
  marker the test is one-sided, :math:`H_0: A \le A_0`, by the DeLong standard
  error; with two markers it is the paired DeLong test.  Subjects missing a marker
  are left out of that replicate (the numbers used are recorded).

Power is the rejection rate among successful replicates with its binomial Monte
Carlo SE; failed replicates (a DeLong computation that raises, e.g. a group left
empty) are counted separately.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats

from alsstats.errors import AlsStatsError
from alsstats.power._normal import check_positive, check_probability
from alsstats.power.engine import RunInfo, map_replicates

__all__ = ["AUCPower", "cohort_auc_power", "compare_auc_power"]


@dataclass(frozen=True)
class AUCPower:
    """Rejection rate of a simulated diagnostic study, with its Monte Carlo error."""

    design: dict
    replicates: int
    seed: int
    power: float
    mc_se: float
    rejections: int
    successful: int
    failed: int
    mean_auc: list[float]
    mean_n_positive: float
    mean_n_negative: float
    run: RunInfo
    results: np.ndarray = field(repr=False)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("results")
        return d


class _CorrelatedAUCTask:
    def __init__(self, auc1, auc2, n_positive, n_negative, corr_positive, corr_negative, alpha):
        self.mu = np.sqrt(2) * stats.norm.ppf([auc1, auc2])
        self.n_pos, self.n_neg = int(n_positive), int(n_negative)
        self.cov_pos = np.array([[1.0, corr_positive], [corr_positive, 1.0]])
        self.cov_neg = np.array([[1.0, corr_negative], [corr_negative, 1.0]])
        self.alpha = alpha

    def __call__(self, seeds) -> np.ndarray:
        from alsstats.validation.delong import delong_test

        labels = np.r_[np.ones(self.n_pos, bool), np.zeros(self.n_neg, bool)]
        rows = []
        for sq in seeds:
            rng = np.random.default_rng(sq)
            pos = rng.multivariate_normal(self.mu, self.cov_pos, size=self.n_pos)
            neg = rng.multivariate_normal(np.zeros(2), self.cov_neg, size=self.n_neg)
            s = np.vstack([pos, neg])
            try:
                r = delong_test(labels, s[:, 0], s[:, 1], direction=">")
                rows.append([r.auc1, r.auc2, r.p_value, float(r.p_value < self.alpha),
                             self.n_pos, self.n_neg, 0.0])
            except (AlsStatsError, ValueError, np.linalg.LinAlgError):
                rows.append([np.nan] * 4 + [self.n_pos, self.n_neg, 1.0])
        return np.asarray(rows, dtype=float)


def _mean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan


def _summarise(results: np.ndarray, design: dict, replicates: int, seed: int,
               info: RunInfo) -> AUCPower:
    ok = results[:, -1] == 0
    s = int(ok.sum())
    r = int(results[ok, 3].sum())
    pw = r / s if s else math.nan
    return AUCPower(design=design, replicates=int(replicates), seed=int(seed), power=pw,
                    mc_se=math.sqrt(pw * (1 - pw) / s) if s else math.nan, rejections=r,
                    successful=s, failed=int((~ok).sum()),
                    mean_auc=[_mean(results[ok, 0]), _mean(results[ok, 1])],
                    mean_n_positive=float(results[:, 4].mean()),
                    mean_n_negative=float(results[:, 5].mean()), run=info, results=results)


def compare_auc_power(auc1: float, auc2: float, n_positive: int, n_negative: int, *,
                      corr_positive: float = 0.5, corr_negative: float = 0.5,
                      alpha: float = 0.05, replicates: int = 1000, seed: int = 0,
                      **run) -> AUCPower:
    """Power of the paired DeLong test for two correlated binormal markers (see module doc).

    ``run`` goes to :func:`~alsstats.power.engine.map_replicates` (``workers``,
    ``scheduler``, ``chunk_size``, ``checkpoint``, ``progress``).
    """
    a1, a2 = check_probability("auc1", auc1), check_probability("auc2", auc2)
    for name, c in (("corr_positive", corr_positive), ("corr_negative", corr_negative)):
        if not -1 < float(c) < 1:
            raise AlsStatsError(f"{name} must lie in (-1, 1), got {c}")
    n_pos, n_neg = int(check_positive("n_positive", n_positive)), int(
        check_positive("n_negative", n_negative))
    alpha = check_probability("alpha", alpha)
    design = {"auc1": a1, "auc2": a2, "n_positive": n_pos, "n_negative": n_neg,
              "corr_positive": float(corr_positive), "corr_negative": float(corr_negative),
              "alpha": alpha, "test": "paired DeLong, two-sided"}
    task = _CorrelatedAUCTask(a1, a2, n_pos, n_neg, float(corr_positive), float(corr_negative),
                              alpha)
    results, info = map_replicates(task, replicates, seed,
                                   fingerprint=f"compare-auc:{sorted(design.items())}", **run)
    return _summarise(results, design, replicates, seed, info)


class _CohortAUCTask:
    def __init__(self, scenario, n_per_group, markers, directions, positive, negative,
                 auc_null, alpha):
        self.scenario, self.n_per_group = scenario, n_per_group
        self.markers, self.directions = markers, directions
        self.positive, self.negative = positive, negative
        self.auc_null, self.alpha = auc_null, alpha

    def __call__(self, seeds) -> np.ndarray:
        from alsstats.simulate import simulate_cohort
        from alsstats.validation.delong import delong_ci, delong_test

        rows = []
        for sq in seeds:
            data, _ = simulate_cohort(self.scenario, seed=sq,
                                      n_per_group=self.n_per_group, validate=False)
            base = data[(data["visit"] == 0)
                        & data["group"].isin([*self.positive, *self.negative])]
            base = base.dropna(subset=list(self.markers))
            labels = base["group"].isin(self.positive).to_numpy()
            n_pos, n_neg = int(labels.sum()), int((~labels).sum())
            try:
                if len(self.markers) == 1:
                    ci = delong_ci(labels, base[self.markers[0]].to_numpy(float),
                                   direction=self.directions[0])
                    if ci.se > 0:
                        p = float(stats.norm.sf((ci.auc - self.auc_null) / ci.se))
                    else:
                        p = 0.0 if ci.auc > self.auc_null else 1.0
                    rows.append([ci.auc, np.nan, p, float(p < self.alpha), n_pos, n_neg, 0.0])
                else:
                    r = delong_test(labels, base[self.markers[0]].to_numpy(float),
                                    base[self.markers[1]].to_numpy(float),
                                    direction=tuple(self.directions))
                    rows.append([r.auc1, r.auc2, r.p_value, float(r.p_value < self.alpha),
                                 n_pos, n_neg, 0.0])
            except (AlsStatsError, ValueError, np.linalg.LinAlgError):
                rows.append([np.nan] * 4 + [n_pos, n_neg, 1.0])
        return np.asarray(rows, dtype=float)


def cohort_auc_power(markers: list[str], *, n_per_group: int | dict, scenario: str = "default",
                     directions: list[str] | None = None, positive: tuple[str, ...] = ("ALS",),
                     negative: tuple[str, ...] = ("MIMIC",), auc_null: float = 0.5,
                     alpha: float = 0.05, replicates: int = 200, seed: int = 0,
                     **run) -> AUCPower:
    """Power of a diagnostic study simulated with the synthetic cohort generator.

    One marker: one-sided DeLong z test of AUC > ``auc_null``; two markers: paired
    DeLong test of equal AUCs.  ``directions`` gives each marker's direction (``'>'``:
    higher in the positive groups; ``'<'``: lower, e.g. the M1/precuneus ratio).
    """
    markers = list(markers)
    if len(markers) not in (1, 2):
        raise AlsStatsError(f"give one or two markers, got {markers}")
    directions = list(directions) if directions else [">"] * len(markers)
    if len(directions) != len(markers) or any(d not in ("<", ">") for d in directions):
        raise AlsStatsError(f"directions must be '<' or '>' per marker, got {directions}")
    from alsstats.schema import COLUMN_NAMES

    unknown = [m for m in markers if m not in COLUMN_NAMES]
    if unknown:
        raise AlsStatsError(f"unknown marker column(s) {unknown}")
    auc_null = check_probability("auc_null", auc_null)
    alpha = check_probability("alpha", alpha)
    design = {"markers": markers, "directions": directions, "n_per_group": n_per_group,
              "scenario": str(scenario), "positive": list(positive), "negative": list(negative),
              "auc_null": auc_null, "alpha": alpha,
              "test": "one-sided DeLong z" if len(markers) == 1 else "paired DeLong, two-sided"}
    task = _CohortAUCTask(scenario, n_per_group, markers, directions, tuple(positive),
                          tuple(negative), auc_null, alpha)
    results, info = map_replicates(task, replicates, seed,
                                   fingerprint=f"cohort-auc:{sorted(design.items())}", **run)
    return _summarise(results, design, replicates, seed, info)
