r"""Bayesian decision rules with interim looks: operating characteristics by simulation.

A two-arm slope trial (:class:`~alsstats.power.scenario.TrialScenario`, control and one
active arm) is analysed at looks ``k = 1..K`` after the first fraction :math:`f_k` of
each arm's subjects (in order of enrolment, :math:`f_K = 1`) has completed follow-up.
Because every analysed subject has the same schedule, the statistical information at
look ``k`` is the fraction :math:`t_k = f_k` of the final information (the subjects
are exchangeable), so the looks are the information fractions of
:mod:`alsstats.power.groupseq`.

At each look the scenario's analysis (REML by default, :mod:`alsstats.power.trials`)
gives the slope difference :math:`\hat\Delta_k` and its standard error :math:`s_k`.  The
**benefit** is :math:`\theta = -\operatorname{sign}(\beta_1)\,\Delta` (positive = slower
decline, whatever the direction of the endpoint).  With the normal likelihood
:math:`\hat\theta_k \sim N(\theta, s_k^2)` and the prior :math:`\theta \sim N(m, \tau^2)`
(flat when ``prior_sd`` is ``None``), the posterior is normal with

.. math::

    \frac{1}{v_k} = \frac{1}{\tau^2} + \frac{1}{s_k^2}, \qquad
    \mu_k = v_k \left(\frac{m}{\tau^2} + \frac{\hat\theta_k}{s_k^2}\right), \qquad
    P(\theta > 0 \mid \text{data}_k) = \Phi(\mu_k / \sqrt{v_k}).

The rule: at an interim look stop for **success** if
:math:`P(\theta > 0 \mid \text{data}_k) > q_k`, for **futility** if it is below
:math:`q_f` (optional); at the final look the trial succeeds if
:math:`P(\theta > 0 \mid \text{data}_K) > q_K`.  (The posterior of the normal
approximation to the likelihood is the one platform trials use for their rules; the full
Bayesian decline model of :mod:`alsstats.models.longitudinal` would take ~20 s per look.)

Operating characteristics over ``R`` simulated trials: P(success) (type I error under
:math:`\theta = 0`, power otherwise), P(stop for success / futility at each look),
the expected number of subjects analysed :math:`E[N] = \sum_k P(\text{stop at } k)\,N_k`,
each with its Monte Carlo SE (:math:`\sqrt{p(1-p)/R}`, or SD/:math:`\sqrt R`).  A trial
whose fit fails at any look is counted apart (``failed``), never as a decision.

**Calibration.**  With futility :math:`q_f < q`, a trial succeeds under a common
threshold ``q`` exactly when :math:`M = \max_{k \le k^*} P(\theta > 0 \mid \text{data}_k)
> q`, :math:`k^*` the first futility stop (else ``K``), so the type I error is
:math:`P(M > q)`: monotone in ``q``.  :func:`calibrate_threshold` takes ``q`` as the
empirical :math:`1 - \alpha` quantile of ``M`` over simulated null trials; the achieved
type I error is then checked on *independent* null replicates (another seed), where it
must lie within Monte Carlo error of :math:`\alpha`.

**Analytic check.**  With the posterior probability a monotone function of
:math:`Z_k = \hat\theta_k / s_k` and :math:`s_k = s_K / \sqrt{t_k}`, the rule is a pair of
Z boundaries per look, so its operating characteristics also follow from the canonical
joint distribution (:func:`alsstats.power.groupseq.crossing_probabilities`) with drift
:math:`\eta = \theta / s_K`, :math:`s_K` the GLS standard error of the full trial
(:func:`alsstats.power.simulate.analytic_se`; informative death ignored).  A
Lan–DeMets design (:func:`~alsstats.power.groupseq.group_sequential_design`) is
evaluated on the same simulated trials beside it.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from alsstats.errors import AlsStatsError
from alsstats.power.engine import RunInfo, map_replicates
from alsstats.power.groupseq import (
    GroupSequentialDesign,
    check_information_rates,
    crossing_probabilities,
    group_sequential_design,
)
from alsstats.power.scenario import TrialScenario
from alsstats.power.trials import analyse_trial, simulate_trial

__all__ = ["DecisionRule", "LookOC", "OperatingCharacteristics", "SequentialDesignResult",
           "SequentialSimulation", "SequentialTask", "calibrate_threshold", "sequential_design",
           "simulate_sequential"]


def _ndtr(x):
    from scipy.special import ndtr

    return ndtr(x)


def _ndtri(p):
    from scipy.special import ndtri

    return ndtri(p)


def _probability(name: str, value: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and 0.0 < v < 1.0):
        raise AlsStatsError(f"{name} must be a probability in (0, 1), got {value!r}")
    return v


@dataclass(frozen=True)
class DecisionRule:
    r"""Posterior-probability thresholds and the normal prior on the benefit.

    Parameters
    ----------
    success : :math:`q_k`, one threshold for every look or one per look.
    futility : :math:`q_f`, stop at an interim look when :math:`P(\theta > 0) < q_f`
        (``None``: no futility stop); must lie below every success threshold.
    prior_mean, prior_sd : the normal prior :math:`N(m, \tau^2)` on the benefit
        :math:`\theta` in endpoint units per time unit (``prior_sd=None``: flat prior).
    """

    success: float | tuple[float, ...] = 0.975
    futility: float | None = None
    prior_mean: float = 0.0
    prior_sd: float | None = None

    def __post_init__(self) -> None:
        q = self.success if isinstance(self.success, tuple) else (self.success,)
        for v in q:
            _probability("success threshold", v)
        if self.futility is not None:
            _probability("futility threshold", self.futility)
            if self.futility >= min(q):
                raise AlsStatsError(f"futility threshold {self.futility} must lie below the "
                                    f"success threshold {min(q)}")
        if not math.isfinite(self.prior_mean):
            raise AlsStatsError(f"prior_mean must be finite, got {self.prior_mean!r}")
        if self.prior_sd is not None and not (math.isfinite(self.prior_sd)
                                              and self.prior_sd > 0):
            raise AlsStatsError(f"prior_sd must be > 0 (or None for a flat prior), got "
                                f"{self.prior_sd!r}")

    def thresholds(self, n_looks: int) -> np.ndarray:
        """The success threshold of each look."""
        if isinstance(self.success, tuple):
            if len(self.success) != n_looks:
                raise AlsStatsError(f"success gives {len(self.success)} thresholds for "
                                    f"{n_looks} looks; give one, or one per look")
            return np.asarray(self.success, dtype=float)
        return np.full(n_looks, float(self.success))

    def posterior_z(self, benefit: np.ndarray, se: np.ndarray) -> np.ndarray:
        r"""The posterior z :math:`\mu_k/\sqrt{v_k}`: :math:`P(\theta > 0 \mid \text{data})`
        is its :math:`\Phi`."""
        if self.prior_sd is None:
            return benefit / se
        prec = 1.0 / self.prior_sd**2 + 1.0 / se**2
        return (self.prior_mean / self.prior_sd**2 + benefit / se**2) / np.sqrt(prec)

    def z_boundaries(self, se: np.ndarray, n_looks: int) -> tuple[np.ndarray, np.ndarray]:
        r"""Equivalent boundaries on :math:`Z_k = \hat\theta_k / s_k` for standard errors ``se``."""
        zq = _ndtri(self.thresholds(n_looks))
        zf = np.full(n_looks, -np.inf) if self.futility is None else np.full(
            n_looks, _ndtri(self.futility))
        if self.prior_sd is None:
            return zq, zf
        prec = np.sqrt(1.0 / self.prior_sd**2 + 1.0 / se**2)
        shift = self.prior_mean / self.prior_sd**2
        return se * (zq * prec - shift), se * (zf * prec - shift)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["success"] = list(self.success) if isinstance(self.success, tuple) else self.success
        d["prior"] = "flat" if self.prior_sd is None else "normal"
        return d


def _look_sizes(scenario: TrialScenario, looks: np.ndarray) -> np.ndarray:
    """Subjects analysed per arm at each look (looks × arms), at least 2, all at the end."""
    n = np.array([a.n for a in scenario.arms])
    sizes = np.maximum(np.round(looks[:, None] * n[None, :]).astype(int), 2)
    sizes[-1] = n
    if np.any(np.diff(sizes, axis=0) <= 0):
        raise AlsStatsError(f"looks {looks.tolist()} give the same subjects at two looks for "
                            f"arms of {n.tolist()} subjects; space them further apart")
    return sizes


class SequentialTask:
    """Picklable replicate task: one trial, analysed at every look (looks × 3: estimate,
    SE, failed)."""

    def __init__(self, scenario: TrialScenario, looks):
        if len(scenario.arms) != 2:
            raise AlsStatsError(f"sequential designs compare one active arm with control; the "
                                f"scenario has {len(scenario.arms)} arms")
        self.scenario = scenario
        self.looks = check_information_rates(looks)
        self.sizes = _look_sizes(scenario, self.looks)

    def __call__(self, seeds) -> np.ndarray:
        out = np.empty((len(seeds), self.looks.size, 3))
        for r, sq in enumerate(seeds):
            data = simulate_trial(self.scenario, np.random.default_rng(sq))
            start = np.concatenate([[0], np.cumsum([a.n for a in self.scenario.arms])[:-1]])
            for k, size in enumerate(self.sizes):
                rows = np.concatenate([s + np.arange(m) for s, m in zip(start, size,
                                                                          strict=True)])
                res = analyse_trial(data.subset(rows), self.scenario)[0]
                out[r, k] = res[0], res[1], res[3]
        return out


@dataclass(frozen=True)
class LookOC:
    r"""Operating characteristics at one look (probabilities with their MC SE).

    ``z_success`` / ``z_futility`` are the thresholds on the scale of
    :math:`\Phi^{-1}(P(\theta > 0 \mid \text{data}))`, which is the Z statistic itself for a
    flat prior and for the group-sequential rule (its boundary :math:`c_k`); with a
    normal prior the Z boundaries are in :func:`analytic_oc`.
    """

    look: int
    information: float
    n_analysed: int
    success: float
    success_mc_se: float
    futility: float
    futility_mc_se: float
    z_success: float
    z_futility: float | None


@dataclass(frozen=True)
class OperatingCharacteristics:
    """P(success) overall and per look, futility stops and the expected sample size."""

    true_benefit: float
    replicates: int
    failed: int
    success: float
    success_mc_se: float
    expected_n: float
    expected_n_mc_se: float
    looks: list[LookOC]

    def to_dict(self) -> dict:
        return asdict(self)


def _mc(p: float, r: int) -> float:
    return math.sqrt(p * (1.0 - p) / r) if r else math.nan


@dataclass(frozen=True)
class SequentialSimulation:
    """Simulated trials analysed at each look: ``results`` is replicates × looks × 3."""

    scenario: TrialScenario
    looks: tuple[float, ...]
    replicates: int
    seed: int
    run: RunInfo
    results: np.ndarray = field(repr=False)

    @property
    def n_total(self) -> np.ndarray:
        """Subjects analysed (both arms) at each look."""
        return _look_sizes(self.scenario, np.asarray(self.looks)).sum(axis=1)

    def _ok(self) -> np.ndarray:
        return ~np.any(self.results[:, :, 2] != 0, axis=1)

    def benefit_z(self) -> tuple[np.ndarray, np.ndarray]:
        """Benefit estimates and SEs of the replicates whose fits all succeeded."""
        ok = self._ok()
        sign = -math.copysign(1.0, self.scenario.outcome.slope)
        return sign * self.results[ok, :, 0], self.results[ok, :, 1]

    def operating_characteristics(self, rule: DecisionRule) -> OperatingCharacteristics:
        """P(success), stops per look and E[N] of ``rule`` on these trials."""
        benefit, se = self.benefit_z()
        z = rule.posterior_z(benefit, se)
        k = len(self.looks)
        zq = np.broadcast_to(_ndtri(rule.thresholds(k)), z.shape)
        zf = np.full(z.shape, -np.inf) if rule.futility is None else np.full(
            z.shape, _ndtri(rule.futility))
        oc = self._apply(z, zq, zf)
        bounds = (_ndtri(rule.thresholds(k)),
                  None if rule.futility is None else float(_ndtri(rule.futility)))
        return self._summary(oc, bounds)

    def group_sequential(self, design: GroupSequentialDesign) -> OperatingCharacteristics:
        r"""The Lan–DeMets design's efficacy rule :math:`Z_k \ge c_k` on these trials."""
        benefit, se = self.benefit_z()
        z = benefit / se
        c = np.broadcast_to(np.asarray(design.critical_values), z.shape)
        oc = self._apply(z, c, np.full(z.shape, -np.inf), inclusive=True)
        return self._summary(oc, (np.asarray(design.critical_values), None))

    def _apply(self, z, upper, lower, inclusive: bool = False):
        k = z.shape[1]
        active = np.ones(z.shape[0], bool)
        eff = np.zeros(z.shape, bool)
        fut = np.zeros(z.shape, bool)
        for j in range(k):
            hit = (z[:, j] >= upper[:, j]) if inclusive else (z[:, j] > upper[:, j])
            eff[:, j] = active & hit
            if j < k - 1:
                fut[:, j] = active & ~hit & (z[:, j] < lower[:, j])
            active &= ~(eff[:, j] | fut[:, j])
        return eff, fut

    def _summary(self, oc, bounds) -> OperatingCharacteristics:
        eff, fut = oc
        r = eff.shape[0]
        sizes = self.n_total
        stop = eff | fut
        stop_look = np.where(stop.any(axis=1), stop.argmax(axis=1), len(self.looks) - 1)
        n_used = sizes[stop_look]
        looks = []
        for j, t in enumerate(self.looks):
            pe = float(eff[:, j].mean()) if r else math.nan
            pf = float(fut[:, j].mean()) if r else math.nan
            looks.append(LookOC(look=j + 1, information=float(t), n_analysed=int(sizes[j]),
                                success=pe, success_mc_se=_mc(pe, r), futility=pf,
                                futility_mc_se=_mc(pf, r), z_success=float(bounds[0][j]),
                                z_futility=None if bounds[1] is None or j == len(self.looks) - 1
                                else bounds[1]))
        ps = float(eff.any(axis=1).mean()) if r else math.nan
        return OperatingCharacteristics(
            true_benefit=self.scenario.arms[1].slowing * abs(self.scenario.outcome.slope),
            replicates=int(r), failed=int(self.replicates - r), success=ps,
            success_mc_se=_mc(ps, r), expected_n=float(n_used.mean()) if r else math.nan,
            expected_n_mc_se=float(n_used.std(ddof=1) / math.sqrt(r)) if r > 1 else math.nan,
            looks=looks)

    def to_dict(self) -> dict:
        return {"scenario": self.scenario.name, "looks": list(self.looks),
                "replicates": self.replicates, "seed": self.seed, "run": asdict(self.run)}


