"""FreeSurfer readers on small files the tests write: versions, bad inputs, group tables, MGZ."""

from __future__ import annotations

import re

import nibabel as nib
import numpy as np
import pytest

from alsstats.errors import DataValidationError
from alsstats.io.freesurfer.group import read_aparc_aseg_volumes, read_aparc_table, read_aseg_table
from alsstats.io.freesurfer.stats_file import read_stats
from alsstats.io.freesurfer.subject import read_aparc, read_aseg, read_subject
from alsstats.testing.inputs import write_aparc_stats, write_aseg_stats


def _subject(root, name="sub-01", version="7.4.1", m1=(14000.5, 13000.25),
             pc=(9000.0, 9500.0), **aseg):
    stats = root / name / "stats"
    for hemi, a, b in (("lh", m1[0], pc[0]), ("rh", m1[1], pc[1])):
        write_aparc_stats(stats / f"{hemi}.aparc.stats", hemi,
                          {"precentral": a, "precuneus": b}, version=version, subjectname=name,
                          etiv=1.5e6)
    write_aseg_stats(stats / "aseg.stats", aseg.pop("total_gray", 650000.0),
                     aseg.pop("etiv", 1.5e6), version=version, subjectname=name, **aseg)
    return root / name


def _line_of(path, pattern):
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if re.search(pattern, line):
            return i
    raise AssertionError(pattern)


@pytest.mark.parametrize("version, expected", [("5.3", "5.3"), ("6.0", "6.0"),
                                               ("7.4.1", "7.4.1")])
def test_versions_53_6_7_read_alike(tmp_path, version, expected):
    s = read_subject(_subject(tmp_path, version=version))
    assert s.m1 == 14000.5 + 13000.25
    assert s.precuneus == 9000.0 + 9500.0
    assert s.total_gray == 650000.0 and s.etiv == 1.5e6
    assert s.version == expected
    assert s.version_source == "cvs_version header"


def test_build_stamp_wins(tmp_path):
    d = _subject(tmp_path, version="6.0")
    (d / "scripts").mkdir()
    (d / "scripts" / "build-stamp.txt").write_text(
        "freesurfer-linux-centos7_x86_64-7.4.1-20230613-7eb8460\n")
    s = read_subject(d)
    assert (s.version, s.version_source) == ("7.4.1", "scripts/build-stamp.txt")


def test_fs51_icv_alias_is_mapped_and_reported(tmp_path):
    p = write_aseg_stats(tmp_path / "aseg.stats", 600000.0, 1.4e6, icv_alias=True)
    g = read_aseg(p)
    assert (g.etiv, g.etiv_source) == (1.4e6, "ICV")
    assert any("'IntraCranialVol, ICV' used as eTIV" in n for n in g.notes)


def test_truncated_mid_line(tmp_path):
    p = write_aparc_stats(tmp_path / "lh.aparc.stats", "lh", {})
    text = p.read_text()
    cut = text[: text.index("precentral") + 54]  # name, NumVert, SurfArea
    p.write_text(cut)
    line = cut.count("\n") + 1
    with pytest.raises(DataValidationError,
                       match=rf"lh\.aparc\.stats line {line}: row has 3 fields but # ColHeaders "
                             r"names 10 \(file truncated"):
        read_aparc(p, "lh")


def test_truncated_at_line_boundary_loses_structures(tmp_path):
    p = write_aparc_stats(tmp_path / "lh.aparc.stats", "lh", {})
    lines = p.read_text().splitlines()
    cut = next(i for i, ln in enumerate(lines) if ln.startswith("precentral"))
    p.write_text("\n".join(lines[:cut]) + "\n")
    with pytest.raises(DataValidationError) as err:
        read_aparc(p, "lh")
    assert "required structure 'precentral' is missing" in str(err.value)
    assert "not a complete Desikan-Killiany (aparc) table" in str(err.value)


