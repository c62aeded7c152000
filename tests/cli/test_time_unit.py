"""``--time-unit``: slopes per the data's unit in every output; thresholds converted, not
applied to controls (issue 14, item 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from alsstats.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "example_cohort.csv"
ARGS = ["--outcome", "total_gm_volume_mm3", "--subject", "subject_id", "--group", "group",
        "--method", "reml"]


@pytest.fixture(scope="module")
def months(tmp_path_factory):
    d = tmp_path_factory.mktemp("months")
    data = pd.read_csv(EXAMPLE)
    data["months"] = data["years_from_baseline"] * 12
    path = d / "cohort.csv"
    data.to_csv(path, index=False)
    return path


def _fit(path, time, unit, out, capsys):
    assert main(["longitudinal", "--data", str(path), "--time", time, "--time-unit", unit,
                 *ARGS, "--out", str(out), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_unit_is_carried_into_the_json_and_text(months, tmp_path, capsys):
    per_month = _fit(months, "months", "months", tmp_path / "m.json", capsys)
    assert per_month["time_unit"] == "months" and per_month["slopes_per"] == "per month"
    assert json.loads((tmp_path / "m.json").read_text())["inputs"]["time_unit"] == "months"
    assert main(["longitudinal", "--data", str(months), "--time", "months", "--time-unit",
                 "months", *ARGS]) == 0
    assert "slopes and % change per month (months in months)" in capsys.readouterr().out


def test_report_says_per_month_and_spares_controls(months, tmp_path, capsys):
    fit = tmp_path / "fit.nc"
    assert main(["longitudinal", "--data", str(months), "--time", "months", "--time-unit",
                 "months", *ARGS, "--out", str(fit)]) == 0
    page = tmp_path / "r.html"
    assert main(["report", "--from", str(fit), "--out", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert "per month" in html and "per year (0.167% per month)" in html
    assert "not applied to controls (HC)" in html


def test_decline_power_dt_in_months_equals_dt_in_years(capsys):
    argv = ["decline-power", "--n", "10", "--replicates", "50", "--seed", "3", "--json"]
    assert main([*argv, "--dt", "12", "--time-unit", "months"]) == 0
    months = json.loads(capsys.readouterr().out)
    assert main([*argv, "--dt", "1"]) == 0
    years = json.loads(capsys.readouterr().out)
    assert months["power"] == years["power"] and months["dt_years"] == pytest.approx(1.0)
    assert months["time_unit"] == "months" and months["dt"] == 12


def test_months_fit_is_the_exact_rescaling_of_years(months, tmp_path, capsys):
    # The REML engine is invariant to rescaling time: per month x 12 = per year (the former
    # engine differed by 0.7% on this data).
    per_month = _fit(months, "months", "months", tmp_path / "m.json", capsys)
    per_year = _fit(months, "years_from_baseline", "years", tmp_path / "y.json", capsys)
    m = pd.DataFrame(per_month["summary"]).set_index("term")
    y = pd.DataFrame(per_year["summary"]).set_index("term")
    rates = [t for t in y.index if t.startswith(("slope", "percent"))]
    assert len(rates) >= 8
    for term in rates:
        assert m.loc[term, "estimate"] * 12 == pytest.approx(y.loc[term, "estimate"], rel=1e-6)
