r"""The PyMC longitudinal model with the subject random effects integrated out.

On the standardised scale (see :mod:`alsstats.models.longitudinal.data`), subject *i*
in group *g* with visits at times :math:`t_{ij}`:

.. math::

    \mu_{ij} = a_g + b_g t_{ij} + c^\top x_i + s_{site(ij)},\qquad
    y_i \sim \mathrm{MVN}\!\left(\mu_i,\ V_i\right),\qquad
    V_i = Z_i\Omega Z_i^\top + \sigma^2 I,\qquad Z_i = [1, t_i],

:math:`\Omega` with SDs :math:`\tau_0, \tau_1` and correlation :math:`\rho` (with
``group_variances = "per_group"`` one :math:`(\tau_0, \tau_1, \rho)` per group, each
subject using its group's).  With
:math:`P_i = \Omega^{-1} + Z_i^\top Z_i/\sigma^2`, :math:`s_i = Z_i^\top r_i` and
:math:`r_i = y_i - \mu_i`, the Woodbury identity and the determinant lemma give

.. math::

    \log|V_i| = m_i\log\sigma^2 + \log|\Omega| + \log|P_i|,\qquad
    \delta_i = r_i^\top V_i^{-1} r_i = r_i^\top r_i/\sigma^2 - s_i^\top P_i^{-1} s_i/\sigma^4,

and :math:`\log p(y_i) = -\tfrac12[m_i\log 2\pi + \log|V_i| + \delta_i]`.

Student-t residuals (``residual = "student_t"``) make each subject's visit vector
multivariate t, :math:`y_i \sim t_\nu(\mu_i, V_i)`:
:math:`\log p = \log\Gamma(\frac{\nu+m_i}{2}) - \log\Gamma(\frac{\nu}{2}) -
\frac{m_i}{2}\log(\nu\pi) - \frac12\log|V_i| - \frac{\nu+m_i}{2}\log(1+\delta_i/\nu)`,
i.e. one latent scale per *subject* (a subject with outlying visits is down-weighted as
a whole), still with the random effects integrated out exactly; :math:`\sigma, \tau`
are then scale parameters (covariance :math:`\frac{\nu}{\nu-2}V_i`).  A per-visit
scale mixture (latent :math:`\lambda_{ij}\sim\mathrm{Gamma}(\nu/2,\nu/2)`) was tried and
rejected: on sleepstudy with one outlying visit the chains collapsed to
:math:`\nu\to 0` (bulk ESS 2, R-hat 2.2).

Everything is element-wise over subjects (closed-form 2×2 algebra), so the cost is
linear in the number of visits and no per-pattern MVN terms are needed.  Site offsets
are non-centred and sum to zero, :math:`s = \tau_{site} z` with :math:`z` zero-sum
normal (unit scale): a free mean of the offsets would be confounded with the intercepts
(measured: intercept bulk ESS 67 and 26 divergences with 4 sites of 50 subjects), and
with the constraint the intercepts refer to the average site, as in the REML fit.
"""

from __future__ import annotations

import numpy as np

from alsstats.models.longitudinal.data import LongData
from alsstats.models.longitudinal.spec import LongitudinalSpec

__all__ = ["build_model", "data_arrays", "model_signature"]

_LOG_2PI = float(np.log(2 * np.pi))


def data_arrays(data: LongData) -> dict[str, np.ndarray]:
    """The arrays the compiled model reads (swappable with ``with_data``)."""
    return {"Y": data.Y, "T": data.T, "mask": data.mask, "group_idx": data.group_idx,
            "site_idx": data.site_idx, "X": data.X}


def model_signature(data: LongData, spec: LongitudinalSpec) -> tuple:
    """Structure that decides the parameter shapes: equal signatures can share a compiled model."""
    graph = {k: v for k, v in spec.to_dict().items() if k not in ("sampling", "convergence")}
    graph["model"].pop("interval")
    graph["model"].pop("reference_group")
    graph["model"].pop("outcome_scale")
    return (repr(sorted(graph.items())), len(data.groups), len(data.sites), data.X.shape[1])


