"""``alsstats roc``, ``alsstats cutoff`` and ``alsstats cv``: validate markers on any table.

The table (CSV or Parquet) needs an outcome column and numeric marker
columns; it does not have to follow the cohort schema.  Exclusions (missing
outcome or marker values, outcomes outside ``--positive``/``--negative``,
repeated rows of a subject) are applied and reported; see
:mod:`alsstats.cli._table` for the rules.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from alsstats._choices import CUTOFF_METHODS as METHODS
from alsstats.cli._common import Outcome, add_command, add_seed_and_level, to_jsonable
from alsstats.cli._output import add_out
from alsstats.cli._progress import show_progress
from alsstats.errors import DataValidationError, Problem

if TYPE_CHECKING:
    import pandas as pd

    from alsstats.cli._table import BinaryTable

__all__ = ["register"]

_RULES = ("Rows with a missing outcome or marker are excluded and counted; a text value in a "
          "marker column is an error; with --subject, roc and cutoff use each subject's first "
          "row (file order). Direction '>': positive if marker >= cutoff; '<': positive if "
          "marker < cutoff; 'auto' is detected (AUC >= 0.5) and reported.")


def _common(p: argparse.ArgumentParser, *, many_markers: bool, table: str) -> None:
    p.add_argument("file", help="table with one row per observation (.csv, .tsv, .parquet)")
    p.add_argument("--outcome", required=True, metavar="COL", help="outcome column")
    p.add_argument("--positive", action="append", metavar="LABEL",
                   help="value(s) of the positive class (repeatable; default 1 for 0/1 outcomes)")
    p.add_argument("--negative", action="append", metavar="LABEL",
                   help="value(s) of the negative class (repeatable); other rows are excluded. "
                        "Default: every value not positive")
    p.add_argument("--marker", action="append", required=True, metavar="COL",
                   help="marker column" + (" (repeatable)" if many_markers else ""))
    p.add_argument("--direction", choices=("auto", "<", ">"), default="auto",
                   help="'>' higher values are positive, '<' lower, 'auto' detect (default)")
    p.add_argument("--subject", metavar="COL", help="subject id column (repeated visits)")
    add_seed_and_level(p)
    add_out(p, table=table)


def register(sub) -> None:
    p = add_command(sub, "roc", "ROC/AUC of one or more markers with DeLong or bootstrap "
                    "intervals; two or more markers are compared (paired DeLong)", _run_roc,
                    description="ROC curve and AUC with intervals. " + _RULES)
    _common(p, many_markers=True, table="one row per marker; the ROC curves are in the JSON")
    p.add_argument("--method", choices=("delong", "bootstrap"), default="delong",
                   help="AUC interval (default delong)")
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap replicates (2000)")
    p.add_argument("--partial", type=float, nargs=2, metavar=("SPEC_LOW", "SPEC_HIGH"),
                   help="also the partial AUC over this specificity range, e.g. 0.8 1.0 "
                        "(with a bootstrap interval under --method bootstrap)")
    # DeLong intervals involve no randomness: the seed is drawn (and reported) only
    # for bootstrap intervals.
    p.set_defaults(seed_needed=lambda args: args.method == "bootstrap")

    p = add_command(sub, "cutoff", "optimal cutoff of a marker with intervals and bootstrap "
                    "stability, or validation of a pre-specified --cutoff", _run_cutoff,
                    description="Cutoff choice and validation. " + _RULES)
    _common(p, many_markers=False, table="the accuracy table at the cutoff")
    p.add_argument("--method", choices=METHODS, default="youden",
                   help="how the optimal cutoff is chosen (youden)")
    p.add_argument("--specificity", type=float, help="target for --method fixed-spec")
    p.add_argument("--sensitivity", type=float, help="target for --method fixed-sens")
    p.add_argument("--cost-fp", type=float, default=1.0, help="cost of a false positive")
    p.add_argument("--cost-fn", type=float, default=1.0, help="cost of a false negative")
    p.add_argument("--prevalence", type=float,
                   help="target prevalence (cost method; PPV/NPV of a --cutoff)")
    p.add_argument("--prevalences", type=float, nargs="+", metavar="P",
                   help="also tabulate PPV/NPV (with intervals) at these prevalences")
    p.add_argument("--cutoff", type=float, help="validate this pre-specified cutoff")
    p.add_argument("--delta", type=float, default=0.05,
                   help="report P(optimal cutoff within --cutoff ± delta) (0.05)")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates (1000)")
    p.add_argument("--site", metavar="COL", help="site column: per-site table for --cutoff")
    p.add_argument("--folds", type=int, default=5, help="folds for fold stability (5)")
    p.add_argument("--repeats", type=int, default=1, help="repeats of the folds (1)")
    p.add_argument("--posterior", action="store_true",
                   help="also the posterior of the optimal cutoff under a binormal Bayesian "
                        "model (exact draws), beside the bootstrap; needs --direction < or >")
    p.add_argument("--transform", choices=("identity", "log"), default="identity",
                   help="scale on which each class is normal, for --posterior (identity)")

    _register_calibration(sub)

    p = add_command(sub, "cv", "subject-grouped repeated cross-validation of each marker's "
                    "cutoff rule (and their logistic combination)", _run_cv,
                    description="Cross-validation; every cutoff and scaling is learned in the "
                                "training folds. " + _RULES.replace(
                                    "with --subject, roc and cutoff use each subject's first "
                                    "row (file order)", "with --subject, cv too uses each "
                                    "subject's first row (file order), and a marker's missing "
                                    "values exclude subjects from that marker only"))
    _common(p, many_markers=True, table="one row per model, split and test fold")
    p.add_argument("--method", choices=METHODS, default="youden",
                   help="cutoff rule learned in each training fold (youden)")
    p.add_argument("--specificity", type=float, help="target for --method fixed-spec")
    p.add_argument("--sensitivity", type=float, help="target for --method fixed-sens")
    p.add_argument("--folds", type=int, default=5, help="folds (5)")
    p.add_argument("--repeats", type=int, default=10, help="repeats (10)")
    p.add_argument("--workers", type=_at_least_one, default=1,
                   help="parallel worker processes (1)")
    p.add_argument("--n-jobs", type=_at_least_one, default=None,
                   help=argparse.SUPPRESS)  # deprecated alias of --workers


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _register_calibration(sub) -> None:
    p = add_command(sub, "calibration", "calibration (Brier, intercept, slope, reliability curve) "
                    "and decision curve of predicted probabilities, with intervals",
                    _run_calibration,
                    description="Calibration and clinical utility of predicted probabilities "
                                "(e.g. the p_als column of 'alsstats score'): Brier score, "
                                "calibration intercept and slope with Wald intervals, a "
                                "reliability curve with Wilson intervals, and the decision "
                                "curve (net benefit) with percentile bootstrap intervals. "
                                + _RULES)
    p.add_argument("file", help="table with one row per observation (.csv, .tsv, .parquet)")
    p.add_argument("--outcome", required=True, metavar="COL", help="outcome column")
    p.add_argument("--positive", action="append", metavar="LABEL",
                   help="value(s) of the positive class (repeatable; default 1 for 0/1)")
    p.add_argument("--negative", action="append", metavar="LABEL",
                   help="value(s) of the negative class (repeatable); other rows excluded")
    p.add_argument("--probability", required=True, metavar="COL",
                   help="predicted probability of the positive class, in [0, 1]")
    p.add_argument("--subject", metavar="COL", help="subject id column (first row used)")
    p.add_argument("--bins", type=int, default=10, help="reliability-curve bins (10)")
    p.add_argument("--strategy", choices=("quantile", "uniform"), default="quantile",
                   help="equal-count (quantile, default) or equal-width bins")
    p.add_argument("--thresholds", type=float, nargs=3, metavar=("LOW", "HIGH", "STEP"),
                   default=(0.01, 0.99, 0.01),
                   help="decision-curve threshold probabilities (0.01 0.99 0.01)")
    p.add_argument("--n-boot", type=int, default=1000,
                   help="bootstrap replicates for the net-benefit intervals (1000; 0: none)")
    add_seed_and_level(p)
    add_out(p, table="the reliability and decision curves, one row per bin or threshold")


def _run_calibration(args: argparse.Namespace) -> Outcome:
    import numpy as np
    import pandas as pd

    from alsstats.validation import calibration_summary, decision_curve

    t = _load(args, one_per_subject=True, markers=[args.probability])
    y, p = t.y, t.markers[args.probability]
    low, high, step = args.thresholds
    thresholds = np.arange(low, high + step / 2, step)
    cal = calibration_summary(y, p, n_bins=args.bins, strategy=args.strategy,
                              conf_level=args.conf_level)
    dca = decision_curve(y, p, thresholds=thresholds, n_boot=args.n_boot,
                         conf_level=args.conf_level, seed=args.seed)
    data = _header(args, t)
    data.update(calibration=cal.to_dict(), decision_curve=dca.curve)
    level = f"{args.conf_level:.0%}"
    lines = [_line(args, t),
             f"  Brier {cal.brier:.4f} (scaled {cal.scaled_brier:.3f}); observed/expected "
             f"{cal.observed_expected:.3f}",
             f"  calibration intercept {cal.intercept:+.3f} ({level} CI {cal.intercept_lower:+.3f}"
             f" to {cal.intercept_upper:+.3f}); slope {cal.slope:.3f} ({cal.slope_lower:.3f}–"
             f"{cal.slope_upper:.3f}); perfect: 0 and 1"]
    curve = dca.curve
    better = curve[(curve["net_benefit"] > curve["treat_all"]) & (curve["net_benefit"] > 0)]
    if len(better):
        lines.append(f"  net benefit above treat-all and treat-none for thresholds "
                     f"{better['threshold'].min():.2f}–{better['threshold'].max():.2f}")
    else:
        lines.append("  net benefit never above both treat-all and treat-none")
    table = pd.concat([cal.reliability.assign(curve="reliability"),
                       curve.assign(curve="decision")], ignore_index=True)
    return Outcome(data, "\n".join(lines),
                   table=table[["curve", *[c for c in table.columns if c != "curve"]]])


def _load(args, *, one_per_subject: bool, site: str | None = None,
          markers: list[str] | None = None) -> BinaryTable:
    from alsstats.cli._table import prepare_binary_table, read_table

    df = read_table(args.file)
    return prepare_binary_table(df, outcome=args.outcome, markers=markers or args.marker,
                                positive=args.positive, negative=args.negative,
                                subject=args.subject, site=site,
                                one_per_subject=one_per_subject, file=str(args.file))


def _header(args, t: BinaryTable) -> dict:
    return {"file": str(args.file), "outcome": args.outcome, "positive": t.positive,
            "rows_read": t.rows_read, "n_positive": t.n_positive, "n_negative": t.n_negative,
            "exclusions": t.exclusions}


def _line(args, t: BinaryTable) -> str:
    return (f"{args.file}: {t.n_positive} positive ({', '.join(t.positive)}) and "
            f"{t.n_negative} negative rows; {t.exclusion_text()}")


def _run_roc(args: argparse.Namespace) -> Outcome:
    import pandas as pd

    from alsstats.validation import auc_ci, compare_aucs, delong_test, partial_auc, roc_curve

    t = _load(args, one_per_subject=True)
    data = _header(args, t)
    lines = [_line(args, t)]
    rows, curves = [], []
    for m in args.marker:
        ci = auc_ci(t.y, t.markers[m], method=args.method, direction=args.direction,
                    conf_level=args.conf_level, n_boot=args.n_boot, seed=args.seed)
        row = {"marker": m, **ci.to_dict()}
        det = " (detected)" if ci.direction_detected else ""
        text = (f"  {m}: AUC {ci.auc:.4f}, {args.conf_level:.0%} CI {ci.lower:.4f}–"
                f"{ci.upper:.4f} ({args.method}); direction {ci.direction}{det}")
        if args.partial:
            pa = partial_auc(t.y, t.markers[m], specificity=tuple(args.partial),
                             direction=ci.direction, conf_level=args.conf_level,
                             n_boot=args.n_boot if args.method == "bootstrap" else 0,
                             seed=args.seed)
            row["partial_auc"] = pa.to_dict()
            band = f" (CI {pa.lower:.4f}–{pa.upper:.4f})" if pa.n_boot else ""
            text += (f"; partial AUC (spec {pa.spec_low:g}–{pa.spec_high:g}) {pa.pauc:.4f}"
                     f"{band}, McClish {pa.standardized:.4f}")
        rows.append(row)
        lines.append(text)
        curve = roc_curve(t.y, t.markers[m], direction=ci.direction).to_frame()
        curves.append(curve.assign(marker=m)[["marker", *curve.columns]])
    data["markers"] = rows
    curves = pd.concat(curves, ignore_index=True)
    data["curves"] = curves
    dirs = [r["direction"] for r in rows]
    if len(args.marker) == 2:
        test = delong_test(t.y, t.markers[args.marker[0]], t.markers[args.marker[1]],
                           direction=dirs, conf_level=args.conf_level)
        data["comparison"] = {"test": "paired DeLong", **test.to_dict()}
        lines.append(f"  paired DeLong: difference {test.difference:+.4f} "
                     f"(CI {test.lower:+.4f} to {test.upper:+.4f}), z {test.z:.3f}, "
                     f"p {test.p_value:.4g}")
    elif len(args.marker) > 2:
        comp = compare_aucs(t.y, {m: t.markers[m] for m in args.marker}, direction=dirs,
                            conf_level=args.conf_level)
        data["comparison"] = {"test": "joint DeLong", **comp.to_dict()}
        lines.append(f"  all AUCs equal: chi2 {comp.chi2:.3f} on {comp.df} df, "
                     f"p {comp.p_value:.4g}")
        for _, r in comp.contrasts.iterrows():
            lines.append(f"    {r['contrast']}: {r['estimate']:+.4f}, p {r['p_value']:.4g}, "
                         f"Holm p {r['p_holm']:.4g}")
    table = pd.json_normalize(rows, sep="_")
    return Outcome(data, "\n".join(lines), table=table)


def _criteria(args) -> dict:
    return {"specificity": args.specificity, "sensitivity": args.sensitivity,
            "cost_fp": getattr(args, "cost_fp", 1.0), "cost_fn": getattr(args, "cost_fn", 1.0),
            "prevalence": getattr(args, "prevalence", None) if args.method == "cost" else None}


def _perf_lines(table: pd.DataFrame) -> list[str]:
    out = []
    for _, r in table.iterrows():
        if r["interval"] in ("wilson", "log", "bayes-logit"):
            out.append(f"    {r['metric']:<12} {r['estimate']:.4f}  ({r['lower']:.4f}–"
                       f"{r['upper']:.4f}, {r['interval']})")
    return out


def _prevalence_table(args, perf, data: dict, lines: list[str]) -> None:
    if not args.prevalences:
        return
    from alsstats.validation import ppv_npv_by_prevalence

    table = ppv_npv_by_prevalence(perf, args.prevalences)
    data["ppv_npv_by_prevalence"] = to_jsonable(table)
    lines.append("  prevalence    PPV (interval)             NPV (interval)")
    for _, r in table.iterrows():
        lines.append(f"  {r['prevalence']:<10.3g}  {r['ppv']:.3f} ({r['ppv_lower']:.3f}–"
                     f"{r['ppv_upper']:.3f})    {r['npv']:.3f} ({r['npv_lower']:.3f}–"
                     f"{r['npv_upper']:.3f})")


def _posterior(args, t, s, data: dict, lines: list[str]) -> None:
    """``--posterior``: the binormal posterior of the optimal cutoff (cutoff_posterior)."""
    if not args.posterior:
        return
    from alsstats.validation.cutoff_posterior import cutoff_posterior

    if args.direction == "auto" or args.method == "fixed-sens":
        raise DataValidationError([Problem(
            "--posterior needs --direction '<' or '>' and --method youden, fixed-spec or cost",
            value=(args.direction, args.method))])
    reference = 1.0 if args.cutoff is None else args.cutoff
    post = cutoff_posterior(t.y, s, direction=args.direction, transform=args.transform,
                            utility=args.method, specificity=args.specificity,
                            cost_fp=args.cost_fp, cost_fn=args.cost_fn,
                            prevalence=args.prevalence, reference=reference, delta=args.delta,
                            n_boot=args.n_boot, conf_level=args.conf_level,
                            name=args.marker[0], seed=args.seed)
    data["posterior"] = post.to_dict()
    for _, r in post.summary.iterrows():
        lines.append(f"  {r['method']} of the {args.method} cutoff: median {r['median']:.4g} "
                     f"({args.conf_level:.0%} interval {r['lower']:.4g}–{r['upper']:.4g}); "
                     f"P(|c* − {reference:g}| < {args.delta:g}) = {r['prob_within']:.3f}")
    lines.append(f"  posterior model: {post.model}; {post.n_no_optimum} draws without a "
                 "finite optimum")


def _run_cutoff(args: argparse.Namespace) -> Outcome:
    from alsstats.validation import cutoff_stability, validate_cutoff

    if len(args.marker) != 1:
        raise DataValidationError([Problem("cutoff takes exactly one --marker",
                                           value=args.marker)])
    m = args.marker[0]
    t = _load(args, one_per_subject=True, site=args.site)
    data = _header(args, t)
    lines = [_line(args, t)]
    s = t.markers[m]
    if args.cutoff is None:
        stab = cutoff_stability(t.y, s, method=args.method, direction=args.direction,
                                n_boot=args.n_boot, seed=args.seed, conf_level=args.conf_level,
                                name=m, progress=show_progress(args), **_criteria(args))
        opt = stab.full_data
        data.update(cutoff=opt.to_dict(), stability=to_jsonable(stab.summary))
        det = " (direction detected)" if opt.direction_detected else ""
        lines.append(f"  {args.method} cutoff: {opt.rule}{det}; "
                     "in-sample accuracy (optimistic):")
        lines += _perf_lines(opt.performance.table)
        q = stab.summary.set_index("quantity")
        lines.append(f"  bootstrap ({stab.n_boot} replicates, {stab.n_failed} failed): cutoff "
                     f"median {q.loc['cutoff', 'median']:.4g} ({q.loc['cutoff', 'lower']:.4g}–"
                     f"{q.loc['cutoff', 'upper']:.4g}); out-of-bag sensitivity "
                     f"{q.loc['oob_sensitivity', 'mean']:.3f}, specificity "
                     f"{q.loc['oob_specificity', 'mean']:.3f}")
        _prevalence_table(args, opt.performance, data, lines)
        _posterior(args, t, s, data, lines)
        return Outcome(data, "\n".join(lines), table=opt.performance.table)
    v = validate_cutoff(t.y, s, args.cutoff, direction=args.direction, delta=args.delta,
                        method=args.method, n_boot=args.n_boot, seed=args.seed,
                        sites=t.site, n_folds=args.folds, n_repeats=args.repeats,
                        prevalence=args.prevalence, conf_level=args.conf_level, name=m,
                        progress=show_progress(args),
                        **{k: v for k, v in _criteria(args).items() if k != "prevalence"})
    data["validation"] = v.to_dict()
    data["validation"]["stability"].pop("replicates")  # the summary is reported instead
    lines.append(f"  pre-specified rule: {v.rule}")
    lines += _perf_lines(v.performance.table)
    lines.append(f"  {args.method} cutoff on these data: {v.optimal.rule}; "
                 f"P(within ±{args.delta:g} of {args.cutoff:g}) = {v.prob_within_delta:.3f} "
                 f"(MC SE {v.prob_within_delta_se:.3f}, {v.stability.n_boot} bootstraps)")
    if v.by_fold is not None:
        f = v.by_fold
        lines.append(f"  folds ({len(f)}): training cutoff {f['trained_cutoff'].mean():.4g} "
                     f"± {f['trained_cutoff'].std(ddof=1):.3g}; test sensitivity of the "
                     f"pre-specified rule {f['fixed_sensitivity'].mean():.3f} ± "
                     f"{f['fixed_sensitivity'].std(ddof=1):.3f}, specificity "
                     f"{f['fixed_specificity'].mean():.3f} ± "
                     f"{f['fixed_specificity'].std(ddof=1):.3f}")
    lines += [f"  note: {n}" for n in v.notes]
    if v.by_site is not None:
        for _, r in v.by_site.iterrows():
            lines.append(f"  site {r['site']}: sensitivity {r['sensitivity']:.3f}, "
                         f"specificity {r['specificity']:.3f} (n {r['n_positive']}/"
                         f"{r['n_negative']}); site optimum {r['optimal_cutoff']:.4g}")
    _prevalence_table(args, v.performance, data, lines)
    _posterior(args, t, s, data, lines)
    return Outcome(data, "\n".join(lines), table=v.performance.table)


def _run_cv(args: argparse.Namespace) -> Outcome:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from alsstats.validation import CutoffClassifier, cross_validate
    from alsstats.validation.cutoffs import _check_method

    _check_method(args.method, args.specificity, args.sensitivity, 1.0, 1.0, None)
    workers = args.workers
    if args.n_jobs is not None:
        print("alsstats cv: --n-jobs is deprecated; use --workers", file=sys.stderr)
        workers = args.n_jobs
    # One row per subject, as roc and cutoff; each marker keeps every subject it was
    # measured in (missing values are per marker); the combination needs all of them.
    t = _load(args, one_per_subject=True)
    data = _header(args, t)
    lines = [_line(args, t) + " (rows complete in every marker; each single marker uses "
                              "every subject it was measured in)"]
    models: dict[str, tuple[object, list[str]]] = {
        m: (CutoffClassifier(method=args.method, direction=args.direction,
                             specificity=args.specificity, sensitivity=args.sensitivity), [m])
        for m in args.marker}
    if len(args.marker) > 1:
        models["logistic(" + "+".join(args.marker) + ")"] = (
            make_pipeline(StandardScaler(), LogisticRegression()), list(args.marker))
    results, splits = {}, []
    for name, (est, cols) in models.items():
        tm = t if len(cols) == len(args.marker) else _load(args, one_per_subject=True,
                                                           markers=cols)
        X = np.column_stack([tm.markers[c] for c in cols])
        r = cross_validate(est, X, tm.y, groups=tm.subject, n_folds=args.folds,
                           n_repeats=args.repeats, seed=args.seed, n_jobs=workers)
        results[name] = {"summary": to_jsonable(r.summary), "repeats": to_jsonable(r.repeats),
                         "n_subjects": r.n_subjects, "n_positive": tm.n_positive,
                         "n_negative": tm.n_negative, "exclusions": tm.exclusions}
        splits.append(r.splits.assign(model=name))
        q = r.summary.set_index("quantity")
        lines.append(f"  {name} ({tm.n_positive} positive, {tm.n_negative} negative): "
                     f"AUC {q.loc['auc', 'mean']:.3f} ± {q.loc['auc', 'sd']:.3f}, "
                     f"sensitivity {q.loc['sensitivity', 'mean']:.3f} ± "
                     f"{q.loc['sensitivity', 'sd']:.3f}, specificity "
                     f"{q.loc['specificity', 'mean']:.3f} ± {q.loc['specificity', 'sd']:.3f} "
                     f"(mean ± SD over {args.folds}×{args.repeats} test folds)")
    data.update(folds=args.folds, repeats=args.repeats, seed=args.seed, models=results)
    table = pd.concat(splits, ignore_index=True)
    data["splits"] = table
    return Outcome(data, "\n".join(lines),
                   table=table[["model", *[c for c in table.columns if c != "model"]]])
