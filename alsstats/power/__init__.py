"""Power and sample size: analytic engines and Monte Carlo simulation, local or on Dask.

* :mod:`~alsstats.power.slope` — one GLS information engine for slope-endpoint trials
  (Diggle, Liu–Liang, Edland; dropout, allocation, common baseline).
* :mod:`~alsstats.power.ttest` — two-sample t test with the noncentral t (pwr).
* :mod:`~alsstats.power.diagnostic` — interval widths (Wald/Buderer, Wilson,
  Agresti–Coull, exact), Hanley–McNeil, Obuchowski, exact binomial tests.
* :mod:`~alsstats.power.prediction` — Riley et al. minimum sample sizes.
* :mod:`~alsstats.power.scenario`, :mod:`~alsstats.power.trials`,
  :mod:`~alsstats.power.simulate` — simulated trials (REML, EGLS, two-stage).
* :mod:`~alsstats.power.diagnostic_sim` — simulated diagnostic studies (DeLong).
* :mod:`~alsstats.power.decline` — detecting gray-matter decline with n patients scanned twice.
* :mod:`~alsstats.power.groupseq` — Lan–DeMets group-sequential boundaries.
* :mod:`~alsstats.power.sequential` — Bayesian decision rules with interim looks (simulated).
* :mod:`~alsstats.power.assurance` — probability of success over a pilot posterior.
* :mod:`~alsstats.power.joint` — joint model of slope and death (informative dropout).
* :mod:`~alsstats.power.enrichment` — NfL enrichment: screening, sample size, cost.
* :mod:`~alsstats.power.engine` — serial / process / Dask execution, checkpoints.

Public names are imported lazily (``alsstats power slope`` loads neither SciPy nor Dask).
"""

from alsstats._lazy import lazy_exports

_WHERE = {
    "DecisionRule": "sequential",
    "DeclinePower": "decline",
    "EffectPrior": "assurance",
    "Power": "_results",
    "PowerCurve": "_results",
    "SampleSize": "_results",
    "TrialScenario": "scenario",
    "analytic_power": "simulate",
    "analytic_se": "simulate",
    "assurance": "assurance",
    "auc_ci_sample_size": "diagnostic",
    "auc_test_sample_size": "diagnostic",
    "binary_sample_size": "prediction",
    "calibrate_threshold": "sequential",
    "buderer_sample_size": "diagnostic",
    "cohort_auc_power": "diagnostic_sim",
    "compare_auc_power": "diagnostic_sim",
    "continuous_sample_size": "prediction",
    "crossing_probabilities": "groupseq",
    "cstatistic_to_r2_cs": "prediction",
    "decline_detection_power": "decline",
    "edland_sample_size": "slope",
    "enrichment_design": "enrichment",
    "enrichment_population": "enrichment",
    "exchangeable_covariance": "slope",
    "fit_joint": "joint",
    "group_sequential_design": "groupseq",
    "hanley_mcneil_se": "diagnostic",
    "liu_liang_sample_size": "slope",
    "map_replicates": "engine",
    "parse_effect_prior": "assurance",
    "pilot_draws": "assurance",
    "power_curve": "simulate",
    "proportion_ci": "diagnostic",
    "proportion_ci_sample_size": "diagnostic",
    "random_effects_covariance": "slope",
    "read_trial_scenario": "scenario",
    "sensitivity_test_sample_size": "diagnostic",
    "sequential_design": "sequential",
    "simulate_power": "simulate",
    "simulate_sequential": "sequential",
    "slope_sample_size": "slope",
    "survival_sample_size": "prediction",
    "t_test_power": "ttest",
    "t_test_sample_size": "ttest",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
