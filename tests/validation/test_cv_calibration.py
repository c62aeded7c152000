"""Grouped cross-validation and calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from alsstats.errors import DataValidationError
from alsstats.validation import (
    CutoffClassifier,
    calibration_summary,
    cross_validate,
    decision_curve,
    grouped_stratified_folds,
)


@pytest.fixture(scope="module")
def visits():
    rng = np.random.default_rng(0)
    n_subj = 80
    subj_y = rng.random(n_subj) < 0.5
    n_vis = rng.integers(1, 4, size=n_subj)
    subj = np.repeat(np.arange(n_subj), n_vis)
    y = np.repeat(subj_y, n_vis)
    x1 = rng.normal(size=subj.size) + 1.0 * y
    x2 = rng.normal(size=subj.size) + 0.5 * y
    return pd.DataFrame({"subject": subj, "y": y.astype(int), "x1": x1, "x2": x2})


def test_folds_never_split_a_subject_and_are_stratified(visits):
    splits = grouped_stratified_folds(visits["y"], visits["subject"], n_folds=5, n_repeats=3,
                                      seed=1)
    assert len(splits) == 15
    for sp in splits:
        assert not set(visits["subject"].iloc[sp.train]) & set(visits["subject"].iloc[sp.test])
    for r in range(3):
        tests = np.concatenate([sp.test for sp in splits if sp.repeat == r])
        assert np.array_equal(np.sort(tests), np.arange(len(visits)))  # each row tested once
        for sp in (s for s in splits if s.repeat == r):
            subj = visits.iloc[sp.test].drop_duplicates("subject")
            assert subj["y"].sum() >= 7 and (1 - subj["y"]).sum() >= 7  # ~40 per class / 5
    again = grouped_stratified_folds(visits["y"], visits["subject"], n_folds=5, n_repeats=3,
                                     seed=1)
    assert all(np.array_equal(a.test, b.test) for a, b in zip(splits, again, strict=True))


def test_too_few_subjects_per_class_is_a_clear_error():
    y = np.array([1] * 5 + [0] * 30)
    with pytest.raises(DataValidationError, match="use at most 2 folds"):
        grouped_stratified_folds(y, None, n_folds=5)


def test_outcome_varying_within_subject_is_an_error():
    with pytest.raises(DataValidationError, match="constant per subject"):
        grouped_stratified_folds([1, 0, 1, 0] * 5, ["a", "a", "b", "b"] * 5, n_folds=2)


def test_cutoff_classifier_is_an_sklearn_estimator():
    x = np.array([[0.9], [0.95], [0.97], [1.03], [1.05], [1.1]])
    y = np.array([1, 1, 1, 0, 0, 0])
    est = CutoffClassifier().fit(x, y)
    assert est.cutoff_ == pytest.approx(1.0) and est.direction_ == "<"
    assert (est.predict(x) == y).all()
    assert (np.sign(est.decision_function(x)) == np.where(y == 1, 1, -1)).all()
    assert clone(est).get_params() == est.get_params()


def test_cv_cutoff_rule_and_seed_reproducible_across_n_jobs(visits):
    kw = dict(groups=visits["subject"], n_folds=4, n_repeats=2, seed=11)
    a = cross_validate(CutoffClassifier(), visits[["x1"]], visits["y"], n_jobs=1, **kw)
    b = cross_validate(CutoffClassifier(), visits[["x1"]], visits["y"], n_jobs=2, **kw)
    assert np.array_equal(a.oof_scores, b.oof_scores) and a.splits.equals(b.splits)
    s = a.summary.set_index("quantity")
    assert 0.6 < s.loc["auc", "mean"] < 0.9 and "cutoff" in s.index
    assert "oof_scores" not in a.to_dict()


def test_cv_cutoff_rule_rejects_missing_marker_before_fitting(visits):
    x = visits[["x1"]].copy()
    x.iloc[5, 0] = np.nan
    with pytest.raises(DataValidationError, match="missing"):
        cross_validate(CutoffClassifier(), x, visits["y"], groups=visits["subject"], n_jobs=2,
                       n_folds=3, n_repeats=1, seed=1)


def test_cv_random_estimator_reproducible_across_n_jobs(visits):
    est = RandomForestClassifier(n_estimators=10)
    kw = dict(groups=visits["subject"], n_folds=3, n_repeats=1, seed=5)
    a = cross_validate(est, visits[["x1", "x2"]], visits["y"], n_jobs=1, **kw)
    b = cross_validate(est, visits[["x1", "x2"]], visits["y"], n_jobs=2, **kw)
    assert np.array_equal(a.oof_scores, b.oof_scores)


def test_cv_pipeline_scaling_fitted_in_training_folds(visits):
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    r = cross_validate(pipe, visits[["x1", "x2"]].to_numpy(), visits["y"].to_numpy(),
                       groups=visits["subject"], n_folds=4, n_repeats=2, seed=2)
    assert r.splits.shape[0] == 8 and r.summary.set_index("quantity").loc["auc", "mean"] > 0.6


def test_calibration_of_true_probabilities():
    rng = np.random.default_rng(7)
    lp = rng.normal(size=4000)
    p = 1 / (1 + np.exp(-lp))
    y = rng.random(4000) < p
    c = calibration_summary(y, p)
    # true probabilities: intercept 0 and slope 1 inside their 95% Wald intervals
    assert c.intercept_lower < 0 < c.intercept_upper and c.slope_lower < 1 < c.slope_upper
    assert c.brier == pytest.approx(np.mean((p - y) ** 2))
    assert c.reliability["n"].sum() == 4000
    # overconfident predictions (lp doubled) give slope ~ 0.5
    c2 = calibration_summary(y, 1 / (1 + np.exp(-2 * lp)))
    assert c2.slope == pytest.approx(0.5, abs=0.06)
    with pytest.raises(DataValidationError, match=r"\[0, 1\]"):
        calibration_summary([0, 1], [0.5, 1.5])


def test_decision_curve_identities():
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    p = np.array([0.9, 0.6, 0.7, 0.2, 0.4, 0.1, 0.3, 0.05])
    dc = decision_curve(y, p, thresholds=[0.01, 0.5])
    c = dc.curve
    # at 0.5: treat p >= 0.5 -> TP 2, FP 1 of 8: NB = 2/8 - 1/8 * 1
    assert c["net_benefit"].iloc[1] == pytest.approx(2 / 8 - 1 / 8)
    # below every prediction, the model treats everybody: NB = treat-all
    assert c["net_benefit"].iloc[0] == pytest.approx(c["treat_all"].iloc[0])
    assert c["treat_all"].iloc[1] == pytest.approx(3 / 8 - 5 / 8)
