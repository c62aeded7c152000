"""Bayesian decision rules with interim looks: identities, execution, calibration."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from alsstats.errors import AlsStatsError
from alsstats.power.groupseq import crossing_probabilities, group_sequential_design
from alsstats.power.scenario import Analysis, Arm, Outcome, TrialScenario
from alsstats.power.sequential import (
    DecisionRule,
    analytic_oc,
    calibrate_threshold,
    sequential_design,
    simulate_sequential,
)
from alsstats.power.simulate import analytic_se

ROOT = Path(__file__).resolve().parents[2]


def adascog(slowing=0.3, n=208, method="egls") -> TrialScenario:
    """longpower's ADAS-cog pilot (the shipped trial_adascog), EGLS for speed."""
    return TrialScenario(visits=(0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5),
                         arms=(Arm("placebo", n), Arm("active", n, slowing)),
                         outcome=Outcome(20.0, 5.0, 55**0.5, 24**0.5, 0.8, 10**0.5),
                         analysis=Analysis(method=method))


def test_posterior_probability_is_the_conjugate_normal():
    rule = DecisionRule(0.9, prior_mean=0.5, prior_sd=2.0)
    est, se = np.array([1.2, -0.3]), np.array([0.6, 0.4])
    prec = 1 / 2.0**2 + 1 / se**2
    mean = (0.5 / 2.0**2 + est / se**2) / prec
    expected = stats.norm.sf(0, loc=mean, scale=np.sqrt(1 / prec))   # P(theta > 0 | data)
    np.testing.assert_allclose(stats.norm.cdf(rule.posterior_z(est, se)), expected, rtol=1e-12)
    # A flat prior: P(theta > 0 | data) = Phi(est / se).
    np.testing.assert_allclose(DecisionRule(0.9).posterior_z(est, se), est / se)


@pytest.mark.parametrize("prior_sd", [None, 1.5])
def test_z_boundaries_are_where_the_posterior_probability_equals_the_threshold(prior_sd):
    rule = DecisionRule((0.99, 0.97), futility=0.2, prior_mean=-0.2, prior_sd=prior_sd)
    se = np.array([0.8, 0.55])
    upper, lower = rule.z_boundaries(se, 2)
    # Z on the boundary: posterior probability exactly the threshold (round-off only).
    np.testing.assert_allclose(stats.norm.cdf(rule.posterior_z(upper * se, se)), [0.99, 0.97],
                               rtol=1e-12)
    np.testing.assert_allclose(stats.norm.cdf(rule.posterior_z(lower * se, se)), 0.2,
                               rtol=1e-12)


def test_flat_prior_rule_is_a_constant_z_boundary():
    # With a flat prior and a common threshold, the rule's analytic OC are the crossing
    # probabilities of the constant boundary z_q: an exact identity.
    s, looks = adascog(), [0.4, 1.0]
    rule = DecisionRule(0.99)
    got = analytic_oc(rule, s, looks)
    eff, _ = crossing_probabilities(looks, [stats.norm.isf(0.01)] * 2,
                                    drift=1.5 / analytic_se(s))
    assert got["success"] == pytest.approx(eff.sum(), abs=1e-12)
    # Null, one look at the end: exactly 1 - q.
    assert analytic_oc(DecisionRule(0.975), s, [1.0], benefit=0.0)["success"] == \
        pytest.approx(0.025, abs=1e-9)


def test_analytic_se_is_the_gls_power_standard_error():
    # power = Phi(|delta| / SE - z_{1-alpha/2}) for the scenario (two-sided 0.05).
    from alsstats.power.simulate import analytic_power

    s = adascog()
    assert analytic_power(s) == pytest.approx(
        stats.norm.cdf(1.5 / analytic_se(s) - stats.norm.isf(0.025)), abs=1e-12)


def test_workers_and_resume_give_identical_results(tmp_path):
    s = adascog(n=60)
    one = simulate_sequential(s, [0.5, 1.0], 40, 11, chunk_size=10)
    two = simulate_sequential(s, [0.5, 1.0], 40, 11, chunk_size=10, workers=2,
                              checkpoint=tmp_path / "ck")
    assert two.run.scheduler == "processes"
    np.testing.assert_array_equal(one.results, two.results)
    # Lose two of the four chunks (an interrupted run): the rerun redoes only those.
    for c in (1, 3):
        (tmp_path / "ck" / f"chunk_{c:06d}.sha256").unlink()
    again = simulate_sequential(s, [0.5, 1.0], 40, 11, chunk_size=10,
                                checkpoint=tmp_path / "ck")
    assert again.run.chunks_resumed == 2
    np.testing.assert_array_equal(one.results, again.results)
    # The final look analyses every subject: the same estimate as the fixed-design analysis.
    from alsstats.power.simulate import simulate_power

    fixed = simulate_power(s, 40, 11, chunk_size=10)
    np.testing.assert_array_equal(one.results[:, 1, 0], fixed.results[:, 0, 0])


