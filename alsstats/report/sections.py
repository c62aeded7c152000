"""Report sections: lay out already-computed results as text, tables and figures.

Each builder takes result objects or frames and returns a
:class:`~alsstats.report.document.Section`; none of them computes statistics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alsstats._units import per_unit, years_per_unit
from alsstats.report.document import Section, Table
from alsstats.report.figures import (
    calibration_figure,
    histogram_figure,
    interval_figure,
    lines_figure,
    missingness_figure,
    roc_figure,
    roc_panels_figure,
)

__all__ = [
    "cohort_section",
    "cutoff_posterior_section",
    "cutoff_section",
    "decline_section",
    "diagnostic_fit_section",
    "diagnostic_section",
    "increment_section",
    "marker_section",
    "power_section",
    "power_simulation_section",
    "trial_planning_sections",
]


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
            Table("AUC by marker", aucs, "DeLong 95% intervals; n_positive (ALS) and "
                  "n_negative (HC) are the subjects with the marker.", slug="auc"),
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



def power_section(plan) -> Section:
    """Sample size for a gray-matter slope trial, a simulated ALSFRS-R trial, a diagnostic study."""
    comp = plan.gm_components.set_index("quantity")["estimate"]
    sizes = plan.gm_sample_sizes
    n30 = int(sizes.loc[sizes["slowing"] == 0.3, "n_per_arm"].iloc[0])
    trial = plan.trial_curve
    return Section(
        title="Planning: power and sample size",
        slug="power",
        paragraphs=[
            f"Gray-matter slope trial planned from this cohort: REML on the ALS patients' total "
            f"gray matter gives a mean decline of {comp['mean slope (cm³/year)']:.1f} cm³/year "
            f"(between-patient SD {comp['SD of slope']:.1f}). With visits at 0, 6 and 12 months, "
            f"80% power (two-sided α 0.05) to detect a 30% slowing needs {n30} patients per "
            "arm (GLS information engine; longpower's Diggle/Liu–Liang/Edland family).",
            f"ALSFRS-R trial ({plan.trial_name}): power simulated with "
            f"{plan.trial_replicates} replicates per design, each analysed by REML, with "
            "dropout and informative death; bars are ± 1.96 Monte Carlo SE, the line the "
            "analytic GLS power for the same design.",
        ],
        items=[
            Table("Variance components (REML), ALS total gray matter", plan.gm_components,
                  "Random intercept and slope model, total gray matter in cm³ over years.",
                  slug="components"),
            Table("Patients per arm for 80% power", sizes,
                  "Two-arm 1:1 trial, visits at 0, 0.5 and 1 year, separate group intercepts.",
                  slug="sample-sizes"),
            lines_figure(plan.gm_curves, x="n_per_arm", y="power", group="slowing",
                         title="Power of a gray-matter slope trial",
                         caption="Analytic power by patients per arm for 20%, 30% and 50% "
                                 "slowing of gray-matter decline.", xlabel="patients per arm",
                         ylabel="power", slug="gm-power", hline=0.8, ylim=(0, 1)),
            lines_figure(trial, x="n_control", y="power", low="lower", high="upper",
                         title="Simulated power of the ALSFRS-R trial",
                         caption="Simulated power (points, ± 1.96 MC SE) over the placebo-arm "
                                 "size (the active arm is twice as large).",
                         xlabel="placebo patients", ylabel="power", slug="trial-power",
                         errorbars=True, hline=0.8, ylim=(0, 1), analytic="analytic_power"),
            Table("Simulated vs analytic power, ALSFRS-R trial", trial,
                  "power ± mc_se from the simulation; failed fits are counted, never treated "
                  "as non-significant.", slug="trial"),
            Table("Diagnostic-accuracy study (Buderer 1996)", plan.diagnostic,
                  "Subjects needed to estimate the M1/precuneus cutoff's accuracy with a 95% "
                  "interval of ± 0.10.", slug="diagnostic"),
        ],
    )


def _convergence_warning(ok: bool, what: str) -> list[str]:
    return [] if ok else [f"The {what} did NOT meet the convergence criteria (R-hat, ESS, "
                          "divergences); treat its numbers as unreliable."]


def decline_section(res, *, outcome: str = "total gray matter (cm³)",
                    description: str | None = None) -> Section:
    """A decline model: group slopes, trajectories, subject slopes, detection power."""
    table = res.summary.set_index("term")
    groups = list(dict.fromkeys(res.trajectories["group"]))
    paragraphs = [description or (
        f"Mixed model of {outcome} over time with group-specific slopes and correlated "
        f"random intercepts and slopes; {res.n_subjects} subjects, {res.n_obs} "
        "observations.")]
    unit = getattr(res, "time_unit", "years")
    per = per_unit(unit)
    rates = [f"{g}: {table.loc[f'percent_per_time[{g}]', 'estimate']:.2f}% {per} "
             f"({table.loc[f'percent_per_time[{g}]', 'lower']:.2f} to "
             f"{table.loc[f'percent_per_time[{g}]', 'upper']:.2f})"
             for g in groups if f"percent_per_time[{g}]" in table.index]
    if rates:
        paragraphs.append("Change as % of the baseline level: " + "; ".join(rates) + ".")
    subjects = res.subject_slopes
    focus = subjects[subjects["group"] == "ALS"] if (subjects["group"] == "ALS").any() \
        else subjects
    patients = focus[focus["p_decline_over_threshold"].notna()]
    likely = int((patients["p_decline_over_threshold"] > 0.9).sum())
    threshold = res.threshold_pct_per_year * years_per_unit(unit)
    shown = (f"{res.threshold_pct_per_year:g}% per year" if unit == "years" else
             f"{res.threshold_pct_per_year:g}% per year ({threshold:.3g}% {per})")
    paragraphs.append(f"{likely} of {len(patients)} {'ALS ' if focus is not subjects else ''}"
                      f"patients decline faster than {shown} with probability > 0.9 "
                      "(posterior; Wald approximation for REML fits); the threshold is not "
                      f"applied to controls ({', '.join(res.controls)}).")
    items = [
        lines_figure(res.trajectories, x="time", y="estimate", group="group", low="lower",
                     high="upper", title="Trajectories by group",
                     caption="Mean trajectory (mean covariates, average site) with its "
                             "interval band, per group.",
                     xlabel=f"time from baseline ({unit})", ylabel=outcome,
                     slug="trajectories"),
        Table("Summary", res.summary,
              f"Group intercepts, slopes {per} and % of baseline {per}; "
              "differences from the reference group; covariates; variance components.",
              slug="summary"),
        interval_figure(focus.sort_values("percent_per_time_unit"), label="subject",
                        estimate="percent_per_time_unit", low="lower", high="upper",
                        title="Subjects' own rates of change",
                        caption=f"Each subject's mean % change {per} with its interval "
                                "(first 60 by rate; all subjects in the CSV).",
                        xlabel=f"% change {per}", slug="subjects", vline=0.0),
    ]
    if res.detection is not None:
        seed = res.detection.iloc[0]
        paragraphs.append(
            f"The seed's question, simulated: with {int(seed['patients'])} patients scanned "
            f"{seed['years_apart']} years apart (longitudinal FreeSurfer stream), a paired "
            f"t-test detects total gray-matter decline with probability {seed['gm_power']:.2f}"
            f" (MC SE {seed['gm_mc_se']:.3f}) but M1 decline only {seed['m1_power']:.2f}.")
        items.append(Table(
            "Detecting decline with two scans (simulated)", res.detection,
            "Power of a paired t-test (p < 0.05, decline direction) on log volumes from "
            "simulated studies, with Monte Carlo SE. 'seed_replicate' uses the longitudinal "
            "FreeSurfer stream (scan CV 0.4%); 'default' the cross-sectional stream (0.7%) "
            "and its missing scans.", slug="detection"))
    items.append(Table("Convergence", res.convergence, "Bayesian fits: R-hat ≤ 1.01, bulk and "
                       "tail ESS ≥ 400, no divergences; REML fits: optimizer convergence.",
                       slug="convergence"))
    return Section(title="Monitoring: decline over time", slug="decline",
                   warnings=_convergence_warning(res.converged, "longitudinal fit"),
                   paragraphs=paragraphs, items=items)


def diagnostic_section(res) -> Section:
    """The Bayesian diagnostic model on held-out patients: discrimination, calibration, CrIs."""
    aucs = res.aucs
    model = aucs.iloc[0]
    best = aucs.iloc[1:].loc[aucs.iloc[1:]["auc"].idxmax()]
    stats = res.calibration_stats.set_index("quantity")
    slope = stats.loc["calibration slope"]
    widths = res.widths
    few, many = widths.iloc[0], widths.iloc[-1]
    scores = res.scores.sort_values(["group", "p_als"])
    picks = [idx[np.linspace(0, len(idx) - 1, min(len(idx), 12)).astype(int)]
             for idx in scores.groupby("group", sort=False).indices.values()]
    shown = scores.iloc[np.concatenate(picks)]
    means = res.class_means.assign(label=lambda d: d["class"] + " · " + d["marker"])
    return Section(
        title="Diagnosis: the Bayesian multimodal model",
        slug="diagnostic",
        warnings=_convergence_warning(res.converged, "diagnostic model fit"),
        paragraphs=[
            f"Hierarchical class-conditional model (ALS incl. PMA vs mimic vs healthy) fitted "
            f"on the {res.n_train} cohort patients' baseline markers and scored on "
            f"{res.n_test} new, independently simulated patients at the training prevalence. "
            "Missing markers are marginalized, never imputed: every patient gets a score.",
            f"On the new patients, P(ALS) has AUC {model['auc']:.3f} ({model['low']:.3f}–"
            f"{model['high']:.3f}) for motor neuron disease vs the rest; the best single "
            f"marker, {best['marker']}, {best['auc']:.3f} ({best['low']:.3f}–"
            f"{best['high']:.3f}) on the {int(best['n'])} patients who have it. Calibration "
            f"slope {slope['value']:.2f} ({slope['lower']:.2f}–{slope['upper']:.2f}).",
            "Intervals are 90% predictive intervals: where P(ALS) could land once a patient's "
            "missing markers are measured (and an unseen site calibrated); for a patient with "
            "every marker at a training site they are the credible interval over posterior "
            f"draws. They widen when markers are missing: mean width "
            f"{few['mean_interval_width']:.2f} with {int(few['markers_available'])} markers vs "
            f"{many['mean_interval_width']:.2f} with {int(many['markers_available'])}.",
        ],
        items=[
            roc_figure(res.curves, aucs[["marker", "auc", "low", "high"]],
                       title="ROC of P(ALS) and of each marker on held-out patients",
                       caption="Held-out patients; each marker on the patients who have it, "
                               "the model on everyone. AUC with DeLong 95% interval; the "
                               "shaded band is the model's pointwise 95% bootstrap band.",
                       slug="roc", band=res.model_band),
            Table("AUC on held-out patients", aucs, "DeLong 95% intervals.", slug="auc"),
            interval_figure(shown, label="subject_id", estimate="p_als", low="p_als_low",
                            high="p_als_high", color_by="group",
                            title="P(ALS) per patient with 90% intervals",
                            caption="A sample of held-out patients per group (all patients "
                                    "in the CSV), at the training prevalence.",
                            xlabel="P(ALS | markers)", slug="patients"),
            Table("Interval width by the number of markers a patient has", widths,
                  "Mean width of the 90% predictive interval of P(ALS).", slug="widths"),
            calibration_figure(res.calibration, title="Calibration of P(ALS)",
                               caption="Observed proportion with ALS (Wilson 95% interval) "
                                       "against mean predicted P(ALS), in bins of predicted "
                                       "risk."),
            Table("Calibration", res.calibration_stats,
                  "Brier score; logistic recalibration intercept (calibration-in-the-large) "
                  "and slope with 95% intervals.", slug="calibration-stats"),
            lines_figure(res.decision, x="threshold", y="net_benefit", group="strategy",
                         title="Decision curve", caption="Net benefit of acting on P(ALS) ≥ "
                         "threshold, against treating everyone or no one.",
                         xlabel="threshold probability", ylabel="net benefit",
                         slug="decision", ylim=(-0.1, 0.05 + float(
                             res.decision["net_benefit"].max()))),
            interval_figure(means, label="label", estimate="mean", low="lower", high="upper",
                            color_by="class", title="Posterior class means by marker",
                            caption="Class means μ_k of each transformed, standardized "
                                    "marker (training mean 0, SD 1) with 90% intervals.",
                            xlabel="standardized marker", slug="forest", vline=0.0),
            Table("Posterior predictive checks", res.ppc,
                  "P(replicated class mean / SD ≥ observed); values near 0 or 1 flag misfit.",
                  slug="ppc"),
            Table("Convergence", res.convergence, "nutpie NUTS; criteria (the spec's "
                  "[convergence] policy, default): R-hat ≤ 1.01, bulk and tail ESS ≥ 400 in "
                  "total, no divergences.", slug="convergence"),
            Table("Scores of the held-out patients", res.scores, "p_<class> posterior mean "
                  "and 90% interval; n_markers observed; site_seen.", slug="scores",
                  max_rows=20),
        ],
    )


def power_simulation_section(result: dict) -> Section:
    """A simulated-power result (``alsstats power simulate --out``): power per arm with MC SE."""
    arms = pd.DataFrame(result["arms"])
    arms["lower"] = (arms["power"] - 1.96 * arms["mc_se"]).clip(0, 1)
    arms["upper"] = (arms["power"] + 1.96 * arms["mc_se"]).clip(0, 1)
    run = pd.DataFrame({"setting": list(result["run"]),
                        "value": [str(v) for v in result["run"].values()]})
    first = arms.iloc[0]
    analytic = first.get("analytic_power")
    return Section(
        title="Simulated power", slug="power-simulation",
        warnings=[f"{int(arms['failed_fits'].sum())} fits failed; they are excluded from the "
                  "power estimate, not counted as non-significant."]
        if arms["failed_fits"].sum() else [],
        paragraphs=[
            f"Scenario {result['scenario']}: {result['replicates']} replicates (seed "
            f"{result['seed']}), analysed by {result['method']}, α {result['alpha']} "
            f"({result['alternative']}); arms {result['n_per_arm']}.",
            f"{first['arm']}: power {first['power']:.3f} (Monte Carlo SE "
            f"{first['mc_se']:.3f})" + (f"; analytic GLS power {analytic:.3f}."
                                        if analytic is not None and analytic == analytic
                                        else "."),
        ],
        items=[
            interval_figure(arms, label="arm", estimate="power", low="lower", high="upper",
                            title="Power per active arm", caption="Simulated power with "
                            "± 1.96 Monte Carlo SE.", xlabel="power", slug="arms"),
            Table("Power per active arm", arms, "rejections / successful fits; mean and SD "
                  "of the estimated effect; mean SE; analytic GLS power.", slug="arms-table"),
            Table("Run", run, "Execution: scheduler, workers, chunks (resumed chunks from a "
                  "checkpoint are reported).", slug="run"),
        ])


def diagnostic_fit_section(class_means: pd.DataFrame, convergence: pd.DataFrame,
                           converged: bool, classes: list[str], markers: list[str]) -> Section:
    """A saved diagnostic model: posterior class means by marker, and convergence."""
    means = class_means.assign(label=lambda d: d["class"] + " · " + d["marker"])
    return Section(
        title="Diagnostic model", slug="diagnostic-fit",
        warnings=_convergence_warning(converged, "diagnostic model fit"),
        paragraphs=[f"Classes {', '.join(classes)}; markers {', '.join(markers)} "
                    "(transformed and standardized with the training mean and SD)."],
        items=[
            interval_figure(means, label="label", estimate="mean", low="lower", high="upper",
                            color_by="class", title="Posterior class means by marker",
                            caption="Class means with 90% intervals on the standardized "
                                    "scale.", xlabel="standardized marker", slug="forest",
                            vline=0.0),
            Table("Posterior class means", class_means, "90% intervals.", slug="means"),
            Table("Convergence", convergence, "", slug="convergence"),
        ])


# -- trial planning (issue 16): sequential rules, assurance, enrichment ------------------------

def _band(frame: pd.DataFrame, y: str, se: str) -> pd.DataFrame:
    return frame.assign(lower=(frame[y] - 1.96 * frame[se]).clip(0, 1),
                        upper=(frame[y] + 1.96 * frame[se]).clip(0, 1))


def sequential_section(result: dict) -> Section:
    """Operating characteristics per look of a Bayesian rule (``power sequential --out``)."""
    rows = []
    for hyp, label in (("null", "no effect"), ("alternative", "with the effect")):
        for look in result[hyp]["looks"]:
            for what in ("success", "futility"):
                if what == "futility" and look["look"] == len(result["looks"]):
                    continue
                rows.append({"look": look["look"], "information": look["information"],
                             "n_analysed": look["n_analysed"], "curve":
                             f"P(stop for {what}) · {label}", "probability": look[what],
                             "mc_se": look[f"{what}_mc_se"]})
    per_look = _band(pd.DataFrame(rows), "probability", "mc_se")
    rule, cal, gs = result["rule"], result.get("calibration"), result["group_sequential"]
    threshold = (f"calibrated to one-sided α {cal['target_alpha']:g} on "
                 f"{cal['calibration_replicates']} independent null trials: P(benefit > 0) > "
                 f"{cal['threshold']:.5f}") if cal else f"P(benefit > 0) > {rule['success']}"
    an = result["analytic"]
    gs_table = pd.DataFrame({"look": list(range(1, len(gs["critical_values"]) + 1)),
                             "information": gs["information_rates"],
                             "z boundary": gs["critical_values"],
                             "alpha spent": gs["alpha_spent"],
                             "nominal p": gs["stage_levels"]})
    return Section(
        title="Bayesian decision rule with interim looks", slug="sequential",
        paragraphs=[
            f"Scenario {result['scenario']}, looks at information fractions "
            f"{', '.join(f'{t:g}' for t in result['looks'])}; {result['replicates']} simulated "
            f"trials per hypothesis (seed {result['seed']}).  Success rule: {threshold}"
            + (f"; futility below {rule['futility']:g} at interim looks" if rule["futility"]
               is not None else "") + f"; {rule['prior']} prior.",
            f"Type I error {result['type_i_error']:.4f} (Monte Carlo SE "
            f"{result['type_i_error_mc_se']:.4f}; analytic {an['null']['success']:.4f}); power "
            f"{result['power']:.4f} (MC SE {result['power_mc_se']:.4f}; analytic "
            f"{an['alternative']['success']:.4f}); expected patients "
            f"{result['null']['expected_n']:.1f} without and "
            f"{result['alternative']['expected_n']:.1f} with the effect.",
            f"For comparison, the Lan–DeMets {gs['spending']}-type design with one-sided α "
            f"{gs['alpha']:g} on the same trials: type I error {gs['null']['success']:.4f}, "
            f"power {gs['alternative']['success']:.4f} (analytic "
            f"{gs['analytic']['alternative']['power']:.4f}).",
        ],
        items=[
            lines_figure(per_look, x="look", y="probability", group="curve", low="lower",
                         high="upper", errorbars=True, title="Operating characteristics per "
                         "look", caption="Probability of stopping at each look for success or "
                         "futility, without and with the effect (± 1.96 Monte Carlo SE).",
                         xlabel="look", ylabel="probability", slug="sequential-looks"),
            Table("Stops per look", per_look, "Simulated probabilities with their Monte "
                  "Carlo SE.", slug="sequential-table"),
            Table("Group-sequential boundaries", gs_table, "Lan–DeMets alpha spending "
                  "(checked against rpact).", slug="gs-boundaries"),
        ])


def assurance_section(result: dict) -> Section:
    """Assurance and power at the posterior mean by control-arm size (``power assurance``)."""
    curve = _band(pd.DataFrame(result["curve"]), "assurance", "mc_se")
    power = curve.assign(assurance=curve["power_at_posterior_mean"],
                         lower=curve["power_at_posterior_mean"],
                         upper=curve["power_at_posterior_mean"])
    both = pd.concat([curve.assign(curve="assurance"),
                      power.assign(curve="power at the posterior mean")], ignore_index=True)
    prior, pilot = result["effect_prior"], result["pilot"]
    prior_text = (f"a point mass at a {prior['mean']:g} slowing" if prior["kind"] == "point"
                  else f"a normal({prior['mean']:g}, {prior['sd']:g}) slowing")
    return Section(
        title="Assurance", slug="assurance",
        paragraphs=[
            f"Probability that the trial succeeds, averaged over {result['n_draws']} draws of "
            f"the pilot fit ({pilot['source']}, group {pilot['group']}) and a design prior of "
            f"{prior_text}; beside it the conventional power at the posterior mean.",
        ],
        items=[
            lines_figure(both, x="n", y="assurance", group="curve", low="lower",
                         high="upper", title="Assurance and power vs n",
                         caption="Assurance (band: ± 1.96 Monte Carlo SE) and the conventional "
                         "power at the posterior mean, by control-arm size.",
                         xlabel="control-arm size", ylabel="probability of success",
                         slug="assurance-curve", ylim=(0, 1)),
            Table("Assurance by n", curve, "Assurance with its Monte Carlo SE and the power "
                  "at the posterior mean.", slug="assurance-table"),
        ])


def enrichment_section(result: dict) -> Section:
    """Screening ratio, enrolment and cost by marker threshold (``power enrichment``)."""
    rows = pd.DataFrame(result["thresholds"])
    rows["threshold_label"] = ["none" if c is None else f"{c:.4g}" for c in rows["threshold"]]
    cut = rows["threshold"].astype(float).fillna(0.0)
    plot = rows.assign(threshold=cut)
    counts = pd.concat([plot.assign(patients=plot[k], what=k)[["threshold", "patients", "what"]]
                        for k in ("enrolled", "screened")])
    best = result["best"]

    def name(c):
        return "no threshold" if c is None else f"{c:.4g}"

    return Section(
        title="Biomarker enrichment", slug="enrichment",
        paragraphs=[
            f"Enrolling patients with {result['marker']} at or above a threshold "
            f"({result['population']}; slowing {result['slowing']:g}, power "
            f"{result['power']:g}).  Fewest patients screened: {name(best['screened'])}; "
            f"fewest enrolled: {name(best['enrolled'])}; lowest cost "
            f"({result['cost_screen']:g} per screen, {result['cost_enrolled']:g} per enrolled "
            f"patient): {name(best['cost'])}.",
        ],
        items=[
            lines_figure(plot, x="threshold", y="screening_ratio", title="Screening vs "
                         "threshold", caption="Patients screened per patient enrolled (no "
                         "threshold drawn at 0).", xlabel=f"{result['marker']} threshold",
                         ylabel="screened per enrolled", slug="screening"),
            lines_figure(counts, x="threshold", y="patients", group="what",
                         title="Patients enrolled and screened", caption="Enrolment for the "
                         "target power and the screening it needs, by threshold.",
                         xlabel=f"{result['marker']} threshold", ylabel="patients",
                         slug="enrolment"),
            Table("By threshold", rows, "Eligible share and screening ratio (with Monte "
                  "Carlo SE from the simulated population), mean decline, sample size, "
                  "screening and cost.", slug="enrichment-table"),
        ])


def trial_planning_sections(result: dict) -> list[Section]:
    """The section of a trial-planning result, by its ``kind``."""
    build = {"power.sequential": sequential_section, "power.assurance": assurance_section,
             "power.enrichment": enrichment_section}[result["kind"]]
    return [build(result)]

def increment_section(res, names: dict[str, str] | None = None) -> Section:
    """Added value of each modality over the base markers (an ``IncrementResult``).

    ``names`` maps an added set's label (``'glu_naa+glu_gaba'``) to a display name.
    """
    names = names or {}
    t = res.table[res.table["population"] == "all"].copy()
    t["added"] = t["added"].map(lambda a: names.get(a, a))
    keep = ["delta_auc", "nri_categorical", "nri_continuous", "idi", "delta_brier",
            "delta_log_score"]
    summary = t[t["metric"].isin(keep)][["added", "n", "metric", "estimate", "lower", "upper",
                                         "interval"]]
    auc = t[t["metric"] == "delta_auc"]
    nb = res.net_benefit[res.net_benefit["population"] == "all"].copy()
    nb["added"] = nb["added"].map(lambda a: names.get(a, a))
    sub = res.table[(res.table["population"] == "with_added")
                    & res.table["metric"].isin(["delta_auc", "idi", "delta_log_score"])].copy()
    sub["added"] = sub["added"].map(lambda a: names.get(a, a))
    base = " + ".join(res.base)
    best = auc.sort_values("estimate", ascending=False).iloc[0]
    level = f"{res.conf_level:.0%}"
    return Section(
        title="Does each modality add to NfL?",
        slug="increment",
        paragraphs=[
            f"Each modality is added to {base} in the same model class ({res.model}), ALS "
            f"(with PMA) against MIMIC and healthy controls, {res.n_subjects} subjects with "
            f"{base} at baseline ({res.n_excluded_missing_base} without it excluded). Every "
            f"prediction is out of fold ({res.n_folds}-fold subject-grouped cross-validation, "
            f"{res.n_repeats} repeats averaged). Optimism correction: "
            f"{res.optimism_correction}.",
            f"Intervals ({level}): {res.intervals}. Patients without the added modality "
            "keep their NfL-only prediction (the pattern submodel), so the 'all' rows "
            "dilute a modality's value by its availability; the rows for the patients who "
            "have it are in the second table.",
            f"Largest ΔAUC: {best['added']} {best['estimate']:+.3f} ({best['lower']:+.3f} to "
            f"{best['upper']:+.3f}). The continuous NRI counts any upward move of an ALS "
            "patient's probability as a gain, however small; it measures a marker's "
            "separation on its own more than what it adds (Pepe et al. 2011); it and the IDI "
            "follow any difference between the two fits, so read ΔAUC, Δ log score, "
            "Δ Brier and Δ net benefit first (coverage of 0 for a marker without "
            "information: docs/models/added-value.md).",
        ],
        items=[
            interval_figure(auc, label="added", estimate="estimate", low="lower",
                            high="upper", title=f"ΔAUC over {base}, out of fold",
                            caption=f"AUC of {base} + the modality minus AUC of {base} alone, "
                                    f"with {level} refit-bootstrap intervals; the dotted line "
                                    "is no gain.", xlabel="ΔAUC", slug="delta-auc", vline=0.0),
            lines_figure(nb, x="threshold", y="delta", group="added", low="lower",
                         high="upper", title="Δ net benefit across threshold probabilities",
                         caption="Net benefit (Vickers & Elkin 2006) of the model with the "
                                 f"modality minus that of {base} alone, with {level} "
                                 "intervals; above 0 the modality leads to better decisions "
                                 "at that threshold.", xlabel="threshold probability of ALS",
                         ylabel="Δ net benefit", slug="delta-net-benefit", hline=0.0),
            Table("Added value over NfL, all subjects", summary,
                  "NRI categorical uses the risk categories <" + "%, ".join(
                      f"{100 * c:g}" for c in res.categories) + "% and above; ΔBrier < 0 "
                  "and Δ log score > 0 are improvements.", slug="increment-all"),
            Table("Added value in the subjects who have the modality", sub,
                  "The same out-of-fold predictions restricted to the subjects with every "
                  "marker of the added set.", slug="increment-with"),
        ],
    )


def cutoff_posterior_section(post) -> Section:
    """Posterior of the optimal cutoff (``CutoffPosterior``) beside the bootstrap."""
    draws = pd.concat([
        pd.DataFrame({"cutoff": post.posterior_draws, "method": "posterior (binormal)"}),
        pd.DataFrame({"cutoff": post.bootstrap_draws, "method": "bootstrap (empirical)"})],
        ignore_index=True)
    p, b = post.row("posterior"), post.row("bootstrap")
    level = f"{post.conf_level:.0%}"
    par = post.class_parameters.set_index("parameter")
    return Section(
        title=f"How sure is the {post.reference:.2f} cutoff?",
        slug="cutoff-posterior",
        paragraphs=[
            f"The Youden-optimal M1/precuneus cutoff in probable/definite ALS "
            f"({post.n_positive}) vs healthy controls ({post.n_negative}), two ways. "
            f"Posterior: {post.model}; the ratio is normal within each class (ALS mean "
            f"{par.loc['mu_positive', 'mean']:.3f}, SD {par.loc['sigma_positive', 'mean']:.3f};"
            f" controls {par.loc['mu_negative', 'mean']:.3f}, SD "
            f"{par.loc['sigma_negative', 'mean']:.3f}) and each posterior draw's optimum is "
            "exact. Bootstrap: the empirical optimum re-chosen in each stratified resample, "
            "without the normal assumption.",
            f"Posterior median {p['median']:.3f} ({level} interval {p['lower']:.3f}–"
            f"{p['upper']:.3f}); P(|c* − {post.reference:.2f}| < {post.delta:g}) = "
            f"{p['prob_within']:.2f}. Bootstrap median {b['median']:.3f} ({b['lower']:.3f}–"
            f"{b['upper']:.3f}); the same probability {b['prob_within']:.2f} (MC SE "
            f"{b['prob_within_mc_se']:.2f}). The posterior is narrower because the binormal "
            "model uses every value, the empirical optimum only the order near the cutoff; "
            "it is right only as far as the classes are normal.",
        ],
        items=[
            histogram_figure(draws, column="cutoff", group="method",
                             title="Optimal cutoff: posterior and bootstrap",
                             caption=f"{post.n_draws} posterior draws of the optimum and "
                                     f"{post.n_boot} bootstrap optima (density scale).",
                             xlabel="Youden-optimal M1/precuneus cutoff",
                             slug="cutoff-posterior",
                             reference={"pre-specified": post.reference}),
            Table("The optimal cutoff: posterior and bootstrap", post.summary,
                  f"Central {level} intervals; prob_within = P(|c* − {post.reference:.2f}| < "
                  f"{post.delta:g}).", slug="cutoff-posterior-summary"),
        ],
    )
