r"""Simulate one trial of a :class:`~alsstats.power.scenario.TrialScenario` and analyse it.

Data are held as a subjects × visits matrix ``y`` (NaN after a subject's last visit,
dropout being monotone), the index ``last`` of each subject's last visit and its
``arm`` (0 = control).  Four analyses estimate each active arm's slope difference
from control, :math:`\Delta_a`, with its standard error:

``reml``
    The linear mixed model with correlated random intercept and slope fitted by REML
    (:func:`alsstats.models.lmm.engine.fit_lmm`); fixed effects: intercept, arm (unless
    ``common_baseline``), time and time × arm.
``egls``
    Estimated GLS with the same mean model.  Stage 1 fits an OLS line per subject
    (:math:`\hat b_i`, residual sum of squares); :math:`\hat\sigma^2_e` pools the
    residuals of subjects with >= 3 visits and :math:`\hat G =
    \widehat{\operatorname{Cov}}(\hat b_i) - \hat\sigma^2_e\,\overline{(X_i^\top X_i)^{-1}}`
    (within-arm centring, subjects with >= 2 visits, projected onto the positive
    semi-definite cone).  Stage 2 is the GLS of the fixed effects with
    :math:`V_k = Z_k \hat G Z_k^\top + \hat\sigma^2_e I` for each completion pattern
    ``k``; subjects sharing an arm and a pattern share a design, so the normal
    equations are sums over (arm, pattern) cells.  Non-iterative and exact GLS when
    ``G`` and :math:`\sigma^2_e` are known.
``two-stage``
    Per-subject OLS slopes (subjects with >= 2 visits) compared between arms with
    Welch's standard error.
``joint``
    The shared-parameter joint model of the slope and the time to death (two arms):
    the same linear mixed model with a death hazard :math:`\lambda e^{\gamma s_i}`
    depending on the subject's whole slope :math:`s_i`, by maximum likelihood
    (:mod:`alsstats.power.joint`).  Not biased by deaths that depend on the rate of
    decline, where the three analyses above are.

Tests are Wald z tests.  A fit that raises, does not converge or returns a
non-finite standard error is a *failed* fit, reported as such (never as "not
significant").
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats

from alsstats.errors import AlsStatsError
from alsstats.power.scenario import TrialScenario

__all__ = ["TrialData", "TrialTask", "analyse_trial", "simulate_trial"]

# Columns of one replicate's result per active arm.
FIELDS = ("estimate", "se", "p_value", "failed")


class TrialData:
    """One simulated trial: ``y`` (subjects × visits, NaN after ``last``), ``last``, ``arm``;
    ``event_time`` and ``died``: time to death, censored at dropout and at the last visit
    time (``died`` false), when the simulator recorded them."""

    __slots__ = ("arm", "died", "event_time", "last", "times", "y")

    def __init__(self, y: np.ndarray, last: np.ndarray, arm: np.ndarray, times: np.ndarray,
                 event_time: np.ndarray | None = None, died: np.ndarray | None = None):
        self.y, self.last, self.arm, self.times = y, last, arm, times
        self.event_time, self.died = event_time, died

    def subset(self, rows: np.ndarray) -> TrialData:
        """The trial restricted to the subjects ``rows``."""
        return TrialData(self.y[rows], self.last[rows], self.arm[rows], self.times,
                         None if self.event_time is None else self.event_time[rows],
                         None if self.died is None else self.died[rows])

    def long(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Observed rows as long arrays ``(y, time, subject, arm)``."""
        observed = ~np.isnan(self.y)
        subj, visit = np.nonzero(observed)
        return self.y[subj, visit], self.times[visit], subj, self.arm[subj]


