"""Longitudinal decline model: REML path, reporting, persistence, spec and input validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alsstats.errors import AlsStatsError, DataValidationError, NotFittedError, SpecError
from alsstats.models.lmm.engine import fit_lmm_formula
from alsstats.models.longitudinal.model import LongitudinalModel
from alsstats.models.longitudinal.spec import LongitudinalSpec, load_longitudinal_spec

SLEEP = {"outcome": "Reaction", "time": "Days", "subject": "Subject", "group": None,
         "covariates": (), "site": None}


def _toy(seed=0, n=40, times=(0.0, 0.5, 1.0, 1.5), slope_diff=-2.0):
    """Two groups, random intercept and slope, baseline covariate and two sites."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        g = "ALS" if i % 2 else "HC"
        age = rng.normal(60, 8)
        u0, u1 = rng.multivariate_normal([0, 0], [[4.0, 0.3], [0.3, 0.5]])
        site = "A" if i < n // 2 else "B"
        for t in times:
            y = (100 + u0 + (-1.0 + (slope_diff if g == "ALS" else 0) + u1) * t
                 + 0.2 * (age - 60) + (0.5 if site == "B" else 0) + rng.normal(0, 0.7))
            rows.append({"id": f"p{i:03d}", "t": t + rng.uniform(0, 0.05), "y": y, "grp": g,
                         "age": age, "site": site})
    return pd.DataFrame(rows)


TOY = {"outcome": "y", "time": "t", "subject": "id", "group": "grp", "covariates": ("age",),
       "site": "site"}


@pytest.fixture(scope="module")
def sleepstudy(reference_path):
    return pd.read_csv(reference_path("lme4/sleepstudy.csv"))


@pytest.fixture(scope="module")
def toy_fit():
    return LongitudinalModel(method="reml", seed=1, **TOY).fit(_toy())


def test_reml_estimator_reproduces_lme4_on_sleepstudy(sleepstudy):
    # lme4 1.1 (shared/docs/references.md): 251.4051, 10.4673; SE 6.8246, 1.5458;
    # SD 24.7407, 5.9221; corr 0.0656; sigma 25.5918.
    m = LongitudinalModel(method="reml", seed=0, **SLEEP).fit(sleepstudy)
    s = m.summary()
    # Tolerances as in tests/reference/test_lme4_sleepstudy.py (measured there).
    np.testing.assert_allclose(s.loc[["intercept[all]", "slope[all]"], "estimate"],
                               [251.4051, 10.4673], rtol=0, atol=5e-5)
    np.testing.assert_allclose(s.loc[["intercept[all]", "slope[all]"], "sd"],
                               [6.8246, 1.5458], rtol=0, atol=5e-5)
    np.testing.assert_allclose(s.loc[["sd_intercept", "sd_slope", "sigma"], "estimate"],
                               [24.7407, 5.9221, 25.5918], rtol=2e-5)
    assert s.loc["corr", "estimate"] == pytest.approx(0.0656, abs=6e-5)
    assert m.converged_


def test_reml_design_equals_the_formula_fit(toy_fit):
    # Cell-means coding is a reparameterisation of y ~ grp * t + age + site: the same
    # variance components (the REML criterion only shifts by log|A'A| for X -> XA), and
    # the slope difference is the interaction coefficient.
    df = _toy()
    df["age_c"] = df.groupby("id")["age"].transform("first")
    f = fit_lmm_formula("y ~ grp * t + age_c + site + (t | id)", df)
    np.testing.assert_allclose(toy_fit.lmm_.random_cov, f.random_cov, rtol=1e-5)
    assert toy_fit.lmm_.sigma == pytest.approx(f.sigma, rel=1e-6)
    diff = toy_fit.summary().loc["slope_diff[ALS - HC]"]
    assert diff["estimate"] == pytest.approx(-f.coef("grp[HC]:t"), rel=1e-6)
    assert diff["sd"] == pytest.approx(f.se("grp[HC]:t"), rel=1e-5)


