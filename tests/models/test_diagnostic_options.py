"""Cheap default-tier checks of the diagnostic model's options on tiny data: per-class
covariance, ``fit_many`` (one compiled model, data swapped in), ADVI, and ``alsstats fit
diagnostic`` end to end with ``--strict``.

Data: the realistic generator (default scenario), baseline visits, two markers (log NfL
adjusted for age; the M1/precuneus ratio), so each compile is small.  In this scenario
the log-NfL SD is larger in ALS than in healthy controls (0.65-0.77 vs 0.40), which a
per-class covariance must find and a shared one cannot express.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from alsstats.cli import main
from alsstats.errors import ConvergenceWarning
from alsstats.models.base import data_sha256
from alsstats.models.diagnostic.model import DiagnosticModel
from alsstats.models.diagnostic.spec import DiagnosticSpec
from alsstats.simulate import simulate_cohort

pytestmark = pytest.mark.sampling

SPEC = {"markers": {"nfl_pg_ml": {"transform": "log", "covariates": ["age"]},
                    "m1_precuneus_ratio": {"transform": "identity", "covariates": []}}}


def _cohort(seed: int, n: int = 40):
    data, _ = simulate_cohort("default", seed=seed, n_per_group=n)
    return data[data["visit"] == 0].reset_index(drop=True)


@pytest.fixture(scope="module")
def shared_fits():
    return DiagnosticModel(spec=SPEC, seed=3).fit_many([_cohort(31), _cohort(32)])


def test_fit_many_compiles_once_and_fits_each_data_set(shared_fits):
    first, second = shared_fits
    assert first.timing_["compile_seconds"] > 0 and second.timing_["compile_seconds"] == 0
    assert first.data_sha256_ == data_sha256(_cohort(31))
    assert second.data_sha256_ == data_sha256(_cohort(32))
    assert first.convergence_.ok and second.convergence_.ok
    # Different data, different posteriors (the data were swapped in, not reused).
    mu1 = first.idata_.posterior["mu"].mean(("chain", "draw")).values
    mu2 = second.idata_.posterior["mu"].mean(("chain", "draw")).values
    assert not np.allclose(mu1, mu2, atol=1e-3)


def test_per_class_covariance_finds_the_larger_als_nfl_sd():
    spec = DiagnosticSpec.from_dict({**SPEC, "model": {"covariance": "per_class"}})
    train = _cohort(33, n=60)
    fit = DiagnosticModel(spec=spec, seed=4).fit(train)
    assert fit.convergence_.ok, fit.convergence_.message("per-class fit")
    post = fit.idata_.posterior
    assert post["Sigma"].shape[2:] == (3, 2, 2)
    ratio = (post["sigma_ALS"].sel(marker="nfl_pg_ml")
             / post["sigma_HC"].sel(marker="nfl_pg_ml")).values.ravel()
    # Generator truth: log-NfL SD 0.65-0.77 in ALS strata vs 0.40 in HC (ratio 1.6-1.9);
    # the 90 % interval of the ratio must exclude 1 and include 1.6.
    lo, hi = np.quantile(ratio, [0.05, 0.95])
    assert lo > 1.0 and lo <= 1.6 <= hi


def test_advi_is_flagged_approximate_and_close_to_nuts_in_the_means(shared_fits):
    with pytest.warns(ConvergenceWarning, match="variational"):
        fit = DiagnosticModel(spec=SPEC, draws=500, sampler="advi", seed=5).fit(_cohort(31))
    assert fit.convergence_.approximate and not fit.convergence_.ok
    # Mean-field ADVI recovers the class means (its SDs are too small, hence the flag):
    # within 0.15 standardised units of NUTS on the same data.
    nuts = shared_fits[0].idata_.posterior["mu"].mean(("chain", "draw")).values
    advi = fit.idata_.posterior["mu"].mean(("chain", "draw")).values
    np.testing.assert_allclose(advi, nuts, atol=0.15)
    with pytest.warns(ConvergenceWarning, match="variational"):
        scores = fit.predict_posterior(_cohort(34).head(5))
    assert not scores["fit_converged"].any()


def test_fit_cli_end_to_end_and_strict_exit_code(tmp_path, capsys):
    data = tmp_path / "train.csv"
    _cohort(31).to_csv(data, index=False)
    spec = tmp_path / "spec.toml"
    spec.write_text('[markers.nfl_pg_ml]\ntransform = "log"\ncovariates = ["age"]\n'
                    '[markers.m1_precuneus_ratio]\ntransform = "identity"\ncovariates = []\n')
    out = tmp_path / "m.nc"
    # 2 chains x 40 draws cannot reach ESS 400: --strict exits 3; the fit is still
    # written, flagged in the JSON and in the saved provenance.
    code = main(["fit", "diagnostic", "--data", str(data), "--spec", str(spec), "--out",
                 str(out), "--draws", "40", "--tune", "100", "--chains", "2", "--seed", "3",
                 "--strict", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 3 and out.exists()
    assert report["converged"] is False and report["convergence"]["ok"] is False
    assert report["convergence"]["min_ess_bulk"] < 400
    assert sum(report["subjects_per_class"].values()) == 200
    with pytest.warns(ConvergenceWarning, match="try more tune/draws"):
        loaded = DiagnosticModel.load(out)
    assert loaded.provenance_["data_sha256"] == report["data_sha256"]
    assert json.loads(loaded.provenance_["convergence"])["ok"] is False
