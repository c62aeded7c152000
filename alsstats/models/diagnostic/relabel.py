r"""Relabelling the draws of a latent-class fit by its identifiability condition.

The latent-class likelihood (:mod:`~alsstats.models.diagnostic.latent`) is the same
for every permutation :math:`\sigma` of the true classes applied at once to the class
means, scales, shares and the rows of the record matrix :math:`\rho` (P(recorded
class | true class)), and so is the prior: the record matrix's prior is symmetrised
over the permutations
(:func:`~alsstats.models.diagnostic.graph.symmetrised_record_prior`) and every other
class-indexed prior is exchangeable.  The posterior therefore has one copy of each
mode per permutation, and a chain that settles in a swapped copy (the component
labelled ALS holding the controls' markers) carries the same information as one in
the right copy.  Every draw is mapped to the copy in which each class is recorded as
itself more often than as another (the identifiability condition of
``docs/models/latent-class.md``):

.. math::

    \hat\sigma_d = \arg\max_\sigma \sum_k \log \rho_{d, \sigma(k) k},

the permutation under which the row-wise Dirichlet prior (diagonal concentration
:math:`a` > off-diagonal :math:`d`; its log density is
:math:`(a - d)\sum_k \log \rho_{\sigma(k)k}` plus a constant) is largest, found by
the assignment algorithm (:func:`scipy.optimize.linear_sum_assignment`).  This is an
identifiability-constraint relabelling of a permutation-invariant posterior (Stephens
2000, *J R Stat Soc B* 62:795-809); a draw already in that labelling is unchanged.  The
convergence diagnostics are computed after relabelling, so a fit whose chains sat in
different copies of one mode passes, and one whose chains disagree beyond a relabelling
still fails.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.optimize import linear_sum_assignment

__all__ = ["class_permutations", "relabel_posterior"]


def class_permutations(record_prob: np.ndarray) -> np.ndarray:
    """Per draw, the class order that maximises :math:`\\sum_k \\log\\rho_{\\sigma(k)k}`.

    Parameters
    ----------
    record_prob
        (..., K, K) draws of P(recorded class | true class), rows true classes.

    Returns
    -------
    numpy.ndarray
        (..., K) integer permutations: the relabelled class ``k`` is the old class
        ``perm[..., k]``.
    """
    rho = np.asarray(record_prob, dtype=float)
    k = rho.shape[-1]
    flat = np.log(np.clip(rho.reshape(-1, k, k), 1e-300, None))
    perms = np.empty((flat.shape[0], k), dtype=np.int64)
    for i, log_rho in enumerate(flat):
        # rows: new class k, columns: old class j; gain log rho[j, k]
        _, perms[i] = linear_sum_assignment(log_rho.T, maximize=True)
    return perms.reshape(*rho.shape[:-2], k)


def relabel_posterior(posterior: xr.Dataset, classes: tuple[str, ...],
                      per_class_suffixes: bool = False) -> tuple[xr.Dataset, np.ndarray]:
    """Apply :func:`class_permutations` of ``record_prob`` to every class-indexed draw.

    Parameters
    ----------
    posterior
        Posterior group (dims ``chain``, ``draw`` first) of a latent-class fit.
        Every variable with a ``class`` dimension (``mu``, ``sigma_class``, ``Sigma``,
        ``class_share``, the rows of ``record_prob``, ``level_prob_*`` and
        ``indicator_prob``) is permuted along it; the recorded classes
        (``class_recorded``) and indicator levels are observed and stay as they are.
    classes
        The spec's classes, in ``class`` order.
    per_class_suffixes
        ``covariance = "per_class"``: variables named ``<name>_<class>`` (one per
        class, e.g. ``sigma_ALS``) are permuted among the classes as well.

    Returns
    -------
    (posterior, permutations)
        The relabelled posterior and the (chain, draw, K) permutations applied.
    """
    perms = class_permutations(posterior["record_prob"].transpose(
        "chain", "draw", "class", "class_recorded").values)
    out = posterior.copy()
    for name, var in posterior.data_vars.items():
        if "class" in var.dims:
            out[name] = var.copy(data=_take_classes(var.values, var.get_axis_num("class"),
                                                    perms))
    if per_class_suffixes:
        for stem in _per_class_stems(posterior, classes):
            stacked = np.stack([posterior[f"{stem}_{c}"].values for c in classes], axis=2)
            moved = _take_classes(stacked, 2, perms)
            for k, c in enumerate(classes):
                out[f"{stem}_{c}"] = posterior[f"{stem}_{c}"].copy(data=moved[:, :, k])
    return out, perms


def _take_classes(values: np.ndarray, axis: int, perms: np.ndarray) -> np.ndarray:
    """``values`` (chain, draw, ...) with its ``axis`` reordered draw by draw by ``perms``."""
    moved = np.moveaxis(values, axis, 2)                                   # (C, D, K, ...)
    index = perms.reshape(*perms.shape, *([1] * (moved.ndim - 3)))
    return np.moveaxis(np.take_along_axis(moved, index, axis=2), 2, axis)


def _per_class_stems(posterior: xr.Dataset, classes: tuple[str, ...]) -> list[str]:
    """Names ``stem`` for which ``stem_<class>`` is a variable for every class."""
    first = f"_{classes[0]}"
    stems = [str(n)[: -len(first)] for n, v in posterior.data_vars.items()
             if str(n).endswith(first) and "class" not in v.dims]
    return [s for s in stems if all(f"{s}_{c}" in posterior for c in classes)]
