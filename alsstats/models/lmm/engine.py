r"""Linear mixed models by REML or ML with one grouping factor (subjects).

The model and the profiled deviance are in :mod:`.profile`; this module fits them.

Scaling.  The fit works on a standardised problem and transforms back exactly: the
outcome's OLS residual ``y − Xβ_ols`` is divided by its SD :math:`s_y`, every fixed-effect
column by its root mean square :math:`D_j` and every random-effect column by its root
mean square :math:`E_k`.  Then :math:`\beta = \beta_{ols} + s_y D^{-1}\beta'`,
:math:`\mathrm{cov}(\hat\beta) = s_y^2 D^{-1}\mathrm{cov}(\hat\beta')D^{-1}`,
:math:`\sigma = s_y\sigma'`, :math:`\Lambda = E^{-1}\Lambda'` (so
:math:`\Omega = s_y^2E^{-1}\Omega'E^{-1}`), :math:`b_i = s_y E^{-1}b_i'`, and the deviance
is :math:`d = d' + 2\nu\log s_y + 2\sum_j\log D_j` (the last term for REML only; ν = n − p
for REML, n for ML).  Every estimate is therefore the same, up to the exact
transformation, whatever the units of outcome, time or covariates.

Optimisation.  θ is optimised with L-BFGS-B (Λ diagonals ≥ 0) from several starts: the
two-stage moment estimate (per variance group) and Λ = I, and when these two disagree
also 0.3 I and 3 I.  A zero diagonal
of Λ is a stationary point of the deviance (it is even in each diagonal entry), so the
best interior optimum is then compared with the optimum on every boundary face (one
diagonal entry of Λ fixed at 0: correlation ±1 or a zero SD) and with θ = 0, and the
lowest deviance wins.  The fit is *singular* (as lme4's ``isSingular``) when a diagonal
entry of the standardised Λ' is below 1e-4: a boundary fit, reported as such, never as
plain convergence.

Inference.  :math:`\widehat{\mathrm{cov}}(\hat\beta) = \hat\sigma^2(X^\top\tilde V^{-1}X)^{-1}`;
t statistics with Satterthwaite degrees of freedom (:mod:`.satterthwaite`).  Conditional
modes :math:`\hat b_i = W_i(d_i - B_i^\top\hat\beta)` with conditional covariance
:math:`\sigma^2W_i`; jointly with β (flat prior on β, variance parameters fixed),
:math:`b_i \mid \beta, y \sim N(\hat b_i - K_i(\beta-\hat\beta),\ \sigma^2W_i)`,
:math:`K_i = W_iB_i^\top` (``random_effects_gain``), whose marginal covariance
:math:`\sigma^2W_i + K_i\,\mathrm{cov}(\hat\beta)K_i^\top` is Henderson's prediction-error
covariance of :math:`\hat b_i - b_i`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

from alsstats.errors import DataValidationError, Problem, SpecError
from alsstats.models.lmm.profile import _Profile
from alsstats.models.lmm.result import LMMResult, LRTResult
from alsstats.models.lmm.satterthwaite import satterthwaite_df, varpar_information

__all__ = ["LMMResult", "LRTResult", "fit_lmm", "fit_lmm_formula", "likelihood_ratio_test"]

#: lme4's tolerance for a singular fit (``isSingular(tol = 1e-4)``), on the standardised Λ'.
SINGULAR_TOL = 1e-4


def _rms(a: np.ndarray) -> np.ndarray:
    s = np.sqrt((a * a).mean(axis=0))
    return np.where(s > 0, s, 1.0)


def _variance_groups(variance_group, codes, n_subjects, n):
    """Per-subject variance-group index and the group labels (constant within subject)."""
    if variance_group is None:
        return np.zeros(n_subjects, dtype=int), ["all"]
    vg = np.asarray(variance_group)
    if len(vg) != n:
        raise DataValidationError(f"variance_group has {len(vg)} entries but y has {n}")
    names, vcode = np.unique(vg.astype(str), return_inverse=True)
    per_subject = np.full(n_subjects, -1)
    per_subject[codes] = vcode
    if np.any(per_subject[codes] != vcode.ravel()):
        raise DataValidationError("variance_group changes within a subject")
    return per_subject, [str(x) for x in names]


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
            random_names=None, variance_group=None, theta0=None, tol: float = 1e-10,
            satterthwaite: bool = True) -> LMMResult:
    """Fit a linear mixed model by REML or ML (see the module docstring and :mod:`.profile`).

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
    variance_group : array (n,), optional
        Label of each row's variance group (constant within a subject): each group gets
        its own random-effects covariance Ω_k (e.g. a larger slope SD in patients), as
        lme4 ``(0 + g1 + g1:t | s) + (0 + g2 + g2:t | s)`` or nlme with a group-specific
        ``pdMat``.  Default: one Ω for all subjects.
    theta0 : array, optional
        An extra starting θ (natural scale, as ``LMMResult.theta``), e.g. a previous fit's.
    tol : float
        Convergence tolerance of the optimiser (relative change in deviance).
    satterthwaite : bool
        Compute the Satterthwaite degrees of freedom (a few hundred deviance evaluations;
        switch off in simulation loops that only need estimates).

    Returns
    -------
    LMMResult

    Notes
    -----
    Fitting is O(n) to set up and O(G q² p²) per deviance evaluation (G distinct
    (variance group, visit pattern) pairs).  Loops over many fits should run inside
    :func:`alsstats.inference.threads.single_threaded_blas` (entered once around the
    loop): multi-threaded OpenBLAS makes these small products 3–10× slower.
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
    codes = codes.ravel()
    vgroup, vnames = _variance_groups(variance_group, codes, len(labels), len(y))
    q = Z.shape[1]
    # Standardise (module docstring).  The OLS residual also removes the cancellation in
    # yᵀV⁻¹y − β̂ᵀXᵀV⁻¹y when the outcome has a large mean relative to its spread.
    beta_ols = linalg.lstsq(X, y)[0]
    resid = y - X @ beta_ols
    s_y = float(resid.std()) or 1.0
    D, E = _rms(X), _rms(Z)
    prof = _Profile(resid / s_y, X / D, codes, Z / E, method == "reml", vgroup)
    C = prof.C_subject
    scale = np.trace(C, axis1=1, axis2=2) / q
    full_rank = np.linalg.det(C) > 1e-10 * scale ** q
    if not full_rank.any():
        raise DataValidationError(
            f"no subject has enough distinct visits to identify the {q} random effects "
            f"{random_names} (each subject needs ≥ {q} visits with distinct values of the "
            "random-effect columns)")
    res, n_evals = _optimise(prof, theta0, E, tol)
    theta = res.x
    diag = prof.diag
    grad = prof.deviance(theta)[1]
    at_bound = diag & (theta <= 0.0) & (grad > 0.0)
    projected = np.where(at_bound | res.fixed, 0.0, grad)
    # converged: the optimiser says so, or the projected gradient is below lme4's documented
    # default tolerance for its gradient check (0.002, ?lme4::lmerControl "check.conv.grad")
    converged = bool(res.success or np.max(np.abs(projected)) < 2e-3)
    singular = bool(np.any(theta[diag] < SINGULAR_TOL))
    dev, beta_s, XVXinv, sigma2_s = prof.deviance(theta, full=True)
    fixed_cov_s = sigma2_s * XVXinv
    varpar_cov = fixed_cov_jac = None
    if satterthwaite:
        varpar_cov, jac_s = varpar_information(prof, theta, np.sqrt(sigma2_s), ~res.fixed)
        fixed_cov_jac = s_y ** 2 * jac_s / np.outer(D, D)
    W = prof.subject_W(theta)
    blup = s_y * np.einsum("ikl,il->ik", W, prof.d - np.einsum("iak,a->ik", prof.B, beta_s)) / E
    gain = np.einsum("ikl,ial->ika", W, prof.B) * D / E[:, None]
    Lam = prof.lam(theta) / E[None, :, None]
    sigma2 = s_y ** 2 * sigma2_s
    random_cov = sigma2 * Lam @ Lam.transpose(0, 2, 1)
    fixed_cov = s_y ** 2 * fixed_cov_s / np.outer(D, D)
    dof = prof.dof
    dev = dev + 2.0 * dof * np.log(s_y) + (2.0 * np.log(D).sum() if method == "reml" else 0.0)
    K = len(vnames)
    theta_nat = Lam[:, prof.theta_rows, prof.theta_cols].ravel()
    return LMMResult(
        method=method, fixed_names=fixed_names, fixed=beta_ols + s_y * beta_s / D,
        fixed_cov=fixed_cov, random_names=random_names,
        random_cov=random_cov[0] if K == 1 else random_cov, sigma=float(np.sqrt(sigma2)),
        theta=theta_nat, deviance=float(dev), n_obs=len(y), n_subjects=len(labels),
        converged=converged, singular=singular, message=str(res.message),
        n_evaluations=int(n_evals), subjects=labels, random_effects=blup,
        random_effects_cov=sigma2 * W / np.outer(E, E),
        fixed_df=satterthwaite_df(np.eye(len(beta_s)), fixed_cov, varpar_cov, fixed_cov_jac),
        varpar_cov=varpar_cov, fixed_cov_jac=fixed_cov_jac, random_effects_gain=gain,
        variance_groups=vnames, subject_variance_group=vgroup)


