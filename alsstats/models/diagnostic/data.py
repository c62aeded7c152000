"""Data preparation for the diagnostic model: baseline rows, labels, transforms, standardisation.

Everything data-driven (marker centre and scale, age centre, the site list,
class frequencies) is learned from the training table only, inside ``fit``,
so cross-validation stays clean.  A missing marker stays NaN here: the model
marginalises it and never imputes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alsstats.errors import DataValidationError, Problem
from alsstats.models.diagnostic.spec import RATIO_METABOLITES, DiagnosticSpec
from alsstats.schema import (
    GROUPS,
    MODALITIES,
    NEAR_CONSTANT_RTOL,
    baseline_rows,
    is_near_constant,
)

__all__ = [
    "AGE_SCALE_YEARS",
    "Design",
    "Standardization",
    "baseline_table",
    "class_labels",
    "encode",
    "fit_standardization",
    "measurement_variance",
    "modalities",
    "modality_available",
    "observed_patterns",
    "pattern_log_likelihood",
    "recorded_groups",
]

#: Age enters the model per decade.
AGE_SCALE_YEARS = 10.0


@dataclass(frozen=True)
class Standardization:
    """Training-data centre and scale of each transformed marker, and the age centre."""

    center: np.ndarray
    scale: np.ndarray
    age_center: float


@dataclass(frozen=True)
class Design:
    """Model-ready arrays for ``n`` subjects (one row each).

    ``y`` (n, M): standardised transformed markers, NaN where missing;
    ``x`` (n, C): covariates (age per decade from the training mean; sex
    F = -0.5, M = +0.5); ``site`` (n,): index into the training site list,
    -1 for a site not seen in training; ``subject_id`` (n,); ``me_var``
    (n, M, M): each subject's known measurement-error covariance on the
    standardised scale (:func:`measurement_variance`; zero where a marker is
    missing or has no known error), ``None`` when the spec has
    ``measurement_error = "none"``.
    """

    subject_id: np.ndarray
    y: np.ndarray
    x: np.ndarray
    site: np.ndarray
    me_var: np.ndarray | None = None


def baseline_table(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a cohort table and keep each subject's earliest visit (visit 0 = baseline).

    The column ``_source_row`` holds the row's position in ``df``
    (:func:`alsstats.schema.baseline_rows`).

    Raises
    ------
    DataValidationError
        If the table breaks the cohort schema or has no rows.
    """
    return baseline_rows(df)


def recorded_groups(base: pd.DataFrame, y=None, n_rows: int | None = None) -> np.ndarray:
    """Each baseline subject's recorded cohort group (``y`` overrides the ``group`` column).

    ``y`` (optional): one label per row of the original table (``n_rows``),
    constant within a subject, each a cohort group label (HC, MIMIC, PMA, ALS).
    """
    if y is None:
        return base["group"].astype(str).to_numpy()
    labels = pd.Series(np.asarray(y, dtype=object).ravel())
    if n_rows is not None and len(labels) != n_rows:
        raise DataValidationError(f"y has {len(labels)} labels but the table has {n_rows} "
                                  "rows; give one label per row")
    bad = ~labels.isin(GROUPS).to_numpy(bool)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise DataValidationError([Problem(f"unknown label; expected one of "
                                           f"{', '.join(GROUPS)}", "y", int(r),
                                           labels.iloc[r]) for r in rows])
    return labels.iloc[base["_source_row"].to_numpy()].astype(str).to_numpy()


def class_labels(base: pd.DataFrame, spec: DiagnosticSpec,
                 groups: np.ndarray | None = None) -> np.ndarray:
    """Class index of each baseline subject (-1: not used in the fit, e.g. PMA when excluded).

    ``groups``: the recorded groups (:func:`recorded_groups`); default: the ``group``
    column.
    """
    groups = recorded_groups(base) if groups is None else groups
    mapping = spec.group_to_class()
    index = {c: k for k, c in enumerate(spec.classes)}
    return np.array([index.get(mapping[g], -1) if mapping[g] is not None else -1
                     for g in groups], dtype=np.int64)


def transformed_markers(base: pd.DataFrame, spec: DiagnosticSpec) -> np.ndarray:
    """(n, M) markers on the model's scale (log or identity), NaN where missing."""
    cols = []
    for m in spec.markers:
        v = base[m.name].to_numpy(dtype=float)
        cols.append(np.log(v) if m.transform == "log" else v)
    return np.column_stack(cols)