def test_percent_per_year_delta_method_matches_simulation(toy_fit):
    # The Wald (delta-method) SE of 100·b/a agrees with the SD of the simulated draws
    # (4000 draws: MC relative error of an SD ≈ 1/sqrt(2·4000) ≈ 1.1%).
    s = toy_fit.summary()
    draws = toy_fit.draws_["percent_per_time"]
    for k, g in enumerate(["ALS", "HC"]):
        assert s.loc[f"percent_per_time[{g}]", "sd"] == pytest.approx(draws[:, k].std(),
                                                                       rel=0.05)
    assert s.loc["slope_diff[ALS - HC]", "upper"] < 0      # true difference −2 / time unit


def test_predict_and_probability_of_decline(toy_fit):
    pg = toy_fit.predict([0.0, 1.0], level="group")
    assert list(pg["id"].unique()) == ["ALS", "HC"] and len(pg) == 4
    assert (pg["lower"] < pg["estimate"]).all() and (pg["estimate"] < pg["upper"]).all()
    ps = toy_fit.predict([0.0, 2.0], level="subject", subjects=["p000", "p001"])
    assert len(ps) == 4 and set(ps["group"]) == {"ALS", "HC"}
    p1 = toy_fit.prob_decline_exceeds(0.5)
    p2 = toy_fit.prob_decline_exceeds(2.0)
    assert (p1 >= p2).all() and p1.between(0, 1).all()
    pg = toy_fit.prob_decline_exceeds(1.0, level="group")
    assert pg["ALS"] > 0.99 and pg["HC"] < 0.6          # true slopes −3 and −1
    slopes = toy_fit.subject_slopes()
    assert slopes.loc["p001", "group"] == "ALS"
    blup_slope = toy_fit.lmm_.random_effects[:, 1]
    np.testing.assert_allclose(
        slopes["slope"] - slopes["group"].map(toy_fit.summary()["estimate"].filter(
            like="slope[").rename(lambda s: s[6:-1])), blup_slope, atol=0.05)
    with pytest.raises(SpecError):
        toy_fit.predict(level="site")


def test_save_and_load_round_trip(toy_fit, tmp_path):
    path = tmp_path / "fit.nc"
    toy_fit.save(path)
    back = LongitudinalModel.load(path)
    pd.testing.assert_frame_equal(back.summary(), toy_fit.summary())
    pd.testing.assert_frame_equal(back.predict([0, 1]), toy_fit.predict([0, 1]))
    assert back.data_hash_ == toy_fit.data_hash_ and back.spec_ == toy_fit.spec_
    assert back.get_params()["outcome"] == "y"
    assert back.convergence_ == toy_fit.convergence_ and back.converged_
    assert back.provenance_["alsstats_model"] == "longitudinal"
    assert back.provenance_["data_sha256"] == toy_fit.data_hash_
    bad = tmp_path / "not.nc"
    bad.write_text("hello")
    with pytest.raises(AlsStatsError, match="not a readable NetCDF"):
        LongitudinalModel.load(bad)


def test_previous_layout_gives_a_clear_error(toy_fit, tmp_path):
    # The layout before the shared base: provenance without a model name, format "/1".
    idata = toy_fit.idata_.copy()
    idata.derived.attrs = {"format": "alsstats.longitudinal/1", "spec": "{}"}
    path = tmp_path / "old.nc"
    idata.to_netcdf(str(path))
    with pytest.raises(AlsStatsError, match="previous layout"):
        LongitudinalModel.load(path)


def test_diagnostic_fit_file_is_not_a_longitudinal_fit(toy_fit, tmp_path):
    from alsstats.models.base import write_fit

    idata = toy_fit.idata_.copy()
    idata.derived.attrs["alsstats_model"] = "diagnostic"
    path = tmp_path / "other.nc"
    write_fit(idata, path, group="derived")
    with pytest.raises(SpecError, match="holds a 'diagnostic' fit"):
        LongitudinalModel.load(path)


