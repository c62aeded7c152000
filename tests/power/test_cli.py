"""``alsstats power ...`` in-process: JSON outputs, errors as one line, atomic --out."""

from __future__ import annotations

import json

import pytest

from alsstats.cli import main

ADAS = ["--times", "0,0.25,0.5,0.75,1,1.25,1.5", "--var-intercept", "55", "--var-slope", "24",
        "--cov-intercept-slope", str(0.8 * 55**0.5 * 24**0.5), "--var-residual", "10"]


def run_json(capsys, argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_slope_cli_reproduces_longpower(capsys):
    d = run_json(capsys, ["power", "slope", *ADAS, "--delta", "1.5", "--power", "0.8"])
    assert d["n_control"] == pytest.approx(207.310093300903, rel=1e-12)
    d = run_json(capsys, ["power", "slope", *ADAS, "--n", "208", "--power", "0.8"])
    assert d["delta"] == pytest.approx(1.49751028943272, rel=1e-12)
    d = run_json(capsys, ["power", "slope", *ADAS, "--pct-change", "0.3", "--slope", "5",
                          "--power", "0.8"])
    assert d["n_control"] == pytest.approx(207.310093300903, rel=1e-12)
    d = run_json(capsys, ["power", "slope", *ADAS, "--delta", "1.5", "--power", "0.8",
                          "--method", "edland"])
    assert d["n_control"] == pytest.approx(207.310093300903, rel=1e-12)


def test_slope_cli_dropout_allocation_common_baseline(capsys):
    d = run_json(capsys, ["power", "slope", *ADAS, "--delta", "1.5", "--power", "0.8",
                          "--dropout", "0.05,0.05,0.05,0.05,0.1,0.1,0.6", "--allocation", "2",
                          "--common-baseline", "--alternative", "one-sided"])
    assert d["n_treatment"] == pytest.approx(2 * d["n_control"])
    assert d["method"].endswith("common baseline")


def test_cli_error_is_one_line_without_traceback(capsys):
    assert main(["power", "slope", *ADAS, "--delta", "1.5", "--power", "0.8",
                 "--dropout", "0.5,0.5"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("alsstats power slope: error:")
    assert "Traceback" not in err[0]


def test_diagnostic_and_prediction_cli(capsys):
    d = run_json(capsys, ["power", "diagnostic", "ci-width", "--p", "0.15", "--conf-width",
                          "0.05"])
    assert round(d["n_exact"], 4) == 783.4897 and d["n"] == 784
    d = run_json(capsys, ["power", "diagnostic", "buderer", "--sensitivity", "0.9",
                          "--conf-width", "0.1", "--prevalence", "0.2"])
    assert round(d["n_total_exact"], 2) == 691.46 and d["n_total"] == 692
    assert (d["n_diseased"], round(d["n_diseased_exact"], 2)) == (139, 138.29)
    old = run_json(capsys, ["power", "diagnostic", "buderer", "--sensitivity", "0.9",
                            "--half-width", "0.05", "--prevalence", "0.2"])
    assert old["n_total"] == 692   # deprecated spelling, same study
    d = run_json(capsys, ["power", "diagnostic", "sensitivity-test", "--null", "0.8", "--alt",
                          "0.9"])
    assert d["n"] >= d["n_first"]
    d = run_json(capsys, ["power", "prediction", "binary", "--csrsquared", "0.288",
                          "--parameters", "24", "--prevalence", "0.174"])
    assert d["n"] == 662
    d = run_json(capsys, ["power", "prediction", "continuous", "--rsquared", "0.2",
                          "--parameters", "25", "--intercept", "1.9", "--sd", "0.6"])
    assert d["n"] == 918
    d = run_json(capsys, ["power", "ttest", "--d", "0.5", "--power", "0.8"])
    assert d["n_per_group_exact"] == pytest.approx(63.76561044, abs=1e-6)
    assert d["n_per_group"] == 64


def test_simulate_cli_with_out_and_checkpoint(capsys, tmp_path):
    out = tmp_path / "res.json"
    argv = ["power", "simulate", "trial_adascog",
            "--replicates", "40", "--seed", "3", "--method", "egls", "--chunk-size", "10",
            "--checkpoint", str(tmp_path / "ck"), "--out", str(out)]
    d = run_json(capsys, argv)
    assert json.loads(out.read_text()) == d
    assert d["arms"][0]["successful_fits"] + d["arms"][0]["failed_fits"] == 40
    again = run_json(capsys, argv)
    assert again["run"]["chunks_resumed"] == 4
    assert again["arms"] == d["arms"]


def test_simulate_cli_bad_scenario(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("visits = [0, 1]\n")
    assert main(["power", "simulate", str(bad)]) == 1
    assert "missing required key" in capsys.readouterr().err


def test_cohort_diagnostic_cli(capsys):
    d = run_json(capsys, ["power", "diagnostic", "cohort", "--markers", "nfl_pg_ml",
                          "--n-per-group", "12", "--auc-null", "0.6", "--replicates", "4",
                          "--seed", "2"])
    assert d["successful"] + d["failed"] == 4
    assert d["design"]["markers"] == ["nfl_pg_ml"]
