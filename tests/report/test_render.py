"""Report rendering: self-contained HTML, escaping, figure content, and a real browser load."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from alsstats.report.document import Report, Section, Table, render_html, write_report
from alsstats.report.figures import interval_figure, roc_figure
from tests.report.chromium import load_page

XSS = "<script>alert(1)</script>"


def _roc_inputs():
    # A known staircase ROC: area 0.5 * 0.5 + 0.5 * 1 = 0.75.
    curves = pd.DataFrame({"marker": ["nfl"] * 5, "fpr": [0, 0, 0.5, 0.5, 1],
                           "tpr": [0, 0.5, 0.5, 1, 1]})
    aucs = pd.DataFrame({"marker": ["nfl"], "auc": [0.75], "low": [0.6], "high": [0.9]})
    return curves, aucs


@pytest.fixture(scope="module")
def report():
    curves, aucs = _roc_inputs()
    scores = pd.DataFrame({"subject_id": [XSS, "P2"], "p_als": [0.8, 0.3], "low": [0.7, 0.1],
                           "high": [0.9, 0.5], "group": ["ALS", "HC"]})
    section = Section(title=f"Results {XSS}", slug="results", paragraphs=[f"note {XSS}"],
                      warnings=["fit did not converge"], items=[
        roc_figure(curves, aucs, title="ROC", caption=f"caption {XSS}"),
        interval_figure(scores, label="subject_id", estimate="p_als", low="low", high="high",
                        title="P(ALS)", caption="per patient", xlabel="P(ALS)", slug="p",
                        color_by="group"),
        Table("Scores", scores, caption="scores", slug="scores"),
    ])
    return Report(title="Test report", sections=[section], provenance={"seed": "1",
                                                                        "input": XSS})


def test_user_strings_are_escaped(report):
    html = render_html(report)
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()  # no scripts at all


def test_self_contained(report):
    html = render_html(report)
    assert not re.search(r'(src|href)="(?!data:|#)', html)  # only data: URIs and anchors
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert html.count('src="data:image/png;base64,') == 2
    assert "Provenance" in html and "alsstats version" in html


def test_roc_figure_draws_the_reported_auc(report):
    fig = report.sections[0].items[0]
    (label, xy), = ((k, v) for k, v in fig.plotted.items() if k.startswith("nfl"))
    drawn_auc = np.trapezoid(xy[:, 1], xy[:, 0])
    assert drawn_auc == pytest.approx(fig.data["auc"].iloc[0])
    assert "AUC 0.750 (0.600–0.900)" in label


def test_write_report_files(tmp_path, report):
    index = write_report(report, tmp_path / "out")
    assert index.name == "index.html" and index.read_text().startswith("<!DOCTYPE html>")
    csv = pd.read_csv(tmp_path / "out" / "data" / "results-scores.csv")
    assert csv["subject_id"].iloc[0] == XSS  # data kept verbatim in the CSV


def test_renders_in_headless_chromium(tmp_path, report, chromium):
    index = write_report(report, tmp_path / "out")
    page = load_page(chromium, index, tmp_path)
    assert page.console_messages == []
    assert page.requests == []
    image = imread(page.screenshot)
    assert image.shape[0] > 500 and image[..., :3].std() > 0.05  # not blank


def test_browser_check_detects_problems(tmp_path, chromium):
    """The Chromium harness itself must see a console error and an outside request."""
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><img src="http://127.0.0.1:9/x.png">'
                   '<script>console.error("boom")</script></body></html>')
    page = load_page(chromium, bad, tmp_path)
    assert any("boom" in line for line in page.console_messages)
    assert page.requests == ["http://127.0.0.1:9/x.png"]
