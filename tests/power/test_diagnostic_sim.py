"""Simulated diagnostic-study power (paired DeLong test; synthetic cohorts)."""

from __future__ import annotations

import numpy as np
import pytest

from alsstats.errors import AlsStatsError
from alsstats.power.diagnostic_sim import cohort_auc_power, compare_auc_power


def test_equal_aucs_reject_at_alpha():
    # 1000 replicates: MC SE ≈ 0.0069 at 0.05; checked at 2.5 MC SE (DeLong's test is
    # asymptotic: at 60 + 60 its size is close to, not exactly, 0.05).
    res = compare_auc_power(0.8, 0.8, 60, 60, corr_positive=0.6, corr_negative=0.6,
                            replicates=1000, seed=3, chunk_size=250)
    assert res.failed == 0
    assert abs(res.power - 0.05) <= 2.5 * res.mc_se


def test_correlation_increases_power_of_paired_test():
    kw = dict(replicates=400, seed=4, chunk_size=200)
    low = compare_auc_power(0.85, 0.75, 60, 60, corr_positive=0.1, corr_negative=0.1, **kw)
    high = compare_auc_power(0.85, 0.75, 60, 60, corr_positive=0.8, corr_negative=0.8, **kw)
    assert high.power > low.power + 3 * np.hypot(high.mc_se, low.mc_se)
    assert high.mean_auc[0] == pytest.approx(0.85, abs=0.01)
    assert high.mean_auc[1] == pytest.approx(0.75, abs=0.015)


def test_cohort_study_power_runs_on_the_generator():
    res = cohort_auc_power(["nfl_pg_ml"], n_per_group=15, auc_null=0.6, replicates=6, seed=1,
                           chunk_size=3)
    assert res.successful + res.failed == 6
    assert res.power == res.rejections / res.successful
    assert res.mean_n_positive > 0 and res.mean_n_negative > 0
    two = cohort_auc_power(["nfl_pg_ml", "m1_precuneus_ratio"], directions=[">", "<"],
                           n_per_group=15, replicates=4, seed=1)
    assert two.successful + two.failed == 4


def test_cohort_study_input_errors():
    with pytest.raises(AlsStatsError, match="unknown marker"):
        cohort_auc_power(["nfl"], n_per_group=10, replicates=2)
    with pytest.raises(AlsStatsError, match="directions"):
        cohort_auc_power(["nfl_pg_ml"], directions=["up"], n_per_group=10, replicates=2)
