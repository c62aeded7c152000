"""Simulation-based calibration (Talts et al. 2018): rank statistics and the model runs.

The rank/uniformity helpers are checked on exact cases (default tier); the SBC runs of
both Bayesian models are in the slow tier (numbers in benchmarks/RESULTS.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from alsstats.errors import AlsStatsError
from alsstats.validation.sbc import (
    rank_statistics,
    sbc_diagnostic,
    sbc_longitudinal,
    uniformity_table,
)


def test_rank_counts_draws_below_the_truth():
    draws = np.arange(20.0).reshape(2, 10)                 # chains x draws: 0..19
    post = xr.Dataset({"a": (("chain", "draw"), draws),
                       "v": (("chain", "draw", "k"), np.stack([draws, -draws], axis=-1))})
    ranks = rank_statistics({"a": 4.5, "v": np.array([10.5, -0.5])}, post, n_rank_draws=20)
    assert ranks == {"a": 5, "v[0]": 11, "v[1]": 19}


def test_uniformity_table_is_pearsons_chi_square():
    ranks = pd.DataFrame({"flat": np.repeat(np.arange(100), 3),
                          "peaked": np.full(300, 50)})
    table = uniformity_table(ranks, n_rank_draws=99, n_bins=10).set_index("parameter")
    assert table.loc["flat", "chi2"] == 0.0 and table.loc["flat", "p_value"] == 1.0
    # All 300 in one of 10 bins: chi2 = (300 - 30)^2/30 + 9 * 30 = 2700.
    assert table.loc["peaked", "chi2"] == pytest.approx(2700.0)
    with pytest.raises(AlsStatsError, match="multiple of n_bins"):
        uniformity_table(ranks, n_rank_draws=100, n_bins=10)


@pytest.mark.slow
def test_sbc_longitudinal_ranks_are_uniform():
    result = sbc_longitudinal(n_replicates=100, seed=1)
    assert result.passed(alpha=0.01), result.table


@pytest.mark.slow
def test_sbc_diagnostic_ranks_are_uniform():
    result = sbc_diagnostic(n_replicates=100, seed=1)
    assert result.passed(alpha=0.01), result.table