def simulate_sequential(scenario: TrialScenario, looks, replicates: int = 1000,
                        seed: int = 0, *, workers: int = 1, scheduler: str | None = None,
                        chunk_size: int = 50, checkpoint: str | os.PathLike | None = None,
                        progress: bool = False) -> SequentialSimulation:
    """Simulate ``replicates`` trials of ``scenario``, each analysed at every look.

    Replicate ``i`` uses child seed ``i`` of ``SeedSequence(seed)``, so the result is
    identical for any ``workers``/``scheduler`` and resumes from ``checkpoint``
    (:func:`~alsstats.power.engine.map_replicates`).  Decision rules are applied
    afterwards (:meth:`SequentialSimulation.operating_characteristics`), so one
    simulation serves every threshold.
    """
    if not isinstance(scenario, TrialScenario):
        raise AlsStatsError("scenario must be a TrialScenario (see read_trial_scenario)")
    task = SequentialTask(scenario, looks)
    results, info = map_replicates(
        task, replicates, seed,
        fingerprint=f"sequential:{scenario.fingerprint()}:{task.looks.tolist()}",
        workers=workers, scheduler=scheduler, chunk_size=chunk_size, checkpoint=checkpoint,
        progress=progress)
    return SequentialSimulation(scenario, tuple(float(v) for v in task.looks), int(replicates),
                                int(seed), info, results)


