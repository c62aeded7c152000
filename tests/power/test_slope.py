"""The GLS slope engine checked against brute force, closed forms and identities."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg, stats

from alsstats.errors import AlsStatsError
from alsstats.power.slope import (
    edland_sample_size,
    exchangeable_covariance,
    random_effects_covariance,
    slope_difference_variance,
    slope_sample_size,
)

TIMES = np.array([0.0, 0.5, 1.0, 1.5, 2.0])
RE = dict(var_intercept=4.0, var_slope=1.0, cov_intercept_slope=-0.6, var_residual=2.0)


def brute_force_variance(times, cov, n_c, n_t, last_c, last_t, common_baseline):
    """Var(slope difference) by stacking every subject and inverting X'V^-1X explicitly."""
    rows_x, blocks = [], []
    for arm, n, lasts in ((0, n_c, last_c), (1, n_t, last_t)):
        for i in range(n):
            k = lasts[i]
            t = times[: k + 1]
            one, d = np.ones_like(t), np.full_like(t, arm)
            cols = [one, t, d * t] if common_baseline else [one, d, t, d * t]
            rows_x.append(np.column_stack(cols))
            blocks.append(cov[: k + 1, : k + 1])
    x = np.vstack(rows_x)
    v = linalg.block_diag(*blocks)
    info = x.T @ np.linalg.inv(v) @ x
    return np.linalg.inv(info)[-1, -1]


@pytest.mark.parametrize("common_baseline", [False, True])
def test_matches_brute_force_gls_with_dropout_and_unequal_allocation(common_baseline):
    cov = random_effects_covariance(TIMES, **RE)
    # 10 control subjects, 20 treated (allocation 2); last-visit counts per visit.
    counts_c = np.array([1, 1, 2, 2, 4])
    counts_t = 2 * counts_c
    last_c = np.repeat(np.arange(5), counts_c)
    last_t = np.repeat(np.arange(5), counts_t)
    expected = brute_force_variance(TIMES, cov, 10, 20, last_c, last_t, common_baseline)
    v = slope_difference_variance(TIMES, cov, allocation=2.0, dropout=counts_c / 10,
                                  common_baseline=common_baseline)
    assert v / 10 == pytest.approx(expected, rel=1e-10)


def test_two_visit_closed_form():
    # Two visits, separate intercepts: the slope difference is the difference of mean
    # changes / (t2 - t1); Var(change) = a'Va with a = (-1, 1).
    t = [0.0, 1.5]
    cov = random_effects_covariance(t, **RE)
    var_change = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    expected = 2 * var_change / 1.5**2
    assert slope_difference_variance(t, cov) == pytest.approx(expected, rel=1e-12)


def test_complete_data_classical_formula():
    # v = 2 (var_slope + var_residual / sum (t - tbar)^2) for equal arms, complete data.
    cov = random_effects_covariance(TIMES, **RE)
    sxx = np.sum((TIMES - TIMES.mean()) ** 2)
    assert slope_difference_variance(TIMES, cov) == pytest.approx(2 * (1.0 + 2.0 / sxx))


def test_edland_equals_gls_complete_and_is_conservative_with_dropout():
    cov = random_effects_covariance(TIMES, **RE)
    kw = dict(delta=0.5, power=0.8)
    gls = slope_sample_size(TIMES, covariance=cov, **kw).n_control
    ed = edland_sample_size(TIMES, var_slope=1.0, var_residual=2.0, **kw).n_control
    assert ed == pytest.approx(gls, rel=1e-12)
    drop = [0.1, 0.1, 0.1, 0.2, 0.5]
    gls_d = slope_sample_size(TIMES, covariance=cov, dropout=drop, **kw).n_control
    ed_d = edland_sample_size(TIMES, var_slope=1.0, var_residual=2.0, dropout=drop,
                              **kw).n_control
    assert gls < gls_d <= ed_d * (1 + 1e-12)


