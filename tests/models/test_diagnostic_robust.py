"""Robust marker distributions of the diagnostic model (``[model] marker_distribution``).

Default tier: the spec option (its bad values are in test_diagnostic_spec.py), the
graph's likelihood and the scoring/LOO densities against scipy brute force (rows with
missing markers, seen and unseen sites), the Student-t unseen-site quadrature against
numerical integration, posterior predictive draws against the target distributions,
and predictive score intervals (law of total probability, conditional draws against
direct draws, a CLI smoke test).  Slow tier: fits on a heavy-tailed and on the default
cohort, chosen by PSIS-LOO.
"""

from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import integrate, stats
from scipy.special import log_ndtr

from alsstats.cli import main
from alsstats.errors import SpecError
from alsstats.inference.marker_density import (
    log_density,
    sample_noise,
    unseen_site_log_density,
)
from alsstats.inference.predictive import _RobustPlan, predictive_interval
from alsstats.inference.scoring import (
    PosteriorParameters,
    class_log_likelihoods,
    class_probabilities,
)
from alsstats.models.diagnostic.criticism import posterior_predictive_check
from alsstats.models.diagnostic.distribution_choice import choice_from_fits
from alsstats.models.diagnostic.graph import log_normal_cdf
from alsstats.models.diagnostic.model import DiagnosticModel
from alsstats.models.diagnostic.spec import DiagnosticSpec, default_spec
from alsstats.simulate import simulate_cohort
from alsstats.testing.recovery import default_truth, simulate_diagnostic_cohort
from tests.models.conftest import brute_force_scores, diagnostic_graph, values_at_random_point

DISTRIBUTIONS = ("student_t", "skew_normal")


def _spec(distribution, **model) -> DiagnosticSpec:
    d = default_spec().to_dict()
    d["model"].update({"marker_distribution": distribution, **model})
    return DiagnosticSpec.from_dict(d)


def skew_normal_logpdf(y, xi, psi, lam) -> float:
    """log of 2 phi(y; xi, Omega) Phi(lam' Omega^-1 (y - xi) / sqrt(1 - lam' Omega^-1 lam)),
    Omega = Psi + lam lam', computed directly with scipy."""
    omega = psi + np.outer(lam, lam)
    inv = np.linalg.inv(omega)
    shape = lam @ inv @ (y - xi) / np.sqrt(1 - lam @ inv @ lam)
    return float(np.log(2 * stats.multivariate_normal(xi, omega).pdf(y)
                        * stats.norm.cdf(shape)))


def _logpdf(distribution, y, mean, cov, nu=None, lam=None) -> float:
    if distribution == "student_t":
        return float(stats.multivariate_t(mean, cov, df=nu).logpdf(y))
    if distribution == "skew_normal":
        return skew_normal_logpdf(y, mean, cov, lam)
    return float(stats.multivariate_normal(mean, cov).logpdf(y))


# ------------------------------------------------------------------ spec
def test_spec_option_defaults_to_normal_and_is_checked():
    spec = default_spec()
    assert spec.marker_distribution == "normal"
    # the canonical JSON of a normal spec is what it was before the option existed
    assert "marker_distribution" not in spec.to_json()
    assert "nu_rate" not in spec.to_json() and "skew_sd" not in spec.to_json()
    t = _spec("student_t")
    assert t.priors["nu_rate"] == 0.1 and "skew_sd" not in t.to_dict()["priors"]
    assert DiagnosticSpec.from_json(t.to_json()) == t
    sn = _spec("skew_normal")
    assert sn.priors["skew_sd"] == 1.0 and "nu_rate" not in sn.to_dict()["priors"]
    assert DiagnosticSpec.from_json(sn.to_json()) == sn


def test_sbc_refuses_a_robust_distribution():
    from alsstats.validation.sbc import sbc_diagnostic

    with pytest.raises(SpecError, match="marker_distribution = 'normal', got 'student_t'"):
        sbc_diagnostic(_spec("student_t"), n_replicates=1)


# ------------------------------------------------------------------ graph likelihood
@pytest.mark.parametrize(("distribution", "covariance"), [
    ("student_t", "class_sd"), ("skew_normal", "class_sd"), ("skew_normal", "shared")])
