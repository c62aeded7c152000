"""Seed longitudinal design: 7 ALS scanned twice, 0.7 y apart (issue 2).

Total gray matter must decline significantly (paired t-test, p < 0.05) in roughly 65-90% of
replicates, M1 in fewer than 20%.  Replicates are 7-subject blocks of one large simulation
of the `seed_replicate` scenario: subjects are independent and site offsets cancel in the
paired differences, so each block is an exact draw of the seed design.  With 1,500
replicates the MC SE of a rejection rate is <= 0.013.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ttest_rel

from alsstats.simulate import simulate_cohort

N_REP = 1500


@pytest.fixture(scope="module")
def paired():
    data, _ = simulate_cohort("seed_replicate", seed=7, n_per_group={"ALS_established": 7 * N_REP})
    wide = data.pivot(index="subject_id", columns="visit")
    assert (data.groupby("subject_id").size() == 2).all()
    assert np.allclose(data.loc[data["visit"] == 1, "years_from_baseline"], 0.7)
    return wide


def _rejection_rate(wide, column):
    before = wide[(column, 0)].to_numpy().reshape(N_REP, 7)
    after = wide[(column, 1)].to_numpy().reshape(N_REP, 7)
    p = ttest_rel(after, before, axis=1).pvalue
    return np.mean(p < 0.05)


def test_total_gray_matter_decline_detected(paired):
    power = _rejection_rate(paired, "total_gm_volume_mm3")
    assert 0.65 <= power <= 0.90


def test_m1_decline_rarely_detected(paired):
    assert _rejection_rate(paired, "m1_volume_mm3") < 0.20
