"""Shared pieces of the command-line interface.

Each command module defines ``register(subparsers)``, which adds its parsers
through :func:`add_command`.  A command's ``run(args)`` returns an
:class:`Outcome`: JSON-ready ``data`` and the human ``text``.  ``main`` prints
one or the other (``--json``) and turns every :class:`~alsstats.errors.AlsStatsError`
into a one-line message and exit code 1; a fit that did not converge under
``--strict`` exits with :data:`EXIT_NOT_CONVERGED` (3).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EXIT_NOT_CONVERGED", "Outcome", "add_command", "add_seed_and_level", "add_strict",
           "emit", "to_jsonable"]

#: Exit status of a Bayesian fit command run with ``--strict`` whose fit did not converge.
EXIT_NOT_CONVERGED = 3


@dataclass
class Outcome:
    """What a command produced: machine-readable ``data``, human ``text``, for a tabular
    result the ``table`` that ``--out x.csv`` / ``x.parquet`` writes, and the exit status
    (``EXIT_NOT_CONVERGED`` when ``--strict`` meets a fit that did not converge)."""

    data: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    table: Any = None
    exit_code: int = 0


def add_command(subparsers, name: str, help: str, run: Callable[[argparse.Namespace], Outcome],
                description: str | None = None) -> argparse.ArgumentParser:
    """Add a sub-command with the common ``--json`` and ``--quiet`` flags; ``run`` handles it.

    The command's result ``kind`` is its path, e.g. ``power.slope`` (see
    :mod:`alsstats.cli._output`).
    """
    parser = subparsers.add_parser(name, help=help, description=description or help)
    parser.add_argument("--json", action="store_true",
                        help="print machine-readable JSON on stdout instead of text")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress display (it is also off when stderr is not a "
                             "terminal)")
    parser.set_defaults(func=run, kind=".".join(parser.prog.split()[1:]))
    return parser


def to_jsonable(value: Any) -> Any:
    """:func:`alsstats._json.to_jsonable`, imported on use (it loads NumPy and pandas)."""
    from alsstats._json import to_jsonable as convert

    return convert(value)


def add_seed_and_level(parser: argparse.ArgumentParser) -> None:
    """``--seed`` and ``--conf-level`` (interval level, default 0.95) of the validation
    commands."""
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument("--conf-level", type=float, default=0.95,
                        help="interval level (0.95)")


def add_strict(parser: argparse.ArgumentParser) -> None:
    """The ``--strict`` flag of the Bayesian fit commands."""
    parser.add_argument("--strict", action="store_true",
                        help=f"exit with status {EXIT_NOT_CONVERGED} when the fit does not meet "
                             "the spec's convergence policy (outputs are still written, "
                             "flagged)")


def emit(outcome: Outcome, as_json: bool) -> None:
    """Print the outcome as JSON or as text."""
    if as_json:
        json.dump(to_jsonable(outcome.data), sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    elif outcome.text:
        print(outcome.text)
