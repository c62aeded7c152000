"""Riley criteria and the noncentral-t power: identities beyond the published examples."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from alsstats.errors import AlsStatsError
from alsstats.power.prediction import binary_sample_size, continuous_sample_size
from alsstats.power.ttest import t_test_power, t_test_sample_size


def test_binary_criteria_by_hand():
    p, r2, phi = 10, 0.15, 0.3
    res = binary_sample_size(r2, p, phi)
    n1 = p / ((0.9 - 1) * math.log(1 - r2 / 0.9))
    max_r2 = 1 - (phi**phi * (1 - phi) ** (1 - phi)) ** 2
    s = r2 / (r2 + 0.05 * max_r2)
    n2 = p / ((s - 1) * math.log(1 - r2 / s))
    n3 = (stats.norm.isf(0.025) / 0.05) ** 2 * phi * (1 - phi)
    assert [c.n for c in res.criteria] == [math.ceil(n1), math.ceil(n2), math.ceil(n3)]
    assert res.details["max_r2_cs"] == pytest.approx(max_r2)


def test_continuous_criterion_2_is_exact_optimism():
    res = continuous_sample_size(0.3, 12, 10.0, 2.0)
    n2 = res.criteria[1].n
    # R²_app − R²_adj = (1 − R²_app) p / (n − p − 1) must be <= 0.05 at n2 and > at n2 − 1.
    def optimism(n):
        r2_app = (0.3 * (n - 13) + 12) / (n - 1)
        return r2_app - 0.3
    assert optimism(n2) <= 0.05 + 1e-12 < optimism(n2 - 1)


def test_prediction_input_errors():
    with pytest.raises(AlsStatsError, match="exceeds its maximum"):
        binary_sample_size(0.7, 10, 0.05)
    with pytest.raises(AlsStatsError, match="parameters"):
        binary_sample_size(0.2, 0, 0.3)
    with pytest.raises(AlsStatsError, match="intercept"):
        continuous_sample_size(0.2, 10, 0.0, 1.0)


def test_t_power_counts_both_tails_and_matches_normal_for_large_n():
    # Large n: the noncentral t power approaches the normal approximation.
    n = 5000
    d = 0.06
    z = stats.norm.isf(0.025)
    lam = d * math.sqrt(n / 2)
    normal = stats.norm.sf(z - lam) + stats.norm.cdf(-z - lam)
    assert t_test_power(d, n) == pytest.approx(normal, abs=1e-4)
    # At d -> 0 the power is alpha.
    assert t_test_power(1e-9, 30) == pytest.approx(0.05, abs=1e-8)


def test_t_one_sided_sample_size_round_trip():
    n = t_test_sample_size(0.4, 0.9, 0.025, "one-sided")
    assert t_test_power(0.4, n, 0.025, "one-sided") == pytest.approx(0.9, abs=1e-10)