def build_model(data: LongData, spec: LongitudinalSpec):
    """The PyMC model for ``data`` under ``spec`` (see the module docstring)."""
    import pymc as pm
    import pytensor.tensor as pt

    pr = spec.priors
    S, k = len(data.sites), data.X.shape[1]
    coords = {"group": list(data.groups), "pooled": ["all"], "site_id": list(data.sites),
              "covariate_term": list(data.covariate_names)}
    with pm.Model(coords=coords) as model:
        d = {name: pm.Data(name, value) for name, value in data_arrays(data).items()}
        Y, T, W = d["Y"], d["T"], d["mask"]
        a = pm.Normal("a", 0.0, pr["intercept_sd"],
                      dims="group" if spec.group_intercepts else "pooled")
        b = pm.Normal("b", 0.0, pr["slope_sd"], dims="group")
        a_i = a[d["group_idx"]] if spec.group_intercepts else a[0]
        mu = a_i[:, None] if spec.group_intercepts else a_i
        mu = mu + b[d["group_idx"]][:, None] * T
        if k:
            c = pm.Normal("c", 0.0, pr["covariate_sd"], dims="covariate_term")
            mu = mu + pt.dot(d["X"], c)[:, None]
        if S >= 2:
            site_sd = pm.HalfNormal("site_sd", pr["site_sd_scale"])
            site_z = pm.ZeroSumNormal("site_z", sigma=1.0, dims="site_id")
            mu = mu + (site_sd * site_z)[d["site_idx"]]
        sigma = pm.HalfNormal("sigma", pr["sigma_scale"])
        # per_group: each group its own Ω_g (SDs and correlation), indexed per subject
        per_group = spec.group_variances == "per_group"
        re_dims = "group" if per_group else None

        def by_subject(v):
            return v[d["group_idx"]] if per_group else v

        tau0 = by_subject(pm.HalfNormal("tau0", pr["sd_intercept_scale"], dims=re_dims))
        r = (Y - mu) * W
        s2 = sigma ** 2
        s0 = pt.sum(W * r, axis=1)
        rr = pt.sum(r * r, axis=1)
        c00 = pt.sum(W, axis=1)
        if spec.random_slope:
            tau1 = by_subject(pm.HalfNormal("tau1", pr["sd_slope_scale"], dims=re_dims))
            rho_raw = pm.Beta("rho_raw", pr["lkj_eta"], pr["lkj_eta"], dims=re_dims)
            rho = by_subject(pm.Deterministic("rho", 2.0 * rho_raw - 1.0, dims=re_dims))
            one_m = 1.0 - rho ** 2
            o00, o11 = 1.0 / (tau0 ** 2 * one_m), 1.0 / (tau1 ** 2 * one_m)
            o01 = -rho / (tau0 * tau1 * one_m)
            s1 = pt.sum(T * r, axis=1)
            c01, c11 = pt.sum(W * T, axis=1), pt.sum(W * T * T, axis=1)
            p00, p01, p11 = o00 + c00 / s2, o01 + c01 / s2, o11 + c11 / s2
            det_p = p00 * p11 - p01 ** 2
            quad = (p11 * s0 ** 2 - 2.0 * p01 * s0 * s1 + p00 * s1 ** 2) / det_p
            logdet_omega = 2.0 * pt.log(tau0) + 2.0 * pt.log(tau1) + pt.log(one_m)
        else:
            p00 = 1.0 / tau0 ** 2 + c00 / s2
            det_p = p00
            quad = s0 ** 2 / p00
            logdet_omega = 2.0 * pt.log(tau0)
        m = c00
        logdet_v = m * pt.log(s2) + logdet_omega + pt.log(det_p)
        mahal = rr / s2 - quad / s2 ** 2
        if spec.residual == "student_t":
            nu = pm.Gamma("nu", 2.0, pr["nu_rate"])
            loglik = (pt.gammaln((nu + m) / 2.0) - pt.gammaln(nu / 2.0)
                      - 0.5 * m * pt.log(nu * np.pi) - 0.5 * logdet_v
                      - 0.5 * (nu + m) * pt.log1p(mahal / nu))
        else:
            loglik = -0.5 * (m * _LOG_2PI + logdet_v + mahal)
        pm.Potential("marginal_loglik", pt.sum(loglik))
    return model
