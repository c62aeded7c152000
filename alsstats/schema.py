"""The cohort table: one row per subject and visit.

Every part of alsstats reads and writes this table.  Each column has a dtype,
a unit and a valid range; :func:`validate_cohort` checks a frame against them
and reports every problem at once (row, column, value, rule).

Columns
-------
Identification and design: ``subject_id``, ``site``, ``visit`` (0 = baseline),
``years_from_baseline``.  Clinical: ``group`` (``HC``, ``MIMIC``, ``PMA``,
``ALS``), ``el_escorial`` (ALS only), ``age``, ``sex``,
``disease_duration_months``, ``alsfrs_r``.  SMA MR spectroscopy (LCModel
institutional units): ``glu``, ``naa``, ``gaba``, their Cramér–Rao lower bounds
in percent, and the ratios ``glu_naa``, ``glu_gaba`` (institutional units when LCModel
scaled to water, arbitrary units otherwise: the ingestion provenance records which; the
ratios are unit-free either way).  FreeSurfer volumes
(mm³, both hemispheres summed): ``m1_volume_mm3`` (precentral),
``precuneus_volume_mm3``, ``m1_precuneus_ratio``, ``total_gm_volume_mm3``,
``etiv_mm3``.  Blood: ``nfl_pg_ml`` (serum NfL, pg/mL), ``chi3l1_ng_ml``
(ng/mL).  fMRI: ``smn_sma`` (sensorimotor-network activity in the SMA,
z-scored to healthy controls).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from alsstats._files import atomic_path, check_utf8
from alsstats.errors import DataValidationError, Problem

__all__ = [
    "COLUMNS",
    "COLUMN_NAMES",
    "EL_ESCORIAL",
    "GROUPS",
    "MARKERS",
    "MODALITIES",
    "NEAR_CONSTANT_RTOL",
    "SEXES",
    "Column",
    "baseline_rows",
    "check_plausible",
    "is_near_constant",
    "read_cohort",
    "validate_cohort",
    "write_cohort",
]

GROUPS = ("HC", "MIMIC", "PMA", "ALS")
EL_ESCORIAL = ("possible", "probable_lab", "probable", "definite")
SEXES = ("F", "M")


@dataclass(frozen=True)
class Column:
    """One cohort column: its dtype, unit, valid range and whether it must be present.

    ``kind`` is ``"str"``, ``"int"``, ``"float"`` or ``"category"``.  ``low`` and
    ``high`` bound valid values; ``low_open`` makes the lower bound strict
    (e.g. a concentration must be > 0).  ``required`` columns must exist in
    every table; the others are added as all-missing when absent.  ``nullable``
    columns may hold NaN (a marker the patient does not have).
    """

    name: str
    kind: str
    unit: str
    description: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    required: bool = False
    nullable: bool = True
    categories: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("subject_id", "str", "", "subject identifier", required=True, nullable=False),
    Column("site", "str", "", "site or scanner", required=True, nullable=False),
    Column("visit", "int", "", "visit number, 0 = baseline", 0, 100, required=True, nullable=False),
    Column("years_from_baseline", "float", "years", "time since the baseline visit", 0, 30,
           required=True, nullable=False),
    Column("group", "category", "", "diagnostic group", required=True, nullable=False,
           categories=GROUPS),
    Column("el_escorial", "category", "", "revised El Escorial category (ALS only)",
           categories=EL_ESCORIAL),
    Column("age", "float", "years", "age at the visit", 18, 110, required=True, nullable=False),
    Column("sex", "category", "", "sex", required=True, nullable=False, categories=SEXES),
    Column("disease_duration_months", "float", "months", "time from symptom onset", 0, 1000),
    Column("alsfrs_r", "float", "points", "ALS Functional Rating Scale-Revised", 0, 48),
    Column("glu", "float", "IU", "SMA glutamate (LCModel)", 0, 100, low_open=True),
    Column("naa", "float", "IU", "SMA N-acetylaspartate (LCModel)", 0, 100, low_open=True),
    Column("gaba", "float", "IU", "SMA GABA (LCModel)", 0, 100, low_open=True),
    Column("glu_crlb", "float", "%", "Cramér–Rao lower bound of Glu", 0, 999),
    Column("naa_crlb", "float", "%", "Cramér–Rao lower bound of NAA", 0, 999),
    Column("gaba_crlb", "float", "%", "Cramér–Rao lower bound of GABA", 0, 999),
    Column("glu_naa", "float", "ratio", "Glu/NAA", 0, 20, low_open=True),
    Column("glu_gaba", "float", "ratio", "Glu/GABA", 0, 100, low_open=True),
    # >= 100 mm³: no bilateral cortical region is smaller (adults ~15,000-30,000 mm³); the
    # same volumes in cm³ (~15-30) fall below it and get the cm³ hint.
    Column("m1_volume_mm3", "float", "mm^3", "precentral (M1) gray-matter volume",
           100, 100_000),
    Column("precuneus_volume_mm3", "float", "mm^3", "precuneus gray-matter volume",
           100, 100_000),
    Column("m1_precuneus_ratio", "float", "ratio", "M1 / precuneus volume", 0, 5, low_open=True),
    Column("total_gm_volume_mm3", "float", "mm^3", "FreeSurfer TotalGrayVol",
           200_000, 1_500_000),
    Column("etiv_mm3", "float", "mm^3", "estimated total intracranial volume",
           700_000, 2_700_000),
    Column("nfl_pg_ml", "float", "pg/mL", "serum neurofilament light", 0, 20_000, low_open=True),
    Column("chi3l1_ng_ml", "float", "ng/mL", "serum chitinase-3-like protein 1",
           0, 10_000, low_open=True),
    Column("smn_sma", "float", "z", "sensorimotor-network activity in the SMA (HC z-score)",
           -15, 15),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
_BY_NAME = {c.name: c for c in COLUMNS}

#: The diagnostic markers, by imaging or lab modality (a modality is missing as a whole).
MODALITIES: dict[str, tuple[str, ...]] = {
    "mrs": ("glu", "naa", "gaba", "glu_crlb", "naa_crlb", "gaba_crlb", "glu_naa", "glu_gaba"),
    "smri": ("m1_volume_mm3", "precuneus_volume_mm3", "m1_precuneus_ratio",
             "total_gm_volume_mm3", "etiv_mm3"),
    "blood": ("nfl_pg_ml", "chi3l1_ng_ml"),
    "fmri": ("smn_sma",),
}
MARKERS: tuple[str, ...] = ("glu_naa", "glu_gaba", "m1_precuneus_ratio", "nfl_pg_ml",
                            "chi3l1_ng_ml", "smn_sma")

#: (ratio, numerator, denominator) that must agree when all three are present.
_RATIOS = (("glu_naa", "glu", "naa"), ("glu_gaba", "glu", "gaba"),
           ("m1_precuneus_ratio", "m1_volume_mm3", "precuneus_volume_mm3"))
_RATIO_RTOL = 1e-3
# Serum NfL is reported in pg/mL (healthy adults ~5-30).  A column whose median
# is below this looks like ng/mL; serum CHI3L1 (ng/mL, ~20-200) above its bound
# looks like pg/mL.
_NFL_MIN_MEDIAN_PG_ML = 1.0
_CHI3L1_MAX_MEDIAN_NG_ML = 2_000.0
#: A marker is (near-)constant when (max - min) <= NEAR_CONSTANT_RTOL * max|value|: its
#: values agree to about six significant digits, beyond any measurement's precision, so
#: it carries no information (an AUC of 0.5 with a zero-width interval, a zero scale).
NEAR_CONSTANT_RTOL = 1e-6


def is_near_constant(values) -> bool:
    """True when the finite ``values`` have a relative spread of at most :data:`NEAR_CONSTANT_RTOL`.

    The relative spread is :math:`(\\max v - \\min v) / \\max |v|` (0 when every value is 0).
    Fewer than two finite values count as constant.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return True
    return float(np.ptp(v)) <= NEAR_CONSTANT_RTOL * float(np.max(np.abs(v)))


