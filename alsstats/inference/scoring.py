r"""Posterior class probabilities for new patients, vectorised over posterior draws.

For posterior draw :math:`d`, a patient with observed markers :math:`o`,
covariates :math:`x` and site :math:`s` has class log-likelihoods

.. math::

    \ell_{dk} = \log N\big(y_o \mid \mu_{dk,o} + (B_d^\top x)_o + u_{ds,o},\;
                \Sigma_{d(k),oo}\big),

and :math:`P_d(k \mid y) = \operatorname{softmax}_k(\ell_{dk} + \log\pi_k)` for
prior prevalences :math:`\pi`.  A site not seen in training is integrated over
the site distribution: its offset is dropped from the mean and
:math:`\operatorname{diag}(\tau_{d,o}^2)` is added to :math:`\Sigma_{d,oo}`.
A patient with no observed marker gets :math:`P_d = \pi` for every draw.  The
score is the mean of :math:`P_d` over draws and its interval the central
quantiles over draws.

With a covariance shared by the classes the class-independent terms cancel
in the softmax; writing :math:`w = y_o - (B^\top x)_o - u_{s,o}` and
:math:`P = \Sigma_{oo}^{-1}`,

.. math::

    \ell_{dk} = \mu_{k,o}^\top P w - \tfrac12 \mu_{k,o}^\top P \mu_{k,o} + \text{const},

so a patient costs a few multiply-adds per draw and class, with no
factorisation.  Per-class covariances add the quadratic term
:math:`-\tfrac12 w^\top \Sigma_{k,oo}^{-1} w - \tfrac12\log|\Sigma_{k,oo}|`.

Robust marker distributions (``nu`` or ``skew`` in the parameters; a diagnostic spec
with ``marker_distribution = "student_t"`` or ``"skew_normal"``): the class
log-likelihoods :math:`\ell_{dk}` are the densities of
:mod:`~alsstats.inference.marker_density` (which marginalise missing markers and an
unseen site the same way), computed with numpy per group of rows sharing observed
markers and site kind (:func:`class_log_likelihoods`); the softmax, mean and quantiles
are as above.

Known measurement error (a diagnostic spec with ``measurement_error = "crlb"``):
patient :math:`i`'s measured markers have covariance :math:`\Sigma_{d(k)} + V_i`
with her own known error covariance :math:`V_i`
(:func:`~alsstats.models.diagnostic.data.measurement_variance`).  Patients with
:math:`V_{i,oo} \ne 0` are scored one at a time by the same kernel with
:math:`\Sigma_d + V_i` in place of :math:`\Sigma_d`
(:func:`with_measurement_error`): exact, at the cost of one batch of
factorisations over the draws per such patient (milliseconds); the others are
grouped as usual.

The loop over patients is compiled with numba (a dependency of nutpie),
runs in parallel over patients, and keeps the draws as the innermost,
contiguous axis so the per-draw arithmetic vectorises.  The interval needs
every draw's probability for a patient; a per-patient O(D) selection finds
the two order statistics around each quantile.  Memory is O(K D) per patient
in flight, whatever the number of patients.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numba
import numpy as np

from alsstats.inference.marker_density import log_density, unseen_site_log_density

__all__ = ["PosteriorParameters", "ScoreResult", "class_log_likelihoods",
           "class_probabilities", "error_rows", "scoring_groups",
           "with_measurement_error"]


@dataclass(frozen=True)
class PosteriorParameters:
    r"""Posterior draws on the standardised marker scale.

    ``mu`` (D, K, M) class means; ``B`` (D, C, M) covariate effects; ``u``
    (D, S, M) site offsets; ``tau`` (D, M) site SDs; ``Sigma`` (D, M, M) shared
    or (D, K, M, M) per-class covariance.  A robust marker distribution adds ``nu``
    (D, K) Student-t degrees of freedom or ``skew`` (D, K, M) skew-normal
    :math:`\lambda` (:mod:`~alsstats.inference.marker_density`); ``mu`` is then the
    class location and ``Sigma`` the scale matrix.
    """

    mu: np.ndarray
    B: np.ndarray
    u: np.ndarray
    tau: np.ndarray
    Sigma: np.ndarray
    nu: np.ndarray | None = None
    skew: np.ndarray | None = None

    @property
    def per_class(self) -> bool:
        return self.Sigma.ndim == 4

    @property
    def normal(self) -> bool:
        """True for multivariate normal markers (no ``nu``, no ``skew``)."""
        return self.nu is None and self.skew is None


@dataclass(frozen=True)
class ScoreResult:
    """Per patient and class: posterior mean of P(class) and the interval bounds (n, K)."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


