"""``alsstats fit diagnostic``, ``score``, ``choose-distribution`` and ``accuracy``.

``fit diagnostic`` fits :class:`~alsstats.models.diagnostic.model.DiagnosticModel` to
a cohort table (each subject's baseline visit) and saves the posterior as
NetCDF with provenance.  ``score`` loads a saved fit and writes, per subject
(earliest visit), P(class) with its interval as CSV.  A fit that did not
converge is flagged in the JSON output and in the ``fit_converged`` column.
``choose-distribution`` fits the normal and robust marker distributions to one cohort
and chooses by PSIS-LOO (:mod:`alsstats.models.diagnostic.distribution_choice`).
``accuracy`` gives a marker's sensitivity and specificity at a cutoff against the
recorded labels and, for a latent-class fit, against the latent truth, with the
clinical label's own accuracy (:mod:`alsstats.models.diagnostic.accuracy`).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

from alsstats._choices import SAMPLERS
from alsstats.cli._common import EXIT_NOT_CONVERGED, Outcome, add_command, add_strict
from alsstats.cli._output import add_out
from alsstats.cli._progress import show_progress
from alsstats.errors import AlsStatsError, ConvergenceWarning, DataValidationError, Problem

__all__ = ["register"]

_PREVALENCE_HELP = ("required: class prevalences of the patients scored, either every class "
                    "('ALS=0.3,MIMIC=0.6,HC=0.1'), or P(ALS) and how the rest is split "
                    "('0.3:uniform', '0.3:training' = training frequencies, "
                    "'0.3:MIMIC=2,HC=1' = relative weights), or 'uniform' or 'training' "
                    "(the training class frequencies)")


def register(sub) -> None:
    fit = sub.add_parser("fit", help="fit a Bayesian model to a cohort table",
                         description="Fit a Bayesian model and save its posterior (NetCDF).")
    models = fit.add_subparsers(dest="model", metavar="MODEL", required=True)
    p = add_command(models, "diagnostic", "fit the diagnostic model P(class | markers)",
                    _run_fit, description=(
                        "Fit the Bayesian diagnostic model to each subject's baseline visit "
                        "and save the posterior as NetCDF with the spec, package version and "
                        "data hash."))
    p.add_argument("--data", required=True, help="cohort table (.csv or .parquet)")
    p.add_argument("--spec", help="model spec TOML (default: the shipped default spec)")
    p.add_argument("--out", required=True, help="output model file (.nc)")
    p.add_argument("--draws", type=int, default=1000, help="draws per chain (1000)")
    p.add_argument("--tune", type=int, default=1000, help="tuning steps per chain (1000)")
    p.add_argument("--chains", type=int, default=4, help="chains (4)")
    p.add_argument("--sampler", choices=SAMPLERS, default="nutpie",
                   help="nutpie (default), pymc, or advi (approximate; loops only)")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--target-accept", type=float, default=0.8,
                   help="NUTS target acceptance (0.8); raise to 0.95 if few sites give "
                        "divergences")
    add_strict(p)

    p = add_command(sub, "score", "score patients with a fitted diagnostic model", _run_score,
                    description="Write P(class) per subject (earliest visit) with an interval: "
                                "by default the predictive interval (where P(class) could "
                                "land once missing markers are measured and an unseen site "
                                "is calibrated; it widens for each), or --interval credible "
                                "(posterior uncertainty given the observed markers only). "
                                "Columns name the interval's kind and level and the markers "
                                "used; patients scored on the prior alone (no marker) or at "
                                "a site the model was not fitted on are flagged and warned "
                                "about.")
    p.add_argument("--model", required=True, help="fitted model (.nc from 'fit diagnostic')")
    p.add_argument("--data", required=True, help="patients (.csv or .parquet): subject_id, "
                   "site, age, sex and any of the spec's markers")
    p.add_argument("--prevalence", required=True, help=_PREVALENCE_HELP)
    p.add_argument("--spec", help="fail unless the model was fitted with this spec")
    p.add_argument("--interval", choices=("predictive", "credible"), default="predictive",
                   help="interval kind (predictive, the default; see above)")
    p.add_argument("--level", type=float, default=None,
                   help="interval probability, e.g. 0.9 (default: the spec's, 0.95)")
    add_out(p, required=True, table="one row per patient")

    p = add_command(sub, "accuracy", "a marker's accuracy at a cutoff without a gold standard",
                    _run_accuracy, description=(
                        "Sensitivity and specificity of one marker at a cutoff in a cohort, "
                        "counted against the recorded groups and, with a latent-class fit "
                        "(spec: reference = 'latent'), against the latent true class; the "
                        "latter also gives the accuracy of the clinical label itself."))
    p.add_argument("--model", required=True, help="fitted model (.nc from 'fit diagnostic')")
    p.add_argument("--data", required=True,
                   help="cohort table (.csv or .parquet), usually the one the model was "
                        "fitted on, with group and el_escorial")
    p.add_argument("--marker", required=True, help="marker column, e.g. nfl_pg_ml")
    p.add_argument("--cutoff", required=True, type=float, help="cutoff on the marker's scale")
    p.add_argument("--direction", choices=(">", "<"), default=">",
                   help="positive when marker > cutoff (default) or < cutoff")
    p.add_argument("--level", type=float, default=0.9, help="interval probability (0.9)")
    p.add_argument("--seed", type=int, help="seed of the draws of the latent classes")
    add_out(p, table="one row per reference (latent, recorded)")


    p = add_command(sub, "choose-distribution",
                    "choose the diagnostic model's marker distribution by PSIS-LOO",
                    _run_choose_distribution, description=(
                        "Fit the diagnostic model with normal markers and with each robust "
                        "candidate (spec [model] marker_distribution: student_t, "
                        "skew_normal) to the same cohort and compare them by PSIS-LOO of the "
                        "markers (elpd, se, d_elpd, dse, Pareto k).  The normal model is "
                        "kept unless a candidate beats it by more than 2 SE of the paired "
                        "ELPD difference."))
    p.add_argument("--data", required=True, help="cohort table (.csv or .parquet)")
    p.add_argument("--spec", help="model spec TOML (default: the shipped default spec); its "
                   "marker_distribution is replaced by each candidate")
    p.add_argument("--candidates", default="student_t",
                   help="comma-separated robust distributions to try (student_t; "
                        "student_t,skew_normal for both)")
    p.add_argument("--draws", type=int, default=1000, help="draws per chain (1000)")
    p.add_argument("--tune", type=int, default=1000, help="tuning steps per chain (1000)")
    p.add_argument("--chains", type=int, default=4, help="chains (4)")
    p.add_argument("--seed", type=int, help="random seed (the same for every fit)")
    p.add_argument("--target-accept", type=float, default=0.8,
                   help="NUTS target acceptance (0.8)")
    add_strict(p)
    add_out(p, table="one row per marker distribution")


def _refuse_constant_markers(data, args: argparse.Namespace) -> None:
    """A spec marker that is (near-)constant at baseline is refused before any compiling."""
    from alsstats.models.diagnostic.spec import load_spec
    from alsstats.schema import NEAR_CONSTANT_RTOL, is_near_constant

    spec = load_spec(args.spec)
    base = data.sort_values(["subject_id", "visit"], kind="stable").drop_duplicates("subject_id")
    flat = [m for m in spec.marker_names
            if m in base.columns and base[m].notna().sum() >= 2 and is_near_constant(base[m])]
    if flat:
        raise DataValidationError([Problem(
            f"marker is constant over the subjects' baseline visits (relative spread <= "
            f"{NEAR_CONSTANT_RTOL:g}); it cannot inform the diagnosis: drop it from the spec",
            column=m, value=float(base[m].dropna().iloc[0]), file=str(args.data))
            for m in flat])


def _run_fit(args: argparse.Namespace) -> Outcome:
    if not str(args.out).endswith(".nc"):
        raise DataValidationError(f"--out {args.out}: the model file must end in .nc")
    from alsstats.models.diagnostic.model import DiagnosticModel
    from alsstats.schema import read_cohort

    data = read_cohort(args.data)
    _refuse_constant_markers(data, args)
    start = time.perf_counter()
    model = DiagnosticModel(spec=args.spec, draws=args.draws, tune=args.tune,
                            chains=args.chains, sampler=args.sampler, seed=args.seed,
                            target_accept=args.target_accept)
    from alsstats.inference.sampling import sampler_progress

    with warnings.catch_warnings(), sampler_progress(show_progress(args)):
        warnings.simplefilter("ignore", ConvergenceWarning)   # reported in the output instead
        model.fit(data)
    elapsed = time.perf_counter() - start
    model.save(args.out)
    conv = model.convergence_
    counts = dict(zip(model.classes_.tolist(), model.class_counts_.tolist(), strict=True))
    text = (f"fitted diagnostic model on {int(model.class_counts_.sum())} subjects "
            f"({', '.join(f'{k} {v}' for k, v in counts.items())}) in {elapsed:.1f} s; "
            f"saved {args.out}\n")
    if conv.ok:
        text += (f"converged: max R-hat {conv.max_rhat:.3f}, min bulk ESS "
                 f"{conv.min_ess_bulk:.0f}, min tail ESS {conv.min_ess_tail:.0f}, "
                 "no divergences")
    else:
        text += "WARNING: NOT CONVERGED: " + conv.message("the fit")
    return Outcome({"model": str(args.out), "subjects_per_class": counts,
                    "markers": list(model.spec_.marker_names), "sites": list(model.sites_),
                    "convergence": conv.to_dict(), "converged": conv.ok,
                    "seconds": round(elapsed, 2), "data_sha256": model.data_sha256_}, text,
                   exit_code=EXIT_NOT_CONVERGED if args.strict and not conv.ok else 0)


def _check_score_table(table, file: str) -> None:
    """Known columns by the schema; one row per (subject, visit): conflicts are errors."""
    from alsstats.cli._table import check_identifiers
    from alsstats.schema import check_plausible

    offset = None if file.lower().endswith(".parquet") else 2
    check_plausible(table, file=file, line_offset=offset)
    check_identifiers(table, ("subject_id", "site"), file)
    keys = [c for c in ("subject_id", "visit") if c in table.columns]
    if "subject_id" not in keys:
        return
    dup = table.duplicated(keys, keep=False).to_numpy()
    if not dup.any():
        return
    groups = table[dup].groupby(keys, sort=False, dropna=False)
    conflicts = [g for _, g in groups if len(g.drop_duplicates()) > 1]
    if conflicts:
        g = conflicts[0]
        where = "/".join(str(v) for v in g.iloc[0][keys])
        rows = ", ".join(str(int(i) + (offset or 0)) for i in g.index[:5])
        raise DataValidationError(
            f"{file}: {len(conflicts)} (subject, visit) with conflicting rows, e.g. {where} on "
            f"{'lines' if offset else 'rows'} {rows}; keep one row per subject and visit")


def _run_score(args: argparse.Namespace) -> Outcome:
    try:
        float(args.prevalence)
    except ValueError:
        pass
    else:
        p = args.prevalence.strip()
        raise AlsStatsError(f"--prevalence {p}: gives P(ALS) only; state how the rest is "
                            f"split: '{p}:uniform', '{p}:training' or '{p}:MIMIC=2,HC=1', "
                            "or give every class")
    import numpy as np
    import pandas as pd

    from alsstats.models.diagnostic.model import DiagnosticModel
    from alsstats.schema import read_cohort

    table = read_cohort(args.data, validate=False)
    _check_score_table(table, str(args.data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = DiagnosticModel.load(args.model, spec=args.spec)
    repeats = int(table.duplicated().sum())
    table = table.drop_duplicates().reset_index(drop=True)
    if "visit" in table.columns:
        visit = pd.to_numeric(table["visit"], errors="coerce")
        if visit.isna().any():
            row = int(np.flatnonzero(visit.isna().to_numpy())[0])
            raise DataValidationError(f"{args.data}: row {row}, column 'visit': not a number")
        order = table.assign(_visit=visit.to_numpy()).sort_values(["subject_id", "_visit"],
                                                                  kind="stable")
        table = order.drop_duplicates("subject_id").drop(columns="_visit").sort_index()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = model.predict_posterior(table.reset_index(drop=True),
                                         prevalence=args.prevalence, interval=args.level,
                                         interval_kind=args.interval)
    scores = _explain(scores, table, list(model.spec_.marker_names))
    conv = model.convergence_
    level = scores.attrs["interval"]
    text = (f"scored {len(scores)} subjects; intervals: {args.interval} "
            f"{level:.0%} (column 'interval', 'level')")
    warned = []
    prior_only = int(scores["prior_only"].sum())
    unseen = int((~scores["site_seen"]).sum())
    if prior_only:
        warned.append(f"{prior_only} patient(s) had no marker and are scored on the prior "
                      "alone (column prior_only): their P(class) is the prevalence")
    if unseen:
        warned.append(f"{unseen} patient(s) at a site the model was not fitted on (column "
                      "site_seen = False): scored at the average site, with wider "
                      "predictive intervals")
    if repeats:
        text += f"\n{repeats} exact repeated row(s) of the data ignored"
    if not conv.ok:
        warned.append("the model did NOT converge: " + "; ".join(conv.problems()))
    for w in warned:
        print(f"alsstats score: warning: {w}", file=sys.stderr)
    return Outcome({"scores": str(args.out), "subjects": len(scores),
                    "prevalence": scores.attrs["prevalence"], "interval": scores.attrs["interval"],
                    "fit_converged": conv.ok, "repeated_rows_ignored": repeats,
                    "mean_p_als": float(scores["p_als"].mean()) if len(scores) else None,
                    "interval_kind": args.interval, "level": level,
                    "prior_only": prior_only, "unseen_site": unseen, "warnings": warned,
                    "patients": scores},
                   text, table=scores)


def _explain(scores, table, markers: list[str]):
    """Add the columns that say how each patient was scored.

    ``interval`` and ``level`` (the interval's kind and probability), ``markers_used``
    (the spec's markers observed for the patient, ';'-separated) and ``prior_only`` (no
    marker observed: P(class) is the prior).  ``site_seen`` is already there.
    """
    import pandas as pd

    rows = table.reset_index(drop=True)
    present = [m for m in markers if m in rows.columns]
    observed = pd.DataFrame({m: pd.to_numeric(rows[m], errors="coerce").notna()
                             for m in present}, index=rows.index)
    used = observed.apply(lambda r: ";".join(m for m in present if r[m]), axis=1) \
        if present else pd.Series("", index=rows.index)
    by_subject = dict(zip(rows["subject_id"].astype(str), used, strict=True))
    out = scores.copy()
    out.insert(len(out.columns) - 3, "interval", scores.attrs["interval_kind"])
    out.insert(len(out.columns) - 3, "level", scores.attrs["interval"])
    out["markers_used"] = [by_subject.get(str(s), "") for s in out["subject_id"]]
    out["prior_only"] = out["n_markers"] == 0
    out.attrs.update(scores.attrs)
    return out


def _run_choose_distribution(args: argparse.Namespace) -> Outcome:
    from alsstats.models.diagnostic.distribution_choice import choose_marker_distribution
    from alsstats.schema import read_cohort

    candidates = tuple(c.strip() for c in args.candidates.split(",") if c.strip())
    data = read_cohort(args.data)
    _refuse_constant_markers(data, args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)   # reported in the output instead
        choice = choose_marker_distribution(
            data, spec=args.spec, candidates=candidates, draws=args.draws, tune=args.tune,
            chains=args.chains, seed=args.seed, target_accept=args.target_accept)
    lines = [f"{'model':<12} {'elpd':>9} {'se':>7} {'d_elpd':>8} {'dse':>7} "
             f"{'k>0.7':>5} {'fit s':>6}"]
    for r in choice.table.itertuples():
        lines.append(f"{r.model:<12} {r.elpd:9.1f} {r.se:7.1f} {r.d_elpd:8.1f} {r.dse:7.1f} "
                     f"{r.n_pareto_k_bad:5d} {choice.seconds.get(r.model, float('nan')):6.1f}")
    lines.append(f"chosen: {choice.chosen} (best candidate minus normal: "
                 f"{choice.difference:.1f}, SE {choice.se:.1f}; a candidate needs more than "
                 "2 SE)")
    if choice.table["warning"].any():
        lines.append("WARNING: some subjects have Pareto k > 0.7 (column n_pareto_k_bad): "
                     "their LOO terms are unreliable")
    converged = bool(choice.table["converged"].all())
    if not converged:
        bad = ", ".join(choice.table.loc[~choice.table["converged"], "model"])
        lines.append(f"WARNING: NOT CONVERGED: {bad}; the comparison is not reliable")
    return Outcome(choice.to_dict(), "\n".join(lines), table=choice.table,
                   exit_code=EXIT_NOT_CONVERGED if args.strict and not converged else 0)


def _run_accuracy(args: argparse.Namespace) -> Outcome:
    from alsstats.models.diagnostic.accuracy import label_accuracy, marker_accuracy
    from alsstats.models.diagnostic.model import DiagnosticModel
    from alsstats.schema import read_cohort

    model = DiagnosticModel.load(args.model)
    result = marker_accuracy(model, read_cohort(args.data), args.marker, args.cutoff,
                             direction=args.direction, interval=args.level, seed=args.seed)
    lines = [f"{args.marker} {args.direction} {args.cutoff:g} in {int(result.table['n'][0])} "
             f"subjects ({args.level:.0%} intervals):"]
    for _, row in result.table.iterrows():
        lines.append(f"  against the {row['reference']} classes: sensitivity "
                     f"{row['sensitivity']:.3f} ({row['sensitivity_low']:.3f}-"
                     f"{row['sensitivity_high']:.3f}), specificity {row['specificity']:.3f} "
                     f"({row['specificity_low']:.3f}-{row['specificity_high']:.3f})")
    data = result.to_dict()
    if model.spec_.reference == "latent":
        labels = label_accuracy(model, interval=args.level)
        data["label_accuracy"] = labels.to_dict(orient="records")
        lines.append("the clinical label against the latent classes:")
        lines += [f"  {r.quantity}: {r.value:.3f} ({r.value_low:.3f}-{r.value_high:.3f})"
                  for r in labels.itertuples()]
    if not model.convergence_.ok:
        lines.append("WARNING: the fit did not converge: " + model.convergence_.message("it"))
    data["fit_converged"] = model.convergence_.ok
    return Outcome(data, "\n".join(lines), table=result.table)
