"""The posterior of the optimal cutoff (binormal model): closed form against a grid, recovery
of a known optimum, agreement with the bootstrap of the empirical optimum."""

from __future__ import annotations

import numpy as np
import pytest

from alsstats.errors import DataValidationError
from alsstats.validation.cutoff_posterior import (
    _se_sp,
    binormal_optimal_cutoff,
    cutoff_posterior,
)

# The M1/precuneus ratio of the default scenario, roughly: ALS lower and wider than non-ALS.
TRUTH = {"mu1": 1.05, "s1": 0.13, "mu0": 1.13, "s0": 0.10}
UTILITIES = [("youden", {}), ("cost", {"cost_fp": 1.0, "cost_fn": 3.0, "prevalence": 0.3}),
             ("fixed-spec", {"specificity": 0.9})]


@pytest.mark.parametrize("utility,kw", UTILITIES)
@pytest.mark.parametrize("direction", ["<", ">"])
def test_closed_form_optimum_equals_grid_search(utility, kw, direction):
    mu1, s1, mu0, s0 = TRUTH["mu1"], TRUTH["s1"], TRUTH["mu0"], TRUTH["s0"]
    if direction == ">":  # mirror: the positive class is higher
        mu1, mu0 = mu0, mu1
    c = float(binormal_optimal_cutoff(mu1, s1, mu0, s0, direction=direction, utility=utility,
                                      **kw))
    grid = np.linspace(0.5, 1.7, 240_001)  # step 5e-6
    se, sp = _se_sp(grid, mu1, s1, mu0, s0, direction)
    if utility == "youden":
        best = grid[np.argmax(se + sp)]
    elif utility == "cost":
        best = grid[np.argmin(kw["cost_fn"] * kw["prevalence"] * (1 - se)
                              + kw["cost_fp"] * (1 - kw["prevalence"]) * (1 - sp))]
    else:
        best = grid[np.argmin(np.abs(sp - kw["specificity"]))]
    assert c == pytest.approx(best, abs=1e-5)  # the grid's step


def test_equal_sds_give_the_midpoint_and_no_optimum_is_nan():
    assert float(binormal_optimal_cutoff(0.0, 1.0, 2.0, 1.0, direction="<")) == \
        pytest.approx(1.0, abs=1e-12)
    # unequal SDs and a likelihood ratio that never reaches K: no finite optimum
    c = binormal_optimal_cutoff(0.0, 1.0, 0.0, 1.5, direction="<", utility="cost",
                                cost_fp=1e3, cost_fn=1.0, prevalence=0.5)
    assert np.isnan(c)


def _binormal(rng, n1, n0):
    x = np.r_[rng.normal(TRUTH["mu1"], TRUTH["s1"], n1), rng.normal(TRUTH["mu0"], TRUTH["s0"],
                                                                   n0)]
    return np.r_[np.ones(n1, bool), np.zeros(n0, bool)], x


def test_posterior_recovers_known_youden_cutoff_with_calibrated_intervals():
    """200 binormal data sets (100 ALS, 80 not): the 95% posterior interval of the Youden
    cutoff covers the true optimum in >= 90% (expected ~95%: the noninformative prior's
    intervals are close to frequentist ones; MC SE 0.015 at 0.95, so 0.90 is 3.3 SE away)."""
    true_c = float(binormal_optimal_cutoff(TRUTH["mu1"], TRUTH["s1"], TRUTH["mu0"], TRUTH["s0"],
                                           direction="<"))
    rng = np.random.default_rng(11)
    hits, medians = [], []
    for rep in range(200):
        y, x = _binormal(rng, 100, 80)
        r = cutoff_posterior(y, x, n_draws=1000, n_boot=0, seed=rep)
        row = r.row("posterior")
        hits.append(row["lower"] <= true_c <= row["upper"])
        medians.append(row["median"])
    assert np.mean(hits) >= 0.90
    # the posterior median is close to unbiased: mean error within 3 MC SEs of 0
    err = np.asarray(medians) - true_c
    assert abs(err.mean()) < 3 * err.std(ddof=1) / np.sqrt(err.size)


def test_posterior_and_bootstrap_side_by_side_and_reference_probability():
    rng = np.random.default_rng(3)
    y, x = _binormal(rng, 300, 300)
    r = cutoff_posterior(y, x, n_draws=4000, n_boot=300, delta=0.05, seed=4)
    post, boot = r.row("posterior"), r.row("bootstrap")
    true_c = float(binormal_optimal_cutoff(TRUTH["mu1"], TRUTH["s1"], TRUTH["mu0"], TRUTH["s0"],
                                           direction="<"))
    # both centre on the truth (0.05 = several posterior SDs at n = 600, ~0.01 here)
    assert abs(post["median"] - true_c) < 0.05 and abs(boot["median"] - true_c) < 0.05
    # the model-based posterior is narrower than the bootstrap of the empirical optimum
    assert post["sd"] < boot["sd"]
    p = np.mean(np.abs(r.posterior_draws - 1.0) < 0.05)
    assert post["prob_within"] == pytest.approx(p, abs=1e-15)
    again = cutoff_posterior(y, x, n_draws=4000, n_boot=300, delta=0.05, seed=4)
    np.testing.assert_array_equal(again.posterior_draws, r.posterior_draws)
    assert "posterior_draws" not in r.to_dict()


def test_log_transform_gives_the_cutoff_on_the_marker_scale():
    rng = np.random.default_rng(5)
    y, x = _binormal(rng, 80, 80)
    lin = cutoff_posterior(y, np.log(x) + 3.0, n_draws=500, n_boot=0, seed=1)
    log = cutoff_posterior(y, np.exp(np.log(x) + 3.0), transform="log", n_draws=500,
                           n_boot=0, seed=1, reference=1.0)
    np.testing.assert_allclose(np.log(log.posterior_draws), lin.posterior_draws, rtol=1e-12)


def test_bad_arguments():
    y, x = _binormal(np.random.default_rng(1), 20, 20)
    with pytest.raises(DataValidationError, match="prevalence"):
        cutoff_posterior(y, x, utility="cost")
    with pytest.raises(DataValidationError, match="direction"):
        cutoff_posterior(y, x, direction="auto")
    with pytest.raises(DataValidationError, match="> 0"):
        cutoff_posterior(y, x - 2.0, transform="log")


def test_cli_cutoff_posterior(tmp_path, capsys):
    import json

    import pandas as pd

    from alsstats.cli import main

    y, x = _binormal(np.random.default_rng(7), 60, 60)
    path = tmp_path / "t.csv"
    pd.DataFrame({"als": y.astype(int), "ratio": x}).to_csv(path, index=False)
    argv = ["cutoff", str(path), "--outcome", "als", "--marker", "ratio", "--direction", "<",
            "--n-boot", "50", "--seed", "1", "--posterior"]
    assert main([*argv, "--json"]) == 0
    post = json.loads(capsys.readouterr().out)["posterior"]
    rows = {r["method"]: r for r in post["summary"]}
    direct = cutoff_posterior(y, x, n_boot=50, seed=1, name="ratio")
    assert rows["posterior"]["median"] == pytest.approx(direct.row("posterior")["median"])
    assert main(["cutoff", str(path), "--outcome", "als", "--marker", "ratio", "--n-boot", "50",
                 "--seed", "1", "--posterior"]) == 1  # direction 'auto': refused
    assert "--posterior needs --direction" in capsys.readouterr().err
