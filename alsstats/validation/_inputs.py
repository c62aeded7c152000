"""Checking scores, outcomes and weights at the boundary of the validation API.

Array functions in :mod:`alsstats.validation` take ``labels`` (``True``/``1`` for the
positive class, the condition, and ``False``/``0`` for the negative class) and then
``scores`` (one number per observation; higher or lower values indicate the positive
class, see *direction*) — scikit-learn's ``(y_true, y_score)`` order, as
:func:`~alsstats.validation.calibration_summary` ``(y, p)``.

Missing scores are an error in the array API (a ``DataValidationError`` that
counts them and names the first rows): the caller decides what to drop.  The
command line excludes them and reports how many rows it excluded.

Direction
---------
``'>'``: the positive class has *higher* values; an observation is called
positive when ``score >= cutoff`` (pROC's ``direction = "<"``, controls < cases).
``'<'``: the positive class has *lower* values; positive when
``score < cutoff`` (pROC's ``direction = ">"``), e.g. an M1/precuneus volume
ratio below 1.00.  ``'auto'`` picks the direction whose AUC is at least 0.5
(ties go to ``'>'``) and the results report that it was detected; a
detected direction makes the AUC optimistic on small samples.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alsstats.errors import DataValidationError, Problem

__all__ = ["DIRECTIONS", "check_binary", "check_direction", "oriented", "positive_rule"]

DIRECTIONS = ("<", ">")


def _first_rows(mask: np.ndarray, k: int = 5) -> str:
    rows = np.flatnonzero(mask)[:k].tolist()
    more = "" if mask.sum() <= k else ", ..."
    return ", ".join(map(str, rows)) + more


def check_binary(scores, labels, weights=None, *, name: str = "scores",
                 min_per_class: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate and convert ``scores``, ``labels`` and optional ``weights``.

    Returns float scores, boolean labels and float weights (or ``None``).
    Raises :class:`~alsstats.errors.DataValidationError` for text or missing
    scores, labels that are not two classes coded bool/0/1, mismatched
    lengths, negative or missing weights, or fewer than ``min_per_class``
    observations in either class.
    """
    problems: list[Problem] = []
    s_raw = np.asarray(scores)
    if s_raw.ndim != 1:
        raise DataValidationError([Problem(f"{name} must be one-dimensional", column=name)])
    if s_raw.dtype.kind in "biuf":
        s = s_raw.astype(float)
    else:  # object, string or nullable: missing values become NaN, text is an error
        ser = pd.Series(s_raw, dtype=object)
        num = pd.to_numeric(ser, errors="coerce")
        text = (num.isna() & ser.notna()).to_numpy()
        if text.any():
            row = int(np.flatnonzero(text)[0])
            raise DataValidationError([Problem("scores must be numeric, found text",
                                               column=name, row=row, value=ser.iloc[row])])
        s = num.to_numpy(dtype=float)
    y_raw = np.asarray(labels)
    if y_raw.shape != s.shape:
        raise DataValidationError([Problem(
            f"labels have {y_raw.size} values but {name} has {s.size}", column=name)])
    y = _as_bool(y_raw, problems)
    nan = ~np.isfinite(s)
    if nan.any():
        problems.append(Problem(
            f"{int(nan.sum())} missing or infinite score(s) at rows {_first_rows(nan)}; "
            "drop them before calling (the CLI excludes and reports them)", column=name))
    w = None
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if w.shape != s.shape:
            problems.append(Problem(f"weights have {w.size} values but {name} has {s.size}",
                                    column="weights"))
        elif (~np.isfinite(w) | (w < 0)).any():
            problems.append(Problem("weights must be finite and non-negative", column="weights"))
    if problems:
        raise DataValidationError(problems)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if min(n_pos, n_neg) < min_per_class:
        raise DataValidationError([Problem(
            f"the outcome needs at least {min_per_class} observation(s) in each class; "
            f"found {n_pos} positive and {n_neg} negative", column=name)])
    if w is not None and (w[y].sum() <= 0 or w[~y].sum() <= 0):
        raise DataValidationError([Problem("each class needs a positive total weight",
                                           column="weights")])
    return s, y, w


def _as_bool(y_raw: np.ndarray, problems: list[Problem]) -> np.ndarray:
    if y_raw.dtype == bool:
        return y_raw
    ser = pd.Series(y_raw, dtype=object)
    missing = ser.isna().to_numpy()
    if missing.any():
        problems.append(Problem(f"{int(missing.sum())} missing label(s) at rows "
                                f"{_first_rows(missing)}", column="labels"))
    yf = pd.to_numeric(ser, errors="coerce").to_numpy(dtype=float)
    if (np.isnan(yf) & ~missing).any():
        problems.append(Problem("labels must be bool or 0/1 (positive = 1)", column="labels",
                                value=ser[np.isnan(yf) & ~missing].iloc[0]))
        return np.zeros(y_raw.shape, dtype=bool)
    bad = ~np.isin(yf, (0.0, 1.0)) & ~missing
    if bad.any():
        problems.append(Problem("labels must be bool or 0/1 (positive = 1)", column="labels",
                                value=y_raw[bad][0].item()))
    return yf == 1.0


def check_direction(direction: str) -> str:
    """Return ``direction`` if it is ``'<'``, ``'>'`` or ``'auto'``; raise otherwise."""
    if direction not in ("<", ">", "auto"):
        raise DataValidationError([Problem("direction must be '<', '>' or 'auto'",
                                           value=direction)])
    return direction


def oriented(scores: np.ndarray, direction: str) -> np.ndarray:
    """Scores on the scale where higher means positive (negated for ``'<'``)."""
    return scores if direction == ">" else -scores


def positive_rule(direction: str, cutoff: float, name: str = "score") -> str:
    """Human statement of a cutoff rule, e.g. ``'positive if m1_precuneus_ratio < 1'``."""
    op = ">=" if direction == ">" else "<"
    return f"positive if {name} {op} {cutoff:.6g}"
