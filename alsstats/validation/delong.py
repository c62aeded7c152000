"""DeLong variance and covariance of AUCs, DeLong intervals and tests (DeLong et al. 1988).

For m positives ``X`` and n negatives ``Y`` (oriented scores, higher =
positive) the structural components (placement values) are::

    V10(X_i) = (1/n) Σ_j ψ(X_i, Y_j)      V01(Y_j) = (1/m) Σ_i ψ(X_i, Y_j)

so that AUC = mean(V10) = mean(V01).  Sun & Xu (2014) obtain them in
O(n log n) from midranks: with T_Z the midranks in the pooled sample and
T_X, T_Y the midranks within each class::

    V10(X_i) = (T_Z(X_i) − T_X(X_i)) / n
    V01(Y_j) = 1 − (T_Z(Y_j) − T_Y(Y_j)) / m

For k markers measured on the same subjects, with S10 and S01 the k×k
sample covariance matrices (divisor m − 1 and n − 1) of the V10 and V01
vectors, the DeLong covariance of the AUC estimates is
``S = S10/m + S01/n``.  The 100(1 − α)% interval is ``AUC ± z_{α/2} √S``
on the AUC scale, clipped to [0, 1].  Two correlated AUCs are compared by
``z = (A₁ − A₂)/√(S₁₁ + S₂₂ − 2S₁₂)``; k ≥ 3 AUCs by the Wald statistic
``(Lθ)ᵀ(L S Lᵀ)⁻¹(Lθ) ~ χ²_{rank L}`` for a contrast matrix ``L``, with
pairwise (or per-contrast) z tests and Holm-adjusted p-values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alsstats import _gauss
from alsstats.errors import DataValidationError, Problem
from alsstats.validation._inputs import check_binary, check_direction, oriented
from alsstats.validation._results import Result
from alsstats.validation.intervals import z_value
from alsstats.validation.roc import resolve_direction

__all__ = ["AUCComparison", "AUCInterval", "PairedAUCTest", "compare_aucs", "delong_ci",
           "delong_covariance", "delong_test", "holm_adjust", "midranks"]


def midranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks of ``x`` with tied values given the mean of their ranks (O(n log n))."""
    order = np.argsort(x)
    xs = x[order]
    n = x.size
    starts = np.flatnonzero(np.concatenate([[True], xs[1:] != xs[:-1]]))
    ends = np.concatenate([starts[1:], [n]])
    out = np.empty(n)
    out[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return out


def _placements(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sun–Xu placement values V10 (per positive) and V01 (per negative) of one marker."""
    m, n = pos.size, neg.size
    tz = midranks(np.concatenate([pos, neg]))
    v10 = (tz[:m] - midranks(pos)) / n
    v01 = 1.0 - (tz[m:] - midranks(neg)) / m
    return v10, v01


def _directions(direction, k: int) -> list[str]:
    dirs = [direction] * k if isinstance(direction, str) else list(direction)
    if len(dirs) != k:
        raise DataValidationError([Problem(f"give one direction or {k} directions",
                                           value=direction)])
    return [check_direction(d) for d in dirs]


def _stack(scores, labels, direction) -> tuple[np.ndarray, np.ndarray, list[str], list[bool]]:
    """Validate k markers on the same observations; return oriented (k, N) scores."""
    rows = [np.asarray(s) for s in scores]
    if len(rows) == 0:
        raise DataValidationError("at least one marker is needed")
    dirs = _directions(direction, len(rows))
    out, used, detected = [], [], []
    y = None
    for i, r in enumerate(rows):
        s, y, _ = check_binary(r, labels, name=f"marker {i}", min_per_class=2)
        d, det = resolve_direction(s, y, dirs[i])
        out.append(oriented(s, d))
        used.append(d)
        detected.append(det)
    return np.vstack(out), y, used, detected


def delong_covariance(labels, scores, *, direction="auto") -> tuple[np.ndarray, np.ndarray]:
    """AUCs and their DeLong covariance matrix for k markers on the same observations.

    Parameters
    ----------
    labels : array of bool or 0/1
    scores : sequence of k arrays (or a (k, N) array)
        Marker values, one row per marker, aligned on the same observations.
    direction : str or sequence of str
        One direction for all markers or one per marker (see ``_inputs``).

    Returns
    -------
    aucs : (k,) array
    cov : (k, k) array, ``S10/m + S01/n``
    """
    o, y, _, _ = _stack(scores, labels, direction)
    return _delong_from_oriented(o, y)


def _delong_from_oriented(o: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m, n = int(y.sum()), int((~y).sum())
    v10 = np.empty((o.shape[0], m))
    v01 = np.empty((o.shape[0], n))
    for r in range(o.shape[0]):
        v10[r], v01[r] = _placements(o[r, y], o[r, ~y])
    aucs = v10.mean(axis=1)
    cov = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return aucs, cov


@dataclass
class AUCInterval(Result):
    """An AUC with its confidence interval (``method`` 'delong' or 'bootstrap')."""

    auc: float
    lower: float
    upper: float
    se: float
    conf_level: float
    method: str
    n_positive: int
    n_negative: int
    direction: str
    direction_detected: bool
    n_boot: int | None = None


def delong_ci(labels, scores, *, direction: str = "auto", conf_level: float = 0.95) -> AUCInterval:
    """AUC with the DeLong confidence interval ``AUC ± z √Var`` (clipped to [0, 1]).

    The variance is DeLong's, from Sun & Xu's midrank placement values in
    O(n log n); it agrees with pROC's ``ci.auc(method = "delong")``.
    """
    z = z_value(conf_level)
    o, y, dirs, det = _stack([scores], labels, direction)
    aucs, cov = _delong_from_oriented(o, y)
    a, se = float(aucs[0]), float(np.sqrt(max(cov[0, 0], 0.0)))
    return AUCInterval(auc=a, lower=max(0.0, a - z * se), upper=min(1.0, a + z * se), se=se,
                       conf_level=conf_level, method="delong", n_positive=int(y.sum()),
                       n_negative=int((~y).sum()), direction=dirs[0], direction_detected=det[0])


def _z_test(diff: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z and two-sided p; a zero-variance contrast with zero difference gives z = 0, p = 1."""
    se = np.sqrt(np.clip(var, 0.0, None))
    tiny = 1e-14
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > tiny, diff / np.where(se > tiny, se, 1.0),
                     np.where(np.abs(diff) > tiny, np.sign(diff) * np.inf, 0.0))
    p = 2.0 * _gauss.sf_array(np.abs(z))
    return se, z, p


@dataclass
class PairedAUCTest(Result):
    """DeLong test of two correlated AUCs (same observations).

    ``z = (auc1 − auc2)/se``; ``p_value`` is two-sided; ``lower``/``upper``
    bound the difference.  When both markers rank every pair identically the
    difference and its variance are 0 and the test reports z = 0, p = 1.
    """

    auc1: float
    auc2: float
    difference: float
    se: float
    z: float
    p_value: float
    lower: float
    upper: float
    correlation: float
    conf_level: float
    n_positive: int
    n_negative: int
    directions: tuple[str, str]
    directions_detected: tuple[bool, bool]


def delong_test(labels, scores1, scores2, *, direction="auto",
                conf_level: float = 0.95) -> PairedAUCTest:
    """Paired DeLong test of H₀: AUC₁ = AUC₂ for two markers on the same observations.

    ``direction`` is one value for both markers or a pair.  Fast enough for
    simulation loops (O(n log n) per call; pass explicit directions there).
    """
    z_crit = z_value(conf_level)
    o, y, dirs, det = _stack([scores1, scores2], labels, direction)
    aucs, cov = _delong_from_oriented(o, y)
    diff = float(aucs[0] - aucs[1])
    se, z, p = _z_test(np.array(diff), np.array(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]))
    denom = np.sqrt(cov[0, 0] * cov[1, 1])
    corr = float(cov[0, 1] / denom) if denom > 0 else float("nan")
    return PairedAUCTest(auc1=float(aucs[0]), auc2=float(aucs[1]), difference=diff,
                         se=float(se), z=float(z), p_value=float(p),
                         lower=diff - z_crit * float(se), upper=diff + z_crit * float(se),
                         correlation=corr, conf_level=conf_level, n_positive=int(y.sum()),
                         n_negative=int((~y).sum()), directions=(dirs[0], dirs[1]),
                         directions_detected=(det[0], det[1]))


