r"""Posterior quantities of the longitudinal model, in numpy, on the natural scale.

Back-transformation from the standardised scale (ȳ, s_y, s_t, x̄, s_x as in
:mod:`alsstats.models.longitudinal.data`): group intercept (baseline level at mean
covariates) ȳ + s_y a_g, mean slope s_y b_g / s_t per time unit, covariate effect
s_y c_k / s_xk per unit, random-effect SDs s_y τ0 and s_y τ1 / s_t, residual SD s_y σ.

Subject random effects.  Given the parameters, the conditional posterior of
u_i = (u0_i, u1_i) is Gaussian, N(P_i⁻¹ s_i / σ², P_i⁻¹) with P_i and s_i as in
:mod:`alsstats.models.longitudinal.graph`; one u_i is drawn per posterior draw,
which yields draws from the joint posterior of the subject trajectories.  Under
multivariate-t residuals the conditional is multivariate t with ν + m_i degrees of
freedom, the same centre and scale (ν + δ_i)/(ν + m_i)·P_i⁻¹ (drawn as a Gaussian
scaled by sqrt(χ²_{ν+m}/(ν+m))⁻¹).
"""

from __future__ import annotations

import numpy as np

from alsstats.models.longitudinal.data import LongData

__all__ = ["natural_draws", "standard_draws", "subject_draws"]


def _flat(posterior, name: str) -> np.ndarray:
    v = posterior[name].values
    return v.reshape(v.shape[0] * v.shape[1], *v.shape[2:])


def standard_draws(posterior, data: LongData, group_intercepts: bool) -> dict[str, np.ndarray]:
    """Flattened standardised-scale draws (chain × draw → draw) of every model parameter."""
    G = len(data.groups)
    out = {"a": _flat(posterior, "a"), "b": _flat(posterior, "b"),
           "sigma": _flat(posterior, "sigma"), "tau0": _flat(posterior, "tau0")}
    if not group_intercepts:
        out["a"] = np.repeat(out["a"], G, axis=1)
    D = len(out["sigma"])
    out["c"] = _flat(posterior, "c") if "c" in posterior else np.zeros((D, 0))
    if "site_sd" in posterior:
        out["site"] = _flat(posterior, "site_sd")[:, None] * _flat(posterior, "site_z")
        out["site_sd"] = _flat(posterior, "site_sd")
    for name in ("tau1", "rho", "nu"):
        if name in posterior:
            out[name] = _flat(posterior, name)
    return out


def natural_draws(std: dict[str, np.ndarray], data: LongData, log_outcome: bool = False
                  ) -> dict[str, np.ndarray]:
    """Natural-scale parameter draws (see the module docstring).

    Random-effect SDs and correlations are (D,) or, with per-group covariances, (D, G).
    Percent change per time unit is 100(e^b − 1) for a log outcome, else 100 b / a.
    """
    ys, ts = data.y_sd, data.t_sd
    out = {"intercept": data.y_mean + ys * std["a"], "slope": ys * std["b"] / ts,
           "covariate": ys * std["c"] / np.where(data.x_sd > 0, data.x_sd, 1.0),
           "sigma": ys * std["sigma"], "sd_intercept": ys * std["tau0"]}
    if "tau1" in std:
        out["sd_slope"] = ys * std["tau1"] / ts
        out["corr"] = std["rho"]
    if "site" in std:
        out["site_offset"] = ys * std["site"]
        out["site_sd"] = ys * std["site_sd"]
    if "nu" in std:
        out["nu"] = std["nu"]
    out["percent_per_time"] = (100.0 * np.expm1(out["slope"]) if log_outcome
                               else 100.0 * out["slope"] / out["intercept"])
    return out


def _per_subject(v: np.ndarray, sl: slice, group_idx: np.ndarray) -> np.ndarray:
    """Draws ``sl`` of a scalar (D,) or per-group (D, G) parameter, as (d, 1) or (d, N)."""
    return v[sl][:, None] if v.ndim == 1 else v[sl][:, group_idx]


