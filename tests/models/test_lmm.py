"""The REML/ML linear mixed model engine: exact identities, statsmodels agreement, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from alsstats.errors import DataValidationError, SpecError
from alsstats.models.lmm.engine import _Profile, fit_lmm, fit_lmm_formula, likelihood_ratio_test
from alsstats.models.lmm.formula import design_matrices, parse_formula


def _cohort(seed=3, n=60, times=(0.0, 0.5, 1.0, 2.0), jitter=0.1):
    rng = np.random.default_rng(seed)
    m = len(times)
    subject = np.repeat(np.arange(n), m)
    t = np.tile(times, n) + rng.uniform(0, jitter, n * m)
    group = np.where(np.arange(n) % 2 == 0, "ALS", "HC")[subject]
    age = rng.normal(60, 8, n)[subject]
    b = rng.multivariate_normal([0, 0], [[4, 0.5], [0.5, 1]], n)
    y = (50 - 2 * t * (group == "ALS") + b[subject, 0] + b[subject, 1] * t + 0.1 * age
         + rng.normal(0, 1, n * m))
    return pd.DataFrame({"y": y, "t": t, "group": group, "age": age,
                         "subject": [f"s{i:03d}" for i in subject]})


@pytest.mark.parametrize("method", ["reml", "ml"])
def test_agrees_with_statsmodels_mixedlm(method):
    import statsmodels.formula.api as smf  # a dev dependency: never skipped
    df = _cohort()
    ours = fit_lmm_formula("y ~ group * t + age + (t | subject)", df, method=method)
    sm = smf.mixedlm("y ~ group * t + age", df, groups="subject", re_formula="~t").fit(
        reml=method == "reml", method=["lbfgs"])
    # Same maximiser: our objective is at least as high as statsmodels' (its optimiser
    # stops earlier), and estimates agree to statsmodels' optimiser precision (~1e-4).
    assert ours.loglik >= sm.llf - 1e-6
    by_name = dict(zip(ours.fixed_names, ours.fixed, strict=True))
    np.testing.assert_allclose(
        [by_name["Intercept"], by_name["group[HC]"], by_name["t"], by_name["group[HC]:t"],
         by_name["age"]], sm.fe_params.to_numpy(), rtol=1e-4)
    np.testing.assert_allclose(ours.random_cov, sm.cov_re.to_numpy(), rtol=1e-3)
    np.testing.assert_allclose(ours.sigma ** 2, sm.scale, rtol=1e-3)
    np.testing.assert_allclose(np.sort(ours.fixed_se), np.sort(sm.bse_fe.to_numpy()), rtol=1e-3)


def test_zero_between_subject_variance_gives_ols_and_reml_ml_relation():
    # Every subject's mean is exactly the grand mean, so the between-subject mean square is
    # 0 and the random-intercept variance estimate is on the boundary (θ = 0).  The model is
    # then ordinary least squares: β̂ = OLS, σ̂²_REML = RSS/(n−p), σ̂²_ML = RSS/n exactly.
    rng = np.random.default_rng(0)
    n, m = 30, 5
    e = rng.normal(size=(n, m))
    e -= e.mean(axis=1, keepdims=True)
    y = (10 + e).ravel()
    X = np.ones((n * m, 1))
    subject = np.repeat(np.arange(n), m)
    reml = fit_lmm(y, X, subject, method="reml")
    ml = fit_lmm(y, X, subject, method="ml")
    rss = float(((y - y.mean()) ** 2).sum())
    assert reml.theta[0] == pytest.approx(0.0, abs=1e-6) and reml.singular
    np.testing.assert_allclose(reml.fixed, [y.mean()], rtol=1e-12)
    np.testing.assert_allclose(reml.sigma ** 2, rss / (n * m - 1), rtol=1e-8)
    np.testing.assert_allclose(ml.sigma ** 2, rss / (n * m), rtol=1e-8)
    np.testing.assert_allclose(reml.fixed_se, np.sqrt(rss / (n * m - 1) / (n * m)), rtol=1e-6)


def test_balanced_random_intercept_equals_anova_estimators():
    # Balanced one-way random-effects ANOVA: when MSB > MSW the REML estimates are exactly
    # σ² = MSW and τ² = (MSB − MSW)/m (Searle, Casella & McCulloch 1992, ch. 3).
    rng = np.random.default_rng(1)
    n, m = 25, 4
    y = (rng.normal(0, 2, n)[:, None] + rng.normal(0, 1, (n, m)) + 5).ravel()
    subject = np.repeat(np.arange(n), m)
    fit = fit_lmm(y, np.ones((n * m, 1)), subject, method="reml")
    ym = y.reshape(n, m)
    msw = ((ym - ym.mean(1, keepdims=True)) ** 2).sum() / (n * (m - 1))
    msb = m * ((ym.mean(1) - ym.mean()) ** 2).sum() / (n - 1)
    np.testing.assert_allclose(fit.sigma ** 2, msw, rtol=1e-6)
    np.testing.assert_allclose(fit.random_cov[0, 0], (msb - msw) / m, rtol=1e-5)
    np.testing.assert_allclose(fit.fixed_se, np.sqrt(msb / (n * m)), rtol=1e-5)


def test_analytic_gradient_matches_finite_differences():
    df = _cohort(n=20)
    d = design_matrices("y ~ group * t + (t | subject)", df)
    codes = np.unique(d.subject, return_inverse=True)[1]
    for reml in (True, False):
        prof = _Profile(d.y, d.X, codes, d.Z, reml)
        for theta in ([0.9, 0.1, 0.3], [2.0, -0.5, 0.05]):
            theta = np.array(theta)
            grad = prof.deviance(theta)[1]
            fd = optimize.approx_fprime(theta, lambda th, pr=prof: pr.deviance(th)[0], 1e-7)
            np.testing.assert_allclose(grad, fd, rtol=1e-4, atol=1e-4)


def test_row_order_and_subject_labels_do_not_matter():
    df = _cohort(n=30)
    a = fit_lmm_formula("y ~ group * t + (t | subject)", df)
    shuffled = df.sample(frac=1.0, random_state=2).reset_index(drop=True)
    shuffled["subject"] = "p" + shuffled["subject"]
    b = fit_lmm_formula("y ~ group * t + (t | subject)", shuffled)
    np.testing.assert_allclose(a.fixed, b.fixed, rtol=1e-8)
    np.testing.assert_allclose(a.random_cov, b.random_cov, rtol=1e-6)
    np.testing.assert_allclose(a.random_effects, b.random_effects, rtol=1e-5, atol=1e-8)


def test_blups_solve_the_mixed_model_equations():
    # Henderson's mixed-model equations: b̂_i = (Z_i'Z_i + σ²G⁻¹)⁻¹ Z_i'(y_i − X_iβ̂).
    df = _cohort(n=15)
    fit = fit_lmm_formula("y ~ group * t + (t | subject)", df)
    d = design_matrices("y ~ group * t + (t | subject)", df)
    Ginv = np.linalg.inv(fit.random_cov)
    for k, s in enumerate(fit.subjects):
        rows = d.subject == s
        Zi, ri = d.Z[rows], d.y[rows] - d.X[rows] @ fit.fixed
        expected = np.linalg.solve(Zi.T @ Zi + fit.sigma ** 2 * Ginv, Zi.T @ ri)
        np.testing.assert_allclose(fit.random_effects[k], expected, rtol=1e-6, atol=1e-9)


def test_likelihood_ratio_test_for_the_group_slope():
    df = _cohort(n=80)
    full = fit_lmm_formula("y ~ group * t + (t | subject)", df, method="ml")
    reduced = fit_lmm_formula("y ~ group + t + (t | subject)", df, method="ml")
    lrt = likelihood_ratio_test(reduced, full)
    assert lrt.df == 1
    assert lrt.statistic == pytest.approx(reduced.deviance - full.deviance)
    assert lrt.p_value < 1e-6  # true slope difference 2/yr, SE ≈ 0.25
    with pytest.raises(SpecError):
        likelihood_ratio_test(
            fit_lmm_formula("y ~ group + t + (t | subject)", df, method="reml"),
            fit_lmm_formula("y ~ group * t + (t | subject)", df, method="reml"))


def test_information_criteria_and_wald_intervals():
    fit = fit_lmm_formula("y ~ group * t + (t | subject)", _cohort(n=30), method="ml")
    k = 4 + 3 + 1
    assert fit.n_params == k
    assert fit.aic == pytest.approx(fit.deviance + 2 * k)
    assert fit.bic == pytest.approx(fit.deviance + np.log(fit.n_obs) * k)
    ci = fit.conf_int(0.95)
    from scipy import stats
    assert np.all((fit.df > 5) & (fit.df < fit.n_obs))  # t with Satterthwaite df, not z
    np.testing.assert_allclose(ci[:, 1] - fit.fixed, stats.t.ppf(0.975, fit.df) * fit.fixed_se,
                               rtol=1e-12)
    table = fit.summary()
    assert list(table.index) == fit.fixed_names


def test_bad_input_is_reported():
    df = _cohort(n=10)
    with pytest.raises(DataValidationError, match="finite"):
        y = df["y"].to_numpy().copy()
        y[3] = np.nan
        fit_lmm(y, np.ones((len(y), 1)), df["subject"])
    with pytest.raises(DataValidationError, match="rank-deficient"):
        X = np.column_stack([np.ones(len(df)), df["t"], 2 * df["t"]])
        fit_lmm(df["y"], X, df["subject"], fixed_names=["Intercept", "t", "t2"])
    one_visit = df.groupby("subject").head(1)
    with pytest.raises(DataValidationError, match="distinct visits"):
        fit_lmm_formula("y ~ t + (t | subject)", one_visit)
    with pytest.raises(SpecError):
        fit_lmm(df["y"], np.ones((len(df), 1)), df["subject"], method="bayes")
    with pytest.raises(DataValidationError, match="missing"):
        fit_lmm_formula("y ~ nope + (t | subject)", df)


def test_formula_parser():
    f = parse_formula("y ~ a * b + c - 1 + (t | s)")
    assert f.fixed_terms == (("a",), ("b",), ("a", "b"), ("c",))
    assert not f.intercept and f.subject == "s" and f.random_terms == ("t",)
    assert parse_formula("y ~ x + (0 + t | s)").random_intercept is False
    for bad in ("y ~ x + (t | s) + (1 | u)", "y x", "y ~ log(x)", "y ~ x + "):
        with pytest.raises(SpecError):
            parse_formula(bad)


def test_large_outcome_mean_is_exactly_equivariant_and_converges():
    # REML is equivariant under y -> y + c: only the intercept moves.  A mean 1e6 times
    # the residual SD used to stall the optimiser through cancellation in yᵀV⁻¹y.
    df = _cohort(n=40)
    a = fit_lmm_formula("y ~ group * t + (t | subject)", df)
    b = fit_lmm_formula("y ~ group * t + (t | subject)", df.assign(y=df["y"] + 1e6))
    assert b.converged and "CONVERGENCE" in b.message
    np.testing.assert_allclose(b.fixed - a.fixed, [1e6, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(b.random_cov, a.random_cov, rtol=1e-6)
    np.testing.assert_allclose(b.sigma, a.sigma, rtol=1e-8)


def test_no_stall_at_a_zero_diagonal_of_the_covariance_factor():
    # A simulated cohort (3 visits, total GM in cm³, group × time, covariates, site) where a
    # gradient search from Λ = I stopped at Λ_11 = 0 — a stationary point, since the
    # deviance is even in each diagonal entry — with log-likelihood −1871.22 instead of
    # statsmodels' −1863.22.  The moment-based start and boundary restarts find the optimum.
    import statsmodels.formula.api as smf  # a dev dependency: never skipped

    from alsstats.simulate import simulate_cohort

    d, _ = simulate_cohort("default", seed=4)
    d = d.dropna(subset=["total_gm_volume_mm3"]).assign(
        y=lambda f: f["total_gm_volume_mm3"] / 1000.0, t=lambda f: f["years_from_baseline"])
    ours = fit_lmm_formula("y ~ group * t + age + sex + site + (t | subject_id)", d)
    sm = smf.mixedlm("y ~ group * t + age + sex + site", d, groups="subject_id",
                     re_formula="~t").fit(reml=True, method=["lbfgs"])
    assert ours.loglik >= sm.llf - 1e-6
    assert not ours.singular and ours.converged
    # agreement to statsmodels' optimiser precision (our optimum is at least as high)
    np.testing.assert_allclose(ours.random_cov, sm.cov_re.to_numpy(), rtol=2e-3, atol=0.05)
