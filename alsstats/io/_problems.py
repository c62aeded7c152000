"""Problems and quality-control records shared by the ingestion readers.

Every reader raises :class:`~alsstats.errors.DataValidationError` whose
problems name the file, the line (or structure) and what is wrong; values that
are usable but doubtful become :class:`QCItem` records that end up in the QC
report instead of vanishing.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from alsstats.errors import DataValidationError, Problem

__all__ = ["QC_KINDS", "QCItem", "at", "fail", "problem"]

#: What a QC record can say about a value or an input.
QC_KINDS = ("missing", "flagged", "dropped", "skipped", "warning", "note")


@dataclass(frozen=True)
class QCItem:
    """One line of the QC report.

    ``kind`` is one of :data:`QC_KINDS`: *missing* (an input or value is
    absent), *flagged* (kept but doubtful), *dropped* (set to missing, with the
    reason), *skipped* (a bad subject left out under ``skip_bad``), *warning*
    and *note* (information such as an alias that was mapped).
    """

    kind: str
    source: str
    reason: str
    subject: str | None = None
    visit: int | None = None
    field: str | None = None
    file: str | None = None
    value: object = None

    def __post_init__(self):
        if self.kind not in QC_KINDS:
            raise ValueError(f"QC kind must be one of {', '.join(QC_KINDS)}, got {self.kind!r}")

    def as_dict(self) -> dict:
        return asdict(self)


def at(path: str | os.PathLike, line: int | None = None) -> str:
    """Location text: ``path`` or ``path line N`` (1-based line)."""
    return str(path) if line is None else f"{path} line {line}"


def problem(path: str | os.PathLike, rule: str, line: int | None = None,
            value: object = None) -> Problem:
    """A :class:`~alsstats.errors.Problem` located in a file (and line)."""
    return Problem(rule=rule, file=at(path, line), value=value)


def fail(path: str | os.PathLike, rule: str, line: int | None = None,
         value: object = None) -> DataValidationError:
    """A one-problem :class:`~alsstats.errors.DataValidationError` to raise."""
    return DataValidationError([problem(path, rule, line, value)])
