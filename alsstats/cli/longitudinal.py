"""``alsstats longitudinal``: fit the decline model to any long-format table.

``alsstats decline-power``: simulated power of a paired test for decline (n patients,
two scans Δt apart).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from alsstats._units import TIME_UNITS, per_unit, years_per_unit
from alsstats.cli._common import Outcome, add_command, to_jsonable
from alsstats.cli._output import RESULT_FORMATS, add_out
from alsstats.cli._progress import show_progress
from alsstats.errors import DataValidationError, Problem

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
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--out", metavar="FILE",
                   help="write the fit: .nc (NetCDF, reloadable by 'report --from'), .json "
                        "(everything), .csv or .parquet (the parameter table)")
    p.set_defaults(out_formats=(".nc", *RESULT_FORMATS))
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


def _read_table(path: str):
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    try:
        if p.suffix.lower() == ".parquet":
            return pd.read_parquet(p)
        return pd.read_csv(p)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataValidationError([Problem(f"cannot read the table: {exc}", file=str(p))]
                                  ) from exc


def _run_longitudinal(args: argparse.Namespace) -> Outcome:
    from alsstats.models.longitudinal.model import LongitudinalModel

    data = _read_table(args.data)
    model = LongitudinalModel(spec=args.spec, method=args.method, outcome=args.outcome,
                              time=args.time, subject=args.subject, group=args.group,
                              covariates=tuple(args.covariate), site=args.site, seed=args.seed,
                              progress=show_progress(args))
    model.fit(data)
    model.meta_["time_unit"] = args.time_unit   # saved with the fit; reports read it
    result = to_jsonable(model.to_dict())
    result.update(data=str(args.data), time_unit=args.time_unit,
                  slopes_per=per_unit(args.time_unit))
    if args.out and args.out.lower().endswith(".nc"):
        model.save(args.out)
        result["out"] = str(args.out)
    table = model.summary()
    cols = [c for c in ("estimate", "sd", "lower", "upper", "r_hat", "ess_bulk")
            if c in table.columns]
    se_name = "posterior SD" if args.method == "bayes" else "SE"
    lines = [f"{args.data}: {args.outcome} over {args.time}, method {args.method}, "
             f"{model.meta_['n_subjects']} subjects, {model.meta_['n_obs']} visits",
             f"interval {model.spec_.interval:g}; 'sd' = {se_name}; slopes and % change "
             f"{per_unit(args.time_unit)} ({args.time} in {args.time_unit}); reference group "
             f"{model.reference_group_}",
             table[cols].to_string(float_format=lambda v: f"{v:.5g}"),
             f"converged: {model.converged_}"]
    if args.out and args.out.lower().endswith(".nc"):
        lines.append(f"wrote {args.out}")
    return Outcome(result, "\n".join(lines), table=table.reset_index())


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