def test_graph_log_likelihood_equals_scipy(distribution, covariance):
    # The likelihood Potential at a random point equals the sum over subjects of the
    # scipy density of the observed markers (multivariate_t; skew-normal as
    # 2 phi Phi), with the sub-blocks of the location, scale and skewness.
    spec = _spec(distribution, covariance=covariance)
    data, _ = simulate_cohort("default", seed=4, n_per_group=8)
    prepared, arrays, _, model = diagnostic_graph(spec, data)
    extra = {"student_t": "nu", "skew_normal": "skew"}[distribution]
    values, potential = values_at_random_point(model, ["mu", "B", "u", "Sigma", extra])
    design = prepared.design
    used = np.flatnonzero(arrays["weight"][:len(design.y)] > 0)
    obs = np.isfinite(design.y[used])
    assert (~obs.all(axis=1)).sum() >= 5 and obs.any(axis=1).all()   # rows with missing
    total = 0.0
    for i in used:
        o = np.isfinite(design.y[i])
        k = prepared.labels[i]
        sigma = values["Sigma"][k] if values["Sigma"].ndim == 3 else values["Sigma"]
        mean = values["mu"][k] + design.x[i] @ values["B"] + values["u"][design.site[i]]
        total += _logpdf(distribution, design.y[i, o], mean[o], sigma[np.ix_(o, o)],
                         nu=values.get("nu", [None] * 3)[k],
                         lam=values["skew"][k][o] if "skew" in values else None)
    assert potential == pytest.approx(total, rel=1e-8)
    if distribution == "student_t":
        assert np.all(values["nu"] > 2)


def test_graph_log_normal_cdf_is_accurate_everywhere():
    z = pt.dvector("z")
    values = np.concatenate([np.linspace(-60, 10, 701), [-20.0001, -20.0, -19.9999]])
    got = pytensor.function([z], log_normal_cdf(z))(values)
    np.testing.assert_allclose(got, log_ndtr(values), rtol=1e-12, atol=1e-10)
    grad = pytensor.function([z], pytensor.grad(log_normal_cdf(z).sum(), z))(values)
    np.testing.assert_allclose(grad, np.exp(stats.norm.logpdf(values) - log_ndtr(values)),
                               rtol=1e-6)


# ------------------------------------------------------------------ numpy densities
def test_skew_normal_brute_force_is_scipy_skewnorm_in_one_dimension():
    xi, omega, alpha = 0.3, 1.7, -2.5
    lam = alpha * np.sqrt(omega) / np.sqrt(1 + alpha**2)    # Omega = psi + lam^2
    psi = omega - lam**2
    for y in (-2.0, 0.1, 1.9):
        assert skew_normal_logpdf(np.array([y]), np.array([xi]), np.array([[psi]]),
                                  np.array([lam])) == pytest.approx(
            stats.skewnorm(alpha, xi, np.sqrt(omega)).logpdf(y), rel=1e-10)


def _random_params(rng, distribution, per_class, d=8, k=3, m=3, c=2, s=2):
    a = rng.normal(size=(d, k if per_class else 1, m, m))
    sigma = a @ np.swapaxes(a, -1, -2) + 0.5 * np.eye(m)
    return PosteriorParameters(
        mu=rng.normal(size=(d, k, m)), B=0.3 * rng.normal(size=(d, c, m)),
        u=0.3 * rng.normal(size=(d, s, m)), tau=rng.uniform(0.2, 0.6, size=(d, m)),
        Sigma=sigma if per_class else sigma[:, 0],
        nu=rng.uniform(2.5, 30, size=(d, k)) if distribution == "student_t" else None,
        skew=rng.normal(size=(d, k, m)) if distribution == "skew_normal" else None)


