"""``alsstats demo``: the whole pipeline on the built-in synthetic cohort, as an HTML report."""

from __future__ import annotations

import argparse

from alsstats.cli._common import Outcome, add_command
from alsstats.pipeline.demo import run_demo

__all__ = ["register"]


def register(sub) -> None:
    p = add_command(sub, "demo", "run the whole pipeline on the built-in synthetic cohort and "
                    "write an HTML report", _run_demo)
    p.add_argument("--out", default="reports/demo", help="report folder (default reports/demo)")
    p.add_argument("--seed", type=int, default=2026, help="seed for everything (default 2026)")
    p.add_argument("--quick", action="store_true", help="smaller run for a fast look")


def _run_demo(args: argparse.Namespace) -> Outcome:
    result = run_demo(args.out, seed=args.seed, quick=args.quick, quiet=args.json)
    return Outcome({"report": str(result.report), "seconds": round(result.seconds, 1),
                    **result.headline},
                   f"report written to {result.report} in {result.seconds:.0f} s")
