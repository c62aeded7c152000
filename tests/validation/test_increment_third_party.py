"""NRI, IDI and net benefit against third-party implementations.

Continuous NRI and IDI: Hmisc's ``improveProb`` (R).

``tests/data/increment/hmisc_reference.csv`` holds the values that Hmisc 4.8.0
(F. Harrell; R 4.2.2) computed on the stored predictions ``predictions.csv``; the R call
is ``hmisc_reference.R`` beside it (``improveProb(x1 = p_old, x2 = p_new, y = y)``).
Only numbers are stored; no Hmisc (GPL) code is used.  The predictions are stored with
six decimals and both sides read the same decimals, so the estimates agree to rounding
error (1e-12).

Net benefit: the Python package dcurves (1.1.7, the MSK decision-curve package;
``dcurves_reference.py`` writes ``dcurves_reference.csv``), for both models and for
"treat all", at thresholds 0.1-0.9.  dcurves is not a dependency; only its numbers are
stored (printed to 15 significant digits, hence 1e-13).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alsstats.validation import decision_curve
from alsstats.validation.reclassification import incremental_value
from tests.conftest import TEST_DATA

REF = TEST_DATA / "increment"


def test_continuous_nri_and_idi_match_hmisc_improveprob():
    data = pd.read_csv(REF / "predictions.csv")
    hmisc = pd.read_csv(REF / "hmisc_reference.csv").set_index("metric")["value"]
    iv = incremental_value(data["y"], data["p_old"], data["p_new"], n_boot=200, seed=1)
    pairs = {"nri_continuous": "nri", "nri_continuous_events": "nri.ev",
             "nri_continuous_nonevents": "nri.ne", "idi": "idi",
             "idi_events": "improveSens", "idi_nonevents": "improveSpec"}
    for ours, theirs in pairs.items():
        assert iv.row(ours)["estimate"] == pytest.approx(hmisc[theirs], abs=1e-12), ours


def test_net_benefit_matches_dcurves():
    data = pd.read_csv(REF / "predictions.csv")
    ref = pd.read_csv(REF / "dcurves_reference.csv")
    thresholds = np.arange(1, 10) / 10
    iv = incremental_value(data["y"], data["p_old"], data["p_new"], thresholds=thresholds,
                           n_boot=200, seed=1)
    nb = iv.net_benefit.set_index("threshold")
    for model, column in (("p_old", "net_benefit_old"), ("p_new", "net_benefit_new")):
        want = ref[ref["model"] == model].set_index("threshold")["net_benefit"]
        np.testing.assert_allclose(nb.loc[thresholds, column], want.loc[thresholds],
                                   rtol=0, atol=1e-13)
    treat_all = ref[ref["model"] == "all"].set_index("threshold")["net_benefit"]
    curve = decision_curve(data["y"], data["p_new"], thresholds=thresholds).curve
    np.testing.assert_allclose(curve["treat_all"], treat_all.loc[thresholds], atol=1e-13)
