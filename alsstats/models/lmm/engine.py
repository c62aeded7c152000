r"""Linear mixed models by REML or ML with one grouping factor (subjects).

Model
-----
For subject :math:`i` with :math:`m_i` visits,

.. math::

    y_i = X_i\beta + Z_i b_i + \varepsilon_i,\qquad
    b_i \sim N(0,\ \sigma^2\Lambda_\theta\Lambda_\theta^\top),\qquad
    \varepsilon_i \sim N(0,\ \sigma^2 I_{m_i}),

where :math:`Z_i` holds the random-effects columns (``[1]`` for a random
intercept, ``[1, t]`` for a correlated intercept and slope) and
:math:`\Lambda_\theta` is the lower-triangular *relative covariance factor*
whose entries (column-major) form :math:`\theta`; its diagonal is ≥ 0.

Profiled deviance (Bates, Mächler, Bolker & Walker 2015, *J. Stat. Softw.*
67(1), section 3).  With :math:`M_i = I_q + \Lambda^\top Z_i^\top Z_i\Lambda`
and :math:`W_i = \Lambda M_i^{-1}\Lambda^\top`, the Woodbury identity gives
:math:`\sigma^2 V_i^{-1} = I - Z_i W_i Z_i^\top` and the matrix determinant
lemma :math:`|V_i/\sigma^2| = |M_i|`.  Hence, with per-subject sums
:math:`B_i = X_i^\top Z_i`, :math:`C_i = Z_i^\top Z_i`, :math:`d_i = Z_i^\top y_i`
computed once,

.. math::

    X^\top\tilde V^{-1}X = X^\top X - \sum_i B_i W_i B_i^\top,\quad
    X^\top\tilde V^{-1}y = X^\top y - \sum_i B_i W_i d_i,\quad
    y^\top\tilde V^{-1}y = y^\top y - \sum_i d_i^\top W_i d_i,

:math:`\hat\beta_\theta` solves the GLS equations, :math:`r^2_\theta` is the
penalised residual sum of squares
:math:`y^\top\tilde V^{-1}y - \hat\beta^\top X^\top\tilde V^{-1}y`, and

.. math::

    d_{ML}(\theta) = \sum_i\log|M_i| + n\left[1 + \log\frac{2\pi r^2_\theta}{n}\right],\qquad
    d_{REML}(\theta) = \sum_i\log|M_i| + \log|X^\top\tilde V^{-1}X|
        + (n-p)\left[1 + \log\frac{2\pi r^2_\theta}{n-p}\right].

:math:`W_i` depends on subject *i* only through :math:`C_i` (its visit
pattern), so subjects with equal :math:`C_i` are pooled: the sums above are
contractions of :math:`W_g` with pattern totals of :math:`B_i\otimes B_i`,
:math:`B_i\otimes d_i` and :math:`d_i\otimes d_i`.  One deviance evaluation
costs :math:`O(G q^2 p^2)` for :math:`G` distinct patterns, whatever the number
of subjects.  :math:`\theta` is optimised with L-BFGS-B under the bounds
:math:`\Lambda_{kk}\ge 0`; then :math:`\hat\sigma^2 = r^2/(n-p)` (REML) or
:math:`r^2/n` (ML), :math:`\widehat{\mathrm{cov}}(\hat\beta) =
\hat\sigma^2 (X^\top\tilde V^{-1}X)^{-1}` and the conditional modes of the
random effects are :math:`\hat b_i = W_i (d_i - B_i^\top\hat\beta)`.

The method is implemented from the paper above and from Laird & Ware (1982,
*Biometrics* 38:963); no lme4 code is used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

from alsstats.errors import DataValidationError, Problem, SpecError
from alsstats.models.lmm.result import LMMResult, LRTResult

__all__ = ["LMMResult", "LRTResult", "fit_lmm", "fit_lmm_formula", "likelihood_ratio_test"]

_LOG_2PI = np.log(2.0 * np.pi)


class _Profile:
    """Pattern-pooled sufficient statistics and the profiled deviance of θ."""

    def __init__(self, y, X, codes, Z, reml: bool):
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
        patterns, self.pattern_of, counts = np.unique(
            C.reshape(len(C), -1), axis=0, return_inverse=True, return_counts=True)
        self.pattern_of = self.pattern_of.ravel()
        G = len(patterns)
        self.C = patterns.reshape(G, q, q)
        self.counts = counts.astype(float)
        gBB = np.einsum("iak,ibl->iklab", self.B, self.B).reshape(len(C), q * q * p * p)
        gBd = np.einsum("iak,il->ikla", self.B, self.d).reshape(len(C), q * q * p)
        gdd = np.einsum("ik,il->ikl", self.d, self.d).reshape(len(C), q * q)
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
        self.eye_p = np.eye(p)
        self.eye_t = np.eye(q)[:, :, None]

    def moment_start(self, fallback: np.ndarray) -> np.ndarray:
        """θ from two-stage moments: per-subject least-squares fits b_i = C_i⁻¹d_i give
        Ω ≈ cov(b_i) − σ² mean(C_i⁻¹) and σ² from their residuals; θ = chol(Ω/σ²)
        (eigenvalues floored at 1 % of the largest).  ``fallback`` when too few subjects."""
        q = self.q
        m = self.visits
        ok = (m > q) & (np.linalg.det(self.C_subject) > 1e-10 * (np.trace(
            self.C_subject, axis1=1, axis2=2) / q) ** q)
        if ok.sum() <= q + 1:
            return fallback
        C, d = self.C_subject[ok], self.d[ok]
        Cinv = np.linalg.inv(C)
        b = (Cinv @ d[:, :, None])[..., 0]
        rss = self.ee[ok] - np.einsum("ik,ik->i", d, b)
        sigma2 = max(rss.sum() / (m[ok] - q).sum(), 1e-12 * max(self.ee.sum(), 1e-300))
        omega = np.atleast_2d(np.cov(b, rowvar=False)) - sigma2 * Cinv.mean(axis=0)
        vals, vecs = np.linalg.eigh(0.5 * (omega + omega.T) / sigma2)
        vals = np.maximum(vals, 0.01 * max(vals.max(), 1e-8))
        L = np.linalg.cholesky((vecs * vals) @ vecs.T)
        theta = L[self.theta_rows, self.theta_cols]
        return theta if np.all(np.isfinite(theta)) else fallback

    def lam(self, theta: np.ndarray) -> np.ndarray:
        """Lower-triangular Λ filled column by column from θ (lme4's ordering)."""
        L = np.zeros((self.q, self.q))
        L[self.theta_rows, self.theta_cols] = theta
        return L

    def solve(self, theta: np.ndarray):
        """M⁻¹, log|M|, W = ΛM⁻¹Λ' (component-major, (q,q,G)) and Λ."""
        L = self.lam(theta)
        M = _left(L.T, _right(self.Ct, L)) + self.eye_t
        Minv, logdet = _inv_logdet(M)
        W = _left(L, _right(Minv, L.T))
        return Minv, logdet, W, L

    def subject_W(self, theta: np.ndarray) -> np.ndarray:
        """W_i for every subject, (N, q, q)."""
        W = self.solve(theta)[2]
        return np.moveaxis(W, 2, 0)[self.pattern_of]

    def deviance(self, theta: np.ndarray, full: bool = False):
        """Profiled deviance and its gradient in θ (or the fitted quantities if ``full``).

        Gradient: with S_g = ∂d/∂W_g (symmetrised), ∂d/∂Λ = 2 Σ_g (n_g C_g + S_g −
        C_g W_g S_g) Λ M_g⁻¹, read at the θ entries.
        """
        Minv, logdet, W, L = self.solve(theta)
        w = W.ravel()
        p, q, G = self.p, self.q, self.G
        XVX = self.XtX - (w @ self.G_BB).reshape(p, p)
        XVy = self.Xty - w @ self.G_Bd
        yVy = self.yty - w @ self.G_dd
        try:
            R = np.linalg.cholesky(XVX)  # lower: XVX = R R'
        except np.linalg.LinAlgError:
            return (np.inf, np.zeros_like(theta)) if not full else None
        Rinv = linalg.solve_triangular(R, self.eye_p, lower=True, check_finite=False)
        XVXinv = Rinv.T @ Rinv
        beta = XVXinv @ XVy
        r2 = max(yVy - beta @ XVy, 1e-300)
        dof = self.n - p if self.reml else self.n
        dev = float(self.counts @ logdet) + dof * (1.0 + _LOG_2PI + np.log(r2 / dof))
        if self.reml:
            dev += 2.0 * np.log(np.diag(R)).sum()
        if full:
            return dev, beta, XVXinv, r2 / dof
        bb = np.outer(beta, beta).ravel()
        S = (dof / r2) * -(self.G_dd - 2.0 * self.G_Bd @ beta + self.G_BB @ bb)
        if self.reml:
            S = S - self.G_BB @ XVXinv.ravel()
        S = S.reshape(q, q, G)
        S = 0.5 * (S + S.transpose(1, 0, 2))  # W is symmetric: use the symmetric part
        A = self.counts * self.Ct + S - _mm(_mm(self.Ct, W), S)
        F = 2.0 * _mm(A, _left(L, Minv)).sum(axis=2)
        return dev, F[self.theta_rows, self.theta_cols]


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


def _as_matrix(a, names, what: str) -> tuple[np.ndarray, list[str]]:
    if isinstance(a, pd.DataFrame):
        names = list(map(str, a.columns)) if names is None else list(names)
        a = a.to_numpy(dtype=float)
    a = np.asarray(a, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if names is None:
        names = [f"{what}{k}" for k in range(a.shape[1])]
    if len(names) != a.shape[1]:
        raise SpecError(f"{len(names)} names given for {a.shape[1]} columns of {what}")
    return a, list(names)


def _validate(y, X, subject, Z, fixed_names, random_names):
    problems = []
    n = len(y)
    for name, arr in (("X", X), ("Z", Z)):
        if arr.shape[0] != n:
            problems.append(Problem(f"{name} has {arr.shape[0]} rows but y has {n}"))
    if len(subject) != n:
        problems.append(Problem(f"subject has {len(subject)} entries but y has {n}"))
    if problems:
        raise DataValidationError(problems)
    for name, arr in (("y", y[:, None]), ("X", X), ("Z", Z)):
        bad = ~np.isfinite(arr)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            col = {"X": fixed_names, "Z": random_names}.get(name, ["y"])[c]
            problems.append(Problem(f"{name} must be finite ({int(bad.sum())} non-finite values)",
                                    column=col, row=int(r), value=float(arr[r, c])))
    if problems:
        raise DataValidationError(problems)
    p = X.shape[1]
    if n <= p:
        raise DataValidationError(f"{n} observations cannot estimate {p} fixed effects")
    _, R, piv = linalg.qr(X, mode="economic", pivoting=True)
    tol = np.abs(R[0, 0]) * max(X.shape) * np.finfo(float).eps if p else 0.0
    rank = int((np.abs(np.diag(R)) > tol).sum()) if p else 0
    if rank < p:
        dropped = [fixed_names[k] for k in piv[rank:]]
        raise DataValidationError([Problem("fixed-effects column is a linear combination of the "
                                           "others (rank-deficient design)", column=c)
                                   for c in dropped])


def fit_lmm(y, X, subject, Z=None, method: str = "reml", *, fixed_names=None,
            random_names=None, theta0=None, tol: float = 1e-10) -> LMMResult:
    """Fit a linear mixed model by REML or ML (profiled deviance; see the module docstring).

    Parameters
    ----------
    y : array (n,)
        Outcome.
    X : array (n, p) or DataFrame
        Fixed-effects design matrix (include the intercept column yourself).
    subject : array (n,)
        Subject label of each row (any hashable values; rows need not be sorted).
    Z : array (n, q) or DataFrame, optional
        Random-effects design: ``ones`` (default) for a random intercept,
        ``[1, t]`` for a correlated random intercept and slope.
    method : {"reml", "ml"}
    fixed_names, random_names : list of str, optional
        Column names (taken from DataFrame columns when not given).
    theta0 : array, optional
        Starting relative covariance factor (column-major lower triangle); default identity.
        Pass a previous fit's ``theta`` to warm-start repeated fits.
    tol : float
        Convergence tolerance of the optimiser (relative change in deviance).

    Returns
    -------
    LMMResult

    Notes
    -----
    Fitting is O(n) to set up and O(G q² p²) per deviance evaluation (G distinct visit
    patterns), about 4 ms for 416 subjects × 7 visits.  Loops over many fits should run
    inside :func:`alsstats.inference.threads.single_threaded_blas` (entered once around
    the loop): multi-threaded OpenBLAS makes these small products 3–10× slower.
    """
    method = method.lower()
    if method not in ("reml", "ml"):
        raise SpecError(f"method must be 'reml' or 'ml', not {method!r}")
    y = np.asarray(y, dtype=float).ravel()
    X, fixed_names = _as_matrix(X, fixed_names, "x")
    if Z is None:
        Z = np.ones((len(y), 1))
        random_names = random_names or ["Intercept"]
    Z, random_names = _as_matrix(Z, random_names, "z")
    subject = np.asarray(subject)
    _validate(y, X, subject, Z, fixed_names, random_names)
    labels, codes = np.unique(subject, return_inverse=True)
    q = Z.shape[1]
    # Work with OLS residuals: β̂, r² and the deviance are equivariant/invariant under
    # y → y − Xb, and this removes the cancellation in yᵀV⁻¹y − β̂ᵀXᵀV⁻¹y when the outcome
    # has a large mean relative to its spread (e.g. log volumes).
    beta_ols = linalg.lstsq(X, y)[0]
    prof = _Profile(y - X @ beta_ols, X, codes.ravel(), Z, method == "reml")
    C = prof.C_subject
    scale = np.trace(C, axis1=1, axis2=2) / q
    full_rank = np.linalg.det(C) > 1e-10 * scale ** q
    if not full_rank.any():
        raise DataValidationError(
            f"no subject has enough distinct visits to identify the {q} random effects "
            f"{random_names} (each subject needs ≥ {q} visits with distinct values of the "
            "random-effect columns)")
    n_theta = q * (q + 1) // 2
    diag = np.zeros(n_theta, dtype=bool)
    diag[np.cumsum(np.r_[0, np.arange(q, 1, -1)])] = True
    identity = np.where(diag, 1.0, 0.0)
    if theta0 is not None:
        starts = [np.asarray(theta0, dtype=float)]
        if starts[0].shape != (n_theta,):
            raise SpecError(f"theta0 must have {n_theta} entries")
    else:
        starts = [prof.moment_start(identity)]
    bounds = [(0.0, None) if dg else (None, None) for dg in diag]

    def run(start):
        return optimize.minimize(prof.deviance, start, jac=True, method="L-BFGS-B",
                                 bounds=bounds, options={"ftol": tol, "gtol": 1e-7,
                                                         "maxiter": 500})

    res = run(starts[0])
    n_evals = res.nfev
    # A zero diagonal entry of Λ is a stationary point of the deviance in that entry (the
    # deviance is even in it), where a gradient method can stop although a better
    # optimum exists away from the boundary: restart from other points and keep the best.
    if np.any(res.x[diag] < 1e-4):
        for start in (identity, 0.3 * identity, 3.0 * identity):
            alt = run(start)
            n_evals += alt.nfev
            if alt.fun < res.fun - 1e-9:
                res = alt
    theta = res.x
    grad = prof.deviance(theta)[1]
    at_bound = diag & (theta <= 0.0) & (grad > 0.0)
    projected = np.where(at_bound, 0.0, grad)
    # converged: the optimiser says so, or the projected gradient is below lme4's documented
    # default tolerance for its gradient check (0.002, ?lme4::lmerControl "check.conv.grad")
    converged = bool(res.success or np.max(np.abs(projected)) < 2e-3)
    dev, beta, XVXinv, sigma2 = prof.deviance(theta, full=True)
    fixed_cov = sigma2 * XVXinv
    L = prof.lam(theta)
    W = prof.subject_W(theta)
    resid = prof.d - np.einsum("iak,a->ik", prof.B, beta)
    beta = beta + beta_ols
    blup = np.einsum("ikl,il->ik", W, resid)
    singular = bool(np.any(theta[diag] < 1e-4))
    return LMMResult(
        method=method, fixed_names=fixed_names, fixed=beta, fixed_cov=fixed_cov,
        random_names=random_names, random_cov=sigma2 * (L @ L.T), sigma=float(np.sqrt(sigma2)),
        theta=theta, deviance=float(dev), n_obs=len(y), n_subjects=len(labels),
        converged=converged, singular=singular, message=str(res.message),
        n_evaluations=int(n_evals), subjects=labels, random_effects=blup,
        random_effects_cov=sigma2 * W)


def fit_lmm_formula(formula: str, data: pd.DataFrame, method: str = "reml", **kwargs
                    ) -> LMMResult:
    """Fit ``"y ~ fixed terms + (t | subject)"`` on a table (see :mod:`.formula`).

    Rows missing any used column are dropped.  Extra keyword arguments go to :func:`fit_lmm`.
    """
    from alsstats.models.lmm.formula import design_matrices, parse_formula

    f = parse_formula(formula)
    if f.subject is None:
        raise SpecError(f"formula {formula!r} has no random-effects term '(... | subject)'")
    d = design_matrices(f, data)
    return fit_lmm(d.y, d.X, d.subject, d.Z, method, fixed_names=d.fixed_names,
                   random_names=d.random_names, **kwargs)


def likelihood_ratio_test(reduced: LMMResult, full: LMMResult) -> LRTResult:
    """Likelihood-ratio test of ``reduced`` nested in ``full``: χ² on the parameter difference.

    Both fits must be ML unless they share their fixed effects (REML likelihoods of
    different fixed-effect designs are not comparable).  When the test removes a
    variance component, the null value is on the boundary and the χ² p-value is
    conservative (the reference is a χ² mixture; Self & Liang 1987).
    """
    if reduced.n_obs != full.n_obs:
        raise SpecError("the two fits use different observations")
    if (reduced.method == "reml" or full.method == "reml") and (
            reduced.fixed_names != full.fixed_names or reduced.method != full.method):
        raise SpecError("compare models with different fixed effects by ML fits (method='ml')")
    df = full.n_params - reduced.n_params
    if df <= 0:
        raise SpecError("the full model must have more parameters than the reduced one")
    stat = max(reduced.deviance - full.deviance, 0.0)
    return LRTResult(float(stat), int(df), float(stats.chi2.sf(stat, df)))
