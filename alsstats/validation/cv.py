"""Repeated, stratified, subject-grouped cross-validation of classifiers and cutoff rules.

Every data-driven choice is made inside the training folds: the estimator
(e.g. a scikit-learn ``Pipeline`` with scaling) is cloned with
:func:`sklearn.base.clone` and fitted on the training rows only; a
single-marker rule is the estimator :class:`CutoffClassifier`, whose cutoff
and direction are learned in ``fit``.  Test-fold scores are
``predict_proba[:, positive]`` (or ``decision_function``), and calls are
``predict``.

Reported per split: AUC, sensitivity and specificity on the test fold;
per repeat: the AUC of the pooled out-of-fold scores.  The summary gives
mean, SD and range over splits, the spread that matters when asking
whether a marker holds up out of sample.

Parallel over splits with joblib.  Splits come from
:func:`~alsstats.validation.folds.grouped_stratified_folds` with one child
seed, and each split's estimator gets its own child seed (set on every
``random_state`` parameter the user left as ``None``), so results depend
on the seed only, never on ``n_jobs``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from alsstats.errors import DataValidationError, NotFittedError, Problem
from alsstats.validation._inputs import check_binary, check_direction
from alsstats.validation._results import Result
from alsstats.validation.cutoffs import _check_method, classify, optimal_cutoff
from alsstats.validation.folds import Split, grouped_stratified_folds
from alsstats.validation.roc import _auc_oriented

__all__ = ["CVResult", "CutoffClassifier", "cross_validate"]


def _one_column(X) -> np.ndarray:
    a = X.to_numpy() if hasattr(X, "to_numpy") else np.asarray(X)
    if a.ndim == 2:
        if a.shape[1] != 1:
            raise DataValidationError([Problem(
                f"a cutoff rule uses one marker; X has {a.shape[1]} columns")])
        a = a[:, 0]
    return a


class CutoffClassifier(ClassifierMixin, BaseEstimator):
    """A single-marker cutoff rule as a scikit-learn classifier.

    ``fit`` chooses the direction (unless given) and the optimal cutoff on
    the training data with :func:`~alsstats.validation.optimal_cutoff`
    (``method`` 'youden', 'fixed-spec', 'fixed-sens' or 'cost').
    ``predict`` applies the rule (``x >= cutoff_`` for '>', ``x < cutoff_``
    for '<'); ``decision_function`` is the signed distance to the cutoff
    (``x − cutoff_`` or ``cutoff_ − x``), larger meaning more likely positive.
    The positive class is ``classes_[1]`` (the larger label).

    Attributes
    ----------
    cutoff_, direction_, rule_, classes_
    """

    def __init__(self, method: str = "youden", direction: str = "auto",
                 specificity: float | None = None, sensitivity: float | None = None,
                 cost_fp: float = 1.0, cost_fn: float = 1.0,
                 prevalence: float | None = None):
        self.method = method
        self.direction = direction
        self.specificity = specificity
        self.sensitivity = sensitivity
        self.cost_fp = cost_fp
        self.cost_fn = cost_fn
        self.prevalence = prevalence

    def fit(self, X, y):
        check_direction(self.direction)
        _check_method(self.method, self.specificity, self.sensitivity, self.cost_fp,
                      self.cost_fn, self.prevalence)
        classes = np.unique(np.asarray(y))
        if classes.size != 2:
            raise DataValidationError([Problem(
                f"the outcome needs exactly two classes, found {classes.size}")])
        self.classes_ = classes
        res = optimal_cutoff(np.asarray(y) == classes[1], _one_column(X), method=self.method,
                             direction=self.direction, specificity=self.specificity,
                             sensitivity=self.sensitivity, cost_fp=self.cost_fp,
                             cost_fn=self.cost_fn, prevalence=self.prevalence)
        self.cutoff_, self.direction_, self.rule_ = res.cutoff, res.direction, res.rule
        return self

    def _check(self) -> None:
        if not hasattr(self, "cutoff_"):
            raise NotFittedError("CutoffClassifier is not fitted; call fit first")

    def decision_function(self, X) -> np.ndarray:
        self._check()
        x = _one_column(X).astype(float)
        return x - self.cutoff_ if self.direction_ == ">" else self.cutoff_ - x

    def predict(self, X) -> np.ndarray:
        self._check()
        calls = classify(_one_column(X).astype(float), self.cutoff_, self.direction_)
        return np.where(calls, self.classes_[1], self.classes_[0])


@dataclass
class CVResult(Result):
    """Cross-validated performance.

    ``splits``: one row per (repeat, fold) with test-fold sizes, ``auc``,
    ``sensitivity``, ``specificity`` (and ``cutoff`` for a cutoff rule);
    ``repeats``: pooled out-of-fold AUC, sensitivity and specificity per
    repeat; ``summary``: mean, SD, min and max of each over splits and of the
    pooled values over repeats.  ``oof_scores`` (repeats × rows) holds the
    out-of-fold scores (not in ``to_dict``).
    """

    _NOT_IN_DICT = ("oof_scores",)

    estimator: str
    n_folds: int
    n_repeats: int
    n_subjects: int
    n_rows: int
    splits: pd.DataFrame
    repeats: pd.DataFrame
    summary: pd.DataFrame
    oof_scores: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        return self.summary.copy()


def _rows(X, idx: np.ndarray):
    return X.iloc[idx] if hasattr(X, "iloc") else X[idx]


def _seed_estimator(est, seed: int):
    params = est.get_params(deep=True)
    keys = {k: seed for k, v in params.items()
            if (k == "random_state" or k.endswith("__random_state")) and v is None}
    return est.set_params(**keys) if keys else est


def _scores(est, X) -> np.ndarray:
    if hasattr(est, "predict_proba"):
        proba = np.asarray(est.predict_proba(X))
        return proba[:, list(est.classes_).index(1)]
    if hasattr(est, "decision_function"):
        return np.asarray(est.decision_function(X), dtype=float).ravel()
    raise DataValidationError([Problem(
        f"{type(est).__name__} has neither predict_proba nor decision_function")])


def _run_split(estimator, X, y: np.ndarray, split: Split, seed: int) -> dict:
    est = _seed_estimator(clone(estimator), seed)
    est.fit(_rows(X, split.train), y[split.train].astype(int))
    Xt, yt = _rows(X, split.test), y[split.test]
    score = _scores(est, Xt)
    calls = np.asarray(est.predict(Xt)) == 1
    return {"repeat": split.repeat, "fold": split.fold, "n_train": split.train.size,
            "n_test": split.test.size, "n_test_positive": int(yt.sum()),
            "n_test_negative": int((~yt).sum()), "auc": _auc_oriented(score, yt),
            "sensitivity": float(calls[yt].mean()), "specificity": float((~calls[~yt]).mean()),
            "cutoff": float(getattr(est, "cutoff_", np.nan)), "test": split.test,
            "score": score, "calls": calls}


def _spread(name: str, v: np.ndarray, level: str) -> dict:
    return {"quantity": name, "level": level, "mean": float(np.mean(v)),
            "sd": float(np.std(v, ddof=1)) if v.size > 1 else np.nan,
            "min": float(np.min(v)), "max": float(np.max(v)), "n": int(v.size)}


def cross_validate(estimator, X, y, *, groups=None, n_folds: int = 5, n_repeats: int = 10,
                   seed: int | None = None, n_jobs: int = 1) -> CVResult:
    """Repeated stratified subject-grouped K-fold CV of a classifier or cutoff rule.

    Parameters
    ----------
    estimator : scikit-learn classifier
        Anything with ``fit``/``predict`` and ``predict_proba`` or
        ``decision_function`` (e.g. a ``Pipeline``, or
        :class:`CutoffClassifier` for a single marker).  Cloned per split.
    X : DataFrame or array (n_rows, n_features)
    y : array of bool or 0/1 (1 = positive), constant within a subject
    groups : array, optional
        Subject id per row; a subject's rows never straddle folds.
    n_folds, n_repeats : int
        Each class needs at least 2 subjects per fold, else a
        ``DataValidationError`` says how many folds are possible.
    seed : int, optional
        Same seed, same result for any ``n_jobs``.
    n_jobs : int
        joblib workers over splits.
    """
    if not hasattr(estimator, "fit") or not hasattr(estimator, "predict"):
        raise DataValidationError([Problem("estimator needs fit and predict methods")])
    n = len(X)
    _, yb, _ = check_binary(np.zeros(n), y, name="X")
    if isinstance(estimator, CutoffClassifier):  # fail before any worker starts
        check_binary(_one_column(X), yb, name="marker")
        check_direction(estimator.direction)
        _check_method(estimator.method, estimator.specificity, estimator.sensitivity,
                      estimator.cost_fp, estimator.cost_fn, estimator.prevalence)
    ss_folds, ss_est = np.random.SeedSequence(seed).spawn(2)
    splits = grouped_stratified_folds(yb, groups, n_folds=n_folds, n_repeats=n_repeats,
                                      seed=ss_folds)
    seeds = [int(s.generate_state(1)[0]) for s in ss_est.spawn(len(splits))]
    results = Parallel(n_jobs=n_jobs)(
        delayed(_run_split)(estimator, X, yb, sp, sd) for sp, sd in zip(splits, seeds,
                                                                        strict=True))
    oof = np.full((int(n_repeats), n), np.nan)
    calls = np.zeros((int(n_repeats), n), dtype=bool)
    for r in results:
        oof[r["repeat"], r["test"]] = r["score"]
        calls[r["repeat"], r["test"]] = r["calls"]
    split_df = pd.DataFrame([{k: v for k, v in r.items() if k not in ("test", "score", "calls")}
                             for r in results])
    if split_df["cutoff"].isna().all():
        split_df = split_df.drop(columns="cutoff")
    rep_df = pd.DataFrame({
        "repeat": np.arange(int(n_repeats)),
        "pooled_auc": [_auc_oriented(oof[r], yb) for r in range(int(n_repeats))],
        "pooled_sensitivity": calls[:, yb].mean(axis=1),
        "pooled_specificity": (~calls[:, ~yb]).mean(axis=1)})
    summary = pd.DataFrame(
        [_spread(q, split_df[q].to_numpy(), "split") for q in
         ("auc", "sensitivity", "specificity")]
        + [_spread(q, rep_df[q].to_numpy(), "repeat") for q in
           ("pooled_auc", "pooled_sensitivity", "pooled_specificity")]
        + ([_spread("cutoff", split_df["cutoff"].to_numpy(), "split")]
           if "cutoff" in split_df else []))
    n_subj = n if groups is None else int(pd.Series(np.asarray(groups)).nunique())
    return CVResult(estimator=repr(estimator), n_folds=int(n_folds), n_repeats=int(n_repeats),
                    n_subjects=n_subj, n_rows=n, splits=split_df, repeats=rep_df,
                    summary=summary, oof_scores=oof)


