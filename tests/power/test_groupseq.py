"""Group-sequential boundaries: against rpact's stored values, and exact identities."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from alsstats.errors import AlsStatsError
from alsstats.power.groupseq import (
    crossing_probabilities,
    group_sequential_design,
    spent_alpha,
)

RPACT = json.loads((Path(__file__).resolve().parents[1] / "data" / "rpact"
                    / "boundaries.json").read_text())
SPENDING = {"asOF": "obrien-fleming", "asP": "pocock"}


@pytest.mark.parametrize("ref", RPACT["designs"], ids=lambda d: d["name"])
def test_boundaries_match_rpact(ref):
    design = group_sequential_design(ref["information_rates"], alpha=ref["alpha"],
                                     spending=SPENDING[ref["type_of_design"]])
    # 1e-4: the agreement target; rpact's values are printed to 12 digits and its
    # own integration is accurate to ~1e-8 (alsstats agrees to ~1e-8 in fact).
    np.testing.assert_allclose(design.critical_values, ref["critical_values"], atol=1e-4)
    np.testing.assert_allclose(design.alpha_spent, ref["alpha_spent"], atol=1e-6)
    np.testing.assert_allclose(design.stage_levels, ref["stage_levels"], atol=1e-6)


def test_first_boundary_and_spending_are_closed_form():
    # Look 1 spends alpha(t1) with Z1 ~ N(0, 1): c1 = z_{1 - alpha(t1)} exactly.
    d = group_sequential_design([0.3, 0.7, 1.0], alpha=0.025)
    a1 = 2 * stats.norm.sf(stats.norm.isf(0.0125) / math.sqrt(0.3))
    assert d.alpha_spent[0] == pytest.approx(a1, rel=1e-12)
    assert d.critical_values[0] == pytest.approx(stats.norm.isf(a1), abs=1e-9)
    # Both spending functions spend alpha by t = 1.
    for kind in ("obrien-fleming", "pocock"):
        assert float(spent_alpha(1.0, 0.025, kind)) == pytest.approx(0.025, rel=1e-12)


def test_single_look_is_the_fixed_design():
    d = group_sequential_design([1.0], alpha=0.025)
    assert d.critical_values[0] == pytest.approx(stats.norm.isf(0.025), abs=1e-9)
    oc = d.operating_characteristics(drift=stats.norm.isf(0.025) + stats.norm.isf(0.2))
    assert oc["power"] == pytest.approx(0.8, abs=1e-9)


def test_two_look_crossing_equals_bivariate_normal():
    # P(Z1 >= c1 or Z2 >= c2) for corr(Z1, Z2) = sqrt(t1) and drift eta: exact bivariate
    # normal (scipy's Genz integration at its tightest tolerance, ~1e-8).
    t1, c, eta = 0.4, (2.4, 2.0), 2.5
    eff, _ = crossing_probabilities([t1, 1.0], c, drift=eta)
    mean = [eta * math.sqrt(t1), eta]
    cov = [[1, math.sqrt(t1)], [math.sqrt(t1), 1]]
    none = stats.multivariate_normal.cdf(c, mean=mean, cov=cov, abseps=1e-10, releps=1e-10)
    assert eff.sum() == pytest.approx(1 - none, abs=1e-7)
    assert eff[0] == pytest.approx(stats.norm.sf(c[0] - mean[0]), abs=1e-12)


def test_futility_boundary_probabilities_add_up():
    # Every path stops somewhere: efficacy + futility + continuing-to-the-end-and-failing = 1.
    t, upper, lower = [0.5, 1.0], [2.8, 1.97], [0.0, -np.inf]
    eff, fut = crossing_probabilities(t, upper, lower, drift=1.5)
    # P(Z1 < 0) = Phi(-1.5 sqrt(0.5)) exactly.
    assert fut[0] == pytest.approx(stats.norm.cdf(-1.5 * math.sqrt(0.5)), abs=1e-12)
    assert fut[1] == 0.0
    assert eff.sum() + fut.sum() < 1.0


def test_bad_designs_are_errors():
    with pytest.raises(AlsStatsError, match="end at 1"):
        group_sequential_design([0.5, 0.9])
    with pytest.raises(AlsStatsError, match="spending must be one of"):
        group_sequential_design([0.5, 1.0], spending="haybittle")
    with pytest.raises(AlsStatsError, match="alpha"):
        group_sequential_design([0.5, 1.0], alpha=0.6)
    with pytest.raises(AlsStatsError, match="futility boundary must lie below"):
        crossing_probabilities([0.5, 1.0], [2.0, 2.0], [2.5, -np.inf])
