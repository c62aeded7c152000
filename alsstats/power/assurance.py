r"""Assurance: the probability that a slope trial succeeds, over the pilot's uncertainty.

Conventional power plugs point estimates of the decline and its variance components into
the GLS engine (:mod:`alsstats.power.slope`).  **Assurance** (O'Hagan, Stevens & Campbell
2005) averages the power over what is not known: the posterior of the pilot's decline
model (:class:`~alsstats.models.longitudinal.LongitudinalModel`, draws
:math:`\psi_d = (\beta_{1d}, \sigma_{b_0,d}, \sigma_{b_1,d}, \rho_d, \sigma_{e,d})`,
``d = 1..D``, of the chosen group's mean slope and the random-effect and residual SDs) and
a *design prior* on the relative slowing :math:`\kappa` (point mass, or
:math:`\kappa \sim N(\mu_\kappa, \sigma_\kappa^2)`):

.. math::

    \text{assurance}(n) = \frac1D \sum_{d=1}^{D} E_\kappa\!\left[
        \Phi\!\left(\frac{\kappa\,|\beta_{1d}|}{\mathrm{SE}_d(n)} - z_{1-\alpha/s}\right)\right],
    \qquad \mathrm{SE}_d(n) = \sqrt{v(\psi_d) / n},

with :math:`v(\psi_d)` the GLS variance unit of the slope difference for the planned
visits, allocation and dropout (:func:`~alsstats.power.slope.slope_difference_variance`)
and ``s`` = 2 (two-sided) or 1.  Success means a significant result in the direction of
benefit, so a harmful :math:`\kappa < 0` counts as failure.  The expectation over a
normal design prior is exact: with :math:`a = \mu_\kappa |\beta_{1d}|/\mathrm{SE}_d - z`
and :math:`b = \sigma_\kappa |\beta_{1d}| / \mathrm{SE}_d`,
:math:`E[\Phi(a + bX)] = \Phi(a / \sqrt{1 + b^2})` for :math:`X \sim N(0, 1)`.  Only the
average over posterior draws is Monte Carlo; its standard error is the SD of the
per-draw values over :math:`\sqrt{\mathrm{ESS}}` (ArviZ bulk ESS over the chains of a
Bayesian fit; the draws of a REML fit are independent).

The **conventional power** beside it plugs the posterior means of the slope, SDs and
correlation and :math:`\mu_\kappa` into the same formula.  With a point-mass design prior
and a posterior of identical draws, assurance equals it (to round-off); uncertainty in
either typically lowers assurance below the power when the power exceeds 1/2 (the
power curve is concave there).

A REML fit has draws of the fixed effects only (its sampling distribution); its variance
components are the REML estimates, so its assurance reflects the uncertainty of the mean
slope alone.  Site intercept variance (Bayesian fits with sites) is added to the
intercept variance, as in :func:`alsstats.power.simulate.analytic_power`.

References
----------
O'Hagan A, Stevens JW, Campbell MJ (2005). Assurance in clinical trial design.
Pharmaceutical Statistics 4:187–201.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from alsstats import _gauss
from alsstats.errors import AlsStatsError
from alsstats.power._normal import check_alternative, critical_z
from alsstats.power.slope import random_effects_covariance, slope_difference_variance

__all__ = ["Assurance", "EffectPrior", "PilotDraws", "assurance", "parse_effect_prior",
           "pilot_draws"]


@dataclass(frozen=True)
class EffectPrior:
    """Design prior on the relative slowing :math:`\\kappa` (0.3 = 30% slower decline)."""

    mean: float
    sd: float = 0.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.mean):
            raise AlsStatsError(f"effect prior mean must be finite, got {self.mean!r}")
        if not (math.isfinite(self.sd) and self.sd >= 0):
            raise AlsStatsError(f"effect prior SD must be finite and >= 0, got {self.sd!r}")

    @property
    def kind(self) -> str:
        return "point" if self.sd == 0 else "normal"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "mean": self.mean, "sd": self.sd,
                "on": "relative slowing of the mean slope"}


_PRIOR = re.compile(r"^\s*(normal|point)\s*\(\s*([^,()]+?)\s*(?:,\s*([^,()]+?)\s*)?\)\s*$")


def parse_effect_prior(text: str) -> EffectPrior:
    """``"normal(0.3, 0.1)"``, ``"point(0.3)"`` or a number (a point mass) as an EffectPrior."""
    try:
        return EffectPrior(float(text))
    except ValueError:
        pass
    m = _PRIOR.match(str(text))
    bad = AlsStatsError(f"effect prior {text!r}: expected normal(MEAN, SD), point(VALUE) or a "
                        "number (relative slowing, e.g. normal(0.3, 0.1))")
    if m is None:
        raise bad
    kind, a, b = m.groups()
    try:
        if kind == "point":
            if b is not None:
                raise bad
            return EffectPrior(float(a))
        if b is None:
            raise bad
        return EffectPrior(float(a), float(b))
    except ValueError:
        raise bad from None


@dataclass(frozen=True)
class PilotDraws:
    """Posterior draws of one group's decline: mean slope and variance components."""

    slope: np.ndarray
    sd_intercept: np.ndarray
    sd_slope: np.ndarray
    corr: np.ndarray
    sigma: np.ndarray
    n_chains: int = 1
    source: str = "draws"
    group: str | None = None
    time_unit: str | None = None

    def __post_init__(self) -> None:
        arrays = [np.atleast_1d(np.asarray(getattr(self, k), dtype=float))
                  for k in ("slope", "sd_intercept", "sd_slope", "corr", "sigma")]
        d = max(a.size for a in arrays)
        for k, a in zip(("slope", "sd_intercept", "sd_slope", "corr", "sigma"), arrays,
                        strict=True):
            if a.ndim != 1 or a.size not in (1, d):
                raise AlsStatsError(f"pilot draws: {k} must be one value or {d} draws, got "
                                    f"shape {a.shape}")
            if not np.all(np.isfinite(a)):
                raise AlsStatsError(f"pilot draws: {k} has non-finite values")
            object.__setattr__(self, k, np.broadcast_to(a, (d,)).copy())
        if np.any(self.sigma <= 0) or np.any(self.sd_intercept < 0) or np.any(self.sd_slope < 0):
            raise AlsStatsError("pilot draws: SDs must be >= 0 (residual SD > 0)")
        if np.any(np.abs(self.corr) > 1):
            raise AlsStatsError("pilot draws: correlations must lie in [-1, 1]")
        if d % max(int(self.n_chains), 1):
            object.__setattr__(self, "n_chains", 1)

    @property
    def n_draws(self) -> int:
        return int(self.slope.size)

    def posterior_means(self) -> dict:
        return {k: float(getattr(self, k).mean())
                for k in ("slope", "sd_intercept", "sd_slope", "corr", "sigma")}


