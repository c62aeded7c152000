"""``alsstats`` command-line interface: thin wrappers that parse, call the package, write files.

Every command accepts ``--json``.  Errors print one line to stderr and exit
with status 1 (2 for a usage error), never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from alsstats._version import __version__
from alsstats.cli import cohort, diagnostic, ingest, longitudinal, power, report, validation
from alsstats.cli._common import emit
from alsstats.cli._output import RESULT_FORMATS, check_out, envelope, write_result
from alsstats.errors import AlsStatsError

__all__ = ["build_parser", "main"]

_COMMAND_MODULES = (cohort, validation, diagnostic, longitudinal, power, ingest, report)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="alsstats",
        description="ALS biomarker statistics: simulate, diagnose, monitor, validate, plan.",
    )
    parser.add_argument("--version", action="version", version=f"alsstats {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check_out(parser, args)
    as_json = getattr(args, "json", False)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")
            outcome = args.func(args)
            outcome.data = envelope(args, outcome.data)
            if getattr(args, "out_formats", None) and args.out \
                    and Path(args.out).suffix.lower() in RESULT_FORMATS:
                write_result(args.out, outcome.data, outcome.table)
                outcome.text += f"\nwritten: {args.out}"
    except (AlsStatsError, FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        message = str(exc).strip()
        first, _, rest = message.partition("\n")
        if as_json:
            import json

            from alsstats._json import to_jsonable

            json.dump(to_jsonable({"error": type(exc).__name__, "message": message}),
                      sys.stdout, indent=2)
            sys.stdout.write("\n")
        print(f"alsstats {args.command}: error: {first}", file=sys.stderr)
        if rest:
            print(rest, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"alsstats {args.command}: interrupted", file=sys.stderr)
        return 130
    try:
        emit(outcome, as_json)
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
    return 0
