"""The demo end to end (quick mode): the report is produced, its figures show the computed
numbers, and it loads in headless Chromium with no console messages or network requests."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from alsstats.cli import main
from tests.report.chromium import load_page

# Justified exception to "a ConvergenceWarning fails the test" (pyproject.toml): --quick
# runs short chains for a fast look; the report flags a fit that missed the policy
# (test_non_convergence_is_flagged_in_the_report).
pytestmark = pytest.mark.filterwarnings("ignore::alsstats.errors.ConvergenceWarning")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--quick", "--out", str(out), "--json"]) == 0
    return out


def test_report_has_every_section(demo):
    html = (demo / "index.html").read_text(encoding="utf-8")
    for section in ("cohort", "markers", "cutoff", "increment", "cutoff-posterior",
                    "diagnostic", "decline", "power"):
        assert f'<section id="{section}">' in html
    assert "Provenance" in html and "seed" in html and "sha256" in html
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)="(?!data:|#)', html)


def test_non_convergence_is_flagged_in_the_report(demo):
    html = (demo / "index.html").read_text(encoding="utf-8")
    table = pd.read_csv(demo / "data" / "diagnostic-convergence.csv")
    converged = table.set_index("quantity").loc["converged", "value"] == "True"
    assert ("The diagnostic model fit did NOT meet the convergence criteria"
            in html) == (not converged)


def test_roc_figure_data_matches_auc_table(demo):
    """The CSV behind the ROC figure is the curve whose area is the reported AUC."""
    curves = pd.read_csv(demo / "data" / "markers-roc.csv")
    table = pd.read_csv(demo / "data" / "markers-auc.csv").set_index("marker")
    for marker, curve in curves.groupby("marker"):
        area = np.trapezoid(curve["tpr"], curve["fpr"])
        assert area == pytest.approx(table.loc[marker, "auc"], abs=1e-12)
        assert curve["auc"].iloc[0] == pytest.approx(table.loc[marker, "auc"])


def test_cutoff_and_power_numbers_are_consistent(demo):
    perf = pd.read_csv(demo / "data" / "cutoff-performance.csv")
    sens = perf[(perf["metric"] == "sensitivity") & (perf["interval"] == "wilson")].iloc[0]
    assert sens["lower"] <= sens["estimate"] <= sens["upper"]
    trial = pd.read_csv(demo / "data" / "power-trial.csv")
    # simulated power within 3 MC SE (+ 0.02 for the REML-vs-GLS approximation) of analytic
    assert (abs(trial["power"] - trial["analytic_power"])
            <= 3 * trial["mc_se"] + 0.02).all()
    assert trial["power"].is_monotonic_increasing or trial["power"].diff().min() > -0.1


def test_demo_report_renders_in_chromium(demo, tmp_path, chromium):
    page = load_page(chromium, demo / "index.html", tmp_path)
    assert page.console_messages == []
    assert page.requests == []
    image = imread(page.screenshot)
    assert image[..., :3].std() > 0.05


def test_added_value_and_cutoff_posterior_figures_match_their_tables(demo):
    """The ΔAUC figure draws the table's ΔAUC; the posterior histogram holds the draws whose
    share within ±delta of 1.00 is the reported probability."""
    fig = pd.read_csv(demo / "data" / "increment-delta-auc.csv").set_index("added")
    table = pd.read_csv(demo / "data" / "increment-increment-all.csv")
    auc = table[table["metric"] == "delta_auc"].set_index("added")
    assert len(auc) == 4
    for added, row in auc.iterrows():
        assert fig.loc[added, "estimate"] == pytest.approx(row["estimate"], abs=1e-12)
        assert row["lower"] <= row["upper"]
    draws = pd.read_csv(demo / "data" / "cutoff-posterior-cutoff-posterior.csv")
    summary = pd.read_csv(demo / "data" / "cutoff-posterior-cutoff-posterior-summary.csv")
    post = draws[draws["method"].str.startswith("posterior")]["cutoff"]
    p = summary.set_index("method").loc["posterior", "prob_within"]
    assert np.mean(np.abs(post - 1.0) < 0.05) == pytest.approx(p, abs=1e-12)
