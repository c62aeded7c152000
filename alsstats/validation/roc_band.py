r"""Pointwise confidence band of an ROC curve by the stratified bootstrap.

At each false-positive rate :math:`f` on a grid, the sensitivity of the step
ROC curve is

.. math::  \mathrm{Se}(f) = \frac{1}{m}\#\{i : x_i > t_f\}, \qquad
           t_f = \text{the } (\lfloor f n \rfloor + 1)\text{-th largest negative score},

the best sensitivity whose false-positive rate does not exceed :math:`f`
(:math:`\mathrm{Se}(1) = 1`).  Each replicate resamples the :math:`m`
positives and :math:`n` negatives separately with replacement; the band is
the pointwise percentile interval of :math:`\mathrm{Se}^*(f)` (the bootstrap
of sensitivities at fixed specificities; Macskassy & Provost 2004 review
such bands).  It is pointwise, not simultaneous.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alsstats.errors import DataValidationError, Problem
from alsstats.random import SeedLike, as_generator
from alsstats.validation._inputs import check_binary, oriented
from alsstats.validation._results import Result
from alsstats.validation.intervals import z_value
from alsstats.validation.roc import resolve_direction

__all__ = ["ROCBand", "roc_band", "sensitivity_at_fpr"]


def sensitivity_at_fpr(pos: np.ndarray, neg: np.ndarray, fpr: np.ndarray) -> np.ndarray:
    """Step-ROC sensitivity at each false-positive rate (oriented scores: higher = positive)."""
    neg_desc = np.sort(neg)[::-1]
    pos_sorted = np.sort(pos)
    k = np.floor(np.asarray(fpr) * neg.size + 1e-9).astype(int)
    out = np.ones(k.size)
    inside = k < neg.size
    thresholds = neg_desc[k[inside]]
    out[inside] = (pos.size - np.searchsorted(pos_sorted, thresholds, side="right")) / pos.size
    return out


@dataclass
class ROCBand(Result):
    """Sensitivity at each false-positive rate with its bootstrap percentile interval."""

    fpr: np.ndarray
    tpr: np.ndarray
    tpr_low: np.ndarray
    tpr_high: np.ndarray
    conf_level: float
    n_boot: int
    direction: str

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"fpr": self.fpr, "tpr": self.tpr, "tpr_low": self.tpr_low,
                             "tpr_high": self.tpr_high})


def roc_band(labels, scores, *, fpr=None, n_boot: int = 500, conf_level: float = 0.95,
             direction: str = "auto", seed: SeedLike = None) -> ROCBand:
    """Pointwise stratified-bootstrap confidence band of the ROC curve.

    Parameters
    ----------
    labels, scores : arrays
        Marker values and the positive class (True/1).
    fpr : array, optional
        False-positive rates (1 − specificity) at which to evaluate; default 0, 0.02, …, 1.
    n_boot : int
        Bootstrap replicates (at least 100).
    direction : {'auto', '>', '<'}
        Fixed on the full data before resampling.
    seed : int or Generator
    """
    z_value(conf_level)
    if int(n_boot) < 100:
        raise DataValidationError([Problem("n_boot must be at least 100", value=n_boot)])
    s, y, _ = check_binary(scores, labels, min_per_class=2)
    d, _ = resolve_direction(s, y, direction, None)
    o = oriented(s, d)
    grid = np.linspace(0.0, 1.0, 51) if fpr is None else np.asarray(fpr, dtype=float)
    if grid.ndim != 1 or np.any((grid < 0) | (grid > 1)):
        raise DataValidationError([Problem("fpr values must lie in [0, 1]")])
    pos, neg = o[y], o[~y]
    rng = as_generator(seed)
    reps = np.empty((int(n_boot), grid.size))
    for b in range(int(n_boot)):
        reps[b] = sensitivity_at_fpr(rng.choice(pos, pos.size), rng.choice(neg, neg.size), grid)
    alpha = 1.0 - conf_level
    low, high = np.quantile(reps, [alpha / 2, 1 - alpha / 2], axis=0)
    return ROCBand(fpr=grid, tpr=sensitivity_at_fpr(pos, neg, grid), tpr_low=low, tpr_high=high,
                   conf_level=conf_level, n_boot=int(n_boot), direction=d)