def _unit_hint(spec: Column, v: np.ndarray) -> str:
    """Why out-of-range values may be a unit mix-up (volumes in cm³, ...)."""
    if spec.unit == "mm^3" and spec.low is not None and len(v) and \
            np.all((v * 1000 >= spec.low) & (v > 0)):
        return "; values ~1,000× too small look like cm³ (multiply by 1000)"
    return ""


class _Collector:
    def __init__(self, file: str | None, line_offset: int | None):
        self.problems: list[Problem] = []
        self.file = file
        self.line_offset = line_offset

    def add(self, rule: str, column: str | None = None, rows=None, values=None) -> None:
        if rows is None:
            self.problems.append(Problem(rule=rule, column=column, file=self.file))
            return
        values = [None] * len(rows) if values is None else values
        for r, v in zip(rows, values, strict=True):
            self.problems.append(Problem(rule=rule, column=column, row=int(r),
                                         value=_plain(v), file=self.file))


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    return v


def _is_blank(series: pd.Series) -> np.ndarray:
    """Missing values and empty/whitespace-only strings."""
    blank = series.isna().to_numpy(bool)
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return blank
    text = series.astype("object").where(~blank, "")
    return blank | (text.astype(str).str.strip() == "").to_numpy(bool)


def _stripped(series: pd.Series, blank: np.ndarray) -> pd.Series:
    """Strings stripped of surrounding space; blanks become None; non-text values kept."""
    out = series.astype("object").where(~blank, None)
    is_text = out.map(type).eq(str).to_numpy(bool)
    if is_text.any():
        out[is_text] = out[is_text].astype(str).str.strip()
    return out


