"""Informative death: the simulator's shared-parameter link and the joint-model analysis."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import integrate, stats

from alsstats.errors import ScenarioError
from alsstats.power.joint import _Likelihood, fit_joint
from alsstats.power.scenario import Analysis, Arm, Dropout, Outcome, TrialScenario
from alsstats.power.simulate import analytic_power, simulate_power
from alsstats.power.trials import simulate_trial

# ALSFRS-R-like: -0.93 points/month, visits every 2 months for a year; death 5%/month for
# an average progressor, log HR 1 per SD of faster decline of the whole slope.
OUTCOME = Outcome(38.0, -0.93, 5.0, 0.67, 0.1, 1.5)
VISITS = tuple(np.arange(0.0, 13.0, 2.0))


def alsfrs(link="slope", log_hr=1.0, n=150, method="reml", death=0.05) -> TrialScenario:
    return TrialScenario(visits=VISITS, arms=(Arm("placebo", n), Arm("active", n, 0.3)),
                         outcome=OUTCOME,
                         dropout=Dropout(death_hazard=death, death_slope_log_hr=log_hr,
                                         death_link=link),
                         analysis=Analysis(method=method))


def test_shipped_scenario_is_the_studied_design():
    from alsstats.power.scenario import read_trial_scenario

    shipped = read_trial_scenario("trial_alsfrs_death")
    assert shipped == dataclasses.replace(alsfrs(method="joint"), name=shipped.name)


def _subject(data, i, beta, g, sigma):
    """Subject i's observed visits: design Z, mean, covariance V and the values."""
    k = data.last[i]
    t = data.times[: k + 1]
    z = np.column_stack([np.ones_like(t), t])
    a = data.arm[i]
    mean = beta[0] + beta[1] * a + (beta[2] + beta[3] * a) * t
    return z, mean, z @ g @ z.T + sigma**2 * np.eye(k + 1), data.y[i, : k + 1]


def _brute_loglik(lik: _Likelihood, data, theta) -> float:
    """The joint log-likelihood subject by subject: the multivariate normal density of the
    observed visits times the death likelihood integrated over b1 | y by adaptive quadrature."""
    beta, g, sigma, log_lam, gamma = lik.unpack(theta)
    total = 0.0
    for i in range(data.y.shape[0]):
        z, mean, v, y = _subject(data, i, beta, g, sigma)
        a = data.arm[i]
        total += stats.multivariate_normal(mean, v).logpdf(y)
        gain = g @ z.T @ np.linalg.inv(v)
        m1 = (gain @ (y - mean))[1]
        c11 = g[1, 1] - (gain @ z @ g)[1, 1]
        mu = beta[2] + beta[3] * a + m1
        lam, died, time = math.exp(log_lam), data.died[i], data.event_time[i]

        def f(s, mu=mu, c11=c11, lam=lam, died=died, time=time):
            h = lam * math.exp(gamma * s)
            return stats.norm.pdf(s, mu, math.sqrt(c11)) * h**died * math.exp(-h * time)

        sd = math.sqrt(c11)
        total += math.log(integrate.quad(f, mu - 12 * sd, mu + 12 * sd, epsabs=0,
                                         epsrel=1e-12, limit=200)[0])
    return total


def test_vectorised_likelihood_equals_the_subject_by_subject_integral():
    data = simulate_trial(alsfrs(n=12), np.random.default_rng(4))
    assert data.died.any() and not data.died.all()
    lik = _Likelihood(data, common_baseline=False)
    theta = np.array([38.2, 0.3, -0.9, 0.25, math.log(5.0), 0.2, math.log(0.6),
                      math.log(1.4), math.log(0.012), -1.3])
    # Gauss-Hermite with 40 nodes against adaptive quadrature: 1e-8 relative.
    assert -lik(theta) == pytest.approx(_brute_loglik(lik, data, theta), rel=1e-8)


