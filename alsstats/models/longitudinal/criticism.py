r"""Posterior predictive checks and PSIS-LOO for the Bayesian longitudinal model.

Both work per *subject*: the model's likelihood integrates the subject's random
effects out, so a subject's visit vector :math:`y_i` is one exchangeable unit and
leave-one-out means leave one subject (all her visits) out.  On the model's
standardised scale (:mod:`alsstats.models.longitudinal.graph`)

.. math::

    \log p(y_i \mid \theta) = -\tfrac12\big[m_i\log 2\pi + \log|V_i| + \delta_i\big]
    \quad(\text{normal}),

the multivariate-t form for Student-t residuals, with :math:`V_i = Z_i\Omega Z_i^\top
+ \sigma^2 I`.  The outcome was standardised as :math:`y^* = (y - \bar y)/s_y`, so on
the outcome's own scale :math:`\log p(y_i) = \log p(y^*_i) - m_i\log s_y` (the
Jacobian); LOO values are reported on that scale, so fits of the same outcome column
with different specs (random intercept only vs intercept and slope, normal vs
Student-t, with or without covariates) are comparable.  Models of *different* outcome
columns (e.g. a volume and its logarithm) are not: the package does not know how one
column was derived from the other and cannot add the Jacobian, so
:func:`compare_loo` refuses them.

PSIS (Vehtari, Gelman & Gabry 2017; Vehtari et al. 2024) estimates
:math:`\log p(y_i \mid y_{-i})` from the posterior draws; a Pareto shape
:math:`\hat k > 0.7` means that subject's estimate is unreliable (refit without
her, or use K-fold), and is warned about.

The posterior predictive check replicates every subject's visits at her observed
times, site and covariates, with new random effects and residuals (exactly the
model's generative process), for each of ``n_draws`` posterior draws, and compares
per-group statistics of the replicated data with the observed ones (Gelman, Meng &
Stern 1996): the baseline mean and SD, the mean and SD of the subjects' own
least-squares slopes (subjects with two or more visits) and the SD of the visits
around those lines.  The p-value is :math:`P(T(y^{rep}) \ge T(y))`; values near 0 or
1 flag a feature of the data the model does not reproduce.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import gammaln

from alsstats.errors import AlsStatsError, DataValidationError
from alsstats.models.longitudinal.data import Columns, LongData, prepare_long_data
from alsstats.models.longitudinal.model import LongitudinalModel
from alsstats.models.longitudinal.posterior import standard_draws
from alsstats.random import SeedLike, as_generator

__all__ = ["ParetoKWarning", "compare_loo", "log_likelihood", "loo",
           "posterior_predictive_check"]

_LOG_2PI = float(np.log(2 * np.pi))
#: Pareto shape above which a PSIS-LOO term is unreliable (Vehtari et al. 2024).
PARETO_K_MAX = 0.7


class ParetoKWarning(UserWarning):
    """Some PSIS-LOO terms have Pareto k above 0.7 (unreliable)."""


def _prepared(model: LongitudinalModel, data: pd.DataFrame) -> tuple[LongData, dict]:
    model._check_fitted()
    if model.idata_ is None or not hasattr(model.idata_, "posterior"):   # a REML/ML fit
        raise AlsStatsError("posterior predictive checks and LOO need a Bayesian fit "
                            "(method='bayes'); this fit used " + repr(model.method))
    columns = Columns(model.outcome, model.time, model.subject, model.group,
                      tuple(model.covariates or ()), model.site)
    ld = prepare_long_data(data, columns, random_slope=model.spec_.random_slope)
    if ld.data_hash != model.data_hash_:
        raise DataValidationError("the table is not the one the model was fitted to (its "
                                  "data hash differs); pass the training table")
    return ld, standard_draws(model.idata_.posterior, ld, model.spec_.group_intercepts)


def _fixed(std: dict, ld: LongData) -> np.ndarray:
    """(D, N, M) standardised fixed part of every visit."""
    g = ld.group_idx
    mu = std["a"][:, g, None] + std["b"][:, g, None] * ld.T[None]
    if std["c"].shape[1]:
        mu = mu + (std["c"] @ ld.X.T)[:, :, None]
    if "site" in std:
        mu = mu + std["site"][:, ld.site_idx]
    return mu


def log_likelihood(model: LongitudinalModel, data: pd.DataFrame) -> np.ndarray:
    """(chains, draws, subjects) log p(y_i | theta) on the outcome's own scale."""
    ld, std = _prepared(model, data)
    w = ld.mask[None]
    r = (ld.Y[None] - _fixed(std, ld)) * w
    s2 = std["sigma"][:, None] ** 2
    t0 = std["tau0"][:, None]
    s0, rr = r.sum(-1), (r * r).sum(-1)
    m = ld.mask.sum(axis=1)[None]
    if "tau1" in std:
        t1, rho = std["tau1"][:, None], std["rho"][:, None]
        one_m = 1.0 - rho ** 2
        p00 = 1.0 / (t0 ** 2 * one_m) + m / s2
        p11 = 1.0 / (t1 ** 2 * one_m) + (w * ld.T[None] ** 2).sum(-1) / s2
        p01 = -rho / (t0 * t1 * one_m) + (w * ld.T[None]).sum(-1) / s2
        s1 = (ld.T[None] * r).sum(-1)
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
        nu = std["nu"][:, None]
        ll = (gammaln((nu + m) / 2.0) - gammaln(nu / 2.0) - 0.5 * m * np.log(nu * np.pi)
              - 0.5 * logdet_v - 0.5 * (nu + m) * np.log1p(mahal / nu))
    else:
        ll = -0.5 * (m * _LOG_2PI + logdet_v + mahal)
    ll = ll - m * np.log(ld.y_sd)
    post = model.idata_.posterior
    return ll.reshape(post.sizes["chain"], post.sizes["draw"], -1)


