r"""Choose the diagnostic model's marker distribution by PSIS-LOO against the Gaussian.

The normal model and each robust candidate (``student_t``, ``skew_normal``; spec
``[model] marker_distribution``) are fitted to the same cohort with the same spec
otherwise, and compared on the PSIS-LOO of each labelled subject's observed markers,
:math:`\log p(y_{i,o} \mid k_i, D_{-i})` (:func:`~alsstats.models.diagnostic.criticism.loo`;
the same data under every candidate, so the ELPDs are comparable).  The table follows
``arviz.compare``: per model ``elpd``, ``se``, ``p_loo``, ``d_elpd`` and ``dse`` (paired,
against the best model), the number of subjects with Pareto k > 0.7 and the largest k.

The rule (:mod:`alsstats.inference.loo_choice`, shared with the longitudinal model):
the Gaussian is kept unless the best robust candidate's ELPD exceeds the Gaussian's by
more than ``ELPD_SE_MARGIN`` (2) standard errors of their paired difference.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alsstats.errors import AlsStatsError, ParetoKWarning
from alsstats.inference.loo_choice import ELPD_SE_MARGIN, elpd_difference, prefers_richer
from alsstats.models.diagnostic.criticism import loo
from alsstats.models.diagnostic.model import DiagnosticModel
from alsstats.models.diagnostic.spec import (
    MARKER_DISTRIBUTIONS,
    ROBUST_PRIORS,
    DiagnosticSpec,
    load_spec,
)

__all__ = ["DistributionChoice", "choice_from_fits", "choose_marker_distribution",
           "compare_marker_distributions"]


@dataclass(frozen=True)
class DistributionChoice:
    """The chosen marker distribution, the comparison table and the fits.

    ``chosen``: ``"normal"`` or a robust candidate; ``difference`` and ``se``: its
    ELPD minus the Gaussian's and the SE of that paired difference (for the best
    candidate, also when the Gaussian is kept); ``table``:
    :func:`compare_marker_distributions`; ``fits``: the fitted models by distribution;
    ``seconds``: the wall time of each fit.
    """

    chosen: str
    difference: float
    se: float
    table: pd.DataFrame
    fits: dict[str, DiagnosticModel]
    seconds: dict[str, float]

    def to_dict(self) -> dict:
        return {"chosen": self.chosen, "elpd_difference": self.difference,
                "se_difference": self.se, "margin_se": ELPD_SE_MARGIN,
                "fit_seconds": self.seconds,
                "converged": {k: bool(m.convergence_.ok) for k, m in self.fits.items()},
                "comparison": self.table.to_dict(orient="records")}


def compare_marker_distributions(fits: dict[str, DiagnosticModel],
                                 df: pd.DataFrame) -> pd.DataFrame:
    """``arviz.compare``-style PSIS-LOO table of fits of the same markers and cohort.

    ``fits`` maps a name (the marker distribution) to a fitted model; ``df`` is the
    training table.  Returns one row per fit, best first: ``model``, ``elpd``, ``se``,
    ``p_loo``, ``d_elpd`` and ``dse`` (paired against the best), ``n_pareto_k_bad``
    (k > 0.7), ``max_pareto_k``, ``warning`` (True when any k > 0.7) and ``converged``.
    """
    return _table(_loo_by_fit(fits, df), fits)


def _loo_by_fit(fits: dict[str, DiagnosticModel], df: pd.DataFrame) -> dict:
    """PSIS-LOO of each fit (Pareto-k warnings counted in the table, not raised)."""
    if not fits:
        raise AlsStatsError("compare_marker_distributions needs at least one fit")
    markers = {m.spec_.marker_names for m in fits.values()}
    if len(markers) > 1:
        raise AlsStatsError("the fits must use the same markers (their LOOs are not "
                            f"comparable otherwise); got {sorted(markers)}")
    res = {}
    for name, model in fits.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ParetoKWarning)
            res[name] = loo(model, df)
    return res


def _table(res: dict, fits: dict[str, DiagnosticModel]) -> pd.DataFrame:
    best = max(res, key=lambda name: float(res[name].elpd_loo))
    rows = []
    for name, r in res.items():
        d, se = elpd_difference(res[name].loo_i.values, res[best].loo_i.values)
        k = np.asarray(r.pareto_k)
        rows.append({"model": name, "elpd": float(r.elpd_loo), "se": float(r.se),
                     "p_loo": float(r.p_loo), "d_elpd": d, "dse": se,
                     "n_pareto_k_bad": int((k > 0.7).sum()), "max_pareto_k": float(k.max()),
                     "warning": bool((k > 0.7).any()),
                     "converged": bool(fits[name].convergence_.ok)})
    return pd.DataFrame(rows).sort_values("elpd", ascending=False).reset_index(drop=True)


def choose_marker_distribution(df: pd.DataFrame, spec=None,
                               candidates: tuple[str, ...] = ("student_t",),
                               **model_args) -> DistributionChoice:
    """Fit the Gaussian and each candidate to ``df`` and choose by PSIS-LOO.

    Parameters
    ----------
    df
        Cohort table (each subject's baseline visit is used).
    spec
        The spec (anything :func:`~alsstats.models.diagnostic.spec.load_spec` takes);
        its ``marker_distribution`` is replaced by each candidate in turn.
    candidates
        Robust distributions to try (``"student_t"``, ``"skew_normal"``).
    **model_args
        :class:`~alsstats.models.diagnostic.model.DiagnosticModel` arguments (draws,
        tune, chains, seed, ...), the same for every fit.

    Returns
    -------
    DistributionChoice
        The rule of the module docstring applied to the table.
    """
    base = load_spec(spec)
    wrong = [c for c in candidates if c not in MARKER_DISTRIBUTIONS or c == "normal"]
    if wrong or not candidates:
        raise AlsStatsError(f"candidates must be robust marker distributions "
                            f"({', '.join(MARKER_DISTRIBUTIONS[1:])}); got {list(candidates)}")
    fits, seconds = {}, {}
    for name in ("normal", *dict.fromkeys(candidates)):
        start = time.perf_counter()
        fits[name] = DiagnosticModel(spec=_with_distribution(base, name), **model_args).fit(df)
        seconds[name] = round(time.perf_counter() - start, 1)
    return choice_from_fits(fits, df, seconds)


def choice_from_fits(fits: dict[str, DiagnosticModel], df: pd.DataFrame,
                     seconds: dict[str, float] | None = None) -> DistributionChoice:
    """The rule of the module docstring applied to fits already made.

    ``fits`` maps ``"normal"`` and one or more robust distributions to models fitted to
    ``df`` (same markers); ``seconds``: their fit times, if known.
    """
    if "normal" not in fits or len(fits) < 2:
        raise AlsStatsError(f"choice_from_fits needs a 'normal' fit and at least one "
                            f"robust fit; got {sorted(fits)}")
    res = _loo_by_fit(fits, df)
    best = max((name for name in fits if name != "normal"),
               key=lambda name: float(res[name].elpd_loo))
    d, se = elpd_difference(res["normal"].loo_i.values, res[best].loo_i.values)
    chosen = best if prefers_richer(d, se) else "normal"
    return DistributionChoice(chosen, d, se, _table(res, fits), fits, dict(seconds or {}))


def _with_distribution(spec: DiagnosticSpec, name: str) -> DiagnosticSpec:
    """``spec`` with ``marker_distribution = name`` (and the priors of that distribution)."""
    data = spec.to_dict()
    data["model"]["marker_distribution"] = name
    data["priors"] = {k: v for k, v in data["priors"].items()
                      if k not in ROBUST_PRIORS or ROBUST_PRIORS[k][0] == name}
    return DiagnosticSpec.from_dict(data)
