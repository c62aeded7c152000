"""``alsstats simulate`` and ``alsstats validate``: make and check cohort tables."""

from __future__ import annotations

import argparse

from alsstats.cli._common import Outcome, add_command
from alsstats.errors import ScenarioError

__all__ = ["register"]


def register(sub) -> None:
    p = add_command(sub, "simulate", "simulate a synthetic cohort from a scenario", _run_simulate)
    p.add_argument("--scenario", default="default",
                   help="shipped scenario name, or path to a .toml file")
    p.add_argument("--seed", type=int, default=None, help="random seed (same seed, same file)")
    p.add_argument("--out", default=None,
                   help="output file (.csv or .parquet); a .json sidecar is written next to it")
    p.add_argument("--n-per-group", action="append", default=None, metavar="N|NAME=N",
                   help="override stratum sizes: one number for all strata, or NAME=N "
                        "(stratum or group; repeatable)")
    p.add_argument("--label-error", action="append", default=None, metavar="SHARE|GROUP=SHARE",
                   help="share of subjects whose recorded group is wrong (no gold standard): "
                        "one share for every group, or GROUP=SHARE per true group "
                        "(repeatable); the true group stays in the .json sidecar")
    p.add_argument("--crlb-noise", action="store_true",
                   help="make each spectrum's CRLB its true measurement SD (MRS "
                        "concentrations and ratios carry that noise)")
    p = add_command(sub, "validate", "check a cohort table (CSV or Parquet) against the schema",
                    _run_validate)
    p.add_argument("file", help="cohort table, .csv or .parquet")


def _parse_sizes(values: list[str] | None) -> int | dict[str, int] | None:
    return _per_name(values, "--n-per-group", "number", "NAME=N", _whole) if values else None


def _parse_label_error(values: list[str] | None) -> float | dict[str, float]:
    return _per_name(values, "--label-error", "share", "GROUP=SHARE", _share) if values else 0.0


def _per_name(values: list[str], option: str, what: str, form: str, convert):
    """One value for everything, or ``NAME=VALUE`` items (a repeatable option)."""
    if len(values) == 1 and "=" not in values[0]:
        return convert(values[0], option)
    parsed = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep:
            raise ScenarioError(f"{option} {item!r}: give one {what}, or {form} items")
        parsed[name.strip()] = convert(value, f"{option} {name}")
    return parsed


def _share(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ScenarioError(f"{what}: expected a share in [0, 1], got {text!r}") from None


def _whole(text: str, what: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise ScenarioError(f"{what}: expected a whole number, got {text!r}") from None
    if n < 0:
        raise ScenarioError(f"{what}: must be >= 0, got {n}")
    return n


def _run_simulate(args: argparse.Namespace) -> Outcome:
    from alsstats.describe import cohort_summary
    from alsstats.simulate import simulate_cohort, write_simulation

    label_error = _parse_label_error(args.label_error)
    data, truth = simulate_cohort(args.scenario, seed=args.seed,
                                  n_per_group=_parse_sizes(args.n_per_group),
                                  label_error=label_error, crlb_noise=args.crlb_noise)
    options = {k: v for k, v in (("label_error", label_error),
                                 ("crlb_noise", args.crlb_noise)) if v}
    summary = cohort_summary(data)
    result = {"scenario": truth.scenario.name, "seed": args.seed, "rows": len(data),
              "subjects": int(data["subject_id"].nunique()),
              "subjects_per_stratum": truth.subjects["stratum"].value_counts(sort=False).to_dict()
              if len(truth.subjects) else {},
              "summary": summary.to_dict(orient="index")}
    text = (f"scenario {truth.scenario.name!r}, seed {args.seed}: {len(data)} rows, "
            f"{result['subjects']} subjects\n{summary.astype(object).T.to_string()}")
    if args.out:
        out, side = write_simulation(data, truth, args.out, options)
        result.update(out=str(out), sidecar=str(side))
        text += f"\nwrote {out} and {side}"
    return Outcome(result, text)


def _run_validate(args: argparse.Namespace) -> Outcome:
    from alsstats.schema import read_cohort

    df = read_cohort(args.file)
    n_subjects = df["subject_id"].nunique()
    counts = df.drop_duplicates("subject_id")["group"].value_counts(sort=False).to_dict()
    text = (f"{args.file}: valid cohort table, {len(df)} rows, {n_subjects} subjects "
            f"({', '.join(f'{k} {v}' for k, v in counts.items())})")
    return Outcome({"file": str(args.file), "valid": True, "rows": len(df),
                    "subjects": n_subjects, "subjects_per_group": counts}, text)
