"""Session-scoped diagnostic-model fixtures: one compiled and fitted model for the whole run.

Training and test cohorts come from the synthetic generator
(:func:`alsstats.simulate.simulate_cohort`, default scenario, independent seeds).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import softmax

from alsstats.inference.scoring import PosteriorParameters
from alsstats.models.diagnostic.graph import build_pymc_model, model_data
from alsstats.models.diagnostic.model import DiagnosticModel, _indicator, _layout
from alsstats.simulate import simulate_cohort


def diagnostic_graph(spec, data):
    """The PyMC graph that ``DiagnosticModel.fit`` builds for ``data``.

    Returns ``(prepared, arrays, codes, model)``: the prepared data, the ``pm.Data``
    arrays, the latent-class indicator codes (``None`` for a labels spec) and the model.
    """
    prepared = DiagnosticModel(spec=spec)._prepare(data, None, spec)
    layout = _layout([prepared])
    levels, (codes,) = _indicator([prepared], spec)
    arrays = model_data(prepared.design, prepared.labels, layout, indicator=codes)
    return prepared, arrays, codes, build_pymc_model(spec, layout, arrays, prepared.sites,
                                                     levels)


def values_at_random_point(model, names, seed=3):
    """The named model variables and the likelihood Potential ``loglik`` at a random point
    (the initial point plus N(0, 0.2^2) on the unconstrained scale)."""
    rng = np.random.default_rng(seed)
    point = {k: v + 0.2 * rng.standard_normal(v.shape)
             for k, v in model.initial_point().items()}
    outputs = model.replace_rvs_by_values([*(model[n] for n in names), model["loglik"]])
    *params, potential = model.compile_fn(outputs, inputs=model.value_vars,
                                          on_unused_input="ignore")(point)
    return dict(zip(names, params, strict=True)), float(potential)


def random_posterior(rng, d, k=3, m=3, c=2, s=2, per_class=False):
    """``d`` random posterior draws of the normal marker model (K classes, M markers, C
    covariates, S sites), shared or per-class covariances, for scoring identities."""
    a = rng.normal(size=(d, k, m, m) if per_class else (d, m, m)) * 0.4
    return PosteriorParameters(mu=rng.normal(size=(d, k, m)), B=rng.normal(size=(d, c, m)) * 0.3,
                               u=rng.normal(size=(d, s, m)) * 0.3,
                               tau=np.abs(rng.normal(size=(d, m))) * 0.5,
                               Sigma=a @ np.swapaxes(a, -1, -2) + np.eye(m))


def brute_force_scores(y, x, site, p, log_prior, interval, class_loglik=None):
    """Scores by brute force, one patient, draw and class at a time: ``(3, n, K)`` mean,
    low and high of the softmax of ``class_loglik(i, d, k, o, y_o, mean, Sigma) +
    log_prior``.

    ``o`` indexes patient ``i``'s observed markers and ``y_o`` is their values; ``mean`` =
    mu + B'x (+ u at a seen site) and ``Sigma`` the class covariance of the posterior
    parameters ``p``, both over all markers.  Default
    ``class_loglik``: :func:`normal_class_loglik`.  A patient with no marker gets the prior.
    """
    class_loglik = class_loglik or normal_class_loglik(site, p)
    n, k = y.shape[0], p.mu.shape[1]
    out = np.empty((3, n, k))
    for i in range(n):
        o = np.flatnonzero(np.isfinite(y[i]))
        probs = np.empty((p.mu.shape[0], k))
        for d in range(p.mu.shape[0]):
            logl = np.zeros(k)
            for kk in range(k):
                mean = p.mu[d, kk] + x[i] @ p.B[d]
                if site[i] >= 0:
                    mean = mean + p.u[d, site[i]]
                if len(o):
                    logl[kk] = class_loglik(i, d, kk, o, y[i, o], mean,
                                            p.Sigma[d, kk] if p.per_class else p.Sigma[d])
            probs[d] = softmax(logl + log_prior)
        out[0, i] = probs.mean(0)
        out[1:, i] = np.quantile(probs, [(1 - interval) / 2, (1 + interval) / 2], axis=0)
    return out


def normal_class_loglik(site, p, measurement_var=None):
    """scipy log N(y_o | mean_o, (Sigma + V_i [+ T at an unseen site])_oo), for
    :func:`brute_force_scores`; ``measurement_var`` (n, M, M) the known errors V_i."""
    def loglik(i, d, kk, o, y_o, mean, sigma):
        cov = sigma + (0.0 if measurement_var is None else measurement_var[i])
        if site[i] < 0:
            cov = cov + np.diag(p.tau[d] ** 2)
        return stats.multivariate_normal(mean[o], cov[np.ix_(o, o)]).logpdf(y_o)
    return loglik


def baseline(df):
    return df[df["visit"] == 0].reset_index(drop=True)


@pytest.fixture(scope="session")
def diag_train():
    # 5 strata (HC, MIMIC, PMA, ALS early, ALS established) x 60 = 300 subjects.
    data, _ = simulate_cohort("default", seed=101, n_per_group=60)
    return baseline(data)


@pytest.fixture(scope="session")
def diag_test():
    data, _ = simulate_cohort("default", seed=202, n_per_group=200)
    return baseline(data)


@pytest.fixture(scope="session")
def diag_fit(diag_train):
    """The default-spec model fitted on 300 subjects with the default sampler settings
    (4 chains x (1000 tune + 1000 draws)); it must converge (tests/models/test_diagnostic_fit)
    and a ConvergenceWarning here fails the run (pyproject's filterwarnings)."""
    return DiagnosticModel(seed=7).fit(diag_train)


def mann_whitney_auc(score, positive) -> float:
    """AUC as the Mann-Whitney probability P(score_pos > score_neg) + 0.5 P(tie)."""
    score = np.asarray(score, float)
    positive = np.asarray(positive, bool)
    pos, neg = score[positive], score[~positive]
    greater = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(greater + 0.5 * ties)


def calibration_slope(outcome, p) -> float:
    """Slope of the logistic recalibration model logit P(y) = a + b logit(p) (Newton-Raphson)."""
    p = np.clip(np.asarray(p, float), 1e-12, 1 - 1e-12)
    y = np.asarray(outcome, float)
    x = np.column_stack([np.ones_like(p), np.log(p / (1 - p))])
    coef = np.zeros(2)
    for _ in range(100):
        eta = x @ coef
        mu = 1 / (1 + np.exp(-eta))
        grad = x.T @ (y - mu)
        hess = x.T @ (x * (mu * (1 - mu))[:, None])
        step = np.linalg.solve(hess, grad)
        coef += step
        if np.abs(step).max() < 1e-10:
            break
    return float(coef[1])
