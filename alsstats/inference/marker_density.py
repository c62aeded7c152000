r"""Class-conditional densities of observed markers, vectorised over posterior draws.

The diagnostic model's markers of class :math:`k` have location :math:`m_k` (class
location, covariates and site) and scale matrix :math:`\Sigma_k`; the distribution is
one of (``[model] marker_distribution``):

* ``normal``: :math:`y \sim N(m_k, \Sigma_k)`;
* ``student_t``: multivariate Student-t with :math:`\nu_k` degrees of freedom,

  .. math::

      \log p(y) = \log\Gamma\big(\tfrac{\nu+p}{2}\big) - \log\Gamma\big(\tfrac{\nu}{2}\big)
      - \tfrac p2 \log(\nu\pi) - \tfrac12\log|\Sigma| - \tfrac{\nu+p}{2}
      \log\big(1 + \delta/\nu\big),\qquad \delta = r^\top\Sigma^{-1}r,

  with :math:`r = y - m_k` and :math:`p` the number of observed markers;
* ``skew_normal``: multivariate skew-normal in the convolution form
  :math:`y = m_k + \lambda_k |U_0| + \varepsilon`, :math:`U_0 \sim N(0, 1)`,
  :math:`\varepsilon \sim N(0, \Sigma_k)` (:math:`\Sigma_k` plays the role of
  :math:`\Psi`), whose density is

  .. math::

      p(y) = 2\,\phi_p(y; m_k, \Omega_k)\;
      \Phi\!\Big(\frac{\lambda_k^\top\Omega_k^{-1} r}
      {\sqrt{1 - \lambda_k^\top\Omega_k^{-1}\lambda_k}}\Big),\qquad
      \Omega_k = \Sigma_k + \lambda_k\lambda_k^\top .

  :math:`1 - \lambda^\top\Omega^{-1}\lambda = 1/(1 + \lambda^\top\Sigma^{-1}\lambda) > 0`
  for every :math:`\lambda`.

All three are closed under marginalisation: the observed sub-vector :math:`o` has the
same family with :math:`m_{k,o}`, :math:`\Sigma_{k,oo}` and :math:`\lambda_{k,o}` (and
the same :math:`\nu_k`), so a patient's missing markers are integrated out exactly.

A site not seen in training adds :math:`u \sim N(0, T)`, :math:`T =
\operatorname{diag}(\tau^2)`, to the markers.  For the normal and the skew-normal this
adds :math:`T` to :math:`\Sigma_k` (exact: :math:`\varepsilon + u` is normal).  For the
Student-t, written as a scale mixture :math:`y = m_k + \varepsilon/\sqrt W + u`,
:math:`W \sim \mathrm{Gamma}(\nu/2, \nu/2)`,

.. math::

    p(y) = \int_{-\infty}^{\infty} N\big(y;\, m_k,\, \Sigma_k e^{-t} + T\big)\,
    g_\nu(e^t)\, e^t\, dt,

with :math:`g_\nu` the Gamma(:math:`\nu/2`, rate :math:`\nu/2`) density; on the log
scale the integrand is smooth and decays exponentially at both ends, so the trapezoid
rule on :data:`QUADRATURE_NODES` equally spaced points between the
:math:`10^{-30}` and :math:`1 - 10^{-30}` quantiles of :math:`W` agrees with adaptive
integration to a relative 1e-8 for nu from 2.01 to 80 (tests/models/test_diagnostic_robust.py;
128 nodes were off by 8e-7 at nu = 2.01, where the range of log W is widest).
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.special import gammaln, log_ndtr, logsumexp

__all__ = ["QUADRATURE_NODES", "log_density", "mixing_nodes", "sample_noise",
           "unseen_site_log_density"]

#: Trapezoid nodes (log scale of the mixing variable) of the Student-t unseen-site integral.
QUADRATURE_NODES = 256
_TAIL = 1e-30
_LOG_2PI = float(np.log(2 * np.pi))
_LOG_2 = float(np.log(2.0))


def log_density(resid: np.ndarray, cov: np.ndarray, nu: np.ndarray | None = None,
                skew: np.ndarray | None = None) -> np.ndarray:
    """Log density of residuals from the class locations, per draw, class and row.

    Parameters
    ----------
    resid
        (D, K, r, m) observed markers minus the class locations.
    cov
        (D, G, m, m) scale matrices of the observed markers, G = K (one per class) or
        G = 1 (shared by the classes).
    nu
        (D, K) Student-t degrees of freedom, or ``None``.
    skew
        (D, K, m) skew-normal :math:`\\lambda` of the observed markers, or ``None``
        (normal when both are ``None``).

    Returns
    -------
    ndarray
        (D, K, r) log densities (module docstring).
    """
    m = resid.shape[-1]
    if skew is not None:
        cov = cov + skew[..., :, None] * skew[..., None, :]                # (D, K, m, m)
    chol = np.linalg.cholesky(cov)                                         # (D, G, m, m)
    if cov.shape[1] == 1:
        z = np.einsum("dab,dkrb->dkra", np.linalg.inv(chol[:, 0]), resid)
    else:
        z = np.linalg.solve(chol[:, :, None], resid[..., None])[..., 0]   # (D, K, r, m)
    logdet = np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(-1)[:, :, None]   # (D, G, 1)
    delta = (z**2).sum(-1)
    if nu is not None:
        v = nu[:, :, None]
        return (gammaln((v + m) / 2) - gammaln(v / 2) - 0.5 * m * np.log(v * np.pi)
                - logdet - 0.5 * (v + m) * np.log1p(delta / v))
    out = -0.5 * delta - logdet - 0.5 * m * _LOG_2PI
    if skew is not None:
        a = np.linalg.solve(chol, skew[..., None])[..., 0]                # (D, K, m)
        shape = np.einsum("dkm,dkrm->dkr", a, z) / np.sqrt(1 - (a**2).sum(-1))[:, :, None]
        out = out + _LOG_2 + log_ndtr(shape)
    return out


def unseen_site_log_density(resid: np.ndarray, cov: np.ndarray, site_var: np.ndarray,
                            nu: np.ndarray | None = None,
                            skew: np.ndarray | None = None) -> np.ndarray:
    """:func:`log_density` at a site not seen in training (offset integrated out).

    ``site_var`` (D, m) is :math:`\\tau^2` of the observed markers; see the module
    docstring for the Student-t integral.
    """
    extra = np.einsum("dm,mn->dmn", site_var, np.eye(site_var.shape[-1]))[:, None]
    if nu is None:
        return log_density(resid, cov + extra, skew=skew)
    t, log_mix = mixing_nodes(nu)                                        # (D, K, Q)
    full = np.broadcast_to(cov, (*nu.shape, *cov.shape[2:]))
    terms = np.stack([log_density(resid, full * np.exp(-t[:, :, j, None, None]) + extra)
                      + log_mix[:, :, j, None] for j in range(QUADRATURE_NODES)], axis=-1)
    return logsumexp(terms, axis=-1)


def mixing_nodes(nu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trapezoid nodes ``t`` = log W and log weights (..., Q) of the Student-t unseen-site
    integral (module docstring): weight times Gamma density times the Jacobian e^t."""
    shape, rate = nu / 2, nu / 2
    lo = np.log(stats.gamma.ppf(_TAIL, shape, scale=1 / rate))
    hi = np.log(stats.gamma.isf(_TAIL, shape, scale=1 / rate))
    frac = np.linspace(0.0, 1.0, QUADRATURE_NODES)
    t = lo[..., None] + (hi - lo)[..., None] * frac
    step = (hi - lo) / (QUADRATURE_NODES - 1)
    log_mix = (stats.gamma.logpdf(np.exp(t), shape[..., None], scale=1 / rate[..., None])
               + t + np.log(step)[..., None])
    log_mix[..., [0, -1]] += np.log(0.5)
    return t, log_mix


def sample_noise(rng: np.random.Generator, chol: np.ndarray, nu: np.ndarray | None = None,
                 skew: np.ndarray | None = None) -> np.ndarray:
    """Draws of the markers minus the class location (posterior predictive sampling).

    ``chol`` (..., m, m) Cholesky factors of the scale matrices; ``nu`` (...) and
    ``skew`` (..., m) broadcast against its leading axes.  Normal:
    :math:`L z`; Student-t: :math:`L z / \\sqrt W`, :math:`W \\sim
    \\mathrm{Gamma}(\\nu/2, \\nu/2)`; skew-normal: :math:`L z + \\lambda |U_0|`.
    """
    noise = np.einsum("...ab,...b->...a", chol, rng.standard_normal(chol.shape[:-1]))
    if nu is not None:
        noise = noise / np.sqrt(rng.gamma(nu / 2, 2 / nu))[..., None]
    if skew is not None:
        noise = noise + skew * np.abs(rng.standard_normal(skew.shape[:-1]))[..., None]
    return noise