def _robust_class_loglik(site, p, distribution):
    """The robust class log-density for :func:`brute_force_scores` (scipy / quadrature)."""
    def loglik(i, d, kk, o, y_o, mean, sigma):
        if site[i] < 0 and distribution == "student_t":
            return _t_unseen_by_integration(y_o, mean[o], sigma[np.ix_(o, o)],
                                            p.tau[d, o] ** 2, p.nu[d, kk])
        if site[i] < 0:
            sigma = sigma + np.diag(p.tau[d] ** 2)
        return _logpdf(distribution, y_o, mean[o], sigma[np.ix_(o, o)],
                       nu=None if p.nu is None else p.nu[d, kk],
                       lam=None if p.skew is None else p.skew[d, kk, o])
    return loglik


def _t_unseen_by_integration(y, mean, sigma, site_var, nu) -> float:
    """log of int N(y; mean, Sigma / w + diag(tau^2)) Gamma(w; nu/2, rate nu/2) dw (quad)."""
    r = y - mean
    mixing = stats.gamma(nu / 2, scale=2 / nu)

    def integrand(w):
        cov = sigma / w + np.diag(site_var)
        log_n = -0.5 * (r @ np.linalg.solve(cov, r) + np.linalg.slogdet(cov)[1]
                        + len(r) * np.log(2 * np.pi))
        return np.exp(log_n) * mixing.pdf(w)
    value, _ = integrate.quad(integrand, 0, np.inf, epsabs=0, epsrel=1e-11, limit=400)
    return float(np.log(value))


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
@pytest.mark.parametrize("per_class", [False, True])
def test_scoring_matches_brute_force(distribution, per_class):
    rng = np.random.default_rng(11)
    p = _random_params(rng, distribution, per_class)
    y = rng.normal(size=(7, 3))
    y[1, 1] = np.nan
    y[2, :2] = np.nan
    y[3, :] = np.nan                   # nothing observed: the prior
    x = rng.normal(size=(7, 2))
    site = np.array([0, 1, -1, 0, 1, -1, 0])
    log_prior = np.log([0.2, 0.3, 0.5])
    got = class_probabilities(y, x, site, p, log_prior, interval=0.8)
    want = brute_force_scores(y, x, site, p, log_prior, 0.8,
                              _robust_class_loglik(site, p, distribution))
    for g, w in zip((got.mean, got.low, got.high), want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10)
    # the normal scores differ (the test can fail)
    normal = class_probabilities(y, x, site, PosteriorParameters(p.mu, p.B, p.u, p.tau,
                                                                 p.Sigma), log_prior)
    assert np.abs(normal.mean - got.mean).max() > 1e-2


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_loo_log_likelihoods_equal_scipy(distribution):
    # The per-draw class log-likelihoods behind criticism.loo (not only their softmax):
    # a constant missing from the density would cancel in scores but not in LOO.
    rng = np.random.default_rng(4)
    p = _random_params(rng, distribution, per_class=True, d=5)
    y = rng.normal(size=(3, 3))
    x = rng.normal(size=(3, 2))
    site = np.array([0, 1, 1])
    o = np.array([0, 2])                       # marker 1 missing
    got = class_log_likelihoods(y, x, site, p, o, unseen=False)
    for d in range(5):
        for k in range(3):
            for i in range(3):
                mean = p.mu[d, k] + x[i] @ p.B[d] + p.u[d, site[i]]
                want = _logpdf(distribution, y[i, o], mean[o], p.Sigma[d, k][np.ix_(o, o)],
                               nu=None if p.nu is None else p.nu[d, k],
                               lam=None if p.skew is None else p.skew[d, k, o])
                assert got[d, k, i] == pytest.approx(want, rel=1e-10)