def test_calibration_is_exact_on_its_own_trials_and_decisions_add_up():
    null = simulate_sequential(adascog(slowing=0.0, n=40), [0.5, 1.0], 200, 5)
    rule = calibrate_threshold(null, 0.05, futility=0.2)
    oc = null.operating_characteristics(rule)
    # floor(0.05 * 200) = 10 successes by construction (no ties in continuous statistics).
    assert oc.success == pytest.approx(10 / 200, abs=1e-12)
    assert oc.success == pytest.approx(sum(look.success for look in oc.looks), abs=1e-12)
    assert oc.looks[-1].futility == 0.0
    # E[N] = sum over looks of P(stop there) N_k, the last look taking the rest.
    stop1 = oc.looks[0].success + oc.looks[0].futility
    assert oc.expected_n == pytest.approx(stop1 * 40 + (1 - stop1) * 80, abs=1e-9)
    with pytest.raises(AlsStatsError, match="needs null trials"):
        calibrate_threshold(simulate_sequential(adascog(n=20), [0.5, 1.0], 20, 1), 0.05)


def test_bad_rules_and_looks_are_errors():
    with pytest.raises(AlsStatsError, match=r"futility threshold 0\.99 must lie below"):
        DecisionRule(0.975, futility=0.99)
    with pytest.raises(AlsStatsError, match="success threshold must be a probability"):
        DecisionRule(1.0)
    with pytest.raises(AlsStatsError, match="prior_sd must be > 0"):
        DecisionRule(0.9, prior_sd=0.0)
    with pytest.raises(AlsStatsError, match="end at 1"):
        simulate_sequential(adascog(), [0.5, 0.8], 2, 0)
    with pytest.raises(AlsStatsError, match="same subjects at two looks"):
        simulate_sequential(adascog(n=4), [0.9, 1.0], 2, 0)
    with pytest.raises(AlsStatsError, match="slowing 0"):
        sequential_design(adascog(slowing=0.0), [0.5, 1.0], replicates=2)


def test_cli_sequential_json(tmp_path):
    from alsstats.cli import main

    out = tmp_path / "seq.json"
    assert main(["power", "sequential", "trial_adascog", "--looks", "0.5,1", "--futility",
                 "0.1", "--method", "egls", "--replicates", "30", "--seed", "2", "--quiet",
                 "--out", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["kind"] == "power.sequential"
    assert d["rule"]["success"] == 0.975 and d["rule"]["futility"] == 0.1
    gs = group_sequential_design([0.5, 1.0], alpha=0.025)
    assert d["group_sequential"]["critical_values"] == pytest.approx(gs.critical_values)
    assert len(d["null"]["looks"]) == 2 and d["replicates"] == 30
    assert 0 <= d["type_i_error"] <= 1 and math.isfinite(d["power_mc_se"])


@pytest.mark.slow
def test_calibrated_rule_meets_its_type_i_error_on_independent_trials():
    """Monte Carlo study (run 2026-11-29, numbers in docs/guide/plan-sequential-trial.md)."""
    s = adascog()
    res = sequential_design(s, [0.5, 1.0], DecisionRule(futility=0.1), calibrate_alpha=0.025,
                            replicates=4000, seed=2026, workers=2)
    # Independent null trials: within 3 MC SE of the target (a 0.3% false alarm rate).
    assert abs(res.null.success - 0.025) < 3 * math.sqrt(0.025 * 0.975 / 4000)
    # Simulated (EGLS) and analytic (canonical joint normal) agree within 3 MC SE, for the
    # Bayesian rule and the O'Brien-Fleming design, under both hypotheses.
    d = res.to_dict()
    assert abs(res.null.success - d["analytic"]["null"]["success"]) < 3 * res.null.success_mc_se
    assert abs(res.alternative.success - d["analytic"]["alternative"]["success"]) < \
        3 * res.alternative.success_mc_se
    gs = d["group_sequential"]
    assert abs(gs["null"]["success"] - 0.025) < 3 * gs["null"]["success_mc_se"]
    assert abs(gs["alternative"]["success"] - gs["analytic"]["alternative"]["power"]) < \
        3 * gs["alternative"]["success_mc_se"]
    print(json.dumps({k: d[k] for k in ("calibration", "type_i_error", "type_i_error_mc_se",
                                        "power", "power_mc_se", "analytic")}, indent=1,
                     default=str))
