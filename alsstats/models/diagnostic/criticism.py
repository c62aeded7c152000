r"""Model criticism for the diagnostic model: posterior predictive checks and PSIS-LOO.

* :func:`posterior_predictive_check` — per class and marker, the posterior
  predictive p-values of the mean and SD: replicate each training subject's
  observed markers (same class, covariates, site, missingness) from posterior
  draws and report :math:`P(T(y^{rep}) \ge T(y))`.  Values near 0 or 1 flag
  misfit.
* :func:`loo` — PSIS-LOO (ArviZ) of the marginal likelihood of each subject's
  observed markers :math:`\log p(y_{i,o} \mid k_i, \theta)`; compares models of
  the *same* markers (e.g. shared vs per-class covariance).
* :func:`classification_loo` / :func:`compare_marker_sets` — models with
  different marker sets have different data, so their marginal likelihoods are
  not comparable.  They are compared on the leave-one-out log score of the
  diagnosis, :math:`\log P(k_i \mid y_{i,o}, D_{-i})`, estimated with the PSIS
  weights of each subject's own likelihood term (Vehtari, Gelman & Gabry 2017,
  *Statistics and Computing* 27:1413): ``elpd_i = log sum_d w_di P_d(k_i | y_i)``.

The training table is passed explicitly: saved fits do not store patient data.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import logsumexp

from alsstats.errors import AlsStatsError, ParetoKWarning
from alsstats.inference.marker_density import sample_noise
from alsstats.inference.scoring import class_log_likelihoods as scoring_log_likelihoods
from alsstats.inference.scoring import error_rows, with_measurement_error
from alsstats.models.diagnostic.data import baseline_table, class_labels, encode
from alsstats.models.diagnostic.model import DiagnosticModel
from alsstats.random import SeedLike, as_generator

__all__ = [
    "class_log_likelihoods",
    "classification_loo",
    "compare_marker_sets",
    "loo",
    "posterior_predictive_check",
]


def _training_arrays(model: DiagnosticModel, df: pd.DataFrame):
    model._check_fitted()
    base = baseline_table(df)
    labels = class_labels(base, model.spec_)
    design = encode(base, model.spec_, model.standardization_, model.sites_)
    keep = labels >= 0
    if not keep.any():
        raise AlsStatsError("no subject of the table belongs to a class of the model")
    return design, labels, keep


def class_log_likelihoods(model: DiagnosticModel, df: pd.DataFrame) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Per draw, class and labelled baseline subject: log p(y_io | class k, theta).

    Returns ``loglik`` (D, K, n) over chains x draws stacked, and the labels (n,).
    Subjects without markers get 0.  Unseen sites are integrated over the site
    distribution, as in scoring; a known measurement error (``measurement_error =
    "crlb"``) adds the subject's own V_i to Sigma_k.  The density is the fit's marker
    distribution (normal, Student-t or skew-normal,
    :func:`alsstats.inference.scoring.class_log_likelihoods`).
    """
    design, labels, keep = _training_arrays(model, df)
    y, x, site, labels = design.y[keep], design.x[keep], design.site[keep], labels[keep]
    p = model.posterior_parameters()
    d, k = p.mu.shape[:2]
    n, m = y.shape
    out = np.zeros((d, k, len(labels)))
    obs = np.isfinite(y)
    # A subject with known measurement error (measurement_error = "crlb") is a group of
    # her own: her covariance is Sigma_k + V_i.
    me = design.me_var[keep] if design.me_var is not None else None
    own = np.zeros(n)
    own[error_rows(me, y)] = 1 + error_rows(me, y)
    keys = np.concatenate([obs, (site < 0)[:, None], own[:, None]], axis=1)
    groups, which = np.unique(keys, axis=0, return_inverse=True)
    which = np.ravel(which)
    for g, key in enumerate(groups):
        o = np.flatnonzero(key[:m])
        if len(o) == 0:
            continue
        rows = np.flatnonzero(which == g)
        params = with_measurement_error(p, me[rows[0]]) if key[m + 1] else p
        out[:, :, rows] = scoring_log_likelihoods(y[rows], x[rows], site[rows], params, o,
                                                  bool(key[m]))
    return out, labels


