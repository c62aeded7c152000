r"""The frequentist (REML/ML) path of the longitudinal model (on ``lmm.fit_lmm``).

Same mean structure as the Bayesian model, in natural units: one intercept column per
group (cell means; one shared intercept if ``group_intercepts`` is false), one slope
column per group (indicator × time), covariates centred at their mean, and sites as
fixed effects in deviation coding (offsets sum to zero over sites, so intercepts refer
to the average site).  Random effects: intercept, or correlated intercept and slope,
with one covariance for all subjects or one per group (``group_variances``; ``"auto"``
keeps the per-group covariances when the REML likelihood-ratio test against the shared
one gives p < 0.05 — same fixed effects, so REML likelihoods compare; the χ² reference
is conservative at a boundary, Self & Liang 1987).

Intervals of fixed effects and their contrasts are t intervals with Satterthwaite
degrees of freedom.  Percent change per time unit is 100·b/a (delta-method SE, df of
the linearised contrast) for a linear outcome and 100·(e^b − 1) for a log outcome (the
interval of b transformed exactly).

Derived quantities that are not linear in β (trajectories of subjects, probabilities
of decline) are drawn from the exact joint conditional of β and the subject effects
given the variance parameters: β ~ N(β̂, cov(β̂)) and, per subject,
b_i | β ~ N(b̂_i − K_i(β − β̂), σ̂²W_i) (see :mod:`alsstats.models.lmm.engine`), so a
subject's draws have Henderson's prediction-error covariance.  Variance components are
held at their estimates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alsstats.models.lmm.engine import LMMResult, fit_lmm, likelihood_ratio_test
from alsstats.models.longitudinal.data import LongData
from alsstats.models.longitudinal.spec import LongitudinalSpec

__all__ = ["RemlLayout", "fit_reml", "percent_change", "reml_draws", "reml_summary"]

#: Level of the likelihood-ratio test that chooses per-group random-effect covariances.
AUTO_ALPHA = 0.05


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


def fit_reml(data: LongData, spec: LongitudinalSpec, method: str
             ) -> tuple[LMMResult, RemlLayout, dict]:
    """Fit by REML/ML; returns the fit, the layout and the choice of random-effect covariance
    (``{"group_variances": "shared" | "per_group", "lrt": {...} or None}``)."""
    layout = RemlLayout(data, spec)
    y, X, i, t = layout.design(data)
    Z = np.column_stack([np.ones_like(t), t]) if spec.random_slope else np.ones((len(t), 1))
    names = ["Intercept", "time"] if spec.random_slope else ["Intercept"]
    groups = np.asarray(data.groups)[data.group_idx[i]]

    def fit(per_group: bool) -> LMMResult:
        return fit_lmm(y, X, i, Z, method, fixed_names=layout.names, random_names=names,
                       variance_group=groups if per_group else None)

    choice = spec.group_variances if len(data.groups) > 1 else "shared"
    if choice != "auto":
        return fit(choice == "per_group"), layout, {"group_variances": choice, "lrt": None}
    shared, per_group = fit(False), fit(True)
    lrt = likelihood_ratio_test(shared, per_group)
    chosen = "per_group" if lrt.p_value < AUTO_ALPHA else "shared"
    info = {"group_variances": chosen,
            "lrt": {"statistic": lrt.statistic, "df": lrt.df, "p_value": lrt.p_value,
                    "alpha": AUTO_ALPHA}}
    return (per_group if chosen == "per_group" else shared), layout, info


def percent_change(slope, baseline, log_outcome: bool):
    """Percent change per time unit: 100(e^b − 1) for a log outcome, else 100 b / a."""
    return 100.0 * np.expm1(slope) if log_outcome else 100.0 * slope / baseline


def reml_draws(fit: LMMResult, layout: RemlLayout, data: LongData, rng: np.random.Generator,
               n_draws: int = 4000, log_outcome: bool = False) -> tuple[dict, dict]:
    """Natural-scale parameter draws and exact joint draws of the subject effects."""
    beta = rng.multivariate_normal(fit.fixed, fit.fixed_cov, size=n_draws, method="cholesky")
    nat = {"intercept": beta[:, layout.intercept], "slope": beta[:, layout.slope],
           "covariate": beta[:, layout.covariate]}
    nat["percent_per_time"] = percent_change(nat["slope"], nat["intercept"], log_outcome)
    q = len(fit.random_names)
    chol = np.linalg.cholesky(fit.random_effects_cov + 1e-12 * np.eye(q))   # (N, q, q)
    z = rng.standard_normal((n_draws, data.n_subjects, q, 1))
    b = fit.random_effects[None] + (chol[None] @ z)[..., 0]
    if fit.random_effects_gain is not None:
        b = b - np.einsum("ika,da->dik", fit.random_effects_gain, beta - fit.fixed)
    g = data.group_idx
    base = nat["intercept"][:, g] + b[..., 0] + nat["covariate"] @ data.natural_covariates().T
    if len(layout.site):
        base = base + layout.site_offsets(beta)[:, data.site_idx[:, 0]]
    slope = nat["slope"][:, g] + (b[..., 1] if q == 2 else 0.0)
    return nat, {"baseline": base, "slope": slope}


def reml_summary(fit: LMMResult, names: list[str], groups: list[str], covariates: list[str],
                 reference: str, level: float, log_outcome: bool) -> pd.DataFrame:
    """Estimates, SEs, Satterthwaite df and t intervals of the reported quantities."""
    beta, p = fit.fixed, len(fit.fixed)
    rows = []

    def unit(j):
        c = np.zeros(p)
        c[j] = 1.0
        return c

    def add(term, c=None, est=None, transform=None):
        if c is None:                       # variance component: point estimate only
            rows.append({"term": term, "estimate": est, "sd": np.nan, "df": np.nan,
                         "lower": np.nan, "upper": np.nan})
            return
        r = fit.contrast(c, level)
        if est is None:
            est = r["estimate"]
        lo, hi = est - (r["estimate"] - r["lower"]), est + (r["upper"] - r["estimate"])
        se = r["se"]
        if transform is not None:          # exact transform of the interval of c'β
            est, se, lo, hi = transform(r)
        rows.append({"term": term, "estimate": est, "sd": se, "df": r["df"], "lower": lo,
                     "upper": hi})

    def exp_pct(r):
        f = np.exp(r["estimate"])
        return 100 * (f - 1), 100 * f * r["se"], 100 * np.expm1(r["lower"]), \
            100 * np.expm1(r["upper"])

    a_idx = [names.index(f"intercept[{g}]") if f"intercept[{g}]" in names
             else names.index("intercept") for g in groups]
    b_idx = [names.index(f"slope[{g}]") for g in groups]
    grad_pct = []
    for k, g in enumerate(groups):
        a, b = beta[a_idx[k]], beta[b_idx[k]]
        add(f"intercept[{g}]", unit(a_idx[k]))
        add(f"slope[{g}]", unit(b_idx[k]))
        if log_outcome:
            grad_pct.append(100.0 * np.exp(b) * unit(b_idx[k]))
            add(f"percent_per_time[{g}]", unit(b_idx[k]), transform=exp_pct)
        else:                               # delta method for 100 b/a
            grad = -100.0 * b / a ** 2 * unit(a_idx[k]) + 100.0 / a * unit(b_idx[k])
            grad_pct.append(grad)
            add(f"percent_per_time[{g}]", grad, est=100.0 * b / a)
    r = groups.index(reference)
    pct = [float(percent_change(beta[b_idx[k]], beta[a_idx[k]], log_outcome))
           for k in range(len(groups))]
    for k, g in enumerate(groups):
        if k != r:
            add(f"slope_diff[{g} - {groups[r]}]", unit(b_idx[k]) - unit(b_idx[r]))
            add(f"percent_diff[{g} - {groups[r]}]", grad_pct[k] - grad_pct[r],
                est=pct[k] - pct[r])
    for c in covariates:
        add(f"covariate[{c}]", unit(names.index(f"covariate[{c}]")))
    sd, corr = np.atleast_2d(fit.random_sd), fit.random_corr.reshape(
        -1, len(fit.random_names), len(fit.random_names))
    labels = [""] if fit.random_cov.ndim == 2 else [f"[{g}]" for g in fit.variance_groups]
    for lab, s, cr in zip(labels, sd, corr, strict=True):
        add(f"sd_intercept{lab}", est=s[0])
        if len(s) == 2:
            add(f"sd_slope{lab}", est=s[1])
            add(f"corr{lab}", est=cr[1, 0])
    add("sigma", est=fit.sigma)
    return pd.DataFrame(rows).set_index("term")
