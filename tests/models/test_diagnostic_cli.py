"""``alsstats score`` on a saved fit; ``alsstats fit diagnostic`` input errors (its end-to-end
run with ``--strict`` is in test_diagnostic_options.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from alsstats.cli import main
from alsstats.models.diagnostic.spec import default_spec
from alsstats.testing.recovery import default_truth, simulate_diagnostic_cohort


@pytest.fixture(scope="module")
def saved_fit(diag_fit, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "fit.nc"
    diag_fit.save(path)
    return path


@pytest.mark.sampling
def test_score_cli_writes_scores(saved_fit, diag_fit, diag_test, tmp_path, capsys):
    data = tmp_path / "patients.csv"
    diag_test.head(40).to_csv(data, index=False)
    out = tmp_path / "scores.csv"
    code = main(["score", "--model", str(saved_fit), "--data", str(data), "--prevalence",
                 "ALS=0.3,MIMIC=0.3,HC=0.4", "--out", str(out), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["subjects"] == 40 and report["prevalence"]["HC"] == pytest.approx(0.4)
    scores = pd.read_csv(out)
    assert list(scores.columns[:4]) == ["subject_id", "p_als", "p_als_low", "p_als_high"]
    assert {"p_mimic", "p_hc_high", "fit_converged"} <= set(scores.columns)
    want = diag_fit.predict_posterior(diag_test.head(40),
                                      prevalence={"ALS": 0.3, "MIMIC": 0.3, "HC": 0.4})
    np.testing.assert_allclose(scores["p_als"], want["p_als"], rtol=1e-5)
    # P(ALS) with a stated split of the rest; a bare P(ALS) is refused.
    assert main(["score", "--model", str(saved_fit), "--data", str(data), "--prevalence",
                 "0.3:MIMIC=3,HC=1", "--out", str(out)]) == 0
    split = pd.read_csv(out)
    assert split[["prior_als", "prior_mimic", "prior_hc"]].iloc[0].tolist() == \
        pytest.approx([0.3, 0.525, 0.175])
    np.testing.assert_allclose(split["p_als"], diag_fit.predict_posterior(
        diag_test.head(40), prevalence={"ALS": 0.3, "MIMIC": 0.525, "HC": 0.175})["p_als"],
        rtol=1e-5)
    capsys.readouterr()
    assert main(["score", "--model", str(saved_fit), "--data", str(data), "--prevalence",
                 "0.5", "--out", str(tmp_path / "bare.csv")]) == 1
    assert "state how the rest is split" in capsys.readouterr().err
    assert not (tmp_path / "bare.csv").exists()


@pytest.mark.sampling
def test_score_cli_errors_leave_no_file(saved_fit, tmp_path, capsys):
    data = tmp_path / "bad.csv"
    pd.DataFrame({"subject_id": ["a"], "site": ["S01"]}).to_csv(data, index=False)
    out = tmp_path / "scores.csv"
    assert main(["score", "--model", str(saved_fit), "--data", str(data),
                 "--prevalence", "uniform", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "required column missing" in err and "Traceback" not in err
    assert not out.exists()
    assert main(["score", "--model", str(tmp_path / "none.nc"), "--data", str(data),
                 "--prevalence", "uniform", "--out", str(out)]) == 1
    assert not out.exists()
    assert main(["score", "--model", str(saved_fit), "--data", str(data), "--prevalence",
                 "ALS=2", "--out", str(out)]) == 1


def test_fit_cli_rejects_bad_spec_before_sampling(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text('[markers.nfl]\ntransform = "log"\n')
    data = tmp_path / "d.csv"
    truth = default_truth(default_spec(), seed=1)
    simulate_diagnostic_cohort(truth, 30, seed=1).to_csv(data, index=False)
    out = tmp_path / "m.nc"
    assert main(["fit", "diagnostic", "--data", str(data), "--spec", str(spec),
                 "--out", str(out)]) == 1
    assert "unknown marker" in capsys.readouterr().err and not out.exists()


@pytest.mark.sampling
def test_score_explains_interval_markers_prior_only_and_unseen_site(saved_fit, diag_fit,
                                                                     diag_test, tmp_path,
                                                                     capsys):
    patients = diag_test.head(6).copy().reset_index(drop=True)
    markers = list(diag_fit.spec_.marker_names)
    patients.loc[0, markers] = np.nan              # no marker: the prior alone
    patients.loc[1, "site"] = "NEW-SITE"           # a site the model never saw
    data = tmp_path / "patients.csv"
    patients.to_csv(data, index=False)
    out = tmp_path / "scores.csv"
    assert main(["score", "--model", str(saved_fit), "--data", str(data), "--prevalence",
                 "0.3:uniform", "--interval", "credible", "--level", "0.9", "--out", str(out),
                 "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["prior_only"] == 1 and report["unseen_site"] == 1
    assert "scored on the prior alone" in captured.err and "not fitted on" in captured.err
    scores = pd.read_csv(out, keep_default_na=False)
    assert set(scores["interval"]) == {"credible"} and set(scores["level"]) == {0.9}
    assert scores["prior_only"].tolist() == [True] + [False] * 5
    assert scores.loc[0, "markers_used"] == ""
    assert scores.loc[2, "markers_used"] == ";".join(
        m for m in markers if pd.notna(patients.loc[2, m]))
    want = diag_fit.predict_posterior(patients, prevalence="0.3:uniform", interval=0.9,
                                      interval_kind="credible")
    np.testing.assert_allclose(scores["p_als_low"], want["p_als_low"], rtol=1e-5)
