"""REML/ML longitudinal fits that can be trusted: any scaling, singular fits reported,
exact subject draws, group-specific random-effect covariances, log-outcome percentages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import linalg

from alsstats.cli import main
from alsstats.errors import SpecError
from alsstats.models.lmm.engine import fit_lmm
from alsstats.models.longitudinal.data import Columns, prepare_long_data
from alsstats.models.longitudinal.model import LongitudinalModel
from alsstats.models.longitudinal.reml import RemlLayout
from alsstats.models.longitudinal.spec import LongitudinalSpec
from alsstats.simulate import simulate_cohort

LME4 = Path(__file__).resolve().parents[1] / "data" / "lme4"
GM = {"outcome": "total_gm_volume_mm3", "subject": "subject_id", "group": "group",
      "covariates": (), "site": "site"}


@pytest.fixture(scope="module")
def gray_matter():
    # Default scenario, seed 1: in months with --site the former engine stopped at a
    # boundary (slope–intercept correlation −1, slope SD 9.3 mm³/month, log-likelihood
    # 6.6 units below the optimum) and reported converged; in years it fitted correctly.
    d, _ = simulate_cohort("default", seed=1)
    d = d.dropna(subset=["total_gm_volume_mm3"])
    return d.assign(months=d["years_from_baseline"] * 12.0)


@pytest.fixture(scope="module")
def gm_fits(gray_matter):
    months = LongitudinalModel(method="reml", time="months", seed=0, **GM).fit(gray_matter)
    years = LongitudinalModel(method="reml", time="years_from_baseline", seed=0,
                              **GM).fit(gray_matter)
    return months, years


def test_gray_matter_in_months_with_site_is_the_exact_rescaling_of_years(gm_fits):
    months, years = (m.lmm_ for m in gm_fits)
    assert not months.singular and months.converged
    G = 4                                         # slope columns rescaled by 12
    scale = np.ones(len(years.fixed))
    scale[G:2 * G] = 1.0 / 12.0
    # equal to the optimiser's precision: differences below 1e-4 standard errors
    assert np.max(np.abs(months.fixed - years.fixed * scale) / months.fixed_se) < 1e-4
    np.testing.assert_allclose(months.fixed_se, years.fixed_se * scale, rtol=1e-5)
    np.testing.assert_allclose(months.random_sd, years.random_sd / [1.0, 12.0], rtol=1e-5)
    np.testing.assert_allclose(months.random_corr, years.random_corr, atol=1e-6)
    np.testing.assert_allclose(months.sigma, years.sigma, rtol=1e-6)
    np.testing.assert_allclose(months.df, years.df, rtol=1e-3)
    # REML criterion: log|XᵀV⁻¹X| changes by 2 log 12 per rescaled column
    assert months.deviance == pytest.approx(years.deviance + 2 * G * np.log(12.0), abs=1e-5)


@pytest.mark.filterwarnings("ignore::Warning")
def test_gray_matter_fit_is_at_least_as_good_as_statsmodels(gray_matter, gm_fits):
    # statsmodels' MixedLM (comparison only) on the same design matrix, so the REML
    # log-likelihoods are comparable.  Measured: in months statsmodels does not converge
    # (|grad| ≈ 78, log-lik −5331.0 vs ours −4818.0); in years it stops 2.5 units below
    # ours (−4810.6 vs −4808.1).
    import statsmodels.api as sm  # the [dev] extra installs it: a missing one is an error
    for model, time in zip(gm_fits, ("months", "years_from_baseline"), strict=True):
        columns = Columns("total_gm_volume_mm3", time, "subject_id", "group", (), "site")
        ld = prepare_long_data(gray_matter, columns)
        y, X, i, t = RemlLayout(ld, model.spec_).design(ld)
        res = sm.MixedLM(y, X, groups=i, exog_re=np.column_stack([np.ones_like(t), t])
                         ).fit(reml=True, method=["lbfgs"])
        assert model.lmm_.loglik >= res.llf - 1e-6, time


@pytest.fixture(scope="module")
def sleepstudy():
    return pd.read_csv(LME4 / "sleepstudy.csv")


def test_subject_draws_have_the_exact_prediction_error_sd(sleepstudy):
    # Henderson's mixed-model equations, built densely: σ²C⁻¹ is the joint covariance of
    # (β̂ − β, b̂ − b); a subject's slope β₁ + b_i1 has prediction-error variance l'σ²C⁻¹l.
    m = LongitudinalModel(method="reml", outcome="Reaction", time="Days", subject="Subject",
                          group=None, covariates=(), site=None, seed=3).fit(sleepstudy)
    f = m.lmm_
    y, X, i, t = RemlLayout(prepare_long_data(sleepstudy, Columns(
        "Reaction", "Days", "Subject")), m.spec_).design(prepare_long_data(
            sleepstudy, Columns("Reaction", "Days", "Subject")))
    N = f.n_subjects
    Z = np.zeros((len(y), 2 * N))
    Z[np.arange(len(y)), 2 * i], Z[np.arange(len(y)), 2 * i + 1] = 1.0, t
    Ginv = linalg.block_diag(*[np.linalg.inv(f.random_cov)] * N)
    C = np.block([[X.T @ X, X.T @ Z], [Z.T @ X, Z.T @ Z + f.sigma ** 2 * Ginv]])
    pev = f.sigma ** 2 * np.linalg.inv(C)
    exact = np.array([np.sqrt(pev[1, 1] + pev[2 + 2 * k + 1, 2 + 2 * k + 1]
                              + 2 * pev[1, 2 + 2 * k + 1]) for k in range(N)])
    # the same from the fit's gain K_i, identically
    K, W = f.random_effects_gain, f.random_effects_cov
    e = np.array([0.0, 1.0])
    v = np.array([f.fixed_cov[1, 1] - 2 * f.fixed_cov[1] @ K[k].T @ e
                  + e @ (W[k] + K[k] @ f.fixed_cov @ K[k].T) @ e for k in range(N)])
    np.testing.assert_allclose(np.sqrt(v), exact, rtol=1e-6)
    # the draws (4000): SD within 4 Monte Carlo SE (≈ 1.1 % each) of the exact value
    sd = m.subject_slopes()["slope_sd"].to_numpy()
    assert np.max(np.abs(sd / exact - 1)) < 4 / np.sqrt(2 * 4000)


def test_log_outcome_percent_change_is_exp_minus_one(gray_matter):
    d = gray_matter.assign(log_gm=np.log(gray_matter["total_gm_volume_mm3"]))
    kw = {**GM, "outcome": "log_gm", "site": None}
    spec = LongitudinalSpec().replace(outcome_scale="log")
    m = LongitudinalModel(spec=spec, method="reml", time="years_from_baseline", seed=0,
                          **kw).fit(d)
    s = m.summary()
    for g in ("ALS", "HC"):
        b = s.loc[f"slope[{g}]"]
        pct = s.loc[f"percent_per_time[{g}]"]
        assert pct["estimate"] == pytest.approx(100 * np.expm1(b["estimate"]), rel=1e-12)
        assert pct["lower"] == pytest.approx(100 * np.expm1(b["lower"]), rel=1e-12)
        assert pct["upper"] == pytest.approx(100 * np.expm1(b["upper"]), rel=1e-12)
    # close to the natural-scale 100 b / a (both are % of baseline per year)
    nat = LongitudinalModel(method="reml", time="years_from_baseline", seed=0,
                            **{**kw, "outcome": "total_gm_volume_mm3"}).fit(d).summary()
    assert s.loc["percent_per_time[ALS]", "estimate"] == pytest.approx(
        nat.loc["percent_per_time[ALS]", "estimate"], rel=0.1)
    subj = m.subject_slopes()
    assert np.all(subj["percent_per_time"] > -10)        # percent, not 100·b/a on log scale


def test_group_specific_random_effect_covariances_chosen_by_lrt(gray_matter):
    spec = LongitudinalSpec().replace(group_variances="auto")
    m = LongitudinalModel(spec=spec, method="reml", time="years_from_baseline", seed=0,
                          **GM).fit(gray_matter)
    choice = m.meta_["random_effects_covariance"]
    shared = LongitudinalModel(method="reml", time="years_from_baseline", seed=0,
                               **GM).fit(gray_matter).lmm_
    per = LongitudinalModel(spec=spec.replace(group_variances="per_group"), method="reml",
                            time="years_from_baseline", seed=0, **GM).fit(gray_matter)
    assert choice["lrt"]["df"] == 9                     # 3 covariance parameters × 3 groups
    assert choice["lrt"]["statistic"] == pytest.approx(shared.deviance - per.lmm_.deviance)
    assert per.lmm_.random_cov.shape == (4, 2, 2)
    table = per.summary()
    assert {"sd_slope[ALS]", "sd_slope[HC]", "corr[PMA]"} <= set(table.index)
    assert per.lmm_.loglik >= shared.loglik - 1e-8           # nested: never worse


def test_per_group_fit_saves_and_reloads(gray_matter, tmp_path):
    spec = LongitudinalSpec().replace(group_variances="per_group", reference_group="ALS")
    m = LongitudinalModel(spec=spec, method="reml", time="years_from_baseline", seed=0,
                          **GM).fit(gray_matter)
    m.save(tmp_path / "fit.nc")
    back = LongitudinalModel.load(tmp_path / "fit.nc")
    pd.testing.assert_frame_equal(back.summary(), m.summary())
    assert "slope_diff[HC - ALS]" in m.summary().index


def test_singular_fit_is_reported_in_text_and_json(tmp_path, capsys):
    data = pd.read_csv(LME4 / "Oxboys.csv").query("Occasion <= 3")   # lme4: correlation +1
    # Oxboys' 'age' is centred (-1 to 1): renamed, or the cohort schema's age range applies
    data = data.rename(columns={"age": "age_centred"})
    path = tmp_path / "oxboys.csv"
    data.to_csv(path, index=False)
    args = ["longitudinal", "--data", str(path), "--outcome", "height", "--time", "age_centred",
            "--subject", "Subject"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "boundary (singular) fit" in text
    assert "converged: True (boundary (singular) fit)" in text
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["singular"] is True and out["lmm"]["singular"] is True


def test_new_spec_keys_are_validated():
    with pytest.raises(SpecError, match="group_variances"):
        LongitudinalSpec.from_dict({"model": {"group_variances": "each"}})
    with pytest.raises(SpecError, match="outcome_scale"):
        LongitudinalSpec.from_dict({"model": {"outcome_scale": "log10"}})
    spec = LongitudinalSpec.from_dict({"model": {"group_variances": "per_group",
                                                 "outcome_scale": "log"}})
    assert LongitudinalSpec.from_json(spec.to_json()) == spec and spec.log_outcome


def test_variance_group_must_be_constant_within_subject():
    from alsstats.errors import DataValidationError

    y = np.arange(6.0)
    with pytest.raises(DataValidationError, match="within a subject"):
        fit_lmm(y, np.ones((6, 1)), [0, 0, 1, 1, 2, 2], variance_group=list("aabbab"))


def test_bayesian_per_group_likelihood_reduces_to_the_shared_one():
    # With every group's (τ0, τ1, ρ) equal to the shared values, the per-group marginal
    # likelihood (random effects integrated out) equals the shared model's exactly.
    from alsstats.models.longitudinal.graph import build_model

    d, _ = simulate_cohort("default", seed=2, n_per_group={"HC": 10, "ALS": 10, "MIMIC": 0,
                                                          "PMA": 0}, validate=False)
    ld = prepare_long_data(d.dropna(subset=["total_gm_volume_mm3"]), Columns(
        "total_gm_volume_mm3", "years_from_baseline", "subject_id", "group"))
    shared = build_model(ld, LongitudinalSpec())
    per = build_model(ld, LongitudinalSpec().replace(group_variances="per_group"))
    rng = np.random.default_rng(0)
    point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in shared.initial_point().items()}
    per_point = {k: np.repeat(v, 2) if k.startswith(("tau", "rho")) else v
                 for k, v in point.items()}
    assert per_point["tau1_log__"].shape == (2,)

    def loglik(model, pt):
        fn = model.compile_fn(model.logp(vars=model.potentials), inputs=model.value_vars,
                              on_unused_input="ignore", mode="FAST_COMPILE")
        return float(fn(pt))

    assert loglik(per, per_point) == pytest.approx(loglik(shared, point), rel=1e-12)
    per_point["tau1_log__"] = per_point["tau1_log__"] + [0.0, 0.5]   # ALS only
    assert loglik(per, per_point) != pytest.approx(loglik(shared, point), rel=1e-6)
    # the numpy pointwise log-likelihood (PSIS-LOO per subject) sums to the model's term
    from scipy.special import expit

    from alsstats.models.longitudinal.selection import pointwise_loglik

    pt = per_point
    std = {"a": pt["a"][None], "b": pt["b"][None], "c": np.zeros((1, 0)),
           "sigma": np.exp(np.atleast_1d(pt["sigma_log__"])),
           "tau0": np.exp(pt["tau0_log__"])[None], "tau1": np.exp(pt["tau1_log__"])[None],
           "rho": 2.0 * expit(pt["rho_raw_logodds__"])[None] - 1.0}
    pointwise = pointwise_loglik(std, ld)
    assert pointwise.shape == (1, ld.n_subjects)
    assert pointwise.sum() == pytest.approx(loglik(per, per_point), rel=1e-10)


def test_cli_reference_and_group_variances(gray_matter, tmp_path, capsys):
    path = tmp_path / "gm.csv"
    gray_matter.to_csv(path, index=False)
    args = ["longitudinal", "--data", str(path), "--outcome", "total_gm_volume_mm3",
            "--time", "months", "--subject", "subject_id", "--group", "group", "--site",
            "site", "--reference", "ALS", "--group-variances", "auto"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "reference group ALS" in text and "REML LRT per_group vs shared" in text
    assert "slope_diff[HC - ALS]" in text and "df" in text.splitlines()[2].split()
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["reference_group"] == "ALS" and out["singular"] is False
    assert out["spec"]["model"]["group_variances"] == "auto"


@pytest.mark.slow
@pytest.mark.sampling
@pytest.mark.filterwarnings("ignore::alsstats.errors.ConvergenceWarning")
def test_bayesian_auto_chooses_group_variances_by_loo():
    # 30 HC / 30 ALS, log(total GM): the generator's ALS slope SD is three times the
    # controls'.  Short chains: this checks the mechanics and the reported numbers.
    d, _ = simulate_cohort("default", seed=2, n_per_group={"HC": 30, "ALS": 30, "MIMIC": 0,
                                                          "PMA": 0}, validate=False)
    d = d.assign(log_gm=np.log(d["total_gm_volume_mm3"]))
    spec = {"model": {"group_variances": "auto", "outcome_scale": "log"},
            "sampling": {"draws": 300, "tune": 300}}
    m = LongitudinalModel(spec=spec, method="bayes", outcome="log_gm", covariates=(),
                          site=None, seed=1).fit(d)
    choice = m.meta_["random_effects_covariance"]
    assert choice["group_variances"] in ("shared", "per_group")
    assert set(choice["loo"]) == {"shared", "per_group"} and choice["se_diff"] > 0
    per_group = "sd_slope[ALS]" in m.summary().index
    assert per_group == (choice["group_variances"] == "per_group")


def test_loo_choice_prefers_shared_unless_clearly_better():
    import xarray as xr

    from alsstats.models.longitudinal.selection import choose_by_loo

    rng = np.random.default_rng(1)
    post = xr.Dataset({"x": (("chain", "draw"), rng.normal(size=(2, 200)))})
    base = rng.normal(-1.0, 0.05, size=(400, 50))
    # per-subject differences 0.01 ± 0.2: total ≈ 0.5 with SE ≈ 1.4 → keep the simpler
    delta = 0.01 + 0.2 * rng.standard_normal(50)
    same = choose_by_loo({"shared": (base, post), "per_group": (base + delta, post)})
    assert same["group_variances"] == "shared"
    assert same["elpd_diff_per_group_minus_shared"] == pytest.approx(delta.sum(), abs=1e-6)
    better = np.where(np.arange(50) < 25, base + 1.0, base + 0.8)
    clear = choose_by_loo({"shared": (base, post), "per_group": (better, post)})
    assert clear["group_variances"] == "per_group" and clear["se_diff"] > 0
