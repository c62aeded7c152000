"""Biomarker enrichment: exact bookkeeping on a constructed population, the generator's NfL."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alsstats.errors import AlsStatsError
from alsstats.power.enrichment import (
    EnrichmentPopulation,
    enrichment_design,
    enrichment_population,
)
from alsstats.power.slope import slope_sample_size

TIMES = [0, 2, 4, 6, 8, 10, 12]


def constructed(n=1000) -> EnrichmentPopulation:
    """Marker = rank, decline rising with it: every eligible fraction is known exactly."""
    rng = np.random.default_rng(5)
    marker = np.arange(n, dtype=float)
    decline = 0.5 + marker / n + rng.normal(0, 0.2, n)
    return EnrichmentPopulation(marker, decline, 40 + rng.normal(0, 4, n), sd_residual=1.5)


def test_rows_are_the_gls_answer_for_the_enrolled_patients_moments():
    pop = constructed()
    res = enrichment_design(pop, TIMES, slowing=0.3, thresholds=[None, 250, 750],
                            cost_screen=2.0, cost_enrolled=10.0, allocation=2.0)
    none, q1, q3 = res.rows
    assert [none["eligible"], q1["eligible"], q3["eligible"]] == [1.0, 0.75, 0.25]
    assert q3["screening_ratio"] == 4.0
    sel = pop.marker >= 750
    cov = np.cov(pop.baseline[sel], -pop.decline[sel])
    n = slope_sample_size(TIMES, delta=0.3 * pop.decline[sel].mean(), power=0.8,
                          var_intercept=cov[0, 0], var_slope=cov[1, 1],
                          cov_intercept_slope=cov[0, 1], var_residual=1.5**2, allocation=2.0,
                          common_baseline=True)
    assert q3["n_control_exact"] == n.n_exact and q3["n_control"] == n.n
    assert q3["enrolled"] == n.n + math.ceil(2 * n.n)
    assert q3["screened"] == q3["enrolled"] * 4
    assert q3["cost"] == 2.0 * q3["screened"] + 10.0 * q3["enrolled"]
    # A strongly prognostic marker: a quarter of the enrolment, at a quarter eligible.
    assert q3["enrolled"] < none["enrolled"] / 3
    assert res.best["enrolled"] == 750
    assert res.best["cost"] == min(res.rows, key=lambda r: r["cost"])["threshold"]
    assert q3["eligible_mc_se"] == pytest.approx(math.sqrt(0.25 * 0.75 / 1000), rel=1e-12)


def test_generator_population_nfl_is_prognostic():
    # The default scenario links log NfL to progression (log dFS), which correlates with
    # the post-baseline decline: the mean decline rises with the threshold (beyond 4 of
    # its MC SEs between no threshold and the 80th percentile).
    pop = enrichment_population("default", 3000, seed=3)
    assert pop.marker.size == 3000 and np.isnan(pop.marker).mean() < 0.1
    res = enrichment_design(pop, TIMES, slowing=0.3)
    first, last = res.rows[0], res.rows[-1]
    assert first["threshold"] is None and last["eligible"] == pytest.approx(0.2, abs=0.03)
    gap = last["mean_decline"] - first["mean_decline"]
    assert gap > 4 * math.hypot(first["mean_decline_mc_se"], last["mean_decline_mc_se"])


def test_bad_inputs_are_errors():
    pop = constructed(100)
    with pytest.raises(AlsStatsError, match="keeps 5 of 100"):
        enrichment_design(pop, TIMES, slowing=0.3, thresholds=[95])
    with pytest.raises(AlsStatsError, match="slowing must be a fraction"):
        enrichment_design(pop, TIMES, slowing=1.5)
    with pytest.raises(AlsStatsError, match="no 'XYZ' stratum"):
        enrichment_population("default", 100, group="XYZ")
