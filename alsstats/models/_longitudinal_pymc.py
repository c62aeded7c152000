r"""The PyMC longitudinal model with the subject random effects integrated out.

On the standardised scale (see :mod:`alsstats.models._longitudinal_data`), subject *i*
in group *g* with visits at times :math:`t_{ij}`:

.. math::

    \mu_{ij} = a_g + b_g t_{ij} + c^\top x_i + s_{site(ij)},\qquad
    y_i \sim \mathrm{MVN}\!\left(\mu_i,\ Z_i\Omega Z_i^\top + \sigma^2 D_i\right),
    \qquad Z_i = [1, t_i],

with :math:`D_i = I` (normal residuals) or :math:`D_i = \mathrm{diag}(1/\lambda_{ij})`,
:math:`\lambda_{ij}\sim\mathrm{Gamma}(\nu/2, \nu/2)` (Student-t residuals as a
per-observation scale mixture: marginally each residual is :math:`t_\nu(0,\sigma)`).
:math:`\Omega` has SDs :math:`\tau_0, \tau_1` and correlation :math:`\rho`.  The log
density uses the Woodbury identity and the determinant lemma per subject, with
:math:`P_i = \Omega^{-1} + Z_i^\top D_i^{-1} Z_i/\sigma^2`, :math:`s_i = Z_i^\top
D_i^{-1} r_i`, :math:`r_i = y_i - \mu_i`:

.. math::

    \log p(y_i) = -\tfrac12\left[m_i\log 2\pi + \log|\sigma^2 D_i| + \log|\Omega| + \log|P_i|
        + r_i^\top D_i^{-1} r_i/\sigma^2 - s_i^\top P_i^{-1} s_i/\sigma^4\right].

Everything is element-wise over subjects (closed-form 2×2 algebra), so the cost is
linear in the number of visits and no per-pattern MVN terms are needed.  Site offsets
are non-centred: :math:`s = \tau_{site} z`, :math:`z\sim N(0, 1)`.
"""

from __future__ import annotations

import warnings

import numpy as np

from alsstats.models._longitudinal_data import LongData
from alsstats.models.longitudinal_spec import LongitudinalSpec

__all__ = ["build_model", "data_arrays", "model_signature", "sample_model"]

_LOG_2PI = float(np.log(2 * np.pi))


def data_arrays(data: LongData) -> dict[str, np.ndarray]:
    """The arrays the compiled model reads (swappable with ``with_data``)."""
    return {"Y": data.Y, "T": data.T, "mask": data.mask, "group_idx": data.group_idx,
            "site_idx": data.site_idx, "X": data.X}


def model_signature(data: LongData, spec: LongitudinalSpec) -> tuple:
    """Structure that decides the parameter shapes: equal signatures can share a compiled model."""
    n_obs = data.n_obs if spec.residual == "student_t" else None
    return (spec.to_json(), len(data.groups), len(data.sites), data.X.shape[1], n_obs)


def build_model(data: LongData, spec: LongitudinalSpec):
    """The PyMC model for ``data`` under ``spec`` (see the module docstring)."""
    import pymc as pm
    import pytensor.tensor as pt

    pr = spec.priors
    G, S, k = len(data.groups), len(data.sites), data.X.shape[1]
    with pm.Model() as model:
        d = {name: pm.Data(name, value) for name, value in data_arrays(data).items()}
        Y, T, W = d["Y"], d["T"], d["mask"]
        n_a = G if spec.group_intercepts else 1
        a = pm.Normal("a", 0.0, pr["intercept_sd"], shape=n_a)
        b = pm.Normal("b", 0.0, pr["slope_sd"], shape=G)
        a_i = a[d["group_idx"]] if spec.group_intercepts else a[0]
        mu = a_i[:, None] if spec.group_intercepts else a_i
        mu = mu + b[d["group_idx"]][:, None] * T
        if k:
            c = pm.Normal("c", 0.0, pr["covariate_sd"], shape=k)
            mu = mu + pt.dot(d["X"], c)[:, None]
        if S >= 2:
            site_sd = pm.HalfNormal("site_sd", pr["site_sd_scale"])
            site_z = pm.Normal("site_z", 0.0, 1.0, shape=S)
            mu = mu + (site_sd * site_z)[d["site_idx"]]
        sigma = pm.HalfNormal("sigma", pr["sigma_scale"])
        tau0 = pm.HalfNormal("tau0", pr["sd_intercept_scale"])
        r = (Y - mu) * W
        logdet_d = pt.sum(W, axis=1) * 2.0 * pt.log(sigma)
        w = W
        if spec.residual == "student_t":
            nu = pm.Gamma("nu", 2.0, pr["nu_rate"])
            obs = np.nonzero(data.mask)
            lam = pm.Gamma("lam", nu / 2.0, nu / 2.0, shape=len(obs[0]))
            w = pt.set_subtensor(pt.zeros_like(W)[obs], lam)
            logdet_d = logdet_d - pt.sum(pt.log(lam))
        s2 = sigma ** 2
        s0 = pt.sum(w * r, axis=1)
        rr = pt.sum(w * r * r, axis=1)
        c00 = pt.sum(w, axis=1)
        if spec.random_slope:
            tau1 = pm.HalfNormal("tau1", pr["sd_slope_scale"])
            rho_raw = pm.Beta("rho_raw", pr["lkj_eta"], pr["lkj_eta"])
            rho = pm.Deterministic("rho", 2.0 * rho_raw - 1.0)
            one_m = 1.0 - rho ** 2
            o00, o11 = 1.0 / (tau0 ** 2 * one_m), 1.0 / (tau1 ** 2 * one_m)
            o01 = -rho / (tau0 * tau1 * one_m)
            s1 = pt.sum(w * T * r, axis=1)
            c01, c11 = pt.sum(w * T, axis=1), pt.sum(w * T * T, axis=1)
            p00, p01, p11 = o00 + c00 / s2, o01 + c01 / s2, o11 + c11 / s2
            det_p = p00 * p11 - p01 ** 2
            quad = (p11 * s0 ** 2 - 2.0 * p01 * s0 * s1 + p00 * s1 ** 2) / det_p
            logdet_omega = 2.0 * pt.log(tau0) + 2.0 * pt.log(tau1) + pt.log(one_m)
        else:
            p00 = 1.0 / tau0 ** 2 + c00 / s2
            det_p = p00
            quad = s0 ** 2 / p00
            logdet_omega = 2.0 * pt.log(tau0)
        m = pt.sum(W, axis=1)
        loglik = -0.5 * (m * _LOG_2PI + logdet_omega + pt.log(det_p) + rr / s2
                         - quad / s2 ** 2) - 0.5 * logdet_d
        pm.Potential("marginal_loglik", pt.sum(loglik))
    return model


def compile_model(model):
    """Compile with nutpie (numba backend)."""
    import nutpie

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")
        return nutpie.compile_pymc_model(model)


def sample_model(compiled, spec: LongitudinalSpec, seed: int, *, progress: bool = False):
    """Run nutpie on a compiled model; returns ArviZ InferenceData."""
    import nutpie

    from alsstats.inference.threads import single_threaded_blas

    s = spec.sampling
    with single_threaded_blas():
        return nutpie.sample(compiled, draws=s["draws"], tune=s["tune"], chains=s["chains"],
                             seed=seed, progress_bar=progress,
                             target_accept=float(s["target_accept"]))
