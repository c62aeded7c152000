r"""One dropout language for slope-trial formulas, trial simulations and the cohort simulator.

Dropout is monotone: a subject seen at visit ``k`` was seen at every earlier visit.  It
is described completely by the **retention** :math:`r_k`, the share of subjects still
followed at visit time :math:`t_k` (:math:`r_0 = 1`, non-increasing).  Every other form
is converted to and from it exactly:

* **retention at each visit** ("as observed"): :math:`r_0, \dots, r_{K-1}` as given;
* **proportion lost by time t**, with a stated shape:

  - *constant hazard*: ``lost`` = :math:`d` by ``by`` = :math:`T` means the hazard
    :math:`\lambda = -\ln(1-d)/T` per time unit and :math:`r_k = e^{-\lambda t_k}`
    (the exponential dropout times of the trial simulator);
  - *as observed*: give the retention at the visits instead;

* **hazard** :math:`\lambda` per time unit (trial scenarios' ``[dropout] hazard``);
* **shares of last visits** :math:`s_k = r_k - r_{k+1}` (:math:`r_K = 0`), summing to 1 —
  the form the GLS information engine (:func:`alsstats.power.slope.slope_sample_size`,
  ``dropout=``) averages over.

The simple planning rule inflates the complete-data size by the share lost by the last
visit, :math:`n/(1 - d_{K-1})` with :math:`d_{K-1} = 1 - r_{K-1}`; it treats every dropout
as contributing nothing, so it over-states ``n`` compared with the exact GLS answer,
which keeps the information of each subject's visits before dropping out.  Sizing
commands report both.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from alsstats.errors import AlsStatsError

__all__ = ["Retention"]


def _floats(values: Sequence[float], name: str) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise AlsStatsError(f"{name} must be numbers, got {values!r}") from None
    if not out or not all(math.isfinite(v) for v in out):
        raise AlsStatsError(f"{name} must be finite numbers, got {values!r}")
    return out


@dataclass(frozen=True)
class Retention:
    """Share of subjects still followed at each visit time (monotone dropout).

    Build it with :meth:`as_observed`, :meth:`lost_by`, :meth:`from_hazard` or
    :meth:`from_last_visit_shares`; read it as :attr:`retention`,
    :meth:`last_visit_shares`, :attr:`lost` or :meth:`simple_inflation`.
    """

    times: tuple[float, ...]
    retention: tuple[float, ...]
    shape: str = "as observed"
    hazard: float | None = None

    def __post_init__(self) -> None:
        t, r = self.times, self.retention
        if len(t) != len(r):
            raise AlsStatsError(f"retention needs one value per visit ({len(t)}), got {len(r)}")
        if any(b <= a for a, b in itertools.pairwise(t)):
            raise AlsStatsError(f"visit times must increase, got {list(t)}")
        if abs(r[0] - 1.0) > 1e-12 or any(not 0 <= v <= 1 for v in r) or any(
                b > a + 1e-12 for a, b in itertools.pairwise(r)):
            raise AlsStatsError(f"retention must start at 1 and not increase, within [0, 1]; "
                                f"got {list(r)}")

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def as_observed(cls, times: Sequence[float], retention: Sequence[float]) -> Retention:
        """Retention at each visit, as given."""
        return cls(_floats(times, "times"), _floats(retention, "retention"))

    @classmethod
    def from_hazard(cls, times: Sequence[float], hazard: float) -> Retention:
        """Constant dropout hazard per time unit: :math:`r_k = e^{-\\lambda t_k}`."""
        t = _floats(times, "times")
        lam = float(hazard)
        if not (math.isfinite(lam) and lam >= 0):
            raise AlsStatsError(f"dropout hazard must be >= 0, got {hazard!r}")
        return cls(t, tuple(math.exp(-lam * (v - t[0])) for v in t), "constant hazard", lam)

    @classmethod
    def lost_by(cls, times: Sequence[float], lost: float, by: float) -> Retention:
        """``lost`` (a proportion) lost by time ``by`` under a constant hazard."""
        d, T = float(lost), float(by)
        if not 0 <= d < 1:
            raise AlsStatsError(f"proportion lost must be in [0, 1), got {lost!r}")
        if not (math.isfinite(T) and T > 0):
            raise AlsStatsError(f"'by' must be a time > 0, got {by!r}")
        return cls.from_hazard(times, -math.log1p(-d) / T)

    @classmethod
    def from_last_visit_shares(cls, times: Sequence[float],
                               shares: Sequence[float]) -> Retention:
        """Shares of subjects whose last visit is each visit (they sum to 1)."""
        s = _floats(shares, "dropout shares")
        if any(v < 0 for v in s) or abs(sum(s) - 1) > 1e-8:
            raise AlsStatsError(f"dropout shares must be >= 0 and sum to 1, got {list(s)}")
        r = [sum(s[k:]) for k in range(len(s))]
        r[0] = 1.0
        return cls(_floats(times, "times"), tuple(min(v, 1.0) for v in r))

    # -- views ----------------------------------------------------------------------------
    def last_visit_shares(self) -> tuple[float, ...]:
        """:math:`s_k = r_k - r_{k+1}` with :math:`r_K = 0` (sums to 1)."""
        r = (*self.retention, 0.0)
        return tuple(r[k] - r[k + 1] for k in range(len(self.retention)))

    @property
    def lost(self) -> float:
        """Share lost by the last visit, :math:`1 - r_{K-1}`."""
        return 1.0 - self.retention[-1]

    def simple_inflation(self, n_complete: float) -> float:
        """The planning rule :math:`n / (1 - d)`, ``d`` the share lost by the last visit."""
        if self.lost >= 1:
            raise AlsStatsError("every subject is lost by the last visit")
        return n_complete / (1.0 - self.lost)

    def to_dict(self) -> dict:
        return {"times": list(self.times), "retention": list(self.retention),
                "shape": self.shape, "hazard": self.hazard, "lost": self.lost,
                "last_visit_shares": list(self.last_visit_shares())}
