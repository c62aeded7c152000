"""The fitted diagnostic model (one session-scoped fit on 300 synthetic subjects).

Known truth: the synthetic generator's diagnoses.  Identities: scoring equals
a brute-force scipy computation; a save/load round trip reproduces scores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import softmax
from sklearn.base import clone

from alsstats.errors import (
    AlsStatsError,
    DataValidationError,
    NotFittedError,
    SpecError,
)
from alsstats.inference.convergence import ConvergencePolicy
from alsstats.models.diagnostic.model import DiagnosticModel
from tests.models.conftest import calibration_slope, mann_whitney_auc

pytestmark = pytest.mark.sampling

MRS_FMRI = ["glu", "naa", "gaba", "glu_crlb", "naa_crlb", "gaba_crlb", "glu_naa", "glu_gaba",
            "smn_sma"]


def _score(model, df, **kw):
    return model.predict_posterior(df, **kw)


def test_default_fit_meets_the_convergence_policy(diag_fit, diag_train):
    # The default sampler settings (4 chains x 1000 draws after 1000 tuning steps) on the
    # default scenario (300 subjects, 8 sites, seed 7) must meet the shared policy.
    assert list(diag_fit.classes_) == ["ALS", "MIMIC", "HC"]
    conv = diag_fit.convergence_
    assert conv.policy == ConvergencePolicy(1.01, 400, 400, 0)
    assert conv.chains == 4 and conv.draws == 1000
    assert conv.ok, conv.message("default diagnostic fit")
    assert conv.max_rhat <= 1.01 and min(conv.min_ess_bulk, conv.min_ess_tail) >= 400
    assert conv.divergences == 0
    # PMA counted as ALS: ALS early + established + PMA = 3 x 60.
    np.testing.assert_array_equal(diag_fit.class_counts_, [180, 60, 60])
    assert diag_fit.idata_.posterior["mu"].shape == (4, 1000, 3, 6)
    # Site offsets sum to zero over sites (they refer to the average site).
    np.testing.assert_allclose(diag_fit.idata_.posterior["u"].sum("site"), 0.0, atol=1e-9)
    prov = diag_fit.provenance_
    assert prov["alsstats_model"] == "diagnostic" and len(prov["data_sha256"]) == 64


def test_independent_cohort_auc_beats_best_marker_and_is_calibrated(diag_fit, diag_test):
    scores = _score(diag_fit, diag_test)
    assert len(scores) == len(diag_test) and scores["p_als"].notna().all()
    positive = diag_test["group"].isin(["ALS", "PMA"]).to_numpy()
    auc_model = mann_whitney_auc(scores["p_als"], positive)
    single = {}
    for marker in diag_fit.spec_.marker_names:
        v = diag_test[marker].to_numpy(float)
        have = np.isfinite(v)
        a = mann_whitney_auc(v[have], positive[have])
        single[marker] = max(a, 1 - a)   # best direction, on the subjects who have it
    best = max(single.values())
    assert auc_model > best, (auc_model, single)
    slope = calibration_slope(positive, scores["p_als"])
    assert 0.8 <= slope <= 1.2, slope


def test_missing_mrs_and_fmri_still_scored_and_less_decisive(diag_fit, diag_test):
    """Removing MRS and fMRI for half the patients: all are scored, with less information,
    and their (predictive, the default) intervals widen.

    The *credible* interval (parameter uncertainty only) does not widen in general: with
    fewer markers fewer uncertain parameters enter the score.  The predictive interval
    (where P(ALS) could land once the markers are measured) must: by the law of total
    variance its spread is at least the parameter spread plus the spread over the missing
    markers.  Asserted: wider on average, and for most of those patients individually.
    """
    rng = np.random.default_rng(5)
    full = diag_test[diag_test[["glu_naa", "smn_sma"]].notna().all(axis=1)].reset_index(drop=True)
    half = rng.random(len(full)) < 0.5
    reduced = full.copy()
    reduced.loc[half, MRS_FMRI] = np.nan
    before = _score(diag_fit, full)
    after = _score(diag_fit, reduced)
    assert after["p_als"].notna().all() and len(after) == len(full)
    assert (after["n_markers"][half] < before["n_markers"][half]).all()
    prior = before.attrs["prevalence"]["ALS"]

    def evidence(p):
        p = np.clip(p, 1e-12, 1 - 1e-12)
        return np.abs(np.log(p / (1 - p)) - np.log(prior / (1 - prior)))

    assert evidence(after["p_als"][half]).mean() < evidence(before["p_als"][half]).mean()
    width_before = (before["p_als_high"] - before["p_als_low"])[half]
    width_after = (after["p_als_high"] - after["p_als_low"])[half]
    assert width_after.mean() > 1.3 * width_before.mean()
    assert (width_after > width_before).mean() > 0.75
    # The other half is untouched, so its scores are identical.
    pd.testing.assert_frame_equal(before[~half], after[~half])


def _evidence(p, prior):
    """|logit p - logit prior|: how far the markers moved the score from the prior."""
    p = np.clip(np.asarray(p, float), 1e-12, 1 - 1e-12)
    return np.abs(np.log(p / (1 - p)) - np.log(prior / (1 - prior)))


def test_unseen_site_scored_and_less_decisive(diag_fit, diag_test):
    """A patient from a site never seen in training is scored, integrating over sites.

    Sigma + diag(tau^2) replaces the site offset (exactness: the brute-force
    test).  That adds variance to every class's likelihood, so on average the
    scores carry less evidence.  The width of the parameter-uncertainty interval
    is *not* guaranteed to grow (the uncertain offset u_s leaves the score while
    tau enters it); the default predictive interval, which also draws the unknown
    offset, is asserted to widen.
    """
    seen = _score(diag_fit, diag_test)
    unseen = _score(diag_fit, diag_test.assign(site="NEW-SITE"))
    assert not unseen["site_seen"].any() and seen["site_seen"].all()
    assert unseen["p_als"].notna().all()
    prior = seen.attrs["prevalence"]["ALS"]
    assert _evidence(unseen["p_als"], prior).mean() < _evidence(seen["p_als"], prior).mean()
    # The predictive interval also covers the unknown site offset: wider on average.
    width_seen = seen["p_als_high"] - seen["p_als_low"]
    width_unseen = unseen["p_als_high"] - unseen["p_als_low"]
    assert width_unseen.mean() > width_seen.mean()
    assert (width_unseen > width_seen).mean() > 0.6


def test_scores_equal_brute_force_scipy(diag_fit, diag_test):
    spec = diag_fit.spec_
    rows = diag_test.iloc[[0, 1, 2, 3]].copy()
    rows.loc[rows.index[1], ["glu_naa", "glu_gaba"]] = np.nan
    rows.loc[rows.index[2], "site"] = "UNSEEN"
    rows.loc[rows.index[3], list(spec.marker_names)] = np.nan
    prevalence = {"ALS": 0.2, "MIMIC": 0.3, "HC": 0.5}
    got = _score(diag_fit, rows, prevalence=prevalence, interval_kind="credible")
    post = diag_fit.idata_.posterior
    mu = post["mu"].values.reshape(-1, 3, 6)
    b = post["B"].values.reshape(-1, 2, 6)
    u = post["u"].values.reshape(-1, len(diag_fit.sites_), 6)
    tau = post["tau"].values.reshape(-1, 6)
    sigma = post["Sigma"].values.reshape(-1, 3, 6, 6)            # class-specific SDs
    std = diag_fit.standardization_
    log_prior = np.log([0.2, 0.3, 0.5])
    for i, (_, r) in enumerate(rows.iterrows()):
        raw = np.array([np.log(r[m.name]) if m.transform == "log" else r[m.name]
                        for m in spec.markers], float)
        y = (raw - std.center) / std.scale
        x = np.array([(r["age"] - std.age_center) / 10, 0.5 if r["sex"] == "M" else -0.5])
        o = np.flatnonzero(np.isfinite(y))
        site = diag_fit.sites_.index(r["site"]) if r["site"] in diag_fit.sites_ else -1
        probs = []
        for d in range(mu.shape[0]):
            off = u[d, site, o] if site >= 0 else 0.0
            extra = np.diag(tau[d, o] ** 2) if site < 0 else 0.0
            logl = [stats.multivariate_normal(mu[d, k, o] + x @ b[d][:, o] + off,
                                              sigma[d, k][np.ix_(o, o)] + extra)
                    .logpdf(y[o]) if len(o) else 0.0 for k in range(3)]
            probs.append(softmax(np.array(logl) + log_prior))
        probs = np.array(probs)
        np.testing.assert_allclose(got.loc[i, ["p_als", "p_mimic", "p_hc"]].to_numpy(float),
                                   probs.mean(0), rtol=1e-9, atol=1e-12)
        lo, hi = np.quantile(probs[:, 0], [0.05, 0.95])
        np.testing.assert_allclose([got.loc[i, "p_als_low"], got.loc[i, "p_als_high"]],
                                   [lo, hi], rtol=1e-9, atol=1e-12)
    # No markers: the prior, exactly.
    assert got.loc[3, "p_als"] == pytest.approx(0.2) and got.loc[3, "n_markers"] == 0


def test_prevalence_shifts_scores(diag_fit, diag_test):
    low = _score(diag_fit, diag_test.head(50), prevalence=(0.05, "training"))
    high = _score(diag_fit, diag_test.head(50), prevalence=(0.6, "training"))
    assert (high["p_als"] >= low["p_als"]).all()
    assert low.attrs["prevalence"]["ALS"] == pytest.approx(0.05)
    # The rest is split in proportion to the training frequencies (60:60).
    assert low.attrs["prevalence"]["MIMIC"] == pytest.approx(0.475)
    with pytest.raises(AlsStatsError, match="every class"):
        diag_fit.predict_posterior(diag_test.head(3), prevalence={"ALS": 1.0})
    with pytest.raises(AlsStatsError, match="sum to 1"):
        diag_fit.predict_posterior(diag_test.head(3),
                                   prevalence={"ALS": 0.5, "MIMIC": 0.5, "HC": 0.5})
    with pytest.raises(AlsStatsError, match=r"\(0, 1\)"):
        diag_fit.predict_posterior(diag_test.head(3), prevalence=1.5)


def test_predict_proba_and_clone(diag_fit, diag_test):
    p = diag_fit.predict_proba(diag_test.head(20))
    assert p.shape == (20, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert set(diag_fit.predict(diag_test.head(20))) <= {"ALS", "MIMIC", "HC"}
    fresh = clone(diag_fit)
    assert fresh.get_params() == diag_fit.get_params()
    assert not hasattr(fresh, "idata_")
    with pytest.raises(NotFittedError):
        fresh.predict_proba(diag_test.head(2))


def test_save_load_round_trip(diag_fit, diag_test, tmp_path):
    path = tmp_path / "fit.nc"
    diag_fit.save(path)
    loaded = DiagnosticModel.load(path)
    pd.testing.assert_frame_equal(_score(loaded, diag_test), _score(diag_fit, diag_test))
    assert loaded.provenance_["data_sha256"] == diag_fit.data_sha256_
    assert loaded.provenance_["spec"] == diag_fit.spec_.to_json()
    assert loaded.convergence_ == diag_fit.convergence_
    assert loaded.sites_ == diag_fit.sites_
    assert "alsstats_version" in loaded.provenance_


def test_load_with_other_spec_fails(diag_fit, tmp_path):
    path = tmp_path / "fit.nc"
    diag_fit.save(path)
    other = diag_fit.spec_.to_dict()
    other["priors"]["lkj_eta"] = 4.0
    with pytest.raises(SpecError, match="different spec"):
        DiagnosticModel.load(path, spec=other)
    DiagnosticModel.load(path, spec=diag_fit.spec_.to_dict())   # same spec: fine


def test_bad_inputs(diag_fit, diag_test, tmp_path):
    with pytest.raises(DataValidationError, match="required column missing"):
        diag_fit.predict_posterior(diag_test.drop(columns=["nfl_pg_ml"]))
    bad = diag_test.head(3).copy()
    bad.loc[bad.index[0], "nfl_pg_ml"] = -5.0
    bad["sex"] = bad["sex"].astype(str)
    bad.loc[bad.index[1], "sex"] = "X"
    with pytest.raises(DataValidationError) as err:
        diag_fit.predict_posterior(bad)
    assert len(err.value.problems) == 2
    with pytest.raises(AlsStatsError, match="not found"):
        DiagnosticModel.load(tmp_path / "missing.nc")
    junk = tmp_path / "junk.nc"
    junk.write_text("not netcdf")
    with pytest.raises(AlsStatsError):
        DiagnosticModel.load(junk)
    with pytest.raises(AlsStatsError, match="interval"):
        diag_fit.predict_posterior(diag_test.head(2), interval=1.2)
