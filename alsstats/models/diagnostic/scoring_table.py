"""Validation of a table of patients to score (no diagnosis column needed).

A table to score needs ``subject_id``, ``site``, the spec's marker columns
(any may be missing, even all) and the covariates the spec uses (``age``,
``sex``); with ``measurement_error = "crlb"`` also the CRLB columns of the spec's MRS
ratios (``glu_crlb``, ``naa_crlb``, ``gaba_crlb``).  Values are checked against the
cohort schema's types and ranges; every problem is reported at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alsstats.errors import DataValidationError, Problem
from alsstats.models.diagnostic.spec import RATIO_METABOLITES, DiagnosticSpec
from alsstats.schema import COLUMNS, SEXES

__all__ = ["validate_scoring_table"]

_BY_NAME = {c.name: c for c in COLUMNS}


def validate_scoring_table(df: pd.DataFrame, spec: DiagnosticSpec) -> pd.DataFrame:
    """Check a table of patients to score; return the columns the model uses, typed.

    Raises
    ------
    DataValidationError
        Listing missing columns, missing identifiers, non-numeric or
        out-of-range values and unknown sex labels.
    """
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"expected a pandas DataFrame, got {type(df).__name__}")
    crlb = sorted({f"{m}_crlb" for r in spec.error_markers for m in RATIO_METABOLITES[r]})
    needed = ["subject_id", "site", *spec.covariates, *spec.marker_names, *crlb]
    absent = [c for c in needed if c not in df.columns]
    if absent:
        raise DataValidationError([Problem(f"required column missing: {', '.join(absent)}")])
    problems: list[Problem] = []
    out = pd.DataFrame(index=np.arange(len(df)))
    for col in ("subject_id", "site"):
        s = df[col].reset_index(drop=True).astype("object")
        blank = s.isna() | s.map(lambda v: isinstance(v, str) and not v.strip())
        problems += [Problem("value is required", col, int(r)) for r in np.flatnonzero(blank)]
        out[col] = s.map(lambda v: str(v).strip() if v is not None else v)
    numeric = [c for c in (*spec.covariates, *spec.marker_names, *crlb) if c != "sex"]
    for col in numeric:
        rule = _BY_NAME[col]
        raw = df[col].reset_index(drop=True)
        v = pd.to_numeric(raw, errors="coerce").to_numpy(float)
        bad_type = raw.notna().to_numpy() & ~np.isfinite(v)
        problems += [Problem("not a finite number", col, int(r), raw.iloc[r])
                     for r in np.flatnonzero(bad_type)]
        ok = np.isfinite(v)
        low = ok & ((v <= rule.low) if rule.low_open else (v < rule.low)) \
            if rule.low is not None else np.zeros(len(v), bool)
        high = ok & (v > rule.high) if rule.high is not None else np.zeros(len(v), bool)
        for r in np.flatnonzero(low | high):
            op = ">" if rule.low_open else ">="
            problems.append(Problem(f"out of range: must be {op} {rule.low:g} and <= "
                                    f"{rule.high:g} {rule.unit}".rstrip(), col, int(r), v[r]))
        if col == "age":
            problems += [Problem("value is required (covariate of the model)", col, int(r))
                         for r in np.flatnonzero(raw.isna().to_numpy())]
        out[col] = v
    if "sex" in spec.covariates:
        s = df["sex"].reset_index(drop=True).astype("object").map(
            lambda v: v.strip() if isinstance(v, str) else v)
        bad = ~s.isin(SEXES).to_numpy()
        problems += [Problem(f"unknown label; expected one of {', '.join(SEXES)}", "sex",
                             int(r), s.iloc[r]) for r in np.flatnonzero(bad)]
        out["sex"] = s
    if problems:
        raise DataValidationError(problems)
    return out
