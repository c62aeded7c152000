"""Exceptions and warnings raised by alsstats.

Every error that reaches a user says what was wrong and where (file, row,
column, value) and what was expected.  The CLI turns any :class:`AlsStatsError`
into a one-line message and a non-zero exit code.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AlsStatsError",
    "ConvergenceWarning",
    "DataValidationError",
    "NotFittedError",
    "OutputError",
    "ParetoKWarning",
    "PrevalenceWarning",
    "Problem",
    "ScenarioError",
    "SpecError",
    "UsageError",
]


class AlsStatsError(Exception):
    """Base class of every error alsstats raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem found in a table: where it is and which rule it breaks.

    ``row`` is the 0-based row position in the table as read (``None`` for a
    problem with a whole column or table); ``file`` names the source, if any.
    """

    rule: str
    column: str | None = None
    row: int | None = None
    value: object = None
    file: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        loc = ", ".join(where) if where else "table"
        val = "" if self.value is None else f" (value {self.value!r})"
        return f"{loc}{val}: {self.rule}"


class DataValidationError(AlsStatsError, ValueError):
    """A table or file failed validation; ``problems`` lists every problem found.

    The message's first line is the first problem in full (file, row, column,
    value, rule) with the count of the others; every problem follows, one a line.
    """

    def __init__(self, problems: list[Problem] | str, *, max_shown: int = 25):
        if isinstance(problems, str):
            self.problems = [Problem(rule=problems)]
            super().__init__(problems)
            return
        self.problems = list(problems)
        n = len(self.problems)
        if n == 1:
            super().__init__(str(self.problems[0]))
            return
        shown = "\n  ".join(str(p) for p in self.problems[:max_shown])
        more = n - max_shown
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{self.problems[0]} (and {n - 1} more problem"
                         f"{'s' if n > 2 else ''}; all {n} below)\n  {shown}{tail}")


class OutputError(AlsStatsError, OSError):
    """An output path cannot be written: it is an input, not a regular file, or under a file."""


class UsageError(AlsStatsError, ValueError):
    """A command-line option has a value no run can use (exit code 2, like a parse error)."""


class ScenarioError(AlsStatsError, ValueError):
    """A simulation scenario is malformed (unknown key, bad value, non-PD matrix)."""


class SpecError(AlsStatsError, ValueError):
    """A model specification (TOML) is malformed or does not match a saved fit."""


class NotFittedError(AlsStatsError, AttributeError):
    """A model was used before ``fit`` was called."""


class ConvergenceWarning(UserWarning):
    """MCMC or optimisation did not meet the convergence criteria."""


class ParetoKWarning(UserWarning):
    """PSIS-LOO: some observations have Pareto k > 0.7, so their LOO estimates are unreliable."""


class PrevalenceWarning(UserWarning):
    """Scores use a prevalence the user did not state (the training class frequencies)."""