def with_measurement_error(params: PosteriorParameters,
                           extra: np.ndarray) -> PosteriorParameters:
    """The draws with a known (M, M) error covariance added to every draw's (class) Sigma."""
    return replace(params, Sigma=params.Sigma + np.asarray(extra, float))


def error_rows(measurement_var: np.ndarray | None, y: np.ndarray) -> np.ndarray:
    """Rows whose known error covariance is not zero at their observed markers."""
    if measurement_var is None:
        return np.zeros(0, np.int64)
    obs = np.isfinite(y)
    live = measurement_var * (obs[:, :, None] & obs[:, None, :])
    return np.flatnonzero(np.any(live != 0, axis=(1, 2)))


def class_probabilities(y: np.ndarray, x: np.ndarray, site: np.ndarray,
                        params: PosteriorParameters, log_prior: np.ndarray, *,
                        interval: float = 0.9,
                        measurement_var: np.ndarray | None = None) -> ScoreResult:
    """Score patients: mean and central ``interval`` of P(class | markers) over draws.

    Parameters
    ----------
    y
        (n, M) standardised markers, NaN where missing.
    x
        (n, C) covariates on the model's scale.
    site
        (n,) training-site index, -1 for a site not seen in training.
    params
        Posterior draws.
    log_prior
        (K,) log prior class probabilities (prevalence), or (n, K) per patient.
    interval
        Central probability of the reported interval; quantiles interpolate
        linearly between order statistics (as ``np.quantile``'s default).
    measurement_var
        (n, M, M) known measurement-error covariance of each patient's markers
        (standardised scale), added to Sigma for that patient; ``None``: none.
    """
    n = y.shape[0]
    k = params.mu.shape[1]
    mean = np.empty((n, k))
    low = np.empty((n, k))
    high = np.empty((n, k))
    lp_rows = np.broadcast_to(np.asarray(log_prior, float), (n, k))
    own = error_rows(measurement_var, y)
    plain = np.setdiff1d(np.arange(n), own)
    parts = [(plain, params)] + [(np.array([i]), with_measurement_error(
        params, measurement_var[i])) for i in own]
    score = _score if params.normal else _score_by_density
    for rows, p in parts:
        if rows.size:
            r = score(y[rows], x[rows], site[rows], p, lp_rows[rows], interval)
            mean[rows], low[rows], high[rows] = r.mean, r.low, r.high
    return ScoreResult(mean, low, high)


def _score(y, x, site, params, log_prior, interval) -> ScoreResult:
    """:func:`class_probabilities` without measurement error."""
    n = y.shape[0]
    d, k = params.mu.shape[:2]
    mean = np.empty((n, k))
    low = np.empty((n, k))
    high = np.empty((n, k))
    h = np.array([(1 - interval) / 2, (1 + interval) / 2]) * (d - 1)
    for rows, o, unseen, lp in scoring_groups(y, site, log_prior, k):
        if len(o) == 0:
            mean[rows] = low[rows] = high[rows] = np.exp(lp - np.logaddexp.reduce(lp))
            continue
        terms = _group_terms(params, o, unseen, lp)
        out = np.empty((3, len(rows), k))
        _score_kernel(np.ascontiguousarray(y[np.ix_(rows, o)]), np.ascontiguousarray(x[rows]),
                      np.where(unseen, -1, site[rows]).astype(np.int64), *terms, h, out)
        mean[rows], low[rows], high[rows] = out[0], out[1], out[2]
    return ScoreResult(mean, low, high)


def class_log_likelihoods(y: np.ndarray, x: np.ndarray, site: np.ndarray,
                          params: PosteriorParameters, o: np.ndarray,
                          unseen: bool) -> np.ndarray:
    """(D, K, r) log p(y_o | class k, draw) of rows observing markers ``o`` at seen
    sites (``site`` their indices) or, with ``unseen``, at sites not seen in training.

    ``y`` (r, M) and ``x`` (r, C) are the rows' markers and covariates; the density is
    the parameters' (normal, Student-t or skew-normal,
    :mod:`~alsstats.inference.marker_density`).
    """
    mean = (params.mu[:, :, o][:, :, None, :]
            + np.einsum("ic,dcm->dim", x, params.B[:, :, o])[:, None])
    if not unseen:
        mean = mean + params.u[:, site][:, :, o][:, None]
    resid = y[:, o][None, None] - mean                                   # (D, K, r, m)
    cov = params.Sigma[..., o[:, None], o[None, :]]
    cov = cov if params.per_class else cov[:, None]
    skew = None if params.skew is None else params.skew[:, :, o]
    if unseen:
        return unseen_site_log_density(resid, cov, params.tau[:, o] ** 2, params.nu, skew)
    return log_density(resid, cov, params.nu, skew)