def test_student_t_unseen_site_quadrature_matches_integration():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(2, 2))
    sigma = a @ a.T + 0.3 * np.eye(2)
    site_var = np.array([0.2, 0.5])
    for nu in (2.01, 3.0, 12.0, 80.0):
        resid = rng.normal(size=2) * 3
        got = unseen_site_log_density(resid[None, None, None], sigma[None, None],
                                      site_var[None], nu=np.array([[nu]]))[0, 0, 0]
        assert got == pytest.approx(_t_unseen_by_integration(resid, np.zeros(2), sigma,
                                                             site_var, nu), rel=1e-8)


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_predictive_draws_follow_the_density(distribution):
    # sample_noise (PPC) draws from the density that log_density evaluates: the
    # Kolmogorov-Smirnov test of a 1-D projection's CDF, from the density integrated.
    rng = np.random.default_rng(8)
    sigma = np.array([[1.0, 0.4], [0.4, 0.5]])
    nu = np.array(3.5) if distribution == "student_t" else None
    lam = np.array([1.5, -0.8]) if distribution == "skew_normal" else None
    draws = sample_noise(rng, np.broadcast_to(np.linalg.cholesky(sigma), (20000, 2, 2)),
                         None if nu is None else np.full(20000, nu),
                         None if lam is None else np.broadcast_to(lam, (20000, 2)))
    grid = np.linspace(-12, 12, 1201)
    # the marginal of the first marker is the same family with the (0, 0) sub-block
    dens = np.exp(log_density(grid[None, None, :, None], sigma[None, None, :1, :1],
                              None if nu is None else nu[None, None],
                              None if lam is None else lam[None, None, :1]))[0, 0]
    cdf = integrate.cumulative_trapezoid(dens, grid, initial=0)
    assert cdf[-1] == pytest.approx(1.0, abs=2e-3)
    ks = stats.kstest(draws[:, 0], lambda v: np.interp(v, grid, cdf))
    assert ks.pvalue > 0.01
    normal = stats.kstest(draws[:, 0], stats.norm(draws[:, 0].mean(), draws[:, 0].std()).cdf)
    assert normal.pvalue < 1e-3          # and the draws are not normal (can fail)


# ------------------------------------------------------------------ predictive intervals
def _plan_for(p, y, site, log_prior):
    o = np.flatnonzero(np.isfinite(y[0]))
    return _RobustPlan(p, o, bool(site[0] < 0), np.asarray(log_prior, float))


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
@pytest.mark.parametrize(("per_class", "site_index", "observed"), [
    (True, 0, [0]), (False, 1, [0, 2]), (True, -1, [2]), (False, -1, [0, 1])])
def test_predictive_draws_average_to_the_score(distribution, per_class, site_index,
                                               observed):
    # Law of total probability: E_z[P_d(k | y_o, z)] = P_d(k | y_o) for every draw d, so
    # the mean over 1500 independent copies of a patient (each with its own generator) of
    # the mean over 8 draws of P_d(k | y_o, z) is the score within MC error.  Tolerance:
    # 4.5 SE, SE the standard deviation of the copies' means over sqrt(1500) (under the
    # null a 4.5 SE miss has probability 7e-6 per check); the Student-t at an unseen site
    # also carries the scoring quadrature's error (relative 1e-8), negligible here.
    rng = np.random.default_rng(21)
    p = _random_params(rng, distribution, per_class)
    n = 1500
    y = np.full((n, 3), np.nan)
    y[:, observed] = rng.normal(size=len(observed)) * 1.5
    x = np.broadcast_to(rng.normal(size=2), (n, 2)).copy()
    site = np.full(n, site_index)
    log_prior = np.log([0.2, 0.3, 0.5])
    exact = class_probabilities(y[:1], x[:1], site[:1], p, log_prior).mean[0]
    plan = _plan_for(p, y, site, log_prior)
    draws = plan.draw(y, x, site, [np.random.default_rng([5, i]) for i in range(n)])
    copies = draws.mean(axis=1)                                            # (n, K)
    se = copies.std(axis=0, ddof=1) / np.sqrt(n)
    assert np.all(np.abs(copies.mean(axis=0) - exact) <= 4.5 * se)
    # the draws move (the check is not trivially met): P(k | y_o, z) varies with z
    assert draws.std(axis=0).max() > 0.05 and se.max() < 0.01
    # and it can fail: the unknowns drawn given a class from the wrong (uniform) prior,
    # re-scored with the right one, miss the score by more than the tolerance
    wrong = _RobustPlan(p, plan.o, plan.unseen, np.zeros(3))
    _, full, offset, mean = wrong.unknowns(y, x, site, [np.random.default_rng([5, i])
                                                        for i in range(n)])
    resid = np.transpose(full - offset, (1, 0, 2))[:, None] - mean
    cov = p.Sigma if p.per_class else p.Sigma[:, None]
    ll = log_density(resid, cov, p.nu, p.skew) + log_prior[None, :, None]
    bad = np.exp(ll - np.logaddexp.reduce(ll, axis=1, keepdims=True)).mean(axis=0).T
    assert np.any(np.abs(bad.mean(axis=0) - exact) > 4.5 * se)


