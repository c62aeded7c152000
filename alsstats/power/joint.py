r"""A shared-parameter joint model of a slope endpoint and death, fitted by maximum likelihood.

ALS trials measure function until death or dropout, and patients who decline faster die
sooner.  The plain slope analysis (REML mixed model) assumes that missing visits are
missing at random; when death depends on the rate of decline, and the treatment changes
that rate, it is biased (:mod:`alsstats.power.scenario`, ``death_link = "slope"``).  The
joint model (Wulfsohn & Tsiatis 1997; Henderson, Diggle & Dobson 2000; Rizopoulos 2012)
links the two outcomes through the subject's slope:

.. math::

    y_{ij} &= x_{ij}^\top\beta + b_{0i} + b_{1i} t_j + \varepsilon_{ij},\qquad
    b_i \sim N(0, G),\quad \varepsilon_{ij} \sim N(0, \sigma^2_e), \\
    h_i(t) &= \lambda \exp(\gamma\, s_i), \qquad s_i = \mu_{a(i)} + b_{1i},

with :math:`\mu_a` arm ``a``'s mean slope (:math:`\mu_1 - \mu_0 = \Delta`, the tested
slope difference), a constant baseline hazard :math:`\lambda` and the association
:math:`\gamma` (log hazard ratio of death per unit of slope, per time unit).  Death is
observed at :math:`T_i` (:math:`\delta_i = 1`) or censored at dropout or the end of
follow-up (:math:`\delta_i = 0`, non-informative).  Given :math:`y_i`, the random effects
are normal, :math:`b_i \mid y_i \sim N(m_i, C_i)` with
:math:`m_i = G Z_i^\top V_i^{-1} r_i`, :math:`C_i = G - G Z_i^\top V_i^{-1} Z_i G`,
:math:`V_i = Z_i G Z_i^\top + \sigma^2_e I`, :math:`r_i = y_i - X_i\beta`, so the
log-likelihood of subject ``i`` is exactly

.. math::

    \ell_i = \log N(y_i; X_i\beta, V_i) + \log E_{s \sim N(\mu_{a} + m_{i1},\, C_{11})}
    \Big[(\lambda e^{\gamma s})^{\delta_i} \exp(-\lambda T_i e^{\gamma s})\Big],

where the one-dimensional expectation is computed by Gauss–Hermite quadrature (40 nodes).
Every term is a 2 × 2 computation on per-subject sums (``_Likelihood``), vectorised over
subjects.  The parameters (β; the Cholesky factor
of G on the log scale for its diagonal; :math:`\log\sigma_e`, :math:`\log\lambda`,
:math:`\gamma`) are estimated by L-BFGS-B from moment starting values (per-subject OLS
lines), and the standard error of :math:`\hat\Delta` is from the inverse of the observed
information (central finite differences of the log-likelihood).  With
:math:`\gamma = 0` the model separates into the mixed model and an exponential survival
model, and :math:`\hat\Delta` is the ML estimate of the mixed model.

References
----------
Wulfsohn MS, Tsiatis AA (1997). A joint model for survival and longitudinal data
measured with error. Biometrics 53:330–339.
Rizopoulos D (2012). Joint Models for Longitudinal and Time-to-Event Data. CRC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from alsstats.errors import AlsStatsError

__all__ = ["JointFit", "fit_joint"]

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(40)
_LOG_W = np.log(_WEIGHTS / math.sqrt(2.0 * math.pi))


@dataclass(frozen=True)
class JointFit:
    """ML fit of the joint model: slope difference, association and their SEs."""

    difference: float
    difference_se: float
    gamma: float
    gamma_se: float
    baseline_hazard: float
    sd_residual: float
    random_cov: np.ndarray
    fixed: np.ndarray
    loglik: float
    converged: bool
    iterations: int


class _Likelihood:
    r"""The joint log-likelihood of one trial from per-subject sufficient statistics.

    With :math:`P_i = G^{-1} + Z_i^\top Z_i / \sigma^2` and :math:`u_i = Z_i^\top r_i`:
    :math:`\log|V_i| = m_i\log\sigma^2 + \log|G| + \log|P_i|`,
    :math:`r_i^\top V_i^{-1} r_i = r_i^\top r_i/\sigma^2 - u_i^\top P_i^{-1} u_i/\sigma^4`,
    :math:`m_i = P_i^{-1} u_i / \sigma^2` and :math:`C_i = P_i^{-1}` (all 2 × 2, vectorised).
    """

    def __init__(self, data, common_baseline: bool):
        if data.event_time is None or data.died is None:
            raise AlsStatsError("the joint analysis needs the death times (simulate_trial "
                                "records them)")
        if int(data.arm.max()) != 1:
            raise AlsStatsError("the joint analysis compares two arms (control and active)")
        obs = ~np.isnan(data.y)
        t = data.times
        yz = np.where(obs, data.y, 0.0)
        self.m = obs.sum(axis=1).astype(float)
        self.st, self.stt = obs @ t, obs @ (t * t)
        self.sy, self.sty, self.syy = yz.sum(axis=1), yz @ t, (yz * yz).sum(axis=1)
        self.active = (data.arm == 1).astype(float)
        self.time, self.died = data.event_time.astype(float), data.died.astype(float)
        self.common_baseline = common_baseline
        self.p = 3 if common_baseline else 4
        self.diff_col = self.p - 1
        self.slope_col = self.p - 2

    def unpack(self, theta):
        p = self.p
        beta = theta[:p]
        chol = np.array([[math.exp(theta[p]), 0.0], [theta[p + 1], math.exp(theta[p + 2])]])
        return beta, chol @ chol.T, math.exp(theta[p + 3]), theta[p + 4], theta[p + 5]

    def __call__(self, theta) -> float:
        beta, g, sigma, log_lam, gamma = self.unpack(theta)
        p = self.p
        s2 = sigma * sigma
        alpha = beta[0] + (0.0 if self.common_baseline else beta[1] * self.active)
        mu = beta[self.slope_col] + beta[self.diff_col] * self.active
        m, st, stt = self.m, self.st, self.stt
        rr = (self.syy - 2 * alpha * self.sy - 2 * mu * self.sty + m * alpha**2
              + 2 * alpha * mu * st + mu**2 * stt)
        u0 = self.sy - m * alpha - mu * st
        u1 = self.sty - alpha * st - mu * stt
        det_g = g[0, 0] * g[1, 1] - g[0, 1] ** 2
        gi00, gi01, gi11 = g[1, 1] / det_g, -g[0, 1] / det_g, g[0, 0] / det_g
        p00, p01, p11 = gi00 + m / s2, gi01 + st / s2, gi11 + stt / s2
        det_p = p00 * p11 - p01 * p01
        c00, c01, c11 = p11 / det_p, -p01 / det_p, p00 / det_p
        uPu = u0 * (c00 * u0 + c01 * u1) + u1 * (c01 * u0 + c11 * u1)
        logdet = m * math.log(s2) + 2 * (theta[p] + theta[p + 2]) + np.log(det_p)
        loglik = -0.5 * (m * math.log(2 * math.pi) + logdet + rr / s2 - uPu / s2**2)
        mb1 = (c01 * u0 + c11 * u1) / s2
        s = (mu + mb1)[:, None] + np.sqrt(c11)[:, None] * _NODES[None, :]
        eta = np.clip(gamma * s + log_lam, -700.0, 700.0)
        logf = self.died[:, None] * eta - self.time[:, None] * np.exp(eta) + _LOG_W[None, :]
        top = logf.max(axis=1)
        total = float(loglik.sum() + (top + np.log(np.exp(logf - top[:, None]).sum(axis=1))).sum())
        return -total if math.isfinite(total) else math.inf


def _start(data, lik: _Likelihood) -> np.ndarray:
    """Moment starting values from per-subject OLS lines (their sums are in ``lik``): arm
    means of the lines for β, their covariance less the residual part for G, gamma = 0."""
    m, st, stt, sy, sty, syy = lik.m, lik.st, lik.stt, lik.sy, lik.sty, lik.syy
    det = m * stt - st * st
    ok = (m >= 2) & (det > 1e-12)
    if ok.sum() < 4:
        raise AlsStatsError("joint model: fewer than 4 subjects with 2 visits")
    b1 = np.where(ok, (m * sty - st * sy) / np.where(ok, det, 1.0), 0.0)
    b0 = np.where(ok, (sy - b1 * st) / np.maximum(m, 1.0), 0.0)
    rss = np.where(ok, syy - b0 * sy - b1 * sty, 0.0)
    df = np.where(ok, m - 2, 0)
    sigma2 = float(rss.sum() / df.sum()) if df.sum() > 0 else float(np.var(b0[ok]))
    sigma2 = max(sigma2, 1e-8)
    act = lik.active > 0
    a0, a1 = b0[ok & ~act].mean(), b0[ok & act].mean()
    s0, s1 = b1[ok & ~act].mean(), b1[ok & act].mean()
    beta = [0.5 * (a0 + a1), s0, s1 - s0] if lik.common_baseline else [a0, a1 - a0, s0, s1 - s0]
    coef = np.column_stack([b0, b1])[ok]
    coef = coef - np.where(act[ok][:, None], [a1, s1], [a0, s0])
    inv = np.stack([np.stack([stt, -st], -1), np.stack([-st, m], -1)], -2)[ok] / det[ok][
        :, None, None]
    g = coef.T @ coef / max(ok.sum() - 2, 1) - sigma2 * inv.mean(axis=0)
    w, vec = np.linalg.eigh(g)
    floor = 1e-3 * np.array([max(g[0, 0], sigma2), max(g[1, 1], 1e-6 * sigma2)])
    g = (vec * np.clip(w, 0.0, None)) @ vec.T + np.diag(floor)
    chol = np.linalg.cholesky(g)
    lam = max(float(lik.died.sum()), 0.5) / max(float(lik.time.sum()), 1e-12)
    return np.array([*beta, math.log(chol[0, 0]), chol[1, 0], math.log(chol[1, 1]),
                     0.5 * math.log(sigma2), math.log(lam), 0.0])


def _hessian(f, theta: np.ndarray) -> np.ndarray:
    """Central finite-difference Hessian (steps 1e-4 × max(1, |θ|))."""
    p = theta.size
    h = 1e-4 * np.maximum(1.0, np.abs(theta))
    f0 = f(theta)
    hess = np.empty((p, p))
    for i in range(p):
        ei = np.zeros(p)
        ei[i] = h[i]
        hess[i, i] = (f(theta + ei) - 2 * f0 + f(theta - ei)) / h[i] ** 2
        for j in range(i):
            ej = np.zeros(p)
            ej[j] = h[j]
            hess[i, j] = hess[j, i] = (f(theta + ei + ej) - f(theta + ei - ej)
                                       - f(theta - ei + ej) + f(theta - ei - ej)) / (
                                           4 * h[i] * h[j])
    return hess


def fit_joint(data, common_baseline: bool = False) -> JointFit:
    """Fit the joint model to one two-arm trial (:class:`~alsstats.power.trials.TrialData`).

    Raises :class:`~alsstats.errors.AlsStatsError` when the optimiser does not converge
    (after one restart from where it stopped) or the observed information is not positive
    definite: a failed fit, counted as such by the simulation.
    """
    from scipy.optimize import minimize

    lik = _Likelihood(data, common_baseline)
    theta0 = _start(data, lik)
    # Scale the parameters by their starting magnitude so finite differences and L-BFGS
    # see comparable units.
    scale = np.maximum(np.abs(theta0), 1.0)
    options = {"maxiter": 2000, "ftol": 1e-12, "gtol": 1e-7}
    res = minimize(lambda u: lik(u * scale), theta0 / scale, method="L-BFGS-B", options=options)
    if not res.success:     # one restart from where it stopped (e.g. a failed line search)
        res = minimize(lambda u: lik(u * scale), res.x, method="L-BFGS-B", options=options)
    if not res.success:
        raise AlsStatsError(f"joint model did not converge: {res.message}")
    theta = res.x * scale
    hess = _hessian(lik, theta)
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        raise AlsStatsError("joint model: singular observed information") from None
    var = np.diag(cov)
    if not np.all(np.isfinite(var)) or var[lik.diff_col] <= 0 or var[-1] <= 0:
        raise AlsStatsError("joint model: observed information is not positive definite")
    beta, g, sigma, log_lam, gamma = lik.unpack(theta)
    return JointFit(difference=float(beta[lik.diff_col]),
                    difference_se=float(math.sqrt(var[lik.diff_col])), gamma=float(gamma),
                    gamma_se=float(math.sqrt(var[-1])), baseline_hazard=math.exp(log_lam),
                    sd_residual=sigma, random_cov=g, fixed=beta, loglik=-float(res.fun),
                    converged=bool(res.success), iterations=int(res.nit))