def test_without_association_the_likelihood_separates():
    # gamma = 0: the mixed-model likelihood plus the exponential survival likelihood.
    data = simulate_trial(alsfrs(n=10), np.random.default_rng(2))
    lik = _Likelihood(data, common_baseline=False)
    theta = np.array([37.5, -0.2, -1.0, 0.3, math.log(4.0), -0.1, math.log(0.7),
                      math.log(1.6), math.log(0.02), 0.0])
    beta, g, sigma, _, _ = lik.unpack(theta)
    lmm = 0.0
    for i in range(data.y.shape[0]):
        _, mean, v, y = _subject(data, i, beta, g, sigma)
        lmm += stats.multivariate_normal(mean, v).logpdf(y)
    surv = data.died.sum() * math.log(0.02) - 0.02 * data.event_time.sum()
    assert -lik(theta) == pytest.approx(lmm + surv, rel=1e-11)


def test_slope_link_records_deaths_and_deviation_link_is_unchanged():
    s = alsfrs(link="deviation")
    a = simulate_trial(s, np.random.default_rng(9))
    # Same draws with the other link and no association: identical trials.
    b = simulate_trial(dataclasses.replace(s, dropout=Dropout(death_hazard=0.05)),
                       np.random.default_rng(9))
    c = simulate_trial(alsfrs(link="slope", log_hr=0.0), np.random.default_rng(9))
    np.testing.assert_array_equal(b.y, c.y)
    np.testing.assert_array_equal(b.event_time, c.event_time)
    # Deaths are observed before the end of follow-up; others are censored at it or earlier.
    assert np.all(a.event_time <= VISITS[-1])
    assert np.all(a.event_time[~a.died] <= VISITS[-1])
    # The last visit is the last scheduled time before death.
    dead = a.died
    assert np.all(np.asarray(VISITS)[a.last[dead]] <= a.event_time[dead])
    with pytest.raises(ScenarioError, match="death_link must be one of"):
        Dropout(death_link="rate") and alsfrs(link="rate")


def test_joint_fit_recovers_the_association():
    # One trial of 250 per arm: gamma per unit of slope is 1.0 * sign(-0.93) / 0.67, the
    # baseline hazard 0.05 * exp(-gamma * slope); within 3 SE (25% for the hazard and the
    # slope variance, about 3 of their SEs at this size).
    data = simulate_trial(alsfrs(n=250), np.random.default_rng(16))
    fit = fit_joint(data)
    gamma = -1.0 / 0.67
    assert abs(fit.gamma - gamma) < 3 * fit.gamma_se
    assert fit.baseline_hazard == pytest.approx(0.05 * math.exp(-gamma * -0.93), rel=0.25)
    assert abs(fit.difference - 0.3 * 0.93) < 3 * fit.difference_se
    assert fit.random_cov[1, 1] == pytest.approx(0.67**2, rel=0.25)


@pytest.mark.slow
def test_plain_slope_analysis_is_biased_under_informative_death_and_joint_is_not():
    """Monte Carlo study (numbers in docs/models/trial-design.md, run 2026-11-29)."""
    truth = 0.3 * 0.93
    out = {}
    for name, log_hr in (("informative", 1.0), ("non-informative", 0.0)):
        for method in ("reml", "joint"):
            # The same seed: the same 200 trials analysed both ways.
            res = simulate_power(alsfrs(log_hr=log_hr, method=method), 200, 2026, workers=2,
                                 chunk_size=25)
            arm = res.arms[0]
            ok = res.results[:, 0, 3] == 0
            est = res.results[ok, 0, 0]
            out[name, method] = arm
            bias_se = est.std(ddof=1) / math.sqrt(est.size)
            print(name, method, f"mean {arm.mean_estimate:.4f} (truth {truth:.4f}, MC SE "
                  f"{bias_se:.4f}); power {arm.power:.3f} (MC SE {arm.mc_se:.3f}); analytic "
                  f"{arm.analytic_power:.3f}; failed {arm.failed_fits}")
            if name == "informative" and method == "reml":
                assert arm.mean_estimate - truth < -4 * bias_se      # biased towards 0
            else:
                assert abs(arm.mean_estimate - truth) < 3 * bias_se
            if name == "non-informative":
                assert abs(arm.power - analytic_power(alsfrs(log_hr=0.0))) < 3 * arm.mc_se