def calibrate_threshold(null: SequentialSimulation, alpha: float, *,
                        futility: float | None = None, prior_mean: float = 0.0,
                        prior_sd: float | None = None) -> DecisionRule:
    r"""The common success threshold whose type I error on ``null`` trials is ``alpha``.

    ``q`` is the empirical :math:`1-\alpha` quantile of
    :math:`M = \max_{k \le k^*} P(\theta > 0 \mid \text{data}_k)` (module docstring), taken
    midway between the order statistics :math:`M_{(R-h)}` and :math:`M_{(R-h+1)}`,
    :math:`h = \lfloor \alpha R \rfloor`: exactly ``h`` of the ``R`` null trials succeed.
    Check it on independent null trials.
    """
    alpha = _probability("alpha", alpha)
    if null.scenario.arms[1].slowing != 0:
        raise AlsStatsError(f"calibration needs null trials (slowing 0); the scenario's active "
                            f"arm has slowing {null.scenario.arms[1].slowing}")
    probe = DecisionRule(0.999999, futility, prior_mean, prior_sd) if futility is not None \
        else DecisionRule(0.5, None, prior_mean, prior_sd)
    benefit, se = null.benefit_z()
    z = probe.posterior_z(benefit, se)
    r, k = z.shape
    if r < 20:
        raise AlsStatsError(f"calibration needs at least 20 successful null trials, got {r}")
    m = np.full(r, -np.inf)
    alive = np.ones(r, bool)
    zf = -np.inf if futility is None else _ndtri(futility)
    for j in range(k):
        m = np.where(alive, np.maximum(m, z[:, j]), m)
        if j < k - 1:
            alive &= ~(z[:, j] < zf)
    hits = math.floor(alpha * r)
    if hits < 1:
        raise AlsStatsError(f"alpha {alpha} × {r} null trials < 1 success: simulate more null "
                            "trials to calibrate")
    # Midway between the two order statistics, so that round-off of Phi/Phi^-1 cannot move
    # a trial across the threshold.
    ordered = np.sort(m)
    q = float(_ndtr(0.5 * (ordered[r - hits - 1] + ordered[r - hits])))
    if q >= 1.0:
        raise AlsStatsError("the calibrated threshold rounds to 1; use fewer looks or a larger "
                            "alpha")
    if futility is not None and futility >= q:
        raise AlsStatsError(f"the calibrated success threshold {q:.4f} is not above the futility "
                            f"threshold {futility}; lower the futility threshold")
    return DecisionRule(q, futility, prior_mean, prior_sd)


