"""``alsstats`` command-line interface: thin wrappers that parse, call the package, write files.

Every command accepts ``--json``.  Errors print one line to stderr first (what
was wrong, where, what was expected), details after it, never a traceback
(``alsstats --debug COMMAND ...`` shows it).  Exit codes: 0 success, 1 bad
input (data, files, option values), 2 usage (unknown option, missing argument,
impossible option value), 3 a Bayesian fit that did not converge under
``--strict`` (the outputs are still written, flagged), 4 an unexpected internal
error (a bug: please report it with the ``--debug`` traceback), 130 interrupted.
See ``docs/cli/errors-and-outputs.md``.
"""

from __future__ import annotations

import argparse
import re
import sys
import traceback
import warnings
from pathlib import Path

from alsstats._version import __version__
from alsstats.cli import (
    cohort,
    diagnostic,
    increment,
    ingest,
    longitudinal,
    power,
    report,
    validation,
)
from alsstats.cli._common import EXIT_NOT_CONVERGED, emit, to_jsonable
from alsstats.cli._guard import prepare_run
from alsstats.cli._output import RESULT_FORMATS, check_out, envelope, write_result
from alsstats.errors import AlsStatsError, UsageError

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_NOT_CONVERGED", "EXIT_USAGE", "build_parser",
           "main"]

EXIT_BAD_INPUT = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 4

_COMMAND_MODULES = (cohort, validation, increment, diagnostic, longitudinal, power, ingest,
                    report)
#: Errors caused by the input (data, files, option values), exit 1.
_BAD_INPUT = (AlsStatsError, OSError, ValueError, UnicodeError, RecursionError)


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (then a pointer to ``--help``) and exit code 2."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n"
                              f"run '{self.prog} --help' for usage\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every sub-command registered."""
    parser = _Parser(
        prog="alsstats",
        description="ALS biomarker statistics: simulate, diagnose, monitor, validate, plan.",
        epilog="exit codes: 0 ok, 1 bad input, 2 usage, 3 not converged (--strict), "
               "4 internal error, 130 interrupted",
    )
    parser.add_argument("--version", action="version", version=f"alsstats {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of an error (any position)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _COMMAND_MODULES:
        module.register(sub)
    return parser


def _clean(message: str) -> str:
    """``np.float64(-3.0)`` -> ``-3.0`` in messages."""
    return re.sub(r"np\.(?:float|int|uint|bool_?|str_)\d*\(([^()]*)\)", r"\1", message)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, AlsStatsError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror.lower()}"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.start}: {exc.reason})"
    if isinstance(exc, RecursionError):
        return "input nested too deeply (a cycle?)"
    return str(exc).strip() or type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        check_out(parser, args)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    name = " ".join(v for v in (args.command,
                                getattr(args, "model", None) if args.command == "fit" else None,
                                getattr(args, "power_command", None),
                                getattr(args, "diagnostic_command", None),
                                getattr(args, "outcome_type", None)) if isinstance(v, str))
    as_json = getattr(args, "json", False)
    try:
        drawn = prepare_run(args)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")
            # ArviZ's import-time notice about its 1.0 refactor: nothing a user can act on.
            warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing",
                                    category=FutureWarning)
            outcome = args.func(args)
            if getattr(args, "seed", None) is not None and isinstance(outcome.data, dict):
                outcome.data.setdefault("seed", args.seed)
            outcome.data = envelope(args, outcome.data)
            if getattr(args, "out_formats", None) and args.out \
                    and Path(args.out).suffix.lower() in RESULT_FORMATS:
                write_result(args.out, outcome.data, outcome.table)
                outcome.text += f"\nwritten: {args.out}"
    except KeyboardInterrupt:
        print(f"alsstats {name}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the top-level handler: one line first, never a traceback
        if isinstance(exc, UsageError):
            code = EXIT_USAGE
        elif isinstance(exc, _BAD_INPUT):
            code = EXIT_BAD_INPUT
        else:
            code = EXIT_INTERNAL
        message = _clean(_describe(exc))
        first, _, rest = message.partition("\n")
        if code == EXIT_INTERNAL:
            first = f"unexpected error ({type(exc).__name__}): {first}"
        if as_json:
            import json

            json.dump(to_jsonable({"error": type(exc).__name__, "message": message,
                                   "exit_code": code}), sys.stdout, indent=2)
            sys.stdout.write("\n")
        print(f"alsstats {name}: error: {first}", file=sys.stderr)
        if rest:
            print(rest, file=sys.stderr)
        if debug:
            traceback.print_exception(exc, file=sys.stderr)
        elif code == EXIT_INTERNAL:
            print("run with --debug for the traceback", file=sys.stderr)
        return code
    try:
        emit(outcome, as_json)
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        return 0
    if drawn is not None:  # after the result, so that an error is always the first line
        print(f"alsstats {name}: no --seed given; used seed {drawn} "
              f"(pass --seed {drawn} to repeat this run)", file=sys.stderr)
    return outcome.exit_code
