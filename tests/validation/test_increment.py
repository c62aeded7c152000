"""Added value of markers: NRI, IDI, net benefit against references; the CV driver.

References: Pencina et al. (2008) worked example (counts -> NRI and z), and values computed
by a plain R script from the formulas (``tests/data/increment/``).  The slow tier checks
that intervals cover 0 for a marker without information (scenario ``null_smn``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alsstats.errors import DataValidationError
from alsstats.simulate import simulate_cohort
from alsstats.validation import decision_curve
from alsstats.validation.increment import _apparent, _fit_predict, increment
from alsstats.validation.optimism import optimism_corrected
from alsstats.validation.reclassification import (
    incremental_value,
    integrated_discrimination,
    net_reclassification,
)
from tests.conftest import TEST_DATA

REF = TEST_DATA / "increment"


def _pencina_2008():
    """Predictions that reproduce the published HDL reclassification counts (categories
    <6%, 6-20%, >=20%): events 29 up, 7 down of 183; non-events 173 up, 174 down of 3081."""
    def group(up, down, n):
        old = np.full(n, 0.10)
        new = np.r_[np.full(up, 0.25), np.full(down, 0.03), np.full(n - up - down, 0.12)]
        return old, new

    oe, ne = group(29, 7, 183)
    on, nn = group(173, 174, 3081)
    return np.r_[np.ones(183), np.zeros(3081)], np.r_[oe, on], np.r_[ne, nn]


def test_nri_reproduces_pencina_2008_worked_example():
    y, old, new = _pencina_2008()
    r = net_reclassification(y, old, new, categories=(0.06, 0.20))
    assert (r.events_up, r.events_down, r.nonevents_up, r.nonevents_down) == (29, 7, 173, 174)
    # published: NRI 12.1% and z = 3.616 (rounded as printed in the paper)
    assert round(100 * r.nri, 1) == 12.1
    assert round(r.z, 3) == 3.616
    assert r.nri == pytest.approx(22 / 183 + 1 / 3081, abs=1e-15)  # exact from the counts


@pytest.fixture(scope="module")
def r_reference():
    data = pd.read_csv(REF / "predictions.csv")
    ref = pd.read_csv(REF / "reference.csv").set_index("metric")["value"]
    return data, ref


def test_nri_idi_brier_log_score_match_plain_r(r_reference):
    data, ref = r_reference
    iv = incremental_value(data["y"], data["p_old"], data["p_new"], categories=(0.25, 0.75),
                           n_boot=200, seed=1)
    for metric in ("nri_categorical", "nri_categorical_events", "nri_categorical_nonevents",
                   "nri_continuous", "nri_continuous_events", "nri_continuous_nonevents",
                   "idi", "delta_brier", "delta_log_score"):
        # same arithmetic on the same stored decimals: agreement to rounding error
        assert iv.row(metric)["estimate"] == pytest.approx(ref[metric], abs=1e-12), metric
    assert integrated_discrimination(data["y"], data["p_old"], data["p_new"]) == \
        pytest.approx(ref["idi"], abs=1e-12)


def test_net_benefit_matches_plain_r_and_decision_curve(r_reference):
    data, ref = r_reference
    thr = np.arange(1, 10) / 10
    iv = incremental_value(data["y"], data["p_old"], data["p_new"], thresholds=thr,
                           n_boot=200, seed=1)
    nb = iv.net_benefit.set_index("threshold")
    for t in thr:
        assert nb.loc[t, "net_benefit_old"] == pytest.approx(ref[f"net_benefit_old@{t:g}"],
                                                             abs=1e-12)
        assert nb.loc[t, "net_benefit_new"] == pytest.approx(ref[f"net_benefit_new@{t:g}"],
                                                             abs=1e-12)
        assert nb.loc[t, "delta"] == pytest.approx(
            ref[f"net_benefit_new@{t:g}"] - ref[f"net_benefit_old@{t:g}"], abs=1e-12)
    dca = decision_curve(data["y"], data["p_new"], thresholds=thr).curve
    np.testing.assert_allclose(dca["net_benefit"], nb["net_benefit_new"], atol=1e-12)


def test_bootstrap_intervals_contain_estimate_and_repeat_with_seed(r_reference):
    data, _ = r_reference
    a = incremental_value(data["y"], data["p_old"], data["p_new"], n_boot=300, seed=5)
    b = incremental_value(data["y"], data["p_old"], data["p_new"], n_boot=300, seed=5)
    pd.testing.assert_frame_equal(a.table, b.table)
    boot = a.table[a.table["interval"] == "bootstrap"]
    assert ((boot["lower"] <= boot["estimate"] + 1e-12)
            & (boot["estimate"] <= boot["upper"] + 1e-12)).all()
    # the same model compared with itself: every difference is exactly 0
    same = incremental_value(data["y"], data["p_old"], data["p_old"], n_boot=100, seed=1)
    diffs = same.table[same.table["metric"] != "auc_old"]
    diffs = diffs[diffs["metric"] != "auc_new"]
    assert np.allclose(diffs[["estimate", "lower", "upper"]].to_numpy(float), 0.0)


def test_bad_inputs_are_reported():
    with pytest.raises(DataValidationError, match="categories"):
        incremental_value([0, 1, 0, 1], [.1, .2, .3, .4], [.2, .3, .4, .5],
                          categories=(0.7, 0.3))
    with pytest.raises(DataValidationError, match=r"\[0, 1\]"):
        net_reclassification([0, 1], [0.2, 1.3], [0.1, 0.2])


def test_newton_logistic_equals_sklearn():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 3)) * [1, 5, 0.1] + [0, 10, 1]
    y = (X @ [1.0, 0.1, 0.0] + rng.logistic(size=150)) > 1
    Xt = rng.normal(size=(20, 3))
    ref = make_pipeline(StandardScaler(), LogisticRegression(tol=1e-10)).fit(X, y)
    # both solve the same penalised likelihood; the gap is L-BFGS's tolerance
    np.testing.assert_allclose(_fit_predict(X, y, Xt), ref.predict_proba(Xt)[:, 1], atol=1e-7)


@pytest.fixture(scope="module")
def cohort():
    data, _ = simulate_cohort("default", seed=3)
    return data


def test_increment_on_default_cohort(cohort):
    r = increment(cohort, added=[["glu_naa", "glu_gaba"], "smn_sma"], n_repeats=2, n_boot=100,
                  seed=1)
    assert r.added == [["glu_naa", "glu_gaba"], ["smn_sma"]]
    assert set(r.table["population"]) == {"all", "with_added"}
    # subjects without NfL are excluded and counted; the rest is the cohort's baseline
    n_base = cohort[cohort["visit"] == 0]["nfl_pg_ml"].notna().sum()
    assert r.n_subjects == n_base
    assert r.n_subjects + r.n_excluded_missing_base == cohort["subject_id"].nunique()
    # a subject without any added marker keeps her base prediction exactly
    p = r.predictions
    base = cohort[cohort["visit"] == 0].set_index("subject_id").loc[p["subject_id"]]
    none = base[["glu_naa", "glu_gaba"]].isna().all(axis=1).to_numpy()
    assert none.any()
    np.testing.assert_array_equal(p.loc[none, "p_glu_naa+glu_gaba"], p.loc[none, "p_base"])
    # the 'with_added' population is the subjects with every added marker
    full = base[["glu_naa", "glu_gaba"]].notna().all(axis=1).sum()
    t = r.table.set_index(["added", "population", "metric"])
    assert t.loc[("glu_naa+glu_gaba", "with_added", "delta_auc"), "n"] == full
    # the MRS ratios carry information in the generator (Glu up, NAA and GABA down in ALS):
    # the log score improves out of fold, beyond the refit bootstrap's interval
    row = t.loc[("glu_naa+glu_gaba", "all", "delta_log_score")]
    assert row["interval"] == "refit bootstrap" and row["lower"] > 0
    # the DeLong interval (predictions fixed) is kept beside the refit interval
    dl = t.loc[("glu_naa+glu_gaba", "all", "delta_auc_delong")]
    assert dl["interval"] == "delong"
    assert dl["estimate"] == t.loc[("glu_naa+glu_gaba", "all", "delta_auc"), "estimate"]
    # Δ net benefit in its own table carries the same refit intervals
    nb = r.net_benefit.set_index(["added", "population", "threshold"])
    assert nb.loc[("smn_sma", "all", 0.5), "lower"] == \
        t.loc[("smn_sma", "all", "delta_net_benefit@0.5"), "lower"]
    d = r.to_dict()
    assert "predictions" not in d and d["optimism_correction"].startswith("repeated")
    # same seed, same numbers; and a set's result does not depend on the other sets asked for
    again = increment(cohort, added=["smn_sma"], n_repeats=2, n_boot=100, seed=1)
    pd.testing.assert_frame_equal(r.table[r.table["added"] == "smn_sma"].reset_index(drop=True),
                                  again.table)


def test_increment_rejects_bad_sets(cohort):
    with pytest.raises(DataValidationError, match="base marker"):
        increment(cohort, added=[["nfl_pg_ml"]])
    with pytest.raises(DataValidationError, match="no marker column"):
        increment(cohort, added=[["not_a_column"]])


def test_optimism_corrected_by_hand():
    """Harrell's estimate and the location-shifted interval on numbers done by hand."""
    boot_app = np.c_[0.10 + 0.01 * np.arange(20), np.arange(20.0)]
    boot_orig = np.c_[0.05 + 0.01 * np.arange(20), np.arange(20.0) - 2.0]
    boot_app = np.r_[boot_app, [[np.nan, 0.0]]]  # a failed replicate is dropped
    boot_orig = np.r_[boot_orig, [[0.0, 0.0]]]
    est, lo, hi, opt = optimism_corrected(np.array([0.30, 5.0]), boot_app, boot_orig, 0.05)
    np.testing.assert_allclose(opt, [0.05, 2.0])  # mean(θ* − θ*_orig)
    np.testing.assert_allclose(est, [0.25, 3.0])  # θ_app − optimism
    # percentiles of θ* (numpy's linear rule: positions 0.475 and 18.525 of 0..19), shifted
    np.testing.assert_allclose(lo, [0.10475 - 0.05, 0.475 - 2.0])
    np.testing.assert_allclose(hi, [0.28525 - 0.05, 18.525 - 2.0])
    few = optimism_corrected(np.array([0.3]), boot_app[:19, :1], boot_orig[:19, :1], 0.05)
    assert np.isnan(few).all()


