"""Calibration and clinical utility of predicted probabilities.

For outcomes y_i ∈ {0, 1} and predicted probabilities p_i:

* Brier score ``B = mean((p − y)²)``; scaled Brier ``1 − B / (ȳ(1 − ȳ))``.
* Logistic recalibration on the linear predictor ``lp = logit(p)``
  (p clipped to [1e-12, 1 − 1e-12]): the calibration slope ``b`` from
  ``logit P(y = 1) = a + b·lp`` and the calibration intercept
  (calibration-in-the-large) ``a₀`` from ``logit P(y = 1) = a₀ + lp``
  (slope fixed at 1, lp as offset).  Perfect calibration: a₀ = 0, b = 1.
  Fitted by Newton–Raphson; Wald intervals from the observed information.
* Reliability curve: predictions binned (equal-count ``'quantile'`` bins or
  equal-width ``'uniform'`` bins); per bin the mean prediction and the
  observed proportion with a Wilson interval.
* Decision curve (Vickers & Elkin 2006): at threshold probability pₜ, with
  "treat" meaning ``p ≥ pₜ``, ``NB = TP/n − FP/n · pₜ/(1 − pₜ)``; treat-all
  ``NB = π − (1 − π) pₜ/(1 − pₜ)`` and treat-none ``NB = 0``.  With ``n_boot``, a
  percentile bootstrap interval (resampling subjects) for the model's net benefit at
  each threshold: a replicate's TP and FP counts come from cumulative sums of its
  multinomial subject weights in order of decreasing ``p``, so a replicate costs O(n).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alsstats.errors import DataValidationError, Problem
from alsstats.random import SeedLike, as_generator
from alsstats.validation._inputs import check_binary
from alsstats.validation._results import Result
from alsstats.validation.intervals import wilson_interval, z_value

__all__ = ["CalibrationSummary", "DecisionCurve", "calibration_summary", "decision_curve"]

_EPS = 1e-12


def _check_probabilities(y, p) -> tuple[np.ndarray, np.ndarray]:
    p, yb, _ = check_binary(p, y, name="probabilities")
    if ((p < 0) | (p > 1)).any():
        raise DataValidationError([Problem("predicted probabilities must lie in [0, 1]",
                                           column="probabilities",
                                           value=float(p[(p < 0) | (p > 1)][0]))])
    return yb.astype(float), p


def _logistic(X: np.ndarray, y: np.ndarray, offset: np.ndarray,
              max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Newton–Raphson logistic regression with an offset; returns (beta, covariance)."""
    beta = np.zeros(X.shape[1])

    def loglik(b):
        eta = offset + X @ b
        return float(np.sum(y * eta - np.logaddexp(0.0, eta)))

    ll = loglik(beta)
    for _ in range(max_iter):
        mu = 1.0 / (1.0 + np.exp(-(offset + X @ beta)))
        grad = X.T @ (y - mu)
        info = (X * (mu * (1 - mu))[:, None]).T @ X
        step = np.linalg.solve(info, grad)
        t = 1.0
        while t > 1e-8:
            cand = beta + t * step
            ll_new = loglik(cand)
            if ll_new >= ll - 1e-12:
                break
            t /= 2
        beta, done = cand, abs(ll_new - ll) < 1e-12
        ll = ll_new
        if done:
            break
    mu = 1.0 / (1.0 + np.exp(-(offset + X @ beta)))
    info = (X * (mu * (1 - mu))[:, None]).T @ X
    return beta, np.linalg.inv(info)


@dataclass
class CalibrationSummary(Result):
    """Brier score, calibration intercept/slope with intervals, O/E and the reliability curve."""

    n: int
    prevalence: float
    mean_predicted: float
    observed_expected: float
    brier: float
    scaled_brier: float
    intercept: float
    intercept_lower: float
    intercept_upper: float
    slope: float
    slope_lower: float
    slope_upper: float
    conf_level: float
    reliability: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.reliability.copy()


