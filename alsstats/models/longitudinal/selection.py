r"""Per-subject log-likelihood of the Bayesian longitudinal model and the LOO choice of
group-specific random-effect covariances.

Pointwise log-likelihood: for each posterior draw and subject *i*, the marginal density
of the subject's visit vector with the random effects integrated out,
:math:`\log p(y_i\mid\theta) = -\tfrac12[m_i\log 2\pi + \log|V_i| + \delta_i]` (normal) or
the multivariate-t density (Student-t residuals), with exactly the algebra of
:mod:`alsstats.models.longitudinal.graph` (the sum over subjects equals the model's
likelihood term).  The unit of leave-one-out is the subject, so PSIS-LOO (Vehtari,
Gelman & Gabry 2017) estimates the predictive accuracy for a new subject's trajectory.

Choice (``group_variances = "auto"``, Bayesian fits): both the shared and the per-group
model are fitted; per-group is kept when its expected log predictive density is higher
by more than two standard errors of the difference (otherwise the simpler shared model):
the rule of :mod:`alsstats.inference.loo_choice`.
"""

from __future__ import annotations

import numpy as np

from alsstats.inference.loo_choice import ELPD_SE_MARGIN, elpd_difference, prefers_richer
from alsstats.models.longitudinal.data import LongData
from alsstats.models.longitudinal.posterior import _fixed_mean, _per_subject

__all__ = ["ELPD_SE_MARGIN", "choose_by_loo", "pointwise_loglik"]

_LOG_2PI = np.log(2.0 * np.pi)


def pointwise_loglik(std: dict[str, np.ndarray], data: LongData, chunk: int = 250
                     ) -> np.ndarray:
    """log p(y_i | draw), shape (D, N), on the standardised scale (see the module docstring)."""
    from scipy.special import gammaln

    D, N = len(std["sigma"]), data.n_subjects
    out = np.empty((D, N))
    m = data.mask.sum(axis=1)
    W, T = data.mask[None], data.T[None]
    for start in range(0, D, chunk):
        sl = slice(start, min(start + chunk, D))
        r = (data.Y[None] - _fixed_mean(std, data, sl)) * W
        s2 = std["sigma"][sl][:, None] ** 2
        t0 = _per_subject(std["tau0"], sl, data.group_idx)
        s0, rr = r.sum(-1), (r * r).sum(-1)
        if "tau1" in std:
            t1 = _per_subject(std["tau1"], sl, data.group_idx)
            rho = _per_subject(std["rho"], sl, data.group_idx)
            one_m = 1.0 - rho ** 2
            p00 = 1.0 / (t0 ** 2 * one_m) + m / s2
            p11 = 1.0 / (t1 ** 2 * one_m) + (W * T ** 2).sum(-1) / s2
            p01 = -rho / (t0 * t1 * one_m) + (W * T).sum(-1) / s2
            s1 = (T * r).sum(-1)
            det_p = p00 * p11 - p01 ** 2
            quad = (p11 * s0 ** 2 - 2.0 * p01 * s0 * s1 + p00 * s1 ** 2) / det_p
            logdet_omega = 2.0 * np.log(t0) + 2.0 * np.log(t1) + np.log(one_m)
        else:
            det_p = 1.0 / t0 ** 2 + m / s2
            quad = s0 ** 2 / det_p
            logdet_omega = 2.0 * np.log(t0)
        logdet_v = m * np.log(s2) + logdet_omega + np.log(det_p)
        mahal = rr / s2 - quad / s2 ** 2
        if "nu" in std:
            nu = std["nu"][sl][:, None]
            out[sl] = (gammaln((nu + m) / 2.0) - gammaln(nu / 2.0) - 0.5 * m * np.log(nu * np.pi)
                       - 0.5 * logdet_v - 0.5 * (nu + m) * np.log1p(mahal / nu))
        else:
            out[sl] = -0.5 * (m * _LOG_2PI + logdet_v + mahal)
    return out


def choose_by_loo(candidates: dict) -> dict:
    """PSIS-LOO of each candidate, ``{"shared" | "per_group": (loglik (D, N), posterior)}``
    (the posterior's chains give the relative ESS); the choice and the numbers (ELPD, SE,
    difference and its SE, max Pareto k)."""
    import arviz as az
    import xarray as xr

    res = {}
    for name, (ll, posterior) in candidates.items():
        n_chains = int(posterior.sizes["chain"])
        arr = xr.DataArray(ll.reshape(n_chains, -1, ll.shape[1]),
                           dims=("chain", "draw", "subject"))
        idata = az.InferenceData(posterior=posterior,
                                 log_likelihood=xr.Dataset({"y": arr}))
        res[name] = az.loo(idata, pointwise=True)
    d, se = elpd_difference(res["shared"].loo_i.values, res["per_group"].loo_i.values)
    chosen = "per_group" if prefers_richer(d, se) else "shared"
    return {"group_variances": chosen, "elpd_diff_per_group_minus_shared": d,
            "se_diff": se, "margin_se": ELPD_SE_MARGIN,
            "loo": {k: {"elpd": float(v.elpd_loo), "se": float(v.se),
                        "max_pareto_k": float(v.pareto_k.max())} for k, v in res.items()}}
