"""Validate a long-format table and lay it out for the longitudinal model.

One row per subject × visit.  Column names are arguments, so any long table works.
Rows whose outcome is missing are left out (that visit lacks the marker); every other
problem is reported at once as a :class:`~alsstats.errors.DataValidationError`.

Layout: subjects × visits arrays padded to the largest number of visits ``M`` (with a
0/1 ``mask``), on the standardised scale the priors refer to:
``y* = (y − ȳ)/s_y``, ``t* = t/s_t`` (t = 0 stays baseline) and covariates centred and
scaled, ``x* = (x − x̄)/s_x``.  Covariates are subject-level: each subject's first
non-missing value by time (e.g. age at baseline); categorical covariates become treatment
indicators.  The group must be constant within a subject; the site may change between
visits (a scanner change).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from alsstats.errors import DataValidationError, Problem

__all__ = ["Columns", "LongData", "prepare_long_data"]

_ALL = "all"


@dataclass(frozen=True)
class Columns:
    """Which table columns play which role."""

    outcome: str
    time: str
    subject: str
    group: str | None = None
    covariates: tuple[str, ...] = ()
    site: str | None = None

    def used(self) -> list[str]:
        cols = [self.subject, self.time, self.outcome]
        cols += [c for c in (self.group, self.site) if c]
        return list(dict.fromkeys(cols + list(self.covariates)))

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, "time": self.time, "subject": self.subject,
                "group": self.group, "covariates": list(self.covariates), "site": self.site}


@dataclass
class LongData:
    """A validated table laid out per subject (see the module docstring)."""

    columns: Columns
    subjects: np.ndarray
    groups: list[str]
    group_idx: np.ndarray
    sites: list[str]
    site_idx: np.ndarray          # (N, M), per visit
    covariate_names: list[str]
    X: np.ndarray                 # (N, k) standardised covariates
    Y: np.ndarray                 # (N, M) standardised outcome, 0 where masked
    T: np.ndarray                 # (N, M) standardised time, 0 where masked
    mask: np.ndarray              # (N, M) 1.0 for a visit
    y_mean: float
    y_sd: float
    t_sd: float
    x_mean: np.ndarray
    x_sd: np.ndarray
    data_hash: str
    n_dropped: int = 0
    info: dict = field(default_factory=dict)

    @property
    def n_subjects(self) -> int:
        return len(self.subjects)

    @property
    def n_obs(self) -> int:
        return int(self.mask.sum())

    def long(self):
        """Natural-scale long arrays (y, t, subject index, site index) of the observed visits."""
        i, j = np.nonzero(self.mask)
        y = self.Y[i, j] * self.y_sd + self.y_mean
        t = self.T[i, j] * self.t_sd
        return y, t, i, self.site_idx[i, j]

    def natural_covariates(self) -> np.ndarray:
        """Covariates centred at their mean, in natural units (N, k)."""
        return self.X * self.x_sd


def _numeric(df: pd.DataFrame, col: str, problems: list[Problem], rule: str) -> pd.Series:
    s = df[col]
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        conv = pd.to_numeric(s, errors="coerce")
        bad = conv.isna() & s.notna()
        for row in np.flatnonzero(bad.to_numpy())[:10]:
            problems.append(Problem(rule, column=col, row=int(row), value=s.iloc[row]))
        if bad.sum() > 10:
            problems.append(Problem(f"{rule} ({int(bad.sum()) - 10} more rows)", column=col))
        return conv
    return s.astype(float)


def _baseline_covariates(df: pd.DataFrame, columns: Columns) -> pd.DataFrame:
    """Each subject's first non-missing value of every covariate (by time), indexed by subject."""
    subj = df[columns.subject].astype(str)
    return (df.assign(_s=subj).sort_values(["_s", "_t"], kind="stable")
            .groupby("_s", sort=True)[list(columns.covariates)].first())