def analytic_oc(rule: DecisionRule, scenario: TrialScenario, looks,
                benefit: float | None = None) -> dict:
    r"""The rule's operating characteristics from the canonical joint distribution.

    Z boundaries from :meth:`DecisionRule.z_boundaries` with :math:`s_k = s_K/\sqrt{t_k}`
    and drift :math:`\theta / s_K`, :math:`s_K` the GLS standard error of the scenario's
    full trial (informative death ignored); ``benefit`` :math:`\theta` defaults to the
    scenario's slowing × \|slope\| (0 gives the type I error).
    """
    from alsstats.power.simulate import analytic_se

    t = check_information_rates(looks)
    se_final = analytic_se(scenario)
    if benefit is None:
        benefit = abs(scenario.arms[1].slowing * scenario.outcome.slope)
    upper, lower = rule.z_boundaries(se_final / np.sqrt(t), t.size)
    lower = lower.copy()
    lower[-1] = -np.inf
    eff, fut = crossing_probabilities(t, upper, lower, drift=benefit / se_final)
    return {"se_final": se_final, "drift": benefit / se_final, "success": float(eff.sum()),
            "success_at_look": eff.tolist(), "futility_at_look": fut.tolist(),
            "z_success": upper.tolist(), "z_futility": lower[:-1].tolist()}


