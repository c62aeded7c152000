"""Time units for longitudinal data: what a slope is "per", and conversions to years.

A slope fitted on a time column in months is a change per month; every output says so.
Rates that are set in years (e.g. a decline threshold of 2% per year) are converted to the
data's unit with :data:`YEARS_PER_UNIT` (a year is 365.25 days, a month 1/12 year).
"""

from __future__ import annotations

__all__ = ["TIME_UNITS", "YEARS_PER_UNIT", "per_unit", "years_per_unit"]

YEARS_PER_UNIT = {"years": 1.0, "months": 1.0 / 12.0, "weeks": 7.0 / 365.25,
                  "days": 1.0 / 365.25}
TIME_UNITS = tuple(YEARS_PER_UNIT)


def years_per_unit(unit: str) -> float:
    """Years in one ``unit`` (``'years'``, ``'months'``, ``'weeks'``, ``'days'``)."""
    try:
        return YEARS_PER_UNIT[unit]
    except KeyError:
        raise ValueError(f"unknown time unit {unit!r}; expected one of "
                         f"{', '.join(TIME_UNITS)}") from None


def per_unit(unit: str) -> str:
    """``'per year'``, ``'per month'``, ... for ``unit``."""
    years_per_unit(unit)
    return f"per {unit[:-1]}"
