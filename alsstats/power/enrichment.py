r"""Biomarker enrichment of an ALSFRS-R slope trial: screening, sample size and cost by threshold.

Serum neurofilament light (NfL) is prognostic in ALS: patients with higher NfL decline
faster.  Enrolling only patients with baseline NfL at or above a threshold :math:`c`
raises the mean decline a slowing acts on, and changes the spread of the slopes, so the
trial needs fewer patients but must screen more.  The population is the synthetic
cohort generator's (:func:`alsstats.simulate.simulate_cohort`): ``population_size``
patients of the ALS group, each with a measured baseline NfL (its visit-to-visit noise
included, as at screening), a true post-baseline ALSFRS-R decline :math:`\delta_i`
(points per month) and baseline ALSFRS-R :math:`a_i`.  For each threshold, with
:math:`E_c = \{i : \text{NfL}_i \ge c\}` (a missing NfL is a screen failure unless there is
no threshold):

.. math::

    \pi(c) = |E_c| / N, \qquad \mu(c) = \overline{\delta}_{E_c}, \qquad
    \sigma^2_{b_1}(c) = \widehat{\operatorname{Var}}_{E_c}(\delta), \qquad
    \sigma^2_{b_0}(c),\ \sigma_{b_0 b_1}(c) \text{ from } (a_i, -\delta_i),

and the trial's slope model :math:`y_{ij} = a_i - \delta_i t_j + \varepsilon_{ij}`,
:math:`\sigma_e` the generator's ALSFRS-R visit SD (its rounding to whole points adds
1/12 to the variance).  The effect is a relative slowing :math:`\kappa`, so
:math:`\Delta(c) = \kappa\,\mu(c)`, and the control-arm size :math:`n(c)` for the target
power is the GLS answer (:func:`alsstats.power.slope.slope_sample_size`, common baseline)
for these moments; the enrolment is :math:`N_e(c) = \lceil n(c)\rceil (1 + r)`
(allocation ``r``).  Patients screened per patient enrolled are :math:`1/\pi(c)`, patients
screened :math:`N_s(c) = N_e(c)/\pi(c)`, and the cost
:math:`C(c) = c_s N_s(c) + c_e N_e(c)` (cost per screen and per enrolled patient).

Monte Carlo error comes from the finite simulated population: the standard errors of
:math:`\pi(c)` (binomial), :math:`\mu(c)` (SD/√|E_c|) and of the screening ratio (delta
method, :math:`\mathrm{SE}(\pi)/\pi^2`) are reported; ``population_size`` = 20,000 makes them
small beside the differences between thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from alsstats.errors import AlsStatsError

__all__ = ["EnrichmentPopulation", "EnrichmentResult", "enrichment_design",
           "enrichment_population"]


@dataclass(frozen=True)
class EnrichmentPopulation:
    """Screening population: baseline marker, decline per month and baseline ALSFRS-R."""

    marker: np.ndarray
    decline: np.ndarray
    baseline: np.ndarray
    sd_residual: float
    marker_name: str = "nfl_pg_ml"
    source: str = "given"

    def __post_init__(self) -> None:
        n = len(self.decline)
        if len(self.marker) != n or len(self.baseline) != n or n < 10:
            raise AlsStatsError("population: marker, decline and baseline need one value per "
                                f"patient (>= 10), got {len(self.marker)}, {n}, "
                                f"{len(self.baseline)}")
        if not (math.isfinite(self.sd_residual) and self.sd_residual > 0):
            raise AlsStatsError(f"population: sd_residual must be > 0, got {self.sd_residual!r}")


def enrichment_population(scenario: str = "default", population_size: int = 20_000,
                          seed: int = 0, *, group: str = "ALS",
                          marker: str = "nfl_pg_ml") -> EnrichmentPopulation:
    """Simulate the screening population from the cohort generator (``group`` patients).

    ``population_size`` patients are split evenly over the group's strata; each has its
    baseline-visit ``marker`` as measured (NaN when missing), its true ALSFRS-R decline
    (``post_slope``, points per month) and baseline ALSFRS-R.
    """
    from alsstats.simulate import simulate_cohort
    from alsstats.simulate.scenario import load_scenario

    sc = load_scenario(scenario)
    strata = [name for name, s in sc.strata.items() if s.group == group]
    if not strata:
        raise AlsStatsError(f"cohort scenario {sc.name!r} has no {group!r} stratum (groups: "
                            f"{sorted({s.group for s in sc.strata.values()})})")
    if not all(sc.strata[name].progressive for name in strata):
        raise AlsStatsError(f"group {group!r} does not decline in scenario {sc.name!r}")
    per = max(1, math.ceil(int(population_size) / len(strata)))
    sizes = {name: (per if name in strata else 1) for name in sc.strata}
    rows, truth = simulate_cohort(sc, seed, n_per_group=sizes, validate=False)
    if marker not in rows.columns:
        raise AlsStatsError(f"marker {marker!r} is not a cohort column")
    subj = truth.subjects[truth.subjects["group"] == group].set_index("subject_id")
    base = rows[rows["visit"] == 0].set_index("subject_id")[marker]
    value = base.reindex(subj.index).to_numpy(dtype=float)
    visit_sd = float(sc.measurement["alsfrs_visit_sd"])
    return EnrichmentPopulation(marker=value, decline=subj["post_slope"].to_numpy(float),
                                baseline=subj["alsfrs_baseline"].to_numpy(float),
                                sd_residual=math.sqrt(visit_sd**2 + 1.0 / 12.0),
                                marker_name=marker,
                                source=f"cohort scenario {sc.name!r}, seed {seed}, "
                                       f"{len(subj)} {group} patients")


@dataclass(frozen=True)
class EnrichmentResult:
    """One row per threshold, and the thresholds that minimise screening, enrolment, cost."""

    rows: list[dict]
    best: dict
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"thresholds": self.rows, "best": self.best, **self.settings}


def enrichment_design(population: EnrichmentPopulation, times: Sequence[float], *,
                      slowing: float, power: float = 0.8, alpha: float = 0.05,
                      alternative: str = "two-sided", allocation: float = 1.0,
                      dropout: Sequence[float] | None = None,
                      thresholds: Sequence[float] | None = None,
                      cost_screen: float = 1.0, cost_enrolled: float = 0.0) -> EnrichmentResult:
    """Screening ratio, sample size and cost of the trial at each marker threshold.

    Parameters
    ----------
    population : the screening population (:func:`enrichment_population`).
    times : visit times in months (the decline is in points per month).
    slowing : relative slowing :math:`\\kappa` of the decline (0.3 = 30%).
    power, alpha, alternative, allocation, dropout : as in
        :func:`~alsstats.power.slope.slope_sample_size` (common baseline).
    thresholds : marker values; default the 10th, 20th, ..., 80th percentiles of the
        population's measured marker.  The first row is always the trial without
        enrichment (threshold ``None``).
    cost_screen, cost_enrolled : cost per patient screened and per patient enrolled.
    """
    from alsstats.power.slope import slope_sample_size

    if not (math.isfinite(slowing) and 0 < slowing <= 1):
        raise AlsStatsError(f"slowing must be a fraction in (0, 1], got {slowing!r}")
    for name, v in (("cost_screen", cost_screen), ("cost_enrolled", cost_enrolled)):
        if not (math.isfinite(v) and v >= 0):
            raise AlsStatsError(f"{name} must be >= 0, got {v!r}")
    m = population.marker
    finite = np.isfinite(m)
    if thresholds is None:
        cuts = [None, *(float(q) for q in np.quantile(m[finite], np.arange(0.1, 0.81, 0.1)))]
    else:
        cuts = [None] + [float(c) for c in thresholds if c is not None]
        if any(c is not None and not math.isfinite(c) for c in cuts):
            raise AlsStatsError(f"thresholds must be finite numbers, got {list(thresholds)}")
    n_pop = m.size
    rows = []
    for c in cuts:
        sel = np.ones(n_pop, bool) if c is None else finite & (m >= c)
        k = int(sel.sum())
        if k < 10:
            raise AlsStatsError(f"threshold {c:g} keeps {k} of {n_pop} patients; use lower "
                                "thresholds or a larger population")
        pi = k / n_pop
        dec, base = population.decline[sel], population.baseline[sel]
        mu = float(dec.mean())
        cov = np.cov(np.vstack([base, -dec]))
        res = slope_sample_size(times, delta=slowing * mu, power=power,
                                var_intercept=cov[0, 0], var_slope=cov[1, 1],
                                cov_intercept_slope=cov[0, 1],
                                var_residual=population.sd_residual**2, alpha=alpha,
                                alternative=alternative, allocation=allocation,
                                dropout=dropout, common_baseline=True)
        enrolled = res.n + math.ceil(allocation * res.n - 1e-9)
        screened = enrolled / pi
        se_pi = math.sqrt(pi * (1 - pi) / n_pop)
        rows.append({
            "threshold": c, "eligible": pi, "eligible_mc_se": se_pi,
            "screening_ratio": 1 / pi, "screening_ratio_mc_se": se_pi / pi**2,
            "mean_decline": mu, "mean_decline_mc_se": float(dec.std(ddof=1) / math.sqrt(k)),
            "sd_decline": float(math.sqrt(cov[1, 1])), "n_control": res.n,
            "n_control_exact": res.n_exact, "enrolled": enrolled, "screened": screened,
            "cost": cost_screen * screened + cost_enrolled * enrolled})
    best = {key: rows[int(np.argmin([r[key] for r in rows]))]["threshold"]
            for key in ("screened", "enrolled", "cost")}
    return EnrichmentResult(rows, best, {
        "marker": population.marker_name, "population": population.source,
        "population_size": n_pop, "slowing": float(slowing), "power": float(power),
        "alpha": float(alpha), "alternative": alternative, "allocation": float(allocation),
        "times": [float(t) for t in times], "sd_residual": population.sd_residual,
        "cost_screen": float(cost_screen), "cost_enrolled": float(cost_enrolled)})