def _pick_group(groups: list[str], group: str | None) -> int:
    if group is None:
        if "ALS" in groups:
            group = "ALS"
        elif len(groups) == 1:
            group = groups[0]
        else:
            raise AlsStatsError(f"the pilot fit has groups {groups}; choose the one whose "
                                "decline the trial slows (group=..., --group)")
    if group not in groups:
        raise AlsStatsError(f"group {group!r} is not in the pilot fit (groups: {groups})")
    return groups.index(group)


def pilot_draws(pilot, group: str | None = None) -> PilotDraws:
    """The decline draws of ``group`` from a fitted longitudinal model or its NetCDF file.

    ``pilot`` is a fitted :class:`~alsstats.models.longitudinal.LongitudinalModel` or the
    path of one saved by ``save`` / ``alsstats longitudinal --out fit.nc``.  ``group``
    defaults to ``"ALS"`` (or the only group).
    """
    from alsstats.models.longitudinal import LongitudinalModel

    if isinstance(pilot, str | os.PathLike):
        pilot = LongitudinalModel.load(pilot)
    if not isinstance(pilot, LongitudinalModel):
        raise AlsStatsError("pilot must be a fitted LongitudinalModel or the path of its "
                            "saved fit (.nc)")
    pilot._check_fitted()
    groups = list(pilot.meta_["groups"])
    g = _pick_group(groups, group)
    d = pilot.draws_

    def col(v):
        v = np.asarray(v, dtype=float)
        return v[:, g] if v.ndim == 2 else v

    slope = col(d["slope"])
    unit = pilot.meta_.get("time_unit")
    if pilot.lmm_ is not None:
        f = pilot.lmm_
        if len(f.random_names) != 2:
            raise AlsStatsError("the pilot fit has no random slope; refit it with one (the "
                                "slope variance drives the trial's power)")
        cov = np.asarray(f.random_cov, dtype=float)
        if cov.ndim == 3:       # per-group covariances: the chosen group's (by name)
            names = list(f.variance_groups)
            cov = cov[names.index(groups[g])] if groups[g] in names else cov[0]
        sd0, sd1 = math.sqrt(cov[0, 0]), math.sqrt(cov[1, 1])
        corr = cov[0, 1] / (sd0 * sd1) if sd0 > 0 and sd1 > 0 else 0.0
        return PilotDraws(slope, sd0, sd1, corr, f.sigma, 1, f"{f.method} fit", groups[g], unit)
    if "sd_slope" not in d:
        raise AlsStatsError("the pilot fit has no random slope; refit it with one (the slope "
                            "variance drives the trial's power)")
    sd0 = col(d["sd_intercept"])
    if "site_sd" in d:
        sd0 = np.sqrt(sd0**2 + col(d["site_sd"]) ** 2)
    return PilotDraws(slope, sd0, col(d["sd_slope"]), col(d["corr"]), col(d["sigma"]),
                      int(pilot.n_chains_), "Bayesian posterior", groups[g], unit)


