"""A small power analysis for the demo, planned from the cohort itself.

1. Gray-matter slope trial: REML variance components of total gray matter (cm³) in the
   cohort's ALS patients (random intercept and slope) feed the GLS engine; n per arm for
   20/30/50% slowing over a 1-year, 3-visit schedule, and power curves over n.
2. ALSFRS-R trial (shipped ``trial_alsfrs`` scenario): simulated power over n with Monte
   Carlo SE, analysed by REML, against the analytic GLS power.
3. Diagnostic study: Buderer's n for the M1/precuneus cutoff's sensitivity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alsstats.models.lmm.engine import fit_lmm_formula
from alsstats.power import (
    buderer_sample_size,
    power_curve,
    read_trial_scenario,
    slope_sample_size,
)

__all__ = ["PowerPlan", "plan_power"]

GM_VISITS = (0.0, 0.5, 1.0)
SLOWINGS = (0.2, 0.3, 0.5)


@dataclass
class PowerPlan:
    """Tables behind the demo's power section."""

    gm_components: pd.DataFrame  # quantity, estimate (REML, ALS total GM in cm³)
    gm_sample_sizes: pd.DataFrame  # slowing, delta, n_per_arm
    gm_curves: pd.DataFrame        # slowing, n_per_arm, power
    trial_name: str
    trial_curve: pd.DataFrame      # n_control, power, mc_se, lower, upper, analytic_power, ...
    trial_replicates: int
    diagnostic: pd.DataFrame       # target, value


def plan_power(data: pd.DataFrame, *, seed: int, replicates: int = 200) -> PowerPlan:
    """Plan the three studies described in the module docstring."""
    als = data[data["group"] == "ALS"].dropna(subset=["total_gm_volume_mm3"])
    als = als.assign(total_gm_cm3=als["total_gm_volume_mm3"] / 1000.0)
    fit = fit_lmm_formula("total_gm_cm3 ~ years_from_baseline + (years_from_baseline | "
                          "subject_id)", als, "reml")
    slope = fit.coef("years_from_baseline")
    g = fit.random_cov
    components = pd.DataFrame({
        "quantity": ["mean slope (cm³/year)", "SD of slope", "SD of intercept",
                     "intercept–slope covariance", "residual SD", "subjects", "visits"],
        "estimate": [slope, np.sqrt(g[1, 1]), np.sqrt(g[0, 0]), g[0, 1], fit.sigma,
                     fit.n_subjects, fit.n_obs]})
    design = {"var_intercept": g[0, 0], "var_slope": g[1, 1], "cov_intercept_slope": g[0, 1],
              "var_residual": fit.sigma**2}
    sizes, curves = [], []
    grid = np.arange(20, 1001, 10)
    for slowing in SLOWINGS:
        res = slope_sample_size(GM_VISITS, pct_change=slowing, slope=slope, power=0.8,
                                **design)
        sizes.append({"slowing": slowing, "delta_cm3_per_year": res.delta,
                      "n_per_arm": int(np.ceil(res.n_control - 1e-9)),
                      "total": int(2 * np.ceil(res.n_control - 1e-9))})
        for n in grid:
            curves.append({"slowing": f"{slowing:.0%} slowing", "n_per_arm": int(n),
                           "power": slope_sample_size(GM_VISITS, pct_change=slowing,
                                                      slope=slope, n=float(n),
                                                      **design).power})
    scenario = read_trial_scenario("trial_alsfrs")
    rows = power_curve(scenario, n_control=[30, 50, 80, 110], replicates=replicates, seed=seed)
    trial = pd.DataFrame(rows)
    trial["lower"] = (trial["power"] - 1.96 * trial["mc_se"]).clip(0, 1)
    trial["upper"] = (trial["power"] + 1.96 * trial["mc_se"]).clip(0, 1)
    trial["n_active"] = trial["n_control"] * scenario.arms[1].n // scenario.arms[0].n
    bud = buderer_sample_size(sensitivity=0.42, specificity=0.90, conf_width=0.2,
                              prevalence=0.5)
    diagnostic = pd.DataFrame({
        "target": ["ALS patients for sensitivity 0.42 ± 0.10 (95% CI)",
                   "controls for specificity 0.90 ± 0.10 (95% CI)",
                   "total at prevalence 0.5 (the larger requirement)"],
        "value": [bud.n_diseased, bud.n_non_diseased, bud.n_total]})
    return PowerPlan(components, pd.DataFrame(sizes), pd.DataFrame(curves), scenario.name,
                     trial, replicates, diagnostic)

