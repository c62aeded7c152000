"""Decision-curve bootstrap intervals (``decision_curve(..., n_boot=...)``)."""

from __future__ import annotations

import numpy as np

from alsstats.validation import decision_curve


def test_decision_curve_bootstrap_equals_naive_resampling():
    """The O(n) cumulative-sum replicate equals recomputing net benefit on each resample."""
    from alsstats.random import as_generator

    rng = np.random.default_rng(8)
    n = 200
    p = rng.random(n)
    y = rng.random(n) < p
    pt = np.array([0.1, 0.3, 0.5, 0.7])
    fast = decision_curve(y, p, thresholds=pt, n_boot=150, seed=4).curve
    gen = as_generator(4)
    reps = []
    for _ in range(150):
        i = gen.integers(0, n, n)
        reps.append(decision_curve(y[i], p[i], thresholds=pt).curve["net_benefit"].to_numpy())
    lo, hi = np.quantile(np.array(reps), [0.025, 0.975], axis=0)
    np.testing.assert_allclose(fast["net_benefit_lower"], lo, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast["net_benefit_upper"], hi, rtol=0, atol=1e-12)
