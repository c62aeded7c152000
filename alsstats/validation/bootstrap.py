"""Stratified bootstrap interval of the AUC (vectorised).

Each replicate draws m positives from the m positives and n negatives from
the n negatives with replacement (stratified, as pROC's default), and the
interval is the percentile interval of the replicate AUCs.

A replicate is represented by its multiplicities ``c_i`` (positives) and
``d_j`` (negatives).  With negatives sorted once, the replicate AUC is::

    AUC* = Σ_i c_i u_i [D(< x_i) + ½ D(= x_i)] / (Σ_i c_i u_i · Σ_j d_j v_j),
    D(< x) = Σ_{j: y_j < x} d_j v_j,

so a block of replicates is a cumulative sum over a (B, n) array and a
gather at precomputed positions — no per-replicate sorting.  ``u``, ``v``
are case weights (1 without weights).  Replicates are drawn from one
generator in a fixed order, so a seed gives the same interval on any
machine.
"""

from __future__ import annotations

import numpy as np

from alsstats.errors import DataValidationError, Problem
from alsstats.random import SeedLike, as_generator
from alsstats.validation._inputs import check_binary, oriented
from alsstats.validation.delong import AUCInterval, delong_ci
from alsstats.validation.intervals import z_value
from alsstats.validation.roc import _auc_oriented, resolve_direction

__all__ = ["auc_ci", "bootstrap_auc_ci", "bootstrap_aucs"]

_BLOCK_CELLS = 4_000_000  # replicates per block chosen so a block holds about this many floats


def _counts(rng: np.random.Generator, size: int, n_rep: int) -> np.ndarray:
    """(n_rep, size) multiplicities of resampling ``size`` items with replacement."""
    idx = rng.integers(0, size, size=(n_rep, size))
    idx += (np.arange(n_rep) * size)[:, None]
    return np.bincount(idx.ravel(), minlength=n_rep * size).reshape(n_rep, size)


def bootstrap_aucs(o: np.ndarray, y: np.ndarray, w: np.ndarray | None, n_boot: int,
                   rng: np.random.Generator) -> np.ndarray:
    """``n_boot`` stratified-bootstrap AUCs of oriented scores ``o`` (higher = positive)."""
    neg = o[~y]
    order = np.argsort(neg, kind="stable")
    neg = neg[order]
    v = np.ones(neg.size) if w is None else w[~y][order]
    pos = o[y]
    u = np.ones(pos.size) if w is None else w[y]
    lo = np.searchsorted(neg, pos, side="left")
    hi = np.searchsorted(neg, pos, side="right")
    m, n = pos.size, neg.size
    block = max(1, _BLOCK_CELLS // (m + n + 1))
    out = np.empty(n_boot)
    for start in range(0, n_boot, block):
        b = min(block, n_boot - start)
        c = _counts(rng, m, b) * u
        d = _counts(rng, n, b) * v
        cum = np.zeros((b, n + 1))
        np.cumsum(d, axis=1, out=cum[:, 1:])
        score = cum[:, lo] + 0.5 * (cum[:, hi] - cum[:, lo])
        out[start:start + b] = (c * score).sum(axis=1) / (c.sum(axis=1) * cum[:, -1])
    return out


def bootstrap_auc_ci(labels, scores, *, n_boot: int = 2000, conf_level: float = 0.95,
                     direction: str = "auto", weights=None, seed: SeedLike = None) -> AUCInterval:
    """AUC with a stratified-bootstrap percentile interval.

    The direction is fixed on the full data (given or detected) before
    resampling.  ``se`` is the standard deviation of the replicate AUCs.
    Case weights are carried with their observations.
    """
    z_value(conf_level)
    if int(n_boot) < 100:
        raise DataValidationError([Problem("n_boot must be at least 100", value=n_boot)])
    s, y, w = check_binary(scores, labels, weights, min_per_class=2)
    d, detected = resolve_direction(s, y, direction, w)
    o = oriented(s, d)
    reps = bootstrap_aucs(o, y, w, int(n_boot), as_generator(seed))
    alpha = 1.0 - conf_level
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
    return AUCInterval(auc=_auc_oriented(o, y, w), lower=float(lo), upper=float(hi),
                       se=float(reps.std(ddof=1)), conf_level=conf_level, method="bootstrap",
                       n_positive=int(y.sum()), n_negative=int((~y).sum()), direction=d,
                       direction_detected=detected, n_boot=int(n_boot))


def auc_ci(labels, scores, *, method: str = "delong", direction: str = "auto",
           conf_level: float = 0.95, n_boot: int = 2000, weights=None,
           seed: SeedLike = None) -> AUCInterval:
    """AUC with a DeLong (``method='delong'``) or stratified-bootstrap interval.

    Case weights are only available with the bootstrap (DeLong's variance
    is for unweighted observations).
    """
    if method == "delong":
        if weights is not None:
            raise DataValidationError([Problem(
                "case weights need method='bootstrap' (the DeLong variance is unweighted)")])
        return delong_ci(labels, scores, direction=direction, conf_level=conf_level)
    if method == "bootstrap":
        return bootstrap_auc_ci(labels, scores, n_boot=n_boot, conf_level=conf_level,
                                direction=direction, weights=weights, seed=seed)
    raise DataValidationError([Problem("CI method must be 'delong' or 'bootstrap'",
                                       value=method)])
