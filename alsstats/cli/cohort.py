"""``alsstats simulate`` and ``alsstats validate``: make and check cohort tables."""

from __future__ import annotations

import argparse

from alsstats.cli._common import Outcome, add_command
from alsstats.schema import read_cohort

__all__ = ["register"]


def register(sub) -> None:
    p = add_command(sub, "validate", "check a cohort table (CSV or Parquet) against the schema",
                    _run_validate)
    p.add_argument("file", help="cohort table, .csv or .parquet")


def _run_validate(args: argparse.Namespace) -> Outcome:
    df = read_cohort(args.file)
    n_subjects = df["subject_id"].nunique()
    counts = df.drop_duplicates("subject_id")["group"].value_counts().to_dict()
    text = (f"{args.file}: valid cohort table, {len(df)} rows, {n_subjects} subjects "
            f"({', '.join(f'{k} {v}' for k, v in counts.items())})")
    return Outcome({"file": str(args.file), "valid": True, "rows": len(df),
                    "subjects": n_subjects, "subjects_per_group": counts}, text)