def _t_scale(nu, m, mahal, rng) -> np.ndarray:
    """Variance multiplier of a multivariate-t conditional: (ν+δ)/(ν+m) / (χ²_{ν+m}/(ν+m))."""
    dof = nu + m
    return (nu + mahal) / dof / (rng.chisquare(dof) / dof)


def _fixed_mean(std: dict[str, np.ndarray], data: LongData, sl: slice) -> np.ndarray:
    """Standardised fixed part μ_ij for the draws in ``sl``: (d, N, M)."""
    g = data.group_idx
    mu = std["a"][sl][:, g, None] + std["b"][sl][:, g, None] * data.T[None]
    if std["c"].shape[1]:
        mu = mu + (std["c"][sl] @ data.X.T)[:, :, None]
    if "site" in std:
        mu = mu + std["site"][sl][:, data.site_idx]
    return mu


def subject_draws(std: dict[str, np.ndarray], data: LongData, rng: np.random.Generator,
                  chunk: int = 250) -> dict[str, np.ndarray]:
    """Draws of each subject's slope and baseline level, natural scale, shape (D, N).

    ``baseline`` is the subject's expected outcome at time 0 (its own covariates and
    first-visit site); ``slope`` its expected change per time unit.
    """
    D = len(std["sigma"])
    N = data.n_subjects
    slope_re = "tau1" in std
    u0, u1 = np.empty((D, N)), np.zeros((D, N))
    m_i = data.mask.sum(axis=1)
    for start in range(0, D, chunk):
        sl = slice(start, min(start + chunk, D))
        d = sl.stop - sl.start
        r = (data.Y[None] - _fixed_mean(std, data, sl)) * data.mask[None]
        w = data.mask[None]
        s2 = std["sigma"][sl][:, None] ** 2
        t0 = _per_subject(std["tau0"], sl, data.group_idx)
        s0 = r.sum(-1)
        rr = (r * r).sum(-1)
        c00 = np.broadcast_to(m_i, (d, N))
        z = rng.standard_normal((2, d, N))
        if slope_re:
            t1 = _per_subject(std["tau1"], sl, data.group_idx)
            rho = _per_subject(std["rho"], sl, data.group_idx)
            one_m = 1.0 - rho ** 2
            p00 = 1.0 / (t0 ** 2 * one_m) + c00 / s2
            p11 = 1.0 / (t1 ** 2 * one_m) + (w * data.T[None] ** 2).sum(-1) / s2
            p01 = -rho / (t0 * t1 * one_m) + (w * data.T[None]).sum(-1) / s2
            s1 = (data.T[None] * r).sum(-1)
            det = p00 * p11 - p01 ** 2
            v00, v11, v01 = p11 / det, p00 / det, -p01 / det
            m0 = (v00 * s0 + v01 * s1) / s2
            m1 = (v01 * s0 + v11 * s1) / s2
            if "nu" in std:
                mahal = rr / s2 - (s0 * m0 + s1 * m1) / s2
                k = _t_scale(std["nu"][sl][:, None], m_i, mahal, rng)
                v00, v11, v01 = v00 * k, v11 * k, v01 * k
            l00 = np.sqrt(v00)
            l10 = v01 / l00
            l11 = np.sqrt(np.maximum(v11 - l10 ** 2, 0.0))
            u0[sl] = m0 + l00 * z[0]
            u1[sl] = m1 + l10 * z[0] + l11 * z[1]
        else:
            p00 = 1.0 / t0 ** 2 + c00 / s2
            m0 = s0 / s2 / p00
            var = 1.0 / p00
            if "nu" in std:
                var = var * _t_scale(std["nu"][sl][:, None], m_i, rr / s2 - s0 * m0 / s2, rng)
            u0[sl] = m0 + z[0] * np.sqrt(var)
    g = data.group_idx
    base = std["a"][:, g] + u0
    if std["c"].shape[1]:
        base = base + std["c"] @ data.X.T
    if "site" in std:
        base = base + std["site"][:, data.site_idx[:, 0]]
    return {"baseline": data.y_mean + data.y_sd * base,
            "slope": data.y_sd * (std["b"][:, g] + u1) / data.t_sd}
