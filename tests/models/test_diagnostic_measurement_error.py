"""Known MRS measurement error (issue 15, part 4): ``measurement_error = "crlb"``.

Exact checks here (spec, the delta-method covariance, the likelihood against scipy at a
random point, scoring against a brute-force scipy computation, the generator's noise);
the fitted model's shrinkage and calibration on synthetic data are in the slow tier at the
end of this file and in benchmarks/bench_measurement_error.py.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import logsumexp

from alsstats.errors import DataValidationError, SpecError
from alsstats.inference.predictive import predictive_interval
from alsstats.inference.scoring import PosteriorParameters, class_probabilities
from alsstats.models.diagnostic.data import Standardization, measurement_variance
from alsstats.models.diagnostic.graph import build_pymc_model, model_data
from alsstats.models.diagnostic.model import DiagnosticModel, _layout
from alsstats.models.diagnostic.scoring_table import validate_scoring_table
from alsstats.models.diagnostic.spec import DiagnosticSpec, default_spec
from alsstats.simulate import simulate_cohort
from tests.models.conftest import (
    brute_force_scores,
    diagnostic_graph,
    normal_class_loglik,
    random_posterior,
    values_at_random_point,
)


def _spec(markers=None, **model) -> DiagnosticSpec:
    d = default_spec().to_dict()
    d["model"].update({"measurement_error": "crlb", **model})
    if markers is not None:
        d["markers"] = {m: {"transform": "log", "covariates": ["age", "sex"]} for m in markers}
    return DiagnosticSpec.from_dict(d)


# ------------------------------------------------------------------ spec
def test_spec_switch_defaults_off_and_is_checked():
    assert default_spec().measurement_error == "none"
    assert default_spec().error_markers == ()
    # the canonical JSON of a spec without the switch is what it was before it existed
    assert "measurement_error" not in default_spec().to_json()
    spec = _spec()
    assert spec.error_markers == ("glu_naa", "glu_gaba")
    assert DiagnosticSpec.from_json(spec.to_json()) == spec
    with pytest.raises(SpecError, match="measurement_error must be one of none, crlb"):
        _spec(measurement_error="lcmodel")
    with pytest.raises(SpecError, match="needs an MRS ratio marker"):
        _spec(markers=["nfl_pg_ml"])
    d = _spec().to_dict()
    d["markers"]["glu_gaba"]["transform"] = "identity"
    with pytest.raises(SpecError, match="needs transform = 'log' for glu_gaba"):
        DiagnosticSpec.from_dict(d)


# ------------------------------------------------------------------ delta method
def _table():
    nan = np.nan
    return pd.DataFrame({
        "glu_naa": [1.5, 1.4, nan, 1.6], "glu_gaba": [4.0, nan, nan, 3.0],
        "nfl_pg_ml": [10.0, 20.0, 30.0, nan],
        "glu_crlb": [5.0, 6.0, nan, 4.0], "naa_crlb": [3.0, 2.0, nan, 3.0],
        "gaba_crlb": [20.0, nan, nan, 10.0]})


def test_measurement_variance_is_the_delta_method_with_shared_glutamate():
    spec = _spec(markers=["glu_naa", "glu_gaba", "nfl_pg_ml"])
    std = Standardization(center=np.zeros(3), scale=np.array([0.2, 0.3, 0.5]), age_center=60)
    v = measurement_variance(_table(), spec, std)
    want = np.zeros((4, 3, 3))
    # row 0: var log(glu/naa) = .05^2 + .03^2, var log(glu/gaba) = .05^2 + .2^2,
    # cov = var(log glu) = .05^2; divided by the scales' products
    want[0, :2, :2] = [[(.05**2 + .03**2) / .04, .05**2 / .06],
                       [.05**2 / .06, (.05**2 + .2**2) / .09]]
    want[1, 0, 0] = (.06**2 + .02**2) / .04          # glu_gaba missing: its row is 0
    # row 2: no MRS, no CRLB needed; row 3: NfL missing (no known error anyway)
    want[3, :2, :2] = [[(.04**2 + .03**2) / .04, .04**2 / .06],
                       [.04**2 / .06, (.04**2 + .1**2) / .09]]
    np.testing.assert_allclose(v, want, rtol=1e-13, atol=0)
    # the glutamate term makes the two ratios' errors positively correlated
    assert v[0, 0, 1] > 0 and np.all(np.linalg.eigvalsh(v[[0, 3], :2, :2]) > 0)


def test_measurement_variance_needs_positive_crlb_where_the_ratio_is_observed():
    spec = _spec(markers=["glu_naa", "glu_gaba", "nfl_pg_ml"])
    std = Standardization(center=np.zeros(3), scale=np.ones(3), age_center=60)
    bad = _table()
    bad.loc[0, "naa_crlb"] = 0.0
    bad.loc[3, "glu_crlb"] = np.nan
    with pytest.raises(DataValidationError) as err:
        measurement_variance(bad, spec, std, rows=np.array([10, 11, 12, 13]))
    text = str(err.value)
    assert "row 10, column 'naa_crlb' (value 0.0)" in text and "row 13, column 'glu_crlb'" in text
    assert text.count("glu_crlb") == 1                 # once, though both ratios need it
    with pytest.raises(DataValidationError, match=r"'gaba_crlb': required column missing"):
        measurement_variance(_table().drop(columns="gaba_crlb"), spec, std)
    scoring = _table().assign(subject_id=["a", "b", "c", "d"], site="S01", age=60.0, sex="F")
    with pytest.raises(DataValidationError, match="required column missing: naa_crlb"):
        validate_scoring_table(scoring.drop(columns="naa_crlb"), spec)
    assert "glu_crlb" in validate_scoring_table(scoring, spec).columns


def test_sbc_refuses_the_switch():
    from alsstats.validation.sbc import sbc_diagnostic

    with pytest.raises(SpecError, match="measurement_error = 'none'"):
        sbc_diagnostic(_spec(), n_replicates=1)


# ------------------------------------------------------------------ likelihood
@pytest.mark.parametrize(("reference", "covariance"),
                         [("labels", "class_sd"), ("labels", "shared"), ("latent", "class_sd")])
def test_likelihood_adds_each_subjects_error_covariance(reference, covariance):
    # Exact identity at a random point: the Potential equals the sum over subjects of
    # log N(y_io | mean_k, (Sigma_k + V_i)_oo) (latent: summed over the class with the
    # indicator's probabilities), computed with scipy on the same parameters.
    spec = _spec(reference=reference, covariance=covariance, classes=["ALS", "HC"])
    data, _ = simulate_cohort("default", seed=4, crlb_noise=True,
                              n_per_group={"ALS": 20, "HC": 20, "PMA": 0, "MIMIC": 0})
    prepared, arrays, codes, model = diagnostic_graph(spec, data)
    values, potential = values_at_random_point(
        model, ["mu", "B", "u", "Sigma"] + (["class_share", "indicator_prob"]
                                           if reference == "latent" else []))
    design = prepared.design
    assert np.count_nonzero(design.me_var[:, 0, 1]) > 10     # subjects with both ratios
    total = 0.0
    for i in np.flatnonzero(arrays["weight"][:len(design.y)] > 0):
        o = np.isfinite(design.y[i])
        terms = []
        for k in range(2):
            sigma = values["Sigma"][k] if values["Sigma"].ndim == 3 else values["Sigma"]
            mean = values["mu"][k] + design.x[i] @ values["B"] + values["u"][design.site[i]]
            lp = stats.multivariate_normal(mean[o], (sigma + design.me_var[i])[np.ix_(o, o)]
                                           ).logpdf(design.y[i, o])
            if reference == "latent":
                terms.append(np.log(values["class_share"][k])
                             + np.log(values["indicator_prob"][k, codes[i]]) + lp)
            elif k == prepared.labels[i]:
                terms.append(lp)
        total += logsumexp(terms)
    assert potential == pytest.approx(total, rel=1e-10)


def test_switch_off_builds_the_graph_without_error_data():
    spec = default_spec()
    data, _ = simulate_cohort("default", seed=4, n_per_group=8)
    prepared = DiagnosticModel(spec=spec)._prepare(data, None, spec)
    assert prepared.design.me_var is None
    layout = _layout([prepared])
    arrays = model_data(prepared.design, prepared.labels, layout)
    model = build_pymc_model(spec, layout, arrays, prepared.sites)
    assert "me_var" not in arrays and "me_var" not in model.named_vars


# ------------------------------------------------------------------ scoring
@pytest.mark.parametrize("per_class", [False, True])
def test_scoring_with_measurement_error_matches_brute_force(per_class):
    rng = np.random.default_rng(5)
    p = random_posterior(rng, d=30, per_class=per_class)
    n = 8
    y = rng.normal(size=(n, 3))
    y[1, 1] = np.nan                   # one ratio missing
    y[2, :2] = np.nan                  # no MRS: no known error, the grouped path
    y[3, :] = np.nan                   # nothing observed
    x = rng.normal(size=(n, 2))
    site = np.array([0, 1, -1, 0, 1, -1, 0, 1])
    a = rng.uniform(0.1, 0.6, size=(n, 3))
    v = np.zeros((n, 3, 3))
    v[:, :2, :2] = a[:, :2, None] * a[:, None, :2] * 0.5      # correlated ratio errors
    v[:, [0, 1], [0, 1]] += a[:, :2] ** 2
    v[y[:, 0] != y[:, 0], 0, :] = v[y[:, 0] != y[:, 0], :, 0] = 0.0
    v[1, 1, :] = v[1, :, 1] = 0.0
    v[5] = 0.0                          # an MRS patient with zero error: grouped path
    log_prior = np.log([0.2, 0.3, 0.5])
    got = class_probabilities(y, x, site, p, log_prior, interval=0.8, measurement_var=v)
    want = brute_force_scores(y, x, site, p, log_prior, 0.8,
                              normal_class_loglik(site, p, measurement_var=v))
    for g, w in zip((got.mean, got.low, got.high), want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
    # without the error the scores differ (the test can fail)
    plain = class_probabilities(y, x, site, p, log_prior, interval=0.8)
    assert np.abs(plain.mean[0] - got.mean[0]).max() > 1e-3
    # the predictive interval of a row with error equals that row scored alone with
    # Sigma + V_i (its own random numbers: keyed by the row)
    lo, hi = predictive_interval(y, x, site, p, log_prior, interval=0.8, seed=1,
                                 measurement_var=v, rows=np.array([1, 2]))
    alone = PosteriorParameters(p.mu, p.B, p.u, p.tau, p.Sigma + v[1])
    lo1, hi1 = predictive_interval(y, x, site, alone, log_prior, interval=0.8, seed=1,
                                   rows=np.array([1]))
    np.testing.assert_array_equal([lo[1], hi[1]], [lo1[1], hi1[1]])
    lo2, hi2 = predictive_interval(y, x, site, p, log_prior, interval=0.8, seed=1,
                                   rows=np.array([2]))
    np.testing.assert_array_equal([lo[2], hi[2]], [lo2[2], hi2[2]])


def test_a_noisier_ratio_moves_the_score_toward_the_prior():
    # One observed marker, class-shared Sigma: per draw the log likelihood ratio is
    # (mu_1 - mu_0)(y - (mu_0 + mu_1)/2) / (sigma^2 + v), whose size falls as v grows, so
    # |P(ALS) - prior| must shrink for every patient and strictly when y is not at the
    # midpoint.
    rng = np.random.default_rng(8)
    p = random_posterior(rng, d=50, k=2, m=3)
    n = 40
    y = np.full((n, 3), np.nan)
    y[:, 0] = rng.normal(0, 2, n)
    x, site = np.zeros((n, 2)), np.zeros(n, np.int64)
    prior = np.array([0.3, 0.7])
    dist = []
    for var in (0.0, 0.1, 1.0, 10.0):
        v = np.zeros((n, 3, 3))
        v[:, 0, 0] = var
        score = class_probabilities(y, x, site, p, np.log(prior), measurement_var=v)
        dist.append(np.abs(score.mean[:, 0] - prior[0]))
    assert np.all(np.diff(np.array(dist), axis=0) < 0)


# ------------------------------------------------------------------ generator
def _digest(df: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes()
                          ).hexdigest()


def test_generator_without_crlb_noise_is_unchanged():
    # Digests of simulate_cohort("default", seed, n_per_group=15) computed at commit 2a2787e,
    # before the option existed: every existing seed gives the same cohort.
    want = {0: "3877ca3106ec678e6b037b219b23b345f4cdda9505ddd2cdfc626fd075c37e51",
            11: "c0dc8618cca169e81997854e45c12680f5571b299847101b3dc66cf6bcd461d2"}
    for seed, digest in want.items():
        assert _digest(simulate_cohort("default", seed=seed, n_per_group=15)[0]) == digest
        assert _digest(simulate_cohort("default", seed=seed, n_per_group=15,
                                       crlb_noise=False)[0]) == digest


def test_generator_crlb_noise_has_the_crlb_as_its_sd():
    off, _ = simulate_cohort("default", seed=3, n_per_group=300)
    on, _ = simulate_cohort("default", seed=3, n_per_group=300, crlb_noise=True)
    mrs = ["glu", "naa", "gaba", "glu_naa", "glu_gaba"]
    rest = [c for c in off.columns if c not in mrs]
    pd.testing.assert_frame_equal(off[rest], on[rest])           # nothing else moves
    pd.testing.assert_frame_equal(off[mrs].isna(), on[mrs].isna())
    for m in ("glu", "naa", "gaba"):
        have = off[m].notna()
        z = np.log(on.loc[have, m] / off.loc[have, m]) / (off.loc[have, f"{m}_crlb"] / 100)
        # z ~ N(0, 1) per row (rounding of the concentrations to 0.001 adds < 1e-3 SD);
        # n >= 700: SE of the mean <= 0.038, of the SD <= 0.027; 4 SE tolerance
        assert len(z) >= 700
        assert abs(z.mean()) < 0.15 and abs(z.std() - 1) < 0.11
    # the ratios' errors have the delta-method covariance V (scales 1): E[e e'] = V
    spec = _spec(markers=["glu_naa", "glu_gaba"])
    both = off["glu_naa"].notna() & off["glu_gaba"].notna()
    v = measurement_variance(off[both].reset_index(drop=True), spec,
                             Standardization(np.zeros(2), np.ones(2), 60.0))
    e = np.log(on.loc[both, ["glu_naa", "glu_gaba"]].to_numpy()
               / off.loc[both, ["glu_naa", "glu_gaba"]].to_numpy())
    white = np.linalg.solve(np.linalg.cholesky(v), e[..., None])[..., 0]   # ~ N(0, I)
    # 2x2 sample covariance of n >= 600 whitened errors: variances' SE sqrt(2/n) <= 0.058,
    # covariance's 1/sqrt(n) <= 0.041; 4 SE of the larger
    assert len(white) >= 600
    np.testing.assert_allclose(np.cov(white.T), np.eye(2), atol=0.23)


# ------------------------------------------------------------------ fitted (slow tier)
@pytest.mark.slow
def test_fitted_crlb_model_shrinks_noisy_spectra_and_stays_calibrated():
    # Default scenario with crlb_noise (the CRLB is the true measurement SD): 300 training
    # subjects, 1,000 test subjects at the same sites, as benchmarks/bench_measurement_error.py
    # (numbers and the default spec beside them in benchmarks/RESULTS.md).
    from alsstats.models.diagnostic.criticism import class_log_likelihoods
    from alsstats.validation.calibration import calibration_summary

    train, truth = simulate_cohort("default", seed=101, n_per_group=60, crlb_noise=True)
    test, _ = simulate_cohort("default", seed=102, n_per_group=200, crlb_noise=True,
                              site_offsets=truth.site_offsets)
    train = train[train["visit"] == 0].reset_index(drop=True)
    test = test[test["visit"] == 0].reset_index(drop=True)
    model = DiagnosticModel(spec=_spec(), seed=7).fit(train)     # converges (no warning)

    def p_als(table):
        return model.predict_posterior(table, prevalence="training",
                                       interval_kind="credible")["p_als"].to_numpy()

    cal = calibration_summary(test["group"].isin(["ALS", "PMA"]).to_numpy(), p_als(test))
    # 95% Wald intervals (their width is the Monte Carlo error of one test cohort).
    # Calibration-in-the-large holds; the slope is below 1 with or without the switch
    # (the default spec on the same cohorts: 0.874, 95% CI 0.760-0.987: 300 training
    # subjects), so the check is that the switch does not change it.
    assert cal.intercept_lower < 0 < cal.intercept_upper
    assert cal.slope_lower < 0.874 < cal.slope_upper
    # The same patients with every CRLB at 2% and at 20% (the QC limit), markers unchanged
    mrs = test[test["glu_naa"].notna() & test["glu_gaba"].notna()].reset_index(drop=True)
    others = [m for m in model.spec_.marker_names if m not in ("glu_naa", "glu_gaba")]
    prior = model.prior_probabilities("training")[0]
    without = p_als(mrs.assign(glu_naa=np.nan, glu_gaba=np.nan))
    only, full = {}, {}
    for value in (2.0, 20.0):
        table = mrs.assign(glu_crlb=value, naa_crlb=value, gaba_crlb=value)
        only[value] = np.abs(p_als(table.assign(**dict.fromkeys(others, np.nan))) - prior)
        full[value] = np.abs(p_als(table) - without)
    # MRS alone: toward the prior; all markers: toward the score without MRS.  Means over
    # 528 patients, measured (benchmark, same seeds): 0.185 (SE 0.005) -> 0.050 (0.002)
    # and 0.096 (0.005) -> 0.017 (0.001); required: at least half of each drop.
    assert only[20.0].mean() < only[2.0].mean() - 0.065
    assert full[20.0].mean() < full[2.0].mean() - 0.04
    # not guaranteed patient by patient (three classes, other markers): 93% and 88%
    assert (only[20.0] < only[2.0]).mean() > 0.85 and (full[20.0] < full[2.0]).mean() > 0.8
    # The criticism's likelihood uses Sigma_k + V_i too (exact, draw 0, 5 subjects)
    loglik, labels = class_log_likelihoods(model, train)
    design = encode_training(model, train)
    post = model.posterior_parameters()
    for i in np.flatnonzero(design.me_var[:, 0, 1] > 0)[:5]:
        o = np.isfinite(design.y[i])
        k = labels[i]
        sigma = post.Sigma[0, k] if post.per_class else post.Sigma[0]
        mean = post.mu[0, k] + design.x[i] @ post.B[0] + post.u[0, design.site[i]]
        want = stats.multivariate_normal(mean[o], (sigma + design.me_var[i])[np.ix_(o, o)]
                                         ).logpdf(design.y[i, o])
        assert loglik[0, k, i] == pytest.approx(want, rel=1e-9)


def encode_training(model, df):
    """The labelled baseline subjects' design, as the criticism functions see them."""
    from alsstats.models.diagnostic.criticism import _training_arrays

    design, _, keep = _training_arrays(model, df)
    return type(design)(design.subject_id[keep], design.y[keep], design.x[keep],
                        design.site[keep], design.me_var[keep])
