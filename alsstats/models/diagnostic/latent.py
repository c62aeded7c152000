r"""Diagnosis without a gold standard: the recorded label as an imperfect indicator.

With ``reference = "latent"`` in the spec the true class :math:`z_i` of a training
subject is latent.  What the clinic recorded, the *indicator* :math:`r_i`, is one of
the levels of :func:`indicator_levels`: the recorded group, with ALS split by its
revised El Escorial category (``ALS:possible`` ... ``ALS:definite``, and
``ALS:unrecorded`` when the category is missing).  The model is

.. math::

    z_i \sim \mathrm{Categorical}(\pi),\qquad
    r_i \mid z_i = k \sim \mathrm{Categorical}(\Lambda_{k\cdot}),\qquad
    y_i \mid z_i = k \sim \mathrm{MVN}(\mu_k + B^\top x_i + u_s, \Sigma_k),

with :math:`r_i` and :math:`y_i` independent given :math:`z_i` (the markers keep
their within-class correlations :math:`\Sigma_k`, so the two MRS ratios, which share
glutamate, are *not* assumed conditionally independent of each other).  :math:`z_i`
is summed out:

.. math::

    \log p(y_i, r_i) = \log \sum_k \pi_k \Lambda_{k r_i}
        N(y_{i,o} \mid \cdot_{k,o}, \Sigma_{k,oo}).

Priors: :math:`\pi \sim \mathrm{Dirichlet}(1)`.  Each row of :math:`\Lambda` is
built in two steps: the recorded *class*, :math:`\rho_{k\cdot} \sim
\mathrm{Dirichlet}(\alpha_k)` with :math:`\alpha_{kk} = a` (``label_agreement``) and
:math:`\alpha_{kc} = d` (``label_disagreement``) for :math:`c \ne k`, and, within a
recorded class with several levels (ALS by El Escorial category), the level,
:math:`\lambda_{kc\cdot} \sim \mathrm{Dirichlet}(1)`, so that
:math:`\Lambda_{kj} = \rho_{k c(j)} \lambda_{k c(j) j}`.  The prior probability that
class :math:`k` is recorded as itself has mean :math:`a / (a + (K - 1) d)` (0.8 by
default with three classes) whatever the number of levels; the El Escorial mix may
differ between true ALS and a non-ALS patient recorded as ALS (mostly "possible").
The prior of the whole matrix :math:`\rho` is this row-wise Dirichlet averaged over
the :math:`K!` assignments of its rows to the :math:`\alpha_k`
(:func:`~alsstats.models.diagnostic.graph.symmetrised_record_prior`), which makes the
posterior invariant under permutations of the classes; the mean above holds in the
labelling that :mod:`~alsstats.models.diagnostic.relabel` picks, to within the other
assignments' share.
Concentrations of at least 1 keep the posterior away from spikes at 0, which NUTS
samples badly (with level-wise concentrations 0.25 a test fit reached a bulk ESS of
64 of 1000 draws).

Identifiability
---------------
Without labels the class-conditional normal mixture is identified up to a
permutation of the classes (finite normal mixtures are identifiable; Yakowitz &
Spragins 1968), so, unlike latent-class analysis of binary tests, which needs three
conditionally independent tests, one continuous marker is formally enough.  The
indicator then fixes which component is which: the prior above (agreement more
likely than disagreement) and the data, as long as each class is recorded as
itself more often than as any one other class.  The price is the normality
assumption: the mixture is identified *through* the class-conditional shape, so a
skewed marker can be mistaken for two classes.  The PPC of the marker model
(:mod:`~alsstats.models.diagnostic.criticism`) is the check.  Subjects with no
marker carry no information on :math:`z` and are left out, as in the standard fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alsstats.models.diagnostic.spec import DiagnosticSpec
from alsstats.schema import EL_ESCORIAL

__all__ = ["indicator_codes", "indicator_levels", "level_classes", "recorded_class_prior"]

_UNRECORDED = "unrecorded"


def _level_names(groups: np.ndarray, el_escorial: np.ndarray) -> np.ndarray:
    ee = pd.Series(el_escorial, dtype=object).where(pd.notna(el_escorial), _UNRECORDED)
    return np.where(groups == "ALS", "ALS:" + ee.astype(str).to_numpy(), groups).astype(str)


def indicator_levels(groups: np.ndarray, el_escorial: np.ndarray,
                     labels: np.ndarray, spec: DiagnosticSpec) -> tuple[str, ...]:
    """The indicator's levels among the subjects used in the fit (``labels >= 0``).

    Ordered by the class each level is recorded as (spec order), ALS levels by El
    Escorial certainty, then name.
    """
    names = _level_names(groups, el_escorial)[labels >= 0]
    klass = dict(zip(names, labels[labels >= 0], strict=True))
    rank = {f"ALS:{c}": i for i, c in enumerate(EL_ESCORIAL)}
    return tuple(sorted(set(names), key=lambda n: (klass[n], rank.get(n, len(rank)), n)))


def indicator_codes(groups: np.ndarray, el_escorial: np.ndarray, labels: np.ndarray,
                    levels: tuple[str, ...]) -> np.ndarray:
    """Index of each subject's level in ``levels`` (-1 where ``labels`` is -1)."""
    names = _level_names(groups, el_escorial)
    index = {name: j for j, name in enumerate(levels)}
    return np.array([index[n] if k >= 0 else -1 for n, k in zip(names, labels, strict=True)],
                    dtype=np.int64)


def level_classes(levels: tuple[str, ...], spec: DiagnosticSpec) -> np.ndarray:
    """Class index (spec order) each indicator level records."""
    mapping = spec.group_to_class()
    return np.array([spec.classes.index(mapping[name.split(":")[0]]) for name in levels],
                    dtype=np.int64)


def recorded_class_prior(spec: DiagnosticSpec) -> np.ndarray:
    """(K, K) Dirichlet concentrations of P(recorded class | true class) (module docstring)."""
    k = len(spec.classes)
    return np.where(np.eye(k, dtype=bool), spec.priors["label_agreement"],
                    spec.priors["label_disagreement"])
