r"""Predictive intervals of P(class): what the score would be with the missing information.

A patient's score :math:`P(k \mid y_o)` marginalizes the markers she does not have
(:math:`y_m`) and, at a site not seen in training, the site's offset :math:`u`.  The
*credible* interval over posterior draws (:mod:`alsstats.inference.scoring`) reflects only
parameter uncertainty, so it does not widen when markers are missing: dropping markers
moves the score toward the prevalence, a number known exactly.  The *predictive*
interval here answers the clinical question "where could P(ALS) land once the missing
markers are measured and the site calibrated?".  For each posterior draw :math:`d`:

1. draw the class :math:`k^* \sim P_d(k \mid y_o)`;
2. draw the unknowns :math:`z = (y_m, u)` from their Gaussian conditional given
   :math:`y_o` and :math:`k^*` (for a seen site only :math:`y_m`; the site's offset is
   the draw's :math:`u_{ds}`): with :math:`m_k = \mu_k + B^\top x` and
   :math:`C = \Sigma + T` (:math:`T = \operatorname{diag}(\tau^2)` for an unseen site,
   0 otherwise),

   .. math:: z \mid y_o, k \sim N\big(E z + C_{zo} C_{oo}^{-1}(y_o - m_{k,o}),\;
             C_{zz} - C_{zo} C_{oo}^{-1} C_{oz}\big);

3. evaluate :math:`P_d(k \mid y_o, z)` with every marker and the offset known.

By the law of total probability :math:`E_z[P_d(k \mid y_o, z)] = P_d(k \mid y_o)`, so the
draws are centred on the usual score, and by the law of total variance their spread is
at least the parameter-only spread: the interval widens with each missing marker and
at an unseen site, and equals the credible interval for a complete patient at a seen
site.  It is a preposterior (value-of-information) interval, not a credible interval.

Robust marker distributions (``nu`` or ``skew`` in the parameters,
:mod:`~alsstats.inference.marker_density`) use the same three steps, with the class
draw of step 1 from the robust class densities of the scoring
(:func:`~alsstats.inference.scoring.class_log_likelihoods`) and the conditional of step
2 from each distribution's Gaussian mixture representation: a mixing variable is drawn
given :math:`y_o` and :math:`k^*`, and then :math:`z` from the Gaussian conditional given
it.  Step 3 re-scores with the robust density of the complete vector (the offset known).
With :math:`r_o = y_o - m_{k,o}` and :math:`p_o` the number of observed markers:

* Student-t, :math:`y = m_k + \varepsilon/\sqrt W`, :math:`\varepsilon \sim N(0, \Sigma_k)`,
  :math:`W \sim \mathrm{Gamma}(\nu_k/2, \text{rate } \nu_k/2)`, at a seen site:

  .. math:: W \mid y_o, k \sim \mathrm{Gamma}\big(\tfrac{\nu_k + p_o}{2},\;
            \text{rate } \tfrac{\nu_k + \delta_o}{2}\big),\quad
            \delta_o = r_o^\top\Sigma_{oo}^{-1} r_o,

  .. math:: y_m \mid y_o, k, W \sim N\big(m_{k,m} + \Sigma_{mo}\Sigma_{oo}^{-1} r_o,\;
            (\Sigma_{mm} - \Sigma_{mo}\Sigma_{oo}^{-1}\Sigma_{om}) / W\big).

* Student-t at an unseen site, :math:`y = m_k + \varepsilon/\sqrt W + u`: the sum is not
  a t, and the scoring integrates :math:`W` by the trapezoid rule on :math:`\log W`
  (:func:`~alsstats.inference.marker_density.unseen_site_log_density`).  The matching
  draw takes :math:`W` at a node of that rule with probability proportional to the node's
  term :math:`w_j\,N(y_o; m_{k,o}, \Sigma_{oo}/W_j + T_{oo})` (the posterior of
  :math:`W` given :math:`y_o` and :math:`k` under the rule the score uses; as accurate as
  the score, relative 1e-8), and then :math:`z = (y_m, u)` from the Gaussian conditional
  of step 2 with :math:`\Sigma/W + T` for the markers' covariance.  The node terms use one
  eigendecomposition per draw and class: with :math:`D = \operatorname{diag}(\tau_o)`
  and :math:`D^{-1}\Sigma_{oo}D^{-1} = Q\Lambda Q^\top`,
  :math:`\Sigma_{oo}/W + T_{oo} = DQ(\Lambda/W + I)Q^\top D`.

* Skew-normal, :math:`y = m_k + \lambda_k U_0 + \varepsilon`,
  :math:`U_0 \sim N^+(0, 1)`, :math:`\varepsilon \sim N(0, \Psi)` with
  :math:`\Psi = \Sigma_k` (plus :math:`T` at an unseen site, where :math:`z` includes
  :math:`u`; :math:`\lambda` is 0 on :math:`u`) and
  :math:`\Omega = \Psi + \lambda\lambda^\top`:

  .. math:: U_0 \mid y_o, k \sim N(a, s^2) \text{ truncated to } (0, \infty),\quad
            a = \lambda_o^\top\Omega_{oo}^{-1} r_o,\;
            s^2 = 1 - \lambda_o^\top\Omega_{oo}^{-1}\lambda_o,

  drawn by inversion in the upper tail (:math:`U_0 = a + sX`,
  :math:`\Phi(-X) = V\,\Phi(a/s)`, :math:`V \sim U(0, 1]`, on the log scale so that it
  stays exact far in the tail), and then

  .. math:: z \mid y_o, k, U_0 \sim N\big(\lambda_z U_0 + \Psi_{zo}\Psi_{oo}^{-1}
            (r_o - \lambda_o U_0),\; \Psi_{zz} - \Psi_{zo}\Psi_{oo}^{-1}\Psi_{oz}\big)

  (:math:`z` as a deviation from :math:`m_{k,z}`, 0 for :math:`u`).

These are exact (up to Monte Carlo; the unseen-site Student-t up to the scoring's
quadrature), so the law of total probability above still centres the draws on the score
(tests/models/test_diagnostic_robust.py).  Each patient's generator supplies, in order,
the class uniforms, the normals of :math:`z`, then the mixing draws (Gamma, node
uniforms or truncated-normal uniforms).  The robust path is numpy, per group of rows
sharing observed markers and site kind; known measurement error is refused (the spec
refuses it for robust distributions).
"""