@dataclass(frozen=True)
class Assurance:
    """Assurance and conventional power at each planned control-arm size ``n``."""

    n: list[float]
    assurance: list[float]
    mc_se: list[float]
    ess: float
    power_at_posterior_mean: list[float]
    effect_prior: EffectPrior
    posterior_means: dict
    n_draws: int
    source: str
    group: str | None
    time_unit: str | None
    design: dict = field(default_factory=dict)
    per_draw: np.ndarray = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {"n": self.n, "assurance": self.assurance, "mc_se": self.mc_se, "ess": self.ess,
                "power_at_posterior_mean": self.power_at_posterior_mean,
                "curve": [{"n": n, "assurance": a, "mc_se": s, "power_at_posterior_mean": p}
                          for n, a, s, p in zip(self.n, self.assurance, self.mc_se,
                                                self.power_at_posterior_mean, strict=True)],
                "effect_prior": self.effect_prior.to_dict(),
                "posterior_means": self.posterior_means, "n_draws": self.n_draws,
                "pilot": {"source": self.source, "group": self.group,
                          "time_unit": self.time_unit},
                "design": self.design}


def _power(delta_over_se: float, z: float, b: float = 0.0) -> float:
    """:math:`E[\\Phi(a + bX)] = \\Phi(a/\\sqrt{1+b^2})`, ``a = delta/SE - z`` (b = 0: power)."""
    a = delta_over_se - z
    return _gauss.cdf(a if b == 0 else a / math.sqrt(1.0 + b * b))


def _ess(values: np.ndarray, n_chains: int) -> float:
    if np.ptp(values) == 0:
        return float(values.size)
    if n_chains <= 1:
        return float(values.size)
    import arviz as az

    return float(az.ess(values.reshape(n_chains, -1), method="bulk"))


def _variance_units(pilot: PilotDraws, times, allocation, dropout,
                    common_baseline: bool) -> np.ndarray:
    r"""``v`` of :func:`~alsstats.power.slope.slope_difference_variance` for every draw at once.

    The same GLS information, batched over draws:
    :math:`\mathcal I = \sum_g \pi_g \sum_k p_k X_{g[1..k]}^\top V_{[1..k]}^{-1} X_{g[1..k]}`
    with :math:`V = Z G_d Z^\top + \sigma^2_{e,d} I`, and :math:`v = c^\top \mathcal
    I^{-1} c / (1 + r)`.  The first draw is also computed by the engine itself and must
    agree (a guard against the two drifting apart).
    """
    t = np.asarray(times, dtype=float)
    s0, s1, rho, se = pilot.sd_intercept, pilot.sd_slope, pilot.corr, pilot.sigma
    first = slope_difference_variance(
        t, random_effects_covariance(t, s0[0] ** 2, s1[0] ** 2, rho[0] * s0[0] * s1[0],
                                     se[0] ** 2),
        allocation=allocation, dropout=dropout, common_baseline=common_baseline)
    r = float(allocation)
    shares = np.zeros(t.size) if dropout is None else np.asarray(dropout, dtype=float)
    if dropout is None:
        shares[-1] = 1.0
    z = np.column_stack([np.ones_like(t), t])
    g = np.empty((s0.size, 2, 2))
    g[:, 0, 0], g[:, 1, 1] = s0**2, s1**2
    g[:, 0, 1] = g[:, 1, 0] = rho * s0 * s1
    cov = z @ g @ z.T + se[:, None, None] ** 2 * np.eye(t.size)
    one, zero = np.ones_like(t), np.zeros_like(t)
    if common_baseline:
        x_c, x_t = np.column_stack([one, t, zero]), np.column_stack([one, t, t])
    else:
        x_c = np.column_stack([one, zero, t, zero])
        x_t = np.column_stack([one, one, t, t])
    info = np.zeros((s0.size, x_c.shape[1], x_c.shape[1]))
    for k, share in enumerate(shares):
        if share <= 0:
            continue
        vk = cov[:, : k + 1, : k + 1]
        for x, frac in ((x_c[: k + 1], 1 / (1 + r)), (x_t[: k + 1], r / (1 + r))):
            info += frac * share * (x.T @ np.linalg.solve(vk, np.broadcast_to(
                x, (s0.size, *x.shape))))
    c = np.zeros(x_c.shape[1])
    c[-1] = 1.0
    v = np.linalg.solve(info, np.broadcast_to(c, (s0.size, c.size))[..., None])[:, -1, 0] \
        / (1 + r)
    if not math.isclose(v[0], first, rel_tol=1e-8):
        raise AlsStatsError(f"internal: batched GLS variance {v[0]!r} != engine {first!r}")
    v[0] = first
    return v


