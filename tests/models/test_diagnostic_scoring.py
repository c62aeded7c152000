"""Posterior scoring equals a brute-force per-patient, per-draw scipy computation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import softmax

from alsstats.inference.scoring import PosteriorParameters, class_probabilities


def _random_params(rng, d=40, k=3, m=4, c=2, s=3, per_class=False):
    a = rng.normal(size=(d, k, m, m) if per_class else (d, m, m)) * 0.4
    sigma = a @ np.swapaxes(a, -1, -2) + np.eye(m)
    return PosteriorParameters(mu=rng.normal(size=(d, k, m)), B=rng.normal(size=(d, c, m)) * 0.3,
                               u=rng.normal(size=(d, s, m)) * 0.3,
                               tau=np.abs(rng.normal(size=(d, m))) * 0.5, Sigma=sigma)


def brute_force(y, x, site, p: PosteriorParameters, log_prior, interval):
    """Per patient and draw: scipy MVN log-densities of the observed markers, softmax."""
    n, k = y.shape[0], p.mu.shape[1]
    mean, low, high = (np.empty((n, k)) for _ in range(3))
    q = [(1 - interval) / 2, (1 + interval) / 2]
    for i in range(n):
        o = np.flatnonzero(np.isfinite(y[i]))
        probs = np.empty((p.mu.shape[0], k))
        for d in range(p.mu.shape[0]):
            logl = np.empty(k)
            for kk in range(k):
                cov = p.Sigma[d, kk] if p.per_class else p.Sigma[d]
                cov = cov[np.ix_(o, o)]
                loc = p.mu[d, kk, o] + x[i] @ p.B[d][:, o]
                if site[i] >= 0:
                    loc = loc + p.u[d, site[i], o]
                else:
                    cov = cov + np.diag(p.tau[d, o] ** 2)
                logl[kk] = stats.multivariate_normal(loc, cov).logpdf(y[i, o]) if len(o) else 0
            probs[d] = softmax(logl + log_prior)
        mean[i] = probs.mean(0)
        low[i], high[i] = np.quantile(probs, q, axis=0)
    return mean, low, high


@pytest.mark.parametrize("per_class", [False, True])
def test_scoring_matches_brute_force(per_class):
    rng = np.random.default_rng(3)
    p = _random_params(rng, per_class=per_class)
    n = 12
    y = rng.normal(size=(n, 4))
    y[1, :2] = np.nan          # missing a modality
    y[2, 3] = np.nan
    y[3, :] = np.nan           # no markers at all
    x = rng.normal(size=(n, 2))
    site = np.array([0, 1, 2, -1, -1, 0, 1, 2, -1, 0, 1, 2])  # -1: unseen site
    log_prior = np.log([0.2, 0.3, 0.5])
    got = class_probabilities(y, x, site, p, log_prior, interval=0.8)
    want = brute_force(y, x, site, p, log_prior, 0.8)
    for g, w in zip((got.mean, got.low, got.high), want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
    # The patient without markers gets the prior, with no spread.
    np.testing.assert_allclose(got.mean[3], [0.2, 0.3, 0.5])
    np.testing.assert_allclose(got.high[3] - got.low[3], 0.0)


def test_scoring_many_draws_interval_selection():
    """With 2000 draws the O(D) order-statistic selection equals np.quantile."""
    rng = np.random.default_rng(4)
    p = _random_params(rng, d=2000, m=3, s=2)
    y = rng.normal(size=(5, 3))
    x = rng.normal(size=(5, 2))
    site = np.array([0, 1, -1, 0, 1])
    got = class_probabilities(y, x, site, p, np.log([1 / 3] * 3), interval=0.9)
    want = brute_force(y, x, site, p, np.log([1 / 3] * 3), 0.9)
    np.testing.assert_allclose(got.low, want[1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.high, want[2], rtol=1e-9, atol=1e-12)