def _score_by_density(y, x, site, params, log_prior, interval, chunk: int = 64
                      ) -> ScoreResult:
    """:func:`class_probabilities` for robust marker distributions (numpy, per group)."""
    n = y.shape[0]
    k = params.mu.shape[1]
    mean = np.empty((n, k))
    low = np.empty((n, k))
    high = np.empty((n, k))
    q = [(1 - interval) / 2, (1 + interval) / 2]
    for rows, o, unseen, lp in scoring_groups(y, site, log_prior, k):
        if len(o) == 0:
            mean[rows] = low[rows] = high[rows] = np.exp(lp - np.logaddexp.reduce(lp))
            continue
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            ll = class_log_likelihoods(y[part], x[part], site[part], params, o, unseen)
            joint = ll + lp[None, :, None]
            prob = np.exp(joint - np.logaddexp.reduce(joint, axis=1, keepdims=True))
            mean[part] = prob.mean(axis=0).T
            low[part], high[part] = np.swapaxes(np.quantile(prob, q, axis=0), 1, 2)
    return ScoreResult(mean, low, high)


def scoring_groups(y: np.ndarray, site: np.ndarray, log_prior: np.ndarray, k: int):
    """Rows sharing observed markers, site seen/unseen and prior: ``(rows, o, unseen, lp)``.

    ``log_prior`` is (K,) for every row or (n, K) per row (e.g. with the class
    probabilities of the row's missingness pattern folded in).
    """
    n, m = y.shape
    lp = np.broadcast_to(np.asarray(log_prior, float), (n, k))
    keys = np.concatenate([np.isfinite(y), (site < 0)[:, None], lp], axis=1)
    groups, which = np.unique(keys, axis=0, return_inverse=True)
    which = np.ravel(which)
    for g, key in enumerate(groups):
        yield (np.flatnonzero(which == g), np.flatnonzero(key[:m]), bool(key[m]),
               np.array(key[m + 1:]))


def _draws_last(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(a, 0, -1))


def _group_terms(params: PosteriorParameters, o: np.ndarray, unseen: bool,
                 log_prior: np.ndarray):
    """Per-draw linear coefficients and constants for one (observed markers, site) group.

    Returns, draws last: ``a`` (K, m, D) = P_k mu_k; ``ab`` (K, C, D) = B_o a;
    ``au`` (K, S, D) = u_o a; ``const`` (K, D); ``chol_inv`` (G, m, m, D) with
    G = K for per-class covariances (G = 0 otherwise); ``b`` (C, m, D); ``u`` (S, m, D).
    """
    mu = params.mu[:, :, o]                                      # (D, K, m)
    b = params.B[:, :, o]                                        # (D, C, m)
    u = params.u[:, :, o]                                        # (D, S, m)
    cov = params.Sigma[..., o[:, None], o[None, :]]              # (D, [K,] m, m)
    if unseen:
        extra = np.einsum("dm,mn->dmn", params.tau[:, o] ** 2, np.eye(len(o)))
        cov = cov + (extra[:, None] if params.per_class else extra)
    if not params.per_class:
        cov = cov[:, None]                                       # (D, 1, m, m)
    chol = np.linalg.cholesky(cov)
    chol_inv = np.tril(np.linalg.inv(chol))
    prec = np.swapaxes(chol_inv, -1, -2) @ chol_inv              # (D, G, m, m)
    a = np.einsum("dgmn,dkn->dkm", prec, mu) if prec.shape[1] == 1 else np.einsum(
        "dkmn,dkn->dkm", prec, mu)
    const = log_prior[None, :] - 0.5 * np.einsum("dkm,dkm->dk", a, mu)
    if params.per_class:
        const = const - np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(-1)
        chol_inv_out = _draws_last(chol_inv)
    else:
        chol_inv_out = np.zeros((0, len(o), len(o), mu.shape[0]))
    ab = np.einsum("dkm,dcm->dkc", a, b)
    au = np.einsum("dkm,dsm->dks", a, u)
    return (_draws_last(a), _draws_last(ab), _draws_last(au), _draws_last(const),
            chol_inv_out, _draws_last(b), _draws_last(u))


