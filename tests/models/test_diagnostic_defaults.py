"""The default diagnostic spec against the realistic generator: PPC, class SDs, prevalence.

All tests reuse the session fit (``diag_fit``: default spec, 300 subjects of the default
scenario) and score fresh cohorts of the realistic generator (cheap: no new fit).
"""

from __future__ import annotations

import copy
import dataclasses
import warnings

import numpy as np
import pytest

from alsstats.errors import PrevalenceWarning
from alsstats.models.diagnostic.criticism import posterior_predictive_check
from alsstats.models.diagnostic.data import (
    class_labels,
    encode,
    modality_available,
    pattern_log_likelihood,
)
from alsstats.models.diagnostic.model import DiagnosticModel
from alsstats.simulate import simulate_cohort
from alsstats.simulate.scenario import load_scenario
from alsstats.validation.calibration import calibration_summary

from .conftest import baseline

pytestmark = pytest.mark.sampling

CLINIC_MIX = {"ALS": 0.3, "MIMIC": 0.6, "HC": 0.1}


def test_default_spec_passes_its_own_ppc(diag_fit, diag_train):
    ppc = posterior_predictive_check(diag_fit, diag_train, n_draws=1000, seed=3)
    assert len(ppc) == 18
    # Every class/marker SD (and mean) inside 0.02-0.98: the shared-covariance spec
    # fails this on the same data (HC NfL SD p = 1.000; benchmarks/RESULTS.md).
    assert ppc["p_sd"].between(0.02, 0.98).all(), ppc
    assert ppc["p_mean"].between(0.02, 0.98).all(), ppc
    # Tails: no class/marker has heavier tails than its normal allows (measured p_kurtosis
    # 0.085-0.923), so a multivariate-t class model has nothing to fix here.
    assert ppc["p_kurtosis"].between(0.02, 0.98).all(), ppc


def test_class_sds_recovered_on_the_realistic_generator(diag_fit):
    """HC and MIMIC are single strata of the generator: their NfL and CHI3L1 SDs are known.

    The scenario's log SDs are totals including the site offsets (SD 0.05), which the
    model has separately: truth = sqrt(sd^2 - 0.05^2).  Checked against the central 98%
    posterior interval (4 cells; family-wise miss rate about 8%).
    """
    post = diag_fit.idata_.posterior["sigma_class"]
    scale = dict(zip(diag_fit.spec_.marker_names, diag_fit.standardization_.scale,
                     strict=True))
    truth = {("HC", "nfl_pg_ml"): 0.40, ("HC", "chi3l1_ng_ml"): 0.60,
             ("MIMIC", "nfl_pg_ml"): 0.60, ("MIMIC", "chi3l1_ng_ml"): 0.60}
    for (cls, marker), total in truth.items():
        draws = post.sel({"class": cls, "marker": marker}).values.ravel() * scale[marker]
        low, high = np.quantile(draws, [0.01, 0.99])
        assert low < np.sqrt(total**2 - 0.05**2) < high, (cls, marker, low, high)


def clinic_cohort(seed: int, train_seed: int = 101, train_n: int = 60):
    """About 2,000 new patients at the training cohort's sites, in a clinic's mix.

    The clinic's classes are ALS 30%, MIMIC 60%, HC 10%; within ALS the strata keep the
    training cohort's composition (PMA, early, established equally), so only the class
    mix differs from training (label shift: the setting in which stating the mix as the
    prevalence is exactly right).  ``site_offsets`` puts the patients at the same
    scanners as the training subjects: a cohort simulated with another seed has its
    own offsets under the same site names, and scoring it with the training offsets
    shifts the MRS ratios by up to 0.6 SD (calibration intercept about 0.15 logits
    worse, measured).
    """
    _, truth = simulate_cohort("default", seed=train_seed, n_per_group=train_n)
    sizes = {"HC": 200, "MIMIC": 1200, "PMA": 200, "ALS_early": 200, "ALS_established": 200}
    data, _ = simulate_cohort("default", seed=seed, n_per_group=sizes,
                              site_offsets=truth.site_offsets)
    return baseline(data)


