"""Issue 14 conventions beyond ``--out`` (see test_outputs.py for ``--out x.json/x.csv``).

* Every JSON a command prints with ``--json`` (also those without ``--out``: simulate,
  validate, report, a power curve, a simulated diagnostic study) carries its kind, inputs
  and version and renders with ``report --from``.
* Sizes are whole subjects, rounded up, with the unrounded value beside them.
* A seed is drawn and reported only when the run uses one.
* Public sizing and power functions answer with result objects that have ``to_dict()``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from alsstats._version import __version__
from alsstats.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "example_cohort.csv"

SLOPE = ["power", "slope", "--times", "0,0.25,0.5,0.75,1,1.25,1.5", "--var-intercept", "55",
         "--var-slope", "24", "--cov-intercept-slope", "29.065", "--var-residual", "10",
         "--delta", "1.5", "--power", "0.8"]
ROC = ["roc", str(EXAMPLE), "--outcome", "group", "--positive", "ALS", "--negative", "HC",
       "--subject", "subject_id", "--marker", "nfl_pg_ml"]


def _json_of(capsys, argv) -> dict:
    assert main([*argv, "--json"]) == 0, argv
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    path = tmp_path_factory.mktemp("cohort") / "cohort.csv"
    assert main(["simulate", "--seed", "1", "--n-per-group", "10", "--out", str(path),
                 "--quiet"]) == 0
    return path


@pytest.mark.parametrize("kind, argv", [
    ("simulate", ["simulate", "--seed", "1", "--n-per-group", "10", "--out", "COHORT2"]),
    ("validate", ["validate", "COHORT"]),
    ("power.simulate", ["power", "simulate", "trial_adascog", "--n-control", "40,60",
                        "--replicates", "4", "--seed", "1"]),
    ("power.diagnostic.cohort", ["power", "diagnostic", "cohort", "--markers", "nfl_pg_ml",
                                 "--n-per-group", "15", "--replicates", "4", "--seed", "1"]),
    ("power.slope", SLOPE),
    ("report", ["report", "--from", "SLOPE_JSON", "--out", "R_HTML"]),
])
def test_json_on_stdout_carries_kind_and_renders(capsys, tmp_path, cohort, kind, argv):
    slope = tmp_path / "slope.json"
    assert main([*SLOPE, "--out", str(slope)]) == 0
    capsys.readouterr()
    where = {"COHORT": str(cohort), "COHORT2": str(tmp_path / "c.csv"),
             "SLOPE_JSON": str(slope), "R_HTML": str(tmp_path / "r.html")}
    data = _json_of(capsys, [where.get(a, a) for a in argv])
    assert data["kind"] == kind and data["alsstats_version"] == __version__
    assert isinstance(data["inputs"], dict)
    printed = tmp_path / "printed.json"
    printed.write_text(json.dumps(data), encoding="utf-8")
    page = tmp_path / "page.html"
    assert main(["report", "--from", str(printed), "--out", str(page)]) == 0
    assert "<table" in page.read_text(encoding="utf-8")


def test_report_json_names_the_source_kind_apart_from_its_own(capsys, tmp_path):
    # Regression: report's --kind option overwrote the command's kind (null in its JSON).
    slope = tmp_path / "slope.json"
    assert main([*SLOPE, "--out", str(slope)]) == 0
    capsys.readouterr()
    data = _json_of(capsys, ["report", "--from", str(slope), "--out", str(tmp_path / "r.html"),
                             "--kind", "result"])
    assert data["kind"] == "report" and data["source_kind"] == "result"


def test_power_slope_n_is_rounded_up_with_the_unrounded_value_beside(capsys):
    d = _json_of(capsys, SLOPE)
    assert d["n_exact"] == pytest.approx(207.310093300903, rel=1e-9)
    assert d["n"] == 208 == math.ceil(d["n_exact"])
    assert d["n_total_ceiling"] == 416
    assert main(SLOPE) == 0
    text = capsys.readouterr().out
    assert "n 208 per control arm (207.3101 unrounded)" in text and "total 416" in text


def test_power_slope_with_dropout_shows_rounded_and_unrounded_sizes(capsys):
    assert main([*SLOPE, "--lost", "0.2", "--by", "1.5"]) == 0
    text = capsys.readouterr().out
    assert "exact GLS n per control arm 227 (226.42)" in text
    assert "inflation gives 260 (259.14)" in text


def test_roc_reports_a_drawn_seed_only_for_bootstrap(capsys):
    assert main(ROC) == 0
    assert "seed" not in capsys.readouterr().err
    assert main([*ROC, "--method", "bootstrap", "--n-boot", "100"]) == 0
    assert "no --seed given; used seed" in capsys.readouterr().err


def test_sizing_functions_return_result_objects():
    from alsstats.power import (
        exchangeable_covariance,
        liu_liang_sample_size,
        proportion_ci_sample_size,
        t_test_power,
        t_test_sample_size,
    )

    t = t_test_sample_size(0.5, 0.8, 0.05)
    assert t.to_dict()["n"] == 64 and t.to_dict()["n_exact"] == pytest.approx(63.76561044)
    assert t == pytest.approx(63.76561044) and t.n == 64      # still usable as the number
    p = proportion_ci_sample_size(0.15, 0.05, "wilson")
    assert (p.n, round(p.n_exact, 4)) == (784, 783.4897)
    assert p.to_dict()["method"] == "wilson"
    power = t_test_power(0.5, 64)
    assert power.to_dict()["power"] == pytest.approx(float(power)) and 0.8 < power < 0.81
    u, v = [np.ones(4), np.zeros(4)], [np.ones(4), np.ones(4)]   # treatment, intercept
    ll = liu_liang_sample_size(u, v, exchangeable_covariance(4, 1.0, 0.5), delta=0.5,
                               power=0.9)
    assert ll.n == 106 == ll.to_dict()["n"] and math.ceil(ll) == 106   # Liu & Liang table
    assert json.dumps(ll.to_dict())


def test_likelihood_ratios_are_a_result_with_item_access():
    from alsstats.validation import LikelihoodRatios, likelihood_ratio_interval

    lr = likelihood_ratio_interval(30, 10, 45, 15)
    assert isinstance(lr, LikelihoodRatios)
    assert lr["lr_pos"] == lr.lr_pos == pytest.approx(3.0)
    assert lr.to_dict()["conf_level"] == 0.95
    with pytest.raises(KeyError):
        lr["ppv"]


def test_power_curve_is_a_result_list():
    from alsstats.power import PowerCurve, power_curve, read_trial_scenario

    curve = power_curve(read_trial_scenario("trial_adascog"), n_control=[30],
                        replicates=2, seed=1)
    assert isinstance(curve, PowerCurve) and len(curve) == 1
    assert curve.to_dict()["points"][0]["n_control"] == 30
    assert list(curve.to_frame()["n_control"]) == [30]
