"""Simulated power agrees with the analytic GLS answer; failed fits are reported."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from alsstats.errors import ScenarioError
from alsstats.power.scenario import (
    Analysis,
    Arm,
    Dropout,
    Outcome,
    TrialScenario,
    read_trial_scenario,
)
from alsstats.power.simulate import power_curve, simulate_power
from alsstats.power.trials import TrialData, analyse_trial, simulate_trial

ROOT = Path(__file__).resolve().parents[2]
TRIALS = ROOT / "alsstats" / "power" / "scenarios"
ADAS_ANALYTIC = 0.8013014554737183   # GLS power at 208/arm (longpower's 0.801)


def adascog(method="reml", slowing=0.3, n=208, dropout=None) -> TrialScenario:
    return TrialScenario(visits=(0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5),
                         arms=(Arm("placebo", n), Arm("active", n, slowing)),
                         outcome=Outcome(20.0, 5.0, 55**0.5, 24**0.5, 0.8, 10**0.5),
                         dropout=dropout or Dropout(), analysis=Analysis(method=method))


def within(res, target, k):
    arm = res.arms[0]
    assert arm.failed_fits == 0
    assert abs(arm.power - target) <= k * arm.mc_se, (arm.power, arm.mc_se, target)


def test_shipped_adascog_scenario_matches_analytic_design():
    s = read_trial_scenario(TRIALS / "trial_adascog.toml")
    from alsstats.power.simulate import analytic_power

    assert analytic_power(s) == pytest.approx(ADAS_ANALYTIC, rel=1e-8)


def test_reml_power_near_analytic_default_tier():
    # 300 REML fits: MC SE ≈ 0.023; the fixed seed is checked at 2 MC SE.
    res = simulate_power(adascog("reml"), 300, 2026)
    assert res.arms[0].analytic_power == pytest.approx(ADAS_ANALYTIC)
    within(res, ADAS_ANALYTIC, 2)


def test_reml_null_rejection_rate_default_tier():
    res = simulate_power(adascog("reml", slowing=0.0), 300, 7)
    within(res, 0.05, 2)


def test_egls_power_near_analytic_and_reml_estimates_agree():
    res = simulate_power(adascog("egls"), 2000, 99, chunk_size=250)
    within(res, ADAS_ANALYTIC, 2)
    # Empirical SD of the estimates vs the analytic SE (29.714·2/208)^0.5 = 0.5345;
    # the SD of an SD from 2000 draws is ~1.6%: tolerance 5%.
    assert res.arms[0].sd_estimate == pytest.approx(0.5345, rel=0.05)
    # Complete balanced data: GLS and REML fixed effects coincide (OLS = GLS).
    reml = simulate_power(adascog("reml"), 20, 99)
    np.testing.assert_allclose(reml.results[:, 0, 0], res.results[:20, 0, 0], rtol=1e-8)


def test_dropout_simulation_matches_dropout_engine():
    s = adascog("egls", dropout=Dropout(hazard=0.4))
    res = simulate_power(s, 2000, 5, chunk_size=500)
    assert res.arms[0].analytic_power < ADAS_ANALYTIC
    within(res, res.arms[0].analytic_power, 2)


@pytest.mark.slow
def test_reml_power_1000_replicates():
    # Issue 6: >= 1000 REML replicates at 208/arm within 2 MC SE (≈0.0126) of 0.801.
    res = simulate_power(adascog("reml"), 1000, 2026)
    within(res, ADAS_ANALYTIC, 2)


@pytest.mark.slow
def test_reml_null_1000_replicates():
    res = simulate_power(adascog("reml", slowing=0.0), 1000, 8)
    within(res, 0.05, 2)


def test_failed_fits_are_counted_not_treated_as_negative():
    s = adascog("egls", n=5)
    rng = np.random.default_rng(0)
    data = simulate_trial(s, rng)
    only_baseline = TrialData(np.where(np.arange(7) == 0, data.y, np.nan),
                              np.zeros_like(data.last), data.arm, data.times)
    row = analyse_trial(only_baseline, s)
    assert row[0, 3] == 1 and np.isnan(row[0, 2])
    # Most subjects stop at baseline under a huge dropout hazard: some fits fail, and
    # power is computed among the successful ones only.
    res = simulate_power(adascog("two-stage", n=3, dropout=Dropout(hazard=3.0)), 200, 1)
    arm = res.arms[0]
    assert arm.failed_fits > 0
    assert arm.successful_fits + arm.failed_fits == 200
    ok = res.results[:, 0, 3] == 0
    assert arm.rejections == int((res.results[ok, 0, 2] < 0.05).sum())
    assert arm.power == pytest.approx(arm.rejections / arm.successful_fits)


def test_power_curve_rises_with_n_and_effect():
    rows = power_curve(adascog("egls"), n_control=[60, 200], slowing=[0.15, 0.3],
                       replicates=400, seed=3)
    power = {(r["n_control"], r["slowing"]): r["power"] for r in rows}
    assert power[(60, 0.15)] < power[(200, 0.15)] < power[(200, 0.3)]
    assert power[(60, 0.15)] < power[(60, 0.3)]
    for r in rows:
        assert abs(r["power"] - r["analytic_power"]) <= 3 * max(r["mc_se"], 0.01)


def test_informative_death_shortens_follow_up_of_fast_progressors():
    s = adascog("egls", dropout=Dropout(death_hazard=0.5, death_slope_log_hr=1.5))
    rng = np.random.default_rng(1)
    data = simulate_trial(s, rng)
    slopes = np.array([np.polyfit(data.times[: k + 1], data.y[i, : k + 1], 1)[0]
                       if k >= 1 else np.nan for i, k in enumerate(data.last)])
    fast = slopes > np.nanmedian(slopes)
    assert data.last[fast].mean() < data.last[~fast & ~np.isnan(slopes)].mean()


def test_scenario_toml_errors(tmp_path):
    good = (TRIALS / "trial_adascog.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(good.replace("sd_residual", "sd_resid"))
    with pytest.raises(ScenarioError, match="unknown key"):
        read_trial_scenario(bad)
    bad.write_text(good.replace('method = "reml"', 'method = "lme4"'))
    with pytest.raises(ScenarioError, match=r"analysis\.method"):
        read_trial_scenario(bad)
    bad.write_text(good.replace("slowing = 0.3", "slowing = 0.3\nn_sites = 3"))
    with pytest.raises(ScenarioError, match="unknown key"):
        read_trial_scenario(bad)
    bad.write_text("visits = [0, 1]\n")
    with pytest.raises(ScenarioError, match="missing"):
        read_trial_scenario(bad)
    bad.write_text(good.replace("[0.0, 0.25", "[0.5, 0.25"))
    with pytest.raises(ScenarioError, match="visits"):
        read_trial_scenario(bad)


def test_shipped_als_scenario_runs():
    s = read_trial_scenario(TRIALS / "trial_alsfrs.toml")
    assert s.arms[1].n == 2 * s.arms[0].n
    res = simulate_power(s.with_changes(method="egls"), 100, 1)
    arm = res.arms[0]
    assert arm.power == arm.rejections / arm.successful_fits and arm.successful_fits == 100
    # 100 replicates: MC SE <= 0.05; the simulated power is within 3 MC SE + 0.05
    # (small-sample bias of the analytic formula) of the analytic one.
    assert arm.analytic_power is not None
    assert abs(arm.power - arm.analytic_power) <= 3 * arm.mc_se + 0.05


def test_one_sided_test_direction_and_size():
    base = adascog("egls")
    one = dataclasses.replace(base, analysis=Analysis(method="egls", alternative="one-sided"))
    res = simulate_power(one, 2000, 21, chunk_size=500)
    within(res, res.arms[0].analytic_power, 2)
    assert res.arms[0].analytic_power > ADAS_ANALYTIC
    null = simulate_power(one.with_changes(slowing=0.0), 2000, 22, chunk_size=500)
    within(null, 0.05, 2)


def test_three_arms_every_analysis_reports_each_active_arm():
    base = adascog("egls", n=40)
    s = dataclasses.replace(base, arms=(Arm("placebo", 40), Arm("low", 40, 0.2),
                                        Arm("high", 80, 0.5)))
    results = {m: simulate_power(s.with_changes(method=m), 30, 4)
               for m in ("reml", "egls", "two-stage")}
    for res in results.values():
        assert [a.arm for a in res.arms] == ["low", "high"]
        assert res.results.shape == (30, 2, 4)
    # Complete data: REML and EGLS give the same fixed effects (GLS = OLS).
    np.testing.assert_allclose(results["reml"].results[:, :, 0],
                               results["egls"].results[:, :, 0], rtol=1e-7)
    assert results["egls"].arms[1].true_difference == pytest.approx(-2.5)
