"""The clinical and blood sheet (CSV or Excel): one row per subject and visit.

Headers are mapped to cohort columns by the manifest's ``columns`` table
first, then by a fixed alias table compared case- and punctuation-blind
(``Subject`` → ``subject_id``, ``NfL`` → ``nfl_pg_ml``, ``ALSFRS-R`` →
``alsfrs_r``, ...).  Subject IDs go through the same :class:`~alsstats.io.ids.IdRules`
normaliser as the imaging sources; the raw → normalised mapping is returned
for the provenance sidecar.  Types and ranges are checked later by
:func:`alsstats.schema.validate_cohort`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from alsstats.errors import DataValidationError, Problem
from alsstats.io._problems import fail, problem
from alsstats.io.ids import IdRules, collision_key
from alsstats.schema import COLUMN_NAMES

__all__ = ["COLUMN_ALIASES", "read_clinical"]

#: Common sheet headers (lower case, letters and digits only) → cohort column.
COLUMN_ALIASES = {
    "subject": "subject_id", "subjectid": "subject_id", "id": "subject_id",
    "participant": "subject_id", "participantid": "subject_id", "patientid": "subject_id",
    "session": "visit", "visitnumber": "visit", "ses": "visit",
    "diagnosis": "group", "centre": "site", "center": "site", "scanner": "site",
    "gender": "sex", "ageyears": "age", "years": "years_from_baseline",
    "nfl": "nfl_pg_ml", "nflpgml": "nfl_pg_ml", "snfl": "nfl_pg_ml", "serumnfl": "nfl_pg_ml",
    "chi3l1": "chi3l1_ng_ml", "chi3l1ngml": "chi3l1_ng_ml", "ykl40": "chi3l1_ng_ml",
    "alsfrsr": "alsfrs_r", "alsfrs": "alsfrs_r", "elescorial": "el_escorial",
    "diseaseduration": "disease_duration_months",
}


def _squash(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def _read_sheet(path: Path, sheet: str | None) -> tuple[pd.DataFrame, int]:
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            df = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=str)
        elif suffix in (".csv", ".tsv", ".txt"):
            df = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype=str,
                             keep_default_na=False, na_values=["", "NA", "NaN", "N/A"])
        else:
            raise fail(path, f"unknown sheet type {suffix!r}; expected .csv, .tsv or .xlsx")
    except FileNotFoundError:
        raise fail(path, "clinical sheet not found") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        if isinstance(exc, DataValidationError):
            raise
        raise fail(path, f"cannot be read: {exc}") from None
    return df, 2  # header on line/row 1, first data row on line/row 2


def read_clinical(path: str | Path, rules: IdRules, *, sheet: str | None = None,
                  columns: dict[str, str] | None = None,
                  required: tuple[str, ...] | None = None
                  ) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Read the sheet, rename headers to cohort columns and normalise subject IDs.

    ``required`` lists the cohort columns the sheet must give (default: ``subject_id``
    and ``visit``); every missing one is named in one problem.

    Returns
    -------
    frame, id_map, notes
        The renamed table (all values as text), raw → normalised subject IDs,
        and notes on the header mapping.

    Raises
    ------
    DataValidationError
        Unreadable sheet, a mapping to an unknown column, two headers mapped
        to one column, missing required columns (all listed in one problem), blank or non-integer
        visits, or duplicate (subject, visit) rows after normalisation —
        naming the line.
    """
    p = Path(path)
    df, offset = _read_sheet(p, sheet)
    columns = columns or {}
    problems: list[Problem] = []
    for raw, target in columns.items():
        if target not in COLUMN_NAMES:
            problems.append(problem(p, f"manifest maps column {raw!r} to unknown cohort column "
                                    f"{target!r}"))
        elif raw not in df.columns:
            problems.append(problem(p, f"manifest maps column {raw!r}, which is not in the "
                                    "sheet", 1))
    rename: dict[str, str] = {}
    notes = []
    for raw in df.columns:
        target = columns.get(raw)
        if target is None and raw not in COLUMN_NAMES:
            target = COLUMN_ALIASES.get(_squash(raw))
            if target is None:
                target = next((c for c in COLUMN_NAMES if _squash(c) == _squash(raw)), None)
            if target is not None:
                notes.append(f"{p.name}: column {raw!r} read as {target}")
        rename[raw] = target or raw
    targets = list(rename.values())
    for t in set(targets):
        if targets.count(t) > 1:
            raws = [r for r, v in rename.items() if v == t]
            problems.append(problem(p, f"columns {', '.join(map(repr, raws))} all map to {t}", 1))
    if problems:
        raise DataValidationError(problems)
    df = df.rename(columns=rename)
    missing = [c for c in (required or ("subject_id", "visit")) if c not in df.columns]
    if missing:
        # the header names are not quoted: the file may not be a sheet at all
        raise fail(p, f"required clinical column{'s' if len(missing) > 1 else ''} missing: "
                   f"{', '.join(missing)} (not among the {len(rename)} header(s) of the sheet; "
                   "name them as in the cohort schema or map them with [clinical] columns in "
                   "the manifest, see 'alsstats ingest --template')", 1)
    id_map: dict[str, str] = {}
    subjects, visits = [], []
    for i, (raw, visit) in enumerate(zip(df["subject_id"], df["visit"], strict=True)):
        line = i + offset
        if pd.isna(raw) or not str(raw).strip():
            problems.append(problem(p, "blank subject ID", line))
            subjects.append(None)
        else:
            sid = rules.subject(str(raw))
            id_map[str(raw)] = sid
            subjects.append(sid)
        try:
            v = float(visit)
            if v != int(v):
                raise ValueError
            visits.append(int(v))
        except (TypeError, ValueError):
            problems.append(problem(p, "visit must be a whole number", line, visit))
            visits.append(None)
    spellings: dict[str, dict[str, int]] = {}
    for i, s in enumerate(subjects):
        if s is not None:
            spellings.setdefault(collision_key(s), {}).setdefault(s, i + offset)
    for names in spellings.values():
        if len(names) > 1:
            listing = ", ".join(f"{n!r} (line {line})" for n, line in names.items())
            problems.append(problem(p, f"one participant spelled several ways: {listing}; "
                                    "use one ID (or set [ids] casefold / strip_zeros)"))
    seen: dict[tuple[str, int], int] = {}
    for i, (s, v) in enumerate(zip(subjects, visits, strict=True)):
        if s is None or v is None:
            continue
        key = (collision_key(s), v)
        if key in seen:
            problems.append(problem(p, f"duplicate subject/visit {df['subject_id'].iloc[i]!r} "
                                    f"visit {v} (same participant as line {seen[key]})",
                                    i + offset))
        else:
            seen[key] = i + offset
    if problems:
        raise DataValidationError(problems)
    df = df.assign(subject_id=subjects, visit=visits)
    return df, id_map, notes
