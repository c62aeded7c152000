"""``alsstats longitudinal`` and ``alsstats decline-power`` on the command line."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from alsstats.cli import main

ARGS = ["--outcome", "Reaction", "--time", "Days", "--subject", "Subject"]


@pytest.fixture()
def sleep_csv(reference_path):
    return str(reference_path("lme4/sleepstudy.csv"))


def test_reml_matches_lme4_through_the_cli(sleep_csv, tmp_path, capsys):
    out = tmp_path / "fit.json"
    code = main(["longitudinal", "--data", sleep_csv, *ARGS, "--method", "reml",
                 "--out", str(out), "--json"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads(out.read_text())
    lmm = saved["lmm"]
    # lme4 1.1 (shared/docs/references.md)
    # (tolerances: lme4's 4 printed decimals; see tests/reference/test_lme4_sleepstudy.py)
    assert lmm["fixed_effects"]["slope[all]"]["estimate"] == pytest.approx(10.4673, abs=5e-5)
    assert lmm["fixed_effects"]["slope[all]"]["se"] == pytest.approx(1.5458, abs=5e-5)
    assert lmm["random_sd"]["time"] == pytest.approx(5.9221, rel=2e-5)
    assert lmm["residual_sd"] == pytest.approx(25.5918, rel=2e-5)
    assert printed["converged"] is True and printed["convergence"]["ok"] is True
    assert printed["summary"] == saved["summary"]


def test_netcdf_output_reloads(sleep_csv, tmp_path):
    from alsstats.models.longitudinal.model import LongitudinalModel

    out = tmp_path / "fit.nc"
    assert main(["longitudinal", "--data", sleep_csv, *ARGS, "--method", "ml",
                 "--out", str(out)]) == 0
    assert LongitudinalModel.load(out).lmm_.method == "ml"


def test_bad_input_gives_one_line_error_and_no_file(tmp_path, capsys):
    df = pd.DataFrame({"id": ["a", "b", "c"], "t": [0.0, 0.0, 0.0], "y": [1.0, 2.0, 3.0]})
    path = tmp_path / "one_visit.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "out.json"
    code = main(["longitudinal", "--data", str(path), "--outcome", "y", "--time", "t",
                 "--subject", "id", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "one visit" in err and "Traceback" not in err
    assert not out.exists()
    code = main(["longitudinal", "--data", str(tmp_path / "absent.csv"), "--outcome", "y",
                 "--time", "t", "--subject", "id"])
    assert code == 1


def test_decline_power_command(capsys):
    assert main(["decline-power", "--n", "7", "--dt", "0.7", "--replicates", "200",
                 "--seed", "1", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    # The command reports exactly what the function computes for the same seed.
    from alsstats.power.decline import decline_detection_power

    direct = decline_detection_power(7, 0.7, n_replicates=200, seed=1)
    assert res["power"] == direct.power and res["mc_se"] == direct.mc_se
    assert res["n_replicates"] == 200


def test_strict_exits_3_when_the_fit_did_not_converge(tmp_path, capsys, monkeypatch):
    # The optimiser's verdict is forced to "not converged"; the command still writes its
    # output, flags it, and exits 3 only under --strict.
    import dataclasses

    import numpy as np

    from alsstats.models.longitudinal import model as longitudinal_model

    real = longitudinal_model.fit_reml

    def unconverged(*args, **kwargs):
        fit, *rest = real(*args, **kwargs)   # (fit, layout, covariance choice)
        return (dataclasses.replace(fit, converged=False, message="forced"), *rest)

    monkeypatch.setattr(longitudinal_model, "fit_reml", unconverged)
    rng = np.random.default_rng(0)
    subjects, times = np.repeat(np.arange(12), 3), np.tile([0.0, 1.0, 2.0], 12)
    y = 10 + rng.normal(0, 1, 12)[subjects] - 0.5 * times + rng.normal(0, 0.3, 36)
    data = tmp_path / "long.csv"
    pd.DataFrame({"id": subjects, "t": times, "y": y}).to_csv(data, index=False)
    args = ["longitudinal", "--data", str(data), "--outcome", "y", "--time", "t",
            "--subject", "id", "--method", "reml"]
    out = tmp_path / "fit.json"
    assert main([*args, "--out", str(out), "--strict", "--json"]) == 3
    saved = json.loads(out.read_text())
    assert saved["converged"] is False and saved["convergence"]["optimizer_converged"] is False
    capsys.readouterr()
    assert main(args) == 0
    assert "WARNING: NOT CONVERGED" in capsys.readouterr().out
