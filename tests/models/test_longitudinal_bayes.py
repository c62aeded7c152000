"""Bayesian longitudinal fits: sleepstudy with the default weak priors, Student-t residuals
and the random-intercept path (each compiles a model; refits reuse it)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alsstats.errors import ConvergenceWarning
from alsstats.inference.convergence import ConvergencePolicy
from alsstats.models.longitudinal.model import LongitudinalModel
from alsstats.models.longitudinal.spec import load_longitudinal_spec

pytestmark = pytest.mark.sampling

SLEEP = {"outcome": "Reaction", "time": "Days", "subject": "Subject", "group": None,
         "covariates": (), "site": None}


@pytest.fixture(scope="session")
def sleepstudy_df(reference_path):
    return pd.read_csv(reference_path("lme4/sleepstudy.csv"))


@pytest.fixture(scope="session")
def bayes_fit(sleepstudy_df):
    # The default spec and sampler settings (4 chains x 1000 draws, 1000 tuning steps).
    return LongitudinalModel(method="bayes", seed=11, **SLEEP).fit(sleepstudy_df)


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
    # The shared policy (R-hat <= 1.01, bulk and tail ESS >= 400 in total, no divergences)
    # from the spec's [convergence] table; this default-settings fit must meet it.
    c = bayes_fit.convergence_
    assert c.policy == ConvergencePolicy() and c.chains == 4 and c.draws == 1000
    assert c.ok and bayes_fit.converged_, c.problems()
    assert c.max_rhat <= 1.01 and min(c.min_ess_bulk, c.min_ess_tail) >= 400
    assert c.divergences == 0


def test_posterior_uses_named_dims(bayes_fit):
    post = bayes_fit.idata_.posterior
    assert post["b"].dims == ("chain", "draw", "group")
    assert list(post["b"].coords["group"].values) == ["all"]


def test_bayes_save_load_keeps_posterior_and_diagnostics(bayes_fit, tmp_path):
    path = tmp_path / "bayes.nc"
    bayes_fit.save(path)
    back = LongitudinalModel.load(path)
    pd.testing.assert_frame_equal(back.summary(), bayes_fit.summary())
    assert "a" in back.idata_.posterior and "diverging" in back.idata_.sample_stats
    assert back.convergence_ == bayes_fit.convergence_
    assert back.provenance_["alsstats_model"] == "longitudinal"


def test_refit_reuses_the_compiled_model(bayes_fit, sleepstudy_df):
    sub = sleepstudy_df[sleepstudy_df["Days"] <= 6]
    # Half the default draws and tuning (4 x 500 after 500; it still meets the policy, or
    # the ConvergenceWarning fails the test): the mean's MC error is then about
    # sd / sqrt(ESS) < 0.05 sd, far inside the half-SD tolerance below.
    spec = bayes_fit.spec_.replace(sampling={"draws": 500, "tune": 500})
    m = LongitudinalModel(spec=spec, method="bayes", seed=2, **SLEEP).fit(
        sub, reuse=bayes_fit)
    assert m.timing_["compile_seconds"] == 0.0 and bayes_fit.timing_["compile_seconds"] > 0
    # The swapped-in data are the ones fitted: the posterior mean slope on days 0-6 lands
    # within half a posterior SD of REML on the same rows, not at the full-data value.
    r = LongitudinalModel(method="reml", **SLEEP).fit(sub).summary().loc["slope[all]"]
    b = m.summary().loc["slope[all]"]
    assert abs(b["estimate"] - r["estimate"]) < 0.5 * b["sd"]
    assert m.meta_["n_obs"] == len(sub)


def test_short_run_is_flagged_and_warns_in_one_line(bayes_fit, sleepstudy_df):
    # Same model graph (only the sampling settings differ): reuses the compiled model.
    spec = bayes_fit.spec_.replace(sampling={"draws": 30, "tune": 30})
    with pytest.warns(ConvergenceWarning) as caught:
        m = LongitudinalModel(spec=spec, method="bayes", seed=3, **SLEEP).fit(
            sleepstudy_df, reuse=bayes_fit)
    message = str(caught[0].message)
    assert "\n" not in message and "min bulk ESS" in message and "try more tune/draws" in message
    assert not m.converged_ and m.convergence_.min_ess_bulk < 400
    assert m.to_dict()["converged"] is False and m.to_dict()["convergence"]["ok"] is False


def test_policy_is_editable_in_the_spec(bayes_fit, sleepstudy_df):
    # The spec's [convergence] table decides, both ways, on the short run of the test above
    # (4 x 30 draws after 30 tuning steps, reusing the compiled model; the default policy
    # flags it there).  A lenient policy accepts it: with the default policy ignored, the
    # ConvergenceWarning would fail this test (pyproject's filterwarnings).  A policy of
    # ESS >= 1e6 flags it and is the one stored.  (Before: a full 4 x 2000-step refit of the
    # data; the short run checks the same path in a few seconds.)
    short = {"draws": 30, "tune": 30}
    lenient = {"max_rhat": 100.0, "min_ess_bulk": 0, "min_ess_tail": 0,
               "max_divergences": 10**6}
    spec = bayes_fit.spec_.replace(sampling=short, convergence=lenient)
    m = LongitudinalModel(spec=spec, method="bayes", seed=3, **SLEEP).fit(
        sleepstudy_df, reuse=bayes_fit)
    assert m.convergence_.policy == ConvergencePolicy(100.0, 0, 0, 10**6) and m.converged_
    assert m.convergence_.min_ess_bulk < 400       # the default policy would flag it
    spec = bayes_fit.spec_.replace(sampling=short, convergence={"min_ess_bulk": 1e6})
    with pytest.warns(ConvergenceWarning, match="min bulk ESS"):
        m = LongitudinalModel(spec=spec, method="bayes", seed=3, **SLEEP).fit(
            sleepstudy_df, reuse=bayes_fit)
    assert m.convergence_.policy.min_ess_bulk == 1e6 and not m.converged_


def test_student_t_residuals_resist_an_outlier(sleepstudy_df, reml_fit):
    # One visit corrupted by +600 ms pulls the Gaussian REML slope from 10.47 to 12.29.
    # Multivariate-t subjects keep the mean slope within one posterior SD of the clean
    # REML value and closer to it than the Gaussian fit of the corrupted data.
    df = sleepstudy_df.copy()
    df.loc[(df["Subject"] == 308) & (df["Days"] == 9), "Reaction"] += 600.0
    spec = load_longitudinal_spec().replace(residual="student_t")
    m = LongitudinalModel(spec=spec, method="bayes", seed=5, **SLEEP).fit(df)
    b = m.summary()
    clean = reml_fit.summary().loc["slope[all]", "estimate"]
    assert abs(b.loc["slope[all]", "estimate"] - clean) < b.loc["slope[all]", "sd"]
    assert b.loc["nu", "estimate"] < 15
    gauss = LongitudinalModel(method="reml", **SLEEP).fit(df).summary().loc["slope[all]"]
    assert abs(b.loc["slope[all]", "estimate"] - clean) < abs(gauss["estimate"] - clean)
    assert m.converged_


def test_random_intercept_bayes_model_agrees_with_reml():
    # Random intercept only, one shared intercept and a covariate: posterior means
    # of the group slopes within half a posterior SD of REML (the q = 1 code paths).
    rng = np.random.default_rng(4)
    n, times = 60, np.array([0.0, 0.5, 1.0, 1.5])
    als = np.arange(n) % 2 == 1
    age = rng.normal(60, 8, n)
    u0 = rng.normal(0, 2, n)
    y = (100 + u0[:, None] + np.where(als, -3.0, -1.0)[:, None] * times
         + 0.2 * (age[:, None] - 60) + rng.normal(0, 0.7, (n, len(times))))
    df = pd.DataFrame({"id": np.repeat([f"p{i:02d}" for i in range(n)], len(times)),
                       "t": np.tile(times, n), "y": y.ravel(),
                       "grp": np.repeat(np.where(als, "ALS", "HC"), len(times)),
                       "age": np.repeat(age, len(times))})
    kw = {"outcome": "y", "time": "t", "subject": "id", "group": "grp", "covariates": ("age",),
          "site": None}
    spec = {"model": {"random_effects": "intercept", "group_intercepts": False}}
    b = LongitudinalModel(spec=spec, method="bayes", seed=1, **kw).fit(df)
    r = LongitudinalModel(spec=spec, method="reml", seed=1, **kw).fit(df)
    bs, rs = b.summary(), r.summary()
    for term in ("slope[ALS]", "slope[HC]", "covariate[age]"):
        assert abs(bs.loc[term, "estimate"] - rs.loc[term, "estimate"]) < 0.5 * bs.loc[term, "sd"]
    assert "sd_slope" not in bs.index and b.converged_
    assert b.subject_slopes()["slope"].groupby(b.subject_slopes()["group"]).std().max() < 1e-9


# ---------------------------------------------------------------- PPC and LOO (criticism)
def test_subject_log_likelihood_is_the_exact_marginal_density(bayes_fit, sleepstudy_df):
    from scipy.stats import multivariate_normal

    from alsstats.models.longitudinal.criticism import log_likelihood

    ll = log_likelihood(bayes_fit, sleepstudy_df)
    post = bayes_fit.idata_.posterior
    subjects = np.unique(sleepstudy_df["Subject"])
    for chain, draw, i in [(0, 0, 0), (1, 17, 5), (0, 311, 17)]:
        p = {v: float(post[v].values[chain, draw]) for v in ("sigma", "tau0", "tau1", "rho")}
        a, b = float(post["a"].values[chain, draw][0]), float(post["b"].values[chain, draw][0])
        rows = sleepstudy_df[sleepstudy_df["Subject"] == subjects[i]]
        y_all, t_all = sleepstudy_df["Reaction"], sleepstudy_df["Days"]
        y_mean, y_sd, t_sd = y_all.mean(), y_all.std(ddof=0), t_all.std(ddof=0)
        t = rows["Days"].to_numpy() / t_sd
        z = np.column_stack([np.ones_like(t), t])
        omega = np.array([[p["tau0"] ** 2, p["rho"] * p["tau0"] * p["tau1"]],
                          [p["rho"] * p["tau0"] * p["tau1"], p["tau1"] ** 2]])
        cov = (z @ omega @ z.T + p["sigma"] ** 2 * np.eye(len(t))) * y_sd ** 2
        want = multivariate_normal(y_mean + y_sd * (a + b * t), cov).logpdf(rows["Reaction"])
        assert ll[chain, draw, i] == pytest.approx(want, abs=1e-6)


def test_loo_ppc_and_the_transform_guard(bayes_fit, sleepstudy_df, reml_fit):
    import copy

    from alsstats.errors import AlsStatsError, DataValidationError
    from alsstats.models.longitudinal.criticism import (
        compare_loo,
        loo,
        posterior_predictive_check,
    )

    res = loo(bayes_fit, sleepstudy_df)
    assert np.isfinite(res.elpd_loo) and len(res.loo_i) == 18
    table = compare_loo({"a": bayes_fit, "b": bayes_fit}, sleepstudy_df)
    assert table["elpd_diff"].abs().max() == 0.0
    logged = copy.copy(bayes_fit)
    logged.outcome = "log_reaction"
    with pytest.raises(AlsStatsError, match="Jacobian"):
        compare_loo({"natural": bayes_fit, "log": logged}, sleepstudy_df)
    with pytest.raises(AlsStatsError, match="method='bayes'"):
        loo(reml_fit, sleepstudy_df)
    with pytest.raises(DataValidationError, match="data hash"):
        loo(bayes_fit, sleepstudy_df.iloc[:-1])
    ppc = posterior_predictive_check(bayes_fit, sleepstudy_df, n_draws=400, seed=1)
    assert set(ppc["statistic"]) == {"baseline mean", "baseline SD", "slope mean",
                                     "slope SD", "residual SD"}
    print(ppc)
    # sleepstudy is the textbook case for this model: nothing is flagged.
    assert ppc["p"].between(0.02, 0.98).all()