@dataclass(frozen=True)
class SequentialDesignResult:
    """Result of :func:`sequential_design`: the rule under the null and the alternative."""

    scenario: str
    looks: tuple[float, ...]
    n_per_arm: dict
    rule: DecisionRule
    calibration: dict | None
    null: OperatingCharacteristics
    alternative: OperatingCharacteristics
    analytic_null: dict
    analytic_alternative: dict
    group_sequential: GroupSequentialDesign
    group_sequential_null: OperatingCharacteristics
    group_sequential_alternative: OperatingCharacteristics
    group_sequential_analytic: dict
    replicates: int
    seed: int
    runs: dict

    def to_dict(self) -> dict:
        return {"scenario": self.scenario, "looks": list(self.looks),
                "n_per_arm": self.n_per_arm, "rule": self.rule.to_dict(),
                "calibration": self.calibration, "type_i_error": self.null.success,
                "type_i_error_mc_se": self.null.success_mc_se, "power": self.alternative.success,
                "power_mc_se": self.alternative.success_mc_se, "null": self.null.to_dict(),
                "alternative": self.alternative.to_dict(),
                "analytic": {"null": self.analytic_null,
                             "alternative": self.analytic_alternative},
                "group_sequential": {**self.group_sequential.to_dict(),
                                     "null": self.group_sequential_null.to_dict(),
                                     "alternative": self.group_sequential_alternative.to_dict(),
                                     "analytic": self.group_sequential_analytic},
                "replicates": self.replicates, "seed": self.seed, "runs": self.runs}


