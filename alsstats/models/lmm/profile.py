r"""Profiled REML/ML deviance of a linear mixed model with one grouping factor.

Model: for subject :math:`i` with :math:`m_i` visits, in variance group :math:`k(i)`,

.. math::

    y_i = X_i\beta + Z_i b_i + \varepsilon_i,\qquad
    b_i \sim N(0,\ \sigma^2\Lambda_k\Lambda_k^\top),\qquad
    \varepsilon_i \sim N(0,\ \sigma^2 I_{m_i}),

where :math:`\Lambda_k` is the lower-triangular *relative covariance factor* of variance
group *k* (one group: the usual model; several: group-specific random-effect
covariances, e.g. a larger slope SD in patients than in controls).  The entries of
every :math:`\Lambda_k` (column-major lower triangle, group after group) form
:math:`\theta`; diagonals are ≥ 0.

Profiled deviance (Bates, Mächler, Bolker & Walker 2015, *J. Stat. Softw.* 67(1),
section 3).  With :math:`M_i = I_q + \Lambda^\top Z_i^\top Z_i\Lambda` and
:math:`W_i = \Lambda M_i^{-1}\Lambda^\top` (Λ of the subject's group), the Woodbury
identity gives :math:`\sigma^2 V_i^{-1} = I - Z_i W_i Z_i^\top` and the determinant
lemma :math:`|V_i/\sigma^2| = |M_i|`.  With per-subject sums :math:`B_i = X_i^\top Z_i`,
:math:`C_i = Z_i^\top Z_i`, :math:`d_i = Z_i^\top y_i`,

.. math::

    X^\top\tilde V^{-1}X = X^\top X - \sum_i B_i W_i B_i^\top,\quad
    X^\top\tilde V^{-1}y = X^\top y - \sum_i B_i W_i d_i,\quad
    y^\top\tilde V^{-1}y = y^\top y - \sum_i d_i^\top W_i d_i,

:math:`\hat\beta_\theta` solves the GLS equations, :math:`r^2_\theta =
y^\top\tilde V^{-1}y - \hat\beta^\top X^\top\tilde V^{-1}y`, and

.. math::

    d_{ML}(\theta) = \sum_i\log|M_i| + n\left[1 + \log\frac{2\pi r^2_\theta}{n}\right],\qquad
    d_{REML}(\theta) = \sum_i\log|M_i| + \log|X^\top\tilde V^{-1}X|
        + (n-p)\left[1 + \log\frac{2\pi r^2_\theta}{n-p}\right].

The unprofiled deviance at :math:`(\theta, \sigma)` replaces the last term by
:math:`\nu\log(2\pi\sigma^2) + r^2_\theta/\sigma^2` (ν = n − p or n); it equals the
profiled one at :math:`\hat\sigma^2 = r^2_\theta/\nu`.

:math:`W_i` depends on subject *i* only through its group and :math:`C_i` (its visit
pattern), so subjects sharing both are pooled: one deviance evaluation costs
:math:`O(G q^2 p^2)` for :math:`G` distinct (group, pattern) pairs.  Implemented from the
paper above and Laird & Ware (1982, *Biometrics* 38:963); no lme4 code is used.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

__all__ = ["_Profile"]

_LOG_2PI = np.log(2.0 * np.pi)


class _Profile:
    """Pattern-pooled sufficient statistics and the profiled deviance of θ.

    ``vgroup`` gives each subject's variance group (0..K−1; default all 0).
    """

    def __init__(self, y, X, codes, Z, reml: bool, vgroup=None):
        n, p = X.shape
        q = Z.shape[1]
        order = np.argsort(codes, kind="stable")
        sc = codes[order]
        starts = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]])
        Xo, Zo, yo = X[order], Z[order], y[order]
        self.B = np.add.reduceat(Xo[:, :, None] * Zo[:, None, :], starts, axis=0)  # (N,p,q)
        C = np.add.reduceat(Zo[:, :, None] * Zo[:, None, :], starts, axis=0)     # (N,q,q)
        self.d = np.add.reduceat(Zo * yo[:, None], starts, axis=0)                 # (N,q)
        self.ee = np.add.reduceat(yo * yo, starts)                                 # (N,)
        self.visits = np.diff(np.r_[starts, len(sc)])
        self.C_subject = C
        N = len(C)
        self.vgroup = np.zeros(N, dtype=int) if vgroup is None else np.asarray(vgroup, int)
        self.K = int(self.vgroup.max()) + 1
        key = np.column_stack([C.reshape(N, -1), self.vgroup])
        patterns, self.pattern_of, counts = np.unique(key, axis=0, return_inverse=True,
                                                      return_counts=True)
        self.pattern_of = self.pattern_of.ravel()
        G = len(patterns)
        self.C = patterns[:, :q * q].reshape(G, q, q)
        self.pattern_group = patterns[:, -1].astype(int)
        self.onehot = (self.pattern_group[:, None] == np.arange(self.K)).astype(float)
        self.counts = counts.astype(float)
        gBB = np.einsum("iak,ibl->iklab", self.B, self.B).reshape(N, q * q * p * p)
        gBd = np.einsum("iak,il->ikla", self.B, self.d).reshape(N, q * q * p)
        gdd = np.einsum("ik,il->ikl", self.d, self.d).reshape(N, q * q)
        by_pattern = np.argsort(self.pattern_of, kind="stable")
        first = np.flatnonzero(np.r_[True, np.diff(self.pattern_of[by_pattern]) != 0])

        def pooled(a, tail):  # pattern totals, laid out (q, q, G, *tail) and flattened
            tot = np.add.reduceat(a[by_pattern], first, axis=0).reshape(G, q, q, *tail)
            return np.ascontiguousarray(np.moveaxis(tot, 0, 2)).reshape(q * q * G, *tail)

        self.G_BB = pooled(gBB, (p * p,))
        self.G_Bd = pooled(gBd, (p,))
        self.G_dd = pooled(gdd, ()).ravel()
        # Stacked q×q matrices are stored component-major, (q, q, G): each entry is a
        # contiguous vector over patterns, so the batched 2×2 algebra is a few vector ops.
        self.Ct = np.ascontiguousarray(np.moveaxis(self.C, 0, 2))
        self.XtX, self.Xty, self.yty = X.T @ X, X.T @ y, float(y @ y)
        self.n, self.p, self.q, self.G, self.reml = n, p, q, G, reml
        upper_rows, upper_cols = np.triu_indices(q)
        self.theta_rows, self.theta_cols = upper_cols, upper_rows  # column-major lower triangle
        self.n_theta = q * (q + 1) // 2
        diag = np.zeros(self.n_theta, dtype=bool)
        diag[np.cumsum(np.r_[0, np.arange(q, 1, -1)])] = True
        self.diag = np.tile(diag, self.K)                 # diagonal entries of every Λ_k
        self.eye_p = np.eye(p)
        self.eye_t = np.eye(q)[:, :, None]

    def moment_start(self, fallback: np.ndarray) -> np.ndarray:
        """θ from two-stage moments, per variance group: per-subject least-squares fits
        b_i = C_i⁻¹d_i give Ω_k ≈ cov(b_i | group k) − σ² mean(C_i⁻¹) and σ² (pooled) from
        their residuals; θ_k = chol(Ω_k/σ²) (eigenvalues floored at 1 % of the largest).
        A group with too few subjects keeps its part of ``fallback``."""
        q = self.q
        m = self.visits
        ok = (m > q) & (np.linalg.det(self.C_subject) > 1e-10 * (np.trace(
            self.C_subject, axis1=1, axis2=2) / q) ** q)
        if ok.sum() <= q + 1:
            return fallback
        Cinv = np.linalg.inv(self.C_subject[ok])
        b = (Cinv @ self.d[ok][:, :, None])[..., 0]
        rss = self.ee[ok] - np.einsum("ik,ik->i", self.d[ok], b)
        sigma2 = max(rss.sum() / (m[ok] - q).sum(), 1e-12 * max(self.ee.sum(), 1e-300))
        theta = np.array(fallback, dtype=float)
        for k in range(self.K):
            sel = self.vgroup[ok] == k
            if sel.sum() <= q + 1:
                continue
            omega = (np.atleast_2d(np.cov(b[sel], rowvar=False))
                     - sigma2 * Cinv[sel].mean(axis=0))
            vals, vecs = np.linalg.eigh(0.5 * (omega + omega.T) / sigma2)
            vals = np.maximum(vals, 0.01 * max(vals.max(), 1e-8))
            L = np.linalg.cholesky((vecs * vals) @ vecs.T)
            part = L[self.theta_rows, self.theta_cols]
            if np.all(np.isfinite(part)):
                theta[k * self.n_theta:(k + 1) * self.n_theta] = part
        return theta

    def lam(self, theta: np.ndarray) -> np.ndarray:
        """Lower-triangular Λ_k, (K, q, q), filled column by column from θ (lme4's order)."""
        L = np.zeros((self.K, self.q, self.q))
        L[:, self.theta_rows, self.theta_cols] = np.reshape(theta, (self.K, self.n_theta))
        return L

    def solve(self, theta: np.ndarray):
        """M⁻¹, log|M|, W = ΛM⁻¹Λ' and Λ per pattern (component-major, (q,q,G))."""
        lam = self.lam(theta)
        if self.K == 1:             # one Λ for every pattern: cheaper fixed-matrix products
            L = lam[0]
            M = _left(L.T, _right(self.Ct, L)) + self.eye_t
            Minv, logdet = _inv_logdet(M)
            return Minv, logdet, _left(L, _right(Minv, L.T)), L[:, :, None]
        Lp = np.ascontiguousarray(np.moveaxis(lam[self.pattern_group], 0, 2))
        LT = Lp.transpose(1, 0, 2)
        M = _mm(_mm(LT, self.Ct), Lp) + self.eye_t
        Minv, logdet = _inv_logdet(M)
        W = _mm(_mm(Lp, Minv), LT)
        return Minv, logdet, W, Lp

    def subject_W(self, theta: np.ndarray) -> np.ndarray:
        """W_i for every subject, (N, q, q)."""
        W = self.solve(theta)[2]
        return np.moveaxis(W, 2, 0)[self.pattern_of]

    def _gls(self, theta: np.ndarray):
        Minv, logdet, W, Lp = self.solve(theta)
        w = W.ravel()
        p = self.p
        XVX = self.XtX - (w @ self.G_BB).reshape(p, p)
        XVy = self.Xty - w @ self.G_Bd
        yVy = self.yty - w @ self.G_dd
        try:
            R = np.linalg.cholesky(XVX)  # lower: XVX = R R'
        except np.linalg.LinAlgError:
            return None
        Rinv = linalg.solve_triangular(R, self.eye_p, lower=True, check_finite=False)
        XVXinv = Rinv.T @ Rinv
        beta = XVXinv @ XVy
        r2 = max(yVy - beta @ XVy, 1e-300)
        fixed = float(self.counts @ logdet)
        if self.reml:
            fixed += 2.0 * np.log(np.diag(R)).sum()
        return fixed, beta, XVXinv, r2, (Minv, W, Lp)

    @property
    def dof(self) -> int:
        return self.n - self.p if self.reml else self.n

    def deviance(self, theta: np.ndarray, full: bool = False):
        """Profiled deviance and its gradient in θ (or the fitted quantities if ``full``).

        Gradient: with S_g = ∂d/∂W_g (symmetrised), ∂d/∂Λ_k = 2 Σ_{g in k} (n_g C_g + S_g −
        C_g W_g S_g) Λ_k M_g⁻¹, read at the θ entries.
        """
        out = self._gls(theta)
        if out is None:
            return None if full else (np.inf, np.zeros_like(theta))
        fixed, beta, XVXinv, r2, (Minv, W, Lp) = out
        dof = self.dof
        dev = fixed + dof * (1.0 + _LOG_2PI + np.log(r2 / dof))
        if full:
            return dev, beta, XVXinv, r2 / dof
        q, G = self.q, self.G
        bb = np.outer(beta, beta).ravel()
        S = (dof / r2) * -(self.G_dd - 2.0 * self.G_Bd @ beta + self.G_BB @ bb)
        if self.reml:
            S = S - self.G_BB @ XVXinv.ravel()
        S = S.reshape(q, q, G)
        S = 0.5 * (S + S.transpose(1, 0, 2))  # W is symmetric: use the symmetric part
        A = self.counts * self.Ct + S - _mm(_mm(self.Ct, W), S)
        F = 2.0 * _mm(A, _mm(Lp, Minv)) @ self.onehot          # (q, q, K)
        return dev, F[self.theta_rows, self.theta_cols, :].T.ravel()

    def unprofiled(self, theta: np.ndarray, sigma: float) -> float:
        """Deviance at (θ, σ) without profiling σ out (see the module docstring)."""
        out = self._gls(theta)
        if out is None:
            return np.inf
        fixed, _, _, r2, _ = out
        return fixed + self.dof * (_LOG_2PI + 2.0 * np.log(sigma)) + r2 / sigma ** 2

    def fixed_cov(self, theta: np.ndarray, sigma: float) -> np.ndarray:
        """cov(β̂) = σ²(XᵀṼ⁻¹X)⁻¹ at (θ, σ)."""
        out = self._gls(theta)
        return sigma ** 2 * out[2] if out is not None else np.full((self.p, self.p), np.nan)


def _mm(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Batched product of component-major stacks (q,q,G) @ (q,q,G)."""
    return (A[:, :, None, :] * B[None, :, :, :]).sum(axis=1)


def _left(L: np.ndarray, A: np.ndarray) -> np.ndarray:
    """L @ A_g for a fixed (q,q) L and a component-major stack A."""
    return (L[:, :, None, None] * A[None, :, :, :]).sum(axis=1)


def _right(A: np.ndarray, L: np.ndarray) -> np.ndarray:
    """A_g @ L for a component-major stack A and a fixed (q,q) L."""
    return (A[:, :, None, :] * L[None, :, :, None]).sum(axis=1)


def _inv_logdet(M: np.ndarray):
    """Inverse and log-determinant of component-major stacked SPD matrices (q, q, G)."""
    q = M.shape[0]
    if q == 1:
        return 1.0 / M, np.log(M[0, 0])
    if q == 2:
        a, b, d = M[0, 0], M[0, 1], M[1, 1]
        det = a * d - b * b
        inv = np.empty_like(M)
        inv[0, 0], inv[1, 1] = d / det, a / det
        inv[0, 1] = inv[1, 0] = -b / det
        return inv, np.log(det)
    stack = np.moveaxis(M, 2, 0)
    chol = np.linalg.cholesky(stack)
    inv = np.linalg.inv(stack)
    return (np.moveaxis(inv, 0, 2),
            2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1))
