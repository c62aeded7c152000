"""A small model-formula language for linear mixed models, built on pandas.

Grammar (a subset of the Wilkinson–Rogers notation used by R and lme4)::

    outcome ~ term + term + ... [+ (re_term + ... | subject)]

* ``a`` — a column: numeric columns enter as they are, text / categorical /
  boolean columns as treatment-coded indicators (reference = first level,
  the category order for a pandas ``Categorical``, else sorted order).
* ``a:b`` — interaction (element-wise product of the two columns' codings).
* ``a*b`` — ``a + b + a:b`` (and ``a*b*c`` all lower-order terms).
* ``1`` / ``0`` / ``-1`` — keep or drop the intercept (kept by default).
* ``(t | subject)`` — correlated random intercept and slope on ``t`` per
  ``subject``; ``(1 | subject)`` a random intercept; ``(0 + t | subject)`` a
  random slope only.  At most one random-effects term (one grouping factor).

Only this grammar is accepted; anything else is a :class:`~alsstats.errors.SpecError`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alsstats.errors import DataValidationError, Problem, SpecError

__all__ = ["Design", "Formula", "design_matrices", "parse_formula"]

_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


@dataclass(frozen=True)
class Formula:
    """A parsed formula: outcome, fixed terms (tuples of column names), random part."""

    outcome: str
    fixed_terms: tuple[tuple[str, ...], ...]
    intercept: bool
    subject: str | None = None
    random_terms: tuple[str, ...] = ()
    random_intercept: bool = True

    @property
    def columns(self) -> list[str]:
        """Every data column the formula uses, in first-use order."""
        cols = [self.outcome, *itertools.chain.from_iterable(self.fixed_terms),
                *self.random_terms]
        if self.subject:
            cols.append(self.subject)
        return list(dict.fromkeys(cols))


@dataclass
class Design:
    """Arrays for :func:`alsstats.models.lmm.engine.fit_lmm` built from a formula and a table.

    ``rows`` are the positions (in the input table) of the rows kept: rows missing a
    used value are dropped.
    """

    y: np.ndarray
    X: np.ndarray
    fixed_names: list[str]
    Z: np.ndarray | None
    random_names: list[str]
    subject: np.ndarray | None
    rows: np.ndarray


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts]


def _check_name(name: str, formula: str) -> str:
    if not _NAME.match(name):
        raise SpecError(f"formula {formula!r}: {name!r} is not a column name "
                        "(allowed: letters, digits, '_', '.'; terms a, a:b, a*b, (t | subject))")
    return name


def _expand(term: str, formula: str) -> list[tuple[str, ...]]:
    if "*" in term:
        factors = [_check_name(f.strip(), formula) for f in term.split("*")]
        out = []
        for k in range(1, len(factors) + 1):
            out.extend(itertools.combinations(factors, k))
        return out
    return [tuple(_check_name(f.strip(), formula) for f in term.split(":"))]


def parse_formula(formula: str) -> Formula:
    """Parse ``"y ~ a * b + c + (t | subject)"`` into a :class:`Formula`."""
    if formula.count("~") != 1:
        raise SpecError(f"formula {formula!r} must have exactly one '~'")
    lhs, rhs = (s.strip() for s in formula.split("~"))
    outcome = _check_name(lhs, formula)
    rhs = re.sub(r"\s*-\s*1\b", " + 0", rhs)
    intercept = True
    fixed: list[tuple[str, ...]] = []
    subject, random_terms, random_intercept = None, (), True
    for term in _split_top(rhs, "+"):
        if not term:
            raise SpecError(f"formula {formula!r} has an empty term")
        if term.startswith("("):
            if not term.endswith(")") or subject is not None:
                raise SpecError(f"formula {formula!r}: one random-effects term '(t | subject)' "
                                "is supported")
            inner = term[1:-1]
            if inner.count("|") != 1:
                raise SpecError(f"formula {formula!r}: random term needs one '|'")
            re_lhs, subj = (s.strip() for s in inner.split("|"))
            subject = _check_name(subj, formula)
            names = []
            for part in _split_top(re_lhs, "+"):
                if part == "1":
                    random_intercept = True
                elif part == "0":
                    random_intercept = False
                else:
                    names.append(_check_name(part, formula))
            random_terms = tuple(dict.fromkeys(names))
            if not random_intercept and not random_terms:
                raise SpecError(f"formula {formula!r}: empty random-effects term")
        elif term == "1":
            intercept = True
        elif term == "0":
            intercept = False
        else:
            fixed.extend(_expand(term, formula))
    return Formula(outcome, tuple(dict.fromkeys(fixed)), intercept, subject, random_terms,
                   random_intercept)


def _is_categorical(s: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))


def _coding(name: str, s: pd.Series) -> tuple[list[str], np.ndarray]:
    """Column names and values of one factor: numeric as is, categorical treatment-coded."""
    if not _is_categorical(s):
        return [name], s.to_numpy(dtype=float)[:, None]
    levels = (list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype)
              else sorted(pd.unique(s.dropna())))
    levels = [lv for lv in levels if (s == lv).any()]
    values = s.to_numpy()
    cols = [(values == lv).astype(float) for lv in levels[1:]]
    mat = np.column_stack(cols) if cols else np.zeros((len(s), 0))
    return [f"{name}[{lv}]" for lv in levels[1:]], mat


def design_matrices(formula: str | Formula, data: pd.DataFrame) -> Design:
    """Build ``y``, ``X``, ``Z`` and subject codes; rows with a missing used value are dropped.

    Raises
    ------
    DataValidationError
        A column is absent, a random-effect column is not numeric, or no rows remain.
    """
    f = parse_formula(formula) if isinstance(formula, str) else formula
    missing = [c for c in f.columns if c not in data.columns]
    if missing:
        raise DataValidationError([Problem("column used in the formula is missing", column=c)
                                   for c in missing])
    problems = []
    for c in [f.outcome, *f.random_terms]:
        if _is_categorical(data[c]):
            problems.append(Problem("must be numeric", column=c,
                                    value=str(data[c].dropna().iloc[0]) if data[c].notna().any()
                                    else None))
    if problems:
        raise DataValidationError(problems)
    keep = data[f.columns].notna().all(axis=1).to_numpy()
    if not keep.any():
        raise DataValidationError("no row has every column the formula uses")
    df = data.loc[keep, f.columns]
    names, cols = [], []
    if f.intercept:
        names.append("Intercept")
        cols.append(np.ones((len(df), 1)))
    codings = {c: _coding(c, df[c]) for c in dict.fromkeys(itertools.chain(*f.fixed_terms))}
    for term in f.fixed_terms:
        t_names, t_vals = codings[term[0]]
        for factor in term[1:]:
            f_names, f_vals = codings[factor]
            t_names = [f"{a}:{b}" for a in t_names for b in f_names]
            t_vals = (t_vals[:, :, None] * f_vals[:, None, :]).reshape(len(df), -1)
        names.extend(t_names)
        cols.append(t_vals)
    X = np.column_stack(cols) if cols else np.zeros((len(df), 0))
    y = df[f.outcome].to_numpy(dtype=float)
    Z, re_names, subject = None, [], None
    if f.subject is not None:
        re_cols = [np.ones(len(df))] if f.random_intercept else []
        re_names = ["Intercept"] if f.random_intercept else []
        for t in f.random_terms:
            re_cols.append(df[t].to_numpy(dtype=float))
            re_names.append(t)
        Z = np.column_stack(re_cols)
        subject = df[f.subject].to_numpy()
    return Design(y, X, names, Z, re_names, subject, np.flatnonzero(keep))
