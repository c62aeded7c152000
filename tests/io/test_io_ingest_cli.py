"""End to end: ``alsstats ingest --manifest`` on folders the tests write (good, bad, skipped)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from alsstats._files import file_sha256
from alsstats.cli import main
from alsstats.testing.inputs import write_inputs, write_lcmodel_table


def _cohort(n_subjects=4, visits=(0, 1), seed=3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_subjects):
        group = "HC" if i % 2 == 0 else "ALS"
        for v in visits:
            rows.append({
                "subject_id": f"S{i + 1:03d}", "visit": v, "site": "A" if i < 2 else "B",
                "group": group, "age": 50.0 + i + v, "sex": "FM"[i % 2],
                "years_from_baseline": 0.5 * v, "alsfrs_r": 40.0 if group == "ALS" else None,
                "nfl_pg_ml": float(rng.uniform(5, 80)), "chi3l1_ng_ml": float(rng.uniform(20, 90)),
                "glu": float(rng.uniform(6, 10)), "naa": float(rng.uniform(8, 12)),
                "gaba": float(rng.uniform(1, 2)), "glu_crlb": 6.0, "naa_crlb": 3.0,
                "gaba_crlb": float(15 + 5 * i),
                "m1_volume_mm3": float(rng.uniform(24000, 30000)),
                "precuneus_volume_mm3": float(rng.uniform(17000, 21000)),
                "total_gm_volume_mm3": float(rng.uniform(5.5e5, 6.5e5)),
                "etiv_mm3": float(rng.uniform(1.3e6, 1.7e6)),
                "smn_sma": float(rng.normal())})
    return pd.DataFrame(rows)


@pytest.fixture
def study(tmp_path):
    truth = _cohort()
    manifest = write_inputs(truth, tmp_path / "study")
    return truth, manifest


def _run(capsys, *argv):
    code = main(["ingest", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def _tree_hashes(root):
    return {p: file_sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}


def test_end_to_end(study, tmp_path, capsys):
    truth, manifest = study
    before = _tree_hashes(manifest.parent)
    out = tmp_path / "out" / "cohort.csv"
    code, stdout, err = _run(capsys, "--manifest", manifest, "--out", out, "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["qc"]["rows"] == 8 and report["qc"]["skipped"] == []
    got = pd.read_csv(out)
    assert len(got) == 8
    merged = got.merge(truth, on=["subject_id", "visit"], suffixes=("", "_true"))
    # Volumes are written with repr(): exact.  LCModel prints F8.3: |error| <= 5e-4.
    # ICA maps are float32 with the mask mean set to the value: |error| < 1e-5.
    np.testing.assert_array_equal(merged["m1_volume_mm3"], merged["m1_volume_mm3_true"])
    np.testing.assert_array_equal(merged["etiv_mm3"], merged["etiv_mm3_true"])
    np.testing.assert_allclose(merged["glu"], merged["glu_true"], atol=5e-4)
    np.testing.assert_allclose(merged["smn_sma"], merged["smn_sma_true"], atol=1e-5)
    np.testing.assert_allclose(merged["glu_naa"], merged["glu"] / merged["naa"], rtol=1e-12)
    np.testing.assert_allclose(merged["m1_precuneus_ratio"],
                               merged["m1_volume_mm3"] / merged["precuneus_volume_mm3"],
                               rtol=1e-12)
    np.testing.assert_allclose(merged["nfl_pg_ml"], merged["nfl_pg_ml_true"], rtol=1e-12)
    prov = json.loads((tmp_path / "out" / "cohort.provenance.json").read_text())
    assert prov["alsstats_version"]
    assert prov["output"]["sha256"] == file_sha256(out)
    roles = [i["role"] for i in prov["inputs"]]
    assert roles.count("freesurfer aseg.stats") == 8 and roles.count("lcmodel .table") == 8
    assert roles.count("fmri ICA map") == 8 and "clinical sheet" in roles and "manifest" in roles
    for item in prov["inputs"]:
        assert item["sha256"] == file_sha256(item["path"])
    assert prov["sources"]["lcmodel"]["water_scaled"] is True
    assert prov["sources"]["freesurfer"]["versions"]["S001_ses-0"] == "7.4.1"
    qc = json.loads((tmp_path / "out" / "cohort.qc.json").read_text())
    flagged = [i for i in qc["items"] if i["kind"] == "flagged"]
    # gaba_crlb is 15 + 5 i: subjects 3 and 4 (25 %, 30 %) are above 20 % at both visits.
    assert sorted({(i["subject"], i["field"]) for i in flagged}) == [("S003", "gaba"),
                                                                     ("S004", "gaba")]
    assert "kind,source,subject,visit" in (tmp_path / "out" / "cohort.qc.csv").read_text()
    assert _tree_hashes(manifest.parent) == before          # inputs untouched


def _truncate(path):
    text = path.read_text()
    path.write_text(text[: text.index("precentral") + 54])


def test_bad_subject_stops_the_run(study, tmp_path, capsys):
    _, manifest = study
    bad = manifest.parent / "freesurfer" / "S002_ses-1" / "stats" / "lh.aparc.stats"
    _truncate(bad)
    out = tmp_path / "out" / "cohort.csv"
    code, _stdout, err = _run(capsys, "--manifest", manifest, "--out", out)
    assert code == 1
    assert "bad subject 'S002_ses-1' (freesurfer)" in err
    assert f"{bad} line" in err and "row has 3 fields but # ColHeaders names 10" in err
    assert "Traceback" not in err
    assert not out.exists() and not (tmp_path / "out").exists()


def test_skip_bad_writes_and_reports(study, tmp_path, capsys):
    _, manifest = study
    _truncate(manifest.parent / "freesurfer" / "S002_ses-1" / "stats" / "lh.aparc.stats")
    out = tmp_path / "cohort.csv"
    code, stdout, err = _run(capsys, "--manifest", manifest, "--out", out, "--skip-bad")
    assert code == 0, err
    got = pd.read_csv(out)
    assert len(got) == 7
    assert not ((got["subject_id"] == "S002") & (got["visit"] == 1)).any()
    assert "skipped (bad input): S002/1" in stdout
    qc = json.loads((tmp_path / "cohort.qc.json").read_text())
    skipped = [i for i in qc["items"] if i["kind"] == "skipped"]
    assert len(skipped) == 1 and skipped[0]["subject"] == "S002" and skipped[0]["visit"] == 1
    assert "row has 3 fields" in skipped[0]["reason"]
    assert qc["summary"]["skipped"] == ["S002/1"]


def test_lcmodel_failed_fit_is_a_bad_subject(study, tmp_path, capsys):
    _, manifest = study
    table = manifest.parent / "lcmodel" / "S003_ses-0_sma.table"
    table.write_text("\n$$DIAG  1 lines in following diagnostic table:\n"
                     "   1 FATAL     MYCONT  7\n\n$$INPU  0 lines in following table of "
                     "input changes:\n")
    code, _, err = _run(capsys, "--manifest", manifest, "--out", tmp_path / "c.csv")
    assert code == 1
    assert (f"{table} line 3: bad subject 'S003_ses-0' (lcmodel): LCModel run failed: FATAL "
            "MYCONT 7; no $$CONC section") in err
    code, stdout, _ = _run(capsys, "--manifest", manifest, "--out", tmp_path / "c.csv",
                           "--skip-bad")
    assert code == 0 and "S003/0" in stdout


def test_duplicate_subjects_always_refused(study, tmp_path, capsys):
    _, manifest = study
    fs = manifest.parent / "freesurfer"
    shutil.copytree(fs / "S001_ses-0", fs / "sub-S001_ses-0")
    shutil.copytree(fs / "S002_ses-0", fs / "S002_ses-0_rerun")
    for flag in ((), ("--skip-bad",)):
        code, _, err = _run(capsys, "--manifest", manifest, "--out", tmp_path / "c.csv", *flag)
        assert code == 1
        assert "duplicate subjects (same participant and visit after normalisation): " \
               "S001_ses-0, sub-S001_ses-0" in err
        assert "S002_ses-0, S002_ses-0_rerun" in err
    assert not (tmp_path / "c.csv").exists()


def test_template_skipped_orphan_reported(study, tmp_path, capsys):
    _, manifest = study
    fs = manifest.parent / "freesurfer"
    (fs / "fsaverage").mkdir()
    shutil.copytree(fs / "S001_ses-0", fs / "S009_ses-0")
    code, _, err = _run(capsys, "--manifest", manifest, "--out", tmp_path / "c.csv")
    assert code == 1
    assert "bad subject 'S009_ses-0' (freesurfer): no clinical row for subject 'S009' visit 0" \
        in err
    code, _, _ = _run(capsys, "--manifest", manifest, "--out", tmp_path / "c.csv", "--skip-bad")
    assert code == 0
    qc = json.loads((tmp_path / "c.qc.json").read_text())
    assert any("'fsaverage' skipped (template subject)" in i["reason"] for i in qc["items"])


def test_mixed_water_scaling_refused(study, tmp_path, capsys):
    _, manifest = study
    path = manifest.parent / "lcmodel" / "S001_ses-0_sma.table"
    write_lcmodel_table(path, {"GABA": (1.5, 10), "Glu": (8.0, 5), "NAA": (10.0, 3)},
                        water_scaled=False)
    code, _, err = _run(capsys, "--manifest", manifest, "--out", tmp_path / "c.csv")
    assert code == 1 and "mixed water scaling" in err


def test_crlb_max_option_and_drop_policy(study, tmp_path, capsys):
    _, manifest = study
    manifest.write_text(manifest.read_text().replace('crlb_policy = "flag"',
                                                     'crlb_policy = "drop"'))
    code, _, _ = _run(capsys, "--manifest", manifest, "--out", tmp_path / "a.csv")
    assert code == 0
    a = pd.read_csv(tmp_path / "a.csv")
    assert a.loc[a["subject_id"].isin(["S003", "S004"]), "gaba"].isna().all()
    assert a.loc[a["subject_id"].isin(["S003", "S004"]), "glu_gaba"].isna().all()
    code, _, _ = _run(capsys, "--manifest", manifest, "--out", tmp_path / "b.csv",
                      "--crlb-max", "30")
    b = pd.read_csv(tmp_path / "b.csv")
    assert b["gaba"].notna().all()


def test_smn_zscored_to_baseline_controls(study, tmp_path, capsys):
    _truth, manifest = study
    manifest.write_text(manifest.read_text().replace("zscore_to_hc = false",
                                                     "zscore_to_hc = true"))
    code, _, err = _run(capsys, "--manifest", manifest, "--out", tmp_path / "c.csv")
    assert code == 0, err
    got = pd.read_csv(tmp_path / "c.csv")
    hc0 = got[(got["group"] == "HC") & (got["visit"] == 0)]
    assert hc0["smn_sma"].mean() == pytest.approx(0.0, abs=1e-12)
    assert hc0["smn_sma"].std(ddof=1) == pytest.approx(1.0, rel=1e-12)
    raw = got["smn_sma_raw"]
    z = (raw - hc0["smn_sma_raw"].mean()) / hc0["smn_sma_raw"].std(ddof=1)
    np.testing.assert_allclose(got["smn_sma"], z, rtol=1e-12)


def test_excel_sheet_and_group_tables(study, tmp_path, capsys):
    truth, manifest = study
    root = manifest.parent
    clinical = pd.read_csv(root / "clinical.csv")
    clinical = clinical.rename(columns={"subject_id": "Subject", "nfl_pg_ml": "NfL",
                                        "alsfrs_r": "ALSFRS-R"})
    clinical.to_excel(root / "clinical.xlsx", index=False, sheet_name="labs")
    rows = truth.assign(name=truth["subject_id"] + "_ses-" + truth["visit"].astype(str))
    lh = rows[["name"]].assign(**{"lh_precentral_volume": rows["m1_volume_mm3"] * 0.5,
                                  "lh_precuneus_volume": rows["precuneus_volume_mm3"] * 0.5})
    rh = lh.rename(columns={"lh_precentral_volume": "rh_precentral_volume",
                            "lh_precuneus_volume": "rh_precuneus_volume"})
    lh.rename(columns={"name": "lh.aparc.volume"}).to_csv(root / "lh.tsv", sep="\t",
                                                          index=False)
    rh.rename(columns={"name": "rh.aparc.volume"}).to_csv(root / "rh.tsv", sep="\t",
                                                          index=False)
    rows[["name", "total_gm_volume_mm3", "etiv_mm3"]].rename(columns={
        "name": "Measure:volume", "total_gm_volume_mm3": "TotalGrayVol",
        "etiv_mm3": "EstimatedTotalIntraCranialVol"}).to_csv(root / "aseg.tsv", sep="\t",
                                                             index=False)
    manifest.write_text('[clinical]\nfile = "clinical.xlsx"\nsheet = "labs"\n\n'
                        '[freesurfer]\naparc_lh_table = "lh.tsv"\naparc_rh_table = "rh.tsv"\n'
                        'aseg_table = "aseg.tsv"\nper_hemisphere = true\n')
    code, _, err = _run(capsys, "--manifest", manifest, "--out", tmp_path / "c.csv")
    assert code == 0, err
    got = pd.read_csv(tmp_path / "c.csv").merge(truth, on=["subject_id", "visit"],
                                                suffixes=("", "_true"))
    np.testing.assert_allclose(got["m1_volume_mm3"], got["m1_volume_mm3_true"], rtol=1e-12)
    np.testing.assert_allclose(got["m1_lh_volume_mm3"], got["m1_volume_mm3_true"] / 2,
                               rtol=1e-12)
    np.testing.assert_allclose(got["nfl_pg_ml"], got["nfl_pg_ml_true"], rtol=1e-12)
    assert got["glu"].isna().all()                       # no LCModel source in this manifest


def test_manifest_and_sheet_errors(study, tmp_path, capsys):
    _, manifest = study
    text = manifest.read_text()
    manifest.write_text(text.replace("[lcmodel]", "[lcmodel]\ncrlb = 20"))
    code, _, err = _run(capsys, "--manifest", manifest, "--out", tmp_path / "c.csv")
    assert code == 1 and f"{manifest}: unknown key 'crlb' in [lcmodel]" in err
    manifest.write_text(text)
    sheet = manifest.parent / "clinical.csv"
    lines = sheet.read_text().splitlines()
    lines.append(lines[1].replace("S001", "sub-S001", 1))
    sheet.write_text("\n".join(lines) + "\n")
    code, _, err = _run(capsys, "--manifest", manifest, "--out", tmp_path / "c.csv")
    assert code == 1
    assert f"{sheet} line {len(lines)}" in err and "duplicate subject/visit 'sub-S001' visit 0 " \
        "(same participant as line 2)" in err


def test_round_trip_of_a_simulated_cohort(tmp_path, capsys):
    from alsstats.simulate import simulate_cohort

    data, _ = simulate_cohort("default", seed=5, n_per_group=6)
    manifest = write_inputs(data, tmp_path / "sim")
    out = tmp_path / "c.csv"
    code, _, err = _run(capsys, "--manifest", manifest, "--out", out)
    assert code == 0, err
    got = pd.read_csv(out)
    want = data.reset_index(drop=True)
    assert list(got["subject_id"]) == list(want["subject_id"])
    for col in ("m1_volume_mm3", "precuneus_volume_mm3", "total_gm_volume_mm3", "etiv_mm3",
                "nfl_pg_ml", "chi3l1_ng_ml", "age", "years_from_baseline"):
        np.testing.assert_allclose(got[col], want[col], rtol=1e-12, err_msg=col)
    # Missing stays missing, present stays present, per modality.
    for col in ("glu", "naa", "gaba", "m1_volume_mm3", "smn_sma", "glu_gaba"):
        np.testing.assert_array_equal(got[col].isna(), want[col].isna(), err_msg=col)
    for col in ("glu", "naa", "gaba"):                 # LCModel prints F8.3
        np.testing.assert_allclose(got[col], want[col], atol=5e-4, err_msg=col)
    np.testing.assert_allclose(got["glu_naa"], want["glu_naa"], rtol=2e-3)
    np.testing.assert_allclose(got["smn_sma"], want["smn_sma"], atol=1e-5)


def test_single_source_modes(study, tmp_path, capsys):
    truth, manifest = study
    out = tmp_path / "fs.csv"
    code, stdout, err = _run(capsys, "freesurfer", manifest.parent / "freesurfer", "--out", out,
                             "--json")
    assert code == 0, err
    assert json.loads(stdout)["qc"]["rows"] == 8
    got = pd.read_csv(out).merge(truth, on=["subject_id", "visit"], suffixes=("", "_true"))
    assert len(got) == 8 and set(got["name"]) == {f"S00{i}_ses-{v}" for i in range(1, 5)
                                                  for v in (0, 1)}
    np.testing.assert_array_equal(got["m1_volume_mm3"], got["m1_volume_mm3_true"])
    prov = json.loads((tmp_path / "fs.provenance.json").read_text())
    assert all(i["sha256"] == file_sha256(i["path"]) for i in prov["inputs"])
    code, _, err = _run(capsys, "lcmodel", manifest.parent / "lcmodel", "--out",
                        tmp_path / "mrs.csv", "--crlb-max", "22")
    assert code == 0, err
    mrs = pd.read_csv(tmp_path / "mrs.csv")
    # No voxel filter in single-source mode: the stem S001_ses-0_sma is subject "S001_ses-0_sma".
    assert mrs["name"].str.endswith("_sma").all()
    assert mrs["gaba"].isna().sum() == 4                 # gaba_crlb 25, 30 % > 22 %
    np.testing.assert_allclose(mrs["glu_naa"], mrs["glu"] / mrs["naa"], rtol=1e-12)
    code, _, err = _run(capsys, "--manifest", manifest, "freesurfer", "x", "--out", out)
    assert code == 1 and "give either --manifest M.toml or a single source" in err