@numba.njit(parallel=True, fastmath=True, cache=True)
def _score_kernel(y, x, site, a, ab, au, const, chol_inv, b, u, h, out):  # pragma: no cover
    c, m = y.shape
    k, n_draws = const.shape
    n_cov = x.shape[1]
    per_class = chol_inv.shape[0] > 0
    lo_i = int(np.floor(h[0]))
    hi_i = int(np.floor(h[1]))
    lo_f = h[0] - lo_i
    hi_f = h[1] - hi_i
    for i in numba.prange(c):
        sc = const.copy()
        s = site[i]
        for kk in range(k):
            for j in range(m):
                yj = y[i, j]
                for d in range(n_draws):
                    sc[kk, d] += yj * a[kk, j, d]
            for cc in range(n_cov):
                xc = x[i, cc]
                for d in range(n_draws):
                    sc[kk, d] -= xc * ab[kk, cc, d]
            if s >= 0:
                for d in range(n_draws):
                    sc[kk, d] -= au[kk, s, d]
        if per_class:
            w = np.empty((m, n_draws))
            for j in range(m):
                for d in range(n_draws):
                    w[j, d] = y[i, j]
                for cc in range(n_cov):
                    xc = x[i, cc]
                    for d in range(n_draws):
                        w[j, d] -= xc * b[cc, j, d]
                if s >= 0:
                    for d in range(n_draws):
                        w[j, d] -= u[s, j, d]
            zw = np.empty(n_draws)
            for kk in range(k):
                for r in range(m):
                    zw[:] = 0.0
                    for q in range(r + 1):
                        for d in range(n_draws):
                            zw[d] += chol_inv[kk, r, q, d] * w[q, d]
                    for d in range(n_draws):
                        sc[kk, d] -= 0.5 * zw[d] * zw[d]
        top = sc[0].copy()
        for kk in range(1, k):
            for d in range(n_draws):
                top[d] = max(top[d], sc[kk, d])
        total = np.zeros(n_draws)
        for kk in range(k):
            for d in range(n_draws):
                diff = sc[kk, d] - top[d]
                e = 1.0 if diff == 0.0 else np.exp(diff)
                sc[kk, d] = e
                total[d] += e
        buf_lo = np.empty(n_draws)
        buf_hi = np.empty(n_draws)
        for kk in range(k):
            row = sc[kk]
            acc = 0.0
            for d in range(n_draws):
                row[d] /= total[d]
                acc += row[d]
            out[0, i, kk] = acc / n_draws
            a0, a1, b0, b1 = _interval(row, lo_i, hi_i, buf_lo, buf_hi)
            out[1, i, kk] = a0 + lo_f * (a1 - a0)
            out[2, i, kk] = b0 + hi_f * (b1 - b0)


@numba.njit(cache=True)
def _select(values, r):  # pragma: no cover
    """The r-th smallest of ``values``; -inf below rank 0 and +inf past the end."""
    if r < 0:
        return -np.inf
    if r >= values.shape[0]:
        return np.inf
    return np.partition(values, r)[r]


@numba.njit(cache=True)
def _pair(values, r, r2):  # pragma: no cover
    """Order statistics r and r2 (r2 = r or r + 1) of ``values`` by quickselect."""
    part = np.partition(values, r)
    if r2 == r:
        return part[r], part[r]
    return part[r], part[r + 1:].min()


@numba.njit(cache=True)
def _interval(row, lo_r, hi_r, buf_lo, buf_hi):  # pragma: no cover
    """Order statistics lo_r, lo_r + 1, hi_r, hi_r + 1 (0-based, clipped) of ``row`` in O(D).

    A strided sample of 128 values brackets each of the two ranks; one
    pass counts the values below each bracket and copies those inside it, and
    only the bracket contents are searched (quickselect).  If a bracket misses
    its ranks (rare) the whole row is sorted.
    """
    n = row.shape[0]
    last = n - 1
    ns = min(128, n)
    step = n // ns
    sample = np.empty(ns)
    for t in range(ns):
        sample[t] = row[t * step]
    p_lo = (lo_r * ns) // n
    p_hi = (hi_r * ns) // n
    lo_a = _select(sample, p_lo - 7)
    lo_b = _select(sample, p_lo + 8)
    hi_a = _select(sample, p_hi - 7)
    hi_b = _select(sample, p_hi + 8)
    below_lo = 0
    below_hi = 0
    n_lo = 0
    n_hi = 0
    for t in range(n):
        v = row[t]
        if v < lo_a:
            below_lo += 1
        elif v <= lo_b:
            buf_lo[n_lo] = v
            n_lo += 1
        if v < hi_a:
            below_hi += 1
        elif v <= hi_b:
            buf_hi[n_hi] = v
            n_hi += 1
    lo_r2 = min(lo_r + 1, last)
    hi_r2 = min(hi_r + 1, last)
    if (below_lo <= lo_r and lo_r2 < below_lo + n_lo and below_hi <= hi_r
            and hi_r2 < below_hi + n_hi):
        a0, a1 = _pair(buf_lo[:n_lo], lo_r - below_lo, lo_r2 - below_lo)
        b0, b1 = _pair(buf_hi[:n_hi], hi_r - below_hi, hi_r2 - below_hi)
        return a0, a1, b0, b1
    full = np.sort(row)
    return full[lo_r], full[lo_r2], full[hi_r], full[hi_r2]
