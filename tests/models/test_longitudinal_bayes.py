"""Bayesian longitudinal fit on sleepstudy with the default weak priors (compiles a model)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alsstats.models.longitudinal import LongitudinalModel
from alsstats.models.longitudinal_spec import load_longitudinal_spec

pytestmark = pytest.mark.sampling

SLEEP = {"outcome": "Reaction", "time": "Days", "subject": "Subject", "group": None,
         "covariates": (), "site": None}


@pytest.fixture(scope="session")
def sleepstudy_df(reference_data):
    return pd.read_csv(reference_data / "sleepstudy.csv")


@pytest.fixture(scope="session")
def bayes_fit(sleepstudy_df):
    spec = load_longitudinal_spec().replace(sampling={"draws": 600, "tune": 600})
    return LongitudinalModel(spec=spec, method="bayes", seed=11, **SLEEP).fit(sleepstudy_df)


@pytest.fixture(scope="session")
def reml_fit(sleepstudy_df):
    return LongitudinalModel(method="reml", seed=11, **SLEEP).fit(sleepstudy_df)


def test_posterior_lands_within_half_a_posterior_sd_of_reml(bayes_fit, reml_fit):
    # Issue 5: with weak priors the posterior means of the fixed effects are within half a
    # posterior SD of the REML (= lme4) estimates.
    b, r = bayes_fit.summary(), reml_fit.summary()
    for term in ("intercept[all]", "slope[all]"):
        assert abs(b.loc[term, "estimate"] - r.loc[term, "estimate"]) < 0.5 * b.loc[term, "sd"]
    # and the posterior SDs are of the size of the REML SEs (small-sample inflation < 40%)
    ratio = b.loc[["intercept[all]", "slope[all]"], "sd"] / r.loc[
        ["intercept[all]", "slope[all]"], "sd"]
    assert ratio.between(0.9, 1.4).all()


def test_convergence_is_checked_and_stored(bayes_fit):
    c = bayes_fit.convergence_
    assert c["ok"] and bayes_fit.converged_
    assert c["max_rhat"] <= 1.01 and c["min_ess_bulk"] >= 400 and c["divergences"] == 0


def test_subject_slopes_track_the_reml_predictions(bayes_fit, reml_fit):
    b = bayes_fit.subject_slopes()["slope"]
    r = reml_fit.subject_slopes()["slope"]
    assert np.corrcoef(b, r)[0, 1] > 0.98
    assert np.max(np.abs(b - r)) < 0.5 * bayes_fit.subject_slopes()["slope_sd"].min() + 1.0


def test_bayes_save_load_keeps_posterior_and_diagnostics(bayes_fit, tmp_path):
    path = tmp_path / "bayes.nc"
    bayes_fit.save(path)
    back = LongitudinalModel.load(path)
    pd.testing.assert_frame_equal(back.summary(), bayes_fit.summary())
    assert back.idata_ is not None and "a" in back.idata_.posterior
    assert back.convergence_ == bayes_fit.convergence_


def test_refit_swaps_data_into_the_compiled_model(bayes_fit, sleepstudy_df):
    import time

    spec = bayes_fit.spec_
    sub = sleepstudy_df[sleepstudy_df["Days"] <= 6]
    start = time.perf_counter()
    m = LongitudinalModel(spec=spec, method="bayes", seed=2, **SLEEP).fit(sub)
    assert time.perf_counter() - start < 10.0        # no recompilation (compile takes ~15-40 s)
    assert m.summary().loc["slope[all]", "estimate"] > 0