def test_calibration_in_the_large_on_a_clinic_mix(diag_fit):
    """Stating the clinic's mix as the prevalence removes the training-balance leak.

    The calibration intercept a (logit P(ALS) = a + logit p) has SE about 0.065 here.
    Measured with this 300-subject fit: a = -0.26 (test seed 404), -0.21 (405), -0.28
    (406); the issue's |a| <= 0.2 is reached with 3,000 training subjects (-0.015 and
    +0.025, the slow test in test_diagnostic_recovery.py).  At 300 subjects the
    estimation error of the MIMIC and HC classes (60 subjects each), which the clinic
    mix up-weights, moves a by about 0.2 from one training cohort to the next, so the
    bound here is 0.4: a fit whose scores ignore the stated mix misses it by far
    (the training frequencies give a = -1.7).
    """
    test = clinic_cohort(seed=404)
    y = test["group"].isin(["ALS", "PMA"]).to_numpy()
    scores = diag_fit.predict_posterior(test, prevalence=CLINIC_MIX, interval_kind="credible")
    assert scores[["prior_als", "prior_mimic", "prior_hc"]].iloc[0].tolist() == \
        pytest.approx([0.3, 0.6, 0.1])
    stated = calibration_summary(y, np.clip(scores["p_als"], 1e-9, 1 - 1e-9))
    assert abs(stated.intercept) < 0.4, stated.intercept
    # The training class balance (ALS 60%) leaks into scores when no prevalence is given.
    with pytest.warns(PrevalenceWarning, match="training class frequencies"):
        leaked = diag_fit.predict_posterior(test, interval_kind="credible")
    off = calibration_summary(y, np.clip(leaked["p_als"], 1e-9, 1 - 1e-9)).intercept
    assert off < stated.intercept - 1.0, (off, stated.intercept)


def test_prevalence_forms(diag_fit, diag_test):
    rows = diag_test.head(5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PrevalenceWarning)
        explicit = diag_fit.predict_posterior(rows, prevalence="training")
        split = diag_fit.predict_posterior(rows, prevalence=(0.2, {"MIMIC": 3, "HC": 1}))
        same = diag_fit.predict_posterior(rows, prevalence="0.2:MIMIC=3,HC=1")
    freq = diag_fit.class_counts_ / diag_fit.class_counts_.sum()
    assert explicit[["prior_als", "prior_mimic", "prior_hc"]].iloc[0].tolist() == \
        pytest.approx(freq.tolist())
    assert split.attrs["prevalence"] == pytest.approx({"ALS": 0.2, "MIMIC": 0.6, "HC": 0.2})
    np.testing.assert_array_equal(split["p_als"], same["p_als"])
    with pytest.warns(PrevalenceWarning, match="without a split of the rest"):
        diag_fit.predict_posterior(rows, prevalence=0.2)


def _with_missingness(model, counts):
    """The fitted model with ``missingness = "class"`` and the given modality counts."""
    other = copy.copy(model)
    other.spec_ = dataclasses.replace(model.spec_, missingness="class")
    other.modality_counts_ = counts
    return other


def test_missingness_model_is_the_exact_pattern_likelihood(diag_fit, diag_test):
    model = _with_missingness(diag_fit, diag_fit.modality_counts_)
    rows = diag_test.head(30).copy()
    markers = list(diag_fit.spec_.marker_names)
    rows.loc[rows.index[:3], markers] = np.nan          # nothing measured: prior x pattern
    scores = model.predict_posterior(rows, prevalence=CLINIC_MIX, interval_kind="credible")
    prior = np.array(list(CLINIC_MIX.values()))
    theta = (diag_fit.modality_counts_ + 1) / (diag_fit.class_counts_[:, None] + 2)
    want = prior * np.prod(1 - theta, axis=1)
    np.testing.assert_allclose(scores[["p_als", "p_mimic", "p_hc"]].iloc[:3],
                               np.tile(want / want.sum(), (3, 1)), rtol=1e-12)
    # With every modality equally available in every class the pattern carries nothing.
    flat = _with_missingness(diag_fit, np.full((3, 4), 5))
    flat.class_counts_ = np.array([10, 10, 10])
    ignore = diag_fit.predict_posterior(rows, prevalence=CLINIC_MIX, interval_kind="credible")
    same = flat.predict_posterior(rows, prevalence=CLINIC_MIX, interval_kind="credible")
    np.testing.assert_allclose(same["p_als"], ignore["p_als"], rtol=1e-9)


