"""Manifest options, source layouts and ID rules, through :func:`alsstats.io.ingest`."""

from __future__ import annotations

import shutil

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from alsstats.errors import DataValidationError
from alsstats.io import ingest, load_manifest
from alsstats.io.clinical import read_clinical
from alsstats.io.ids import IdRules, collision_key, duplicate_groups
from alsstats.testing.inputs import write_aparc_stats, write_aseg_stats, write_inputs


def _cohort(n=4):
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "subject_id": [f"S{i:03d}" for i in range(1, n + 1)], "visit": 0, "site": "A",
        "group": ["HC", "ALS"] * (n // 2), "age": 55.0, "sex": "F",
        "years_from_baseline": 0.0, "glu": rng.uniform(6, 9, n), "naa": rng.uniform(8, 11, n),
        "gaba": rng.uniform(1, 2, n), "glu_crlb": 5.0, "naa_crlb": 3.0, "gaba_crlb": 10.0,
        "m1_volume_mm3": rng.uniform(24000, 28000, n),
        "precuneus_volume_mm3": rng.uniform(18000, 20000, n),
        "total_gm_volume_mm3": 6e5, "etiv_mm3": 1.5e6, "smn_sma": rng.normal(size=n)})


@pytest.fixture
def study(tmp_path):
    truth = _cohort()
    return truth, write_inputs(truth, tmp_path / "study")


def test_id_rules_and_collisions():
    rules = IdRules()
    assert rules.key("sub-01_ses-2") == ("01", 2)
    assert rules.key("sub-01") == ("01", 0)
    assert IdRules(casefold=True, strip_zeros=True).subject("sub-007") == "7"
    assert IdRules(casefold=True).subject("s01") == "S01"
    assert IdRules(pattern=r"^(?P<subject>P\d+)$").key("X1") is None
    assert {collision_key(s) for s in ("sub-01", "01", "SUB01", "sub-01_rerun", "1")} == {"1"}
    assert duplicate_groups([("sub-01", "01", 0), ("SUB01", "SUB01", 0), ("02", "02", 0),
                             ("01", "01", 1)]) == [["sub-01", "SUB01"]]
    with pytest.raises(ValueError, match="no \\(\\?P<subject>"):
        IdRules(pattern=r"^(\w+)$")


def test_mixed_freesurfer_versions_warn_or_reject(study):
    _, manifest = study
    stats = manifest.parent / "freesurfer" / "S001_ses-0" / "stats"
    write_aparc_stats(stats / "lh.aparc.stats", "lh", {"precentral": 13000.0}, version="6.0")
    write_aparc_stats(stats / "rh.aparc.stats", "rh", {"precentral": 13500.0}, version="6.0")
    write_aseg_stats(stats / "aseg.stats", 6e5, 1.5e6, version="6.0")
    result = ingest(manifest)
    warnings = [i.reason for i in result.qc if i.kind == "warning"]
    assert any("mixed FreeSurfer major versions ['6', '7']" in w and "S001_ses-0: 6.0" in w
               for w in warnings)
    manifest.write_text(manifest.read_text().replace(
        'subjects_dir = "freesurfer"', 'subjects_dir = "freesurfer"\nstrict_versions = true'))
    with pytest.raises(DataValidationError, match="strict_versions = true"):
        ingest(manifest)


def test_volumes_from_aparc_aseg_mgz(study):
    _, manifest = study
    for d in sorted((manifest.parent / "freesurfer").iterdir()):
        labels = np.zeros((8, 8, 8), dtype=np.int32)
        labels[:2], labels[2:4], labels[4:5], labels[5:6] = 1024, 2024, 1025, 2025
        (d / "mri").mkdir()
        nib.save(nib.MGHImage(labels, np.diag([1.2, 1.2, 1.2, 1.0])), d / "mri" /
                 "aparc+aseg.mgz")
    manifest.write_text(manifest.read_text().replace(
        'subjects_dir = "freesurfer"', 'subjects_dir = "freesurfer"\nvolumes = "aparc+aseg"'))
    got = ingest(manifest).cohort
    voxel = 1.2 ** 3
    np.testing.assert_allclose(got["m1_volume_mm3"], 256 * voxel, rtol=1e-6)  # 128 + 128 voxels
    np.testing.assert_allclose(got["precuneus_volume_mm3"], 128 * voxel, rtol=1e-6)
    np.testing.assert_allclose(got["m1_precuneus_ratio"], 2.0, rtol=1e-12)


