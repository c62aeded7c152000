"""``alsstats demo`` and ``alsstats report --from FILE``: HTML reports."""

from __future__ import annotations

import argparse

from alsstats.cli._common import Outcome, add_command
from alsstats.cli._progress import show_progress
from alsstats.pipeline._kinds import KINDS

__all__ = ["register"]


def register(sub) -> None:
    p = add_command(sub, "demo", "run the whole pipeline on the built-in synthetic cohort and "
                    "write an HTML report", _run_demo)
    p.add_argument("--out", default="reports/demo", help="report folder (default reports/demo)")
    p.add_argument("--seed", type=int, default=2026, help="seed for everything (default 2026)")
    p.add_argument("--quick", action="store_true", help="smaller run for a fast look")
    p = add_command(sub, "report", "HTML report on a result file: a cohort table (.csv, "
                    ".parquet), a saved fit (.nc) or any command's JSON result (.json)",
                    _run_report)
    p.add_argument("--from", dest="source", required=True, metavar="FILE",
                   help="the result to report on")
    p.add_argument("--out", required=True, metavar="FILE.html|DIR",
                   help="the report: a self-contained .html file, or a folder (index.html and "
                        "the CSV of every table are written there)")
    # dest differs from "kind", the command's own result kind (report) in its JSON.
    p.add_argument("--kind", dest="source_kind", choices=KINDS, default=None,
                   help="result kind (default: recognized from the file)")
    p.add_argument("--seed", type=int, default=2026,
                   help="seed for analyses a cohort report runs (bootstrap, CV)")


def _run_demo(args: argparse.Namespace) -> Outcome:
    from alsstats.pipeline.demo import run_demo

    result = run_demo(args.out, seed=args.seed, quick=args.quick,
                      quiet=not show_progress(args))
    return Outcome({"report": str(result.report), "seconds": round(result.seconds, 1),
                    **result.headline},
                   f"report written to {result.report} in {result.seconds:.0f} s")


def _run_report(args: argparse.Namespace) -> Outcome:
    from alsstats.pipeline.from_file import report_from

    index, kind = report_from(args.source, args.out, seed=args.seed, kind=args.source_kind)
    return Outcome({"report": str(index), "source_kind": kind, "source": str(args.source)},
                   f"{kind} report written to {index}")
