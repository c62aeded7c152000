"""Continuous NRI and IDI against a third-party implementation: Hmisc's ``improveProb``.

``tests/data/increment/hmisc_reference.csv`` holds the values that Hmisc 4.8.0
(F. Harrell; R 4.2.2) computed on the stored predictions ``predictions.csv``; the R call
is ``hmisc_reference.R`` beside it (``improveProb(x1 = p_old, x2 = p_new, y = y)``).
Only numbers are stored; no Hmisc (GPL) code is used.  The predictions are stored with
six decimals and both sides read the same decimals, so the estimates agree to rounding
error (1e-12).
"""

from __future__ import annotations

import pandas as pd
import pytest

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
