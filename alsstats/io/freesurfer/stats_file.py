"""Strict reader of the FreeSurfer ``.stats`` grammar (mris_anatomical_stats, mri_segstats).

Grammar (one file)::

    # <Key> <value ...>                      free header lines (generating_program, hemi, ...)
    # Measure <Struct>, <MeasureName>, <Description>, <Value>, <Units>
    # TableCol <n> ColHeader|FieldName|Units <text>
    # NRows <n>   # NTableCols <n>
    # ColHeaders <name> <name> ...
    <row tokens, whitespace separated, one row per structure>

Measures are keyed by their second field (``MeasureName``).  FreeSurfer 6
writes one aparc measure with a missing comma
(``# Measure Cortex, CortexVol Total cortical gray matter volume, 553998.3, mm^3``);
such a 4-field line is split at the first blank of its second field, and the
repair is recorded in :attr:`StatsFile.notes`.  Everything else that breaks
the grammar raises :class:`~alsstats.errors.DataValidationError` naming the
file and line.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from alsstats.errors import DataValidationError
from alsstats.io._problems import fail, problem

__all__ = ["Measure", "StatsFile", "read_stats"]


@dataclass(frozen=True)
class Measure:
    """One ``# Measure`` header line."""

    struct: str
    name: str
    description: str
    value: float
    units: str
    line: int


@dataclass
class StatsFile:
    """A parsed ``.stats`` file.

    ``header`` maps each free header key to ``(value, line)`` (first
    occurrence); ``measures`` maps ``MeasureName`` to :class:`Measure`;
    ``columns`` is the ``# ColHeaders`` list (``None`` for a measures-only
    file such as ``brainvol.stats``); ``rows`` holds ``(tokens, line)``;
    ``units`` maps a column header to its ``# TableCol`` units.
    """

    path: Path
    header: dict[str, tuple[str, int]] = field(default_factory=dict)
    measures: dict[str, Measure] = field(default_factory=dict)
    columns: list[str] | None = None
    columns_line: int | None = None
    rows: list[tuple[list[str], int]] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def get(self, key: str) -> str | None:
        """The value of a free header line, or ``None``."""
        item = self.header.get(key)
        return None if item is None else item[0]

    def column(self, name: str) -> int:
        """Index of a table column; error naming the file if absent."""
        if self.columns is None or name not in self.columns:
            raise fail(self.path, f"table has no column {name!r} (# ColHeaders: "
                       f"{' '.join(self.columns or [])})", self.columns_line)
        return self.columns.index(name)


def _parse_measure(path: Path, text: str, lineno: int, notes: list[str]) -> Measure:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 4:
        # FreeSurfer 6 aparc quirk: "Cortex, CortexVol Total cortical ..., value, units".
        name, _, desc = parts[1].partition(" ")
        if not desc:
            raise fail(path, f"# Measure line has 4 fields, expected 5: {text!r}", lineno)
        notes.append(f"line {lineno}: FreeSurfer 6 '# Measure' line with a missing comma "
                     f"read as MeasureName {name!r}")
        parts = [parts[0], name, desc.strip(), parts[2], parts[3]]
    if len(parts) != 5:
        raise fail(path, f"# Measure line has {len(parts)} fields, expected 5 "
                   "(Struct, MeasureName, Description, Value, Units)", lineno)
    try:
        value = float(parts[3])
    except ValueError:
        raise fail(path, f"# Measure {parts[1]}: value {parts[3]!r} is not a number",
                   lineno) from None
    if not math.isfinite(value):
        raise fail(path, f"# Measure {parts[1]}: value {parts[3]!r} is not finite", lineno)
    return Measure(parts[0], parts[1], parts[2], value, parts[4], lineno)


def read_stats(path: str | os.PathLike) -> StatsFile:
    """Parse one FreeSurfer ``.stats`` file strictly.

    Raises
    ------
    DataValidationError
        Missing, empty or unreadable file; a malformed or duplicated
        ``# Measure``; a table row before ``# ColHeaders``; a row whose token
        count differs from the number of column headers (a file cut mid-line);
        a duplicated ``# ColHeaders``.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise fail(p, "file not found") from None
    except OSError as exc:
        raise fail(p, f"cannot be read: {exc}") from None
    text = raw.decode("utf-8", errors="replace")
    if not text.strip():
        raise fail(p, "empty file (0 bytes or only blanks): not a FreeSurfer .stats file")
    out = StatsFile(path=p)
    problems = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            if out.columns is None:
                raise fail(p, "table row before any '# ColHeaders' line "
                           "(not a FreeSurfer .stats file, or its header is missing)", lineno)
            tokens = stripped.split()
            if len(tokens) != len(out.columns):
                problems.append(problem(
                    p, f"row has {len(tokens)} fields but # ColHeaders names "
                    f"{len(out.columns)} (file truncated or cut mid-line?)", lineno))
                continue
            out.rows.append((tokens, lineno))
            continue
        if out.columns is not None:
            raise fail(p, "header line after the table started (file spliced or corrupt?)",
                       lineno)
        body = stripped[1:].strip()
        key, _, rest = body.partition(" ")
        rest = rest.strip()
        if key == "Measure":
            m = _parse_measure(p, rest, lineno, out.notes)
            if m.name in out.measures:
                raise fail(p, f"duplicate # Measure {m.name!r} (first on line "
                           f"{out.measures[m.name].line})", lineno)
            out.measures[m.name] = m
        elif key == "TableCol":
            tokens = rest.split(None, 2)
            if len(tokens) == 3 and tokens[1] == "Units":
                out.units[tokens[0]] = tokens[2].strip()
            elif len(tokens) == 3 and tokens[1] == "ColHeader":
                out.header.setdefault(f"ColHeader{tokens[0]}", (tokens[2].strip(), lineno))
        elif key == "ColHeaders":
            out.columns = rest.split()
            out.columns_line = lineno
            if not out.columns:
                raise fail(p, "empty # ColHeaders line", lineno)
        elif key:
            out.header.setdefault(key, (rest, lineno))
    if problems:
        raise DataValidationError(problems)
    # Map "# TableCol n Units" to the column header names.
    out.units = {out.header[f"ColHeader{n}"][0]: u for n, u in out.units.items()
                 if f"ColHeader{n}" in out.header}
    return out