def validate_cohort(df: pd.DataFrame, *, file: str | os.PathLike | None = None,
                    line_offset: int | None = None) -> pd.DataFrame:
    """Check a cohort table and return a clean, typed copy in schema column order.

    Parameters
    ----------
    df
        The table, one row per subject and visit.  Extra columns are kept
        (after the schema columns); optional schema columns that are absent are
        added as all-missing.
    file
        Source file name, quoted in every problem.
    line_offset
        If given, problems also quote the file line (``row + line_offset``),
        e.g. 2 for a CSV with one header line.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``el_escorial`` and ``sex`` as categoricals, ``visit`` as
        int64, ``subject_id`` and ``site`` as strings, markers as float64.

    Raises
    ------
    DataValidationError
        Listing every problem: missing required columns, values of the wrong
        type, values outside the valid range, unknown labels, El Escorial
        categories outside ALS, duplicated (subject_id, visit), subject-level
        fields that change between visits, time running backwards, ratios
        inconsistent with their parts, and concentrations that look like the
        wrong unit (NfL in ng/mL, CHI3L1 in pg/mL).
    """
    src = None if file is None else str(file)
    col = _Collector(src, line_offset)
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c.name for c in COLUMNS if c.required and c.name not in df.columns]
    if missing:
        col.add(f"required column missing: {', '.join(missing)}")
        raise DataValidationError(col.problems)
    n = len(df)
    rows = np.arange(n)
    out: dict[str, pd.Series] = {}
    for spec in COLUMNS:
        if spec.name not in df.columns:
            out[spec.name] = _empty(spec, n)
            continue
        out[spec.name] = _check_column(spec, df[spec.name].reset_index(drop=True), rows, col)
    clean = pd.DataFrame(out)
    for extra in df.columns:
        if extra not in _BY_NAME:
            clean[extra] = df[extra].to_numpy()
    _check_cross_column(clean, col)
    if col.problems:
        if line_offset is not None:
            col.problems = [_with_line(p, line_offset) for p in col.problems]
        raise DataValidationError(col.problems)
    for spec in COLUMNS:
        if spec.kind == "int":
            clean[spec.name] = clean[spec.name].astype("int64")
    return clean


def _with_line(p: Problem, offset: int) -> Problem:
    if p.row is None:
        return p
    return Problem(rule=p.rule, column=p.column, row=p.row, value=p.value,
                   file=f"{p.file or 'input'} line {p.row + offset}")


def _empty(spec: Column, n: int) -> pd.Series:
    if spec.kind == "category":
        return pd.Series(pd.Categorical([None] * n, categories=list(spec.categories)))
    if spec.kind == "str":
        return pd.Series([None] * n, dtype="object")
    return pd.Series(np.full(n, np.nan))


