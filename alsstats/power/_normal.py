"""Shared pieces of the analytic power engines: argument checks and normal quantiles."""

from __future__ import annotations

import math

from alsstats import _gauss
from alsstats.errors import AlsStatsError

__all__ = [
    "ALTERNATIVES",
    "check_alternative",
    "check_positive",
    "check_probability",
    "critical_z",
    "exactly_one_missing",
]

ALTERNATIVES = ("two-sided", "one-sided")


def check_alternative(alternative: str) -> str:
    """Normalise ``alternative``: ``two-sided``/``one-sided`` (R's ``two.sided`` accepted)."""
    value = str(alternative).replace(".", "-").replace("_", "-").lower()
    if value not in ALTERNATIVES:
        raise AlsStatsError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    return value


def check_probability(name: str, value: float, *, open_interval: bool = True) -> float:
    """``value`` as a float strictly inside (0, 1) (or [0, 1] when ``open_interval`` is false)."""
    v = float(value)
    ok = 0.0 < v < 1.0 if open_interval else 0.0 <= v <= 1.0
    if not (math.isfinite(v) and ok):
        bounds = "(0, 1)" if open_interval else "[0, 1]"
        raise AlsStatsError(f"{name} must lie in {bounds}, got {value!r}")
    return v


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (or >= 0 with ``allow_zero``)."""
    v = float(value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        rule = ">= 0" if allow_zero else "> 0"
        raise AlsStatsError(f"{name} must be finite and {rule}, got {value!r}")
    return v


def critical_z(alpha: float, alternative: str) -> float:
    """The standard-normal critical value: ``z_{1-alpha/2}`` (two-sided) or ``z_{1-alpha}``."""
    alpha = check_probability("alpha", alpha)
    tail = alpha / 2 if check_alternative(alternative) == "two-sided" else alpha
    return _gauss.isf(tail)


def exactly_one_missing(**values) -> str:
    """Name of the single argument that is ``None``; an error unless exactly one is."""
    missing = [k for k, v in values.items() if v is None]
    if len(missing) != 1:
        names = ", ".join(values)
        raise AlsStatsError(f"give all but exactly one of {names} (the one to solve for); "
                            f"missing now: {', '.join(missing) or 'none'}")
    return missing[0]
