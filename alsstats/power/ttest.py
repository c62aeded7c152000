r"""Two-sample t test power with the noncentral t distribution (as R's ``pwr.t.test``).

With ``n`` subjects per group and standardised difference ``d``, the test statistic
follows a noncentral t with :math:`\nu = 2n - 2` degrees of freedom and
noncentrality :math:`\lambda = d\sqrt{n/2}`.  Two-sided power counts both rejection
regions,

.. math::

    1-\beta = P(T_{\nu,\lambda} > t_{1-\alpha/2,\nu}) + P(T_{\nu,\lambda} < -t_{1-\alpha/2,\nu}),

one-sided power only the upper one.  The sample size solves ``power(n) = target`` for
a continuous ``n`` (round up for planning).
"""

from __future__ import annotations

import math

from scipy import optimize, stats

from alsstats.errors import AlsStatsError
from alsstats.power._normal import check_alternative, check_positive, check_probability
from alsstats.power._results import Power, SampleSize

__all__ = ["t_test_power", "t_test_sample_size"]


def t_test_power(d: float, n: float, alpha: float = 0.05,
                 alternative: str = "two-sided") -> Power:
    """Power of the two-sample t test with ``n`` per group for effect size ``d``.

    Returns
    -------
    Power
        The power (a float) with ``to_dict()`` giving it with the inputs.
    """
    power = _power(d, n, alpha, alternative)
    return Power(power, design="two-sample t test",
                 settings={"d": float(d), "n_per_group": float(n), "alpha": float(alpha),
                           "alternative": alternative})


def _power(d: float, n: float, alpha: float, alternative: str) -> float:
    d = check_positive("d", abs(d))
    n = float(n)
    if not n > 1:
        raise AlsStatsError(f"n per group must be > 1, got {n}")
    alpha = check_probability("alpha", alpha)
    df = 2 * n - 2
    ncp = d * math.sqrt(n / 2)
    if check_alternative(alternative) == "two-sided":
        q = stats.t.isf(alpha / 2, df)
        return float(stats.nct.sf(q, df, ncp) + stats.nct.cdf(-q, df, ncp))
    return float(stats.nct.sf(stats.t.isf(alpha, df), df, ncp))


def t_test_sample_size(d: float, power: float = 0.8, alpha: float = 0.05,
                       alternative: str = "two-sided") -> SampleSize:
    """The ``n`` per group at which :func:`t_test_power` reaches ``power``.

    Returns
    -------
    SampleSize
        The continuous solution (a float; ``.n_exact``) and ``.n`` rounded up.
    """
    target = check_probability("power", power)
    if target <= check_probability("alpha", alpha):
        raise AlsStatsError("power must exceed alpha")

    def gap(n: float) -> float:
        return _power(d, n, alpha, alternative) - target

    low, high = 1.0 + 1e-6, 4.0
    while gap(high) < 0:
        low, high = high, high * 2
        if high > 1e10:
            raise AlsStatsError(f"effect size d={d} is too small to reach power {power}")
    exact = float(optimize.brentq(gap, low, high, xtol=1e-12, rtol=1e-14))
    return SampleSize(exact, design="two-sample t test, n per group",
                      settings={"d": float(d), "power": float(power), "alpha": float(alpha),
                                "alternative": alternative})