def _reshape_chains(model: DiagnosticModel, arr: np.ndarray) -> np.ndarray:
    post = model.idata_.posterior
    return arr.reshape(post.sizes["chain"], post.sizes["draw"], *arr.shape[1:])


def loo(model: DiagnosticModel, df: pd.DataFrame):
    """PSIS-LOO (``arviz.loo``) of each labelled subject's observed-marker likelihood.

    The per-pattern likelihood terms are concatenated into one variable
    ``y`` over subjects (the ArviZ-required layout).
    """
    loglik, labels = class_log_likelihoods(model, df)
    own = loglik[:, labels, np.arange(len(labels))]                    # (D, n)
    idata = az.InferenceData(
        posterior=model.idata_.posterior[["mu"]],
        log_likelihood=xr.Dataset({"y": (("chain", "draw", "subject"),
                                         _reshape_chains(model, own))}))
    with warnings.catch_warnings():   # replaced by one ParetoKWarning naming the count
        warnings.filterwarnings("ignore", message=".*shape parameter of Pareto.*")
        result = az.loo(idata, var_name="y", pointwise=True)
    _warn_pareto_k(np.asarray(result.pareto_k), "loo")
    return result


def _warn_pareto_k(k: np.ndarray, what: str) -> None:
    """One :class:`ParetoKWarning` when any Pareto k exceeds 0.7 (Vehtari et al. 2024)."""
    bad = k > 0.7
    if bad.any():
        warnings.warn(f"{what}: {int(bad.sum())} of {k.size} subjects have Pareto k > 0.7 "
                      f"(max {float(np.max(k)):.2f}); their PSIS-LOO terms are unreliable "
                      "(refit without them, or use K-fold cross-validation)", ParetoKWarning,
                      stacklevel=3)


def classification_loo(model: DiagnosticModel, df: pd.DataFrame,
                       prevalence="training") -> dict:
    """Leave-one-out log score of the diagnosis, log P(k_i | y_i, D_-i), by PSIS.

    Returns ``elpd`` (sum), ``se``, ``pointwise`` (n,), ``pareto_k`` (n,) and
    ``n``.  Pareto k above 0.7 marks subjects whose estimate is unreliable.
    """
    loglik, labels = class_log_likelihoods(model, df)
    n = len(labels)
    idx = np.arange(n)
    log_prior = np.log(model.prior_probabilities(prevalence))
    joint = loglik + log_prior[None, :, None]
    log_post = joint[:, labels, idx] - logsumexp(joint, axis=1)          # (D, n)
    own = loglik[:, labels, idx]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*shape parameter of Pareto.*")
        lw, k = az.psislw(-own.T)                                      # (n, D) normalised
    _warn_pareto_k(np.asarray(k), "classification_loo")
    pointwise = logsumexp(lw + log_post.T, axis=1)
    return {"elpd": float(pointwise.sum()), "se": float(np.sqrt(n * pointwise.var())),
            "pointwise": pointwise, "pareto_k": np.asarray(k), "n": n}


def compare_marker_sets(models: dict[str, DiagnosticModel], df: pd.DataFrame,
                        prevalence="training") -> pd.DataFrame:
    """Rank fitted models (e.g. NfL alone, NfL + imaging, all markers) by diagnostic LOO.

    All models must share the class list and be scored on the same table.
    Returns one row per model: ``elpd``, ``se``, ``elpd_diff`` and ``se_diff``
    (paired, against the best model), ``max_pareto_k``; best first.
    """
    if not models:
        raise AlsStatsError("compare_marker_sets needs at least one model")
    classes = {tuple(m.classes_) for m in models.values()}
    if len(classes) > 1:
        raise AlsStatsError(f"models must share their classes; got {sorted(classes)}")
    res = {name: classification_loo(m, df, prevalence) for name, m in models.items()}
    best = max(res, key=lambda name: res[name]["elpd"])
    rows = []
    for name, r in res.items():
        diff = res[best]["pointwise"] - r["pointwise"]
        rows.append({"model": name, "markers": ", ".join(models[name].spec_.marker_names),
                     "elpd": r["elpd"], "se": r["se"], "elpd_diff": float(diff.sum()),
                     "se_diff": float(np.sqrt(len(diff) * diff.var())),
                     "max_pareto_k": float(np.max(r["pareto_k"]))})
    return pd.DataFrame(rows).sort_values("elpd", ascending=False).reset_index(drop=True)


