"""Marker validation on a cohort: ROC per marker, the M1/precuneus cutoff, cross-validation.

Computes everything the report's marker and cutoff sections show, on the baseline
visit of each subject.  Directions are pre-specified from the science (the
ratio is *lower* in ALS; the other markers higher), never detected from the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alsstats.describe import baseline
from alsstats.random import spawn_seeds
from alsstats.validation import (
    CutoffClassifier,
    compare_aucs,
    cross_validate,
    delong_ci,
    ppv_npv_by_prevalence,
    roc_band,
    roc_curve,
    validate_cutoff,
)

__all__ = ["MARKER_DIRECTIONS", "MarkerValidation", "marker_roc", "validate_markers"]

#: Direction of each marker in ALS: '>' higher in ALS, '<' lower.
MARKER_DIRECTIONS = {"nfl_pg_ml": ">", "glu_naa": ">", "glu_gaba": ">",
                     "m1_precuneus_ratio": "<", "smn_sma": ">", "chi3l1_ng_ml": ">"}


@dataclass
class MarkerValidation:
    """Results of :func:`validate_markers` as report-ready tables and result objects."""

    aucs: pd.DataFrame          # marker, n, n_positive, n_negative, auc, low, high, direction
    curves: pd.DataFrame        # marker, fpr, tpr
    bands: pd.DataFrame         # marker, fpr, tpr, tpr_low, tpr_high
    comparison: pd.DataFrame    # pairwise contrasts on complete cases
    comparison_n: int
    comparison_p: float
    cutoff: object              # CutoffValidation of ratio < cutoff
    ppv_npv: pd.DataFrame       # prevalence, value (ppv/npv), estimate, lower, upper
    cv: pd.DataFrame            # marker, folds, repeats, auc/sens/spec mean and sd


def validate_markers(data: pd.DataFrame, *, seed: int, cutoff: float = 1.0,
                     n_boot: int = 1000, cv_repeats: int = 5,
                     markers: dict[str, str] = MARKER_DIRECTIONS) -> MarkerValidation:
    """Validate each marker (ALS vs healthy controls) and the pre-specified ratio cutoff.

    * ROC curve, AUC with DeLong 95% interval and a bootstrap pointwise band, per marker;
    * joint DeLong comparison of all AUCs on subjects with every marker (Holm-adjusted);
    * the cutoff ``m1_precuneus_ratio < cutoff`` in probable/definite ALS vs HC: accuracy
      with Wilson intervals, the bootstrap distribution of the Youden-optimal cutoff, the
      probability it lies within ±0.05, stability across folds and sites, PPV/NPV across
      prevalences;
    * repeated subject-grouped 5-fold cross-validation of a Youden cutoff rule per marker.
    """
    base = baseline(data)
    base = base[base["group"].isin(["ALS", "HC"])]
    is_als = (base["group"] == "ALS").to_numpy()
    s_band, s_cut, s_cv = (int(s.generate_state(1)[0]) for s in spawn_seeds(seed, 3))
    aucs, curves, bands, cv_rows = [], [], [], []
    for marker, direction in markers.items():
        ok = base[marker].notna().to_numpy()
        x, y = base[marker].to_numpy()[ok], is_als[ok]
        row, curve = marker_roc(marker, x, y, direction)
        aucs.append(row)
        curves.append(curve)
        band = roc_band(y, x, direction=direction, n_boot=max(100, n_boot // 2),
                        seed=s_band)
        bands.append(band.to_frame().assign(marker=marker))
        cv = cross_validate(CutoffClassifier(direction=direction), x.reshape(-1, 1), y,
                            groups=base["subject_id"].to_numpy()[ok], n_folds=5,
                            n_repeats=cv_repeats, seed=s_cv)
        cv_rows.append(_cv_row(marker, cv))
    complete = base[list(markers)].notna().all(axis=1).to_numpy()
    comp = compare_aucs(is_als[complete], {m: base[m].to_numpy()[complete] for m in markers},
                        direction=[markers[m] for m in markers])
    ratio = base[base["group"].eq("HC") | base["el_escorial"].isin(["probable", "definite"])]
    ratio = ratio[ratio["m1_precuneus_ratio"].notna()]
    validation = validate_cutoff((ratio["group"] == "ALS").to_numpy(),
                                 ratio["m1_precuneus_ratio"].to_numpy(), cutoff, direction="<",
                                 delta=0.05, n_boot=n_boot, seed=s_cut,
                                 groups=ratio["subject_id"].to_numpy(),
                                 sites=ratio["site"].to_numpy(), n_folds=5, n_repeats=4,
                                 name="m1_precuneus_ratio")
    prevalences = np.array([0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    return MarkerValidation(
        aucs=pd.DataFrame(aucs), curves=pd.concat(curves, ignore_index=True),
        bands=pd.concat(bands, ignore_index=True), comparison=comp.contrasts,
        comparison_n=int(complete.sum()), comparison_p=comp.p_value, cutoff=validation,
        ppv_npv=_long_ppv_npv(ppv_npv_by_prevalence(validation.performance, prevalences)),
        cv=pd.DataFrame(cv_rows))


def marker_roc(name: str, scores, positive, direction: str) -> tuple[dict, pd.DataFrame]:
    """AUC with its DeLong 95% interval, and the empirical ROC curve, of one score.

    Rows without the score (NaN) are left out; ``n`` counts the rows used.
    """
    scores, positive = np.asarray(scores, float), np.asarray(positive, bool)
    ok = np.isfinite(scores)
    x, y = scores[ok], positive[ok]
    ci = delong_ci(y, x, direction=direction)
    curve = roc_curve(y, x, direction=direction)
    row = {"marker": name, "n": int(ok.sum()), "n_positive": int(y.sum()),
           "n_negative": int((~y).sum()), "auc": ci.auc, "low": ci.lower, "high": ci.upper,
           "direction": direction}
    return row, pd.DataFrame({"marker": name, "fpr": curve.fpr, "tpr": curve.sensitivity})


def _cv_row(marker: str, cv) -> dict:
    """Out-of-fold AUC/sensitivity/specificity pooled per repeat (mean, SD over repeats),
    and the training-fold cutoffs (mean, SD over splits)."""
    row = {"marker": marker, "folds": cv.n_folds, "repeats": cv.n_repeats}
    summary = cv.summary.set_index("quantity")
    for metric in ("auc", "sensitivity", "specificity"):
        row[f"{metric}_mean"] = summary.loc[f"pooled_{metric}", "mean"]
        row[f"{metric}_sd"] = summary.loc[f"pooled_{metric}", "sd"]
    row["cutoff_mean"] = summary.loc["cutoff", "mean"]
    row["cutoff_sd"] = summary.loc["cutoff", "sd"]
    return row


def _long_ppv_npv(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"prevalence": frame["prevalence"], "value": v,
                                    "estimate": frame[v], "lower": frame[f"{v}_lower"],
                                    "upper": frame[f"{v}_upper"]}) for v in ("ppv", "npv")],
                     ignore_index=True)