def _optimise(prof: _Profile, theta0, E: np.ndarray, tol: float):
    """Best of several starts, then of the boundary faces (module docstring).

    Returns the scipy result (with a boolean ``fixed`` mask of θ entries held at 0) and
    the number of deviance evaluations.
    """
    diag = prof.diag
    identity = np.where(diag, 1.0, 0.0)
    starts = [prof.moment_start(identity), identity, 0.3 * identity, 3.0 * identity]
    if theta0 is not None:
        t0 = np.asarray(theta0, dtype=float)
        if t0.shape != identity.shape:
            raise SpecError(f"theta0 must have {len(identity)} entries")
        lam = prof.lam(t0) * E[None, :, None]
        starts.insert(0, lam[:, prof.theta_rows, prof.theta_cols].ravel())
    no_fix = np.zeros(len(identity), dtype=bool)

    def run(start, fixed):
        bounds = [(0.0, 0.0) if f else ((0.0, None) if dg else (None, None))
                  for f, dg in zip(fixed, diag, strict=True)]
        start = np.where(fixed, 0.0, start)
        r = optimize.minimize(prof.deviance, start, jac=True, method="L-BFGS-B",
                              bounds=bounds, options={"ftol": tol, "gtol": 1e-7,
                                                      "maxiter": 1000})
        r.fixed = fixed
        return r

    best, n_evals = None, 0
    found = []
    for k, start in enumerate(starts):
        # the scaled starts only when the first two disagree (a second local optimum)
        if k >= len(starts) - 2 and len(found) >= 2 and np.ptp(found) < 1e-6:
            break
        r = run(start, no_fix)
        n_evals += r.nfev
        found.append(r.fun)
        if best is None or r.fun < best.fun - 1e-9:
            best = r
    faces = [np.arange(len(diag)) == j for j in np.flatnonzero(diag)] + [~no_fix]
    interior = best
    for fixed in faces:
        start = np.where(diag & ~fixed, np.maximum(interior.x, 0.1), interior.x)
        r = run(start, fixed)
        n_evals += r.nfev
        if r.fun < best.fun - 1e-9:
            best = r
    return best, n_evals


def fit_lmm_formula(formula: str, data: pd.DataFrame, method: str = "reml", *,
                    variance_group: str | None = None, **kwargs) -> LMMResult:
    """Fit ``"y ~ fixed terms + (t | subject)"`` on a table (see :mod:`.formula`).

    ``variance_group`` names a column (constant within subject) whose levels get their
    own random-effects covariance.  Rows missing any used column are dropped.  Extra
    keyword arguments go to :func:`fit_lmm`.
    """
    from alsstats.models.lmm.formula import design_matrices, parse_formula

    f = parse_formula(formula)
    if f.subject is None:
        raise SpecError(f"formula {formula!r} has no random-effects term '(... | subject)'")
    if variance_group is not None and variance_group not in data.columns:
        raise DataValidationError([Problem("variance_group column is missing",
                                           column=variance_group)])
    d = design_matrices(f, data)
    vg = None if variance_group is None else data[variance_group].to_numpy()[d.rows]
    return fit_lmm(d.y, d.X, d.subject, d.Z, method, fixed_names=d.fixed_names,
                   random_names=d.random_names, variance_group=vg, **kwargs)


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