def posterior_predictive_check(model: DiagnosticModel, df: pd.DataFrame, *,
                               n_draws: int = 500, seed: SeedLike = None) -> pd.DataFrame:
    """Posterior predictive p-values of each class's marker mean and SD.

    For ``n_draws`` posterior draws, replicate the observed markers of every
    labelled baseline subject from the fit's marker distribution (normal, Student-t
    or skew-normal, :func:`alsstats.inference.marker_density.sample_noise`) and compare
    the replicated class means and SDs (standardised scale) with the observed ones.

    The tail statistic is the sample excess kurtosis
    :math:`g_2 = m_4 / m_2^2 - 3` of the class's residuals from its own mean: heavier
    tails than the normal classes allow (the case for a multivariate-t) give
    ``p_kurtosis`` near 0.

    Returns
    -------
    pandas.DataFrame
        One row per class and marker: ``n`` (subjects with the marker),
        ``observed_mean``, ``observed_sd``, ``observed_kurtosis``, ``p_mean`` =
        P(rep mean >= observed), ``p_sd`` = P(rep SD >= observed), ``p_kurtosis`` =
        P(rep excess kurtosis >= observed).
    """
    rng = as_generator(seed)
    design, labels, keep = _training_arrays(model, df)
    y, x, site, labels = design.y[keep], design.x[keep], design.site[keep], labels[keep]
    p = model.posterior_parameters()
    total = p.mu.shape[0]
    pick = rng.choice(total, size=min(n_draws, total), replace=False)
    mu, b, u, tau, sigma = p.mu[pick], p.B[pick], p.u[pick], p.tau[pick], p.Sigma[pick]
    nu = None if p.nu is None else p.nu[pick][:, labels]                # (D, n)
    skew = None if p.skew is None else p.skew[pick][:, labels]          # (D, n, M)
    n, m = y.shape
    mean = mu[:, labels] + np.einsum("ic,dcm->dim", x, b)
    seen = site >= 0
    mean[:, seen] += u[:, site[seen]]
    mean[:, ~seen] += rng.normal(size=(len(pick), int((~seen).sum()), m)) * tau[:, None]
    cov = sigma[:, labels] if p.per_class else sigma[:, None]
    if design.me_var is not None:       # measured markers: Sigma_k + V_i (known error)
        cov = cov + design.me_var[keep][None]
    chol = np.broadcast_to(np.linalg.cholesky(cov), (len(pick), n, m, m))
    noise = sample_noise(rng, chol, nu, skew)
    rep = np.where(np.isfinite(y)[None], mean + noise, np.nan)
    rows = []
    for k, cls in enumerate(model.classes_):
        in_k = labels == k
        for j, marker in enumerate(model.spec_.marker_names):
            obs = y[in_k, j]
            have = np.isfinite(obs)
            if have.sum() < 2:
                continue
            r = rep[:, in_k, j][:, have]
            kurt = _excess_kurtosis(obs[have])
            rows.append({"class": cls, "marker": marker, "n": int(have.sum()),
                         "observed_mean": float(obs[have].mean()),
                         "observed_sd": float(obs[have].std(ddof=1)),
                         "observed_kurtosis": float(kurt),
                         "p_mean": float((r.mean(axis=1) >= obs[have].mean()).mean()),
                         "p_sd": float((r.std(axis=1, ddof=1) >= obs[have].std(ddof=1)).mean()),
                         "p_kurtosis": float((_excess_kurtosis(r) >= kurt).mean())})
    return pd.DataFrame(rows)


def _excess_kurtosis(values: np.ndarray) -> np.ndarray:
    """Sample excess kurtosis m4 / m2^2 - 3 along the last axis."""
    centred = values - values.mean(axis=-1, keepdims=True)
    m2 = (centred**2).mean(axis=-1)
    return (centred**4).mean(axis=-1) / m2**2 - 3.0