def test_empty_and_headerless_files(tmp_path):
    empty = tmp_path / "lh.aparc.stats"
    empty.write_bytes(b"")
    with pytest.raises(DataValidationError, match=r"lh\.aparc\.stats: empty file"):
        read_aparc(empty)
    p = write_aparc_stats(tmp_path / "x" / "lh.aparc.stats", "lh", {})
    text = re.sub(r"(?m)^# ColHeaders.*\n", "", p.read_text())
    p.write_text(text)
    with pytest.raises(DataValidationError, match="table row before any '# ColHeaders' line"):
        read_aparc(p)
    only_header = tmp_path / "y" / "lh.aparc.stats"
    only_header.parent.mkdir()
    only_header.write_text("\n".join(ln for ln in text.splitlines() if ln.startswith("#")))
    with pytest.raises(DataValidationError, match=r"no '# ColHeaders' line"):
        read_aparc(only_header)


def test_aseg_nrows_mismatch(tmp_path):
    p = write_aseg_stats(tmp_path / "aseg.stats", 6e5, 1.5e6)
    lines = p.read_text().splitlines()
    p.write_text("\n".join(lines[:-1]) + "\n")
    n = _line_of(p, r"^# NRows")
    with pytest.raises(DataValidationError,
                       match=rf"aseg\.stats line {n}: table has 4 rows but '# NRows' says 5"):
        read_aseg(p)


def test_duplicate_structure_and_measure(tmp_path):
    p = write_aparc_stats(tmp_path / "lh.aparc.stats", "lh", {})
    text = p.read_text()
    row = next(ln for ln in text.splitlines() if ln.startswith("precuneus"))
    p.write_text(text + row + "\n")
    first = _line_of(p, r"^precuneus")
    with pytest.raises(DataValidationError,
                       match=rf"duplicate structure 'precuneus' \(first on line {first}\)"):
        read_aparc(p)
    q = write_aseg_stats(tmp_path / "aseg.stats", 6e5, 1.5e6)
    t = q.read_text()
    tg = next(ln for ln in t.splitlines() if "TotalGrayVol" in ln)
    q.write_text(t.replace(tg, tg + "\n" + tg))
    n = _line_of(q, "TotalGrayVol")
    with pytest.raises(DataValidationError,
                       match=rf"aseg\.stats line {n + 1}: duplicate # Measure 'TotalGrayVol' "
                             rf"\(first on line {n}\)"):
        read_aseg(q)


def test_header_hemi_contradicts_file_name(tmp_path):
    p = write_aparc_stats(tmp_path / "lh.aparc.stats", "rh", {})
    n = _line_of(p, "^# hemi")
    with pytest.raises(DataValidationError,
                       match=rf"lh\.aparc\.stats line {n}: wrong hemisphere: the file name says "
                             r"lh but the header says '# hemi rh'"):
        read_aparc(p)


def test_same_file_for_both_hemispheres(tmp_path):
    d = _subject(tmp_path)
    (d / "stats" / "rh.aparc.stats").write_bytes((d / "stats" / "lh.aparc.stats").read_bytes())
    with pytest.raises(DataValidationError,
                       match=r"rh\.aparc\.stats: identical to lh\.aparc\.stats \(same SHA-256\)"):
        read_subject(d)


def test_missing_etiv_and_bad_values(tmp_path):
    p = write_aseg_stats(tmp_path / "aseg.stats", 6e5, 1.5e6)
    p.write_text(re.sub(r"(?m)^# Measure EstimatedTotal.*\n", "", p.read_text()))
    with pytest.raises(DataValidationError, match="required measure eTIV is missing"):
        read_aseg(p)
    a = write_aparc_stats(tmp_path / "lh.aparc.stats", "lh", {"precentral": -5.0})
    n = _line_of(a, "^precentral")
    with pytest.raises(DataValidationError,
                       match=rf"line {n} \(value '-5.0'\): structure 'precentral': GrayVol must "
                             "be a non-negative volume"):
        read_aparc(a)
    a.write_text(a.read_text().replace("-5.0", "abc"))
    with pytest.raises(DataValidationError, match="GrayVol is not a number"):
        read_aparc(a)
    b = write_aparc_stats(tmp_path / "u" / "lh.aparc.stats", "lh", {})
    b.write_text(b.read_text().replace("TableCol  4 Units     mm^3", "TableCol  4 Units     cm^3"))
    with pytest.raises(DataValidationError, match="column GrayVol has units 'cm\\^3'"):
        read_aparc(b)