def _direct_draws(rng, p, x, site, log_prior, n):
    """Class from the prior, markers from the model; also the site offset (unseen: a draw
    from N(0, T), seen: 0).  Parameters of draw 0."""
    k = rng.choice(p.mu.shape[1], size=n, p=np.exp(log_prior))
    cov = p.Sigma[0, k] if p.per_class else np.broadcast_to(p.Sigma[0], (n, 3, 3))
    noise = sample_noise(rng, np.linalg.cholesky(cov), None if p.nu is None else p.nu[0, k],
                         None if p.skew is None else p.skew[0, k])
    loc = p.mu[0, k] + x @ p.B[0]
    if site >= 0:
        return loc + p.u[0, site] + noise, np.zeros((n, 3))
    offset = rng.normal(size=(n, 3)) * p.tau[0]
    return loc + offset + noise, offset


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
@pytest.mark.parametrize("site_index", [1, -1])
def test_conditional_draws_rebuild_the_joint_distribution(distribution, site_index):
    # Draw (class, y) from the model, keep y_o, draw the class and (y_m, u) from the
    # conditionals: the rebuilt markers must follow the model's joint distribution.
    # Compared with an independent set of direct draws by two-sample KS tests (4000 each)
    # of a missing marker, of a contrast of missing and observed markers and, at an
    # unseen site, of the marker minus its site offset; each must have p > 1e-3 (a false
    # alarm has probability 1e-3 per check under the null).  The Gaussian conditional
    # (W = 1, U0 = 0) must be rejected by the same checks (p < 1e-3): the test can fail.
    rng = np.random.default_rng(3)
    p = _random_params(rng, distribution, per_class=True, d=1)
    if distribution == "student_t":
        p = replace(p, nu=np.array([[2.5, 3.0, 4.0]]))
    else:
        p = replace(p, skew=2.5 * np.sign(p.skew))
    n = 4000
    x = np.broadcast_to(rng.normal(size=2), (n, 2)).copy()
    log_prior = np.log([0.2, 0.3, 0.5])
    site = np.full(n, site_index)
    direct, direct_u = _direct_draws(rng, p, x, site_index, log_prior, n)
    given, _ = _direct_draws(rng, p, x, site_index, log_prior, n)
    y = given.copy()
    y[:, 1:] = np.nan                                          # observe marker 0 only
    plan = _plan_for(p, y, site, log_prior)
    rngs = [np.random.default_rng([9, i]) for i in range(n)]
    _, full, offset, _ = plan.unknowns(y, x, site, rngs)
    full, offset = full[:, 0], offset[:, 0]

    def checks(rebuilt, rebuilt_u):
        out = [stats.ks_2samp(rebuilt[:, 1], direct[:, 1]).pvalue,
               stats.ks_2samp(rebuilt[:, 2] - rebuilt[:, 0],
                              direct[:, 2] - direct[:, 0]).pvalue]
        if site_index < 0:
            out.append(stats.ks_2samp(rebuilt[:, 1] - rebuilt_u[:, 1],
                                      direct[:, 1] - direct_u[:, 1]).pvalue)
        return np.array(out)

    assert np.all(checks(full, offset) > 1e-3)
    gaussian = replace(p, nu=None, skew=None)
    wrong = _plan_for(gaussian, y, site, log_prior)
    _, bad, bad_u, _ = wrong.unknowns(y, x, site, rngs)
    assert np.min(checks(bad[:, 0], bad_u[:, 0])) < 1e-3


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_predictive_interval_of_a_complete_patient_at_a_seen_site_is_credible(distribution):
    rng = np.random.default_rng(6)
    p = _random_params(rng, distribution, per_class=True, d=40)
    y = rng.normal(size=(5, 3))
    x = rng.normal(size=(5, 2))
    site = np.array([0, 1, 0, 1, 1])
    log_prior = np.log([0.2, 0.3, 0.5])
    credible = class_probabilities(y, x, site, p, log_prior, interval=0.8)
    low, high = predictive_interval(y, x, site, p, log_prior, interval=0.8, seed=2,
                                    max_draws=None)
    np.testing.assert_allclose(low, credible.low, atol=1e-12)
    np.testing.assert_allclose(high, credible.high, atol=1e-12)
    # with a marker missing the interval is a different (predictive) one, and the same
    # seed gives the same numbers
    y[:, 1] = np.nan
    low, high = predictive_interval(y, x, site, p, log_prior, interval=0.8, seed=2)
    again = predictive_interval(y, x, site, p, log_prior, interval=0.8, seed=2)
    np.testing.assert_array_equal(low, again[0])
    np.testing.assert_array_equal(high, again[1])
    credible = class_probabilities(y, x, site, p, log_prior, interval=0.8)
    assert np.abs(high - credible.high).max() > 1e-2


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_score_cli_gives_predictive_intervals_for_a_robust_fit(distribution, diag_fit,
                                                               diag_test, tmp_path, capsys):
    # A saved robust fit: 200 draws of diag_fit's posterior with nu (Student-t) or lambda
    # (skew-normal) added and the spec's marker_distribution set.  Not a sampled posterior
    # (a fit costs minutes; the Student-t unseen-site quadrature costs seconds per 1000
    # draws): a smoke test of `alsstats score` with the default (predictive) interval.
    import arviz as az

    from alsstats.models.base import write_fit

    post = diag_fit.idata_.posterior.isel(chain=[0], draw=slice(0, 200))
    rng = np.random.default_rng(0)
    shape = (post.sizes["chain"], post.sizes["draw"], post.sizes["class"])
    if distribution == "student_t":
        post = post.assign(nu=(("chain", "draw", "class"), rng.uniform(3, 8, shape)))
    else:
        post = post.assign(skew=(("chain", "draw", "class", "marker"),
                                 0.5 * rng.normal(size=(*shape, post.sizes["marker"]))))
    post.attrs = {**diag_fit.idata_.posterior.attrs,
                  "spec": _spec(distribution).to_json()}
    path = tmp_path / "robust.nc"
    write_fit(az.InferenceData(posterior=post, constant_data=diag_fit.idata_.constant_data),
              path)
    markers = list(diag_fit.spec_.marker_names)
    table = diag_test.dropna(subset=markers).head(12).reset_index(drop=True)
    table.loc[2:5, ["glu_naa", "smn_sma"]] = np.nan
    table.loc[6:8, "site"] = "NEW-SITE"
    data = tmp_path / "patients.csv"
    table.to_csv(data, index=False)
    out = tmp_path / "scores.csv"
    assert main(["score", "--model", str(path), "--data", str(data), "--prevalence",
                 "ALS=0.3,MIMIC=0.3,HC=0.4", "--out", str(out)]) == 0
    scores = pd.read_csv(out)
    assert set(scores["interval"]) == {"predictive"}
    assert np.all((scores["p_als_low"] <= scores["p_als"] + 1e-12)
                  & (scores["p_als"] <= scores["p_als_high"] + 1e-12))
    model = DiagnosticModel.load(path)
    credible = model.predict_posterior(table, prevalence={"ALS": 0.3, "MIMIC": 0.3,
                                                          "HC": 0.4},
                                       interval_kind="credible")
    np.testing.assert_allclose(scores["p_als"], credible["p_als"], rtol=1e-6)
    complete = (scores["n_markers"] == 6) & scores["site_seen"]
    assert complete.sum() >= 3 and (~complete).sum() >= 6
    np.testing.assert_allclose(scores.loc[complete, "p_als_low"],
                               credible.loc[complete, "p_als_low"], rtol=1e-6)
    # missing markers or an unseen site: wider than the credible interval on average
    width = (scores["p_als_high"] - scores["p_als_low"])[~complete]
    assert width.mean() > (credible["p_als_high"] - credible["p_als_low"])[~complete].mean()