def test_unfitted_model_raises():
    with pytest.raises(NotFittedError):
        LongitudinalModel().summary()


def test_same_seed_same_draws():
    a = LongitudinalModel(method="reml", seed=3, **TOY).fit(_toy())
    b = LongitudinalModel(method="reml", seed=3, **TOY).fit(_toy())
    np.testing.assert_array_equal(a.subject_draws_["slope"], b.subject_draws_["slope"])


def test_one_visit_per_subject_is_rejected():
    df = _toy().groupby("id").head(1)
    with pytest.raises(DataValidationError, match="one visit"):
        LongitudinalModel(method="reml", **TOY).fit(df)


def test_non_numeric_time_is_rejected_with_row():
    df = _toy()
    df["t"] = df["t"].astype(object)
    df.loc[5, "t"] = "week 2"
    with pytest.raises(DataValidationError, match="time must be numeric") as err:
        LongitudinalModel(method="reml", **TOY).fit(df)
    assert err.value.problems[0].row == 5 and err.value.problems[0].value == "week 2"


def test_duplicated_visits_are_rejected():
    df = _toy()
    df = pd.concat([df, df.iloc[[3]]], ignore_index=True)
    with pytest.raises(DataValidationError, match="duplicated visit"):
        LongitudinalModel(method="reml", **TOY).fit(df)


def test_missing_columns_and_changing_group_are_rejected():
    df = _toy()
    with pytest.raises(DataValidationError, match="missing") as err:
        LongitudinalModel(method="reml", **{**TOY, "covariates": ("age", "etiv")}).fit(df)
    assert err.value.problems[0].column == "etiv"
    df.loc[1, "grp"] = "ALS" if df.loc[1, "grp"] == "HC" else "HC"
    with pytest.raises(DataValidationError, match="group changes"):
        LongitudinalModel(method="reml", **TOY).fit(df)


def test_rows_without_outcome_are_left_out():
    df = _toy()
    df.loc[[2, 7], "y"] = np.nan
    m = LongitudinalModel(method="reml", **TOY).fit(df)
    assert m.meta_["n_dropped"] == 2 and m.meta_["n_obs"] == len(df) - 2


def test_input_table_is_not_modified():
    df = _toy()
    before = df.copy()
    LongitudinalModel(method="reml", **TOY).fit(df)
    pd.testing.assert_frame_equal(df, before)


def test_spec_validation(tmp_path):
    assert load_longitudinal_spec() == LongitudinalSpec()
    with pytest.raises(SpecError, match="unknown"):
        load_longitudinal_spec({"priors": {"slope_scale": 1.0}})
    with pytest.raises(SpecError, match="unknown"):
        load_longitudinal_spec({"model": {"random_slope": True}})
    with pytest.raises(SpecError):
        load_longitudinal_spec({"model": {"residual": "cauchy"}})
    p = tmp_path / "s.toml"
    p.write_text('[model]\nrandom_effects = "intercept"\n[priors]\nslope_sd = 1.0\n')
    s = load_longitudinal_spec(p)
    assert not s.random_slope and s.priors["slope_sd"] == 1.0
    assert LongitudinalSpec.from_json(s.to_json()) == s
    with pytest.raises(SpecError):
        LongitudinalModel(method="reml", spec={"model": {"residual": "student_t"}},
                          **TOY).fit(_toy())
    with pytest.raises(SpecError):
        LongitudinalModel(method="gee", **TOY).fit(_toy())


def test_repository_spec_copy_matches_shipped_default():
    from pathlib import Path

    repo_copy = Path(__file__).resolve().parents[2] / "models" / "longitudinal.toml"
    assert load_longitudinal_spec(repo_copy) == load_longitudinal_spec()


def test_random_intercept_model():
    m = LongitudinalModel(method="ml", spec={"model": {"random_effects": "intercept"}},
                          **TOY).fit(_toy())
    s = m.summary()
    assert "sd_slope" not in s.index and m.lmm_.method == "ml"
