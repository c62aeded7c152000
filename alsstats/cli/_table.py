"""Reading any table (CSV or Parquet) for the validation commands, with reported exclusions.

Rules (documented in ``alsstats roc --help`` and friends):

* The outcome's positive class is ``--positive`` (repeatable).  Without
  ``--negative`` every other non-missing value is negative; with
  ``--negative`` rows whose outcome is in neither list are excluded.  An
  outcome coded 0/1 or true/false needs no ``--positive`` (1/true is positive).
* Rows with a missing outcome are excluded.
* A marker column with text (values that are not numbers) is an error naming
  the first such row and value.  Rows where any listed marker is missing are
  excluded (complete cases, so compared markers use the same subjects); each
  excluded row is counted once, under the first listed marker it lacks.
* ``one_per_subject``: keep each subject's first row in file order (e.g. the
  baseline visit) and report how many rows were dropped.
* Rows that repeat an earlier row exactly (every column) are excluded and
  reported; they would count one subject twice.
* Known cohort columns (e.g. ``nfl_pg_ml``, ``m1_volume_mm3``) are checked against
  the schema's units and ranges (:func:`alsstats.schema.check_plausible`).
* After exclusions each class needs at least two rows, else an error; a marker
  whose kept values are (near-)constant (:func:`alsstats.schema.is_near_constant`)
  is an error naming it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alsstats._files import check_utf8
from alsstats.errors import DataValidationError, Problem
from alsstats.schema import NEAR_CONSTANT_RTOL, check_plausible, is_near_constant

__all__ = ["BinaryTable", "check_identifiers", "prepare_binary_table", "read_table"]


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV (``.csv``, ``.tsv``, ``.txt``) or Parquet (``.parquet``, ``.pq``) file."""
    p = Path(path)
    if p.is_dir():
        raise DataValidationError([Problem("is a folder, not a table file", file=str(p))])
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(p)
        if suffix in (".csv", ".txt", ".tsv"):
            sep = "\t" if suffix == ".tsv" else ","
            check_utf8(p)
            df = pd.read_csv(p, sep=sep)
            _check_delimiter(df, p, sep)
            return df
    except UnicodeDecodeError as exc:
        raise DataValidationError([Problem(f"not UTF-8 text (byte {exc.start})",
                                           file=str(p))]) from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        if isinstance(exc, DataValidationError):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataValidationError([Problem(f"cannot read the table: {first}", file=str(p))]) \
            from None
    raise DataValidationError([Problem(
        "unknown file type; use .csv, .tsv or .parquet", file=str(p), value=p.suffix)])


def check_identifiers(df: pd.DataFrame, columns, file: str) -> None:
    """Identifier columns (subject, site, group) must not hold control characters (NUL, ...).

    Such IDs cannot be written to NetCDF or shown safely; they are refused naming the row.
    """
    problems = []
    for c in columns:
        if c is None or c not in df.columns:
            continue
        text = df[c].astype("object").where(df[c].notna(), "").astype(str)
        bad = text.str.contains(r"[\x00-\x1f\x7f]", regex=True).to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            problems.append(Problem(f"identifier contains a control character (e.g. NUL); "
                                    f"{int(bad.sum())} row(s)", column=c, row=row,
                                    value=text.iloc[row].encode("unicode_escape").decode(),
                                    file=file))
    if problems:
        raise DataValidationError(problems)


def _check_delimiter(df: pd.DataFrame, p: Path, sep: str) -> None:
    """One column whose header holds ';' or a tab: the file uses another delimiter."""
    if df.shape[1] != 1:
        return
    header = str(df.columns[0])
    for other, name in ((";", "semicolon"), ("\t", "tab"), (",", "comma")):
        if other != sep and other in header:
            raise DataValidationError([Problem(
                f"the file has one column; its header contains a {name}: the table is "
                f"{name}-separated, expected {'tab' if sep == chr(9) else 'comma'}-separated "
                "(use .tsv for tabs, or convert it)", file=str(p))])


@dataclass
class BinaryTable:
    """Rows kept for analysis: outcome as bool, marker values, optional subject/site columns."""

    y: np.ndarray
    markers: dict[str, np.ndarray]
    subject: np.ndarray | None
    site: np.ndarray | None
    positive: list[str]
    rows_read: int
    exclusions: list[dict] = field(default_factory=list)

    @property
    def n_positive(self) -> int:
        return int(self.y.sum())

    @property
    def n_negative(self) -> int:
        return int((~self.y).sum())

    def exclusion_text(self) -> str:
        if not self.exclusions:
            return "no rows excluded"
        return "; ".join(f"{e['rows']} row(s) excluded: {e['reason']}" for e in self.exclusions)


