r"""The standard normal distribution without SciPy, for code on the CLI's fast start-up path.

``import scipy.stats`` takes 0.5–1.4 s on the project machine, longer than the whole start-up
budget of a command that does not sample.  The few normal quantities the analytic engines
need come from the standard library instead:

* ``ppf(p)`` = :math:`\Phi^{-1}(p)`: :meth:`statistics.NormalDist.inv_cdf` (Wichura's
  algorithm AS 241, relative error below :math:`10^{-15}`; SciPy's ``ndtri`` agrees to
  rounding);
* ``cdf(x)`` = :math:`\Phi(x) = \tfrac12\operatorname{erfc}(-x/\sqrt2)` and
  ``sf(x)`` = :math:`1-\Phi(x) = \tfrac12\operatorname{erfc}(x/\sqrt2)` with
  :func:`math.erfc`, so a far upper tail keeps its relative precision;
* ``isf(q)`` = :math:`\Phi^{-1}(1-q) = -\Phi^{-1}(q)` (exact by symmetry).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

__all__ = ["cdf", "isf", "ppf", "sf", "sf_array"]

_STANDARD = NormalDist()
_SQRT2 = math.sqrt(2.0)
_ERFC = np.frompyfunc(math.erfc, 1, 1)


def ppf(p: float) -> float:
    """Standard-normal quantile :math:`\\Phi^{-1}(p)`, ``0 < p < 1``."""
    return _STANDARD.inv_cdf(float(p))


def isf(q: float) -> float:
    """Upper quantile :math:`\\Phi^{-1}(1 - q)`, ``0 < q < 1``."""
    return -_STANDARD.inv_cdf(float(q))


def cdf(x: float) -> float:
    """:math:`\\Phi(x)`."""
    return 0.5 * math.erfc(-float(x) / _SQRT2)


def sf(x: float) -> float:
    """:math:`1 - \\Phi(x)`, accurate in the upper tail."""
    return 0.5 * math.erfc(float(x) / _SQRT2)


def sf_array(x) -> np.ndarray:
    """:func:`sf` elementwise on an array (``±inf`` give 0 and 1)."""
    x = np.asarray(x, dtype=float)
    return 0.5 * np.asarray(_ERFC(x / _SQRT2), dtype=float)