def fit_standardization(base: pd.DataFrame, spec: DiagnosticSpec) -> Standardization:
    """Centre and scale of each transformed marker over the training subjects that have it."""
    raw = transformed_markers(base, spec)
    problems = []
    for j, name in enumerate(spec.marker_names):
        n_obs = int(np.isfinite(raw[:, j]).sum())
        if n_obs < 3:
            problems.append(Problem(f"marker has {n_obs} observed training values; at least 3 "
                                    "are needed to standardise it", name))
    if problems:
        raise DataValidationError(problems)
    center = np.nanmean(raw, axis=0)
    scale = np.nanstd(raw, axis=0, ddof=1)
    # Relative, not `scale > 0`: values equal up to rounding give a scale of ~1e-15 that
    # standardises noise into huge numbers (a model that cannot sample).
    flat = [spec.marker_names[j] for j in range(raw.shape[1])
            if not scale[j] > 0 or is_near_constant(raw[:, j])]
    if flat:
        raise DataValidationError([Problem(
            f"marker is constant in the training data (relative spread <= "
            f"{NEAR_CONSTANT_RTOL:g} on its modelled scale)", n) for n in flat])
    return Standardization(center=center, scale=scale,
                           age_center=float(base["age"].mean()))


def measurement_variance(base: pd.DataFrame, spec: DiagnosticSpec, std: Standardization,
                         rows: np.ndarray | None = None) -> np.ndarray:
    r"""(n, M, M) known measurement-error covariance of each subject's standardised markers.

    LCModel's Cramér–Rao lower bound :math:`c_a` (column ``<a>_crlb``, in %) is taken as
    the SD of the measured concentration of metabolite :math:`a` relative to its value:
    :math:`\hat a = a (1 + \varepsilon_a)`, :math:`\mathrm{SD}(\varepsilon_a) =
    c_a / 100`, errors independent across metabolites.  To first order (delta method),
    :math:`\log \hat a = \log a + \varepsilon_a`, so for the log ratio markers

    .. math::

        e_{\mathrm{glu/naa}} = \varepsilon_{glu} - \varepsilon_{naa},\qquad
        e_{\mathrm{glu/gaba}} = \varepsilon_{glu} - \varepsilon_{gaba},

        \mathrm{var}\,e_{a/b} = (c_a/100)^2 + (c_b/100)^2,\qquad
        \mathrm{cov}(e_{\mathrm{glu/naa}}, e_{\mathrm{glu/gaba}})
            = \mathrm{var}\,\varepsilon_{glu} = (c_{glu}/100)^2,

    the covariance coming from the glutamate shared by the two ratios.  On the model's
    standardised scale (marker :math:`j` divided by its training scale :math:`s_j`)
    entry :math:`(j, l)` is divided by :math:`s_j s_l`.  Markers without known error
    (everything but the spec's MRS ratios) and missing markers get 0 rows and
    columns.  The measured markers of subject :math:`i` of class :math:`k` then have
    covariance :math:`\Sigma_k + V_i` (the measurement error is independent of the
    biological variation).

    ``rows`` (n,): row numbers to name in errors (default 0..n-1).

    Raises
    ------
    DataValidationError
        If a CRLB column is absent, or a CRLB is missing, not a number or not > 0 where
        the ratio that needs it is observed.
    """
    n, names = len(base), spec.marker_names
    rows = np.arange(n) if rows is None else np.asarray(rows)
    out = np.zeros((n, len(names), len(names)))
    if not spec.error_markers:
        return out
    needed = sorted({f"{m}_crlb" for r in spec.error_markers for m in RATIO_METABOLITES[r]})
    absent = [c for c in needed if c not in base.columns]
    if absent:
        raise DataValidationError([Problem(
            "required column missing: measurement_error = 'crlb' needs each MRS ratio's "
            "CRLB (% SD of the metabolite's concentration)", c) for c in absent])
    crlb = {c: pd.to_numeric(base[c], errors="coerce").to_numpy(float) for c in needed}
    raw = {c: base[c].to_numpy(dtype=object) for c in needed}
    problems = []
    rel = {}                                           # marker index -> observed rows
    for r in spec.error_markers:
        j = names.index(r)
        observed = np.isfinite(pd.to_numeric(base[r], errors="coerce").to_numpy(float))
        for metabolite in RATIO_METABOLITES[r]:
            c = f"{metabolite}_crlb"
            bad = observed & ~(crlb[c] > 0)
            problems += [Problem(f"CRLB must be a number > 0 (%) where {r} is observed "
                                 "(measurement_error = 'crlb')", c, int(rows[i]), raw[c][i])
                         for i in np.flatnonzero(bad)]
        rel[j] = observed
    if problems:
        unique = {(p.row, p.column): p for p in problems}     # glu_crlb: once per row
        raise DataValidationError([unique[key] for key in sorted(unique)])
    var = {m: np.nan_to_num(crlb[f"{m}_crlb"] / 100.0) ** 2
           for m in {m for r in spec.error_markers for m in RATIO_METABOLITES[r]}}
    for r in spec.error_markers:
        j = names.index(r)
        for r2 in spec.error_markers:
            l2 = names.index(r2)
            shared = set(RATIO_METABOLITES[r]) & set(RATIO_METABOLITES[r2])
            # var(eps_a - eps_b) on the diagonal; var of the shared metabolite off it
            # (both ratios have it in the numerator, so the sign is +).
            v = sum(var[m] for m in (RATIO_METABOLITES[r] if r == r2 else shared))
            both = rel[j] & rel[l2]
            out[:, j, l2] = np.where(both, v, 0.0) / (std.scale[j] * std.scale[l2])
    return out


