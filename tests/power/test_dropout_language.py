"""One dropout language (issue 14, item 4): the same dropout given in each form.

"20% lost by t = 1 under a constant hazard" is given as ``--lost 0.2 --by 1``, as the
retention at each visit, as shares of last visits, as a trial scenario's ``[dropout] lost
/ by`` and as the cohort simulator's ``design.lost / by_years``.  The sizes must be equal
(the conversions are exact, so to rounding), and the simulated share still followed at
each visit must match the retention within 4 binomial Monte Carlo SEs,
``sqrt(r (1 - r) / N)`` for ``N`` simulated subjects.
"""

from __future__ import annotations

import json
import math
import tomllib
from importlib import resources

import numpy as np
import pytest

from alsstats.cli import main
from alsstats.dropout import Retention
from alsstats.power.scenario import read_trial_scenario
from alsstats.power.trials import simulate_trial
from alsstats.simulate import simulate_cohort
from alsstats.simulate.scenario import Scenario

TIMES = [0.0, 0.5, 1.0, 1.5]
TRUTH = Retention.lost_by(TIMES, 0.2, 1.0)
SLOPE = ["power", "slope", "--times", ",".join(map(str, TIMES)), "--delta", "1.5",
         "--var-slope", "8", "--var-residual", "10", "--power", "0.8", "--json"]


def test_conversions_are_exact():
    assert TRUTH.hazard == pytest.approx(-math.log(0.8))
    assert TRUTH.retention[2] == pytest.approx(0.8, abs=1e-15)        # 20% lost by t = 1
    back = Retention.from_last_visit_shares(TIMES, TRUTH.last_visit_shares())
    np.testing.assert_allclose(back.retention, TRUTH.retention, rtol=0, atol=1e-15)
    assert sum(TRUTH.last_visit_shares()) == pytest.approx(1.0, abs=1e-15)
    assert TRUTH.simple_inflation(100.0) == pytest.approx(100.0 / TRUTH.retention[-1])


def test_power_slope_same_n_in_every_form(capsys):
    forms = [["--lost", "0.2", "--by", "1"],
             ["--retention", ",".join(repr(r) for r in TRUTH.retention)],
             ["--dropout", ",".join(repr(s) for s in TRUTH.last_visit_shares())]]
    results = []
    for form in forms:
        assert main([*SLOPE, *form]) == 0
        results.append(json.loads(capsys.readouterr().out))
    ns = [r["n_exact"] for r in results]
    assert ns[1] == pytest.approx(ns[0], rel=1e-12) and ns[2] == pytest.approx(ns[0], rel=1e-12)
    assert len({r["n"] for r in results}) == 1          # the same whole-subject n
    first = results[0]
    # the exact answer lies between complete data and the simple (pessimistic) inflation
    assert first["n_control_complete_data"] < first["n_control"] \
        < first["n_control_simple_inflation"]


def _retention_se(r: np.ndarray, n: int) -> np.ndarray:
    return np.sqrt(r * (1 - r) / n)


def test_trial_scenario_lost_by_simulates_that_retention(tmp_path):
    text = (resources.files("alsstats.power.scenarios") / "trial_adascog.toml").read_text()
    raw = tomllib.loads(text)
    raw["visits"] = TIMES
    lines = [f"visits = {TIMES}", 'name = "dropout test"',
             "[[arms]]", 'name = "placebo"', "n = 4000", "[[arms]]", 'name = "active"',
             "n = 4000", "slowing = 0.3", "[outcome]",
             *(f"{k} = {v}" for k, v in raw["outcome"].items()),
             "[dropout]", "lost = 0.2", "by = 1.0"]
    path = tmp_path / "trial.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    scenario = read_trial_scenario(path)
    assert scenario.dropout.hazard == pytest.approx(TRUTH.hazard, rel=1e-15)
    np.testing.assert_allclose(scenario.last_visit_shares(), TRUTH.last_visit_shares(),
                               rtol=1e-12)
    trial = simulate_trial(scenario, np.random.default_rng(11))
    n = trial.last.size
    seen = np.array([(trial.last >= k).mean() for k in range(len(TIMES))])
    r = np.array(TRUTH.retention)
    assert np.all(np.abs(seen - r) <= 4 * _retention_se(r, n) + 1e-12)


def test_cohort_simulator_lost_by_years_gives_that_retention():
    text = (resources.files("alsstats.simulate.scenarios") / "default.toml").read_text()
    raw = tomllib.loads(text)
    design = {k: v for k, v in raw["design"].items() if k != "retention"}
    raw["design"] = {**design, "visit_years": TIMES, "lost": 0.2, "by_years": 1.0}
    scenario = Scenario.from_dict(raw, "dropout test")
    np.testing.assert_allclose(scenario.retention, TRUTH.retention, rtol=0, atol=1e-15)
    data, _ = simulate_cohort(scenario, seed=5, n_per_group=400, validate=False)
    n = data["subject_id"].nunique()
    seen = data.groupby("visit")["subject_id"].nunique().reindex(range(len(TIMES)),
                                                                 fill_value=0) / n
    r = np.array(TRUTH.retention)
    assert np.all(np.abs(seen.to_numpy() - r) <= 4 * _retention_se(r, n) + 1e-12)