def _matches(values: pd.Series, labels: list[str]) -> np.ndarray:
    """Rows whose value equals one of ``labels`` (numerically for a numeric column)."""
    if pd.api.types.is_bool_dtype(values):
        wanted = {lab.strip().lower() in ("1", "true", "yes") for lab in labels}
        return values.isin(wanted).to_numpy()
    if pd.api.types.is_numeric_dtype(values):
        nums = pd.to_numeric(pd.Series(labels), errors="coerce")
        if nums.isna().any():
            bad = labels[int(np.flatnonzero(nums.isna().to_numpy())[0])]
            raise DataValidationError([Problem(
                "the outcome column is numeric but the label is not a number", value=bad)])
        return values.isin(nums.tolist()).to_numpy()
    return values.astype(str).isin(labels).to_numpy()


def _check_columns(df: pd.DataFrame, wanted: list[str], file: str) -> None:
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise DataValidationError([Problem(
            f"column not found (columns are: {', '.join(map(str, df.columns))})", column=c,
            file=file) for c in missing])


def _numeric_marker(s: pd.Series, name: str, file: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s):
        raise DataValidationError([Problem("a marker must be numeric, found true/false",
                                           column=name, file=file)])
    num = pd.to_numeric(s, errors="coerce")
    text = num.isna() & s.notna()
    if text.any():
        row = int(np.flatnonzero(text.to_numpy())[0])
        raise DataValidationError([Problem(
            f"a marker must be numeric; {int(text.sum())} value(s) are text", column=name,
            row=row, value=s.iloc[row], file=file)])
    return num.to_numpy(dtype=float)


def prepare_binary_table(df: pd.DataFrame, *, outcome: str, markers: list[str],
                         positive: list[str] | None = None, negative: list[str] | None = None,
                         subject: str | None = None, site: str | None = None,
                         one_per_subject: bool = False, file: str = "") -> BinaryTable:
    """Apply the rules in the module docstring; return the analysable rows."""
    _check_columns(df, [outcome, *markers, *(c for c in (subject, site) if c)], file)
    if len(set(markers)) != len(markers):
        raise DataValidationError([Problem("a marker is listed twice", value=markers)])
    check_plausible(df, file=file or None)
    check_identifiers(df, (subject, site), file)
    out = df[outcome]
    exclusions = []
    keep = out.notna().to_numpy().copy()
    repeated = df.duplicated(keep="first").to_numpy()
    if repeated.any():
        exclusions.append({"reason": "exact repeat of an earlier row (every column equal)",
                           "rows": int(repeated.sum())})
        keep &= ~repeated
    if (~keep).any():
        exclusions.append({"reason": f"missing outcome {outcome!r}", "rows": int((~keep).sum())})
    if not positive:
        values = set(out.dropna().unique().tolist())
        if values <= {0, 1} or values <= {True, False}:
            positive = ["1"]
        else:
            shown = ", ".join(sorted(map(str, values))[:10])
            raise DataValidationError([Problem(
                f"give --positive: the outcome is not coded 0/1 (values: {shown})",
                column=outcome, file=file)])
    is_pos = _matches(out, positive) & keep
    if negative:
        is_neg = _matches(out, negative) & keep
        other = keep & ~is_pos & ~is_neg
        if other.any():
            exclusions.append({"reason": "outcome in neither --positive nor --negative",
                               "rows": int(other.sum())})
        keep &= is_pos | is_neg
    values = {m: _numeric_marker(df[m], m, file) for m in markers}
    for m, v in values.items():
        miss = keep & ~np.isfinite(v)
        if miss.any():
            exclusions.append({"reason": f"missing value of marker {m!r}", "rows": int(miss.sum())})
        keep &= np.isfinite(v)
    if subject and one_per_subject:
        first = ~pd.Series(df[subject].to_numpy()[keep]).duplicated().to_numpy()
        dropped = int((~first).sum())
        if dropped:
            exclusions.append({"reason": f"not the first row of its subject ({subject!r})",
                               "rows": dropped})
        idx = np.flatnonzero(keep)
        keep = np.zeros_like(keep)
        keep[idx[first]] = True
    y = is_pos[keep]
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if min(n_pos, n_neg) < 2:
        raise DataValidationError([Problem(
            f"after exclusions the outcome has {n_pos} positive and {n_neg} negative row(s); "
            f"each class needs at least 2 (positive = {', '.join(positive)})",
            column=outcome, file=file)])
    flat = [m for m in markers if is_near_constant(values[m][keep])]
    if flat:
        raise DataValidationError([Problem(
            f"the marker is constant over the {int(keep.sum())} analysed rows (relative spread "
            f"<= {NEAR_CONSTANT_RTOL:g}); it cannot separate the classes",
            column=m, value=float(values[m][keep][0]), file=file) for m in flat])
    return BinaryTable(
        y=y, markers={m: v[keep] for m, v in values.items()},
        subject=df[subject].to_numpy()[keep] if subject else None,
        site=df[site].to_numpy()[keep] if site else None, positive=list(positive),
        rows_read=len(df), exclusions=exclusions)
