"""ROC, AUC, DeLong and bootstrap: exact identities and simulation truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from alsstats.errors import DataValidationError
from alsstats.validation import (
    auc,
    bootstrap_auc_ci,
    compare_aucs,
    delong_ci,
    delong_covariance,
    delong_test,
    holm_adjust,
    partial_auc,
    roc_curve,
)
from alsstats.validation.bootstrap import _counts, bootstrap_aucs


def _tied_data(seed=0, n=80):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.4
    y[:2], y[2:4] = True, False
    s = np.round(rng.normal(size=n) + 0.8 * y, 1)  # rounding makes many ties
    return s, y


def _psi(x, yv):
    return (x[:, None] > yv[None, :]) + 0.5 * (x[:, None] == yv[None, :])


def _brute_delong(score_rows, y):
    """O(n²) DeLong (1988) covariance straight from the definition."""
    v10 = np.array([_psi(s[y], s[~y]).mean(axis=1) for s in score_rows])
    v01 = np.array([_psi(s[y], s[~y]).mean(axis=0) for s in score_rows])
    m, n = y.sum(), (~y).sum()
    return v10.mean(axis=1), np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n


def test_auc_is_mann_whitney_with_ties():
    s, y = _tied_data()
    u = stats.mannwhitneyu(s[y], s[~y]).statistic
    assert auc(y, s, direction=">") == pytest.approx(u / (y.sum() * (~y).sum()), abs=1e-12)
    assert auc(y, s, direction="<") == pytest.approx(1 - u / (y.sum() * (~y).sum()), abs=1e-12)


def test_weighted_auc_equals_auc_of_replicated_rows():
    s, y = _tied_data(1)
    w = np.random.default_rng(2).integers(1, 4, size=s.size)
    assert auc(y, s, direction=">", weights=w) == pytest.approx(
        auc(np.repeat(y, w), np.repeat(s, w), direction=">"), abs=1e-12)


def test_roc_curve_area_and_midpoints():
    s, y = _tied_data(3)
    c = roc_curve(y, s, direction=">")
    assert np.trapezoid(c.sensitivity, c.fpr) == pytest.approx(c.auc, abs=1e-12)
    inner = np.sort(c.thresholds[1:-1])
    values = np.unique(s)
    np.testing.assert_allclose(inner, (values[1:] + values[:-1]) / 2)
    # each threshold's sensitivity is the share of positives called positive (score >= t)
    for t, se in zip(c.thresholds[1:-1], c.sensitivity[1:-1], strict=True):
        assert se == pytest.approx(np.mean(s[y] >= t))
    c2 = roc_curve(y, s, direction="<")
    for t, sp in zip(c2.thresholds[1:-1], c2.specificity[1:-1], strict=True):
        assert sp == pytest.approx(np.mean(s[~y] >= t))


def test_delong_variance_equals_brute_force():
    s, y = _tied_data(4)
    aucs, cov = delong_covariance(y, [s], direction=">")
    b_auc, b_cov = _brute_delong([s], y)
    assert aucs[0] == pytest.approx(b_auc[0], abs=1e-12)
    assert cov[0, 0] == pytest.approx(b_cov[0, 0], rel=1e-10)
    res = delong_ci(y, s, direction=">")
    z = stats.norm.ppf(0.975)
    assert res.lower == pytest.approx(b_auc[0] - z * np.sqrt(b_cov[0, 0]), abs=1e-12)


def test_delong_covariance_matrix_equals_brute_force():
    s, y = _tied_data(5)
    rng = np.random.default_rng(6)
    rows = [s, np.round(s + rng.normal(size=s.size), 1), rng.integers(0, 3, size=s.size) + 0.0]
    aucs, cov = delong_covariance(y, rows, direction=">")
    b_auc, b_cov = _brute_delong(rows, y)
    np.testing.assert_allclose(aucs, b_auc, atol=1e-12)
    np.testing.assert_allclose(cov, b_cov, rtol=1e-10, atol=1e-15)


def test_paired_test_marker_vs_itself_and_monotone_transform():
    s, y = _tied_data(7)
    res = delong_test(y, s, s)
    assert res.difference == 0 and res.z == 0 and res.p_value == 1
    res2 = delong_test(y, s, np.exp(s))  # same ranking -> identical placement values
    assert res2.difference == pytest.approx(0, abs=1e-14) and res2.p_value == pytest.approx(1)


def test_paired_test_is_antisymmetric_and_matches_covariance():
    s, y = _tied_data(8)
    s2 = s + np.random.default_rng(9).normal(size=s.size)
    a, b = delong_test(y, s, s2, direction=">"), delong_test(y, s2, s, direction=">")
    assert a.z == pytest.approx(-b.z) and a.p_value == pytest.approx(b.p_value)
    _, cov = _brute_delong([s, s2], y)
    assert a.se == pytest.approx(np.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]), rel=1e-10)
    # k = 2 joint chi-square equals the paired z squared
    comp = compare_aucs(y, {"a": s, "b": s2}, direction=">")
    assert comp.chi2 == pytest.approx(a.z**2, rel=1e-10) and comp.df == 1


def test_compare_three_aucs_holm():
    rng = np.random.default_rng(10)
    n = 300
    y = rng.random(n) < 0.5
    markers = {f"m{d}": rng.normal(size=n) + d * y for d in (0.0, 0.5, 1.0)}
    comp = compare_aucs(y, markers, direction=">")
    assert comp.df == 2 and comp.p_value < 1e-6
    assert list(comp.contrasts["contrast"]) == ["m0.0 - m0.5", "m0.0 - m1.0", "m0.5 - m1.0"]
    np.testing.assert_allclose(comp.contrasts["p_holm"], holm_adjust(comp.contrasts["p_value"]))
    assert comp.to_frame().shape == (3, 5)
    assert set(comp.to_dict()) >= {"aucs", "covariance", "contrasts", "chi2"}


def test_joint_test_invariant_to_contrast_basis():
    rng = np.random.default_rng(14)
    y = rng.random(200) < 0.5
    rows = [rng.normal(size=200) + d * y for d in (0.3, 0.6, 0.9)]
    default = compare_aucs(y, rows, direction=">")
    vs_first = compare_aucs(y, rows, direction=">", contrasts=[[1, -1, 0], [1, 0, -1]])
    assert vs_first.chi2 == pytest.approx(default.chi2, rel=1e-10) and vs_first.df == 2
    aucs, cov = delong_covariance(y, rows, direction=">")
    d = np.array([aucs[0] - aucs[1], aucs[0] - aucs[2]])
    L = np.array([[1, -1, 0], [1, 0, -1.0]])
    assert vs_first.chi2 == pytest.approx(d @ np.linalg.solve(L @ cov @ L.T, d), rel=1e-10)


def test_holm_values():
    # Holm 1979 by hand: sorted p (0.01, 0.02, 0.04) -> (0.03, 0.04, 0.04)
    np.testing.assert_allclose(holm_adjust([0.04, 0.01, 0.02]), [0.04, 0.03, 0.04])


def test_partial_auc():
    s, y = _tied_data(11)
    full = partial_auc(y, s, specificity=(0.0, 1.0), direction=">")
    assert full.pauc == pytest.approx(auc(y, s, direction=">"), abs=1e-12)
    # additivity over adjacent specificity ranges
    low = partial_auc(y, s, specificity=(0.0, 0.8), direction=">")
    high = partial_auc(y, s, specificity=(0.8, 1.0), direction=">")
    assert low.pauc + high.pauc == pytest.approx(full.pauc, abs=1e-12)
    # by hand: positives (3, 2), negatives (1, 2) -> ROC (0,0), (0,.5), (.5,1), (1,1);
    # over FPR [0, 0.2] TPR = 0.5 + f, area 0.1 + 0.02 = 0.12
    hand = partial_auc([1, 1, 0, 0], [3.0, 2.0, 1.0, 2.0], specificity=(0.8, 1.0))
    assert hand.pauc == pytest.approx(0.12, abs=1e-12)
    # McClish: min = (0.2² − 0)/2 = 0.02, max = 0.2 -> 0.5 (1 + 0.1/0.18)
    assert hand.standardized == pytest.approx(0.5 * (1 + 0.10 / 0.18), abs=1e-12)
    perfect = partial_auc([0, 0, 1, 1], [0, 0, 1, 1.0], specificity=(0.8, 1.0))
    assert perfect.standardized == pytest.approx(1.0)
    with pytest.raises(DataValidationError):
        partial_auc(y, s, specificity=(0.9, 0.8))
    boot = partial_auc(y, s, specificity=(0.8, 1.0), direction=">", n_boot=300, seed=1)
    assert boot.lower < high.pauc < boot.upper and boot.n_boot == 300
    assert boot == partial_auc(y, s, specificity=(0.8, 1.0), direction=">", n_boot=300, seed=1)


def test_bootstrap_replicates_equal_explicit_resampling():
    s, y = _tied_data(12, n=40)
    o = s.copy()
    reps = bootstrap_aucs(o, y, None, 50, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    pos, neg = o[y], np.sort(o[~y], kind="stable")
    c, d = _counts(rng, pos.size, 50), _counts(rng, neg.size, 50)
    for b in (0, 17, 49):
        xs, ys = np.repeat(pos, c[b]), np.repeat(neg, d[b])
        assert reps[b] == pytest.approx(_psi(xs, ys).mean(), abs=1e-12)


def test_bootstrap_reproducible_and_sane():
    s, y = _tied_data(13)
    a = bootstrap_auc_ci(y, s, n_boot=500, seed=5)
    b = bootstrap_auc_ci(y, s, n_boot=500, seed=5)
    assert a == b and a.lower < a.auc < a.upper
    d = delong_ci(y, s)
    assert a.se == pytest.approx(d.se, rel=0.25)  # two estimates of the same SE


def test_bad_input():
    with pytest.raises(DataValidationError, match="each class"):
        auc([1, 1, 1], [1.0, 2.0, 3.0])
    with pytest.raises(DataValidationError, match="missing"):
        auc([1, 0, 1], [1.0, np.nan, 3.0])
    with pytest.raises(DataValidationError, match="numeric"):
        auc([1, 0], np.array(["a", "b"], dtype=object))
    with pytest.raises(DataValidationError, match="labels"):
        auc([0, 1, 2], [1.0, 2.0, 3.0])
    with pytest.raises(DataValidationError, match="missing label"):
        auc(np.array([0, 1, None], dtype=object), [1.0, 2.0, 3.0])
    with pytest.raises(DataValidationError, match="missing"):
        auc([0, 1, 1, 0], pd.array([1.0, None, 3.0, 4.0], dtype="Float64"))
    assert auc(pd.array([0, 1], dtype="Int64"), pd.array([1.0, 2.0], dtype="Float64")) == 1
    with pytest.raises(DataValidationError, match="direction"):
        auc([0, 1], [1.0, 2.0], direction="up")


def _coverage(method: str, n_rep: int, n_per_class: int, seed: int, n_boot: int = 400):
    """Share of 95% intervals covering the true binormal AUC Φ(d/√2), d = 1."""
    d = 1.0
    truth = stats.norm.cdf(d / np.sqrt(2))
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(n_per_class, bool), np.zeros(n_per_class, bool)]
    hits = 0
    for _ in range(n_rep):
        s = rng.normal(size=y.size) + d * y
        if method == "delong":
            r = delong_ci(y, s, direction=">")
        else:
            r = bootstrap_auc_ci(y, s, direction=">", n_boot=n_boot, seed=rng)
        hits += r.lower <= truth <= r.upper
    return hits / n_rep


@pytest.mark.parametrize(("method", "n_rep"), [("delong", 600), ("bootstrap", 200)])
def test_interval_coverage_binormal(method, n_rep):
    # MC standard error of a coverage near 0.95: sqrt(0.95*0.05/n_rep) (0.0089 and 0.0154);
    # accept within 3 MC SE (the bootstrap percentile interval runs a little short at n=60).
    cov = _coverage(method, n_rep, 60, seed=20)
    mc_se = np.sqrt(0.95 * 0.05 / n_rep)
    assert abs(cov - 0.95) < 3 * mc_se, cov


@pytest.mark.slow
@pytest.mark.parametrize("method", ["delong", "bootstrap"])
def test_interval_coverage_binormal_slow(method):
    n_rep = 2000
    cov = _coverage(method, n_rep, 100, seed=21, n_boot=1000)
    assert abs(cov - 0.95) < 3 * np.sqrt(0.95 * 0.05 / n_rep), cov