def loo(model: LongitudinalModel, data: pd.DataFrame) -> az.ELPDData:
    """PSIS-LOO over subjects (outcome scale); warns when a Pareto k exceeds 0.7."""
    ll = log_likelihood(model, data)
    idata = az.InferenceData(
        posterior=model.idata_.posterior[["sigma"]],
        log_likelihood=xr.Dataset({"y": (("chain", "draw", "subject"), ll)}))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Pareto.*")
        result = az.loo(idata, var_name="y", pointwise=True)
    k = np.asarray(result.pareto_k)
    bad = int((k > PARETO_K_MAX).sum())
    if bad:
        warnings.warn(f"PSIS-LOO: {bad} of {len(k)} subjects have Pareto k > {PARETO_K_MAX} "
                      f"(max {k.max():.2f}); their LOO terms are unreliable: refit "
                      "without them or use K-fold cross-validation", ParetoKWarning,
                      stacklevel=2)
    return result


def compare_loo(models: dict[str, LongitudinalModel], data: pd.DataFrame) -> pd.DataFrame:
    """Rank Bayesian fits of the same outcome on the same table by PSIS-LOO.

    Returns one row per model: ``elpd``, ``se``, ``elpd_diff`` and ``se_diff``
    (paired, against the best), ``max_pareto_k``; best first.

    Raises
    ------
    AlsStatsError
        Fewer than one model, or models of different outcome columns (their
        densities are on different scales and the Jacobian between them is unknown).
    """
    if not models:
        raise AlsStatsError("compare_loo needs at least one model")
    outcomes = {name: m.outcome for name, m in models.items()}
    if len(set(outcomes.values())) > 1:
        raise AlsStatsError(
            "cannot compare LOO across outcome columns "
            + ", ".join(f"{n}: {o!r}" for n, o in outcomes.items())
            + ": their likelihoods are densities on different scales and the transform "
              "between the columns (hence its Jacobian) is unknown; fit every model to "
              "the same outcome column")
    res = {name: loo(m, data) for name, m in models.items()}
    best = max(res, key=lambda n: res[n].elpd_loo)
    rows = []
    for name, r in res.items():
        diff = np.asarray(res[best].loo_i) - np.asarray(r.loo_i)
        rows.append({"model": name, "elpd": float(r.elpd_loo), "se": float(r.se),
                     "elpd_diff": float(diff.sum()),
                     "se_diff": float(np.sqrt(len(diff) * diff.var())),
                     "max_pareto_k": float(np.max(r.pareto_k))})
    return pd.DataFrame(rows).sort_values("elpd", ascending=False).reset_index(drop=True)


