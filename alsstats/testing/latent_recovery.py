"""Recovery of a marker's accuracy by the latent-class model when labels are wrong.

Each replicate simulates the default scenario's ALS and HC strata with a known share
of the recorded groups wrong (:func:`alsstats.simulate.simulate_cohort`,
``label_error``), fits the latent-class spec (classes ALS and HC, all six markers;
:mod:`alsstats.models.diagnostic.latent`) to all replicates with one compiled model
(``fit_many``), and checks the central intervals of NfL's sensitivity and specificity
at a cutoff (:func:`~alsstats.models.diagnostic.accuracy.marker_accuracy`) against
the sample's true values, beside the same intervals counted against the recorded
labels (the gold-standard analysis).  Used by ``benchmarks/bench_latent_class.py``
and the slow test ``tests/models/test_diagnostic_latent_recovery.py``.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd

from alsstats.models.diagnostic.accuracy import marker_accuracy
from alsstats.models.diagnostic.model import DiagnosticModel
from alsstats.models.diagnostic.spec import DiagnosticSpec, default_spec
from alsstats.simulate import simulate_cohort

__all__ = ["latent_spec", "recovery_study", "summarise", "true_accuracy"]


def latent_spec(classes=("ALS", "HC"), exclude=()) -> DiagnosticSpec:
    """The default spec with ``reference = "latent"``, ``classes`` and every marker but
    those in ``exclude``."""
    spec = default_spec().to_dict()
    spec["model"].update(reference="latent", classes=list(classes))
    spec["markers"] = {k: v for k, v in spec["markers"].items() if k not in exclude}
    return DiagnosticSpec.from_dict(spec)


def true_accuracy(data: pd.DataFrame, truth, marker: str,
                  cutoff: float) -> tuple[float, float]:
    """Sample sensitivity and specificity of ``marker > cutoff`` against the true groups
    (ALS and HC subjects with the marker, baseline visit)."""
    base = data[data["visit"] == 0].merge(
        truth.subjects[["subject_id", "group"]].rename(columns={"group": "true"}),
        on="subject_id")
    base = base[base["group"].isin(["ALS", "HC"]) & base[marker].notna()]
    als = base["true"].eq("ALS").to_numpy()
    pos = (base[marker] > cutoff).to_numpy()
    return float((pos & als).sum() / als.sum()), float((~pos & ~als).sum() / (~als).sum())


def recovery_study(replicates: int, *, n: int = 150, label_error: float = 0.2,
                   cutoff: float = 25.0, draws: int = 600, chains: int = 2,
                   seed: int = 2026, interval: float = 0.9,
                   exclude: tuple[str, ...] = ()) -> tuple[pd.DataFrame, float]:
    """One row per replicate and reference (``latent``, ``recorded``); and the seconds.

    Replicate ``r`` is ``simulate_cohort("default", seed=seed + r, ...)`` with ``n``
    subjects in each of ALS and HC; the fits use ``draws`` tuning and ``draws`` kept
    draws per chain and child seeds of ``seed``; ``exclude``: markers left out of the
    latent-class spec (e.g. the marker whose accuracy is estimated).
    """
    cohorts = [simulate_cohort("default", seed=seed + r, label_error=label_error,
                               n_per_group={"ALS": n, "HC": n, "PMA": 0, "MIMIC": 0})
               for r in range(replicates)]
    start = time.perf_counter()
    fits = DiagnosticModel(spec=latent_spec(exclude=exclude), draws=draws, tune=draws,
                           chains=chains, seed=seed).fit_many([data for data, _ in cohorts])
    seconds = time.perf_counter() - start
    rows = []
    for r, (fit, (data, truth)) in enumerate(zip(fits, cohorts, strict=True)):
        se, sp = true_accuracy(data, truth, "nfl_pg_ml", cutoff)
        table = marker_accuracy(fit, data, "nfl_pg_ml", cutoff, interval=interval,
                                seed=r).table
        relabelled = json.loads(fit.idata_.posterior.attrs["relabelled_draws_json"])
        for _, row in table.iterrows():
            rows.append({"replicate": r, "reference": row["reference"], "true_se": se,
                         "true_sp": sp, "se": row["sensitivity"], "sp": row["specificity"],
                         "se_covers": bool(row["sensitivity_low"] <= se
                                           <= row["sensitivity_high"]),
                         "sp_covers": bool(row["specificity_low"] <= sp
                                           <= row["specificity_high"]),
                         "converged": bool(fit.convergence_.ok),
                         "max_rhat": float(fit.convergence_.max_rhat),
                         "relabelled_draws": int(sum(relabelled["per_chain"]))})
    return pd.DataFrame(rows), seconds


def summarise(rows: pd.DataFrame) -> dict:
    """Coverage and mean error (with binomial / normal MC SE) per reference and quantity."""
    summary = {}
    for ref, sub in rows.groupby("reference"):
        n = len(sub)
        for what in ("se", "sp"):
            cover = float(sub[f"{what}_covers"].mean())
            error = sub[what] - sub[f"true_{what}"]
            summary[f"{ref}_{what}_coverage"] = cover
            summary[f"{ref}_{what}_coverage_mc_se"] = float(np.sqrt(cover * (1 - cover) / n))
            summary[f"{ref}_{what}_bias"] = float(error.mean())
            summary[f"{ref}_{what}_bias_mc_se"] = float(error.std(ddof=1) / np.sqrt(n))
    latent = rows[rows["reference"] == "latent"]
    summary.update(replicates=len(latent), converged=int(latent["converged"].sum()),
                   fits_with_relabelled_draws=int((latent["relabelled_draws"] > 0).sum()),
                   max_rhat=float(latent["max_rhat"].max()))
    return summary
