"""The diagnostic model spec: default, editable example, validation errors, PMA mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from alsstats.errors import SpecError
from alsstats.models.diagnostic.spec import DEFAULT_PRIORS, DiagnosticSpec, default_spec, load_spec

ROOT = Path(__file__).resolve().parents[2]


def _base() -> dict:
    return {"model": {"classes": ["ALS", "MIMIC", "HC"]},
            "markers": {"nfl_pg_ml": {"transform": "log"}}}


def test_default_spec_contents():
    spec = default_spec()
    assert spec.marker_names == ("glu_naa", "glu_gaba", "m1_precuneus_ratio", "nfl_pg_ml",
                                 "chi3l1_ng_ml", "smn_sma")
    assert [m.transform for m in spec.markers] == ["log", "log", "identity", "log", "log",
                                                   "identity"]
    assert spec.classes == ("ALS", "MIMIC", "HC")
    assert spec.group_to_class() == {"HC": "HC", "MIMIC": "MIMIC", "PMA": "ALS", "ALS": "ALS"}
    assert spec.priors == DEFAULT_PRIORS
    assert spec.interval == 0.9


def test_editable_example_equals_shipped_default():
    example = load_spec(ROOT / "models" / "diagnostic.toml")
    assert example.to_json() == default_spec().to_json()


def test_json_round_trip():
    spec = default_spec()
    assert DiagnosticSpec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize(("pma", "classes", "mapped"), [
    ("ALS", ["ALS", "MIMIC", "HC"], "ALS"),
    ("exclude", ["ALS", "MIMIC", "HC"], None),
    ("own", ["ALS", "PMA", "MIMIC", "HC"], "PMA"),
])
def test_pma_options(pma, classes, mapped):
    data = _base()
    data["model"] = {"classes": classes, "pma": pma}
    assert DiagnosticSpec.from_dict(data).group_to_class()["PMA"] == mapped


@pytest.mark.parametrize(("patch", "message"), [
    ({"markers": {"nfl": {}}}, "unknown marker"),
    ({"markers": {"nfl_pg_ml": {"transform": "sqrt"}}}, "transform"),
    ({"markers": {"nfl_pg_ml": {"covariates": ["bmi"]}}}, "covariates"),
    ({"markers": {"nfl_pg_ml": {"colour": "red"}}}, "unknown"),
    ({"priors": {"mu_sd": 1.0}}, "unknown prior"),
    ({"priors": {"lkj_eta": -1}}, "positive"),
    ({"model": {"classes": ["MIMIC", "HC"]}}, "must include 'ALS'"),
    ({"model": {"classes": ["ALS", "ALS"]}}, "distinct"),
    ({"model": {"pma": "maybe"}}, "pma must be one of"),
    ({"model": {"pma": "own"}}, "requires 'PMA'"),
    ({"model": {"interval": 1.5}}, "interval"),
    ({"model": {"covariance": "yes"}}, "covariance must be one of"),
    ({"model": {"missingness": "pattern"}}, "missingness must be one of"),
    ({"model": {"marker_distribution": "cauchy"}},
     "marker_distribution must be one of normal, student_t, skew_normal; got 'cauchy'"),
    ({"model": {"marker_distribution": "student_t", "measurement_error": "crlb"}},
     "marker_distribution = 'student_t' is not supported with measurement_error = 'crlb'"),
    ({"model": {"marker_distribution": "skew_normal", "reference": "latent"}},
     "marker_distribution = 'skew_normal' is not supported with reference = 'latent'"),
    ({"priors": {"nu_rate": 0.2}},
     "prior nu_rate is used only with \\[model\\] marker_distribution = 'student_t'"),
    ({"model": {"marker_distribution": "student_t"}, "priors": {"skew_sd": 1.0}},
     "prior skew_sd is used only with \\[model\\] marker_distribution = 'skew_normal'"),
    ({"model": {"marker_distribution": "student_t"}, "priors": {"nu_rate": -1.0}},
     "prior nu_rate must be a positive number"),
    ({"extra": {}}, "unknown top-level"),
    ({"markers": {}}, "at least one marker"),
])
def test_invalid_specs_raise(patch, message):
    data = _base()
    data.update(patch)
    with pytest.raises(SpecError, match=message):
        DiagnosticSpec.from_dict(data)


def test_spec_file_errors(tmp_path):
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[model\nclasses = 1\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(bad)
    with pytest.raises(SpecError, match="must be None, a path"):
        load_spec(3)
