r"""Group-sequential boundaries by Lan–DeMets alpha spending, and their crossing probabilities.

The canonical joint distribution (Jennison & Turnbull 2000, §3.1).  At looks
``k = 1..K`` with information fractions :math:`0 < t_1 < \dots < t_K = 1`, the
standardised statistics :math:`Z_k = \hat\theta_k \sqrt{\mathcal I_k}` are jointly
normal with

.. math::

    E[Z_k] = \eta \sqrt{t_k}, \qquad \operatorname{Cov}(Z_j, Z_k) = \sqrt{t_j / t_k}
    \quad (j \le k),

where the *drift* :math:`\eta = \theta \sqrt{\mathcal I_K}` is the expected final
Z statistic (0 under the null hypothesis).  Equivalently the score
:math:`S_k = Z_k \sqrt{t_k}` has independent increments
:math:`S_k - S_{k-1} \sim N(\eta\,(t_k - t_{k-1}),\ t_k - t_{k-1})`.

Lan & DeMets (1983) spend the one-sided type I error :math:`\alpha` through a
non-decreasing function :math:`\alpha(t)` with :math:`\alpha(0) = 0`,
:math:`\alpha(1) = \alpha`; the efficacy boundary :math:`c_k` solves

.. math::

    P_{\eta=0}\big(Z_1 < c_1, \dots, Z_{k-1} < c_{k-1},\ Z_k \ge c_k\big)
    = \alpha(t_k) - \alpha(t_{k-1}).

Two spending functions (Lan & DeMets 1983; Kim & DeMets 1987), one-sided:

* O'Brien–Fleming type: :math:`\alpha(t) = 2\big(1 - \Phi(z_{1-\alpha/2} / \sqrt t)\big)`;
* Pocock type: :math:`\alpha(t) = \alpha \ln\big(1 + (e - 1)\, t\big)`.

The probabilities are computed by the recursive numerical integration of Armitage,
McPherson & Rowe (1969) (Jennison & Turnbull 2000, ch. 19): the sub-density of
:math:`Z_k` on the continuation region,

.. math::

    f_1(z) = \phi(z - \eta\sqrt{t_1}), \qquad
    f_k(z) = \int_{a_{k-1}}^{c_{k-1}} f_{k-1}(u)\,
             \frac{1}{s_k}\,\phi\!\left(\frac{z - m_k(u)}{s_k}\right) du,

with :math:`m_k(u) = (u\sqrt{t_{k-1}} + \eta\,\Delta t_k) / \sqrt{t_k}` and
:math:`s_k = \sqrt{\Delta t_k / t_k}`, is held on a grid (Simpson's rule, step at most
``s_k / 20`` and 0.02, lower limit 10 SDs below the mean), and the probability of
crossing at look ``k`` is
:math:`\int f_{k-1}(u)\,\{1 - \Phi((c_k - m_k(u)) / s_k)\}\,du` (and the same for the
lower, futility, boundary).  Checked against rpact 3.3.4 to 1e-6 in the critical values
(``tests/data/rpact``).

References
----------
Lan KKG, DeMets DL (1983). Discrete sequential boundaries for clinical trials.
Biometrika 70:659–663.
Jennison C, Turnbull BW (2000). Group Sequential Methods with Applications to Clinical
Trials. Chapman & Hall/CRC (ch. 7 and 19).
Armitage P, McPherson CK, Rowe BC (1969). Repeated significance tests on accumulating
data. JRSS A 132:235–244.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from alsstats.errors import AlsStatsError

__all__ = ["SPENDING_FUNCTIONS", "GroupSequentialDesign", "crossing_probabilities",
           "group_sequential_design", "spent_alpha"]

SPENDING_FUNCTIONS = ("obrien-fleming", "pocock")

# Lower limit of the integration grid, in SDs below the mean of Z_k (mass below ~1e-23).
_TAIL_SD = 10.0


def _ndtr(x):
    from scipy.special import ndtr

    return ndtr(x)


def check_information_rates(information_rates: Sequence[float]) -> np.ndarray:
    """The information fractions as an array: increasing, in (0, 1], the last equal to 1."""
    try:
        t = np.asarray(information_rates, dtype=float)
    except (TypeError, ValueError):
        raise AlsStatsError(f"information_rates must be numbers, got {information_rates!r}") \
            from None
    if t.ndim != 1 or t.size < 1 or not np.all(np.isfinite(t)):
        raise AlsStatsError(f"information_rates must list one finite fraction per look, got "
                            f"{information_rates!r}")
    if t[0] <= 0 or np.any(np.diff(t) <= 0) or abs(t[-1] - 1.0) > 1e-12:
        raise AlsStatsError(f"information_rates must increase strictly within (0, 1] and end at "
                            f"1 (the final analysis), got {t.tolist()}")
    t[-1] = 1.0
    return t


def spent_alpha(t: float | np.ndarray, alpha: float, spending: str) -> np.ndarray:
    r"""Cumulative one-sided alpha spent by information fraction ``t`` (Lan–DeMets).

    ``spending`` is ``"obrien-fleming"`` (:math:`2(1 - \Phi(z_{1-\alpha/2}/\sqrt t))`) or
    ``"pocock"`` (:math:`\alpha \ln(1 + (e-1)t)`).
    """
    from scipy.special import ndtri

    t = np.asarray(t, dtype=float)
    if spending == "obrien-fleming":
        return 2.0 * (1.0 - _ndtr(ndtri(1.0 - alpha / 2.0) / np.sqrt(t)))
    if spending == "pocock":
        return alpha * np.log1p((math.e - 1.0) * t)
    raise AlsStatsError(f"spending must be one of {SPENDING_FUNCTIONS}, got {spending!r}")


def _simpson(lo: float, hi: float, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and Simpson weights on [lo, hi] (an odd number of nodes, spacing <= step)."""
    m = max(2, math.ceil((hi - lo) / step / 2.0)) * 2 + 1
    z = np.linspace(lo, hi, m)
    h = (hi - lo) / (m - 1)
    w = np.full(m, 2.0)
    w[1::2] = 4.0
    w[0] = w[-1] = 1.0
    return z, w * h / 3.0