def test_lcmodel_folder_layout_voxels_and_stray_fortran(study):
    _, manifest = study
    lcm = manifest.parent / "lcmodel"
    for table in sorted(lcm.glob("*.table")):
        folder = lcm / table.name.removesuffix("_sma.table")
        folder.mkdir()
        shutil.move(table, folder / "sma.table")
        (folder / "m1.table").write_text("other voxel, must not be read")
        shutil.copy(folder / "sma.table", folder / "sma.csv")
    manifest.write_text(manifest.read_text().replace('dir = "lcmodel"',
                                                     'dir = "lcmodel"\nid_from = "folder"'))
    result = ingest(manifest)
    assert result.cohort["glu"].notna().all()
    reasons = [i.reason for i in result.qc]
    assert "m1.table: not the 'sma' voxel, ignored" in reasons
    assert "sma.csv not used (.table preferred)" in reasons
    stray = lcm / "S002_ses-0" / "fort.7.table"
    stray.write_text("\n$$DIAG  1 lines in following diagnostic table:\n"
                     "   1 FATAL     ZEROVX  5\n")
    assert any("fort.7.table: leftover of a failed LCModel run" in i.reason
               for i in ingest(manifest).qc)
    (lcm / "S002_ses-0" / "sma.table").unlink()
    (lcm / "S002_ses-0" / "sma.csv").unlink()
    stray.write_text("\n$$DIAG  1 lines in following diagnostic table:\n"
                                           "   1 FATAL     ZEROVX  5\n")
    with pytest.raises(DataValidationError,
                       match=r"fort\.7\.table line 3: bad subject 'S002_ses-0' \(lcmodel\): "
                             "LCModel run failed: FATAL ZEROVX 5"):
        ingest(manifest)
    skipped = ingest(manifest, skip_bad=True)
    assert list(skipped.cohort["subject_id"]) == ["S001", "S003", "S004"]


def test_fmri_subject_stack(study):
    _, manifest = study
    root = manifest.parent
    maps = sorted((root / "ica").glob("*.nii.gz"))
    data = np.stack([np.asarray(nib.load(m).dataobj) for m in maps], axis=-1)
    nib.save(nib.Nifti1Image(data, np.diag([2.0, 2.0, 2.0, 1.0])), root / "stack.nii.gz")
    (root / "subjects.txt").write_text("\n".join(m.name.removesuffix(".nii.gz") for m in maps))
    shutil.rmtree(root / "ica")
    manifest.write_text(manifest.read_text().replace(
        'maps_dir = "ica"', 'stack = "stack.nii.gz"\nsubject_list = "subjects.txt"'))
    per_file = ingest(manifest).cohort
    np.testing.assert_allclose(per_file["smn_sma"], _cohort()["smn_sma"], atol=1e-5)
    (root / "subjects.txt").write_text("\n".join(["S001_ses-0"] * 4))
    with pytest.raises(DataValidationError, match=r"subjects\.txt: duplicate subjects .*: "
                                                  "S001_ses-0, S001_ses-0"):
        ingest(manifest)


def test_schema_problem_names_the_subject(study):
    _, manifest = study
    write_aseg_stats(manifest.parent / "freesurfer" / "S003_ses-0" / "stats" / "aseg.stats",
                     6e5, 100.0)
    with pytest.raises(DataValidationError, match=r"clinical\.csv, subject 'S003' visit 0, "
                                                  r"column 'etiv_mm3' \(value 100\.0\): out of "
                                                  "range"):
        ingest(manifest)


