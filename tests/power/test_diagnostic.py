"""Diagnostic-accuracy sample sizes: identities, saw-tooth, Monte Carlo checks of variances."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from alsstats.errors import AlsStatsError
from alsstats.power.diagnostic import (
    CI_METHODS,
    auc_ci_sample_size,
    auc_test_sample_size,
    binormal_auc_variance,
    hanley_mcneil_se,
    proportion_ci,
    proportion_ci_sample_size,
    sensitivity_test_sample_size,
)


@pytest.mark.parametrize("method", CI_METHODS)
def test_width_at_solved_n_is_the_target(method):
    n = proportion_ci_sample_size(0.85, 0.1, method)
    lo, hi = proportion_ci(0.85, n, method)
    assert hi - lo == pytest.approx(0.1, abs=1e-9)


def test_wald_sample_size_closed_form():
    z = stats.norm.isf(0.025)
    n = proportion_ci_sample_size(0.3, 0.08, "wald")
    assert n == pytest.approx(4 * z * z * 0.3 * 0.7 / 0.08**2, rel=1e-9)


def test_exact_interval_coverage_is_at_least_nominal():
    # Clopper–Pearson: P(p in CI) >= 0.95 for every p (integer x); check on a grid.
    n = 40
    for p in (0.1, 0.35, 0.6, 0.9):
        x = np.arange(n + 1)
        covered = [proportion_ci(k / n, n, "exact")[0] <= p <= proportion_ci(k / n, n,
                                                                                "exact")[1]
                   for k in x]
        assert stats.binom.pmf(x, n, p)[covered].sum() >= 0.95 - 1e-12


def test_sensitivity_test_saw_tooth():
    res = sensitivity_test_sample_size(0.8, 0.92, power=0.8, alpha=0.05)
    ns = np.arange(1, res.checked_up_to + 1)
    crit = np.array([next(c for c in range(n + 2) if stats.binom.sf(c - 1, n, 0.8) <= 0.05)
                     for n in ns])
    power = stats.binom.sf(crit - 1, ns, 0.92)
    assert res.n_first == ns[np.argmax(power >= 0.8)]
    assert np.all(power[res.n - 1:] >= 0.8)
    assert power[res.n - 2] < 0.8
    assert res.n_first <= res.n
    assert res.attained_alpha <= 0.05
    assert res.critical == crit[res.n - 1]


def test_hanley_mcneil_against_simulation():
    # Exponential (negative-exponential) scores: the model Hanley & McNeil derived the
    # Q1/Q2 approximation from.  AUC = 1/(1+r) for rate ratio r.  MC SD of the sample
    # variance with 4000 replicates is ~2.2% relative: tolerance 8%.
    rng = np.random.default_rng(7)
    n1, n2, auc = 40, 60, 0.8
    rate_pos = (1 - auc) / auc
    pos = rng.exponential(1 / rate_pos, size=(4000, n1))
    neg = rng.exponential(1.0, size=(4000, n2))
    aucs = (pos[:, :, None] > neg[:, None, :]).mean(axis=(1, 2))
    assert aucs.mean() == pytest.approx(auc, abs=0.005)
    assert aucs.std(ddof=1) == pytest.approx(hanley_mcneil_se(auc, n1, n2), rel=0.08)


def _empirical_auc_variance(auc, n_d, n_h, reps, seed):
    rng = np.random.default_rng(seed)
    mu = math.sqrt(2) * stats.norm.ppf(auc)
    pos = rng.normal(mu, 1.0, size=(reps, n_d))
    neg = rng.normal(0.0, 1.0, size=(reps, n_h))
    return (pos[:, :, None] > neg[:, None, :]).mean(axis=(1, 2)).var(ddof=1)


def test_binormal_variance_closed_form_and_simulation():
    # Obuchowski (1994) closed form for b = 1: 0.0099 e^{-a²/2} (5a² + 8 + (a² + 8)/κ),
    # with 0.0099 = 1/(32π).
    for auc, kappa in ((0.6, 1.0), (0.75, 2.0), (0.9, 0.5)):
        a = math.sqrt(2) * stats.norm.ppf(auc)
        closed = np.exp(-a * a / 2) * (5 * a * a + 8 + (a * a + 8) / kappa) / (32 * math.pi)
        assert binormal_auc_variance(auc, kappa) == pytest.approx(closed, rel=1e-12)
    # At AUC 0.5 it is the large-sample variance of the empirical AUC,
    # (1 + 1/κ)/(4π) vs Mann–Whitney's (n_D + n_H + 1)/(12 n_H): 3000 replicates give
    # ~2.6% relative MC SD of the variance: tolerance 10%.
    n_d, kappa = 50, 2.0
    emp = n_d * _empirical_auc_variance(0.5, n_d, int(kappa * n_d), 3000, 11)
    assert emp == pytest.approx(binormal_auc_variance(0.5, kappa), rel=0.1)
    # Away from 0.5 the binormal formula is conservative for the empirical AUC.
    emp = n_d * _empirical_auc_variance(0.75, n_d, int(kappa * n_d), 3000, 12)
    assert emp < binormal_auc_variance(0.75, kappa)


def test_auc_test_sample_size_formula():
    res = auc_test_sample_size(0.5, 0.7, power=0.8, alpha=0.05)
    v0 = binormal_auc_variance(0.5)
    assert v0 == pytest.approx(1 / (2 * math.pi))   # 0.0796 (1 + 1) at a = 0
    z = stats.norm.isf(0.05) * math.sqrt(v0) + stats.norm.ppf(0.8) * math.sqrt(
        binormal_auc_variance(0.7))
    assert res.n_diseased_exact == pytest.approx(z * z / 0.04)
    assert res.n_diseased == math.ceil(res.n_diseased_exact)
    assert res.n_total == res.n_diseased + res.n_non_diseased


def test_auc_ci_sample_size_reaches_width():
    res = auc_ci_sample_size(0.8, 0.1, prevalence=0.3)
    se = hanley_mcneil_se(0.8, res.n_diseased_exact, res.n_non_diseased_exact)
    assert 2 * stats.norm.isf(0.025) * se == pytest.approx(0.1, abs=1e-9)


def test_invalid_inputs():
    with pytest.raises(AlsStatsError, match="method"):
        proportion_ci(0.4, 100, "jeffreys")
    with pytest.raises(AlsStatsError, match="exceed"):
        sensitivity_test_sample_size(0.9, 0.8)
    with pytest.raises(AlsStatsError, match="auc"):
        auc_test_sample_size(0.5, 1.2)
