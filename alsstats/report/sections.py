"""Report sections: lay out already-computed results as text, tables and figures.

Each builder takes result objects or frames and returns a
:class:`~alsstats.report.document.Section`; none of them computes statistics.
"""

from __future__ import annotations

import pandas as pd

from alsstats.report.document import Section, Table
from alsstats.report.figures import (
    histogram_figure,
    lines_figure,
    missingness_figure,
    roc_figure,
    roc_panels_figure,
)

__all__ = ["cohort_section", "cutoff_section", "marker_section"]


def cohort_section(summary: pd.DataFrame, patterns: pd.DataFrame, markers: list[str], *,
                   description: str) -> Section:
    """Cohort summary by group and the baseline missingness patterns."""
    n_subjects = int(summary["subjects"].sum())
    table = summary.reset_index()
    complete = patterns[patterns[markers].all(axis=1)]["total"].sum()
    return Section(
        title="Cohort",
        slug="cohort",
        paragraphs=[description,
                    f"{n_subjects} subjects; {int(complete)} ({100 * complete / n_subjects:.0f}%)"
                    " have every marker at baseline. Missing markers are never imputed: the "
                    "diagnostic model marginalizes them."],
        items=[
            Table("Baseline summary by group", table,
                  "Subjects, visits, mean age, % male, median ALSFRS-R, and each marker's median "
                  "and availability (% of subjects) at baseline.", slug="summary"),
            missingness_figure(patterns, markers, title="Missingness patterns at baseline",
                               caption="Each row is a pattern of available (dark) and missing "
                                       "(light) markers, with its number of subjects; the counts "
                                       "by group are in the CSV.", slug="missingness"),
        ],
    )


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def marker_section(mv) -> Section:
    """ROC of each marker (ALS vs HC) with DeLong intervals, bands, comparison and CV."""
    aucs = mv.aucs
    best = aucs.loc[aucs["auc"].idxmax()]
    comp = mv.comparison.copy()
    return Section(
        title="Markers: ROC and AUC",
        slug="markers",
        paragraphs=[
            "Each marker on its own, ALS vs healthy controls at baseline, with the direction "
            "fixed in advance (the M1/precuneus ratio is lower in ALS; the others higher). "
            "AUC intervals are DeLong 95% intervals; the shaded bands are pointwise "
            "stratified-bootstrap 95% bands of sensitivity at each false-positive rate.",
            f"Best single marker: {best['marker']} with AUC {best['auc']:.3f} "
            f"({best['low']:.3f}–{best['high']:.3f}). Joint DeLong test that all "
            f"{len(aucs)} AUCs are equal on the {mv.comparison_n} subjects with every "
            f"marker: p = {mv.comparison_p:.2g}.",
        ],
        items=[
            roc_figure(mv.curves, aucs[["marker", "auc", "low", "high"]],
                       title="ROC curves of each marker (ALS vs HC)",
                       caption="Empirical ROC curves; the legend gives each AUC with its "
                               "DeLong 95% interval.", slug="roc"),
            roc_panels_figure(mv.bands, aucs[["marker", "auc", "low", "high"]],
                              title="ROC curves with bootstrap confidence bands",
                              caption="Step ROC curve of each marker with its pointwise 95% "
                                      "stratified-bootstrap band."),
            Table("AUC by marker", aucs, "DeLong 95% intervals; n_als and n_hc are the "
                  "subjects with the marker.", slug="auc"),
            Table("Pairwise AUC differences (complete cases)", comp,
                  f"DeLong covariance on the {mv.comparison_n} subjects with every marker; "
                  "p_holm is Holm-adjusted over all pairs.", slug="comparison"),
            Table("Cross-validated Youden cutoff rule per marker", mv.cv,
                  "Repeated (5 x) subject-grouped stratified 5-fold CV; the cutoff is chosen "
                  "by Youden's index inside each training fold. Out-of-fold AUC, sensitivity "
                  "and specificity are pooled per repeat: mean and SD over repeats.",
                  slug="cv"),
        ],
    )