def calibration_summary(y, p, *, n_bins: int = 10, strategy: str = "quantile",
                        conf_level: float = 0.95) -> CalibrationSummary:
    """Brier score, calibration intercept and slope, and a binned reliability curve.

    Parameters
    ----------
    y : array of bool or 0/1
    p : array of predicted probabilities in [0, 1]
    n_bins : int
    strategy : {'quantile', 'uniform'}
    """
    z = z_value(conf_level)
    yf, p = _check_probabilities(y, p)
    if strategy not in ("quantile", "uniform") or int(n_bins) < 1:
        raise DataValidationError([Problem(
            "strategy must be 'quantile' or 'uniform' and n_bins >= 1",
            value=(strategy, n_bins))])
    lp = np.log(np.clip(p, _EPS, 1 - _EPS) / (1 - np.clip(p, _EPS, 1 - _EPS)))
    ones = np.ones((p.size, 1))
    a0, cov0 = _logistic(ones, yf, lp)
    ab, cov1 = _logistic(np.column_stack([ones, lp]), yf, np.zeros(p.size))
    se0, se_b = np.sqrt(cov0[0, 0]), np.sqrt(cov1[1, 1])
    if strategy == "quantile":
        edges = np.unique(np.quantile(p, np.linspace(0, 1, int(n_bins) + 1)))
    else:
        edges = np.linspace(0, 1, int(n_bins) + 1)
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(edges.size - 2, 0))
    rows = []
    for k in np.unique(bins):
        m = bins == k
        x, n = yf[m].sum(), m.sum()
        lo, hi = wilson_interval(x, n, conf_level)
        rows.append({"bin": int(k), "low": edges[k], "high": edges[min(k + 1, edges.size - 1)],
                     "n": int(n), "mean_predicted": float(p[m].mean()),
                     "observed": float(x / n), "observed_lower": float(lo),
                     "observed_upper": float(hi)})
    prev = float(yf.mean())
    brier = float(np.mean((p - yf) ** 2))
    return CalibrationSummary(
        n=int(p.size), prevalence=prev, mean_predicted=float(p.mean()),
        observed_expected=prev / float(p.mean()) if p.mean() > 0 else np.nan, brier=brier,
        scaled_brier=1 - brier / (prev * (1 - prev)), intercept=float(a0[0]),
        intercept_lower=float(a0[0] - z * se0), intercept_upper=float(a0[0] + z * se0),
        slope=float(ab[1]), slope_lower=float(ab[1] - z * se_b),
        slope_upper=float(ab[1] + z * se_b), conf_level=conf_level,
        reliability=pd.DataFrame(rows))


@dataclass
class DecisionCurve(Result):
    """Net benefit of the model, treat-all and treat-none over threshold probabilities."""

    prevalence: float
    curve: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.curve.copy()


def decision_curve(y, p, *, thresholds=None, n_boot: int = 0, conf_level: float = 0.95,
                   seed: SeedLike = None) -> DecisionCurve:
    """Decision-curve net benefit over threshold probabilities (default 0.01–0.99).

    Returns a :class:`DecisionCurve` whose ``curve`` has columns threshold,
    net_benefit, treat_all, treat_none, tp_rate (TP/n) and fp_rate (FP/n); with
    ``n_boot > 0`` also net_benefit_lower / net_benefit_upper, the percentile bootstrap
    interval at ``conf_level`` (``seed`` fixes the resamples).
    """
    yf, p = _check_probabilities(y, p)
    pt = np.linspace(0.01, 0.99, 99) if thresholds is None else np.asarray(thresholds, float)
    if pt.ndim != 1 or ((pt <= 0) | (pt >= 1)).any():
        raise DataValidationError([Problem("thresholds must lie strictly between 0 and 1")])
    yb = yf.astype(bool)
    treat = p[None, :] >= pt[:, None]
    n = p.size
    tp = (treat & yb).sum(axis=1) / n
    fp = (treat & ~yb).sum(axis=1) / n
    odds = pt / (1 - pt)
    prev = float(yf.mean())
    curve = pd.DataFrame({"threshold": pt, "net_benefit": tp - fp * odds,
                          "treat_all": prev - (1 - prev) * odds, "treat_none": 0.0,
                          "tp_rate": tp, "fp_rate": fp})
    if n_boot:
        z_value(conf_level)
        if int(n_boot) < 100:
            raise DataValidationError([Problem("n_boot must be 0 or at least 100",
                                               value=n_boot)])
        order = np.argsort(-p, kind="stable")
        p_sorted, y_sorted = p[order], yb[order]
        # number of subjects with p >= threshold, in the sorted order
        k = np.searchsorted(-p_sorted, -pt, side="right")
        rng = as_generator(seed)
        reps = np.empty((int(n_boot), pt.size))
        for b in range(int(n_boot)):
            w = np.bincount(rng.integers(0, n, n), minlength=n)[order]
            tp_b = np.concatenate([[0], np.cumsum(w * y_sorted)])[k] / n
            fp_b = np.concatenate([[0], np.cumsum(w * ~y_sorted)])[k] / n
            reps[b] = tp_b - fp_b * odds
        alpha = 1.0 - conf_level
        curve["net_benefit_lower"], curve["net_benefit_upper"] = np.quantile(
            reps, [alpha / 2, 1 - alpha / 2], axis=0)
    return DecisionCurve(prevalence=prev, curve=curve)
