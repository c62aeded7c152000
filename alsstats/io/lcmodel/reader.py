"""Strict readers for LCModel outputs: ``.table`` (primary), ``.coord`` and ``.csv``.

A concentration row is fixed-width (LCModel's FORMAT
``1X, F8.3|1PE8.2, I4, '%', F8.3|1PE8.1, A1, name``)::

    columns  1-8   Conc.        fitted amplitude (institutional units only if water-scaled)
    columns  9-12  %SD          Cramér–Rao lower bound in % of Conc.; 999 = not determined
    column   13    '%'
    columns 14-21  /<ref>       ratio to the reference named in the header (e.g. /Cr+PCr)
    column   22    flag         blank, or '+'/'-' for a prior-ratio outlier
    columns 23-    name         (may itself start with '-', e.g. -CrCH2)

and is parsed by columns, never by ``split()``.  Water scaling is detected
from the echoed control lines (``$$INPU``): scaled when ``DOWS=T`` (or
``IAVERG`` 1 or 4) together with ``FILH2O``.  Titles and input paths may hold
patient identifiers, so they are not kept.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from alsstats.errors import DataValidationError
from alsstats.io._problems import fail, problem

__all__ = ["BAD_DIAGNOSTICS", "Diagnostic", "LCModelResult", "Metabolite", "read_coord",
           "read_csv", "read_lcmodel", "read_table"]

#: Diagnostic types that mean the fit cannot be used.
BAD_DIAGNOSTICS = ("error", "fatal", "illogical")

_SECTION = re.compile(r"^\$\$(\w+)\s+(\d+)\s+lines?\b")
_COORD_SECTION = re.compile(r"^\s*(\d+)\s+(lines in following|points on ppm-axis)\s*(.*)$")
_DIAG = re.compile(r"^\s*(\d+)\s+([A-Za-z']+)\s+(\w+)\s+(\d+)\s*$")
_FWHM = re.compile(r"FWHM\s*=\s*([-+0-9.Ee]+)\s*ppm\s+S/N\s*=\s*([-+0-9.Ee]+)")
_SHIFT = re.compile(r"Data shift\s*=\s*([-+0-9.Ee]+)\s*ppm")
_INPUT = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)(?:\(\s*\d+\s*\))?\s*=\s*(.*?)\s*$")
_VERSION = re.compile(r"LCModel \(Version ([^)]+)\)")
_BLOCK_MARKERS = ("phased data points follow", "points of the fit to the data follow",
                  "background values follow")


@dataclass(frozen=True)
class Metabolite:
    """One concentration row: Conc., %SD (CRLB), ratio to the reference, outlier flag."""

    name: str
    conc: float
    sd_pct: int
    ratio: float
    flag: str
    line: int | None


@dataclass(frozen=True)
class Diagnostic:
    """One ``$$DIAG`` line: count, type (info/warning/error/fatal/illogical), routine, number."""

    count: int
    kind: str
    routine: str
    number: int
    line: int

    def __str__(self) -> str:
        return f"{self.kind.upper()} {self.routine} {self.number}"


@dataclass
class LCModelResult:
    """A parsed LCModel output.

    ``fwhm_ppm`` and ``snr`` are ``None`` for a ``.csv`` (which has no misc
    table); ``water_scaled`` is ``None`` when the file does not echo the
    control lines (``.csv``).
    """

    path: Path
    kind: str
    version: str | None
    reference: str
    metabolites: dict[str, Metabolite]
    fwhm_ppm: float | None = None
    snr: float | None = None
    data_shift_ppm: float | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    water_scaled: bool | None = None
    scaling: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _read_text(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise fail(path, "file not found (the LCModel run may have failed before writing it)"
                   ) from None
    except OSError as exc:
        raise fail(path, f"cannot be read: {exc}") from None
    if not raw.strip():
        raise fail(path, "empty file: not an LCModel output")
    return raw.decode("utf-8", errors="replace").splitlines()


def _conc_row(path: Path, line: str, lineno: int) -> Metabolite:
    text = line.rstrip()
    try:
        if len(text) < 24 or text[0] != " " or text[13] != "%" or text[22] not in " +-":
            raise ValueError
        conc = float(text[1:9])
        sd = int(text[9:13])
        ratio = float(text[14:22])
    except ValueError:
        raise fail(path, "concentration row does not fit LCModel's fixed-width layout "
                   "(Conc. %SD% ratio flag name; truncated file?)", lineno, text[:40]) from None
    name = text[23:].strip()
    if not name:
        raise fail(path, "concentration row has no metabolite name", lineno)
    return Metabolite(name, conc, sd, ratio, text[22].strip(), lineno)


def _reference(path: Path, header: str, lineno: int) -> str:
    for token in header.split():
        if token.startswith("/"):
            return token[1:]
    raise fail(path, "concentration header has no '/<reference>' column", lineno, header.strip())


def _diagnostics(path: Path, lines: list[tuple[str, int]]) -> list[Diagnostic]:
    out = []
    for text, lineno in lines:
        m = _DIAG.match(text)
        if m is None:
            raise fail(path, "diagnostic line does not read as 'count type routine number'",
                       lineno, text.strip())
        kind = m.group(2).lower().removesuffix("'s").rstrip("s")
        out.append(Diagnostic(int(m.group(1)), kind, m.group(3), int(m.group(4)), lineno))
    return out


def _misc(path: Path, lines: list[tuple[str, int]], first: int) -> tuple[float, float, float]:
    fwhm = snr = shift = None
    for text, _ in lines:
        if (m := _FWHM.search(text)) is not None:
            fwhm, snr = float(m.group(1)), float(m.group(2))
        if (m := _SHIFT.search(text)) is not None:
            shift = float(m.group(1))
    if fwhm is None:
        raise fail(path, "misc. table has no 'FWHM = ... ppm    S/N = ...' line", first)
    return fwhm, snr, shift


def _scaling(lines: list[tuple[str, int]]) -> tuple[bool, dict[str, str]]:
    """Water-scaling flags from echoed control lines (values of paths are not kept)."""
    entries: list[str] = []
    for text, _ in lines:
        if text.startswith("   ") and entries:
            entries[-1] += text.strip()
        else:
            entries.append(text.strip())
    found: dict[str, str] = {}
    for entry in entries:
        m = _INPUT.match(entry)
        if m is None:
            continue
        key, value = m.group(1).lower(), m.group(2).strip().strip("'\"")
        if key in ("dows", "iaverg", "wconc", "atth2o", "attmet"):
            found[key] = value
        elif key == "filh2o":
            found[key] = "given"
    dows = found.get("dows", "F").upper().strip(".") in ("T", "TRUE")
    iaverg = found.get("iaverg", "")
    scaled = (dows or iaverg.strip() in ("1", "4")) and "filh2o" in found
    return scaled, found


def _reject_bad_diagnostics(result: LCModelResult) -> None:
    bad = [d for d in result.diagnostics if d.kind in BAD_DIAGNOSTICS]
    if bad:
        raise DataValidationError([problem(result.path, f"LCModel reported {d}: the fit cannot "
                                           "be used", d.line) for d in bad])


def _failed_run(path: Path, diags: list[Diagnostic], what: str) -> DataValidationError:
    bad = [d for d in diags if d.kind in BAD_DIAGNOSTICS]
    if bad:
        return DataValidationError([problem(path, f"LCModel run failed: {d}; no {what} in the "
                                            "output", d.line) for d in bad])
    return fail(path, f"no {what}: not an LCModel output, or the file is truncated")


def read_table(path: str | os.PathLike) -> LCModelResult:
    """Read an LCModel ``.table`` (``$$CONC``, ``$$MISC``, ``$$DIAG``, ``$$INPU``).

    Raises
    ------
    DataValidationError
        A failed run (no ``$$CONC``; the FATAL/ERROR diagnostic is quoted), a
        truncated file (a missing section, fewer rows than declared, a row that
        fails the fixed-width parse), an ``ERROR``/``FATAL``/``ILLOGICAL``
        diagnostic, or a duplicated metabolite.
    """
    p = Path(path)
    lines = _read_text(p)
    sections: dict[str, tuple[int, int]] = {}
    for i, text in enumerate(lines):
        if (m := _SECTION.match(text)) is not None:
            if m.group(1) in sections:
                raise fail(p, f"section $${m.group(1)} appears twice", i + 1)
            sections[m.group(1)] = (i, int(m.group(2)))

    def body(name: str) -> list[tuple[str, int]]:
        start, _ = sections[name]
        out = []
        for j in range(start + 1, len(lines)):
            if not lines[j].strip() or lines[j].startswith("$$"):
                break
            out.append((lines[j], j + 1))
        return out

    diags = _diagnostics(p, body("DIAG")) if "DIAG" in sections else []
    if "CONC" not in sections:
        raise _failed_run(p, diags, "$$CONC section")
    missing = [s for s in ("MISC", "DIAG", "INPU") if s not in sections]
    if missing:
        raise fail(p, f"truncated file: section(s) {', '.join('$$' + s for s in missing)} "
                   "missing")
    conc = body("CONC")
    declared = sections["CONC"][1]
    if not conc:
        raise fail(p, "$$CONC section is empty", sections["CONC"][0] + 1)
    reference = _reference(p, conc[0][0], conc[0][1])
    mets = {}
    for text, lineno in conc[1:]:
        met = _conc_row(p, text, lineno)
        if met.name in mets:
            raise fail(p, f"metabolite {met.name!r} listed twice", lineno)
        mets[met.name] = met
    if len(conc) != declared:
        raise fail(p, f"$$CONC declares {declared} lines (header + {declared - 1} metabolites) "
                   f"but has {len(conc)} (truncated file?)", sections["CONC"][0] + 1)
    version = m.group(1) if (m := _VERSION.search(lines[0])) else None
    fwhm, snr, shift = _misc(p, body("MISC"), sections["MISC"][0] + 1)
    scaled, scaling = _scaling(body("INPU"))
    result = LCModelResult(p, "table", version, reference, mets, fwhm, snr, shift, diags,
                           scaled, scaling)
    _reject_bad_diagnostics(result)
    return result


def read_coord(path: str | os.PathLike) -> LCModelResult:
    """Read an LCModel ``.coord``: concentration and misc tables, spectra counts, diagnostics.

    The declared concentration-row count is not trusted (real files have it
    wrong); rows are read while they fit the fixed-width layout.  Every
    spectrum block (ppm axis, data, fit, background, per-metabolite curves)
    must hold exactly NY numbers.

    Raises
    ------
    DataValidationError
        As :func:`read_table`, plus a spectrum block with fewer than NY values.
    """
    p = Path(path)
    lines = _read_text(p)
    marks = []
    for i, text in enumerate(lines):
        m = _COORD_SECTION.match(text)
        if m is not None:
            marks.append((i, int(m.group(1)), m.group(2) + " " + m.group(3)))
    by_kind = {}
    for i, n, label in marks:
        key = ("conc" if "concentration" in label else "misc" if "misc" in label else
               "diag" if "diagnostic" in label else "inpu" if "input" in label else
               "ny" if "ppm-axis" in label else label)
        by_kind[key] = (i, n)
    diags = []
    if "diag" in by_kind:
        i, n = by_kind["diag"]
        diags = _diagnostics(p, [(lines[j], j + 1) for j in range(i + 1, min(i + 1 + n,
                                                                              len(lines)))])
    if "conc" not in by_kind:
        raise _failed_run(p, diags, "concentration table")
    missing = [k for k in ("misc", "ny", "diag", "inpu") if k not in by_kind]
    if missing:
        raise fail(p, f"truncated file: no {', '.join(missing)} section")
    i, declared = by_kind["conc"]
    reference = _reference(p, lines[i + 1], i + 2)
    mets: dict[str, Metabolite] = {}
    j = i + 2
    while j < len(lines) and len(lines[j]) > 13 and lines[j][13:14] == "%":
        met = _conc_row(p, lines[j], j + 1)
        if met.name in mets:
            raise fail(p, f"metabolite {met.name!r} listed twice", j + 1)
        mets[met.name] = met
        j += 1
    notes = []
    if len(mets) + 1 != declared:
        notes.append(f"line {i + 1}: declares {declared} concentration lines, has "
                     f"{len(mets) + 1} (a known LCModel quirk; rows read by layout)")
    mi, mn = by_kind["misc"]
    fwhm, snr, shift = _misc(p, [(lines[k], k + 1) for k in range(mi + 1, mi + 1 + mn)
                                 if k < len(lines)], mi + 1)
    yi, ny = by_kind["ny"]
    _check_blocks(p, lines, yi, by_kind["diag"][0], ny)
    ii = by_kind["inpu"][0]
    scaled, scaling = _scaling([(lines[k], k + 1) for k in range(ii + 1, len(lines))])
    version = m.group(1) if (m := _VERSION.search(lines[0])) else None
    result = LCModelResult(p, "coord", version, reference, mets, fwhm, snr, shift, diags,
                           scaled, scaling, notes)
    _reject_bad_diagnostics(result)
    return result


def _check_blocks(path: Path, lines: list[str], start: int, stop: int, ny: int) -> None:
    """Every numeric block between the NY line and the diagnostics holds NY values."""
    label, label_line, count = "ppm axis", start + 1, 0

    def close() -> None:
        if count != ny:
            raise fail(path, f"{label} has {count} values, expected NY = {ny} (truncated "
                       "file?)", label_line)

    for k in range(start + 1, stop):
        text = lines[k]
        stripped = text.strip()
        if any(stripped.endswith(mark) for mark in _BLOCK_MARKERS) or "Conc. =" in stripped:
            close()
            label, label_line, count = stripped, k + 1, 0
            continue
        try:
            count += len([float(t) for t in stripped.split()])
        except ValueError:
            raise fail(path, f"non-numeric value in {label}", k + 1, stripped[:40]) from None
    close()


def read_csv(path: str | os.PathLike) -> LCModelResult:
    """Read an LCModel ``.csv`` (one row per voxel; single-voxel studies have exactly one).

    The CSV has no FWHM, S/N or diagnostics, and truncates names to 13
    characters; it cannot say whether the values are water-scaled.

    Raises
    ------
    DataValidationError
        Not an LCModel CSV header, no data row, several rows (CSI data where a
        single voxel is expected), a malformed or duplicated triplet.
    """
    p = Path(path)
    lines = _read_text(p)
    rows = list(csv.reader(io.StringIO("\n".join(lines)), skipinitialspace=True))
    rows = [r for r in rows if any(c.strip() for c in r)]
    head = [c.strip() for c in rows[0]]
    if head[:2] != ["Row", "Col"] or (len(head) - 2) % 3:
        raise fail(p, "header is not 'Row, Col, X, X %SD, X/<ref>, ...'", 1)
    data = rows[1:]
    if not data:
        raise fail(p, "no data row (the LCModel run may have failed)")
    if len(data) > 1:
        raise fail(p, f"{len(data)} data rows (CSI voxels?); a single-voxel result has one", 3)
    values = [c.strip() for c in data[0]]
    if len(values) != len(head):
        raise fail(p, f"data row has {len(values)} fields, header has {len(head)} (truncated "
                   "file?)", 2)
    mets: dict[str, Metabolite] = {}
    reference = None
    for k in range(2, len(head), 3):
        name = head[k]
        sd_head, ratio_head = head[k + 1], head[k + 2]
        if sd_head != f"{name} %SD" or not ratio_head.startswith(f"{name}/"):
            raise fail(p, f"column {k + 1}: expected '{name} %SD, {name}/<ref>' after {name!r}",
                       1)
        ref = ratio_head[len(name) + 1:]
        if reference is not None and ref != reference:
            raise fail(p, f"column {k + 3}: reference {ref!r} differs from {reference!r}", 1)
        reference = ref
        if name in mets:
            raise fail(p, f"metabolite {name!r} listed twice", 1)
        try:
            mets[name] = Metabolite(name, float(values[k]), int(float(values[k + 1])),
                                    float(values[k + 2]), "", 2)
        except ValueError:
            raise fail(p, f"metabolite {name!r}: non-numeric value", 2,
                       values[k:k + 3]) from None
    if reference is None:
        raise fail(p, "no metabolite columns", 1)
    return LCModelResult(p, "csv", None, reference, mets,
                         notes=["LCModel .csv: no FWHM, S/N, diagnostics or scaling "
                                "information"])


def read_lcmodel(path: str | os.PathLike) -> LCModelResult:
    """Read a ``.table``, ``.coord`` or ``.csv`` by its (case-insensitive) extension."""
    p = Path(path)
    readers = {".table": read_table, ".coord": read_coord, ".csv": read_csv}
    reader = readers.get(p.suffix.lower())
    if reader is None:
        raise fail(p, f"unknown LCModel output type {p.suffix!r}; expected .table, .coord or "
                   ".csv")
    return reader(p)