def holm_adjust(p) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values."""
    p = np.asarray(p, dtype=float)
    k = p.size
    order = np.argsort(p)
    adj = np.minimum(1.0, np.maximum.accumulate((k - np.arange(k)) * p[order]))
    out = np.empty(k)
    out[order] = adj
    return out


@dataclass
class AUCComparison(Result):
    """Joint DeLong comparison of k correlated AUCs.

    ``chi2``/``df``/``p_value`` test that all contrasts are zero (by default,
    that all AUCs are equal).  ``contrasts`` is a table with one row per
    contrast (pairwise differences by default): estimate, se, z, p, Holm
    p and confidence limits.
    """

    markers: list[str]
    aucs: np.ndarray
    covariance: np.ndarray
    chi2: float
    df: int
    p_value: float
    contrasts: pd.DataFrame
    conf_level: float
    directions: list[str]
    directions_detected: list[bool]

    def to_frame(self) -> pd.DataFrame:
        se = np.sqrt(np.diag(self.covariance))
        return pd.DataFrame({"marker": self.markers, "auc": self.aucs, "se": se,
                             "direction": self.directions,
                             "direction_detected": self.directions_detected})


def compare_aucs(labels, scores, *, markers: list[str] | None = None, direction="auto",
                 contrasts=None, conf_level: float = 0.95) -> AUCComparison:
    """Compare k ≥ 2 correlated AUCs with the DeLong covariance matrix.

    Parameters
    ----------
    labels : array of bool or 0/1
    scores : mapping name → array, or sequence of arrays
        Markers on the same observations.
    markers : list of str, optional
        Names (taken from the mapping's keys when ``scores`` is a mapping).
    direction : str or sequence of str
    contrasts : (c, k) array, optional
        Rows of ``L``; default all k(k−1)/2 pairwise differences.  The joint
        χ² uses ``L`` (its rank as df); by default its rank is k − 1, i.e.
        the test that all AUCs are equal.
    """
    if isinstance(scores, dict):
        markers = list(scores) if markers is None else markers
        scores = list(scores.values())
    scores = list(scores)
    from scipy.stats import chi2 as chi2_dist  # loaded here only: SciPy's import is slow

    k = len(scores)
    if k < 2:
        raise DataValidationError("compare_aucs needs at least two markers")
    markers = [f"marker_{i}" for i in range(k)] if markers is None else list(markers)
    z_crit = z_value(conf_level)
    o, y, dirs, det = _stack(scores, labels, direction)
    aucs, cov = _delong_from_oriented(o, y)
    if contrasts is None:
        pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
        L = np.zeros((len(pairs), k))
        for r, (i, j) in enumerate(pairs):
            L[r, i], L[r, j] = 1.0, -1.0
        names = [f"{markers[i]} - {markers[j]}" for i, j in pairs]
    else:
        L = np.atleast_2d(np.asarray(contrasts, dtype=float))
        if L.shape[1] != k:
            raise DataValidationError([Problem(f"contrasts need {k} columns", value=L.shape)])
        names = [f"contrast {r}" for r in range(L.shape[0])]
    est = L @ aucs
    lcl = L @ cov @ L.T
    se, z, p = _z_test(est, np.diag(lcl))
    df = int(np.linalg.matrix_rank(L))
    chi2 = float(est @ np.linalg.pinv(lcl) @ est)
    table = pd.DataFrame({"contrast": names, "estimate": est, "se": se, "z": z, "p_value": p,
                          "p_holm": holm_adjust(p), "lower": est - z_crit * se,
                          "upper": est + z_crit * se})
    return AUCComparison(markers=markers, aucs=aucs, covariance=cov, chi2=chi2, df=df,
                         p_value=float(chi2_dist.sf(chi2, df)), contrasts=table,
                         conf_level=conf_level, directions=dirs, directions_detected=det)
