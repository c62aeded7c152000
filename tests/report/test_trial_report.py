"""Trial-planning reports (`report --from` on power sequential / assurance / enrichment)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from alsstats.cli import main
from alsstats.pipeline.from_file import detect_kind
from alsstats.report.sections import trial_planning_sections

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "example_cohort.csv"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    d = tmp_path_factory.mktemp("trial")
    assert main(["power", "sequential", "trial_adascog", "--looks", "0.5,1", "--futility",
                 "0.1", "--method", "egls", "--replicates", "20", "--seed", "1", "--quiet",
                 "--out", str(d / "sequential.json")]) == 0
    assert main(["longitudinal", "--data", str(EXAMPLE), "--outcome", "total_gm_volume_mm3",
                 "--time", "years_from_baseline", "--subject", "subject_id", "--group",
                 "group", "--method", "reml", "--seed", "1", "--out", str(d / "fit.nc"),
                 "--quiet"]) == 0
    assert main(["power", "assurance", "--pilot", str(d / "fit.nc"), "--effect-prior",
                 "normal(0.3,0.1)", "--n", "50,100,200", "--times", "0,0.5,1,1.5,2",
                 "--quiet", "--out", str(d / "assurance.json")]) == 0
    assert main(["power", "enrichment", "--times", "0,3,6,9,12", "--slowing", "0.3",
                 "--population-size", "1500", "--seed", "2", "--thresholds", "20,40,60",
                 "--quiet", "--out", str(d / "enrichment.json")]) == 0
    return d


@pytest.mark.parametrize("name", ["sequential", "assurance", "enrichment"])
def test_each_trial_result_renders(results, tmp_path, name):
    src = results / f"{name}.json"
    assert detect_kind(src) == "trial"
    assert main(["report", "--from", str(src), "--out", str(tmp_path / name)]) == 0
    html = (tmp_path / name / "index.html").read_text(encoding="utf-8")
    assert "Trial planning report" in html and "<img" in html


def test_figures_draw_the_result_numbers(results):
    seq = json.loads((results / "sequential.json").read_text())
    fig = trial_planning_sections(seq)[0].items[0]
    drawn = fig.plotted["P(stop for success) · with the effect"]
    np.testing.assert_array_equal(drawn[:, 1], [look["success"] for look in
                                                seq["alternative"]["looks"]])
    ass = json.loads((results / "assurance.json").read_text())
    fig = trial_planning_sections(ass)[0].items[0]
    np.testing.assert_array_equal(fig.plotted["assurance"][:, 1], ass["assurance"])
    np.testing.assert_array_equal(fig.plotted["power at the posterior mean"][:, 1],
                                  ass["power_at_posterior_mean"])
    enr = json.loads((results / "enrichment.json").read_text())
    section = trial_planning_sections(enr)[0]
    ratio = section.items[0].plotted["screened per enrolled"]
    np.testing.assert_array_equal(ratio[:, 0], [0.0, 20.0, 40.0, 60.0])   # none drawn at 0
    np.testing.assert_array_equal(ratio[:, 1], [r["screening_ratio"] for r in
                                                enr["thresholds"]])
