"""Predictive intervals of P(class): exact identities and the law of total probability."""

from __future__ import annotations

import numpy as np
import pytest

from alsstats.inference.predictive import _Plan, predictive_interval
from alsstats.inference.scoring import class_probabilities
from alsstats.models.diagnostic.data import encode
from alsstats.models.diagnostic.scoring_table import validate_scoring_table

MARKERS = ["glu_naa", "glu_gaba", "m1_precuneus_ratio", "nfl_pg_ml", "chi3l1_ng_ml", "smn_sma"]


def _design(model, table):
    t = validate_scoring_table(table, model.spec_)
    return encode(t, model.spec_, model.standardization_, model.sites_)


@pytest.fixture(scope="module")
def complete(diag_test):
    return diag_test.dropna(subset=MARKERS).reset_index(drop=True).head(80)


def test_complete_patient_at_seen_site_equals_credible_interval(diag_fit, complete):
    """No unknowns: the predictive draws are the posterior draws of P(k | y) themselves."""
    d = _design(diag_fit, complete)
    params = diag_fit.posterior_parameters()
    prior = np.log(diag_fit.prior_probabilities(None))
    exact = class_probabilities(d.y, d.x, d.site, params, prior, interval=0.9)
    low, high = predictive_interval(d.y, d.x, d.site, params, prior, interval=0.9, seed=0,
                                    max_draws=None)
    np.testing.assert_allclose(low, exact.low, atol=1e-9)
    np.testing.assert_allclose(high, exact.high, atol=1e-9)


@pytest.mark.parametrize("unseen", [False, True])
def test_predictive_draws_average_to_the_score(diag_fit, complete, unseen):
    """E_z[P_d(k | y_o, z)] = P_d(k | y_o): averaged over draws and 8 sweeps (8,000 draws
    per patient), the predictive probabilities match the exact score within 5 MC SE
    (SE <= 0.5 / sqrt(8000) = 0.0056)."""
    table = complete.copy()
    table[["glu_naa", "glu_gaba", "smn_sma"]] = np.nan
    if unseen:
        table["site"] = "NEW-SITE"
    d = _design(diag_fit, table)
    params = diag_fit.posterior_parameters()
    prior = np.log(diag_fit.prior_probabilities(None))
    exact = class_probabilities(d.y, d.x, d.site, params, prior).mean
    o = np.flatnonzero(np.isfinite(d.y[0]))
    plan = _Plan(params, o, unseen, prior)
    rngs = [np.random.default_rng([11, i]) for i in range(len(d.y))]
    sweeps = [plan.draw(d.y, d.x, d.site, *plan.random_numbers(rngs)).mean(axis=1)
              for _ in range(8)]
    mean = np.mean(sweeps, axis=0)
    assert np.abs(mean - exact).max() < 5 * 0.5 / np.sqrt(8 * params.mu.shape[0])


def test_credible_interval_kind_still_available(diag_fit, complete):
    table = complete.copy()
    table[["glu_naa", "glu_gaba", "smn_sma"]] = np.nan
    cred = diag_fit.predict_posterior(table, interval_kind="credible")
    pred = diag_fit.predict_posterior(table)
    np.testing.assert_allclose(cred["p_als"], pred["p_als"])
    assert ((pred["p_als_high"] - pred["p_als_low"])
            > (cred["p_als_high"] - cred["p_als_low"])).mean() > 0.9
    assert pred.attrs["interval_kind"] == "predictive"
    with pytest.raises(Exception, match="interval_kind"):
        diag_fit.predict_posterior(table, interval_kind="bogus")