def _sklearn_apparent(data):
    """IDI and continuous NRI of SMN over NfL fitted to every subject, by scikit-learn: the
    base model on all subjects (C = 1), the model with SMN on those who have it with the
    same penalty per subject (C = n / n_SMN)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    b = data[(data["visit"] == 0) & data["nfl_pg_ml"].notna()]
    y = b["group"].isin(["ALS", "PMA"]).to_numpy()
    X = np.c_[np.log(b["nfl_pg_ml"]), b["smn_sma"]]
    has = ~np.isnan(X[:, 1])

    def fit(C):
        return make_pipeline(StandardScaler(), LogisticRegression(C=C, tol=1e-12))

    p_old = fit(1.0).fit(X[:, :1], y).predict_proba(X[:, :1])[:, 1]
    p_new = p_old.copy()
    p_new[has] = fit(y.size / has.sum()).fit(X[has], y[has]).predict_proba(X[has])[:, 1]
    out = {}
    for pop, m in (("all", np.ones(y.size, bool)), ("with_added", has)):
        out[(pop, "idi")] = integrated_discrimination(y[m], p_old[m], p_new[m])
        out[(pop, "nri_continuous")] = net_reclassification(y[m], p_old[m], p_new[m]).nri
    return out


def test_idi_and_continuous_nri_are_harrell_corrected():
    """The reported IDI and continuous NRI are the apparent values (models fitted to every
    subject, recomputed here with scikit-learn) minus the reported optimism; the interval
    is location-shifted by the same optimism; the other metrics stay out of fold."""
    data, _ = simulate_cohort("null_smn", seed=10_000)
    r = increment(data, added=["smn_sma"], n_repeats=1, n_boot=100, seed=0)
    t = r.table.set_index(["population", "metric"])
    for key, apparent in _sklearn_apparent(data).items():
        row = t.loc[key]
        assert row["estimator"] == "optimism bootstrap"
        assert row["interval"] == "location-shifted bootstrap"
        # Newton-Raphson vs L-BFGS on the same penalised likelihood; a continuous-NRI
        # sign flip of one subject would move it by >= 1/n
        assert row["estimate"] + row["optimism"] == pytest.approx(apparent, abs=1e-6), key
        assert row["lower"] <= row["estimate"] <= row["upper"] or np.isnan(row["lower"])
    assert t.loc[("all", "delta_auc"), "estimator"] == "out of fold"
    assert np.isnan(t.loc[("all", "delta_auc"), "optimism"])
    assert "optimism bootstrap" in r.optimism_correction and "Harrell" in r.intervals


def test_null_marker_apparent_idi_is_not_biased_below_zero():
    """With the same penalty per subject in the base model (all subjects) and the pattern
    submodel (the subjects with SMN), an uninformative marker's apparent IDI and continuous
    NRI in the subjects who have it are >= 0 on average (in-sample optimism, which the
    bootstrap then removes).  With C = 1 for both (the subset's model shrunk more) they
    were negative: mean IDI -0.0056, continuous NRI -0.23 on these 40 cohorts, which drove
    the IDI/continuous-NRI intervals of the null study below 0."""
    from alsstats.validation.reclassification import _check_cuts

    cuts, thr = _check_cuts((0.25, 0.75), "c"), _check_cuts((0.5,), "t")
    vals = []
    for rep in range(40):
        data, _ = simulate_cohort("null_smn", seed=20_000 + rep)
        b = data[(data["visit"] == 0) & data["nfl_pg_ml"].notna()]
        y = b["group"].isin(["ALS", "PMA"]).to_numpy()
        X = np.c_[np.log(b["nfl_pg_ml"]), b["smn_sma"]]
        has = ~np.isnan(X[:, 1])
        vals.append(_apparent(X, y, [[0, 1]], [has], 1, cuts, thr)[0][1][[1, 3]])
    nri, idi = np.mean(vals, axis=0)
    assert idi > 0 and nri > -0.05, (idi, nri)


def _null_replicate(rep: int) -> pd.DataFrame:
    """One cohort of scenario null_smn, SMN added to NfL: each interval and whether it
    contains 0."""
    data, _ = simulate_cohort("null_smn", seed=10_000 + rep)
    r = increment(data, added=["smn_sma"], n_repeats=5, n_boot=200, seed=rep)
    t = r.table[r.table["interval"] != "none"]
    return t.assign(rep=rep, cover=(t["lower"] <= 0) & (t["upper"] >= 0))


@pytest.mark.slow
def test_uninformative_marker_intervals_cover_zero():
    """200 cohorts of scenario null_smn (SMN ~ N(0, 1) in every stratum, uncorrelated), SMN
    added to NfL (logistic, 5 folds x 5 repeats, 200 refit bootstraps; about 7 minutes of
    CPU, run in 4 processes; every replicate is seeded, so the result does not depend on
    the processes).

    Measured (benchmarks/RESULTS.md, "Null study", part 3; Monte Carlo SE of an observed
    coverage p: sqrt(p (1 - p) / 200), 0.015 at p = 0.95, 0.018 at 0.93, 0.007 at 0.99):
    the refit-bootstrap percentile intervals of ΔAUC, Δ Brier, Δ log score, Δ net benefit
    and the categorical NRI cover 0 in 0.985-1.000 of the cohorts, and Harrell's
    optimism-corrected IDI with the location-shifted interval in 0.960 (both populations):
    asserted >= 0.95, the issue's criterion on the observed proportion.  NOT met: the
    continuous NRI (0.935 'all', 0.930 'with_added'), its event and non-event parts
    (0.940, 0.930) and the IDI's non-event part (0.935); for these the test guards the
    measured level at >= 0.90 (about 2 MC SEs below it) so that a regression is seen, and
    claims no 95%.  The DeLong interval with the predictions held fixed
    (``delta_auc_delong``, 0.655-0.860) is printed, not asserted.
    """
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(4) as pool:
        rows = pool.map(_null_replicate, range(200), chunksize=5)
    cover = pd.concat(rows).groupby(["population", "metric", "interval"])["cover"].mean()
    print(cover.to_string())
    asserted = cover.drop("delong", level="interval")
    assert asserted.groupby(level="population").size().to_dict() == {"all": 21,
                                                                       "with_added": 21}
    metric = asserted.index.get_level_values("metric")
    short = metric.str.startswith("nri_continuous") | (metric == "idi_nonevents")
    assert (asserted[~short] >= 0.95).all(), asserted[~short][asserted[~short] < 0.95]
    assert (asserted[short] >= 0.90).all(), asserted[short][asserted[short] < 0.90]


@pytest.mark.slow
@pytest.mark.sampling
def test_bayesian_model_path(cohort):
    """The Bayesian diagnostic model as the model class (short chains: a smoke test of the
    plumbing, so a fit that misses the convergence policy is allowed here)."""
    import warnings

    from alsstats.errors import ConvergenceWarning
    from alsstats.models.diagnostic import DiagnosticModel

    model = DiagnosticModel(draws=300, tune=300, chains=2, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        r = increment(cohort, added=[["glu_naa", "glu_gaba"]], model=model, n_folds=3,
                      n_repeats=1, n_boot=200, seed=1)
    assert r.model.startswith("bayes") and r.intervals.startswith("predictions held fixed")
    p = r.predictions
    assert p["p_base"].between(0, 1).all() and p["p_glu_naa+glu_gaba"].between(0, 1).all()
    t = r.table.set_index(["population", "metric"])
    # NfL alone separates ALS from the rest out of fold; the MRS ratios add to it
    assert t.loc[("all", "auc_old"), "estimate"] > 0.8
    assert "delta_auc_delong" not in r.table["metric"].to_numpy()
    assert t.loc[("all", "delta_auc"), "interval"] == "delong"
