"""`alsstats report --from FILE`: each result kind renders, bad inputs fail cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alsstats.cli import main
from alsstats.errors import AlsStatsError
from alsstats.pipeline.from_file import detect_kind

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "example_cohort.csv"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    d = tmp_path_factory.mktemp("results")
    assert main(["longitudinal", "--data", str(EXAMPLE), "--outcome", "total_gm_volume_mm3",
                 "--time", "years_from_baseline", "--subject", "subject_id", "--group", "group",
                 "--method", "reml", "--out", str(d / "fit.nc"), "--json"]) == 0
    assert main(["power", "simulate", "trial_adascog", "--replicates", "40", "--seed", "1",
                 "--out", str(d / "power.json"), "--json"]) == 0
    return d


def _html(out: Path) -> str:
    return (out / "index.html").read_text(encoding="utf-8")


def test_cohort_report(tmp_path):
    assert main(["report", "--from", str(EXAMPLE), "--out", str(tmp_path), "--json"]) == 0
    html = _html(tmp_path)
    assert "Is 1.00 the right M1/precuneus cutoff?" in html and "ROC curves" in html
    assert (tmp_path / "data" / "markers-auc.csv").exists()


def test_longitudinal_fit_report(tmp_path, results):
    assert detect_kind(results / "fit.nc") == "longitudinal"
    assert main(["report", "--from", str(results / "fit.nc"), "--out", str(tmp_path)]) == 0
    assert "REML fit of total_gm_volume_mm3" in _html(tmp_path)


def test_power_report(tmp_path, results):
    assert main(["report", "--from", str(results / "power.json"), "--out", str(tmp_path)]) == 0
    data = json.loads((results / "power.json").read_text())
    assert f"power {data['arms'][0]['power']:.3f}" in _html(tmp_path)


def test_cv_report(tmp_path, capsys):
    assert main(["cv", str(EXAMPLE), "--outcome", "group", "--positive", "ALS", "--negative",
                 "HC", "--marker", "nfl_pg_ml", "--subject", "subject_id", "--repeats", "2",
                 "--seed", "1", "--json"]) == 0
    cv = tmp_path / "cv.json"
    cv.write_text(capsys.readouterr().out)
    assert main(["report", "--from", str(cv), "--out", str(tmp_path / "r")]) == 0
    assert "Pooled out-of-fold performance per model" in _html(tmp_path / "r")


def test_bad_inputs_fail_cleanly(tmp_path, capsys):
    notes = tmp_path / "notes.md"
    notes.write_text("hello")
    assert main(["report", "--from", str(notes), "--out", str(tmp_path / "o")]) == 1
    assert "cannot tell the result kind" in capsys.readouterr().err
    odd = tmp_path / "x.json"
    odd.write_text('{"a": 1}')
    with pytest.raises(AlsStatsError, match="not an alsstats result"):
        detect_kind(odd)
    fake = tmp_path / "x.nc"
    fake.write_bytes(b"not netcdf")
    assert main(["report", "--from", str(fake), "--out", str(tmp_path / "o")]) == 1
    assert not (tmp_path / "o" / "index.html").exists()
