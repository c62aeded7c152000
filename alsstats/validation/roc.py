"""Empirical ROC curve, AUC (Mann–Whitney, ties exact, case weights) and partial AUC.

For positives (cases) with oriented scores ``x_i`` and weights ``u_i`` and
negatives (controls) ``y_j`` with weights ``v_j``, the AUC is the
(weighted) Mann–Whitney statistic::

    AUC = Σ_i Σ_j u_i v_j ψ(x_i, y_j) / (Σ u_i · Σ v_j),
    ψ(x, y) = 1 if x > y, 1/2 if x = y, 0 otherwise,

i.e. P(X > Y) + ½ P(X = Y).  With unit weights this is U/(n₁ n₀).  It is
computed in O(n log n) by sorting the negatives and counting, for each
positive, the (weighted) negatives below and tied with it; it equals the
trapezoidal area under the empirical ROC curve, whose tied points are
joined by straight segments.

Thresholds of the curve are midpoints between adjacent distinct observed
values, plus ±∞ at the ends (as in pROC).  See :mod:`alsstats.validation._inputs`
for *direction*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alsstats.errors import DataValidationError, Problem
from alsstats.random import SeedLike, as_generator
from alsstats.validation._inputs import check_binary, check_direction, oriented
from alsstats.validation._results import Result
from alsstats.validation.intervals import z_value

__all__ = ["PartialAUC", "ROCCurve", "auc", "partial_auc", "resolve_direction", "roc_curve"]


def _auc_oriented(s: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float:
    """Weighted Mann–Whitney AUC of oriented scores (higher = positive)."""
    neg = s[~y]
    order = np.argsort(neg, kind="stable")
    neg = neg[order]
    wn = np.ones(neg.size) if w is None else w[~y][order]
    cw = np.concatenate([[0.0], np.cumsum(wn)])
    pos = s[y]
    wp = np.ones(pos.size) if w is None else w[y]
    lo = np.searchsorted(neg, pos, side="left")
    hi = np.searchsorted(neg, pos, side="right")
    below = cw[lo]
    tied = cw[hi] - cw[lo]
    return float(np.dot(wp, below + 0.5 * tied) / (wp.sum() * cw[-1]))


def resolve_direction(s: np.ndarray, y: np.ndarray, direction: str,
                      w: np.ndarray | None = None) -> tuple[str, bool]:
    """Return ``(direction, detected)``; ``'auto'`` picks the side with AUC ≥ 0.5."""
    check_direction(direction)
    if direction != "auto":
        return direction, False
    return (">" if _auc_oriented(s, y, w) >= 0.5 else "<"), True


def auc(labels, scores, *, direction: str = "auto", weights=None) -> float:
    """Area under the empirical ROC curve (Mann–Whitney U/(n₁n₀), ties count ½).

    Parameters
    ----------
    labels : array of bool or 0/1
        True/1 for the positive class.
    scores : array of float
        Marker values.
    direction : {'auto', '>', '<'}
        ``'>'``: positives have higher values; ``'<'``: lower; ``'auto'``: the
        side with AUC ≥ 0.5.
    weights : array of float, optional
        Case weights (e.g. inverse sampling fractions); see the module docstring.
    """
    s, y, w = check_binary(scores, labels, weights)
    d, _ = resolve_direction(s, y, direction, w)
    return _auc_oriented(oriented(s, d), y, w)


@dataclass
class ROCCurve(Result):
    """Empirical ROC curve, from (FPR 0, TPR 0) to (1, 1).

    ``thresholds`` are on the marker's own scale; with ``direction='>'`` a point
    calls ``score >= threshold`` positive, with ``'<'`` ``score < threshold``.
    ``tp``/``fp`` are (weighted) counts called positive at each threshold.
    """

    thresholds: np.ndarray
    sensitivity: np.ndarray
    specificity: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    n_positive: float
    n_negative: float
    auc: float
    direction: str
    direction_detected: bool

    @property
    def fpr(self) -> np.ndarray:
        return 1.0 - self.specificity

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "threshold": self.thresholds, "sensitivity": self.sensitivity,
            "specificity": self.specificity, "tp": self.tp, "fp": self.fp,
            "fn": self.n_positive - self.tp, "tn": self.n_negative - self.fp,
            "youden": self.sensitivity + self.specificity - 1.0,
        })


def _curve_oriented(s: np.ndarray, y: np.ndarray, w: np.ndarray | None):
    """Oriented thresholds (descending, +inf first) and weighted TP/FP counts at each."""
    values, inverse = np.unique(s, return_inverse=True)
    wt = np.ones(s.size) if w is None else w
    pos_w = np.bincount(inverse, weights=wt * y, minlength=values.size)
    neg_w = np.bincount(inverse, weights=wt * ~y, minlength=values.size)
    # Called positive: s > t.  Walking thresholds downward adds values from the top.
    tp = np.concatenate([[0.0], np.cumsum(pos_w[::-1])])
    fp = np.concatenate([[0.0], np.cumsum(neg_w[::-1])])
    mids = (values[1:] + values[:-1]) / 2.0
    thr = np.concatenate([[np.inf], mids[::-1], [-np.inf]])
    return thr, tp, fp


def roc_curve(labels, scores, *, direction: str = "auto", weights=None) -> ROCCurve:
    """Empirical ROC curve with midpoint thresholds and the AUC.

    Returns an :class:`ROCCurve` whose points run from FPR 0 to FPR 1; its
    trapezoidal area equals :func:`auc` exactly (ties give diagonal segments).
    """
    s, y, w = check_binary(scores, labels, weights)
    d, detected = resolve_direction(s, y, direction, w)
    o = oriented(s, d)
    thr, tp, fp = _curve_oriented(o, y, w)
    n1, n0 = tp[-1], fp[-1]
    thresholds = thr if d == ">" else -thr
    # Oriented "o > t" is raw "s >= t" for '>' (t is never an observed value except ±inf)
    # and raw "s < -t" for '<'; at the ends the rule calls nobody / everybody positive.
    return ROCCurve(thresholds=thresholds, sensitivity=tp / n1, specificity=1.0 - fp / n0,
                    tp=tp, fp=fp, n_positive=float(n1), n_negative=float(n0),
                    auc=_auc_oriented(o, y, w), direction=d, direction_detected=detected)


@dataclass
class PartialAUC(Result):
    """Partial AUC over specificities ``[spec_low, spec_high]``.

    ``lower``/``upper`` are the stratified-bootstrap percentile interval of
    ``pauc`` when ``n_boot > 0`` (NaN otherwise).

    ``standardized`` is McClish's (1989) rescaling to [0.5, 1]:
    ``½(1 + (pAUC − min)/(max − min))`` with ``min = (b² − a²)/2`` (the chance
    diagonal) and ``max = b − a`` for the FPR range ``[a, b] = [1 − spec_high,
    1 − spec_low]``.
    """

    pauc: float
    standardized: float
    spec_low: float
    spec_high: float
    auc: float
    direction: str
    direction_detected: bool
    lower: float = float("nan")
    upper: float = float("nan")
    conf_level: float | None = None
    n_boot: int = 0


def _area_between(fpr: np.ndarray, tpr: np.ndarray, a: float, b: float) -> float:
    """∫_a^b TPR(f) df along the piecewise-linear curve through (fpr, tpr); steps allowed."""
    x0, x1, y0, y1 = fpr[:-1], fpr[1:], tpr[:-1], tpr[1:]
    keep = x1 > x0
    x0, x1, y0, y1 = x0[keep], x1[keep], y0[keep], y1[keep]
    lo = np.clip(x0, a, b)
    hi = np.clip(x1, a, b)
    slope = (y1 - y0) / (x1 - x0)
    ylo = y0 + slope * (lo - x0)
    yhi = y0 + slope * (hi - x0)
    return float(np.sum((hi - lo) * (ylo + yhi) / 2.0))


def _pauc_oriented(o: np.ndarray, y: np.ndarray, w: np.ndarray | None, a: float,
                   b: float) -> float:
    _, tp, fp = _curve_oriented(o, y, w)
    return _area_between(fp / fp[-1], tp / tp[-1], a, b)


def partial_auc(labels, scores, *, specificity: tuple[float, float] = (0.8, 1.0),
                direction: str = "auto", weights=None, n_boot: int = 0,
                conf_level: float = 0.95, seed: SeedLike = None) -> PartialAUC:
    """Partial area under the empirical ROC curve over a specificity range.

    pAUC = ∫ TPR(f) df over FPR f from ``1 − spec_high`` to ``1 − spec_low``,
    on the piecewise-linear empirical curve (exact for the trapezoid rule).
    Returns :class:`PartialAUC` with McClish's standardised value and, with
    ``n_boot > 0``, a stratified-bootstrap percentile interval (positives and
    negatives resampled separately; the direction is fixed on the full data).
    """
    lo_s, hi_s = (float(v) for v in specificity)
    if not 0 <= lo_s < hi_s <= 1:
        raise DataValidationError([Problem(
            "specificity range must satisfy 0 <= low < high <= 1", value=(lo_s, hi_s))])
    s, y, w = check_binary(scores, labels, weights)
    d, detected = resolve_direction(s, y, direction, w)
    o = oriented(s, d)
    a, b = 1.0 - hi_s, 1.0 - lo_s
    pauc = _pauc_oriented(o, y, w, a, b)
    pmin, pmax = (b**2 - a**2) / 2.0, b - a
    std = 0.5 * (1.0 + (pauc - pmin) / (pmax - pmin))
    lower = upper = float("nan")
    if n_boot:
        z_value(conf_level)
        rng = as_generator(seed)
        pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
        reps = np.empty(int(n_boot))
        for i in range(int(n_boot)):
            idx = np.concatenate([rng.choice(pos, pos.size), rng.choice(neg, neg.size)])
            reps[i] = _pauc_oriented(o[idx], y[idx], None if w is None else w[idx], a, b)
        lower, upper = (float(v) for v in np.quantile(
            reps, [(1 - conf_level) / 2, (1 + conf_level) / 2]))
    return PartialAUC(pauc=pauc, standardized=std, spec_low=lo_s, spec_high=hi_s,
                      auc=_auc_oriented(o, y, w), direction=d, direction_detected=detected,
                      lower=lower, upper=upper, conf_level=conf_level if n_boot else None,
                      n_boot=int(n_boot))
