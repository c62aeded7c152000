"""Input errors raised before any sampling (no compile)."""

from __future__ import annotations

import pytest

from alsstats.errors import AlsStatsError, DataValidationError
from alsstats.models.diagnostic.model import DiagnosticModel


def test_fit_rejects_a_class_without_subjects(diag_train):
    with pytest.raises(DataValidationError, match="no training subjects in class"):
        DiagnosticModel().fit(diag_train[diag_train["group"] != "MIMIC"])


def test_fit_rejects_bad_labels_and_tables(diag_train):
    with pytest.raises(DataValidationError, match="one label per row"):
        DiagnosticModel().fit(diag_train, y=["ALS"] * 3)
    with pytest.raises(DataValidationError, match="unknown label"):
        DiagnosticModel().fit(diag_train, y=["XYZ"] * len(diag_train))
    with pytest.raises(DataValidationError, match="required column missing"):
        DiagnosticModel().fit(diag_train.drop(columns=["site"]))
    with pytest.raises(DataValidationError):
        DiagnosticModel().fit(diag_train.iloc[0:0])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"draws": 0}, "draws"), ({"chains": 1.5}, "chains"), ({"sampler": "gibbs"}, "sampler"),
])
def test_bad_sampling_settings(diag_train, kwargs, message):
    with pytest.raises(AlsStatsError, match=message):
        DiagnosticModel(**kwargs).fit(diag_train)


def test_target_accept_must_be_a_probability():
    from alsstats.errors import AlsStatsError
    from alsstats.inference.sampling import SamplingConfig

    assert SamplingConfig(target_accept=0.95).target_accept == 0.95
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(AlsStatsError, match="target_accept must be in"):
            SamplingConfig(target_accept=bad)