def assurance(pilot: PilotDraws, times: Sequence[float], n: float | Sequence[float],
              effect_prior: EffectPrior, *, alpha: float = 0.05,
              alternative: str = "two-sided", allocation: float = 1.0,
              dropout: Sequence[float] | None = None,
              common_baseline: bool = False) -> Assurance:
    """Assurance of a slope trial with control-arm size(s) ``n`` (module docstring).

    Parameters
    ----------
    pilot : draws of the decline (:func:`pilot_draws`), in the time unit of ``times``.
    times : planned visit times.
    n : control-arm size, or several (a curve); the treatment arm has ``allocation × n``.
    effect_prior : design prior on the relative slowing.
    alpha, alternative, allocation, dropout, common_baseline : as in
        :func:`~alsstats.power.slope.slope_sample_size`.
    """
    if not isinstance(pilot, PilotDraws):
        raise AlsStatsError("pilot must be PilotDraws (see pilot_draws)")
    if not isinstance(effect_prior, EffectPrior):
        raise AlsStatsError("effect_prior must be an EffectPrior (see parse_effect_prior)")
    ns = [float(v) for v in np.atleast_1d(n)]
    if not ns or any(not (math.isfinite(v) and v > 0) for v in ns):
        raise AlsStatsError(f"n must be control-arm sizes > 0, got {n!r}")
    alternative = check_alternative(alternative)
    z = critical_z(alpha, alternative)
    params = np.column_stack([pilot.sd_intercept, pilot.sd_slope, pilot.corr, pilot.sigma])
    unique, where = np.unique(params, axis=0, return_inverse=True)
    if len(unique) <= 64:      # e.g. a REML pilot: the engine itself, draw by draw
        v = np.array([slope_difference_variance(
            times, random_effects_covariance(times, s0 * s0, s1 * s1, r * s0 * s1, e * e),
            allocation=allocation, dropout=dropout, common_baseline=common_baseline)
            for s0, s1, r, e in unique])[np.ravel(where)]
    else:
        v = _variance_units(pilot, times, allocation, dropout, common_baseline)
    mag = np.abs(pilot.slope)
    per_draw = np.empty((len(ns), pilot.n_draws))
    for i, m in enumerate(ns):
        for k in range(pilot.n_draws):
            se = math.sqrt(v[k] / m)
            per_draw[i, k] = _power(effect_prior.mean * mag[k] / se, z,
                                    effect_prior.sd * mag[k] / se)
    means = pilot.posterior_means()
    cov = random_effects_covariance(
        times, means["sd_intercept"] ** 2, means["sd_slope"] ** 2,
        means["corr"] * means["sd_intercept"] * means["sd_slope"], means["sigma"] ** 2)
    v_mean = slope_difference_variance(times, cov, allocation=allocation, dropout=dropout,
                                       common_baseline=common_baseline)
    plug = [_power(effect_prior.mean * abs(means["slope"]) / math.sqrt(v_mean / m), z)
            for m in ns]
    ess = [_ess(row, pilot.n_chains) for row in per_draw]
    return Assurance(
        n=ns, assurance=[float(r.mean()) for r in per_draw],
        mc_se=[float(r.std(ddof=1) / math.sqrt(e)) if np.ptp(r) > 0 else 0.0
               for r, e in zip(per_draw, ess, strict=True)],
        ess=float(min(ess)), power_at_posterior_mean=plug, effect_prior=effect_prior,
        posterior_means=means, n_draws=pilot.n_draws, source=pilot.source, group=pilot.group,
        time_unit=pilot.time_unit,
        design={"times": [float(t) for t in times], "alpha": float(alpha),
                "alternative": alternative, "allocation": float(allocation),
                "dropout": None if dropout is None else [float(s) for s in dropout],
                "common_baseline": bool(common_baseline)},
        per_draw=per_draw)
