r"""Satterthwaite degrees of freedom for fixed-effect contrasts of a REML/ML fit.

For a contrast :math:`c^\top\beta` with variance :math:`v(\psi) = c^\top\Phi(\psi)c`,
:math:`\Phi(\psi) = \sigma^2(X^\top\tilde V_\theta^{-1}X)^{-1}`, as a function of the
variance parameters :math:`\psi = (\theta, \sigma)`,

.. math::

    \nu_c = \frac{2\,v(\hat\psi)^2}{g^\top A\, g},\qquad
    g = \nabla_\psi v(\hat\psi),\qquad A = 2H^{-1},

where :math:`H` is the Hessian of the (unprofiled) deviance :math:`-2\ell(\psi)` at the
optimum, so :math:`A` is the asymptotic covariance of :math:`\hat\psi` (Satterthwaite
1946; Giesbrecht & Burns 1985; the parametrisation of Kuznetsova, Brockhoff & Christensen
2017, *J. Stat. Softw.* 82(13), implemented here from the formulas, no lmerTest code).
:math:`H` and :math:`\partial\Phi/\partial\psi_j` are central finite differences (steps
:math:`10^{-3}\max(|\psi_j|, 0.1)` on the standardised scale, where ψ is O(1)).  Entries of θ
fixed at 0 by a boundary (singular) fit are held fixed: they are not estimated.
"""

from __future__ import annotations

import numpy as np

__all__ = ["satterthwaite_df", "varpar_information"]


def varpar_information(prof, theta: np.ndarray, sigma: float, free: np.ndarray):
    """A = 2H⁻¹ (covariance of ψ̂) and ∂Φ/∂ψ_j, shape (k, p, p), on the profile's scale.

    ``free`` marks the θ entries that were estimated; σ is always free.
    """
    idx = np.flatnonzero(free)
    psi = np.r_[theta[idx], sigma]
    k = len(psi)
    h = 1e-3 * np.maximum(np.abs(psi), 0.1)

    def at(v):
        th = theta.copy()
        th[idx] = v[:-1]
        return th, v[-1]

    def f(v):
        th, s = at(v)
        return prof.unprofiled(th, s)

    f0 = f(psi)
    H = np.empty((k, k))
    E = np.diag(h)
    for a in range(k):
        H[a, a] = (f(psi + E[a]) - 2.0 * f0 + f(psi - E[a])) / h[a] ** 2
        for b in range(a):
            H[a, b] = H[b, a] = (f(psi + E[a] + E[b]) - f(psi + E[a] - E[b])
                                 - f(psi - E[a] + E[b]) + f(psi - E[a] - E[b])) / (4 * h[a] * h[b])
    A = 2.0 * np.linalg.pinv(H)
    jac = np.stack([(prof.fixed_cov(*at(psi + E[a])) - prof.fixed_cov(*at(psi - E[a])))
                    / (2.0 * h[a]) for a in range(k)])
    return A, jac


def satterthwaite_df(L: np.ndarray, fixed_cov: np.ndarray, varpar_cov: np.ndarray | None,
                     fixed_cov_jac: np.ndarray | None) -> np.ndarray:
    """Satterthwaite df of each row contrast of ``L`` (p,) or (m, p); ∞ when unavailable."""
    L = np.atleast_2d(np.asarray(L, dtype=float))
    if varpar_cov is None or fixed_cov_jac is None:
        return np.full(len(L), np.inf)
    v = np.einsum("mi,ij,mj->m", L, fixed_cov, L)
    g = np.einsum("mi,kij,mj->mk", L, fixed_cov_jac, L)
    denom = np.einsum("mk,kl,ml->m", g, varpar_cov, g)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = 2.0 * v ** 2 / denom
    return np.where(np.isfinite(df) & (df > 0), df, np.inf)
