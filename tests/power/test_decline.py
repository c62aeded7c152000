"""Simulated power of a paired test for decline (the seed's question)."""

from __future__ import annotations

import numpy as np
import pytest

from alsstats.errors import SpecError
from alsstats.power.decline import decline_detection_power


def test_power_is_seed_stable_and_reports_mc_error():
    a = decline_detection_power(7, 0.7, n_replicates=400, seed=5)
    b = decline_detection_power(7, 0.7, n_replicates=400, seed=5)
    assert a == b
    assert a.mc_se == pytest.approx(np.sqrt(a.power * (1 - a.power) / 400))
    assert -0.02 < a.mean_change < -0.008          # ALS: −2 %/y over 0.7 y ≈ −0.014 (log)


def test_power_grows_with_n_and_follow_up_and_is_low_in_controls():
    small = decline_detection_power(5, 0.5, n_replicates=400, seed=1)
    big = decline_detection_power(30, 1.0, n_replicates=400, seed=1)
    hc = decline_detection_power(5, 0.5, group="HC", n_replicates=400, seed=1)
    # each has MC SE <= 0.025, so these gaps are > 4 SE
    assert big.power > small.power + 0.2 and big.power > 0.95
    assert hc.power < small.power


def test_seed_design_matches_the_generator_calibration():
    # issue 2 calibrates the seed design (7 ALS_established, 0.7 y, seed_replicate scenario) to
    # a detection rate of 65-90 %; 1000 replicates give MC SE <= 0.016.
    r = decline_detection_power(7, 0.7, group="ALS_established", scenario="seed_replicate",
                                n_replicates=1000, seed=2)
    assert 0.65 <= r.power <= 0.90


def test_bad_arguments():
    for kwargs in ({"n": 1, "dt": 1.0}, {"n": 5, "dt": 0.0}, {"n": 5, "dt": 1, "alpha": 2},
                   {"n": 5, "dt": 1, "group": "XYZ"}, {"n": 5, "dt": 1, "outcome": "nope"}):
        with pytest.raises(SpecError):
            decline_detection_power(n_replicates=10, seed=0, **kwargs)


def test_many_replicates_are_simulated_in_bounded_blocks(monkeypatch):
    """Above MAX_SIMULATED_PATIENTS the replicates run in blocks: no simulation is larger."""
    import alsstats.power.decline as decline
    import alsstats.simulate as simulate

    sizes = []
    real = simulate.simulate_cohort

    def recording(scenario, **kwargs):
        sizes.append(sum(s.n for s in scenario.strata.values()))
        return real(scenario, **kwargs)

    monkeypatch.setattr(simulate, "simulate_cohort", recording)
    one = decline.decline_detection_power(7, 0.7, n_replicates=30, seed=5)
    assert sizes == [210]
    monkeypatch.setattr(decline, "MAX_SIMULATED_PATIENTS", 70)  # 10 replicates per block
    sizes.clear()
    blocked = decline.decline_detection_power(7, 0.7, n_replicates=25, seed=5)
    assert sizes == [70, 70, 35]
    again = decline.decline_detection_power(7, 0.7, n_replicates=25, seed=5)
    assert blocked == again and blocked.n_replicates == 25
    assert abs(blocked.power - one.power) < 0.5 and blocked.mean_change < 0
    monkeypatch.setattr(decline, "MAX_SIMULATED_PATIENTS", 500_000)
    assert decline.decline_detection_power(7, 0.7, n_replicates=30, seed=5) == one
