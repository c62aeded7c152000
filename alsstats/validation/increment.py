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
averages by :func:`~alsstats.validation.reclassification.incremental_value`: ΔAUC with the
paired DeLong interval, continuous and categorical NRI, IDI, Δ net benefit per threshold,
Δ Brier and Δ log score with percentile-bootstrap intervals.  **Optimism correction:
repeated cross-validation** (not Harrell's bootstrap): the estimates are those of new
patients, not of the data the models were fitted to.  The intervals treat the averaged
predictions as fixed (they carry the sampling of subjects, not the refitting); the
spread of ΔAUC over repeats is reported beside them (``repeats``).

Models
------
``model="logistic"`` (default, fast): logistic regression with an L2 penalty (C = 1, the
solution of scikit-learn's ``StandardScaler`` + ``LogisticRegression()``, fitted by
Newton–Raphson) on the transformed markers (log for concentrations and
ratios of concentrations, as in the diagnostic spec; identity otherwise), outcome ALS
(with PMA, as the diagnostic model's default ``pma = "ALS"``) against MIMIC and HC.

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
markers she has, fitted on the training subjects who have them.  Someone with none of
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
from alsstats.validation._results import Result
from alsstats.validation.folds import grouped_stratified_folds
from alsstats.validation.reclassification import (
    DEFAULT_CATEGORIES,
    DEFAULT_THRESHOLDS,
    incremental_value,
)
from alsstats.validation.roc import _auc_oriented

__all__ = ["IncrementResult", "increment"]

#: Cohort groups counted as positive (ALS; PMA as the diagnostic model's ``pma = "ALS"``).
DEFAULT_POSITIVE = ("ALS", "PMA")
OPTIMISM = ("repeated subject-grouped cross-validation: every prediction is out of fold; the "
            "repeats' predictions are averaged per subject")


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
    categories: list[float]
    optimism_correction: str
    table: pd.DataFrame
    net_benefit: pd.DataFrame
    reclassification: pd.DataFrame
    repeats: pd.DataFrame
    predictions: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict:
        d = super().to_dict()
        d.pop("predictions")
        return d

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


def _transforms(columns: list[str], transforms: dict | None) -> dict[str, str]:
    from alsstats.models.diagnostic.spec import default_spec

    spec = {m.name: m.transform for m in default_spec().markers}
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
            out[sp.repeat, rows] = _fit_predict(X[np.ix_(train, cols)], y[train],
                                                X[np.ix_(rows, cols)])
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
        Bootstrap replicates of the intervals.
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
    from alsstats.models.diagnostic.data import baseline_table

    if added is None or len(added) == 0:
        raise DataValidationError([Problem("give at least one marker set to add")])
    sets = [[a] if isinstance(a, str) else list(a) for a in added]
    base_cols = [base] if isinstance(base, str) else list(base)
    overlap = [c for s in sets for c in s if c in base_cols]
    if overlap or any(len(s) == 0 for s in sets):
        raise DataValidationError([Problem("an added set must be non-empty and not repeat a "
                                           "base marker", value=overlap or sets)])
    if isinstance(model, str) and model not in ("logistic", "bayes"):
        raise DataValidationError([Problem("model must be 'logistic', 'bayes' or a "
                                           "DiagnosticModel", value=model)])
    table_base = baseline_table(df)
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
    ss_folds, ss_boot = np.random.SeedSequence(seed).spawn(2)
    splits = grouped_stratified_folds(y, ids, n_folds=n_folds, n_repeats=n_repeats,
                                      seed=ss_folds)
    idx = {c: i for i, c in enumerate(all_cols)}
    is_bayes = not (isinstance(model, str) and model == "logistic")
    if is_bayes:
        template = _bayes_template(model)

        def oof(cols):
            return _oof_bayes(template, validated_df, sub, cols, splits, int(n_repeats))

        from alsstats.schema import validate_cohort

        validated_df = validate_cohort(df)
    else:
        def oof(cols):
            return _oof_logistic(X_all[:, [idx[c] for c in cols]], y, len(base_cols), splits,
                                 int(n_repeats), cols)

    p_base = oof(base_cols)
    preds = {"subject_id": ids, "group": sub["group"].to_numpy(), "positive": y,
             "p_base": p_base.mean(axis=0)}
    boot_seeds = ss_boot.spawn(2 * len(sets))
    tables, nets, recls, reps = [], [], [], []
    for k, s in enumerate(sets):
        name = _label(s)
        p_new = oof(base_cols + s)
        preds[f"p_{name}"] = p_new.mean(axis=0)
        has = ~np.isnan(X_all[:, [idx[c] for c in s]]).any(axis=1)
        reps.append(pd.DataFrame({
            "added": name, "repeat": np.arange(int(n_repeats)),
            "auc_base": [_auc_oriented(p_base[r], y) for r in range(int(n_repeats))],
            "auc_added": [_auc_oriented(p_new[r], y) for r in range(int(n_repeats))]}))
        for j, (pop, m) in enumerate((("all", np.ones_like(has)), ("with_added", has))):
            n_pos, n_neg = int(y[m].sum()), int((~y[m]).sum())
            info = {"added": name, "population": pop, "n": int(m.sum()),
                    "n_positive": n_pos, "n_negative": n_neg}
            if min(n_pos, n_neg) < 2:
                tables.append(pd.DataFrame([{**info, "metric": "not_estimable"}]))
                continue
            iv = incremental_value(y[m], preds["p_base"][m], preds[f"p_{name}"][m],
                                   categories=categories, thresholds=thresholds,
                                   n_boot=n_boot, conf_level=conf_level,
                                   seed=boot_seeds[2 * k + j])
            tables.append(iv.table.assign(**info))
            nets.append(iv.net_benefit.assign(**info))
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
        n_boot=int(n_boot), categories=cats, optimism_correction=OPTIMISM,
        table=ordered(pd.concat(tables, ignore_index=True)),
        net_benefit=ordered(pd.concat(nets, ignore_index=True)) if nets else pd.DataFrame(),
        reclassification=ordered(pd.DataFrame(recls)), repeats=rep_df,
        predictions=pd.DataFrame(preds))