def _statistics(y: np.ndarray, t: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Per-subject baseline value, least-squares slope and residual SS (natural scale).

    ``y``, ``t`` (..., N, M); returns arrays (..., N); NaN slope for one-visit subjects.
    """
    w = mask
    n = w.sum(-1)
    first = np.argmax(w > 0, axis=-1)
    first = np.broadcast_to(first, y.shape[:-1])
    base = np.take_along_axis(y, first[..., None], axis=-1)[..., 0]
    tm = (w * t).sum(-1) / n
    ym = (w * y).sum(-1) / n
    dt = (t - tm[..., None]) * w
    sxx = (dt * dt).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(n >= 2, (dt * (y - ym[..., None])).sum(-1) / sxx, np.nan)
        fitted = ym[..., None] + slope[..., None] * (t - tm[..., None])
    rss = np.where(n >= 3, ((y - fitted) ** 2 * w).sum(-1), np.nan)
    return {"baseline": base, "slope": slope, "rss": rss, "dof": np.maximum(n - 2, 0)}


def _group_stats(s: dict, in_g: np.ndarray) -> dict[str, np.ndarray]:
    base, slope, rss = s["baseline"][..., in_g], s["slope"][..., in_g], s["rss"][..., in_g]
    dof = s["dof"][in_g]
    has = np.isfinite(slope[(0,) * (slope.ndim - 1)])   # one-visit subjects: NaN slope
    has3 = dof > 0
    out = {"baseline mean": base.mean(-1), "baseline SD": base.std(-1, ddof=1)}
    if has.sum() >= 2:
        out["slope mean"] = slope[..., has].mean(-1)
        out["slope SD"] = slope[..., has].std(-1, ddof=1)
    if has3.any():
        out["residual SD"] = np.sqrt(rss[..., has3].sum(-1) / dof[has3].sum())
    return out


def posterior_predictive_check(model: LongitudinalModel, data: pd.DataFrame, *,
                               n_draws: int = 500, seed: SeedLike = None) -> pd.DataFrame:
    """Posterior predictive p-values of per-group statistics (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        One row per group and statistic (``baseline mean``, ``baseline SD``,
        ``slope mean``, ``slope SD``, ``residual SD``; natural units of the
        outcome and time): ``group``, ``statistic``, ``n`` (subjects),
        ``observed``, ``replicated_mean`` and ``p`` = P(rep >= observed).
    """
    rng = as_generator(seed)
    ld, std = _prepared(model, data)
    total = len(std["sigma"])
    pick = rng.choice(total, size=min(n_draws, total), replace=False)
    std = {k: v[pick] for k, v in std.items()}
    d, (n, m) = len(pick), ld.Y.shape
    mu = _fixed(std, ld)
    z = rng.standard_normal((2, d, n))
    u0 = std["tau0"][:, None] * z[0]
    u1 = np.zeros((d, n))
    if "tau1" in std:
        rho = std["rho"][:, None]
        u1 = std["tau1"][:, None] * (rho * z[0] + np.sqrt(1.0 - rho ** 2) * z[1])
    eps = std["sigma"][:, None, None] * rng.standard_normal((d, n, m))
    rep = mu + u0[..., None] + u1[..., None] * ld.T[None] + eps
    if "nu" in std:      # multivariate t: one scale per subject (see the graph module)
        nu = std["nu"][:, None]
        scale = np.sqrt(nu / rng.chisquare(np.broadcast_to(nu, (d, n))))
        rep = mu + (rep - mu) * scale[..., None]
    t = ld.T * ld.t_sd
    y_obs = ld.Y * ld.y_sd + ld.y_mean
    y_rep = rep * ld.y_sd + ld.y_mean
    obs = _statistics(y_obs, t, ld.mask)
    reps = _statistics(y_rep, np.broadcast_to(t, y_rep.shape), ld.mask)
    rows = []
    for g, name in enumerate(ld.groups):
        in_g = ld.group_idx == g
        if in_g.sum() < 2:
            continue
        o, r = _group_stats(obs, in_g), _group_stats(reps, in_g)
        for stat, value in o.items():
            rows.append({"group": name, "statistic": stat, "n": int(in_g.sum()),
                         "observed": float(value), "replicated_mean": float(r[stat].mean()),
                         "p": float((r[stat] >= value).mean())})
    return pd.DataFrame(rows)