def test_malformed_measure_line(tmp_path):
    p = write_aseg_stats(tmp_path / "aseg.stats", 6e5, 1.5e6)
    p.write_text(p.read_text().replace("Total gray matter volume, 600000.0", "bad, x, y, z"))
    n = _line_of(p, "TotalGray,")
    with pytest.raises(DataValidationError, match=rf"line {n}: # Measure line has 7 fields"):
        read_stats(p)


def test_group_tables(tmp_path):
    lh = tmp_path / "lh.tsv"
    lh.write_text("lh.aparc.volume\tlh_precentral_volume\tlh_precuneus_volume\teTIV\n"
                  "sub-01\t14000\t9000\t1500000\nsub-02\t13000\t8500\t1400000\n")
    rh = tmp_path / "rh.tsv"
    rh.write_text("rh.aparc.volume\trh_precentral_volume\trh_precuneus_volume\n"
                  "sub-01\t14100\t9100\nsub-02\t13100\t8600\n")
    aseg = tmp_path / "aseg.tsv"
    aseg.write_text("Measure:volume\tTotalGrayVol\tIntraCranialVol\n"
                    "sub-01\t650000\t1500000\nsub-02\t640000\t1400000\n")
    assert read_aparc_table(lh, "lh")["sub-02"] == {"precentral": 13000.0, "precuneus": 8500.0}
    values, notes = read_aseg_table(aseg)
    assert values["sub-01"] == {"total_gray": 650000.0, "etiv": 1500000.0}
    assert "IntraCranialVol" in notes[0]
    with pytest.raises(DataValidationError, match=r"line 1: first column header "
                                                  r"'rh.aparc.volume'; expected lh.aparc.volume"):
        read_aparc_table(rh, "lh")
    lh.write_text(lh.read_text() + "sub-01\t1\t2\t3\n")
    with pytest.raises(DataValidationError,
                       match=r"lh.tsv line 4: duplicate subject 'sub-01' \(first on line 2\)"):
        read_aparc_table(lh, "lh")
    rh.write_text("rh.aparc.volume\trh_precentral_volume\nsub-01\t1\n")
    with pytest.raises(DataValidationError, match="required column 'rh_precuneus_volume'"):
        read_aparc_table(rh, "rh")


def test_aparc_aseg_mgz_uses_the_affine_voxel_volume(tmp_path):
    labels = np.zeros((10, 10, 10), dtype=np.int32)
    labels[:2] = 1024      # 200 voxels lh precentral
    labels[2:3] = 2024     # 100
    labels[3:6] = 1025     # 300
    labels[6:7, :5] = 2025  # 50
    affine = np.diag([-0.8, 0.8, 0.8, 1.0])
    path = tmp_path / "aparc+aseg.mgz"
    nib.save(nib.MGHImage(labels, affine), path)
    vols = read_aparc_aseg_volumes(path)
    voxel = 0.8 ** 3  # MGH stores the voxel sizes as float32: relative error ~1e-7
    assert vols[("lh", "precentral")] == pytest.approx(200 * voxel, rel=1e-6)
    assert vols[("rh", "precentral")] == pytest.approx(100 * voxel, rel=1e-6)
    assert vols[("lh", "precuneus")] == pytest.approx(300 * voxel, rel=1e-6)
    assert vols[("rh", "precuneus")] == pytest.approx(50 * voxel, rel=1e-6)
    labels[labels == 2025] = 0
    nib.save(nib.MGHImage(labels, affine), path)
    with pytest.raises(DataValidationError, match=r"label 2025 \(rh precuneus\) has no voxels"):
        read_aparc_aseg_volumes(path)


def test_mgz_loader_path_on_real_file(reference_path):
    path = reference_path("formats/nifti/test.mgz")
    # nibabel's test.mgz is a 4D float image (3, 4, 5, 2): not a label volume.
    with pytest.raises(DataValidationError, match=r"test\.mgz: label image must be 3D, got "
                                                  r"shape \(3, 4, 5, 2\)"):
        read_aparc_aseg_volumes(path)
