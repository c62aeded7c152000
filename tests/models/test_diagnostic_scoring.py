"""Posterior scoring equals a brute-force per-patient, per-draw scipy computation."""

from __future__ import annotations

import numpy as np
import pytest

from alsstats.inference.scoring import class_probabilities
from tests.models.conftest import brute_force_scores, random_posterior


@pytest.mark.parametrize("per_class", [False, True])
def test_scoring_matches_brute_force(per_class):
    rng = np.random.default_rng(3)
    p = random_posterior(rng, d=40, m=4, s=3, per_class=per_class)
    n = 12
    y = rng.normal(size=(n, 4))
    y[1, :2] = np.nan          # missing a modality
    y[2, 3] = np.nan
    y[3, :] = np.nan           # no markers at all
    x = rng.normal(size=(n, 2))
    site = np.array([0, 1, 2, -1, -1, 0, 1, 2, -1, 0, 1, 2])  # -1: unseen site
    log_prior = np.log([0.2, 0.3, 0.5])
    got = class_probabilities(y, x, site, p, log_prior, interval=0.8)
    want = brute_force_scores(y, x, site, p, log_prior, 0.8)
    for g, w in zip((got.mean, got.low, got.high), want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
    # The patient without markers gets the prior, with no spread.
    np.testing.assert_allclose(got.mean[3], [0.2, 0.3, 0.5])
    np.testing.assert_allclose(got.high[3] - got.low[3], 0.0)


def test_scoring_many_draws_interval_selection():
    """With 2000 draws the O(D) order-statistic selection equals np.quantile."""
    rng = np.random.default_rng(4)
    p = random_posterior(rng, d=2000, m=3, s=2)
    y = rng.normal(size=(5, 3))
    x = rng.normal(size=(5, 2))
    site = np.array([0, 1, -1, 0, 1])
    got = class_probabilities(y, x, site, p, np.log([1 / 3] * 3), interval=0.9)
    want = brute_force_scores(y, x, site, p, np.log([1 / 3] * 3), 0.9)
    np.testing.assert_allclose(got.low, want[1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.high, want[2], rtol=1e-9, atol=1e-12)
