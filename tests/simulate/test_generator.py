"""Generator behaviour: reproducibility, scenario errors, missingness, dropout, truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from alsstats.cli import main
from alsstats.errors import ScenarioError
from alsstats.schema import validate_cohort
from alsstats.simulate import load_scenario, simulate_cohort


def _raw():
    return load_scenario("default").to_dict()


def test_default_passes_schema_and_has_expected_sizes():
    data, truth = simulate_cohort("default", seed=1)
    validate_cohort(data)
    sizes = truth.subjects["stratum"].value_counts().to_dict()
    assert sizes == {"HC": 40, "MIMIC": 30, "PMA": 10, "ALS_early": 40, "ALS_established": 60}
    base = data[data["visit"] == 0]
    assert base["subject_id"].is_unique and len(base) == 180
    ee = base.set_index("subject_id")["el_escorial"]
    strata = truth.subjects.set_index("subject_id")["stratum"]
    assert set(ee[strata == "ALS_early"]) <= {"possible", "probable_lab"}
    assert set(ee[strata == "ALS_established"]) <= {"probable", "definite"}
    assert ee[strata.isin(["HC", "MIMIC", "PMA"])].isna().all()


def test_same_seed_byte_identical_files_different_seeds_differ(tmp_path):
    paths = [tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"]
    for path, seed in zip(paths, (5, 5, 6), strict=True):
        assert main(["simulate", "--seed", str(seed), "--out", str(path), "--json"]) == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()
    side = json.loads((tmp_path / "a.json").read_text())
    assert side["seed"] == 5 and side["scenario"]["name"] == "default"
    assert side["alsstats_version"] and side["rows"] > 0
    side_b = json.loads((tmp_path / "b.json").read_text())
    assert side_b.pop("data_file") == "b.csv" and side.pop("data_file") == "a.csv"
    assert side == side_b  # no timestamps: same seed, same sidecar


def test_changing_one_stratum_size_leaves_others_unchanged():
    _, ta = simulate_cohort("default", seed=3)
    _, tb = simulate_cohort("default", seed=3, n_per_group={"PMA": 25})
    hc_a = ta.subjects[ta.subjects["stratum"] == "HC"].drop(columns="subject_id")
    hc_b = tb.subjects[tb.subjects["stratum"] == "HC"].drop(columns="subject_id")
    assert np.allclose(hc_a.select_dtypes("number"), hc_b.select_dtypes("number"),
                       equal_nan=True)


def test_site_offsets_of_an_earlier_cohort_give_new_patients_at_the_same_sites():
    data_a, truth_a = simulate_cohort("default", seed=3)
    data_b, truth_b = simulate_cohort("default", seed=4, site_offsets=truth_a.site_offsets)
    _, own_b = simulate_cohort("default", seed=4)
    assert truth_b.site_offsets.equals(truth_a.site_offsets)
    assert not own_b.site_offsets.equals(truth_a.site_offsets)
    # Only the offsets are shared: seed 4's patients are otherwise those of seed 4 (the
    # site stream is still consumed), and differ from seed 3's.
    latent = [c for c in truth_b.subjects.columns if c.startswith("latent_")]
    assert np.allclose(truth_b.subjects[latent], own_b.subjects[latent], equal_nan=True)
    assert not np.allclose(truth_b.subjects[latent], truth_a.subjects[latent], equal_nan=True)
    assert not data_b["nfl_pg_ml"].equals(data_a["nfl_pg_ml"])


@pytest.mark.parametrize("edit, message", [
    (lambda o: o.drop(index="S08"), "has sites"),
    (lambda o: o.drop(columns="nfl"), "lacks the offset columns"),
    (lambda o: o.assign(nfl=np.nan), "finite"),
    (lambda o: o.to_numpy(), "must be a DataFrame"),
])
def test_bad_site_offsets_rejected(edit, message):
    _, truth = simulate_cohort("default", seed=3, n_per_group=1)
    with pytest.raises(ScenarioError, match=message):
        simulate_cohort("default", seed=4, n_per_group=1, site_offsets=edit(truth.site_offsets))


def test_group_override_splits_als_proportionally():
    _, truth = simulate_cohort("default", seed=1, n_per_group={"ALS": 50, "HC": 5})
    counts = truth.subjects["stratum"].value_counts()
    assert counts["ALS_early"] == 20 and counts["ALS_established"] == 30 and counts["HC"] == 5
    # an empty stratum stays empty (seed_replicate has ALS_early n = 0), totals are exact
    sc = load_scenario("seed_replicate").with_sizes({"ALS": 21})
    assert sc.strata["ALS_early"].n == 0 and sc.strata["ALS_established"].n == 21
    sc = load_scenario("seed_replicate").with_sizes({"ALS_established": 0}).with_sizes(
        {"ALS": 5})
    assert sc.strata["ALS_early"].n + sc.strata["ALS_established"].n == 5


@pytest.mark.parametrize(("edit", "message"), [
    (lambda r: r["strata"]["HC"].update(bogus=1), "unknown key 'bogus'"),
    (lambda r: r.update(colour="red"), "unknown key 'colour'"),
    (lambda r: r["strata"]["HC"]["ratio"].update(sd=-0.1), "ratio.sd: must be >= 0"),
    (lambda r: r["strata"]["ALS_established"]["correlations"].update(
        {"ratio:smn": -0.95, "smn:glu": 0.95, "ratio:glu": 0.5}), "not positive definite"),
    (lambda r: r["missingness"]["probability"].update(mrs=1.5), "must be <= 1"),
    (lambda r: r["strata"]["HC"].update(group="ALZ"), "unknown group 'ALZ'"),
    (lambda r: r["correlations"].update({"glu:foo": 0.1}), "bad pair 'glu:foo'"),
    (lambda r: r["strata"]["HC"]["ratio"].update(sd=0.01), "smaller than its site"),
])
def test_bad_scenarios_rejected(edit, message):
    raw = _raw()
    edit(raw)
    with pytest.raises(ScenarioError, match=message):
        simulate_cohort(raw, seed=1)


def test_bad_scenario_file_cli_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "default"\n[strata.HC.nfl]\nmultiplier = 1.0\nlog_sd = -2\n')
    out = tmp_path / "out.csv"
    assert main(["simulate", "--scenario", str(bad), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "strata.HC.nfl.log_sd: must be >= 0" in err and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]
    assert main(["simulate", "--scenario", "no_such_scenario"]) == 1
    assert "unknown scenario 'no_such_scenario'" in capsys.readouterr().err
    assert main(["simulate", "--n-per-group", "-3"]) == 1
    assert main(["simulate", "--n-per-group", "WHO=3"]) == 1
    assert "unknown stratum or group 'WHO'" in capsys.readouterr().err


def test_mcar_missingness_and_dropout_rates():
    data, _ = simulate_cohort("default", seed=11, n_per_group=3000)
    base = data[data["visit"] == 0]
    sc = load_scenario("default")
    # fMRI: MCAR 0.35 at baseline; SE ~0.004 at n = 15,000
    assert base["smn_sma"].isna().mean() == pytest.approx(sc.missing_probability["fmri"], abs=0.02)
    # MRS and fMRI are acquired at baseline only
    assert data.loc[data["visit"] > 0, ["glu", "smn_sma"]].isna().all().all()
    # retention: share of subjects with a visit 2
    share = data.groupby("subject_id")["visit"].max().eq(2).mean()
    assert share == pytest.approx(sc.retention[2], abs=0.02)
    # QC: no metabolite kept above the CRLB threshold, GABA often dropped
    kept = data.loc[data["gaba"].notna(), "gaba_crlb"]
    assert len(kept) > 0 and (kept <= sc.measurement["crlb_max"]).all()
    assert data["glu_gaba"].isna().mean() > data["glu_naa"].isna().mean()


def test_mar_missingness_depends_on_severity():
    raw = _raw()
    raw["missingness"].update(mechanism="MAR", mar_log_odds_per_10_points=1.0)
    data, _ = simulate_cohort(raw, seed=2, n_per_group=3000)
    base = data[data["visit"] == 0]
    severe = base["alsfrs_r"] < 36
    assert base.loc[severe, "smn_sma"].isna().mean() > base.loc[~severe & (base["alsfrs_r"] == 48),
                                                                  "smn_sma"].isna().mean() + 0.2


def test_volume_slopes_follow_scenario():
    data, truth = simulate_cohort("default", seed=4, n_per_group=4000)
    sc = truth.scenario
    subj = truth.subjects.groupby("stratum")["slope_total_gm"].agg(["mean", "std"])
    for name, st in sc.strata.items():
        mu, sd = st.annual_change["total_gm"]
        assert subj.loc[name, "mean"] == pytest.approx(mu, abs=4 * sd / np.sqrt(4000) + 1e-9)
    # observed per-subject change in log GM over the visits tracks the true slope
    d = data.dropna(subset=["total_gm_volume_mm3"])
    last = d.sort_values("visit").groupby("subject_id").agg(
        t=("years_from_baseline", "last"), v1=("total_gm_volume_mm3", "last"),
        v0=("total_gm_volume_mm3", "first"))
    last = last[last["t"] > 0.9].join(truth.subjects.set_index("subject_id")["slope_total_gm"])
    observed = np.log(last["v1"] / last["v0"]) / last["t"]
    # scan error is unbiased: regressing the observed change on the true slope gives slope 1
    # (SE ~ 0.007 here: noise SD ~0.01/y over a slope SD ~0.009 with n ~ 15,000)
    fit = np.polyfit(last["slope_total_gm"], observed, 1)
    assert fit[0] == pytest.approx(1.0, abs=0.05)


def test_alsfrs_declines_in_als_and_is_bounded():
    data, _ = simulate_cohort("default", seed=8, n_per_group=500)
    assert data["alsfrs_r"].between(0, 48).all()
    als = data[data["group"] == "ALS"].pivot_table(index="subject_id", columns="visit",
                                                    values="alsfrs_r")
    change = (als[2] - als[0]).dropna()
    # median post-slope 0.75 pts/month => about -9 points per year
    assert -12 < change.median() < -6
    hc = data[data["group"] == "HC"]["alsfrs_r"]
    assert (hc == 48).all()


def test_committed_example_cohort_regenerates_byte_identically(tmp_path):
    """data/synthetic/example_cohort.csv is `alsstats simulate --seed 1`: the generator is
    deterministic across runs and machines (regenerate the file when the generator changes)."""
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "example_cohort.csv"
    assert main(["simulate", "--seed", "1", "--out", str(tmp_path / "c.csv"), "--json"]) == 0
    assert (tmp_path / "c.csv").read_bytes() == example.read_bytes()


def test_user_scenario_given_as_path_extends_shipped(monkeypatch, tmp_path):
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "mar_missingness.toml"
    sc = load_scenario(str(path))
    # a name is looked up only among the shipped scenarios, never in the working directory
    (tmp_path / "data" / "synthetic").mkdir(parents=True)
    (tmp_path / "data" / "synthetic" / "mar_missingness.toml").write_text(path.read_text())
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError, match="unknown scenario 'mar_missingness'"):
        load_scenario("mar_missingness")
    assert sc.missing_mechanism == "MAR" and sc.missing_probability["mrs"] == 0.4
    assert sc.strata["ALS_established"].n == 60  # inherited from default


def test_label_error_changes_only_the_recorded_groups():
    sizes = {"ALS": 300, "HC": 300, "PMA": 0, "MIMIC": 0}
    clean, _ = simulate_cohort("default", seed=21, n_per_group=sizes)
    noisy, truth = simulate_cohort("default", seed=21, n_per_group=sizes, label_error=0.2)
    keep = [c for c in clean.columns if c not in ("group", "el_escorial")]
    pd.testing.assert_frame_equal(clean[keep], noisy[keep])
    subjects = truth.subjects
    wrong = subjects["group"] != subjects["recorded_group"]
    # 600 subjects, P(wrong) = 0.2: the share within 4 binomial SEs (0.016)
    assert abs(wrong.mean() - 0.2) < 4 * np.sqrt(0.2 * 0.8 / 600)
    assert set(subjects["recorded_group"]) == {"ALS", "HC"}     # groups with subjects only
    base = noisy[noisy["visit"] == 0].set_index("subject_id")
    recorded = subjects.set_index("subject_id")["recorded_group"]
    assert (base["group"].astype(str) == recorded.loc[base.index]).all()
    # HC recorded as ALS are "possible"; ALS recorded as HC have no category
    hc_as_als = subjects.loc[wrong & (subjects["group"] == "HC"), "subject_id"]
    assert (base.loc[hc_as_als, "el_escorial"] == "possible").all()
    als_as_hc = subjects.loc[wrong & (subjects["group"] == "ALS"), "subject_id"]
    assert base.loc[als_as_hc, "el_escorial"].isna().all()


def test_label_error_per_group_and_bad_values():
    _, truth = simulate_cohort("default", seed=3, label_error={"HC": 1.0})
    s = truth.subjects
    assert (s.loc[s["group"] == "HC", "recorded_group"] != "HC").all()
    assert (s.loc[s["group"] != "HC", "recorded_group"] == s.loc[s["group"] != "HC", "group"]).all()
    with pytest.raises(ScenarioError, match=r"label_error for ALS must be a share in \[0, 1\]"):
        simulate_cohort("default", seed=3, label_error={"ALS": 1.5})
    with pytest.raises(ScenarioError, match="names groups \\['ALSX'\\]"):
        simulate_cohort("default", seed=3, label_error={"ALSX": 0.1})


def test_one_group_cohort_without_label_error():
    # a cohort of one group (as decline_power draws) has no other group to mislabel into
    data, truth = simulate_cohort("default", seed=3, n_per_group={"HC": 5, "ALS": 0,
                                                                  "PMA": 0, "MIMIC": 0})
    assert set(data["group"]) == {"HC"} and (truth.subjects["recorded_group"] == "HC").all()
    with pytest.raises(ScenarioError, match="at least two groups"):
        simulate_cohort("default", seed=3, label_error=0.1,
                        n_per_group={"HC": 5, "ALS": 0, "PMA": 0, "MIMIC": 0})


def test_cli_label_error_and_crlb_noise(tmp_path, capsys):
    # The CLI options reach the generator: the same table as simulate_cohort's, and the
    # sidecar records the options and every mislabelled subject's true group.
    out = tmp_path / "c.csv"
    assert main(["simulate", "--seed", "5", "--n-per-group", "20", "--label-error", "0.2",
                 "--crlb-noise", "--out", str(out), "--json"]) == 0
    want, truth = simulate_cohort("default", seed=5, n_per_group=20, label_error=0.2,
                                  crlb_noise=True)
    got = pd.read_csv(out)
    np.testing.assert_allclose(got["glu_naa"], want["glu_naa"], rtol=1e-12)
    assert (got["group"] == want["group"]).all()
    side = json.loads(out.with_suffix(".json").read_text())
    assert side["options"] == {"label_error": 0.2, "crlb_noise": True}
    wrong = truth.subjects[truth.subjects["recorded_group"] != truth.subjects["group"]]
    assert len(side["wrong_labels"]) == len(wrong) > 0
    assert {r["subject_id"] for r in side["wrong_labels"]} == set(wrong["subject_id"])
    assert main(["simulate", "--label-error", "ALS=0.1", "--label-error", "HC=0.3",
                 "--n-per-group", "10"]) == 0
    assert main(["simulate", "--label-error", "lots"]) == 1
    assert "--label-error: expected a share in [0, 1], got 'lots'" in capsys.readouterr().err
    assert main(["simulate", "--label-error", "1.5"]) == 1
    assert "must be a share in [0, 1]" in capsys.readouterr().err