def simulate_trial(scenario: TrialScenario, rng: np.random.Generator) -> TrialData:
    """Draw one trial from ``scenario`` (model in :mod:`alsstats.power.scenario`)."""
    t = scenario.times
    o, d, s = scenario.outcome, scenario.dropout, scenario.sites
    n_arm = np.array([a.n for a in scenario.arms])
    arm = np.repeat(np.arange(len(n_arm)), n_arm)
    n = arm.size
    slope_arm = o.slope * (1 - np.array([a.slowing for a in scenario.arms]))
    u = rng.multivariate_normal(np.zeros(2), o.random_cov, size=n, method="cholesky")
    site = rng.integers(0, s.n, size=n)
    v0 = rng.normal(0.0, s.sd_intercept, size=s.n)[site] if s.sd_intercept > 0 else 0.0
    v1 = rng.normal(0.0, s.sd_slope, size=s.n)[site] if s.sd_slope > 0 else 0.0
    b0 = o.intercept + u[:, 0] + v0
    b1 = slope_arm[arm] + u[:, 1] + v1
    y = b0[:, None] + b1[:, None] * t[None, :] + rng.normal(0.0, o.sd_residual, size=(n, t.size))
    end = np.full(n, np.inf)
    if d.hazard > 0:
        end = np.minimum(end, rng.exponential(1.0 / d.hazard, size=n))
    death = np.full(n, np.inf)
    if d.death_hazard > 0:
        if o.sd_slope <= 0:
            z = np.zeros(n)
        elif d.death_link == "slope":
            z = (b1 - o.slope) / o.sd_slope
        else:
            z = u[:, 1] / o.sd_slope
        rate = d.death_hazard * np.exp(d.death_slope_log_hr * math.copysign(1.0, o.slope) * z)
        death = rng.exponential(1.0 / rate)
    censor = np.minimum(end, t[-1])
    died = death <= censor
    end = np.minimum(end, death)
    last = np.maximum(np.searchsorted(t, end, side="right") - 1, 0)
    y[np.arange(t.size)[None, :] > last[:, None]] = np.nan
    return TrialData(y, last, arm, t, np.minimum(death, censor), died)


def _design(t_rows: np.ndarray, arm_rows: np.ndarray, n_arms: int, common_baseline: bool):
    """Fixed-effects design: 1, arm dummies (unless common baseline), t, t × arm dummies."""
    dummies = (arm_rows[:, None] == np.arange(1, n_arms)[None, :]).astype(float)
    cols = [np.ones_like(t_rows)]
    if not common_baseline:
        cols.append(dummies)
    cols += [t_rows, dummies * t_rows[:, None]]
    x = np.column_stack(cols)
    slope_cols = np.arange(x.shape[1] - (n_arms - 1), x.shape[1])
    return x, slope_cols


def _reml(data: TrialData, n_arms: int, common_baseline: bool):
    from alsstats.models.lmm.engine import fit_lmm

    y, t, subj, arm = data.long()
    x, cols = _design(t, arm, n_arms, common_baseline)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_lmm(y, x, subj, np.column_stack([np.ones_like(t), t]), method="reml",
                      satterthwaite=False)
    if not fit.converged:
        raise AlsStatsError(f"REML did not converge: {fit.message}")
    return fit.fixed[cols], np.sqrt(np.diag(fit.fixed_cov)[cols])