# ------------------------------------------------------------------ fits, chosen by LOO
@pytest.fixture(scope="module")
def heavy_tailed_cohort():
    """300 subjects from the diagnostic model with multivariate-t (nu = 3) ALS errors and
    20% missing MRS and fMRI (benchmarks/bench_marker_distribution.py's cohort)."""
    truth = default_truth(default_spec(), seed=1)
    return simulate_diagnostic_cohort(truth, 300, seed=2, heavy_tails={"ALS": 3.0},
                                      missing={"mrs": 0.2, "fmri": 0.2})


@pytest.mark.slow
@pytest.mark.sampling
def test_cli_chooses_student_t_on_heavy_tails(heavy_tailed_cohort, tmp_path):
    # `alsstats choose-distribution` with the default sampler settings (4 chains of 1000):
    # PSIS-LOO prefers the Student-t by far more than 2 SE, and the fitted ALS nu is small.
    data = tmp_path / "cohort.csv"
    heavy_tailed_cohort.to_csv(data, index=False)
    out = tmp_path / "choice.json"
    assert main(["choose-distribution", "--data", str(data), "--seed", "3",
                 "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["chosen"] == "student_t"
    assert result["elpd_difference"] > 2 * result["se_difference"]
    assert all(result["converged"].values())
    table = pd.DataFrame(result["comparison"])
    assert list(table["model"]) == ["student_t", "normal"]
    assert table.loc[1, "d_elpd"] == pytest.approx(result["elpd_difference"])


@pytest.fixture(scope="module")
def student_t_fit(diag_train):
    return DiagnosticModel(spec=_spec("student_t"), seed=7).fit(diag_train)


@pytest.mark.slow
@pytest.mark.sampling
def test_loo_keeps_the_normal_on_the_default_scenario(diag_fit, student_t_fit, diag_train,
                                                      diag_test):
    choice = choice_from_fits({"normal": diag_fit, "student_t": student_t_fit}, diag_train)
    assert choice.chosen == "normal"
    assert choice.difference <= 2 * choice.se
    # the robust fit scores through its own density, with credible and predictive intervals
    scores = student_t_fit.predict_posterior(diag_test, prevalence="training",
                                             interval_kind="credible")
    assert np.all((scores["p_als_low"] <= scores["p_als"])
                  & (scores["p_als"] <= scores["p_als_high"]))
    predictive = student_t_fit.predict_posterior(diag_test, prevalence="training")
    np.testing.assert_allclose(predictive["p_als"], scores["p_als"])
    assert np.all((predictive["p_als_low"] <= predictive["p_als"] + 1e-12)
                  & (predictive["p_als"] <= predictive["p_als_high"] + 1e-12))
    ppc = posterior_predictive_check(student_t_fit, diag_train, n_draws=200, seed=1)
    assert ppc["p_kurtosis"].between(0.0, 1.0).all() and len(ppc) == 18


def test_report_class_means_add_the_skew_normal_mean_shift():
    import xarray as xr

    from alsstats.pipeline.diagnostic import class_means

    rng = np.random.default_rng(0)
    dims = ("chain", "draw", "class", "marker")
    mu = rng.normal(size=(2, 50, 3, 6))
    skew = rng.normal(size=(2, 50, 3, 6))
    posterior = xr.Dataset({"mu": (dims, mu), "skew": (dims, skew)})
    fake = SimpleNamespace(idata_=SimpleNamespace(posterior=posterior),
                           classes_=np.array(["ALS", "MIMIC", "HC"]), spec_=default_spec())
    got = class_means(fake)["mean"].to_numpy().reshape(3, 6)
    np.testing.assert_allclose(got, (mu + skew * np.sqrt(2 / np.pi)).mean(axis=(0, 1)))
    plain = SimpleNamespace(idata_=SimpleNamespace(posterior=posterior[["mu"]]),
                            classes_=fake.classes_, spec_=fake.spec_)
    np.testing.assert_allclose(class_means(plain)["mean"].to_numpy().reshape(3, 6),
                               mu.mean(axis=(0, 1)))