def encode(base: pd.DataFrame, spec: DiagnosticSpec, std: Standardization,
           sites: tuple[str, ...], rows: np.ndarray | None = None) -> Design:
    """Turn baseline rows into model arrays using a training standardisation and site list.

    ``rows``: row numbers of ``base`` to name in errors (default: its
    ``_source_row`` column when present, else 0..n-1).
    """
    y = (transformed_markers(base, spec) - std.center) / std.scale
    cols = []
    for c in spec.covariates:
        if c == "age":
            cols.append((base["age"].to_numpy(float) - std.age_center) / AGE_SCALE_YEARS)
        else:
            cols.append(np.where(base["sex"].astype(str).to_numpy() == "M", 0.5, -0.5))
    x = np.column_stack(cols) if cols else np.zeros((len(base), 0))
    site_index = {s: i for i, s in enumerate(sites)}
    site = np.array([site_index.get(s, -1) for s in base["site"].astype(str)], dtype=np.int64)
    me_var = None
    if spec.measurement_error != "none":
        if rows is None and "_source_row" in base.columns:
            rows = base["_source_row"].to_numpy()
        me_var = measurement_variance(base, spec, std, rows)
    return Design(subject_id=base["subject_id"].astype(str).to_numpy(), y=y, x=x, site=site,
                  me_var=me_var)


def observed_patterns(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct observed-marker masks and each row's pattern index.

    Returns ``masks`` (P, M) bool (True = observed), sorted with the most
    complete pattern first, and ``which`` (n,) with the row's pattern.
    """
    obs = np.isfinite(y)
    masks, which = np.unique(obs, axis=0, return_inverse=True)
    order = np.lexsort((np.arange(len(masks)), -masks.sum(axis=1)))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return masks[order], rank[np.ravel(which)]


def modalities(spec: DiagnosticSpec) -> tuple[str, ...]:
    """The modalities (``mrs``, ``smri``, ``blood``, ``fmri``) the spec's markers come from."""
    return tuple(mod for mod, cols in MODALITIES.items()
                 if any(name in cols for name in spec.marker_names))


def modality_available(y: np.ndarray, spec: DiagnosticSpec) -> np.ndarray:
    """(n, J) bool: at least one of the spec's markers of modality j is observed."""
    obs = np.isfinite(y)
    names = spec.marker_names
    return np.column_stack([
        obs[:, [j for j, name in enumerate(names) if name in MODALITIES[mod]]].any(axis=1)
        for mod in modalities(spec)])


def pattern_log_likelihood(available: np.ndarray, counts: np.ndarray,
                           class_sizes: np.ndarray) -> np.ndarray:
    r"""(n, K) log P(modality pattern | class) under the class-dependent missingness model.

    Modality :math:`j` is available for a subject of class :math:`k` with probability
    :math:`\theta_{kj}`, independently over modalities, :math:`\theta_{kj} \sim
    \mathrm{Beta}(1, 1)`.  With :math:`a_{kj}` of the :math:`n_k` training subjects of
    class :math:`k` having modality :math:`j`, the posterior predictive probability of
    a new patient's pattern :math:`r` is exactly
    :math:`\prod_j \hat\theta_{kj}^{r_j}(1 - \hat\theta_{kj})^{1 - r_j}` with
    :math:`\hat\theta_{kj} = (a_{kj} + 1)/(n_k + 2)`.

    ``available`` (n, J) bool, ``counts`` (K, J) = :math:`a_{kj}`, ``class_sizes`` (K,).
    """
    theta = (np.asarray(counts, float) + 1.0) / (np.asarray(class_sizes, float)[:, None] + 2.0)
    r = np.asarray(available, float)
    return r @ np.log(theta).T + (1.0 - r) @ np.log1p(-theta).T
