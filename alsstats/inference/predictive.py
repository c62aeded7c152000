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
"""

from __future__ import annotations

import numba
import numpy as np

from alsstats.errors import AlsStatsError
from alsstats.inference.scoring import (
    PosteriorParameters,
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
    error there, so it is imputed as a value measured without error.
    """
    if not params.normal:
        raise AlsStatsError("predictive intervals need normal markers (their conditional "
                            "draws are Gaussian); use credible intervals with a Student-t or "
                            "skew-normal marker distribution")
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
    n = y.shape[0]
    k = params.mu.shape[1]
    low = np.full((n, k), np.nan)
    high = np.full((n, k), np.nan)
    rows = np.arange(n) if rows is None else np.asarray(rows)
    keys = np.arange(n) if keys is None else np.asarray(keys)
    if rows.size == 0:
        return low, high
    n_draws = params.mu.shape[0]
    if max_draws is not None and n_draws > max_draws:
        keep = np.linspace(0, n_draws - 1, max_draws).round().astype(int)
        params = PosteriorParameters(mu=params.mu[keep], B=params.B[keep], u=params.u[keep],
                                     tau=params.tau[keep], Sigma=params.Sigma[keep])
    q = [(1 - interval) / 2, (1 + interval) / 2]
    lp = np.broadcast_to(np.asarray(log_prior, float), (n, k))[rows]
    for members, o, unseen, lpg in scoring_groups(y[rows], site[rows], lp, k):
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