class _Recursion:
    """The sub-density of Z_k on its continuation region, advanced look by look."""

    def __init__(self, t: np.ndarray, drift: float):
        self.t, self.drift = t, float(drift)
        self.k = 0               # looks passed
        self.z = self.w = self.f = None

    def _kernel_args(self):
        k, t = self.k, self.t
        dt = t[k] - t[k - 1]
        s = math.sqrt(dt / t[k])
        mean = (self.z * math.sqrt(t[k - 1]) + self.drift * dt) / math.sqrt(t[k])
        return mean, s

    def crossing(self, upper: float, lower: float) -> tuple[float, float]:
        """P(cross the upper / the lower boundary at the next look, not before)."""
        if self.k == 0:
            mu = self.drift * math.sqrt(self.t[0])
            return float(1.0 - _ndtr(upper - mu)), float(_ndtr(lower - mu))
        mean, s = self._kernel_args()
        up = float(self.w @ (self.f * (1.0 - _ndtr((upper - mean) / s))))
        down = float(self.w @ (self.f * _ndtr((lower - mean) / s))) if lower > -np.inf else 0.0
        return up, down

    def advance(self, upper: float, lower: float) -> None:
        """Continue past the next look with boundaries (lower, upper)."""
        k, t = self.k, self.t
        mu = self.drift * math.sqrt(t[k])
        if k + 1 < t.size:
            s_next = math.sqrt((t[k + 1] - t[k]) / t[k + 1])
            step = min(0.02, s_next / 20.0 * math.sqrt(t[k + 1] / t[k]))
        else:
            step = 0.02
        lo = max(lower, mu - _TAIL_SD)
        hi = min(upper, mu + _TAIL_SD)
        if hi <= lo:
            raise AlsStatsError(f"the continuation region at look {k + 1} is empty "
                                f"(lower {lower:g} >= upper {upper:g})")
        z, w = _simpson(lo, hi, step)
        if k == 0:
            f = np.exp(-0.5 * (z - mu) ** 2) / math.sqrt(2 * math.pi)
        else:
            mean, s = self._kernel_args()
            kern = np.exp(-0.5 * ((z[:, None] - mean[None, :]) / s) ** 2) / (s * math.sqrt(
                2 * math.pi))
            f = kern @ (self.w * self.f)
        self.z, self.w, self.f = z, w, f
        self.k += 1


