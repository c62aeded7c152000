"""alsstats.validation against pROC 1.18 on the aSAH data (Turck et al. 2010), tests/data/pROC/.

Expected numbers: /work/shared/docs/references.md, section "ROC / AUC (R package pROC 1.18)":
``roc(outcome, s100b)`` and ``ci.auc(..., method = "delong")``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from alsstats.validation import auc, delong_ci, roc_curve

# pROC 1.18, roc(aSAH$outcome, aSAH$s100b): AUC and its DeLong 95% CI (references.md).
PROC_AUC = 0.73136856369
PROC_CI = (0.63011821176, 0.83261891561)


@pytest.fixture(scope="module")
def asah(reference_path) -> pd.DataFrame:
    return pd.read_csv(reference_path("pROC/asah.csv"))


def test_auc_matches_proc(asah):
    assert auc(asah["outcome"], asah["s100b"]) == pytest.approx(PROC_AUC, abs=1e-10)


def test_delong_ci_matches_proc(asah):
    # pROC's values are printed to 11 decimals (rounding <= 5e-12); measured differences
    # 4.4e-12 (AUC), 1.6e-12 and 3.5e-13 (CI bounds).
    res = delong_ci(asah["outcome"], asah["s100b"])
    assert res.auc == pytest.approx(PROC_AUC, abs=1e-11)
    assert res.lower == pytest.approx(PROC_CI[0], abs=1e-11)
    assert res.upper == pytest.approx(PROC_CI[1], abs=1e-11)
    # pROC detects direction "<" (controls < cases): our '>' (higher = positive).
    assert res.direction == ">" and res.direction_detected


def test_reversed_marker_gives_same_auc_with_detected_direction(asah):
    res = delong_ci(asah["outcome"], -asah["s100b"])
    assert res.direction == "<"
    assert res.lower == pytest.approx(PROC_CI[0], abs=1e-11)


def test_curve_area_equals_auc(asah):
    import numpy as np

    c = roc_curve(asah["outcome"], asah["s100b"])
    assert np.trapezoid(c.sensitivity, c.fpr) == pytest.approx(PROC_AUC, abs=1e-10)


def test_youden_cutoff_matches_proc_coords_best(asah):
    # pROC README/vignette example: coords(roc(aSAH$outcome, aSAH$s100b), "best",
    # ret = c("threshold", "specificity", "1-npv")) -> 0.2050000 0.8055556 0.2054795
    # (not listed in references.md; quoted from pROC's documentation).
    from alsstats.validation import optimal_cutoff

    r = optimal_cutoff(asah["outcome"], asah["s100b"])
    assert r.cutoff == pytest.approx(0.205, abs=1e-9)
    assert r.specificity == pytest.approx(0.8055556, abs=1e-7)
    npv = r.performance.get("npv")[0]
    assert 1 - npv == pytest.approx(0.2054795, abs=1e-7)
