r"""Simulation-based power for slope trials, with Monte Carlo error and failed-fit counts.

:func:`simulate_power` draws ``replicates`` trials from a
:class:`~alsstats.power.scenario.TrialScenario`, analyses each
(:mod:`alsstats.power.trials`) and reports, per active arm, the rejection rate among
the fits that succeeded,

.. math::

    \hat\pi = R / S, \qquad \mathrm{MCSE}(\hat\pi) = \sqrt{\hat\pi(1-\hat\pi)/S},

(``R`` rejections among ``S`` successful fits; failed fits are counted and reported
separately, never treated as "not significant"), the mean estimate, its empirical
SD and the mean model SE.  The analytic GLS power of the same design
(:func:`alsstats.power.slope.slope_sample_size` with the site variances added to the
subject random effects and the dropout pattern implied by the hazards; informative
death ignored) is reported next to it.  :func:`power_curve` repeats this over a grid
of control-arm sizes and slowings.  Execution (serial, processes, Dask, checkpoints)
is :func:`alsstats.power.engine.map_replicates`.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from alsstats.errors import AlsStatsError
from alsstats.power._results import PowerCurve
from alsstats.power.engine import RunInfo, map_replicates
from alsstats.power.scenario import TrialScenario
from alsstats.power.slope import (
    random_effects_covariance,
    slope_difference_variance,
    slope_sample_size,
)
from alsstats.power.trials import TrialTask

__all__ = ["ArmPower", "SimulationPower", "analytic_power", "analytic_se", "power_curve",
           "simulate_power"]


@dataclass(frozen=True)
class ArmPower:
    """Simulated power of one active arm versus control."""

    arm: str
    slowing: float
    true_difference: float
    power: float
    mc_se: float
    rejections: int
    successful_fits: int
    failed_fits: int
    mean_estimate: float
    sd_estimate: float
    mean_se: float
    analytic_power: float | None


@dataclass(frozen=True)
class SimulationPower:
    """Result of :func:`simulate_power`."""

    scenario: str
    method: str
    replicates: int
    seed: int
    n_per_arm: dict
    alpha: float
    alternative: str
    arms: list[ArmPower]
    run: RunInfo
    results: np.ndarray = field(repr=False)

    @property
    def power(self) -> float:
        """Power of the first active arm."""
        return self.arms[0].power

    @property
    def mc_se(self) -> float:
        return self.arms[0].mc_se

    def to_dict(self) -> dict:
        return {"scenario": self.scenario, "method": self.method, "replicates": self.replicates,
                "seed": self.seed, "n_per_arm": self.n_per_arm, "alpha": self.alpha,
                "alternative": self.alternative, "arms": [asdict(a) for a in self.arms],
                "run": asdict(self.run)}


def _analytic_design(scenario: TrialScenario, arm_index: int) -> dict:
    """The scenario as arguments of the GLS engine (site variances added to the subject's)."""
    arm = scenario.arms[arm_index]
    o, s = scenario.outcome, scenario.sites
    g = o.random_cov
    cov = random_effects_covariance(scenario.times, g[0, 0] + s.sd_intercept**2,
                                    g[1, 1] + s.sd_slope**2, g[0, 1], o.sd_residual**2)
    control = scenario.arms[0]
    a = scenario.analysis
    return {"covariance": cov, "allocation": arm.n / control.n,
            "dropout": scenario.last_visit_shares(), "common_baseline": a.common_baseline}


def analytic_power(scenario: TrialScenario, arm_index: int = 1) -> float | None:
    """GLS power of ``arms[arm_index]`` vs control for the scenario's design (None if no effect)."""
    arm = scenario.arms[arm_index]
    if arm.slowing == 0:
        return None
    a = scenario.analysis
    res = slope_sample_size(scenario.times, delta=abs(arm.slowing * scenario.outcome.slope),
                            n=scenario.arms[0].n, alpha=a.alpha, alternative=a.alternative,
                            **_analytic_design(scenario, arm_index))
    return res.power


def analytic_se(scenario: TrialScenario, arm_index: int = 1) -> float:
    r"""GLS standard error of the slope difference of ``arms[arm_index]`` vs control.

    :math:`\sqrt{v / n_c}` with ``v`` from
    :func:`~alsstats.power.slope.slope_difference_variance` for the scenario's visits,
    variance components (site variances added), allocation and dropout hazards
    (informative death ignored).
    """
    v = slope_difference_variance(scenario.times, **_analytic_design(scenario, arm_index))
    return math.sqrt(v / scenario.arms[0].n)


def _summarise(scenario: TrialScenario, results: np.ndarray) -> list[ArmPower]:
    alpha = scenario.analysis.alpha
    arms = []
    for j, arm in enumerate(scenario.active_arms):
        est, se, p, failed = (results[:, j, k] for k in range(4))
        ok = failed == 0
        s = int(ok.sum())
        r = int((p[ok] < alpha).sum())
        pw = r / s if s else math.nan
        arms.append(ArmPower(
            arm=arm.name, slowing=arm.slowing,
            true_difference=-arm.slowing * scenario.outcome.slope,
            power=pw, mc_se=math.sqrt(pw * (1 - pw) / s) if s else math.nan,
            rejections=r, successful_fits=s, failed_fits=int((~ok).sum()),
            mean_estimate=float(est[ok].mean()) if s else math.nan,
            sd_estimate=float(est[ok].std(ddof=1)) if s > 1 else math.nan,
            mean_se=float(se[ok].mean()) if s else math.nan,
            analytic_power=analytic_power(scenario, j + 1)))
    return arms


def simulate_power(scenario: TrialScenario, replicates: int = 1000, seed: int = 0, *,
                   workers: int = 1, scheduler: str | None = None, chunk_size: int = 50,
                   checkpoint: str | os.PathLike | None = None,
                   progress: bool = False) -> SimulationPower:
    """Monte Carlo power of ``scenario``; identical for the same seed on any execution.

    Replicate ``i`` uses child seed ``i`` of ``SeedSequence(seed)``; see
    :func:`~alsstats.power.engine.map_replicates` for ``workers``, ``scheduler``,
    ``chunk_size``, ``checkpoint`` (resume after interruption) and ``progress``.
    """
    if not isinstance(scenario, TrialScenario):
        raise AlsStatsError("scenario must be a TrialScenario (see read_trial_scenario)")
    results, info = map_replicates(
        TrialTask(scenario), replicates, seed,
        fingerprint=f"trial:{scenario.fingerprint()}", workers=workers, scheduler=scheduler,
        chunk_size=chunk_size, checkpoint=checkpoint, progress=progress)
    a = scenario.analysis
    return SimulationPower(scenario=scenario.name, method=a.method, replicates=int(replicates),
                           seed=int(seed), n_per_arm={x.name: x.n for x in scenario.arms},
                           alpha=a.alpha, alternative=a.alternative,
                           arms=_summarise(scenario, results), run=info, results=results)


def power_curve(scenario: TrialScenario, *, n_control: list[int] | None = None,
                slowing: list[float] | None = None, replicates: int = 1000, seed: int = 0,
                checkpoint: str | os.PathLike | None = None, **run) -> PowerCurve:
    """Simulated (and analytic) power over a grid of control-arm sizes × slowings.

    Other arms keep their size ratio to control.  Grid point ``j`` (row-major over
    ``n_control`` then ``slowing``) uses the integer seed drawn from child ``j`` of
    ``SeedSequence(seed)``; with ``checkpoint`` each point gets the subfolder
    ``point_JJJ``.  ``run`` is passed to :func:`simulate_power`.

    Returns
    -------
    PowerCurve
        A list of grid points (dicts), with ``to_dict()`` and ``to_frame()``.
    """
    ns = list(n_control) if n_control else [scenario.arms[0].n]
    effects = list(slowing) if slowing else [scenario.arms[1].slowing]
    grid = [(n, e) for n in ns for e in effects]
    children = np.random.SeedSequence(int(seed)).spawn(len(grid))
    rows = PowerCurve()
    for j, ((n, e), child) in enumerate(zip(grid, children, strict=True)):
        point = scenario.with_changes(n_control=int(n), slowing=float(e))
        sub_seed = int(child.generate_state(1, np.uint32)[0])
        folder = None if checkpoint is None else Path(checkpoint) / f"point_{j:03d}"
        res = simulate_power(point, replicates, sub_seed, checkpoint=folder, **run)
        first = res.arms[0]
        rows.append({"n_control": int(n), "slowing": float(e), "power": first.power,
                     "mc_se": first.mc_se, "failed_fits": first.failed_fits,
                     "analytic_power": first.analytic_power, "seed": sub_seed})
    return rows
