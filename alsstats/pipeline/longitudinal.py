"""Gray-matter decline for the demo: the Bayesian longitudinal model and the seed's question.

Fits :class:`~alsstats.models.longitudinal.model.LongitudinalModel` (Bayesian, nutpie) to total
gray matter (cm³) with group-specific slopes, age, sex and eTIV, and site offsets; then
answers "given n patients scanned twice Δt apart, how likely is a significant decline?"
by simulation from the generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alsstats._units import years_per_unit
from alsstats.models.longitudinal.model import LongitudinalModel
from alsstats.power.decline import decline_detection_power
from alsstats.random import spawn_seeds

__all__ = ["DeclineResults", "decline_tables", "fit_decline"]


@dataclass
class DeclineResults:
    """Tables behind the demo's longitudinal section."""

    summary: pd.DataFrame        # term, mean, sd, lower, upper, ess_bulk, r_hat (+ %/unit)
    trajectories: pd.DataFrame   # group, time, estimate, lower, upper
    # subject, group, percent_per_time_unit, lower, upper, p_decline_over_threshold
    subject_slopes: pd.DataFrame
    convergence: pd.DataFrame    # check, value
    converged: bool
    detection: pd.DataFrame | None  # scenario, patients, years_apart, gm/m1 power, mc_se
    n_subjects: int
    n_obs: int
    spec_json: str = ""
    time_unit: str = "years"
    threshold_pct_per_year: float = 2.0
    controls: tuple[str, ...] = ("HC",)


def fit_decline(data: pd.DataFrame, *, seed: int, draws: int | None = None,
                replicates: int = 1000) -> DeclineResults:
    """Fit the decline model to total gray matter and simulate the seed's detection question."""
    fit_seed, power_seed = (int(s.generate_state(1)[0]) for s in spawn_seeds(seed, 2))
    table = data.assign(total_gm_cm3=data["total_gm_volume_mm3"] / 1000.0)
    spec = None if draws is None else {"sampling": {"draws": draws, "tune": draws}}
    model = LongitudinalModel(spec=spec, method="bayes", outcome="total_gm_cm3",
                              covariates=("age", "sex", "etiv_mm3"), seed=fit_seed)
    model.fit(table)
    results = decline_tables(model)
    rows = []
    designs = [("seed_replicate", 7, 0.7), ("seed_replicate", 15, 0.7),
               ("seed_replicate", 7, 1.0), ("default", 7, 0.7)]
    for (scenario, n, dt), child in zip(designs, spawn_seeds(power_seed, len(designs)),
                                        strict=True):
        res = decline_detection_power(n, dt, scenario=scenario, n_replicates=replicates,
                                      seed=child)
        m1 = decline_detection_power(n, dt, scenario=scenario, outcome="m1_volume_mm3",
                                     n_replicates=replicates, seed=child)
        rows.append({"scenario": scenario, "patients": n, "years_apart": dt,
                     "gm_power": res.power, "gm_mc_se": res.mc_se,
                     "m1_power": m1.power, "m1_mc_se": m1.mc_se})
    results.detection = pd.DataFrame(rows)
    return results


def decline_tables(model: LongitudinalModel, *, threshold_pct_per_year: float = 2.0,
                   controls: tuple[str, ...] = ("HC",)) -> DeclineResults:
    """The report tables of a fitted decline model (``detection`` left empty).

    Slopes are per the model's time unit (``meta_['time_unit']``, default years).  The
    decline threshold is a rate per *year* converted to that unit, and applied to
    patients only: ``p_decline_over_threshold`` is missing for subjects of the
    ``controls`` groups, whose decline is not a question of disease progression.
    """
    unit = model.meta_.get("time_unit", "years")
    threshold = threshold_pct_per_year * years_per_unit(unit)
    summary = model.summary().reset_index().rename(columns={"index": "term"})
    trajectories = model.predict(level="group")[["group", "time", "estimate", "lower", "upper"]]
    slopes = model.subject_slopes()
    exceeds = model.prob_decline_exceeds(threshold, percent=True, level="subject")
    groups = slopes["group"].astype(str).to_numpy()
    p_exceeds = exceeds.reindex(slopes.index).to_numpy(dtype=float)
    subjects = pd.DataFrame({
        "subject": slopes.index, "group": slopes["group"].to_numpy(),
        "percent_per_time_unit": slopes["percent_per_time"].to_numpy(),
        "lower": slopes["percent_lower"].to_numpy(), "upper": slopes["percent_upper"].to_numpy(),
        "p_decline_over_threshold": np.where(np.isin(groups, controls), np.nan, p_exceeds)})
    checks = model.convergence_.to_dict()
    checks.update({f"policy: {k}": v for k, v in checks.pop("policy", {}).items()})
    convergence = pd.DataFrame({"check": list(checks),
                                "value": [f"{v:.4g}" if isinstance(v, float) else str(v)
                                          for v in checks.values()]})
    return DeclineResults(summary, trajectories, subjects, convergence, model.converged_,
                          None, model.meta_["n_subjects"], model.meta_["n_obs"],
                          model.spec_.to_json(), unit, threshold_pct_per_year, tuple(controls))
