"""``alsstats longitudinal``: fit the decline model to any long-format table.

``alsstats decline-power``: simulated power of a paired test for decline (n patients,
two scans Δt apart).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from alsstats._units import TIME_UNITS, per_unit, years_per_unit
from alsstats.cli._common import (
    EXIT_NOT_CONVERGED,
    Outcome,
    add_command,
    add_strict,
    to_jsonable,
)
from alsstats.cli._output import RESULT_FORMATS, add_out
from alsstats.cli._progress import show_progress
from alsstats.errors import ConvergenceWarning, DataValidationError, Problem

__all__ = ["register"]


def register(sub) -> None:
    p = add_command(sub, "longitudinal",
                    "fit the longitudinal decline model (Bayesian or REML/ML) to a long table",
                    _run_longitudinal)
    p.add_argument("--data", required=True, help="long-format table (.csv or .parquet), "
                   "one row per subject and visit")
    p.add_argument("--outcome", required=True, help="outcome column")
    p.add_argument("--time", required=True, help="time column (numeric, from baseline)")
    p.add_argument("--time-unit", choices=TIME_UNITS, default="years",
                   help="unit of the time column (years); slopes are per this unit in "
                        "every output")
    p.add_argument("--subject", required=True, help="subject identifier column")
    p.add_argument("--group", help="grouping column (group-specific slopes)")
    p.add_argument("--covariate", action="append", default=[],
                   help="subject-level covariate column (repeatable; first-visit value used)")
    p.add_argument("--site", help="site column (partially pooled offsets)")
    p.add_argument("--method", choices=("bayes", "reml", "ml"), default="reml")
    p.add_argument("--spec", help="model spec TOML (default: the shipped spec)")
    p.add_argument("--reference", help="reference group for slope differences "
                   "(default: the spec's reference_group, else HC if present, else the first)")
    p.add_argument("--group-variances", choices=("shared", "per_group", "auto"),
                   help="random-effect covariance shared by all groups, one per group, or "
                   "chosen by a REML likelihood-ratio test (default: the spec's)")
    p.add_argument("--outcome-scale", choices=("linear", "log"),
                   help="'log' when the outcome column is a natural log: percent change is "
                   "then 100(exp(b) - 1) (default: the spec's)")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--out", metavar="FILE",
                   help="write the fit: .nc (NetCDF, reloadable by 'report --from'), .json "
                        "(everything), .csv or .parquet (the parameter table)")
    p.set_defaults(out_formats=(".nc", *RESULT_FORMATS))
    add_strict(p)
    p.add_argument("--positive-only", action="store_true",
                   help="the outcome cannot be negative (a volume, a concentration): a value "
                        "<= 0 is an error (automatic for known cohort columns, with their "
                        "units and ranges)")
    p = add_command(sub, "decline-power",
                    "power of a paired t-test to detect decline in n patients scanned twice",
                    _run_power)
    p.add_argument("--n", type=int, required=True, help="patients")
    p.add_argument("--dt", type=float, required=True,
                   help="time between the two scans, in --time-unit")
    p.add_argument("--time-unit", choices=TIME_UNITS, default="years",
                   help="unit of --dt (years)")
    p.add_argument("--outcome", default="total_gm_volume_mm3")
    p.add_argument("--group", default="ALS", help="group or stratum of the patients")
    p.add_argument("--scenario", default="default", help="generator scenario name or TOML")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--replicates", type=int, default=500)
    p.add_argument("--seed", type=int, default=None)
    add_out(p)


def _check_outcome(data, args: argparse.Namespace) -> None:
    """The outcome and covariates, where they are cohort columns, by the schema (units,
    ranges); ``--positive-only`` for others.  The time axis is not a schema quantity (a
    column named ``age`` may be centred age used as time), so it is not checked."""
    import numpy as np
    import pandas as pd

    from alsstats.cli._table import check_identifiers
    from alsstats.schema import check_plausible

    file = str(args.data)
    offset = None if Path(file).suffix.lower() in (".parquet", ".pq") else 2
    check_plausible(data, file=file, line_offset=offset,
                    columns=[args.outcome, *args.covariate])
    check_identifiers(data, (args.subject, args.group, args.site), file)
    if args.positive_only and args.outcome in data.columns:
        y = pd.to_numeric(data[args.outcome], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(np.isfinite(y) & (y <= 0))
        if len(bad):
            raise DataValidationError([Problem(
                f"must be > 0 (--positive-only); {len(bad)} value(s) are not",
                column=args.outcome, row=int(bad[0]), value=float(y[bad[0]]), file=file)])


def _run_longitudinal(args: argparse.Namespace) -> Outcome:
    from alsstats.cli._table import read_table
    from alsstats.inference.sampling import sampler_progress
    from alsstats.models.longitudinal.model import LongitudinalModel
    from alsstats.models.longitudinal.spec import load_longitudinal_spec

    data = read_table(args.data)
    _check_outcome(data, args)
    spec = load_longitudinal_spec(args.spec)
    changes = {k: v for k, v in (("reference_group", args.reference),
                                 ("group_variances", args.group_variances),
                                 ("outcome_scale", args.outcome_scale)) if v is not None}
    if changes:
        spec = spec.replace(**changes)
    model = LongitudinalModel(spec=spec, method=args.method, outcome=args.outcome,
                              time=args.time, subject=args.subject, group=args.group,
                              covariates=tuple(args.covariate), site=args.site, seed=args.seed)
    progress = show_progress(args) if args.method == "bayes" else False
    with warnings.catch_warnings(), sampler_progress(progress):
        warnings.simplefilter("ignore", ConvergenceWarning)   # reported in the output instead
        model.fit(data)
    model.meta_["time_unit"] = args.time_unit   # saved with the fit; reports read it
    result = to_jsonable(model.to_dict())
    result.update(data=str(args.data), time_unit=args.time_unit,
                  slopes_per=per_unit(args.time_unit))
    result.setdefault("seed", args.seed)
    result["singular"] = bool(model.lmm_.singular) if model.lmm_ is not None else False
    if args.out and args.out.lower().endswith(".nc"):
        model.save(args.out)
        result["out"] = str(args.out)
    table = model.summary()
    cols = [c for c in ("estimate", "sd", "df", "lower", "upper", "r_hat", "ess_bulk")
            if c in table.columns]
    se_name = "posterior SD" if args.method == "bayes" else "SE"
    lines = [f"{args.data}: {args.outcome} over {args.time}, method {args.method}, "
             f"{model.meta_['n_subjects']} subjects, {model.meta_['n_obs']} visits",
             f"interval {model.spec_.interval:g}; 'sd' = {se_name}; slopes and % change "
             f"{per_unit(args.time_unit)} ({args.time} in {args.time_unit}); reference group "
             f"{model.reference_group_}",
             table[cols].to_string(float_format=lambda v: f"{v:.5g}")]
    if model.lmm_ is not None:
        lines += _reml_notes(model)
    lines.append(f"converged: {model.converged_}"
                 + (" (boundary (singular) fit)" if result.get("singular") else ""))
    if not model.converged_:
        lines.append("WARNING: NOT CONVERGED: " + model.convergence_.message("the fit"))
    if args.out and args.out.lower().endswith(".nc"):
        lines.append(f"wrote {args.out}")
    return Outcome(result, "\n".join(lines), table=table.reset_index(),
                   exit_code=EXIT_NOT_CONVERGED if args.strict and not model.converged_ else 0)


def _reml_notes(model) -> list[str]:
    """The REML/ML lines: random-effect covariance choice and, as lme4, a singular fit."""
    choice = model.meta_.get("random_effects_covariance", {})
    lines = []
    if choice.get("lrt"):
        t = choice["lrt"]
        lines.append(f"random-effect covariance: {choice['group_variances']} (REML LRT per_group "
                     f"vs shared: chi2 {t['statistic']:.3g} on {t['df']} df, p {t['p_value']:.3g})")
    if model.lmm_.singular:
        hint = ("group_variances = 'shared'" if model.lmm_.random_cov.ndim == 3
                else "random_effects = 'intercept'")
        lines.append("boundary (singular) fit: a random-effect SD is 0 or their correlation is "
                     f"±1 (the data do not support this covariance; consider {hint})")
    return lines


def _run_power(args: argparse.Namespace) -> Outcome:
    from alsstats.power.decline import decline_detection_power

    dt_years = args.dt * years_per_unit(args.time_unit)
    res = decline_detection_power(args.n, dt_years, outcome=args.outcome, group=args.group,
                                  scenario=args.scenario, alpha=args.alpha,
                                  n_replicates=args.replicates, seed=args.seed)
    text = (f"P(significant decline of {res.outcome}) with {res.n} {res.group} patients "
            f"scanned {args.dt:g} {args.time_unit} apart (paired t-test, alpha "
            f"{res.alpha:g}): {res.power:.3f} ± {res.mc_se:.3f} (MC SE, {res.n_replicates} "
            "replicates)")
    return Outcome({**res.to_dict(), "dt": args.dt, "time_unit": args.time_unit,
                    "dt_years": dt_years}, text)
