"""Result objects of the sizing and power functions that answer with one number.

:class:`SampleSize` and :class:`Power` are floats (the continuous answer, so code that
did arithmetic or comparisons on the plain number keeps working) that also carry the
inputs and a ``to_dict()``, like every other alsstats result.  :class:`PowerCurve` is the
list of grid points of a simulated power curve with ``to_dict()`` and ``to_frame()``.
Nothing here imports SciPy or pandas at module load (``alsstats power slope`` starts
without them).
"""

from __future__ import annotations

import math

__all__ = ["Power", "PowerCurve", "SampleSize"]


class _DesignFloat(float):
    """A float that also carries what was computed (``design``) and its inputs."""

    design: str
    settings: dict

    def __new__(cls, value: float, *, design: str, settings: dict | None = None):
        obj = super().__new__(cls, value)
        obj.design = design
        obj.settings = dict(settings or {})
        return obj

    def __getnewargs_ex__(self):
        return (float(self),), {"design": self.design, "settings": self.settings}


class SampleSize(_DesignFloat):
    """A sample size: the continuous solution as a float, whole subjects as :attr:`n`.

    Parameters
    ----------
    n_exact
        The continuous solution (unrounded).
    design
        What was sized (e.g. ``"two-sample t test, n per group"``).
    settings
        The inputs of the calculation (JSON-ready values).

    Examples
    --------
    >>> size = SampleSize(63.77, design="n per group", settings={"d": 0.5})
    >>> size.n, size.n_exact
    (64, 63.77)
    """

    @property
    def n(self) -> int:
        """Whole subjects: the continuous solution rounded up."""
        # Guard against 138.0000000001-style round-off pushing an exact integer up.
        return math.ceil(float(self) - 1e-9)

    @property
    def n_exact(self) -> float:
        """The continuous solution (the float value itself)."""
        return float(self)

    def to_dict(self) -> dict:
        """``design``, ``n`` (rounded up), ``n_exact`` and the inputs."""
        return {"design": self.design, "n": self.n, "n_exact": self.n_exact, **self.settings}

    def __repr__(self) -> str:
        return f"SampleSize(n={self.n}, n_exact={float(self)!r}, design={self.design!r})"


class Power(_DesignFloat):
    """A power: the probability as a float, with the inputs that gave it.

    Parameters
    ----------
    power
        The power (probability of rejecting the null hypothesis).
    design
        What was computed (e.g. ``"two-sample t test"``).
    settings
        The inputs of the calculation (JSON-ready values).
    """

    @property
    def power(self) -> float:
        """The power as a plain float."""
        return float(self)

    def to_dict(self) -> dict:
        """``design``, ``power`` and the inputs."""
        return {"design": self.design, "power": float(self), **self.settings}

    def __repr__(self) -> str:
        return f"Power({float(self)!r}, design={self.design!r})"


class PowerCurve(list):
    """Simulated power over a grid: a list of points (dicts), one per grid point.

    Each point has ``n_control``, ``slowing``, ``power``, ``mc_se``, ``failed_fits``,
    ``analytic_power`` and ``seed``.
    """

    def to_dict(self) -> dict:
        """``{"points": [...]}``, the grid points in grid order."""
        return {"points": [dict(p) for p in self]}

    def to_frame(self):
        """The points as a pandas DataFrame (one row per grid point)."""
        import pandas as pd

        return pd.DataFrame(list(self))
