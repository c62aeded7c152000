"""Model criticism on the session fit: PPC p-values, PSIS-LOO, likelihood identity."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from alsstats.models.diagnostic.criticism import (
    class_log_likelihoods,
    classification_loo,
    compare_marker_sets,
    loo,
    posterior_predictive_check,
)

pytestmark = pytest.mark.sampling


def test_class_log_likelihoods_equal_scipy(diag_fit, diag_train):
    loglik, labels = class_log_likelihoods(diag_fit, diag_train)
    assert loglik.shape == (4000, 3, len(diag_train)) and len(labels) == len(diag_train)
    post = diag_fit.posterior_parameters()
    std = diag_fit.standardization_
    spec = diag_fit.spec_
    for i in (0, 5, 17):
        r = diag_train.iloc[i]
        raw = np.array([np.log(r[m.name]) if m.transform == "log" else r[m.name]
                        for m in spec.markers], float)
        y = (raw - std.center) / std.scale
        o = np.flatnonzero(np.isfinite(y))
        x = np.array([(r["age"] - std.age_center) / 10, 0.5 if r["sex"] == "M" else -0.5])
        s = diag_fit.sites_.index(r["site"])
        for d in (0, 999):
            for k in range(3):
                loc = post.mu[d, k, o] + x @ post.B[d][:, o] + post.u[d, s, o]
                cov = post.Sigma[d, k] if post.per_class else post.Sigma[d]
                want = stats.multivariate_normal(loc, cov[np.ix_(o, o)]).logpdf(y[o])
                assert loglik[d, k, i] == pytest.approx(want, rel=1e-9)


def test_ppc_means_fit_and_a_shifted_cohort_is_flagged(diag_fit, diag_train):
    ppc = posterior_predictive_check(diag_fit, diag_train, n_draws=400, seed=1)
    assert len(ppc) == 3 * 6
    # Class means are fitted parameters: their p-values must not be extreme.
    assert ppc["p_mean"].between(0.01, 0.99).all(), ppc
    shifted = diag_train.assign(nfl_pg_ml=diag_train["nfl_pg_ml"] * 3.0)
    bad = posterior_predictive_check(diag_fit, shifted, n_draws=400, seed=1)
    nfl = bad[bad["marker"] == "nfl_pg_ml"]
    assert (nfl["p_mean"] == 0.0).all()    # observed far above every replicate


def test_ppc_kurtosis_flags_heavy_tails_at_the_same_sd(diag_fit, diag_train):
    """HC log-NfL replaced by a heavy-tailed sample with the observed mean and SD."""
    hc = ((diag_train["group"] == "HC") & diag_train["nfl_pg_ml"].notna()).to_numpy()
    log_nfl = np.log(diag_train.loc[hc, "nfl_pg_ml"].to_numpy())
    t = stats.t(df=2.5).rvs(size=hc.sum(), random_state=np.random.default_rng(4))
    heavy = log_nfl.mean() + (t - t.mean()) / t.std(ddof=1) * log_nfl.std(ddof=1)
    table = diag_train.copy()
    table.loc[hc, "nfl_pg_ml"] = np.exp(heavy)
    ppc = posterior_predictive_check(diag_fit, table, n_draws=400, seed=1)
    row = ppc[(ppc["class"] == "HC") & (ppc["marker"] == "nfl_pg_ml")].iloc[0]
    assert row["observed_kurtosis"] > 2.0, row
    assert row["p_kurtosis"] < 0.02, row
    assert 0.02 < row["p_sd"] < 0.98, row      # the SD alone would not show it


def test_loo_and_classification_loo(diag_fit, diag_train):
    res = loo(diag_fit, diag_train)
    assert np.isfinite(res.elpd_loo) and res.n_data_points == len(diag_train)
    cls = classification_loo(diag_fit, diag_train)
    assert cls["n"] == len(diag_train)
    # Leaving a subject out can only cost: the LOO log score is below the in-sample one,
    # log of the posterior-mean P(own class | markers).
    loglik, labels = class_log_likelihoods(diag_fit, diag_train)
    joint = loglik + np.log(diag_fit.prior_probabilities())[None, :, None]
    idx = np.arange(len(labels))
    log_post = joint[:, labels, idx] - logsumexp(joint, axis=1)
    in_sample = logsumexp(log_post, axis=0) - np.log(len(log_post))
    assert cls["elpd"] < in_sample.sum()
    # Well-specified, 300 subjects: the PSIS estimates are reliable.  The maximum of 300
    # Pareto k estimates is itself noisy (0.716 for one subject after a change that left
    # the log-density identical to 1e-14 and only moved the draws), so the check is that
    # at most 1% of subjects exceed 0.7 and none exceeds 1 (Vehtari et al. 2024).
    k = np.asarray(cls["pareto_k"])
    assert (k > 0.7).sum() <= 3 and k.max() < 1.0, np.sort(k)[-5:]
    # Better than guessing with the prior alone.
    prior = np.log(diag_fit.prior_probabilities("training"))
    labels = class_log_likelihoods(diag_fit, diag_train)[1]
    assert cls["elpd"] > prior[labels].sum()
    table = compare_marker_sets({"all": diag_fit}, diag_train)
    assert table.loc[0, "elpd_diff"] == 0.0




def test_pareto_k_above_0_7_warns_once():
    from alsstats.errors import ParetoKWarning
    from alsstats.models.diagnostic.criticism import _warn_pareto_k

    with pytest.warns(ParetoKWarning, match=r"loo: 1 of 3 subjects have Pareto k > 0.7 "
                                            r"\(max 0.91\)"):
        _warn_pareto_k(np.array([0.2, 0.91, 0.69]), "loo")
