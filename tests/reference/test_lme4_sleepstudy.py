"""REML fit of ``Reaction ~ Days + (Days | Subject)`` on sleepstudy against lme4.

Expected values: R package lme4 1.1, ``lmer(Reaction ~ Days + (Days | Subject), REML = TRUE)``
on ``sleepstudy`` (Belenky et al. 2003), as listed in ``shared/docs/references.md``.
Tolerance: 1e-3 relative, as the issue asks (the printed values have 4 decimals).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alsstats.models.lmm.engine import fit_lmm_formula

# lme4 prints these to 4 decimals (rounding error <= 5e-5).  Measured differences of
# alsstats' REML fit: fixed effects <= 1.4e-5, their SEs <= 4.4e-5 (absolute), random-effect
# SDs and sigma <= 1.0e-5 relative (intercept SD 24.74045 vs 24.7407: the REML surface is
# flat there), correlation 4.9e-5 (absolute; 0.0656 carries only 3 significant digits).
ATOL_4DP = 5e-5
RTOL = 2e-5


@pytest.fixture(scope="module")
def sleepstudy(reference_path):
    return pd.read_csv(reference_path("lme4/sleepstudy.csv"))


@pytest.fixture(scope="module")
def reml_fit(sleepstudy):
    return fit_lmm_formula("Reaction ~ Days + (Days | Subject)", sleepstudy, method="reml")


def test_fixed_effects_match_lme4(reml_fit):
    # lme4 1.1 fixef(): (Intercept) 251.4051, Days 10.4673
    np.testing.assert_allclose(reml_fit.fixed, [251.4051, 10.4673], rtol=0, atol=ATOL_4DP)
    assert reml_fit.fixed_names == ["Intercept", "Days"]


def test_fixed_effect_standard_errors_match_lme4(reml_fit):
    # lme4 1.1 summary() Std. Error: 6.8246, 1.5458
    np.testing.assert_allclose(reml_fit.fixed_se, [6.8246, 1.5458], rtol=0, atol=ATOL_4DP)


def test_random_effects_match_lme4(reml_fit):
    # lme4 1.1 VarCorr(): Subject (Intercept) SD 24.7407, Days SD 5.9221, Corr 0.0656
    np.testing.assert_allclose(reml_fit.random_sd, [24.7407, 5.9221], rtol=RTOL)
    np.testing.assert_allclose(reml_fit.random_corr[1, 0], 0.0656, rtol=0, atol=6e-5)


def test_residual_sd_matches_lme4(reml_fit):
    # lme4 1.1 sigma(): 25.5918
    np.testing.assert_allclose(reml_fit.sigma, 25.5918, rtol=RTOL)


def test_fit_converged_and_not_singular(reml_fit):
    assert reml_fit.converged and not reml_fit.singular
    assert reml_fit.n_obs == 180 and reml_fit.n_subjects == 18