def test_missingness_model_under_severity_dependent_missingness(diag_fit):
    """The generator's MAR option (sicker patients lack MRS/fMRI more often), strong form.

    With availability rates from a MAR training cohort, the class-dependent missingness
    model keeps the mean P(ALS) of incomplete and of complete patients on their ALS
    rates (within 0.05, about 3 binomial SEs).  Measured with this seed: incomplete
    patients' ALS rate 0.610, mean score minus rate -0.019 with the model and -0.015
    without: at this severity dependence the markers already carry the information the
    pattern adds, so ignoring the pattern does not bias scores here either.
    """
    scenario = dataclasses.replace(load_scenario("default"), missing_mechanism="MAR",
                                   mar_log_odds_per_10_points=2.0)
    train = baseline(simulate_cohort(scenario, seed=505, n_per_group=300)[0])
    test = baseline(simulate_cohort(scenario, seed=606, n_per_group=300)[0])
    spec = diag_fit.spec_
    labels = class_labels(train, spec)
    avail = modality_available(encode(train, spec, diag_fit.standardization_,
                                      diag_fit.sites_).y, spec)
    counts = np.stack([avail[labels == k].sum(axis=0) for k in range(len(spec.classes))])
    sizes = np.bincount(labels, minlength=len(spec.classes))
    model = _with_missingness(diag_fit, counts)
    model.class_counts_ = sizes
    y = test["group"].isin(["ALS", "PMA"]).to_numpy()
    complete = modality_available(encode(test, spec, diag_fit.standardization_,
                                         diag_fit.sites_).y, spec).all(axis=1)
    prevalence = dict(zip(spec.classes, sizes / sizes.sum(), strict=True))
    aware = model.predict_posterior(test, prevalence=prevalence, interval_kind="credible")
    for rows in (complete, ~complete):
        assert rows.sum() > 300
        assert abs(aware["p_als"][rows].mean() - y[rows].mean()) < 0.05
    assert pattern_log_likelihood(np.ones((1, 4), bool), counts, sizes).shape == (1, 3)


@pytest.mark.slow
def test_calibration_in_the_large_on_a_clinic_mix_with_3000_training_subjects():
    """The issue's target: |a| <= 0.2 on the clinic mix stated as the prevalence.

    Default spec and sampler on 3,000 baseline subjects of the realistic generator
    (600 per stratum, seed 101); two independent clinic cohorts of 2,000 at the
    training sites (SE of a about 0.065 each).  Measured with 2 chains: a = -0.015 and
    +0.025, calibration slope 0.95 and 0.97.
    """
    data, _ = simulate_cohort("default", seed=101, n_per_group=600)
    model = DiagnosticModel(seed=7).fit(baseline(data))
    for seed in (404, 405):
        test = clinic_cohort(seed=seed, train_n=600)
        y = test["group"].isin(["ALS", "PMA"]).to_numpy()
        p = model.predict_posterior(test, prevalence=CLINIC_MIX, interval_kind="credible")
        cal = calibration_summary(y, np.clip(p["p_als"], 1e-9, 1 - 1e-9))
        assert abs(cal.intercept) <= 0.2, (seed, cal.intercept)
        assert 0.85 <= cal.slope <= 1.15, (seed, cal.slope)