from __future__ import annotations

from dataclasses import replace

import numba
import numpy as np
from scipy.special import log_ndtr, ndtri_exp

from alsstats.errors import AlsStatsError
from alsstats.inference.marker_density import log_density, mixing_nodes
from alsstats.inference.scoring import (
    PosteriorParameters,
    class_log_likelihoods,
    error_rows,
    scoring_groups,
    with_measurement_error,
)

__all__ = ["predictive_interval"]

_CHUNK = 256  # patients per block: memory ~ chunk x draws x markers doubles


def predictive_interval(y: np.ndarray, x: np.ndarray, site: np.ndarray,
                        params: PosteriorParameters, log_prior: np.ndarray, *,
                        interval: float = 0.9, seed: int, keys: np.ndarray | None = None,
                        rows: np.ndarray | None = None,
                        max_draws: int | None = 500,
                        measurement_var: np.ndarray | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper predictive bounds (n, K) of P(class) for the rows in ``rows``.

    ``y`` (n, M) standardized markers with NaN where missing, ``x`` (n, C) covariates,
    ``site`` (n,) training-site index or -1 for an unseen site, ``log_prior`` (K,) or (n, K)
    log prior class probabilities.  Rows not in ``rows``
    (default: all) are left NaN.  Patients with no observed marker get the prior's
    predictive spread over the full marker vector.  Row ``i`` draws its random numbers
    from ``default_rng([seed, keys[i]])`` (``keys`` default: the row number), so a
    patient's interval does not depend on who else is scored with her.  At most
    ``max_draws`` evenly spaced posterior draws are used (None: all); 500 draws put
    the 5% and 95% quantiles within about ±0.01 in probability of their limit.
    ``measurement_var`` (n, M, M): known measurement-error covariance of each row's
    markers, added to Sigma for that row (scored one row at a time, as in
    :func:`~alsstats.inference.scoring.class_probabilities`); a missing marker has no
    error there, so it is imputed as a value measured without error.  Student-t and
    skew-normal parameters take the robust path of the module docstring (measurement
    error refused).
    """
    if not params.normal:
        return _robust_interval(y, x, site, params, log_prior, interval=interval, seed=seed,
                                keys=keys, rows=rows, max_draws=max_draws,
                                measurement_var=measurement_var)
    if measurement_var is not None:
        n = y.shape[0]
        rows = np.arange(n) if rows is None else np.asarray(rows)
        own = np.intersect1d(rows, error_rows(measurement_var, y))
        low, high = predictive_interval(y, x, site, params, log_prior, interval=interval,
                                        seed=seed, keys=keys, rows=np.setdiff1d(rows, own),
                                        max_draws=max_draws)
        for i in own:
            lo, hi = predictive_interval(y, x, site,
                                         with_measurement_error(params, measurement_var[i]),
                                         log_prior, interval=interval, seed=seed, keys=keys,
                                         rows=np.array([i]), max_draws=max_draws)
            low[i], high[i] = lo[i], hi[i]
        return low, high
    low, high, rows, keys = _unscored(y, params, rows, keys)
    if rows.size == 0:
        return low, high
    n_draws = params.mu.shape[0]
    if max_draws is not None and n_draws > max_draws:
        keep = np.linspace(0, n_draws - 1, max_draws).round().astype(int)
        params = PosteriorParameters(mu=params.mu[keep], B=params.B[keep], u=params.u[keep],
                                     tau=params.tau[keep], Sigma=params.Sigma[keep])
    q = [(1 - interval) / 2, (1 + interval) / 2]
    lp = np.broadcast_to(np.asarray(log_prior, float), low.shape)[rows]
    for members, o, unseen, lpg in scoring_groups(y[rows], site[rows], lp, low.shape[1]):
        members = rows[members]
        plan = _Plan(params, o, unseen, lpg)
        for start in range(0, members.size, _CHUNK):
            chunk = members[start:start + _CHUNK]
            p = plan.draw(y[chunk], x[chunk], site[chunk],
                          *plan.random_numbers([np.random.default_rng([seed, int(keys[i])])
                                                for i in chunk]))   # (c, D, K)
            low[chunk], high[chunk] = np.quantile(p, q, axis=1)
    return low, high


class _Plan:
    """Per-draw conditional-distribution terms for one (observed markers, site seen) group."""

    def __init__(self, params: PosteriorParameters, o: np.ndarray, unseen: bool,
                 log_prior: np.ndarray):
        d, _, m = params.mu.shape
        Sigma = params.Sigma
        self.params, self.o, self.unseen, self.log_prior = params, o, unseen, log_prior
        per_class = params.per_class
        cov = Sigma if per_class else Sigma[:, None]                   # (D, G, M, M)
        tau2 = params.tau**2
        # Joint covariance of (y, u): y = mean + u + e.  Unknowns z = (y_m, u if unseen).
        missing = np.setdiff1d(np.arange(m), o)
        self.missing = missing
        nz = missing.size + (m if unseen else 0)
        self.nz = nz
        big = np.zeros((d, cov.shape[1], m + m, m + m))
        big[..., :m, :m] = cov
        if unseen:
            t = np.einsum("dm,mn->dmn", tau2, np.eye(m))[:, None]
            big[..., :m, :m] += t
            big[..., :m, m:] = t
            big[..., m:, :m] = t
            big[..., m:, m:] = t
        z_idx = np.concatenate([missing, m + np.arange(m)]) if unseen else missing
        # Observed block: its inverse Cholesky factor L⁻¹ scores the class draw and gives
        # C_oo⁻¹ = L⁻ᵀL⁻¹ for the regression of the unknowns on the observed markers.
        g_count = cov.shape[1]
        if o.size:
            c_oo = big[..., o[:, None], o[None, :]]
            self.obs_chol_inv = np.linalg.inv(np.linalg.cholesky(c_oo))  # (D,G,o,o)
        else:
            self.obs_chol_inv = np.zeros((d, g_count, 0, 0))
        self.obs_logdet = np.log(np.abs(np.diagonal(self.obs_chol_inv, axis1=-2,
                                                    axis2=-1))).sum(-1)
        if nz:
            c_zo = big[..., z_idx[:, None], o[None, :]]
            c_zz = big[..., z_idx[:, None], z_idx[None, :]]
            c_oo_inv = np.swapaxes(self.obs_chol_inv, -1, -2) @ self.obs_chol_inv
            self.reg = c_zo @ c_oo_inv                                     # (D,G,z,o)
            cond = c_zz - self.reg @ np.swapaxes(c_zo, -1, -2)
            cond = 0.5 * (cond + np.swapaxes(cond, -1, -2))
            self.chol = np.linalg.cholesky(cond + 1e-12 * np.eye(nz))       # (D,G,z,z)
        else:
            self.reg = np.zeros((d, g_count, 0, o.size))
            self.chol = np.zeros((d, g_count, 0, 0))
        # The full vector given the offset (re-scoring).
        self.full_chol_inv = np.linalg.inv(np.linalg.cholesky(cov))        # (D, G, M, M)
        self.full_logdet = np.log(np.abs(np.diagonal(self.full_chol_inv, axis1=-2,
                                                     axis2=-1))).sum(-1)

    def random_numbers(self, rngs: list[np.random.Generator]) -> tuple[np.ndarray, np.ndarray]:
        """Per patient (one generator each): uniforms (c, D) for the class, normals (c, D, z)."""
        d = self.params.mu.shape[0]
        uniform = np.empty((len(rngs), d))
        normal = np.empty((len(rngs), d, self.nz))
        for i, rng in enumerate(rngs):
            uniform[i] = rng.random(d)
            normal[i] = rng.standard_normal((d, self.nz))
        return uniform, normal

    def draw(self, y: np.ndarray, x: np.ndarray, site: np.ndarray, uniform: np.ndarray,
             normal: np.ndarray) -> np.ndarray:
        """(c, D, K) probabilities P_d(k | y_o, z) with one draw of z per posterior draw.

        ``uniform`` (c, D) picks the class draw, ``normal`` (c, D, z) the unknowns.
        """
        p = self.params
        c = y.shape[0]
        d, k, _ = p.mu.shape
        out = np.empty((c, d, k))
        site = np.where(self.unseen, -1, site).astype(np.int64)
        _draw_kernel(np.ascontiguousarray(y), np.ascontiguousarray(x), site, p.mu, p.B, p.u,
                     self.o, self.missing, self.unseen, np.asarray(self.log_prior, float),
                     self.obs_chol_inv, self.obs_logdet, self.reg, self.chol,
                     self.full_chol_inv, self.full_logdet, uniform, normal, out)
        return out


@numba.njit(cache=True)
def _lower_quad(lower, v):  # pragma: no cover
    """‖L v‖² for a lower-triangular L: the Mahalanobis form vᵀC⁻¹v when L = chol(C)⁻¹."""
    q = 0.0
    for a in range(v.shape[0]):
        w = 0.0
        for b in range(a + 1):
            w += lower[a, b] * v[b]
        q += w * w
    return q


@numba.njit(cache=True)
def _exp_normalizer(ll):  # pragma: no cover
    """Replace log-weights by exp(ll - max) in place; return their sum (softmax denominator)."""
    top = ll.max()
    total = 0.0
    for kk in range(ll.shape[0]):
        ll[kk] = np.exp(ll[kk] - top)
        total += ll[kk]
    return total


@numba.njit(parallel=True, cache=True)
def _draw_kernel(y, x, site, mu, B, u, o, missing, unseen, log_prior, obs_ci, obs_ld, reg,
                 chol, full_ci, full_ld, uniform, normal, out):  # pragma: no cover
    """Numba body of :meth:`_Plan.draw` (steps 1-3 of the module docstring)."""
    c = y.shape[0]
    n_draws, k, m = mu.shape
    n_cov = x.shape[1]
    no, nm = o.shape[0], missing.shape[0]
    nz = reg.shape[2]
    per_class = obs_ci.shape[1] > 1
    for i in numba.prange(c):
        mean = np.empty((k, m))
        ll = np.empty(k)
        r = np.empty(no)
        resid = np.empty(m)
        full = np.empty(m)
        off = np.zeros(m)
        zvec = np.empty(nz)
        for d in range(n_draws):
            for kk in range(k):
                for j in range(m):
                    v = mu[d, kk, j]
                    for cc in range(n_cov):
                        v += x[i, cc] * B[d, cc, j]
                    if site[i] >= 0:
                        v += u[d, site[i], j]
                    mean[kk, j] = v
            # 1. class posterior given the observed markers; draw the class
            for kk in range(k):
                g = kk if per_class else 0
                for a in range(no):
                    r[a] = y[i, o[a]] - mean[kk, o[a]]
                ll[kk] = -0.5 * _lower_quad(obs_ci[d, g], r) + obs_ld[d, g] + log_prior[kk]
            total = _exp_normalizer(ll)
            target = uniform[i, d] * total
            kc = k - 1
            acc = 0.0
            for kk in range(k):
                acc += ll[kk]
                if target < acc:
                    kc = kk
                    break
            # 2. the unknowns given the observed markers and the class
            gc = kc if per_class else 0
            for a in range(no):
                r[a] = y[i, o[a]] - mean[kc, o[a]]
            for t in range(nz):
                v = 0.0
                for a in range(no):
                    v += reg[d, gc, t, a] * r[a]
                for b in range(t + 1):
                    v += chol[d, gc, t, b] * normal[i, d, b]
                zvec[t] = v
            for a in range(no):
                full[o[a]] = y[i, o[a]]
            for t in range(nm):
                full[missing[t]] = mean[kc, missing[t]] + zvec[t]
            if unseen:
                for j in range(m):
                    off[j] = zvec[nm + j]
            # 3. re-score with every marker and the offset known
            for kk in range(k):
                g = kk if per_class else 0
                for b in range(m):
                    resid[b] = full[b] - mean[kk, b] - off[b]
                ll[kk] = -0.5 * _lower_quad(full_ci[d, g], resid) + full_ld[d, g] + log_prior[kk]
            total = _exp_normalizer(ll)
            for kk in range(k):
                out[i, d, kk] = ll[kk] / total


def _unscored(y, params: PosteriorParameters, rows, keys):
    """NaN (n, K) bounds, and the rows to score and their keys with their defaults."""
    n = y.shape[0]
    low = np.full((n, params.mu.shape[1]), np.nan)
    rows = np.arange(n) if rows is None else np.asarray(rows)
    keys = np.arange(n) if keys is None else np.asarray(keys)
    return low, low.copy(), rows, keys


# ------------------------------------------------------------------ robust distributions
def _robust_interval(y, x, site, params: PosteriorParameters, log_prior, *, interval, seed,
                     keys, rows, max_draws, measurement_var):
    """:func:`predictive_interval` for Student-t and skew-normal markers (module docstring)."""
    low, high, rows, keys = _unscored(y, params, rows, keys)
    if rows.size == 0:
        return low, high
    if np.intersect1d(rows, error_rows(measurement_var, y)).size:
        raise AlsStatsError("known measurement error is not available with a Student-t or "
                            "skew-normal marker distribution")
    n_draws = params.mu.shape[0]
    if max_draws is not None and n_draws > max_draws:
        keep = np.linspace(0, n_draws - 1, max_draws).round().astype(int)
        params = replace(params, mu=params.mu[keep], B=params.B[keep], u=params.u[keep],
                         tau=params.tau[keep], Sigma=params.Sigma[keep],
                         nu=None if params.nu is None else params.nu[keep],
                         skew=None if params.skew is None else params.skew[keep])
    q = [(1 - interval) / 2, (1 + interval) / 2]
    lp = np.broadcast_to(np.asarray(log_prior, float), low.shape)[rows]
    for members, o, unseen, lpg in scoring_groups(y[rows], site[rows], lp, low.shape[1]):
        members = rows[members]
        plan = _RobustPlan(params, o, unseen, lpg)
        # Student-t at an unseen site: (c, D, nodes) arrays, about 2M elements per chunk
        size = max(1, 8192 // params.mu.shape[0]) if plan.t_unseen else _CHUNK
        for start in range(0, members.size, size):
            chunk = members[start:start + size]
            rngs = [np.random.default_rng([seed, int(keys[i])]) for i in chunk]
            p = plan.draw(y[chunk], x[chunk], site[chunk], rngs)          # (c, D, K)
            low[chunk], high[chunk] = np.quantile(p, q, axis=1)
    return low, high


class _RobustPlan:
    """Per-draw, per-class conditional terms for one (observed markers, site seen) group.

    The unknowns are z = (y_m, u if unseen); ``big`` is the covariance of (y, u) given
    the mixing variable (W = 1 for the skew-normal, U0 = 0 for the Student-t).
    """

    def __init__(self, params: PosteriorParameters, o: np.ndarray, unseen: bool,
                 log_prior: np.ndarray):
        d, k, m = params.mu.shape
        self.params, self.o, self.unseen, self.log_prior = params, o, unseen, log_prior
        cov = params.Sigma if params.per_class else params.Sigma[:, None]
        cov = np.broadcast_to(cov, (d, k, m, m))
        missing = np.setdiff1d(np.arange(m), o)
        self.missing = missing
        self.z_idx = np.concatenate([missing, m + np.arange(m)]) if unseen else missing
        z_idx = self.z_idx
        self.nz = z_idx.size
        no = o.size
        big = _joint_covariance(cov, params.tau[:, None] ** 2 if unseen else None)
        c_oo = big[..., o[:, None], o[None, :]]
        self.obs_chol_inv, self.reg, self.chol = _conditional(big, o, z_idx)
        self.t_unseen = params.nu is not None and unseen
        if self.t_unseen:
            # Sigma_oo / W + T_oo = D (Q diag(lam / W + 1) Q^T) D with D = diag(tau_o):
            # one eigendecomposition per draw and class gives N(y_o; ., Sigma_oo / W + T_oo)
            # at every quadrature node.
            tau_o = params.tau[:, o][:, None]                                 # (D, 1, o)
            if no:
                scaled = cov[..., o[:, None], o[None, :]] / (tau_o[..., :, None]
                                                             * tau_o[..., None, :])
                self.eig_val, self.eig_vec = np.linalg.eigh(scaled)          # (D, K, o[, o])
            else:
                self.eig_val, self.eig_vec = np.zeros((d, k, 0)), np.zeros((d, k, 0, 0))
            self.nodes, self.node_log_weight = mixing_nodes(params.nu)        # (D, K, Q)
        if params.skew is not None:
            lam = np.zeros((d, k, 2 * m))
            lam[..., :m] = params.skew
            lam_o = lam[..., o]
            self.lam_o, self.lam_z = lam_o, lam[..., z_idx]
            # Omega_oo = C_oo + lam_o lam_o^T; U0 | y_o ~ N(a, s^2) truncated to (0, inf)
            omega = c_oo + lam_o[..., :, None] * lam_o[..., None, :]
            if no:
                self.alpha = np.linalg.solve(omega, lam_o[..., None])[..., 0]   # (D, K, o)
            else:
                self.alpha = np.zeros((d, k, 0))
            self.s = np.sqrt(1 - (self.alpha * lam_o).sum(-1))                # (D, K)

    def draw(self, y: np.ndarray, x: np.ndarray, site: np.ndarray,
             rngs: list[np.random.Generator]) -> np.ndarray:
        """(c, D, K) probabilities P_d(k | y_o, z), one draw of z per posterior draw."""
        p = self.params
        _, full, offset, mean = self.unknowns(y, x, site, rngs)
        # 3. re-score with every marker and the offset known
        resid = np.transpose(full - offset, (1, 0, 2))[:, None] - mean       # (D, K, c, M)
        cov = p.Sigma if p.per_class else p.Sigma[:, None]
        ll = log_density(resid, cov, p.nu, p.skew) + self.log_prior[None, :, None]
        prob = np.exp(ll - np.logaddexp.reduce(ll, axis=1, keepdims=True))
        return np.transpose(prob, (2, 0, 1))

    def unknowns(self, y: np.ndarray, x: np.ndarray, site: np.ndarray,
                 rngs: list[np.random.Generator]):
        """Steps 1-2: class draws (c, D), completed markers (c, D, M), site offsets
        (c, D, M) (0 at a seen site) and the class locations (D, K, c, M)."""
        p, o, missing = self.params, self.o, self.missing
        c = y.shape[0]
        d, k, m = p.mu.shape
        nm = missing.size
        uniform = np.empty((c, d))
        normal = np.empty((c, d, self.nz))
        for i, rng in enumerate(rngs):
            uniform[i] = rng.random(d)
            normal[i] = rng.standard_normal((d, self.nz))
        # 1. the class given the observed markers (the scoring density)
        ll = (class_log_likelihoods(y, x, site, p, o, self.unseen) if o.size
              else np.zeros((d, k, c)))
        joint = ll + self.log_prior[None, :, None]
        prob = np.exp(joint - joint.max(axis=1, keepdims=True))
        cum = np.cumsum(prob, axis=1)                                       # (D, K, c)
        target = uniform.T[:, None, :] * cum[:, -1:, :]
        kc = np.minimum((cum <= target).sum(axis=1), k - 1).T              # (c, D)
        # 2. the mixing variable, then the unknowns, given y_o and the class
        mean = p.mu[:, :, None, :] + np.einsum("ic,dcm->dim", x, p.B)[:, None]
        if not self.unseen:
            mean = mean + p.u[:, site][:, None]                             # (D, K, c, M)
        dd = np.arange(d)[None, :]
        ii = np.arange(c)[:, None]
        m_sel = mean[dd, kc, ii]                                            # (c, D, M)
        r = y[:, None, o] - m_sel[..., o]                                   # (c, D, o)
        if self.t_unseen:
            # W | y_o, k on the scoring quadrature's nodes; (y_m, u) | y_o, k, W Gaussian
            w = self._mixing_at_unseen_site(r, dd, kc, rngs)
            cov = p.Sigma[dd, kc] if p.per_class else p.Sigma[dd]             # (c, D, M, M)
            big = _joint_covariance(cov / w[..., None, None], p.tau[None] ** 2)
            _, reg, chol = _conditional(big, o, self.z_idx)
            z = (np.einsum("cdzo,cdo->cdz", reg, r)
                 + np.einsum("cdab,cdb->cda", chol, normal))
        else:
            scale = np.ones((c, d))
            shift = np.zeros((c, d, self.nz))
            if p.nu is not None:
                # W | y_o, k ~ Gamma((nu + p_o) / 2, rate (nu + delta_o) / 2)
                z_o = np.einsum("cdab,cdb->cda", self.obs_chol_inv[dd, kc], r)
                nu = p.nu[dd, kc]                                           # (c, D)
                shape = (nu + o.size) / 2
                rate = (nu + (z_o**2).sum(-1)) / 2
                w = np.stack([rng.standard_gamma(shape[i])
                              for i, rng in enumerate(rngs)]) / rate
                scale = 1 / np.sqrt(w)
            if p.skew is not None:
                # U0 | y_o, k ~ N(a, s^2) truncated to (0, inf), by inversion in the
                # upper tail: U0 = a + s X, P(X > x) = Phi(-x) / Phi(a / s)
                a = (self.alpha[dd, kc] * r).sum(-1)
                sd = self.s[dd, kc]
                log_v = np.log1p(-np.stack([rng.random(d) for rng in rngs]))  # log U(0, 1]
                u0 = np.maximum(a - sd * ndtri_exp(log_v + log_ndtr(a / sd)), 0.0)
                r = r - self.lam_o[dd, kc] * u0[..., None]
                shift = self.lam_z[dd, kc] * u0[..., None]
            z = (shift + np.einsum("cdzo,cdo->cdz", self.reg[dd, kc], r)
                 + scale[..., None] * np.einsum("cdab,cdb->cda", self.chol[dd, kc], normal))
        full = np.empty((c, d, m))
        full[..., o] = y[:, None, o]
        full[..., missing] = m_sel[..., missing] + z[..., :nm]
        offset = z[..., nm:] if self.unseen else np.zeros((c, d, m))
        return kc, full, offset, mean

    def _mixing_at_unseen_site(self, r, dd, kc, rngs):
        """(c, D) draws of W | y_o, k for a Student-t at an unseen site: a quadrature node
        with probability proportional to its term of the class density's integral."""
        tau_o = self.params.tau[:, self.o][None]                             # (1, D, o)
        s = np.einsum("cdab,cda->cdb", self.eig_vec[dd, kc], r / tau_o)
        lam = self.eig_val[dd, kc]                                           # (c, D, o)
        t = self.nodes[dd, kc]                                               # (c, D, Q)
        log_w = self.node_log_weight[dd, kc].copy()
        for a in range(self.o.size):
            g = 1 + lam[..., a, None] * np.exp(-t)
            log_w -= 0.5 * (np.log(g) + s[..., a, None] ** 2 / g)
        cum = np.cumsum(np.exp(log_w - log_w.max(axis=-1, keepdims=True)), axis=-1)
        v = np.stack([rng.random(cum.shape[1]) for rng in rngs])
        j = np.minimum((cum <= v[..., None] * cum[..., -1:]).sum(-1), t.shape[-1] - 1)
        return np.exp(np.take_along_axis(t, j[..., None], axis=-1)[..., 0])


def _joint_covariance(cov: np.ndarray, site_var: np.ndarray | None) -> np.ndarray:
    """Covariance (..., 2M, 2M) of (y, u) given the class: y = location + u + e with
    cov(e) = ``cov`` (..., M, M) and u ~ N(0, diag(``site_var``)) (..., M); u = 0 (a seen
    site, its offset in the location) when ``site_var`` is None."""
    m = cov.shape[-1]
    big = np.zeros((*cov.shape[:-2], 2 * m, 2 * m))
    big[..., :m, :m] = cov
    if site_var is not None:
        t = site_var[..., :, None] * np.eye(m)
        big[..., :m, :m] += t
        big[..., :m, m:] = t
        big[..., m:, :m] = t
        big[..., m:, m:] = t
    return big


def _conditional(big: np.ndarray, o: np.ndarray, z_idx: np.ndarray):
    """Inverse Cholesky factor of the observed block, regression C_zo C_oo^-1 and the
    Cholesky factor of C_zz - C_zo C_oo^-1 C_oz (batched over leading axes)."""
    lead = big.shape[:-2]
    if o.size:
        obs_chol_inv = np.linalg.inv(np.linalg.cholesky(big[..., o[:, None], o[None, :]]))
    else:
        obs_chol_inv = np.zeros((*lead, 0, 0))
    c_zo = big[..., z_idx[:, None], o[None, :]]
    reg = c_zo @ (np.swapaxes(obs_chol_inv, -1, -2) @ obs_chol_inv)
    cond = big[..., z_idx[:, None], z_idx[None, :]] - reg @ np.swapaxes(c_zo, -1, -2)
    cond = 0.5 * (cond + np.swapaxes(cond, -1, -2))
    chol = (np.linalg.cholesky(cond + 1e-12 * np.eye(z_idx.size)) if z_idx.size
            else np.zeros((*lead, 0, 0)))
    return obs_chol_inv, reg, chol