def cutoff_section(mv) -> Section:
    """The pre-specified M1/precuneus cutoff: accuracy, optimal-cutoff bootstrap, PPV/NPV."""
    val = mv.cutoff
    perf = val.performance
    se, se_lo, se_hi = perf.get("sensitivity")
    sp, sp_lo, sp_hi = perf.get("specificity")
    opt = val.optimal
    stab = val.stability
    summary = stab.summary.set_index("quantity")
    items = [
        Table(f"Accuracy of the rule {val.rule}", perf.table,
              "Probable/definite ALS vs healthy controls at baseline. Sensitivity, specificity, "
              "PPV and NPV with Wilson and exact (Clopper–Pearson) 95% intervals; likelihood "
              "ratios with log-method intervals.", slug="performance"),
        histogram_figure(stab.replicates, column="cutoff",
                         title="Bootstrap distribution of the Youden-optimal cutoff",
                         caption=(f"{stab.n_boot} subject-level stratified bootstrap replicates;"
                                  f" full-data optimum {opt.cutoff:.3f}, bootstrap median "
                                  f"{summary.loc['cutoff', 'median']:.3f} (95% percentile "
                                  f"interval {summary.loc['cutoff', 'lower']:.3f}–"
                                  f"{summary.loc['cutoff', 'upper']:.3f}). P(optimal cutoff "
                                  f"within {val.cutoff:.2f} ± {val.delta:.2f}) = "
                                  f"{val.prob_within_delta:.2f} (MC SE "
                                  f"{val.prob_within_delta_se:.2f})."),
                         xlabel="optimal M1/precuneus cutoff", slug="bootstrap",
                         reference={"pre-specified": val.cutoff, "full-data optimum":
                                    opt.cutoff}),
        Table("Bootstrap summary of the optimal cutoff and its out-of-bag accuracy",
              stab.summary, "In-bag accuracy is optimistic; out-of-bag (oob) accuracy is an "
              "honest estimate for the cutoff-selection procedure (as in cutpointr).",
              slug="bootstrap-summary"),
        lines_figure(
            mv.ppv_npv, x="prevalence", y="estimate", group="value", low="lower", high="upper",
            title=f"PPV and NPV of {val.rule} across prevalence",
            caption="Predictive values implied by the cutoff's likelihood ratios at each "
                    "pre-test probability, with 95% intervals from the LR intervals.",
            xlabel="prevalence (pre-test probability of ALS)", ylabel="predictive value",
            slug="ppv-npv", ylim=(0, 1)),
    ]
    if val.by_site is not None:
        items.append(Table("The cutoff at each site", val.by_site,
                           "Sensitivity and specificity of the pre-specified rule by site "
                           "(Wilson intervals) and each site's own Youden-optimal cutoff.",
                           slug="sites"))
    if val.by_fold is not None:
        items.append(Table("The cutoff across cross-validation folds", val.by_fold,
                           "Per split: the cutoff chosen in the training folds, and test-fold "
                           "accuracy of the pre-specified and the trained cutoff.",
                           slug="folds"))
    return Section(
        title=f"Is {val.cutoff:.2f} the right M1/precuneus cutoff?",
        slug="cutoff",
        paragraphs=[
            f"Pre-specified rule {val.rule}: sensitivity {_pct(se)} "
            f"({_pct(se_lo)}–{_pct(se_hi)}), specificity {_pct(sp)} ({_pct(sp_lo)}–"
            f"{_pct(sp_hi)}) in probable/definite ALS vs healthy controls (the seed reported "
            "0.42 and 0.90).",
            f"The Youden-optimal cutoff on these data is {opt.cutoff:.3f} ({opt.rule}); "
            f"across bootstrap replicates it lies within ±{val.delta:.2f} of "
            f"{val.cutoff:.2f} with probability {val.prob_within_delta:.2f}.",
            *val.notes,
        ],
        items=items,
    )

