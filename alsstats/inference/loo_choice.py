r"""The one PSIS-LOO rule by which alsstats prefers a richer model to a simpler one.

For pointwise PSIS-LOO terms of the same units under the simpler model :math:`a` and the
richer model :math:`b` (Vehtari, Gelman & Gabry 2017), the paired difference

.. math::

    \Delta = \sum_i (\mathrm{elpd}_{b,i} - \mathrm{elpd}_{a,i}),\qquad
    \mathrm{se}(\Delta) = \sqrt{n\,\mathrm{Var}_i(\mathrm{elpd}_{b,i} - \mathrm{elpd}_{a,i})},

and the richer model is chosen only when :math:`\Delta > \text{ELPD\_SE\_MARGIN}\cdot
\mathrm{se}(\Delta)`; otherwise the simpler one is kept.  Used by the longitudinal
model's group variances (:mod:`alsstats.models.longitudinal.selection`) and the
diagnostic model's marker distribution
(:mod:`alsstats.models.diagnostic.distribution_choice`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ELPD_SE_MARGIN", "elpd_difference", "prefers_richer"]

#: The richer model must beat the simpler one by this many SEs of the ELPD difference.
ELPD_SE_MARGIN = 2.0


def elpd_difference(simpler: np.ndarray, richer: np.ndarray) -> tuple[float, float]:
    """``(Delta, se(Delta))`` of pointwise ELPDs (n,), richer minus simpler."""
    diff = np.asarray(richer, float) - np.asarray(simpler, float)
    return float(diff.sum()), float(np.sqrt(len(diff) * diff.var()))


def prefers_richer(difference: float, se: float) -> bool:
    """True when the richer model's ELPD gain exceeds :data:`ELPD_SE_MARGIN` SEs."""
    return difference > ELPD_SE_MARGIN * se