def _sub_seeds(seed: int) -> dict[str, int]:
    children = np.random.SeedSequence(int(seed)).spawn(3)
    names = ("null-calibration", "null", "alternative")
    return {n: int(c.generate_state(1, np.uint32)[0]) for n, c in zip(names, children,
                                                                       strict=True)}


def sequential_design(scenario: TrialScenario, looks, rule: DecisionRule | None = None, *,
                      calibrate_alpha: float | None = None, alpha: float = 0.025,
                      spending: str = "obrien-fleming", replicates: int = 1000, seed: int = 0,
                      checkpoint: str | os.PathLike | None = None,
                      **run) -> SequentialDesignResult:
    """Operating characteristics of a Bayesian rule under the null and the scenario's effect.

    Simulates ``replicates`` null trials (the active arm's slowing set to 0) and
    ``replicates`` trials with the scenario's slowing.  With ``calibrate_alpha`` the
    common success threshold is first calibrated on a third, independent set of null
    trials (:func:`calibrate_threshold`; ``rule`` gives the futility threshold and
    prior), so the reported type I error is an honest check.  The Lan–DeMets design with
    one-sided ``alpha`` (``calibrate_alpha`` when given) and ``spending`` is applied to the
    same trials and computed analytically.  Seeds: the runs use the integer seeds drawn
    from children 0 (calibration), 1 (null) and 2 (alternative) of
    ``SeedSequence(seed)``; with ``checkpoint`` each run gets its subfolder.  ``run`` is
    passed to :func:`simulate_sequential`.
    """
    rule = rule or DecisionRule()
    t = check_information_rates(looks)
    if scenario.arms[1].slowing == 0:
        raise AlsStatsError("the scenario's active arm has slowing 0: give the effect the "
                            "design should detect (the null is simulated as well)")
    null_scenario = scenario.with_changes(slowing=0.0)
    seeds = _sub_seeds(seed)

    def sim(name, sc):
        folder = None if checkpoint is None else Path(checkpoint) / name
        return simulate_sequential(sc, t, replicates, seeds[name], checkpoint=folder, **run)

    calibration = None
    if calibrate_alpha is not None:
        cal = sim("null-calibration", null_scenario)
        rule = calibrate_threshold(cal, calibrate_alpha, futility=rule.futility,
                                   prior_mean=rule.prior_mean, prior_sd=rule.prior_sd)
        calibration = {"target_alpha": float(calibrate_alpha), "threshold": rule.success,
                       "threshold_z": float(_ndtri(rule.success)),
                       "calibration_replicates": cal.replicates, "seed": seeds["null-calibration"],
                       "run": asdict(cal.run)}
    null = sim("null", null_scenario)
    alt = sim("alternative", scenario)
    gs = group_sequential_design(t, alpha=calibrate_alpha or alpha, spending=spending)
    from alsstats.power.simulate import analytic_se

    drift = abs(scenario.arms[1].slowing * scenario.outcome.slope) / analytic_se(scenario)
    return SequentialDesignResult(
        scenario=scenario.name, looks=tuple(float(v) for v in t),
        n_per_arm={a.name: a.n for a in scenario.arms}, rule=rule, calibration=calibration,
        null=null.operating_characteristics(rule),
        alternative=alt.operating_characteristics(rule),
        analytic_null=analytic_oc(rule, scenario, t, benefit=0.0),
        analytic_alternative=analytic_oc(rule, scenario, t),
        group_sequential=gs, group_sequential_null=null.group_sequential(gs),
        group_sequential_alternative=alt.group_sequential(gs),
        group_sequential_analytic={"null": gs.operating_characteristics(0.0),
                                   "alternative": gs.operating_characteristics(drift)},
        replicates=int(replicates), seed=int(seed),
        runs={"null": asdict(null.run), "alternative": asdict(alt.run),
              "seeds": seeds})

