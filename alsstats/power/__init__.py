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
* :mod:`~alsstats.power.engine` — serial / process / Dask execution, checkpoints.
"""

from alsstats.power.decline import DeclinePower, decline_detection_power
from alsstats.power.diagnostic import (
    auc_ci_sample_size,
    auc_test_sample_size,
    buderer_sample_size,
    hanley_mcneil_se,
    proportion_ci,
    proportion_ci_sample_size,
    sensitivity_test_sample_size,
)
from alsstats.power.diagnostic_sim import cohort_auc_power, compare_auc_power
from alsstats.power.engine import map_replicates
from alsstats.power.prediction import (
    binary_sample_size,
    continuous_sample_size,
    survival_sample_size,
)
from alsstats.power.scenario import TrialScenario, read_trial_scenario
from alsstats.power.simulate import analytic_power, power_curve, simulate_power
from alsstats.power.slope import (
    edland_sample_size,
    exchangeable_covariance,
    liu_liang_sample_size,
    random_effects_covariance,
    slope_sample_size,
)
from alsstats.power.ttest import t_test_power, t_test_sample_size

__all__ = [
    "DeclinePower",
    "TrialScenario",
    "analytic_power",
    "auc_ci_sample_size",
    "auc_test_sample_size",
    "binary_sample_size",
    "buderer_sample_size",
    "cohort_auc_power",
    "compare_auc_power",
    "continuous_sample_size",
    "decline_detection_power",
    "edland_sample_size",
    "exchangeable_covariance",
    "hanley_mcneil_se",
    "liu_liang_sample_size",
    "map_replicates",
    "power_curve",
    "proportion_ci",
    "proportion_ci_sample_size",
    "random_effects_covariance",
    "read_trial_scenario",
    "sensitivity_test_sample_size",
    "simulate_power",
    "slope_sample_size",
    "survival_sample_size",
    "t_test_power",
    "t_test_sample_size",
]
