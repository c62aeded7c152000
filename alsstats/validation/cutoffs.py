"""Optimal cutoffs and the accuracy of a marker at a cutoff.

Candidate cutoffs are the midpoints between adjacent distinct observed
values (as pROC reports them), so a cutoff never coincides with an
observation; the rule is stated with its direction (``score >= c`` for
``'>'``, ``score < c`` for ``'<'``).

Methods (on the empirical sensitivity Se(c) and specificity Sp(c)):

* ``'youden'``: maximise J = Se + Sp − 1;
* ``'fixed-spec'``: maximise Se subject to Sp ≥ target (ties: higher Sp);
* ``'fixed-sens'``: maximise Sp subject to Se ≥ target (ties: higher Se);
* ``'cost'``: minimise the expected misclassification cost per subject
  ``C = c_FN · π · (1 − Se) + c_FP · (1 − π) · (1 − Sp)`` at prevalence π
  (the sample prevalence unless given).

When several cutoffs reach the same optimum, the middle one (by position,
the lower of the two middles) is returned and all are listed in
``tied_cutoffs`` (cutpointr breaks ties by their median).  Sensitivity and
specificity at a cutoff chosen on the same data are optimistic; see
:mod:`alsstats.validation.stability` and :mod:`alsstats.validation.cv` for
honest estimates.

At a cutoff, :func:`cutoff_performance` reports Se, Sp, PPV, NPV with Wilson
and exact intervals and LR+/LR− with Simel's log intervals; with a
prevalence π, PPV and NPV follow from Bayes' theorem::

    PPV = π LR+ / (π LR+ + 1 − π),   NPV = (1 − π) / (1 − π + π LR−),

and their intervals are the LR intervals carried through these monotone
maps (this is the logit interval of Mercaldo, Lau & Zhou 2007).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from alsstats._choices import CUTOFF_METHODS as METHODS
from alsstats.errors import DataValidationError, Problem
from alsstats.validation._inputs import check_binary, check_direction, oriented, positive_rule
from alsstats.validation._results import Result
from alsstats.validation.intervals import (
    likelihood_ratio_interval,
    proportion_interval,
    z_value,
)
from alsstats.validation.roc import _curve_oriented, resolve_direction

__all__ = ["METHODS", "CutoffPerformance", "OptimalCutoff", "classify", "cutoff_performance",
           "optimal_cutoff", "ppv_npv_by_prevalence"]


def classify(scores: np.ndarray, cutoff: float, direction: str) -> np.ndarray:
    """Boolean calls: ``scores >= cutoff`` for ``'>'``, ``scores < cutoff`` for ``'<'``."""
    return scores >= cutoff if direction == ">" else scores < cutoff


@dataclass(frozen=True)
class _Choice:
    threshold: float  # oriented scale
    sensitivity: float
    specificity: float
    criterion: float
    tied: np.ndarray  # oriented thresholds


def _check_method(method: str, specificity, sensitivity, cost_fp, cost_fn, prevalence) -> None:
    problems = []
    if method not in METHODS:
        problems.append(Problem(f"cutoff method must be one of {', '.join(METHODS)}",
                                value=method))
    if method == "fixed-spec" and not (specificity is not None and 0 < specificity <= 1):
        problems.append(Problem("method 'fixed-spec' needs a specificity in (0, 1]",
                                value=specificity))
    if method == "fixed-sens" and not (sensitivity is not None and 0 < sensitivity <= 1):
        problems.append(Problem("method 'fixed-sens' needs a sensitivity in (0, 1]",
                                value=sensitivity))
    if method == "cost":
        if not (cost_fp > 0 and cost_fn > 0):
            problems.append(Problem("costs must be positive", value=(cost_fp, cost_fn)))
        if prevalence is not None and not 0 < prevalence < 1:
            problems.append(Problem("prevalence must be in (0, 1)", value=prevalence))
    if problems:
        raise DataValidationError(problems)


def _choose(o: np.ndarray, y: np.ndarray, method: str, *, specificity=None, sensitivity=None,
            cost_fp=1.0, cost_fn=1.0, prevalence=None) -> _Choice:
    """Pick the optimal oriented threshold (called positive: ``o > t``) among finite midpoints."""
    thr, tp, fp = _curve_oriented(o, y, None)
    n1, n0 = tp[-1], fp[-1]
    se, sp = tp / n1, 1.0 - fp / n0
    thr, se, sp = thr[1:-1], se[1:-1], sp[1:-1]  # drop ±inf: they are not cutoffs
    if thr.size == 0:
        raise DataValidationError("the marker has a single distinct value: no cutoff exists")
    if method == "youden":
        crit = se + sp - 1.0
        best = crit >= crit.max() - 1e-12
    elif method == "cost":
        prev = n1 / (n1 + n0) if prevalence is None else prevalence
        crit = cost_fn * prev * (1.0 - se) + cost_fp * (1.0 - prev) * (1.0 - sp)
        best = crit <= crit.min() + 1e-12
    else:
        target, a, b = ((specificity, sp, se) if method == "fixed-spec"
                        else (sensitivity, se, sp))
        ok = a >= target - 1e-12
        if not ok.any():
            what = "specificity" if method == "fixed-spec" else "sensitivity"
            raise DataValidationError([Problem(
                f"no cutoff reaches {what} {target}; the highest is {a.max():.4g}")])
        crit = np.where(ok, b, -np.inf)
        best = ok & (crit >= crit.max() - 1e-12)
        best &= a >= a[best].max() - 1e-12  # ties: the better constrained measure
    idx = np.flatnonzero(best)
    i = idx[(idx.size - 1) // 2]
    return _Choice(float(thr[i]), float(se[i]), float(sp[i]), float(crit[i]), thr[idx])


@dataclass
class CutoffPerformance(Result):
    """Accuracy of the rule ``rule`` on the data: 2×2 counts and a metrics table.

    ``table`` has one row per (metric, interval): sensitivity, specificity,
    PPV, NPV with 'wilson' and 'exact' intervals, LR+ and LR− with 'log'
    (Simel) intervals.  PPV/NPV use the sample prevalence unless
    ``prevalence`` was given (then the 'bayes-logit' interval).
    """

    cutoff: float
    direction: str
    rule: str
    tp: int
    fn: int
    tn: int
    fp: int
    prevalence: float | None
    conf_level: float
    table: pd.DataFrame
    lr_continuity_corrected: bool

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def get(self, metric: str, interval: str = "wilson") -> tuple[float, float, float]:
        """``(estimate, lower, upper)`` of ``metric`` with ``interval`` ('log' for LRs)."""
        t = self.table
        row = t[(t["metric"] == metric) & (t["interval"] == interval)]
        if row.empty:
            raise KeyError(f"{metric}/{interval} not in the table")
        r = row.iloc[0]
        return float(r["estimate"]), float(r["lower"]), float(r["upper"])


def _bayes(prev: np.ndarray, lr_pos, lr_neg):
    ppv = prev * lr_pos / (prev * lr_pos + 1.0 - prev)
    npv = (1.0 - prev) / (1.0 - prev + prev * lr_neg)
    return ppv, npv


def _performance(calls: np.ndarray, y: np.ndarray, cutoff: float, direction: str, rule: str,
                 conf_level: float, prevalence: float | None) -> CutoffPerformance:
    tp, fn = int((calls & y).sum()), int((~calls & y).sum())
    tn, fp = int((~calls & ~y).sum()), int((calls & ~y).sum())
    lr = likelihood_ratio_interval(tp, fn, tn, fp, conf_level)
    rows = []
    binomial = [("sensitivity", tp, tp + fn), ("specificity", tn, tn + fp)]
    if prevalence is None:
        binomial += [("ppv", tp, tp + fp), ("npv", tn, tn + fn)]
    for metric, x, n in binomial:
        est = x / n if n > 0 else np.nan
        for method in ("wilson", "exact"):
            lo, hi = proportion_interval(x, n, conf_level, method)
            rows.append((metric, est, float(lo), float(hi), method, n))
    if prevalence is not None:
        p = np.array(prevalence)
        ppv, npv = _bayes(p, lr["lr_pos"], lr["lr_neg"])
        ppv_lo, npv_hi = _bayes(p, lr["lr_pos_lower"], lr["lr_neg_lower"])
        ppv_hi, npv_lo = _bayes(p, lr["lr_pos_upper"], lr["lr_neg_upper"])
        rows.append(("ppv", float(ppv), float(ppv_lo), float(ppv_hi), "bayes-logit", tp + fp))
        rows.append(("npv", float(npv), float(npv_lo), float(npv_hi), "bayes-logit", tn + fn))
    rows.append(("lr_pos", lr["lr_pos"], lr["lr_pos_lower"], lr["lr_pos_upper"], "log",
                 tp + fn + tn + fp))
    rows.append(("lr_neg", lr["lr_neg"], lr["lr_neg_lower"], lr["lr_neg_upper"], "log",
                 tp + fn + tn + fp))
    table = pd.DataFrame(rows, columns=["metric", "estimate", "lower", "upper", "interval", "n"])
    return CutoffPerformance(cutoff=float(cutoff), direction=direction, rule=rule, tp=tp, fn=fn,
                             tn=tn, fp=fp, prevalence=prevalence, conf_level=conf_level,
                             table=table, lr_continuity_corrected=lr["continuity_corrected"])


def cutoff_performance(labels, scores, cutoff: float, *, direction: str,
                       conf_level: float = 0.95, prevalence: float | None = None,
                       name: str = "score") -> CutoffPerformance:
    """Sensitivity, specificity, PPV, NPV, LR+ and LR− of a cutoff, with intervals.

    Parameters
    ----------
    labels, scores : arrays
        Marker values and outcome (True/1 = positive).
    cutoff : float
        The rule calls ``score >= cutoff`` positive for ``direction='>'`` and
        ``score < cutoff`` for ``'<'``.
    direction : {'>', '<', 'auto'}
        Give it for a pre-specified cutoff; ``'auto'`` is detected by AUC.
    prevalence : float, optional
        Target-population prevalence for PPV/NPV (Bayes, with LR-based intervals).
    """
    z_value(conf_level)
    if prevalence is not None and not 0 < prevalence < 1:
        raise DataValidationError([Problem("prevalence must be in (0, 1)", value=prevalence)])
    if not np.isfinite(cutoff):
        raise DataValidationError([Problem("cutoff must be a finite number", value=cutoff)])
    s, y, _ = check_binary(scores, labels, name=name)
    d, _ = resolve_direction(s, y, check_direction(direction))
    return _performance(classify(s, cutoff, d), y, cutoff, d, positive_rule(d, cutoff, name),
                        conf_level, prevalence)


def ppv_npv_by_prevalence(performance: CutoffPerformance, prevalences) -> pd.DataFrame:
    """PPV and NPV of a cutoff across prevalences, with LR-based (logit) intervals."""
    p = np.asarray(prevalences, dtype=float)
    if p.ndim != 1 or ((p <= 0) | (p >= 1)).any():
        raise DataValidationError([Problem("prevalences must lie in (0, 1)")])
    lr = likelihood_ratio_interval(performance.tp, performance.fn, performance.tn,
                                   performance.fp, performance.conf_level)
    ppv, npv = _bayes(p, lr["lr_pos"], lr["lr_neg"])
    ppv_lo, npv_hi = _bayes(p, lr["lr_pos_lower"], lr["lr_neg_lower"])
    ppv_hi, npv_lo = _bayes(p, lr["lr_pos_upper"], lr["lr_neg_upper"])
    return pd.DataFrame({"prevalence": p, "ppv": ppv, "ppv_lower": ppv_lo, "ppv_upper": ppv_hi,
                         "npv": npv, "npv_lower": npv_lo, "npv_upper": npv_hi})


@dataclass
class OptimalCutoff(Result):
    """An optimal cutoff (a midpoint between adjacent observed values) and its in-sample accuracy.

    ``criterion`` is J for 'youden', the maximised Se or Sp for the fixed
    methods and the expected cost for 'cost'.  ``performance`` is measured on
    the same data that chose the cutoff (optimistic).
    """

    cutoff: float
    direction: str
    direction_detected: bool
    rule: str
    method: str
    criterion: float
    sensitivity: float
    specificity: float
    tied_cutoffs: list[float]
    performance: CutoffPerformance
    settings: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.performance.to_frame()


def optimal_cutoff(labels, scores, *, method: str = "youden", direction: str = "auto",
                   specificity: float | None = None, sensitivity: float | None = None,
                   cost_fp: float = 1.0, cost_fn: float = 1.0, prevalence: float | None = None,
                   conf_level: float = 0.95, name: str = "score") -> OptimalCutoff:
    """Optimal cutoff of a marker by Youden, fixed specificity/sensitivity or cost.

    See the module docstring for the criteria and tie handling.  The returned
    cutoff is the midpoint between the two adjacent observed values that
    bracket it, with its rule (e.g. ``'positive if ratio < 0.995'``).
    """
    _check_method(method, specificity, sensitivity, cost_fp, cost_fn, prevalence)
    s, y, _ = check_binary(scores, labels, name=name)
    d, detected = resolve_direction(s, y, direction)
    o = oriented(s, d)
    ch = _choose(o, y, method, specificity=specificity, sensitivity=sensitivity,
                 cost_fp=cost_fp, cost_fn=cost_fn, prevalence=prevalence)
    cut = ch.threshold if d == ">" else -ch.threshold
    tied = sorted(float(t if d == ">" else -t) for t in ch.tied)
    perf = _performance(classify(s, cut, d), y, cut, d, positive_rule(d, cut, name), conf_level,
                        None)
    settings = {"specificity": specificity, "sensitivity": sensitivity, "cost_fp": cost_fp,
                "cost_fn": cost_fn, "prevalence": prevalence}
    return OptimalCutoff(cutoff=float(cut), direction=d, direction_detected=detected,
                         rule=positive_rule(d, cut, name), method=method,
                         criterion=ch.criterion, sensitivity=ch.sensitivity,
                         specificity=ch.specificity, tied_cutoffs=tied, performance=perf,
                         settings=settings)
