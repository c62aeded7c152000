r"""The frequentist (REML/ML) path of the longitudinal model (on ``lmm.fit_lmm``).

Same mean structure as the Bayesian model, in natural units: one intercept column per
group (cell means; one shared intercept if ``group_intercepts`` is false), one slope
column per group (indicator × time), covariates centred at their mean, and sites as
fixed effects in deviation coding (offsets sum to zero over sites, so intercepts refer
to the average site).  Random effects: intercept, or correlated intercept and slope.

Derived quantities that are not linear in β (trajectories of subjects, probabilities
of decline) are simulated from the Wald approximation: β ~ N(β̂, cov(β̂)) and, per
subject, b_i ~ N(b̂_i, σ̂²W_i) given β̂ (Gelman & Hill 2007, §7.2).  Variance
components are held at their estimates.
"""

from __future__ import annotations

import numpy as np

from alsstats.models.lmm.engine import LMMResult, fit_lmm
from alsstats.models.longitudinal.data import LongData
from alsstats.models.longitudinal.spec import LongitudinalSpec

__all__ = ["RemlLayout", "fit_reml", "reml_draws"]


class RemlLayout:
    """Column positions of the natural-scale fixed-effects design."""

    def __init__(self, data: LongData, spec: LongitudinalSpec):
        G, k, S = len(data.groups), len(data.covariate_names), len(data.sites)
        n_a = G if spec.group_intercepts else 1
        self.intercept = np.arange(n_a) if spec.group_intercepts else np.zeros(G, dtype=int)
        self.slope = n_a + np.arange(G)
        self.covariate = n_a + G + np.arange(k)
        self.site = n_a + G + k + np.arange(max(S - 1, 0))
        self.names = ([f"intercept[{g}]" for g in data.groups] if spec.group_intercepts
                      else ["intercept"])
        self.names += [f"slope[{g}]" for g in data.groups]
        self.names += [f"covariate[{c}]" for c in data.covariate_names]
        self.names += [f"site[{s}]" for s in data.sites[1:]] if S >= 2 else []

    def design(self, data: LongData):
        y, t, i, site = data.long()
        g = data.group_idx[i]
        G = len(data.groups)
        cols = []
        if len(set(self.intercept)) == G:
            cols += [(g == k).astype(float) for k in range(G)]
        else:
            cols.append(np.ones_like(y))
        cols += [(g == k) * t for k in range(G)]
        cols += list(data.natural_covariates()[i].T)
        cols += [(site == s).astype(float) - (site == 0) for s in range(1, len(data.sites))
                 ] if len(data.sites) >= 2 else []
        return y, np.column_stack(cols), i, t

    def site_offsets(self, beta: np.ndarray) -> np.ndarray:
        """All site offsets (deviation coding: the first is minus the sum of the others)."""
        rest = beta[..., self.site]
        return np.concatenate([-rest.sum(axis=-1, keepdims=True), rest], axis=-1)


def fit_reml(data: LongData, spec: LongitudinalSpec, method: str) -> tuple[LMMResult, RemlLayout]:
    layout = RemlLayout(data, spec)
    y, X, i, t = layout.design(data)
    Z = np.column_stack([np.ones_like(t), t]) if spec.random_slope else np.ones((len(t), 1))
    names = ["Intercept", "time"] if spec.random_slope else ["Intercept"]
    fit = fit_lmm(y, X, i, Z, method, fixed_names=layout.names, random_names=names)
    return fit, layout


def reml_draws(fit: LMMResult, layout: RemlLayout, data: LongData, rng: np.random.Generator,
               n_draws: int = 4000) -> tuple[dict, dict]:
    """Natural-scale parameter draws and subject draws from the Wald approximation."""
    beta = rng.multivariate_normal(fit.fixed, fit.fixed_cov, size=n_draws, method="cholesky")
    nat = {"intercept": beta[:, layout.intercept], "slope": beta[:, layout.slope],
           "covariate": beta[:, layout.covariate]}
    nat["percent_per_time"] = 100.0 * nat["slope"] / nat["intercept"]
    q = len(fit.random_names)
    chol = np.linalg.cholesky(fit.random_effects_cov + 1e-12 * np.eye(q))   # (N, q, q)
    z = rng.standard_normal((n_draws, data.n_subjects, q, 1))
    b = fit.random_effects[None] + (chol[None] @ z)[..., 0]
    g = data.group_idx
    base = nat["intercept"][:, g] + b[..., 0] + nat["covariate"] @ data.natural_covariates().T
    if len(layout.site):
        base = base + layout.site_offsets(beta)[:, data.site_idx[:, 0]]
    slope = nat["slope"][:, g] + (b[..., 1] if q == 2 else 0.0)
    return nat, {"baseline": base, "slope": slope}