def test_common_baseline_never_needs_more_subjects():
    cov = random_effects_covariance(TIMES, **RE)
    drop = [0.2, 0.1, 0.1, 0.2, 0.4]
    sep = slope_difference_variance(TIMES, cov, dropout=drop)
    common = slope_difference_variance(TIMES, cov, dropout=drop, common_baseline=True)
    assert common < sep


def test_solve_round_trip_and_power_definition():
    kw = dict(**RE, alpha=0.05)
    n = slope_sample_size(TIMES, delta=0.4, power=0.9, **kw).n_control
    back = slope_sample_size(TIMES, delta=0.4, n=n, **kw)
    assert back.power == pytest.approx(0.9, abs=1e-12)
    d = slope_sample_size(TIMES, n=n, power=0.9, **kw).delta
    assert d == pytest.approx(0.4, rel=1e-12)
    # power = Phi(delta / SE - z_{1-alpha/2})
    z = stats.norm.isf(0.025)
    assert back.power == pytest.approx(stats.norm.cdf(0.4 / back.se - z))


def test_allocation_total_is_minimal_at_equal_allocation_for_equal_variances():
    cov = random_effects_covariance(TIMES, **RE)
    totals = {r: slope_sample_size(TIMES, covariance=cov, delta=0.5, power=0.8,
                                   allocation=r).n_total for r in (0.5, 1.0, 2.0, 3.0)}
    assert min(totals, key=totals.get) == 1.0
    # Total ∝ (1 + r)^2 / r for a fixed per-subject variance.
    assert totals[2.0] / totals[1.0] == pytest.approx((3**2 / 2) / 4)


def test_one_sided_needs_fewer_subjects():
    two = slope_sample_size(TIMES, delta=0.5, power=0.8, **RE).n_control
    one = slope_sample_size(TIMES, delta=0.5, power=0.8, alternative="one-sided", **RE).n_control
    z2, z1, zb = stats.norm.isf(0.025), stats.norm.isf(0.05), stats.norm.ppf(0.8)
    assert one / two == pytest.approx(((z1 + zb) / (z2 + zb)) ** 2)


def test_general_covariance_equals_random_effects_form():
    cov = random_effects_covariance(TIMES, **RE)
    a = slope_sample_size(TIMES, covariance=cov, delta=0.5, power=0.8).n_control
    b = slope_sample_size(TIMES, delta=0.5, power=0.8, **RE).n_control
    assert a == pytest.approx(b, rel=1e-14)


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(delta=0.5, power=0.8, n=100), "exactly one"),
    (dict(delta=0.5), "exactly one"),
    (dict(pct_change=30, slope=5, power=0.8), "fraction"),
    (dict(pct_change=0.3, power=0.8), "slope"),
    (dict(delta=0.5, power=0.8, dropout=[0.5, 0.5]), "one share per visit"),
    (dict(delta=0.5, power=0.8, dropout=[0.5, 0.5, 0.5, 0, 0]), "sum to 1"),
    (dict(delta=0.5, power=1.2), "power"),
    (dict(delta=0.5, power=0.8, alternative="greater"), "alternative"),
])
def test_invalid_input_is_rejected(kwargs, message):
    with pytest.raises(AlsStatsError, match=message):
        slope_sample_size(TIMES, **RE, **kwargs)


def test_not_estimable_when_everybody_leaves_after_baseline():
    with pytest.raises(AlsStatsError, match="not estimable"):
        slope_sample_size(TIMES, delta=0.5, power=0.8, dropout=[1, 0, 0, 0, 0], **RE)


def test_covariance_checks():
    with pytest.raises(AlsStatsError, match="positive definite"):
        slope_sample_size(TIMES, delta=0.5, power=0.8, covariance=-np.eye(5))
    with pytest.raises(AlsStatsError, match="correlation"):
        random_effects_covariance(TIMES, 1.0, 1.0, 2.0, 1.0)
    with pytest.raises(AlsStatsError, match="rho"):
        exchangeable_covariance(3, 1.0, -0.6)
    with pytest.raises(AlsStatsError, match="increasing"):
        slope_sample_size([0, 1, 1], delta=0.5, power=0.8, **RE)