def crossing_probabilities(information_rates: Sequence[float], upper: Sequence[float],
                           lower: Sequence[float] | None = None,
                           drift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    r"""Probabilities of stopping at each look above ``upper`` or below ``lower``.

    Parameters
    ----------
    information_rates : information fractions :math:`t_k` (increasing, last 1).
    upper : efficacy boundaries :math:`c_k` on the Z scale (``inf`` = no efficacy stop).
    lower : futility boundaries :math:`a_k` (``-inf`` or ``None`` = none); at the last
        look the trial ends anyway, so only ``upper`` matters there.
    drift : :math:`\eta`, the expected final Z statistic (0 under the null).

    Returns
    -------
    (efficacy, futility) : arrays of length ``K``: P(stop for efficacy / futility at look
        ``k`` and not before).  ``efficacy.sum()`` is the power (type I error at
        ``drift=0``).
    """
    t = check_information_rates(information_rates)
    c = np.asarray(upper, dtype=float)
    a = np.full(t.size, -np.inf) if lower is None else np.asarray(lower, dtype=float)
    if c.shape != t.shape or a.shape != t.shape:
        raise AlsStatsError(f"upper and lower must give one boundary per look ({t.size}), got "
                            f"{c.tolist()} and {a.tolist()}")
    if np.any(np.isnan(c)) or np.any(np.isnan(a)) or np.any(a[:-1] >= c[:-1]):
        raise AlsStatsError(f"each interim futility boundary must lie below its efficacy "
                            f"boundary, got lower {a.tolist()}, upper {c.tolist()}")
    rec = _Recursion(t, drift)
    eff, fut = np.zeros(t.size), np.zeros(t.size)
    for k in range(t.size):
        last = k == t.size - 1
        eff[k], fut[k] = rec.crossing(c[k], -np.inf if last else a[k])
        if not last:
            rec.advance(c[k], a[k])
    return eff, fut


@dataclass(frozen=True)
class GroupSequentialDesign:
    """One-sided efficacy boundaries of a Lan–DeMets alpha-spending design."""

    information_rates: tuple[float, ...]
    alpha: float
    spending: str
    critical_values: tuple[float, ...]
    alpha_spent: tuple[float, ...]

    @property
    def stage_levels(self) -> tuple[float, ...]:
        """Nominal one-sided p-value thresholds :math:`1 - \\Phi(c_k)`."""
        return tuple(float(v) for v in 1.0 - _ndtr(np.asarray(self.critical_values)))

    def operating_characteristics(self, drift: float) -> dict:
        """P(reject at each look), power and expected information fraction at ``drift``."""
        eff, _ = crossing_probabilities(self.information_rates, self.critical_values,
                                        drift=drift)
        t = np.asarray(self.information_rates)
        stop = eff.copy()
        stop[-1] = 1.0 - eff[:-1].sum()            # the last look ends the trial anyway
        return {"drift": float(drift), "reject_at_look": eff.tolist(),
                "power": float(eff.sum()), "expected_information": float(stop @ t)}

    def to_dict(self) -> dict:
        return {"design": f"Lan-DeMets {self.spending}-type alpha spending",
                "information_rates": list(self.information_rates), "alpha": self.alpha,
                "sided": 1, "spending": self.spending,
                "critical_values": list(self.critical_values),
                "alpha_spent": list(self.alpha_spent), "stage_levels": list(self.stage_levels)}


def group_sequential_design(information_rates: Sequence[float], alpha: float = 0.025,
                            spending: str = "obrien-fleming") -> GroupSequentialDesign:
    r"""Efficacy boundaries :math:`c_k` spending one-sided ``alpha`` by ``spending``.

    Each :math:`c_k` is the root (Brent, tolerance 1e-12) of
    :math:`P(\text{first crossing at } k) = \alpha(t_k) - \alpha(t_{k-1})` under the null,
    given the earlier boundaries (see the module docstring).

    Examples
    --------
    >>> d = group_sequential_design([0.5, 1.0], alpha=0.025)
    >>> [round(c, 4) for c in d.critical_values]
    [2.9626, 1.9686]
    """
    from scipy.optimize import brentq

    t = check_information_rates(information_rates)
    alpha = float(alpha)
    if not (0 < alpha < 0.5):
        raise AlsStatsError(f"alpha (one-sided) must lie in (0, 0.5), got {alpha!r}")
    if spending not in SPENDING_FUNCTIONS:
        raise AlsStatsError(f"spending must be one of {SPENDING_FUNCTIONS}, got {spending!r}")
    cum = spent_alpha(t, alpha, spending)
    cum[-1] = alpha
    rec = _Recursion(t, 0.0)
    crit = []
    for k in range(t.size):
        target = cum[k] - (cum[k - 1] if k else 0.0)
        c = brentq(lambda x, goal=target: rec.crossing(x, -np.inf)[0] - goal, -10.0, 40.0,
                   xtol=1e-12, rtol=1e-14)
        crit.append(float(c))
        if k + 1 < t.size:
            rec.advance(c, -np.inf)
    return GroupSequentialDesign(tuple(float(v) for v in t), alpha, spending, tuple(crit),
                                 tuple(float(v) for v in cum))