def _check_column(spec: Column, s: pd.Series, rows: np.ndarray, col: _Collector) -> pd.Series:
    blank = _is_blank(s)
    if not spec.nullable and blank.any():
        col.add("value is required", spec.name, rows[blank])
    if spec.kind == "str":
        vals = _stripped(s, blank)
        other = ~blank & ~vals.map(type).eq(str).to_numpy(bool)
        if other.any():  # numbers read as IDs: keep their text form
            vals[other] = vals[other].astype(str)
        control = ~blank & vals.astype(str).str.contains(r"[\x00-\x1f\x7f]", regex=True
                                                         ).to_numpy(bool)
        if control.any():  # a NUL cannot be written to NetCDF; none is a real identifier
            col.add("contains a control character (e.g. NUL)", spec.name, rows[control],
                    [str(v).encode("unicode_escape").decode() for v in vals[control]])
        return vals
    if spec.kind == "category":
        text = _stripped(s, blank)
        bad = ~blank & ~text.isin(spec.categories).to_numpy(bool)
        if bad.any():
            col.add(f"unknown label; expected one of {', '.join(spec.categories)}",
                    spec.name, rows[bad], text[bad].tolist())
        text = text.where(~blank & ~bad, None)
        return pd.Series(pd.Categorical(text, categories=list(spec.categories)))
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        num = s.astype("float64")
    else:
        num = pd.to_numeric(s.astype("object").where(~blank, np.nan),
                            errors="coerce").astype("float64")
    bad_type = ~blank & num.isna().to_numpy(bool)
    if bad_type.any():
        col.add(f"not a number ({spec.kind} expected)", spec.name, rows[bad_type],
                s[bad_type].tolist())
    v = num.to_numpy()
    finite = np.isfinite(v)
    inf = ~blank & ~bad_type & ~finite
    if inf.any():
        col.add("value is not finite", spec.name, rows[inf], v[inf].tolist())
    ok = finite
    if spec.low is not None:
        too_low = ok & ((v <= spec.low) if spec.low_open else (v < spec.low))
        if too_low.any():
            op = ">" if spec.low_open else ">="
            col.add(f"out of range: must be {op} {spec.low:g} {spec.unit}".rstrip()
                    + _unit_hint(spec, v[too_low]), spec.name, rows[too_low], v[too_low].tolist())
    if spec.high is not None:
        too_high = ok & (v > spec.high)
        if too_high.any():
            col.add(f"out of range: must be <= {spec.high:g} {spec.unit}".rstrip(),
                    spec.name, rows[too_high], v[too_high].tolist())
    if spec.kind == "int":
        frac = ok & (np.abs(v - np.round(v)) > 1e-9)
        if frac.any():
            col.add("must be a whole number", spec.name, rows[frac], v[frac].tolist())
        v = np.where(frac, np.nan, v)
    return pd.Series(v, dtype="float64")


