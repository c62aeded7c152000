"""One output convention (issue 14): ``--out x.json`` / ``x.csv`` / ``x.parquet`` by extension.

Every command that writes a result is run twice, with ``--out r.json`` and ``--out r.csv``:
the JSON must parse and carry ``kind`` (the command's path), ``inputs`` and
``alsstats_version``; the CSV must parse as a table with at least one row; and
``report --from r.json`` must render it.  ``score`` follows the same code path; it needs a
fitted model and is covered in ``tests/models/test_diagnostic_cli.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alsstats._version import __version__
from alsstats.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "example_cohort.csv"
ROC = [str(EXAMPLE), "--outcome", "group", "--positive", "ALS", "--negative", "HC",
       "--subject", "subject_id", "--seed", "1"]

COMMANDS = {
    "power.slope": ["power", "slope", "--times", "0,0.5,1,1.5", "--delta", "1.5",
                    "--var-slope", "8", "--var-residual", "10", "--power", "0.8"],
    "power.ttest": ["power", "ttest", "--d", "0.5", "--power", "0.8"],
    "power.diagnostic.ci-width": ["power", "diagnostic", "ci-width", "--p", "0.8",
                                  "--conf-width", "0.1"],
    "power.diagnostic.buderer": ["power", "diagnostic", "buderer", "--sensitivity", "0.9",
                                 "--conf-width", "0.1", "--prevalence", "0.3"],
    "power.diagnostic.auc-width": ["power", "diagnostic", "auc-width", "--auc", "0.8",
                                   "--conf-width", "0.1", "--prevalence", "0.3"],
    "power.diagnostic.sensitivity-test": ["power", "diagnostic", "sensitivity-test",
                                          "--null", "0.7", "--alt", "0.85"],
    "power.diagnostic.auc-test": ["power", "diagnostic", "auc-test", "--null", "0.7",
                                  "--alt", "0.8"],
    "power.diagnostic.compare-auc": ["power", "diagnostic", "compare-auc", "--auc1", "0.8",
                                     "--auc2", "0.7", "--n-positive", "30", "--n-negative",
                                     "30", "--replicates", "20"],
    "power.diagnostic.cohort": ["power", "diagnostic", "cohort", "--markers", "nfl_pg_ml",
                                "--n-per-group", "15", "--replicates", "4", "--seed", "1"],
    "power.prediction.binary": ["power", "prediction", "binary", "--parameters", "10",
                                "--csrsquared", "0.2", "--prevalence", "0.3"],
    "power.prediction.continuous": ["power", "prediction", "continuous", "--parameters", "10",
                                    "--rsquared", "0.3", "--intercept", "10", "--sd", "2"],
    "power.prediction.survival": ["power", "prediction", "survival", "--parameters", "10",
                                  "--csrsquared", "0.1", "--rate", "0.1", "--timepoint", "2",
                                  "--meanfup", "2"],
    "power.simulate": ["power", "simulate", "trial_adascog", "--replicates", "8", "--seed", "1"],
    "roc": ["roc", *ROC, "--marker", "nfl_pg_ml", "--marker", "m1_precuneus_ratio"],
    "cutoff": ["cutoff", *ROC, "--marker", "nfl_pg_ml", "--n-boot", "50"],
    "cv": ["cv", *ROC, "--marker", "nfl_pg_ml", "--folds", "3", "--repeats", "2"],
    "increment": ["increment", str(EXAMPLE), "--add", "glu_naa,glu_gaba", "--folds", "3",
                  "--repeats", "1", "--n-boot", "100", "--seed", "1"],
    "calibration": ["calibration", "PROBS", "--outcome", "als", "--probability", "p",
                    "--n-boot", "100", "--seed", "1"],
    "decline-power": ["decline-power", "--n", "20", "--dt", "1", "--replicates", "20",
                      "--seed", "1"],
    "longitudinal": ["longitudinal", "--data", str(EXAMPLE), "--outcome",
                     "total_gm_volume_mm3", "--time", "years_from_baseline", "--subject",
                     "subject_id", "--group", "group"],
}


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("outputs")
    rng = np.random.default_rng(3)
    p = rng.random(300)
    probs = folder / "probs.csv"
    pd.DataFrame({"als": (rng.random(300) < p).astype(int), "p": p}).to_csv(probs, index=False)
    out = {}
    for kind, argv in COMMANDS.items():
        argv = [str(probs) if a == "PROBS" else a for a in argv]
        for ext in ("json", "csv"):
            path = folder / f"{kind}.{ext}"
            assert main([*argv, "--out", str(path)]) == 0, (kind, ext)
            out[f"{kind}.{ext}"] = path
    return out


@pytest.mark.parametrize("kind", list(COMMANDS))
def test_json_and_csv_parse_as_what_they_claim(written, kind):
    data = json.loads(written[f"{kind}.json"].read_text(encoding="utf-8"))
    assert data["kind"] == kind and data["alsstats_version"] == __version__
    assert isinstance(data["inputs"], dict) and "out" in data["inputs"]
    table = pd.read_csv(written[f"{kind}.csv"])
    assert len(table) >= 1 and len(table.columns) >= 2


@pytest.mark.parametrize("kind", list(COMMANDS))
def test_report_renders_every_json_kind(written, kind, tmp_path):
    page = tmp_path / "r.html"
    assert main(["report", "--from", str(written[f"{kind}.json"]), "--out", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert "<table" in html and "Traceback" not in html


def test_parquet_and_json_stdout(tmp_path, capsys):
    path = tmp_path / "r.parquet"
    assert main([*COMMANDS["power.slope"], "--out", str(path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    frame = pd.read_parquet(path)
    assert printed["kind"] == "power.slope"
    assert frame["n_control"].iloc[0] == pytest.approx(printed["n_control"])


def test_unknown_extension_is_a_usage_error_before_any_work(tmp_path, capsys):
    assert main([*COMMANDS["power.slope"], "--out", str(tmp_path / "r.txt")]) == 2
    assert "unknown extension '.txt'" in capsys.readouterr().err
    assert not (tmp_path / "r.txt").exists()