def test_manifest_problems_reported_together(tmp_path):
    (tmp_path / "c.csv").write_text("subject_id,visit\n")
    m = tmp_path / "m.toml"
    m.write_text('[clinical]\nfile = "c.csv"\n[freesurfer]\nsubjects_dir = "fs"\n'
                 'aseg_table = "a.tsv"\n[lcmodel]\ncrlb_policy = "maybe"\n[extra]\n')
    with pytest.raises(DataValidationError) as err:
        load_manifest(m)
    msg = str(err.value)
    assert "unknown section [extra]" in msg
    assert "[lcmodel] crlb_policy = 'maybe'; expected one of drop, flag" in msg
    assert "[lcmodel] dir is required" in msg
    assert "[freesurfer] give subjects_dir or the group tables, not both" in msg
    assert f"[freesurfer] subjects_dir: {tmp_path / 'fs'} does not exist" in msg
    m.write_text("not = [valid")
    with pytest.raises(DataValidationError, match=r"m\.toml: not valid TOML"):
        load_manifest(m)


def test_clinical_aliases_and_mapping_errors(tmp_path):
    p = tmp_path / "labs.csv"
    p.write_text("Participant ID,Session,Diagnosis,NfL,ALSFRS-R,CHI3L1\n"
                 "sub-01,0,ALS,12.5,40,50\nsub-02,0,HC,8.0,48,40\n")
    df, id_map, notes = read_clinical(p, IdRules())
    assert list(df.columns) == ["subject_id", "visit", "group", "nfl_pg_ml", "alsfrs_r",
                                "chi3l1_ng_ml"]
    assert id_map == {"sub-01": "01", "sub-02": "02"}
    assert "labs.csv: column 'NfL' read as nfl_pg_ml" in notes
    with pytest.raises(DataValidationError, match="manifest maps column 'NfL' to unknown "
                                                  "cohort column 'nfl'"):
        read_clinical(p, IdRules(), columns={"NfL": "nfl"})
    p.write_text("subject,id,visit\n1,2,0\n")
    with pytest.raises(DataValidationError, match="columns 'subject', 'id' all map to "
                                                  "subject_id"):
        read_clinical(p, IdRules())
    p.write_text("subject,visit\n01,0\n01,1.5\n")
    with pytest.raises(DataValidationError, match=r"labs\.csv line 3 \(value '1\.5'\): visit "
                                                  "must be a whole number"):
        read_clinical(p, IdRules())


def test_spellings_of_one_participant(study, tmp_path):
    p = tmp_path / "labs.csv"
    p.write_text("subject,visit\nsub-01,0\n1,1\n")
    with pytest.raises(DataValidationError, match=r"one participant spelled several ways: '01' "
                                                  r"\(line 2\), '1' \(line 3\)"):
        read_clinical(p, IdRules())
    assert read_clinical(p, IdRules(strip_zeros=True))[0]["subject_id"].tolist() == ["1", "1"]
    _, manifest = study
    fs = manifest.parent / "freesurfer"
    (fs / "S001_ses-0").rename(fs / "s001_ses-0")
    with pytest.raises(DataValidationError, match="no clinical row for subject 's001' visit 0 "
                                                  r".*; the sheet has 'S001' \(set \[ids\] "
                                                  "casefold"):
        ingest(manifest)


def test_mixed_basis_sets_refused(study):
    from alsstats.testing.inputs import write_lcmodel_table

    _, manifest = study
    write_lcmodel_table(manifest.parent / "lcmodel" / "S004_ses-0_sma.table",
                        {"GABA": (1.5, 10), "Glu": (8.0, 5), "NAA": (10.0, 3), "Glth": (1.0, 9),
                         "Cr+PCr": (6.0, 3)}, water_scaled=True)
    with pytest.raises(DataValidationError,
                       match=r"mixed basis sets: .* \(3 tables\) in S004_ses-0 \(\+Glth / -NAAG\)"):
        ingest(manifest)


def test_longitudinal_base_and_long_runs(study):
    _, manifest = study
    fs = manifest.parent / "freesurfer"
    shutil.copytree(fs / "S001_ses-0", fs / "S001_ses-0.long.S001_base")
    shutil.copytree(fs / "S001_ses-0", fs / "S001_base")
    with pytest.raises(DataValidationError) as err:
        ingest(manifest)
    msg = str(err.value)
    assert "S001_base: base template of the longitudinal runs '*.long.S001_base'" in msg
    assert "duplicate subjects (same participant and visit after normalisation): S001_ses-0, " \
           "S001_ses-0.long.S001_base" in msg

