r"""Does a modality add to NfL?  Out-of-fold added value of marker sets over a base set.

For a base marker set ``B`` (default: NfL) and each added set ``A`` (e.g. the MRS ratios),
the *same model class* is fitted to ``B`` and to ``B ∪ A`` inside the training folds of a
subject-grouped, class-stratified, repeated K-fold cross-validation
(:func:`~alsstats.validation.folds.grouped_stratified_folds`); every subject's predicted
P(ALS) comes from models that never saw her.  Per subject the ``R`` out-of-fold
predictions of the repeats are averaged,

.. math::

    \hat p_i = \frac{1}{R}\sum_{r=1}^{R} \hat p_i^{(r)},

and the added value of ``p_new`` (``B ∪ A``) over ``p_old`` (``B``) is measured on these
averages by :func:`~alsstats.validation.reclassification.incremental_value`: ΔAUC,
categorical NRI, Δ net benefit per threshold, Δ Brier and Δ log score.  **Optimism
correction: repeated cross-validation**: the estimates are those of new patients, not of
the data the models were fitted to.

IDI and continuous NRI (logistic model)
---------------------------------------
These two are estimated by **Harrell's optimism bootstrap** (Harrell, Lee & Mark 1996;
:mod:`~alsstats.validation.optimism`) instead: the apparent value ``θ_app`` of the models
fitted to all subjects, minus the optimism ``Ô = mean_b(θ*_b − θ*_b,orig)`` of the models
refitted to the refit bootstrap's resamples (below), evaluated on their resample and on
the original subjects; the interval is the percentile interval of ``θ*_b`` shifted by
``Ô`` (the location-shifted interval of Noma et al. 2021).  The estimand is the IDI
(continuous NRI) of the fitted models on new patients of the same population, which is
0 for a marker without information up to terms of order 1/n (the IDI of the true models
is 0, and a useless fitted coefficient moves new patients' risks independently of their
outcome).  Both
measures are functions of ``p_new − p_old`` alone, neither proper scoring rules nor
rank statistics, so they follow any difference between the two fits, including the
random direction of a useless coefficient (Kerr et al. 2014); the table's ``estimator``
column says which estimator a row uses and ``optimism`` gives ``Ô``.  The counts and
Pencina z in ``reclassification`` are those of the out-of-fold predictions.

**Same penalty per subject.**  Every model is an L2-penalised logistic regression; the
pattern submodel of the subjects who have the added markers (below) is fitted to fewer
subjects than the base model and carries ``C = n_base / n_pattern`` (the base model's
penalty per training subject), so that the two fits are shrunk alike.  With ``C = 1`` for
both, the submodel was shrunk more: flatter than the base model, it moved events down and
non-events up, and a useless marker's IDI and continuous NRI were negative on average
(−0.006 and −0.23 in-sample on 60 null cohorts; ``docs/models/added-value.md``).

Intervals
---------
Logistic model: the **refit bootstrap**.  Each replicate resamples the subjects with
replacement within class, reruns the subject-grouped K-fold cross-validation (one
repeat; a subject drawn twice stays in one fold) for the base and every added model and
recomputes every metric; the interval is the percentile interval.  On the same resample
the models are also fitted to all its subjects (Harrell's ``θ*_b`` and ``θ*_b,orig``).
Intervals that hold the out-of-fold predictions fixed are too narrow for a marker without
information (27–86% coverage of 0 in the null study of ``docs/models/added-value.md``).
The paired DeLong interval (predictions fixed) is kept as ``delta_auc_delong``.
Bayesian model: refitting in every replicate is not affordable; every metric, the IDI
and the continuous NRI included, is out of fold, the intervals hold the predictions
fixed (DeLong for ΔAUC, the subject bootstrap for the rest) and ``intervals`` and
``optimism_correction`` say so.  The spread of ΔAUC over repeats is in ``repeats``.

Models
------
``model="logistic"`` (default, fast): logistic regression with an L2 penalty (C = 1 for
the base model, the solution of scikit-learn's ``StandardScaler`` +
``LogisticRegression()``, fitted by Newton–Raphson; a pattern submodel fitted to fewer
subjects has the same penalty per subject, as above) on the transformed markers (log for
concentrations and ratios of concentrations, as in the diagnostic spec; identity
otherwise), outcome ALS (with PMA, as the diagnostic model's default ``pma = "ALS"``)
against MIMIC and HC.

``model="bayes"`` or a :class:`~alsstats.models.diagnostic.DiagnosticModel`: the Bayesian
diagnostic model with its spec's markers replaced by ``B`` and ``B ∪ A`` (priors,
covariates, covariance kept), fitted by ``fit_many`` (compiled once per marker set), P(ALS)
from ``predict_proba`` (training class frequencies).  ``"bayes"`` uses the default
sampler settings; pass a ``DiagnosticModel(draws=..., tune=..., seed=...)`` to change them.

Missing markers
---------------
Subjects missing a base marker have no base prediction and are excluded (counted).  A
subject missing some or all added markers is predicted the way the model handles her:
the Bayesian model marginalises the missing markers; the logistic model uses the *pattern
submodel* (Mercaldo & Blume 2020) — the logistic regression on the base and the added
markers she has, fitted on the training subjects who have them, with the base model's
penalty per subject.  Someone with none of
the added markers therefore gets exactly her base prediction (zero contribution), which
is what marginalising a class-conditional normal model does as well.  Results are given
for all subjects with the base markers (``population = "all"``) and for those who have
every added marker (``"with_added"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from alsstats.errors import DataValidationError, Problem
from alsstats.schema import baseline_rows
from alsstats.validation._results import Result
from alsstats.validation.folds import Split, grouped_stratified_folds
from alsstats.validation.optimism import optimism_corrected
from alsstats.validation.reclassification import (
    DEFAULT_CATEGORIES,
    DEFAULT_THRESHOLDS,
    _check_cuts,
    incremental_value,
    metric_names,
    point_estimates,
)
from alsstats.validation.roc import _auc_oriented

__all__ = ["IncrementResult", "increment"]

#: Cohort groups counted as positive (ALS; PMA as the diagnostic model's ``pma = "ALS"``).
DEFAULT_POSITIVE = ("ALS", "PMA")
OPTIMISM = ("repeated subject-grouped cross-validation: every prediction is out of fold; the "
            "repeats' predictions are averaged per subject")
OPTIMISM_HARRELL = (OPTIMISM + "; idi and nri_continuous (and their parts): Harrell's optimism "
                    "bootstrap (the models fitted to all subjects, minus the mean optimism of "
                    "the models refitted to the refit bootstrap's resamples)")
REFIT_INTERVALS = ("refit bootstrap: subjects resampled by class and the whole "
                   "cross-validation rerun in each replicate (percentile intervals); "
                   "idi and nri_continuous: Harrell's optimism bootstrap on the same "
                   "resamples, the percentile interval of the resamples' apparent values "
                   "shifted by the optimism (location-shifted, Noma et al. 2021); "
                   "delta_auc_delong: paired DeLong with the predictions held fixed")
#: Metrics estimated by Harrell's optimism bootstrap (logistic model) instead of out of fold.
HARRELL_METRICS = ("nri_continuous", "nri_continuous_events", "nri_continuous_nonevents",
                   "idi", "idi_events", "idi_nonevents")
FIXED_INTERVALS = ("predictions held fixed: paired DeLong for delta_auc, subject bootstrap "
                   "for the rest; they omit the refitting variability and are too narrow "
                   "when the added markers carry little information")


@dataclass
class IncrementResult(Result):
    """Added value of each marker set over the base set, on out-of-fold predictions.

    ``table``: one row per added set, population ('all', 'with_added') and metric
    (:func:`~alsstats.validation.reclassification.incremental_value`) with ``estimate``,
    ``lower``, ``upper``, ``interval``, and the population's ``n``, ``n_positive``;
    ``net_benefit``: per added set, population and threshold, both models' net benefit and
    the difference with its interval; ``reclassification``: NRI counts and Pencina z;
    ``repeats``: per added set and repeat the pooled out-of-fold AUCs and their difference
    (the cross-validation's split-to-split spread); ``predictions`` (not in ``to_dict``):
    per subject the averaged out-of-fold P(ALS) of the base and of each added model.
    """

    _NOT_IN_DICT = ("predictions",)

    base: list[str]
    added: list[list[str]]
    model: str
    n_folds: int
    n_repeats: int
    n_subjects: int
    n_positive: int
    n_negative: int
    n_excluded_missing_base: int
    positive: list[str]
    conf_level: float
    n_boot: int
    n_boot_failed: int | None
    categories: list[float]
    optimism_correction: str
    intervals: str
    table: pd.DataFrame
    net_benefit: pd.DataFrame
    reclassification: pd.DataFrame
    repeats: pd.DataFrame
    predictions: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self, population: str = "all") -> pd.DataFrame:
        """One row per added set: ΔAUC, NRIs, IDI, Δ Brier, Δ log score with intervals."""
        keep = ["delta_auc", "nri_continuous", "nri_categorical", "idi", "delta_brier",
                "delta_log_score"]
        t = self.table[(self.table["population"] == population)
                       & self.table["metric"].isin(keep)]
        return t.pivot(index="added", columns="metric", values=["estimate", "lower", "upper"])


def _label(cols: list[str]) -> str:
    return "+".join(cols)


def _default_transforms() -> dict[str, str]:
    """Each marker's transform in the shipped diagnostic spec (read as TOML: the spec module
    would load ArviZ, seconds of start-up the logistic path does not need)."""
    import tomllib
    from importlib import resources

    text = resources.files("alsstats.models").joinpath("specs/diagnostic.toml").read_text(
        encoding="utf-8")
    markers = tomllib.loads(text).get("markers", {})
    return {name: m.get("transform", "identity") for name, m in markers.items()}


def _transforms(columns: list[str], transforms: dict | None) -> dict[str, str]:
    spec = _default_transforms()
    out = {c: spec.get(c, "identity") for c in columns}
    out.update(transforms or {})
    bad = {c: t for c, t in out.items() if t not in ("log", "identity")}
    if bad:
        raise DataValidationError([Problem("transform must be 'log' or 'identity'",
                                           column=c, value=t) for c, t in bad.items()])
    return out


def _marker_matrix(base: pd.DataFrame, columns: list[str], transforms: dict[str, str],
                   file: str | None) -> np.ndarray:
    problems, cols = [], []
    for c in columns:
        if c not in base.columns:
            problems.append(Problem(f"no marker column {c!r}", file=file, column=c))
            continue
        v = pd.to_numeric(base[c], errors="coerce").to_numpy(dtype=float)
        text = np.isnan(v) & base[c].notna().to_numpy()
        if text.any():
            r = int(np.flatnonzero(text)[0])
            problems.append(Problem("marker values must be numbers", file=file, column=c,
                                    row=int(base["_source_row"].iloc[r]),
                                    value=base[c].iloc[r]))
            continue
        if transforms[c] == "log":
            bad = v <= 0
            if bad.any():
                r = int(np.flatnonzero(bad)[0])
                problems.append(Problem("a log-transformed marker must be > 0", file=file,
                                        column=c, row=int(base["_source_row"].iloc[r]),
                                        value=float(v[r])))
                continue
            v = np.log(v)
        cols.append(v)
    if problems:
        raise DataValidationError(problems)
    return np.column_stack(cols)


def _fit_predict(X_train, y_train, X_test, C: float = 1.0) -> np.ndarray:
    r"""P(positive) of ``X_test`` from an L2-penalised logistic regression on standardised markers.

    The markers are standardised with the training mean and SD (divisor n, as
    scikit-learn's ``StandardScaler``); the coefficients ``w`` (not the intercept) carry
    the penalty ``‖w‖²/(2C)``, i.e. the solution of scikit-learn's
    ``LogisticRegression(C=C)``.  Newton–Raphson: a handful of iterations on at most a
    few columns, much faster than L-BFGS in the cross-validation loops.
    """
    if y_train.all() or not y_train.any():
        raise DataValidationError([Problem(
            "a training fold has subjects of one class only for a marker pattern; use fewer "
            "folds")])
    mu = X_train.mean(axis=0)
    sd = X_train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    Z = np.column_stack([np.ones(len(X_train)), (X_train - mu) / sd])
    yf = y_train.astype(float)
    pen = np.full(Z.shape[1], 1.0 / C)
    pen[0] = 0.0
    beta = np.zeros(Z.shape[1])
    for _ in range(100):
        eta = Z @ beta
        p = 0.5 * (1.0 + np.tanh(0.5 * eta))
        grad = Z.T @ (yf - p) - pen * beta
        hess = (Z * (p * (1 - p))[:, None]).T @ Z + np.diag(pen)
        step = np.linalg.solve(hess, grad)
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    eta = np.column_stack([np.ones(len(X_test)), (X_test - mu) / sd]) @ beta
    return 0.5 * (1.0 + np.tanh(0.5 * eta))


def _oof_logistic(X: np.ndarray, y: np.ndarray, n_base: int, splits, n_repeats: int,
                  names: list[str]) -> np.ndarray:
    """(R, n) out-of-fold P(positive); pattern submodels for missing added columns."""
    n = y.size
    out = np.full((n_repeats, n), np.nan)
    obs = ~np.isnan(X)
    for sp in splits:
        pattern = obs[sp.test, n_base:]
        for key in np.unique(pattern, axis=0):
            rows = sp.test[(pattern == key).all(axis=1)]
            cols = np.r_[np.arange(n_base), n_base + np.flatnonzero(key)]
            train = sp.train[obs[sp.train][:, cols].all(axis=1)]
            if min(int(y[train].sum()), int((~y[train]).sum())) < 2:
                raise DataValidationError([Problem(
                    f"fewer than 2 training subjects per class have "
                    f"{', '.join(names[c] for c in cols)}; use fewer folds")])
            # the same penalty per training subject as the base model of this split
            out[sp.repeat, rows] = _fit_predict(X[np.ix_(train, cols)], y[train],
                                                X[np.ix_(rows, cols)],
                                                C=sp.train.size / train.size)
    return out


def _bayes_template(model):
    from alsstats.models.diagnostic import DiagnosticModel

    return DiagnosticModel() if isinstance(model, str) else model


def _oof_bayes(template, df: pd.DataFrame, base: pd.DataFrame, markers: list[str], splits,
               n_repeats: int) -> np.ndarray:
    from sklearn.base import clone

    from alsstats.models.diagnostic.spec import load_spec

    spec = load_spec(template.spec).to_dict()
    known = spec["markers"]
    spec["markers"] = {m: known.get(m, {"transform": "identity"}) for m in markers}
    model = clone(template).set_params(spec=spec)
    ids = base["subject_id"].to_numpy()
    first = base["_source_row"].to_numpy()
    rows_of = df.iloc[first].reset_index(drop=True)  # each subject's baseline row
    fits = model.fit_many([rows_of.iloc[sp.train] for sp in splits])
    out = np.full((n_repeats, ids.size), np.nan)
    for sp, fit in zip(splits, fits, strict=True):
        proba = fit.predict_proba(rows_of.iloc[sp.test])
        out[sp.repeat, sp.test] = proba[:, list(fit.classes_).index("ALS")]
    return out


def increment(df: pd.DataFrame, base=("nfl_pg_ml",), added=None, *, model="logistic",
              positive=DEFAULT_POSITIVE, n_folds: int = 5, n_repeats: int = 10,
              categories=DEFAULT_CATEGORIES, thresholds=DEFAULT_THRESHOLDS,
              n_boot: int = 1000, conf_level: float = 0.95, transforms: dict | None = None,
              seed: int | None = None, file: str | None = None) -> IncrementResult:
    """Out-of-fold added value of each marker set over the base set.

    Parameters
    ----------
    df : DataFrame
        Cohort table (:mod:`alsstats.schema`); each subject's baseline visit is used.
    base : sequence of str
        Base markers (cohort columns), default NfL.
    added : sequence of str or of sequences of str
        The marker sets to add, each on its own (e.g. ``[["glu_naa", "glu_gaba"],
        ["m1_precuneus_ratio"], ["smn_sma"]]``); a plain string is one set of one marker.
    model : {'logistic', 'bayes'} or DiagnosticModel
        Model class fitted to base and base + added (see the module docstring).
    positive : sequence of str
        Cohort groups that are the positive class (ALS and PMA).  The Bayesian model scores
        P(ALS) with PMA as its spec says.
    n_folds, n_repeats : int
        Subject-grouped, class-stratified K-fold, repeated.
    categories : sequence of float
        Risk-category cut points of the categorical NRI (probabilities at the cohort's class
        mix).
    thresholds : sequence of float
        Threshold probabilities of the Δ net benefit.
    n_boot : int
        Bootstrap replicates of the intervals (at least 100).  Logistic: each replicate
        reruns the cross-validation on a resample (the refit bootstrap); Bayesian: the
        predictions are held fixed and the subjects resampled.
    conf_level : float
    transforms : dict, optional
        ``{column: 'log' | 'identity'}`` overriding the diagnostic spec's transforms
        (logistic model).
    seed : int, optional
        Seeds the folds and the bootstraps; same seed, same numbers.
    file : str, optional
        Name of the source file, for error messages.

    Returns
    -------
    IncrementResult
    """
    if added is None or len(added) == 0:
        raise DataValidationError([Problem("give at least one marker set to add")])
    sets = [[a] if isinstance(a, str) else list(a) for a in added]
    base_cols = [base] if isinstance(base, str) else list(base)
    overlap = [c for s in sets for c in s if c in base_cols]
    if overlap or any(len(s) == 0 for s in sets):
        raise DataValidationError([Problem("an added set must be non-empty and not repeat a "
                                           "base marker", value=overlap or sets)])
    if int(n_boot) < 100:
        raise DataValidationError([Problem("n_boot must be at least 100", value=n_boot)])
    if isinstance(model, str) and model not in ("logistic", "bayes"):
        raise DataValidationError([Problem("model must be 'logistic', 'bayes' or a "
                                           "DiagnosticModel", value=model)])
    table_base = baseline_rows(df)
    all_cols = base_cols + [c for s in sets for c in s if c not in base_cols]
    all_cols = list(dict.fromkeys(all_cols))
    tf = _transforms(all_cols, transforms)
    X_all = _marker_matrix(table_base, all_cols, tf, file)
    y_all = table_base["group"].astype(str).isin(list(positive)).to_numpy()
    keep = ~np.isnan(X_all[:, :len(base_cols)]).any(axis=1)
    n_excluded = int((~keep).sum())
    sub = table_base[keep].reset_index(drop=True)
    X_all, y = X_all[keep], y_all[keep]
    ids = sub["subject_id"].to_numpy()
    ss_folds, ss_boot, ss_refit = np.random.SeedSequence(seed).spawn(3)
    splits = grouped_stratified_folds(y, ids, n_folds=n_folds, n_repeats=n_repeats,
                                      seed=ss_folds)
    idx = {c: i for i, c in enumerate(all_cols)}
    set_cols = [[idx[c] for c in base_cols + s] for s in sets]
    is_bayes = not (isinstance(model, str) and model == "logistic")
    if is_bayes:
        from alsstats.schema import validate_cohort

        template, validated = _bayes_template(model), validate_cohort(df)
        p_base = _oof_bayes(template, validated, sub, base_cols, splits, int(n_repeats))
        p_sets = [_oof_bayes(template, validated, sub, base_cols + s, splits, int(n_repeats))
                  for s in sets]
    else:
        p_base = _oof_logistic(X_all[:, :len(base_cols)], y, len(base_cols), splits,
                               int(n_repeats), base_cols)
        p_sets = [_oof_logistic(X_all[:, c], y, len(base_cols), splits, int(n_repeats),
                                base_cols + s) for c, s in zip(set_cols, sets, strict=True)]
    has = [~np.isnan(X_all[:, c[len(base_cols):]]).any(axis=1) for c in set_cols]
    refit = None
    if not is_bayes:
        cuts = _check_cuts(categories, "categories")
        thr = _check_cuts(thresholds, "thresholds")
        refit = _refit_bootstrap(X_all, y, ids, set_cols, has, len(base_cols), int(n_folds),
                                 int(n_boot), cuts, thr, ss_refit)
        apparent = _apparent(X_all, y, set_cols, has, len(base_cols), cuts, thr)
    preds = {"subject_id": ids, "group": sub["group"].to_numpy(), "positive": y,
             "p_base": p_base.mean(axis=0)}
    boot_seeds = ss_boot.spawn(2 * len(sets))
    alpha = 1.0 - conf_level
    tables, nets, recls, reps = [], [], [], []
    for k, s in enumerate(sets):
        name = _label(s)
        p_new = p_sets[k]
        preds[f"p_{name}"] = p_new.mean(axis=0)
        reps.append(pd.DataFrame({
            "added": name, "repeat": np.arange(int(n_repeats)),
            "auc_base": [_auc_oriented(p_base[r], y) for r in range(int(n_repeats))],
            "auc_added": [_auc_oriented(p_new[r], y) for r in range(int(n_repeats))]}))
        for j, (pop, m) in enumerate((("all", np.ones_like(has[k])), ("with_added", has[k]))):
            n_pos, n_neg = int(y[m].sum()), int((~y[m]).sum())
            info = {"added": name, "population": pop, "n": int(m.sum()),
                    "n_positive": n_pos, "n_negative": n_neg}
            if min(n_pos, n_neg) < 2:
                tables.append(pd.DataFrame([{**info, "metric": "not_estimable"}]))
                continue
            iv = incremental_value(y[m], preds["p_base"][m], preds[f"p_{name}"][m],
                                   categories=categories, thresholds=thresholds,
                                   n_boot=int(n_boot), conf_level=conf_level,
                                   seed=boot_seeds[2 * k + j])
            table = iv.table.assign(estimator="out of fold", optimism=np.nan)
            net = iv.net_benefit
            if refit is not None:
                table, net = _with_refit_intervals(
                    table, net, refit[k][j],
                    (apparent[k][j], refit.apparent[k][j], refit.original[k][j]), alpha)
            tables.append(table.assign(**info))
            nets.append(net.assign(**info))
            recls += [{**info, **v} for v in iv.reclassification.values()]
    rep_df = pd.concat(reps, ignore_index=True)
    rep_df["delta_auc"] = rep_df["auc_added"] - rep_df["auc_base"]
    front = ["added", "population", "n", "n_positive", "n_negative"]

    def ordered(frame):
        return frame[front + [c for c in frame.columns if c not in front]]

    cats = [float(c) for c in np.atleast_1d(categories)]
    return IncrementResult(
        base=base_cols, added=sets,
        model="logistic" if not is_bayes else "bayes (DiagnosticModel)",
        n_folds=int(n_folds), n_repeats=int(n_repeats), n_subjects=int(y.size),
        n_positive=int(y.sum()), n_negative=int((~y).sum()),
        n_excluded_missing_base=n_excluded, positive=list(positive), conf_level=conf_level,
        n_boot=int(n_boot), n_boot_failed=None if refit is None else refit.n_failed,
        categories=cats,
        optimism_correction=OPTIMISM_HARRELL if refit is not None else OPTIMISM,
        intervals=REFIT_INTERVALS if refit is not None else FIXED_INTERVALS,
        table=ordered(pd.concat(tables, ignore_index=True)),
        net_benefit=ordered(pd.concat(nets, ignore_index=True)) if nets else pd.DataFrame(),
        reclassification=ordered(pd.DataFrame(recls)), repeats=rep_df,
        predictions=pd.DataFrame(preds))


class _Refit(list):
    """Per added set and population, the (B, q) replicate metrics of the rerun
    cross-validation; ``apparent`` and ``original``: the same shape, Harrell's ``θ*_b`` (the
    replicate's full-resample models on the resample) and ``θ*_b,orig`` (on the original
    sample); ``names``; ``n_failed``."""

    names: list[str]
    n_failed: int
    apparent: list
    original: list


def _refit_predict(X: np.ndarray, y: np.ndarray, n_base: int, train: np.ndarray,
                   test: np.ndarray) -> np.ndarray:
    """P(positive) of rows ``test`` from the models (pattern submodels as in
    :func:`_oof_logistic`) fitted to rows ``train``; rows may repeat (a resample)."""
    rows = np.r_[train, test]
    split = Split(repeat=0, fold=0, train=np.arange(train.size),
                  test=np.arange(train.size, rows.size))
    names = ["base"] * n_base + ["added"] * (X.shape[1] - n_base)
    return _oof_logistic(X[rows], y[rows], n_base, [split], 1, names)[0][train.size:]


def _apparent(X: np.ndarray, y: np.ndarray, set_cols: list[list[int]], has: list[np.ndarray],
              n_base: int, cuts: np.ndarray, thr: np.ndarray) -> list[list[np.ndarray]]:
    """Per added set and population, every metric of the models fitted to all subjects,
    evaluated on them (Harrell's ``θ_app``; NaN if a class has fewer than 2 subjects)."""
    everyone = np.arange(y.size)
    pb = _refit_predict(X[:, :n_base], y, n_base, everyone, everyone)
    out = []
    for k, c in enumerate(set_cols):
        pn = _refit_predict(X[:, c], y, n_base, everyone, everyone)
        out.append([point_estimates(y[m], pb[m], pn[m], cuts, thr)[1]
                    if min(int(y[m].sum()), int((~y[m]).sum())) >= 2
                    else np.full(len(metric_names(thr)), np.nan)
                    for m in (np.ones(y.size, bool), has[k])])
    return out


def _refit_bootstrap(X: np.ndarray, y: np.ndarray, ids: np.ndarray, set_cols: list[list[int]],
                     has: list[np.ndarray], n_base: int, n_folds: int, n_boot: int,
                     cuts: np.ndarray, thr: np.ndarray, seed: np.random.SeedSequence) -> _Refit:
    """Bootstrap of the whole procedure: resample subjects (stratified by class), rerun the
    subject-grouped K-fold cross-validation (one repeat; a subject drawn twice stays in one
    fold) for the base and every added model, recompute every metric.  On the same resample
    the models are also fitted to all its subjects and evaluated on the resample and on the
    original sample (Harrell's optimism bootstrap, :mod:`~alsstats.validation.optimism`)."""
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    names = metric_names(thr)

    def empty():
        return [[np.full((n_boot, len(names)), np.nan) for _ in range(2)] for _ in set_cols]

    out = _Refit(empty())
    out.names, out.n_failed, out.apparent, out.original = names, 0, empty(), empty()
    everyone = np.arange(y.size)
    for b in range(n_boot):
        draw = np.r_[rng.choice(pos, pos.size), rng.choice(neg, neg.size)]
        yb = y[draw]
        try:
            splits = grouped_stratified_folds(yb, ids[draw], n_folds=n_folds, n_repeats=1,
                                              seed=int(rng.integers(2**63)))
            pb = _oof_logistic(X[np.ix_(draw, list(range(n_base)))], yb, n_base, splits, 1,
                               ["base"] * n_base)[0]
            pn = [_oof_logistic(X[np.ix_(draw, c)], yb, n_base, splits, 1, ["m"] * len(c))[0]
                  for c in set_cols]
            hb = _refit_predict(X[:, :n_base], y, n_base, draw, np.r_[draw, everyone])
            hn = [_refit_predict(X[:, c], y, n_base, draw, np.r_[draw, everyone])
                  for c in set_cols]
        except DataValidationError:
            out.n_failed += 1
            continue
        for k, p_new in enumerate(pn):
            for j, m in enumerate((np.ones(draw.size, bool), has[k][draw])):
                if min(int(yb[m].sum()), int((~yb[m]).sum())) >= 2:
                    out[k][j][b] = point_estimates(yb[m], pb[m], p_new[m], cuts, thr)[1]
                    out.apparent[k][j][b] = point_estimates(
                        yb[m], hb[:y.size][m], hn[k][:y.size][m], cuts, thr)[1]
            for j, m in enumerate((np.ones(y.size, bool), has[k])):
                if min(int(y[m].sum()), int((~y[m]).sum())) >= 2:
                    out.original[k][j][b] = point_estimates(
                        y[m], hb[y.size:][m], hn[k][y.size:][m], cuts, thr)[1]
    return out


def _with_refit_intervals(table: pd.DataFrame, net: pd.DataFrame, reps: np.ndarray,
                          harrell: tuple[np.ndarray, np.ndarray, np.ndarray],
                          alpha: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replace the fixed-prediction intervals by the refit-bootstrap percentiles; for the
    IDI and the continuous NRI (and their parts) replace estimate and interval by Harrell's
    optimism-corrected bootstrap (``harrell``: ``θ_app``, ``θ*``, ``θ*_orig``); keep the
    DeLong interval as ``delta_auc_delong``."""
    names = metric_names(net["threshold"].to_numpy())
    ok = ~np.isnan(reps).any(axis=1)
    if ok.sum() < 20:  # too few replicates had both classes in this population
        lo = hi = np.full(reps.shape[1], np.nan)
    else:
        lo, hi = np.quantile(reps[ok], [alpha / 2, 1 - alpha / 2], axis=0)
    est_h, lo_h, hi_h, opt_h = optimism_corrected(*harrell, alpha)
    table = table.copy()
    delong = table[table["metric"] == "delta_auc"].assign(metric="delta_auc_delong")
    where = {m: i for i, m in enumerate(names)}
    rows = table["metric"].map(where)
    has = rows.notna().to_numpy()
    table.loc[has, "lower"] = lo[rows[has].astype(int)]
    table.loc[has, "upper"] = hi[rows[has].astype(int)]
    table.loc[has, "interval"] = "refit bootstrap"
    h = table["metric"].isin(HARRELL_METRICS).to_numpy()
    at = rows[h].astype(int).to_numpy()
    table.loc[h, "estimate"] = est_h[at]
    table.loc[h, "lower"] = lo_h[at]
    table.loc[h, "upper"] = hi_h[at]
    table.loc[h, "optimism"] = opt_h[at]
    table.loc[h, "interval"] = "location-shifted bootstrap"
    table.loc[h, "estimator"] = "optimism bootstrap"
    table = pd.concat([table, delong], ignore_index=True)
    nb = table.set_index("metric")
    net = net.copy()
    keys = [f"delta_net_benefit@{t:g}" for t in net["threshold"]]
    net["lower"] = nb.loc[keys, "lower"].to_numpy()
    net["upper"] = nb.loc[keys, "upper"].to_numpy()
    return table, net
