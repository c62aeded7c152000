"""Cutoffs, intervals and cutoff stability: published values, hand computations, truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from alsstats.errors import DataValidationError
from alsstats.validation import (
    clopper_pearson_interval,
    cutoff_performance,
    cutoff_stability,
    likelihood_ratio_interval,
    optimal_cutoff,
    ppv_npv_by_prevalence,
    validate_cutoff,
    wilson_interval,
)


def test_wilson_and_exact_match_presize():
    # presize tests/testthat/test-diagnostic.R (references.md): sensitivity 0.4 with 100 diseased
    lo, hi = wilson_interval(40, 100)
    assert (float(lo), float(hi)) == pytest.approx((0.3094013, 0.4979974), abs=1e-7)
    lo, hi = clopper_pearson_interval(40, 100)
    assert (float(lo), float(hi)) == pytest.approx((0.3032948, 0.5027908), abs=1e-7)
    lo, hi = clopper_pearson_interval([0, 10], [10, 10])
    assert lo[0] == 0 and hi[1] == 1


def test_likelihood_ratio_log_interval_by_hand():
    tp, fn, tn, fp = 30, 10, 45, 15
    r = likelihood_ratio_interval(tp, fn, tn, fp)
    z = stats.norm.ppf(0.975)
    lr = (30 / 40) / (15 / 60)
    se = np.sqrt(1 / 30 - 1 / 40 + 1 / 15 - 1 / 60)  # Simel et al. 1991
    assert r["lr_pos"] == pytest.approx(lr)
    assert r["lr_pos_lower"] == pytest.approx(lr * np.exp(-z * se))
    lrn, sen = (10 / 40) / (45 / 60), np.sqrt(1 / 10 - 1 / 40 + 1 / 45 - 1 / 60)
    assert r["lr_neg_upper"] == pytest.approx(lrn * np.exp(z * sen))
    assert not r["continuity_corrected"]
    assert likelihood_ratio_interval(40, 0, 50, 10)["continuity_corrected"]


def test_cutoff_is_midpoint_and_rule_states_direction():
    s = np.array([0.90, 0.95, 0.98, 1.02, 1.05, 1.10])
    y = np.array([1, 1, 1, 0, 0, 0])
    r = optimal_cutoff(y, s, name="ratio")
    assert r.cutoff == pytest.approx(1.00) and r.direction == "<" and r.direction_detected
    assert r.rule == "positive if ratio < 1"
    assert r.sensitivity == 1 and r.specificity == 1
    r2 = optimal_cutoff(y, -s, direction=">")
    assert r2.cutoff == pytest.approx(-1.00) and r2.rule.startswith("positive if score >=")


def test_youden_ties_take_the_middle():
    # J = 0.5 at three cutoffs (2.5, 4.5 and 6.5); the middle one is returned
    s = np.array([1, 2, 3, 4, 5, 6, 7, 8.0])
    y = np.array([0, 0, 1, 0, 1, 0, 1, 1])
    r = optimal_cutoff(y, s, direction=">")
    assert r.tied_cutoffs == pytest.approx([2.5, 4.5, 6.5])
    assert r.cutoff == pytest.approx(4.5) and r.criterion == pytest.approx(0.5)


def test_fixed_and_cost_methods():
    rng = np.random.default_rng(1)
    y = rng.random(400) < 0.5
    s = rng.normal(size=400) + 1.2 * y
    fs = optimal_cutoff(y, s, method="fixed-spec", specificity=0.9)
    assert fs.specificity >= 0.9
    # no cutoff with specificity >= 0.9 has higher sensitivity
    calls_better = [np.mean(s[y] >= c) for c in np.unique(s) if np.mean(s[~y] < c) >= 0.9]
    assert fs.sensitivity == pytest.approx(max(calls_better))
    fsn = optimal_cutoff(y, s, method="fixed-sens", sensitivity=0.9)
    assert fsn.sensitivity >= 0.9
    # equal costs at prevalence 1/2 minimise 1 - (Se + Sp)/2: the Youden cutoff
    cost = optimal_cutoff(y, s, method="cost", prevalence=0.5)
    assert cost.cutoff == pytest.approx(optimal_cutoff(y, s).cutoff)
    # expensive false negatives move the cutoff to more sensitivity
    assert optimal_cutoff(y, s, method="cost", cost_fn=5).sensitivity > cost.sensitivity
    with pytest.raises(DataValidationError, match="specificity"):
        optimal_cutoff(y, s, method="fixed-spec")
    with pytest.raises(DataValidationError, match="method"):
        optimal_cutoff(y, s, method="best")


def test_performance_counts_and_bayes_ppv():
    s = np.array([0.8, 0.9, 0.95, 1.05, 0.97, 1.1, 1.2, 1.3])
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    p = cutoff_performance(y, s, 1.00, direction="<")
    assert (p.tp, p.fn, p.tn, p.fp) == (3, 1, 3, 1)
    est, lo, hi = p.get("sensitivity", "exact")
    assert est == 0.75 and (lo, hi) == pytest.approx(
        tuple(float(v) for v in clopper_pearson_interval(3, 4)))
    # a score equal to the cutoff is negative for '<' and positive for '>'
    assert cutoff_performance([1, 0], [1.0, 2.0], 1.0, direction="<").tp == 0
    assert cutoff_performance([1, 0], [1.0, 0.0], 1.0, direction=">").tp == 1
    pv = ppv_npv_by_prevalence(p, [0.1, 0.5])
    lrp = 0.75 / 0.25
    assert pv["ppv"].iloc[1] == pytest.approx(lrp / (lrp + 1))  # π = 1/2: PPV = LR+/(LR+ + 1)
    assert (pv["ppv_lower"] <= pv["ppv"]).all() and (pv["npv"] <= pv["npv_upper"]).all()
    with_prev = cutoff_performance(y, s, 1.00, direction="<", prevalence=0.1)
    assert with_prev.get("ppv", "bayes-logit")[0] == pytest.approx(pv["ppv"].iloc[0])


def test_stability_oob_and_reproducible():
    rng = np.random.default_rng(2)
    y = rng.random(300) < 0.4
    s = rng.normal(size=300) + 1.5 * y
    a = cutoff_stability(y, s, n_boot=200, seed=4)
    b = cutoff_stability(y, s, n_boot=200, seed=4)
    assert a.replicates.equals(b.replicates) and a.n_failed == 0
    # the Youden cutoff of two normals N(0,1), N(1.5,1) is 0.75 (equal densities)
    cut = a.summary.set_index("quantity").loc["cutoff"]
    assert cut["lower"] < 0.75 < cut["upper"]
    # out-of-bag accuracy is not better than in-bag (optimism)
    summ = a.summary.set_index("quantity")["mean"]
    assert summ["oob_sensitivity"] + summ["oob_specificity"] <= \
        summ["sensitivity"] + summ["specificity"] + 0.01
    p, se = a.prob_within(0.75, 10.0)
    assert p == 1 and se == 0


def test_grouped_bootstrap_keeps_subjects_together():
    rng = np.random.default_rng(3)
    subj = np.repeat(np.arange(60), 2)
    y = np.repeat(rng.random(60) < 0.5, 2)
    s = rng.normal(size=120) + y
    r = cutoff_stability(y, s, n_boot=50, seed=1, groups=subj)
    assert r.replicates["cutoff"].notna().all()


def test_validate_prespecified_cutoff_covers_truth():
    # positives N(0.95, 0.04), negatives N(1.05, 0.04); rule ratio < 1.00
    rng = np.random.default_rng(5)
    n = 200
    y = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    s = np.where(y, rng.normal(0.95, 0.04, 2 * n), rng.normal(1.05, 0.04, 2 * n))
    sites = np.tile(["A", "B"], n)
    v = validate_cutoff(y, s, 1.00, direction="<", delta=0.02, n_boot=200, seed=6, sites=sites)
    true_se = stats.norm.cdf((1.00 - 0.95) / 0.04)
    _, lo, hi = v.performance.get("sensitivity")
    assert lo < true_se < hi
    assert v.rule == "positive if score < 1"
    assert v.prob_within_delta > 0.5  # the optimum (1.00 by symmetry) sits near 1.00
    assert set(v.by_site["site"]) == {"A", "B"} and len(v.by_fold) == 5
    assert (v.by_fold["trained_cutoff"].sub(1.0).abs() < 0.03).all()
    import json

    json.dumps(v.to_dict())