def _check_cross_column(df: pd.DataFrame, col: _Collector) -> None:
    rows = np.arange(len(df))
    is_als = (df["group"] == "ALS").to_numpy(bool)
    has_ee = df["el_escorial"].notna().to_numpy(bool)
    bad = has_ee & ~is_als
    if bad.any():
        col.add("El Escorial category given for a non-ALS subject (must be empty)",
                "el_escorial", rows[bad], df["el_escorial"][bad].astype(str).tolist())
    dup = df.duplicated(["subject_id", "visit"], keep="first").to_numpy(bool)
    if dup.any():
        col.add("duplicate (subject_id, visit)", "visit", rows[dup],
                [f"{s}/{v:g}" for s, v in zip(df["subject_id"][dup], df["visit"][dup],
                                             strict=True)])
    for field in ("group", "sex", "site"):
        counts = df.groupby("subject_id", sort=False, observed=True)[field].transform("nunique")
        bad = (counts > 1).to_numpy(bool)
        if bad.any():
            col.add(f"{field} changes between visits of the same subject", field, rows[bad],
                    df[field][bad].astype(str).tolist())
    order = df.sort_values(["subject_id", "visit"], kind="stable")
    back = order.groupby("subject_id", sort=False)["years_from_baseline"].diff() < 0
    if back.any():
        idx = order.index[back.to_numpy(bool)]
        col.add("years_from_baseline decreases as visit increases", "years_from_baseline",
                idx, df.loc[idx, "years_from_baseline"].tolist())
    for ratio, num, den in _RATIOS:
        r, a, b = (df[c].to_numpy() for c in (ratio, num, den))
        both = np.isfinite(r) & np.isfinite(a) & np.isfinite(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = a / b
        bad = both & (np.abs(r - expected) > _RATIO_RTOL * np.abs(expected))
        if bad.any():
            col.add(f"ratio inconsistent with {num} / {den} (relative tolerance {_RATIO_RTOL:g})",
                    ratio, rows[bad], r[bad].tolist())
    _check_units(df, col)


def _check_units(df: pd.DataFrame, col: _Collector) -> None:
    """Concentrations whose median looks like the wrong unit."""
    empty = pd.Series([], dtype=float)
    nfl = df["nfl_pg_ml"].dropna() if "nfl_pg_ml" in df.columns else empty
    if len(nfl) and nfl.median() < _NFL_MIN_MEDIAN_PG_ML:
        col.add(f"NfL median {nfl.median():.4g} looks like ng/mL; nfl_pg_ml must be in pg/mL "
                "(multiply ng/mL by 1000)", "nfl_pg_ml")
    chi = df["chi3l1_ng_ml"].dropna() if "chi3l1_ng_ml" in df.columns else empty
    if len(chi) and chi.median() > _CHI3L1_MAX_MEDIAN_NG_ML:
        col.add(f"CHI3L1 median {chi.median():.4g} looks like pg/mL; chi3l1_ng_ml must be in "
                "ng/mL (divide pg/mL by 1000)", "chi3l1_ng_ml")


def check_plausible(df: pd.DataFrame, *, file: str | os.PathLike | None = None,
                    line_offset: int | None = None, columns=None) -> None:
    """Check the known cohort columns of any table against the schema's units and ranges.

    Every numeric column of ``df`` (or of ``columns``) whose name is a cohort
    column is checked for values outside the schema's range, with a unit hint
    (volumes ~1,000× too small look like cm³; NfL in ng/mL, CHI3L1 in pg/mL).
    Missing values and text are left to the caller; unknown columns are not
    checked.

    Raises
    ------
    DataValidationError
        Every implausible value, naming file (and line), row, column and value.
    """
    src = None if file is None else str(file)
    col = _Collector(src, line_offset)
    names = [c for c in (df.columns if columns is None else columns)
             if c in _BY_NAME and _BY_NAME[c].kind == "float" and c in df.columns]
    checked = {}
    for name in names:
        num = pd.to_numeric(df[name].reset_index(drop=True), errors="coerce")
        spec = Column(**{**_BY_NAME[name].__dict__, "nullable": True})
        checked[name] = _check_column(spec, num, np.arange(len(df)), col)
    _check_units(pd.DataFrame(checked), col)
    if col.problems:
        if line_offset is not None:
            col.problems = [_with_line(p, line_offset) for p in col.problems]
        raise DataValidationError(col.problems)


def baseline_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a cohort table and keep each subject's earliest visit (visit 0 = baseline).

    The column ``_source_row`` holds the row's position in the validated table (the same as
    in ``df`` when ``df`` has no rows the validation drops).

    Raises
    ------
    DataValidationError
        If the table breaks the cohort schema or has no rows.
    """
    clean = validate_cohort(df)
    if len(clean) == 0:
        raise DataValidationError("the cohort table has no rows")
    order = clean.assign(_source_row=np.arange(len(clean))).sort_values(
        ["subject_id", "visit"], kind="stable")
    first = order.drop_duplicates("subject_id", keep="first").sort_values("_source_row")
    return first.reset_index(drop=True)


def read_cohort(path: str | os.PathLike, *, validate: bool = True) -> pd.DataFrame:
    """Read a cohort table from CSV or Parquet (by extension) and validate it.

    Problems name the file and, for CSV, the line.
    """
    p = Path(path)
    if p.is_dir():
        raise DataValidationError(f"{p}: is a folder, not a table file")
    if not p.exists():
        raise DataValidationError(f"{p}: file not found")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt"):
        check_utf8(p)
    try:
        if suffix == ".parquet":
            raw = pd.read_parquet(p)
            offset = None
        elif suffix in (".csv", ".txt"):
            raw = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=["", "NA", "NaN"])
            offset = 2
        else:
            raise DataValidationError(f"{p}: unknown file type {suffix!r}; expected .csv or "
                                      ".parquet")
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        if isinstance(exc, DataValidationError):
            raise
        raise DataValidationError(f"{p}: cannot be read as {suffix[1:]}: {exc}") from exc
    if not validate:
        return raw
    return validate_cohort(raw, file=p, line_offset=offset)


def write_cohort(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a cohort table atomically as CSV or Parquet (by extension)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise DataValidationError(f"{p}: unknown file type {suffix!r}; expected .csv or .parquet")
    with atomic_path(p) as tmp:
        if suffix == ".csv":
            df.to_csv(tmp, index=False, lineterminator="\n")
        else:
            df.to_parquet(tmp, index=False)
    return p
