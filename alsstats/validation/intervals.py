"""Confidence intervals for proportions and likelihood ratios.

Wilson score interval (Wilson 1927) for ``x`` successes in ``n`` trials,
with ``z = Φ⁻¹(1 − α/2)`` and ``p̂ = x/n``::

    (p̂ + z²/2n ± z √(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)

Exact (Clopper & Pearson 1934)::

    lower = Beta⁻¹(α/2; x, n − x + 1),  upper = Beta⁻¹(1 − α/2; x + 1, n − x)

(0 when x = 0, 1 when x = n).

Likelihood ratios LR+ = sens/(1 − spec) and LR− = (1 − sens)/spec get the
log method of Simel, Samsa & Matchar (1991)::

    log LR+ ± z √(1/TP − 1/n₁ + 1/FP − 1/n₀)
    log LR− ± z √(1/FN − 1/n₁ + 1/TN − 1/n₀)

When a count in the formula is zero the ratio or its variance is infinite;
then 0.5 is added to every cell of the 2×2 table for the interval (and the
result says so).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from alsstats import _gauss
from alsstats.errors import DataValidationError, Problem

__all__ = ["LikelihoodRatios", "clopper_pearson_interval", "likelihood_ratio_interval",
           "proportion_interval", "wilson_interval", "z_value"]


def z_value(conf_level: float) -> float:
    """Two-sided normal quantile for ``conf_level`` (e.g. 1.959964 for 0.95)."""
    if not 0 < conf_level < 1:
        raise DataValidationError([Problem("conf_level must be between 0 and 1",
                                           value=conf_level)])
    return _gauss.ppf(0.5 + conf_level / 2)


def wilson_interval(x, n, conf_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``x`` of ``n`` (arrays broadcast; NaN where n = 0)."""
    z = z_value(conf_level)
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def clopper_pearson_interval(x, n, conf_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact Clopper–Pearson interval for ``x`` of ``n`` (NaN where n = 0)."""
    from scipy import stats  # loaded here only: SciPy's import is slow (see alsstats._gauss)

    alpha = 1 - conf_level
    z_value(conf_level)
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(x > 0, stats.beta.ppf(alpha / 2, x, n - x + 1), 0.0)
        hi = np.where(x < n, stats.beta.ppf(1 - alpha / 2, x + 1, n - x), 1.0)
    bad = n <= 0
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def proportion_interval(x, n, conf_level: float = 0.95, method: str = "wilson"):
    """Interval for a proportion by ``method``: ``'wilson'`` or ``'exact'`` (Clopper–Pearson)."""
    if method == "wilson":
        return wilson_interval(x, n, conf_level)
    if method == "exact":
        return clopper_pearson_interval(x, n, conf_level)
    raise DataValidationError([Problem("interval method must be 'wilson' or 'exact'",
                                       value=method)])


@dataclass(frozen=True)
class LikelihoodRatios:
    """LR+ and LR− with their intervals (:func:`likelihood_ratio_interval`).

    ``continuity_corrected`` is True when 0.5 was added to every cell because a count
    was zero.  Item access (``result["lr_pos"]``) works as on the dict this function
    returned before.
    """

    lr_pos: float
    lr_pos_lower: float
    lr_pos_upper: float
    lr_neg: float
    lr_neg_lower: float
    lr_neg_upper: float
    continuity_corrected: bool
    conf_level: float

    def __getitem__(self, name: str):
        if name not in self.__dataclass_fields__:
            raise KeyError(name)
        return getattr(self, name)

    def to_dict(self) -> dict:
        """Every field as a JSON-ready value (infinite ratios become ``None``)."""
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                for k, v in asdict(self).items()}


def likelihood_ratio_interval(tp: float, fn: float, tn: float, fp: float,
                              conf_level: float = 0.95) -> LikelihoodRatios:
    """LR+ and LR− with Simel's log-method intervals from the 2×2 counts.

    Returns
    -------
    LikelihoodRatios
        ``lr_pos``, ``lr_pos_lower``, ``lr_pos_upper``, ``lr_neg``, ``lr_neg_lower``,
        ``lr_neg_upper`` and ``continuity_corrected`` (True when 0.5 was added to every
        cell because a count was zero).
    """
    z = z_value(conf_level)
    tp, fn, tn, fp = (np.float64(v) for v in (tp, fn, tn, fp))
    n1, n0 = tp + fn, tn + fp
    with np.errstate(divide="ignore", invalid="ignore"):
        lr_pos = (tp / n1) / (fp / n0)
        lr_neg = (fn / n1) / (tn / n0)
    corrected = min(tp, fn, tn, fp) == 0
    if corrected:
        tp, fn, tn, fp = tp + 0.5, fn + 0.5, tn + 0.5, fp + 0.5
        n1, n0 = tp + fn, tn + fp
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = np.log((tp / n1) / (fp / n0))
        ln = np.log((fn / n1) / (tn / n0))
    se_p = np.sqrt(1 / tp - 1 / n1 + 1 / fp - 1 / n0)
    se_n = np.sqrt(1 / fn - 1 / n1 + 1 / tn - 1 / n0)
    return LikelihoodRatios(
        lr_pos=float(lr_pos), lr_pos_lower=float(np.exp(lp - z * se_p)),
        lr_pos_upper=float(np.exp(lp + z * se_p)),
        lr_neg=float(lr_neg), lr_neg_lower=float(np.exp(ln - z * se_n)),
        lr_neg_upper=float(np.exp(ln + z * se_n)),
        continuity_corrected=bool(corrected), conf_level=float(conf_level))
