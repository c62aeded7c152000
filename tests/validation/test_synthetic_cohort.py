"""The validation harness on the default synthetic cohort, checked against the generator's truth.

Question of the biostatisticians: is 1.00 the right M1/precuneus cutoff, how sure are we, and
does it hold up out of sample?  Comparison: ALS clinically probable/definite (the scenario's
``ALS_established`` stratum) vs healthy controls, baseline visits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from alsstats.simulate import simulate_cohort
from alsstats.validation import (
    CutoffClassifier,
    cross_validate,
    delong_ci,
    validate_cutoff,
)

MARKERS = ("m1_precuneus_ratio", "nfl_pg_ml", "glu_naa", "smn_sma", "chi3l1_ng_ml")


def _als_vs_hc(data: pd.DataFrame) -> pd.DataFrame:
    base = data[data["visit"] == 0]
    als = (base["group"] == "ALS") & base["el_escorial"].isin(["probable", "definite"])
    keep = als | (base["group"] == "HC")
    return base[keep].assign(y=als[keep])


@pytest.fixture(scope="module")
def cohort():
    data, truth = simulate_cohort("default", seed=1)
    return _als_vs_hc(data), truth


@pytest.fixture(scope="module")
def population_aucs():
    """Each marker's AUC in a large cohort from the same scenario (3000 per stratum, seed 99):
    the generator's population value up to a DeLong SE of about 0.01."""
    data, _ = simulate_cohort("default", seed=99, n_per_group=3000)
    big = _als_vs_hc(data)
    out = {}
    for m in MARKERS:
        ok = big[m].notna()
        out[m] = delong_ci(big.loc[ok, "y"], big.loc[ok, m]).auc
    return out


def _ratio_truth(truth):
    """Scenario's baseline ratio distributions (identity scale: (mean, total SD))."""
    als = truth.scenario.strata["ALS_established"].markers["ratio"]
    hc = truth.scenario.strata["HC"].markers["ratio"]
    return als, hc


def test_prespecified_ratio_cutoff_covers_true_accuracy(cohort):
    df, truth = cohort
    (mu1, sd1), (mu0, sd0) = _ratio_truth(truth)
    ok = df["m1_precuneus_ratio"].notna()
    v = validate_cutoff(df.loc[ok, "y"], df.loc[ok, "m1_precuneus_ratio"], 1.00, direction="<",
                        delta=0.05, n_boot=400, seed=3, sites=df.loc[ok, "site"],
                        name="m1_precuneus_ratio")
    assert v.rule == "positive if m1_precuneus_ratio < 1"
    true_sens = stats.norm.cdf((1.00 - mu1) / sd1)   # Φ((1 − 1.03)/0.14) ≈ 0.415
    true_spec = stats.norm.sf((1.00 - mu0) / sd0)    # 1 − Φ((1 − 1.13)/0.10) ≈ 0.903
    for interval in ("wilson", "exact"):
        _, lo, hi = v.performance.get("sensitivity", interval)
        assert lo < true_sens < hi
        _, lo, hi = v.performance.get("specificity", interval)
        assert lo < true_spec < hi
    true_lr_pos = true_sens / (1 - true_spec)
    _, lo, hi = v.performance.get("lr_pos", "log")
    assert lo < true_lr_pos < hi
    assert len(v.by_site) == truth.scenario.n_sites and len(v.by_fold) == 5
    assert 0 <= v.prob_within_delta <= 1 and v.prob_within_delta_se < 0.03


def test_youden_cutoff_bootstrap_covers_true_optimum(cohort):
    df, truth = cohort
    (mu1, sd1), (mu0, sd0) = _ratio_truth(truth)

    def neg_j(c):  # −(Se + Sp − 1) for the rule ratio < c
        return -(stats.norm.cdf((c - mu1) / sd1) - stats.norm.cdf((c - mu0) / sd0))

    true_cut = optimize.minimize_scalar(neg_j, bounds=(mu1, mu0), method="bounded").x
    ok = df["m1_precuneus_ratio"].notna()
    v = validate_cutoff(df.loc[ok, "y"], df.loc[ok, "m1_precuneus_ratio"], 1.00, direction="<",
                        n_boot=400, seed=4, n_folds=None)
    boot = v.stability.summary.set_index("quantity").loc["cutoff"]
    assert boot["lower"] < true_cut < boot["upper"]
    assert v.stability.n_failed == 0 and v.optimal.direction == "<"
    # out-of-bag accuracy of the Youden procedure is not optimistic: its J stays below the
    # true J at the true optimum plus 3 bootstrap SEs (in-bag J would be biased upward)
    oob = v.stability.summary.set_index("quantity")
    true_j = -neg_j(true_cut)
    se_j = np.hypot(oob.loc["oob_sensitivity", "sd"], oob.loc["oob_specificity", "sd"])
    assert oob.loc["oob_sensitivity", "mean"] + oob.loc["oob_specificity", "mean"] - 1 \
        < true_j + 3 * se_j


@pytest.mark.parametrize("marker", MARKERS)
def test_cross_validated_auc_of_each_marker_near_population_value(cohort, population_aucs,
                                                                   marker):
    df, _ = cohort
    ok = df[marker].notna()
    sub = df[ok]
    res = cross_validate(CutoffClassifier(), sub[[marker]], sub["y"],
                         groups=sub["subject_id"], n_folds=4, n_repeats=5, seed=7)
    cv_auc = res.summary.set_index("quantity").loc["auc", "mean"]
    se = delong_ci(sub["y"], sub[marker]).se  # sampling SE of this one cohort's AUC
    assert abs(cv_auc - population_aucs[marker]) < 3 * se + 0.02, (cv_auc,
                                                                   population_aucs[marker])


def test_grouped_cv_over_all_visits_never_splits_a_subject():
    data, _ = simulate_cohort("default", seed=1)
    als = (data["group"] == "ALS") & data["el_escorial"].isin(["probable", "definite"])
    rows = data[(als | (data["group"] == "HC")) & data["m1_precuneus_ratio"].notna()]
    y = (rows["group"] == "ALS").to_numpy()
    res = cross_validate(CutoffClassifier(direction="<"), rows[["m1_precuneus_ratio"]], y,
                         groups=rows["subject_id"], n_folds=5, n_repeats=2, seed=1)
    assert res.n_rows > res.n_subjects  # repeated visits were used, grouped by subject
    assert res.splits["n_test"].sum() == 2 * len(rows)
