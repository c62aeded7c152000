"""C statistic → Cox–Snell R² (Riley, Van Calster & Collins 2021) for binary prediction sizes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alsstats.cli import main
from alsstats.power.prediction import binary_sample_size, cstatistic_to_r2_cs


def test_no_discrimination_gives_zero_and_r2_grows_with_c():
    assert cstatistic_to_r2_cs(0.5, 0.3) == pytest.approx(0.0, abs=1e-12)
    values = [cstatistic_to_r2_cs(c, 0.2) for c in (0.6, 0.7, 0.8, 0.9, 0.95)]
    assert np.all(np.diff(values) > 0)
    # never above the maximum Cox–Snell R² of the outcome proportion
    ll0 = 0.2 * math.log(0.2) + 0.8 * math.log(0.8)
    assert values[-1] < 1 - math.exp(2 * ll0)


@pytest.mark.parametrize(("c", "phi"), [(0.89, 0.174), (0.75, 0.5)])
def test_quadrature_matches_a_large_simulated_population(c, phi):
    """The paper's simulation, on 400,000 subjects at the population logistic fit.

    The per-subject log-likelihood ratio is averaged; the tolerance is 4 Monte Carlo SEs of
    that mean, carried through R² = 1 - exp(-2·mean).
    """
    rng = np.random.default_rng(2021)
    n = 400_000
    mu = math.sqrt(2) * _ndtri(c)
    y = rng.random(n) < phi
    x = rng.normal(size=n) + mu * y
    eta = math.log(phi / (1 - phi)) - mu * mu / 2 + mu * x
    ll = np.where(y, -np.logaddexp(0, -eta), -np.logaddexp(0, eta))
    ll0 = np.where(y, math.log(phi), math.log(1 - phi))
    d = ll - ll0
    r2_sim = -math.expm1(-2 * d.mean())
    se = 2 * math.exp(-2 * d.mean()) * d.std(ddof=1) / math.sqrt(n)
    assert cstatistic_to_r2_cs(c, phi) == pytest.approx(r2_sim, abs=4 * se)


def _ndtri(p: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(p)


def test_binary_size_from_c_equals_size_from_its_r2(capsys):
    r2 = cstatistic_to_r2_cs(0.89, 0.174)
    via_c = binary_sample_size(None, 24, 0.174, cstatistic=0.89)
    via_r2 = binary_sample_size(r2, 24, 0.174)
    assert via_c.n == via_r2.n and via_c.details["r2_cs"] == pytest.approx(r2)
    with pytest.raises(Exception, match="exactly one"):
        binary_sample_size(0.2, 24, 0.174, cstatistic=0.8)
    assert main(["power", "prediction", "binary", "--cstatistic", "0.89", "--parameters", "24",
                 "--prevalence", "0.174"]) == 0
    assert f"minimum sample size: {via_c.n}" in capsys.readouterr().out