def _stage_one(data: TrialData):
    """Per-subject OLS lines; returns coefficients, (X'X)^-1, RSS, visit counts."""
    t = data.times
    m = data.last + 1
    obs = ~np.isnan(data.y)
    yz = np.where(obs, data.y, 0.0)
    s1 = m.astype(float)
    st = obs @ t
    stt = obs @ (t * t)
    sy = yz.sum(axis=1)
    sty = yz @ t
    det = s1 * stt - st * st
    ok = (m >= 2) & (det > 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        b1 = (s1 * sty - st * sy) / det
        b0 = (sy - b1 * st) / s1
        inv = np.stack([np.stack([stt, -st], -1), np.stack([-st, s1], -1)], -2) / det[:, None, None]
    resid = np.where(obs, data.y - b0[:, None] - b1[:, None] * t[None, :], 0.0)
    rss = (resid**2).sum(axis=1)
    return np.column_stack([b0, b1]), inv, rss, m, ok


def _two_stage(data: TrialData, n_arms: int):
    coef, _, _, _, ok = _stage_one(data)
    control = coef[ok & (data.arm == 0), 1]
    est, se = np.empty(n_arms - 1), np.empty(n_arms - 1)
    for a in range(1, n_arms):
        active = coef[ok & (data.arm == a), 1]
        if control.size < 2 or active.size < 2:
            raise AlsStatsError("fewer than 2 subjects with 2 visits in an arm")
        est[a - 1] = active.mean() - control.mean()
        se[a - 1] = math.sqrt(active.var(ddof=1) / active.size + control.var(ddof=1) / control.size)
    return est, se


def _egls(data: TrialData, n_arms: int, common_baseline: bool):
    coef, inv, rss, m, ok = _stage_one(data)
    df = np.where(ok, m - 2, 0)
    if df.sum() <= 0:
        raise AlsStatsError("no subject has 3 visits: the residual variance is not estimable")
    sigma2 = rss[ok].sum() / df.sum()
    centred = coef[ok].copy()
    for a in range(n_arms):
        sel = data.arm[ok] == a
        centred[sel] -= centred[sel].mean(axis=0)
    g = centred.T @ centred / (ok.sum() - n_arms) - sigma2 * inv[ok].mean(axis=0)
    w, vec = np.linalg.eigh(g)
    g = (vec * np.clip(w, 0.0, None)) @ vec.T
    t = data.times
    p = _design(t[:1], np.zeros(1, int), n_arms, common_baseline)[0].shape[1]
    info, score = np.zeros((p, p)), np.zeros(p)
    yz = np.where(np.isnan(data.y), 0.0, data.y)
    for k in np.unique(data.last):
        tk = t[: k + 1]
        z = np.column_stack([np.ones_like(tk), tk])
        vinv = np.linalg.inv(z @ g @ z.T + sigma2 * np.eye(k + 1))
        in_k = data.last == k
        for a in range(n_arms):
            cell = in_k & (data.arm == a)
            count = cell.sum()
            if count == 0:
                continue
            x, cols = _design(tk, np.full(k + 1, a), n_arms, common_baseline)
            xw = x.T @ vinv
            info += count * (xw @ x)
            score += xw @ yz[cell, : k + 1].sum(axis=0)
    cov = np.linalg.inv(info)
    beta = cov @ score
    return beta[cols], np.sqrt(np.diag(cov)[cols])


def analyse_trial(data: TrialData, scenario: TrialScenario) -> np.ndarray:
    """Estimate, SE, p-value and failure flag per active arm (array n_active × 4)."""
    n_arms = len(scenario.arms)
    a = scenario.analysis
    out = np.full((n_arms - 1, len(FIELDS)), np.nan)
    try:
        with np.errstate(all="ignore"):
            if a.method == "reml":
                est, se = _reml(data, n_arms, a.common_baseline)
            elif a.method == "egls":
                est, se = _egls(data, n_arms, a.common_baseline)
            elif a.method == "joint":
                from alsstats.power.joint import fit_joint

                fit = fit_joint(data, a.common_baseline)
                est, se = np.array([fit.difference]), np.array([fit.difference_se])
            else:
                est, se = _two_stage(data, n_arms)
    except (AlsStatsError, np.linalg.LinAlgError, ValueError):
        out[:, 3] = 1.0
        return out
    bad = ~(np.isfinite(est) & np.isfinite(se) & (se > 0))
    z = est / np.where(bad, 1.0, se)
    if a.alternative == "two-sided":
        p = 2 * stats.norm.sf(np.abs(z))
    else:
        # Benefit = slope moved against the direction of the control decline.
        p = stats.norm.sf(-math.copysign(1.0, scenario.outcome.slope) * z)
    out[:, 0], out[:, 1], out[:, 2], out[:, 3] = est, se, p, bad.astype(float)
    out[bad, :3] = np.nan
    return out


class TrialTask:
    """Picklable replicate task for :func:`alsstats.power.engine.map_replicates`."""

    def __init__(self, scenario: TrialScenario):
        self.scenario = scenario

    def __call__(self, seeds) -> np.ndarray:
        rows = [analyse_trial(simulate_trial(self.scenario, np.random.default_rng(sq)),
                              self.scenario) for sq in seeds]
        return np.stack(rows)