def prepare_long_data(data: pd.DataFrame, columns: Columns, *, random_slope: bool = True,
                      file: str | None = None) -> LongData:
    """Validate ``data`` and build the padded, standardised layout.

    Raises
    ------
    DataValidationError
        Missing columns; non-numeric outcome or time; missing subject, time, group, site
        or covariate values; non-finite values; duplicated subject × time visits; a group
        that changes within a subject; fewer than 2 subjects; or, for a slope model, no
        subject with two or more visits.
    """
    missing = [c for c in columns.used() if c not in data.columns]
    if missing:
        raise DataValidationError([Problem("required column is missing", column=c, file=file)
                                   for c in missing])
    df = data[columns.used()].reset_index(drop=True)
    problems: list[Problem] = []
    y = _numeric(df, columns.outcome, problems, "outcome must be numeric")
    t = _numeric(df, columns.time, problems, "time must be numeric")
    if problems:
        raise DataValidationError(problems)
    for col in [columns.subject, columns.time, columns.group, columns.site]:
        if col is None:
            continue
        for row in np.flatnonzero(df[col].isna().to_numpy())[:10]:
            problems.append(Problem("value is missing", column=col, row=int(row)))
    for name, s in ((columns.outcome, y), (columns.time, t)):
        bad = np.isinf(s.to_numpy(dtype=float))
        for row in np.flatnonzero(bad)[:10]:
            problems.append(Problem("value must be finite", column=name, row=int(row),
                                    value=float(s.iloc[row])))
    if problems:
        raise DataValidationError([Problem(p.rule, p.column, p.row, p.value, file)
                                   for p in problems])
    covs = _baseline_covariates(df.assign(_t=t), columns)
    keep = y.notna().to_numpy()
    n_dropped = int((~keep).sum())
    df = df.loc[keep].assign(_y=y[keep].to_numpy(), _t=t[keep].to_numpy())
    df["_row"] = np.flatnonzero(keep)
    subj = df[columns.subject].astype(str)
    dup = pd.DataFrame({"s": subj, "t": df["_t"]}).duplicated(keep=False).to_numpy()
    for row in df["_row"].to_numpy()[dup][:20]:
        problems.append(Problem("duplicated visit: this subject has another row at the same "
                                "time", column=columns.time, row=int(row), file=file,
                                value=f"{data[columns.subject].iloc[row]} @ "
                                      f"{data[columns.time].iloc[row]}"))
    if columns.group:
        n_groups = df.groupby(subj)[columns.group].nunique()
        for s_id in n_groups.index[n_groups.to_numpy() > 1][:10]:
            problems.append(Problem("group changes within a subject", column=columns.group,
                                    value=s_id, file=file))
    if problems:
        raise DataValidationError(problems)
    df = df.assign(_s=subj).sort_values(["_s", "_t"], kind="stable")
    subjects, sidx = np.unique(df["_s"].to_numpy(), return_inverse=True)
    N = len(subjects)
    counts = np.bincount(sidx, minlength=N)
    if N < 2:
        raise DataValidationError([Problem("at least 2 subjects are needed",
                                           column=columns.subject, file=file)])
    if random_slope and counts.max() < 2:
        raise DataValidationError([Problem(
            "every subject has one visit: a slope model needs subjects with two or more "
            "visits at different times (use random_effects = 'intercept' for a cross-section)",
            column=columns.time, file=file)])
    M = int(counts.max())
    pos = np.arange(len(df)) - np.repeat(np.cumsum(counts) - counts, counts)
    mask = np.zeros((N, M))
    mask[sidx, pos] = 1.0
    y_nat, t_nat = df["_y"].to_numpy(), df["_t"].to_numpy()
    y_mean, y_sd = float(y_nat.mean()), float(y_nat.std())
    t_sd = float(t_nat.std())
    if not y_sd > 0:
        raise DataValidationError([Problem("outcome is constant", column=columns.outcome)])
    if not t_sd > 0:
        raise DataValidationError([Problem("time is constant", column=columns.time)])
    Y, T = np.zeros((N, M)), np.zeros((N, M))
    Y[sidx, pos] = (y_nat - y_mean) / y_sd
    T[sidx, pos] = t_nat / t_sd
    first = df.groupby("_s", sort=True).head(1).set_index("_s").loc[subjects]
    if columns.group:
        groups = sorted(map(str, pd.unique(first[columns.group])))
        group_idx = np.searchsorted(groups, first[columns.group].astype(str).to_numpy())
    else:
        groups, group_idx = [_ALL], np.zeros(N, dtype=int)
    if columns.site:
        site_lab = df[columns.site].astype(str).to_numpy()
        sites = sorted(set(site_lab))
        site_idx = np.zeros((N, M), dtype=int)
        site_idx[sidx, pos] = np.searchsorted(sites, site_lab)
    else:
        sites, site_idx = [], np.zeros((N, M), dtype=int)
    names, cols = [], []
    covs = covs.loc[subjects]
    for c in columns.covariates:
        for s_id in covs.index[covs[c].isna().to_numpy()][:10]:
            problems.append(Problem("covariate is missing at every visit of this subject",
                                    column=c, value=s_id, file=file))
    if problems:
        raise DataValidationError(problems)
    for c in columns.covariates:
        s = covs[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            names.append(c)
            cols.append(s.to_numpy(dtype=float))
        else:
            levels = sorted(map(str, pd.unique(s)))
            for lv in levels[1:]:
                names.append(f"{c}[{lv}]")
                cols.append((s.astype(str).to_numpy() == lv).astype(float))
    Xn = np.column_stack(cols) if cols else np.zeros((N, 0))
    x_mean, x_sd = Xn.mean(axis=0), Xn.std(axis=0)
    const = [n for n, sd in zip(names, x_sd, strict=True) if not sd > 0]
    if const:
        raise DataValidationError([Problem("covariate is constant across subjects", column=n)
                                   for n in const])
    X = (Xn - x_mean) / np.where(x_sd > 0, x_sd, 1.0)
    digest = hashlib.sha256(
        df[columns.used()].to_csv(index=False).encode("utf-8")).hexdigest()
    return LongData(columns, subjects, groups, group_idx, sites, site_idx, names, X, Y, T,
                    mask, y_mean, y_sd, t_sd, x_mean, x_sd, digest, n_dropped,
                    {"visits_per_subject": {int(k): int(v) for k, v in
                                            zip(*np.unique(counts, return_counts=True),
                                                strict=True)}})
