"""Real FreeSurfer 6 and 7.0 stats files (GPL-3.0; read in place from ../shared, never copied).

Every expected number is quoted with the file and line it comes from
(files under reference-data/formats/freesurfer/, see SOURCES.md there).  These files may
not be copied into the repository, so every test here is marked ``needs_shared``: without
the data it fails, naming the file (see tests/conftest.py).  FreeSurfer 7.3.2 files that
are in the repository are tested in ``test_io_freesurfer_cc0.py``.
"""

from __future__ import annotations

import pytest

from alsstats.errors import DataValidationError
from alsstats.io.freesurfer.subject import read_aparc, read_aseg, read_subject, version_from_cvs

pytestmark = pytest.mark.needs_shared


@pytest.fixture(scope="module")
def fs(reference_path):
    """The external ``formats/freesurfer/`` (the one in tests/data holds other, CC0 files)."""
    subjects = [reference_path(f"formats/freesurfer/{s}") for s in ("fs6_fabian", "fs7_soichi")]
    return subjects[0].parent


@pytest.mark.parametrize("rel, hemi, precentral, precuneus, etiv", [
    # fs6_fabian/stats/lh.aparc.stats line 83 (precentral GrayVol), 84 (precuneus), 28 (eTIV)
    ("fs6_fabian/stats/lh.aparc.stats", "lh", 14547.0, 9750.0, 1670487.274486),
    # fs6_fabian/stats/rh.aparc.stats lines 83, 84, 28
    ("fs6_fabian/stats/rh.aparc.stats", "rh", 14753.0, 12363.0, 1670487.274486),
    # fs7_soichi/stats/lh.aparc.stats lines 84, 85, 29
    ("fs7_soichi/stats/lh.aparc.stats", "lh", 13626.0, 8876.0, 1420434.160521),
    # fs7_soichi/stats/rh.aparc.stats lines 84, 85, 29
    ("fs7_soichi/stats/rh.aparc.stats", "rh", 13170.0, 10004.0, 1420434.160521),
])
def test_aparc_values_fs6_and_fs7(fs, rel, hemi, precentral, precuneus, etiv):
    a = read_aparc(fs / rel, hemi)
    assert a.hemi == hemi
    assert a.gray_vol["precentral"] == precentral
    assert a.gray_vol["precuneus"] == precuneus
    assert a.etiv == etiv
    assert len(a.gray_vol) == 34


def test_fs6_missing_comma_measure_is_repaired_and_reported(fs):
    # fs6_fabian/stats/lh.aparc.stats line 25: "# Measure Cortex, CortexVol Total cortical ..."
    a = read_aparc(fs / "fs6_fabian/stats/lh.aparc.stats")
    assert any("line 25" in n and "missing comma" in n for n in a.notes)


def test_fs7_aseg_measures(fs):
    g = read_aseg(fs / "fs7_soichi/stats/aseg.stats")
    assert g.total_gray == 625759.696158  # line 25: # Measure TotalGray, TotalGrayVol
    assert g.etiv == 1420434.160521       # line 34: # Measure EstimatedTotalIntraCranialVol
    assert g.etiv_source == "eTIV"
    assert g.cvs_version == "7.0.0"       # line 4
    assert g.subjectname == "output"      # line 13 (not a real ID)


def test_versions_from_cvs_headers(fs):
    six = read_aparc(fs / "fs6_fabian/stats/lh.aparc.stats")
    # line 5: $Id: mris_anatomical_stats.c,v 1.79 2016/03/14 ... -> FreeSurfer 6.0
    assert version_from_cvs(six.cvs_version) == "6.0"
    assert version_from_cvs(read_aparc(fs / "fs7_soichi/stats/lh.aparc.stats").cvs_version) \
        == "7.0.0"


def test_fs7_subject_folder(fs, tmp_path):
    subj = tmp_path / "sub-07"
    (subj / "stats").mkdir(parents=True)
    for name in ("lh.aparc.stats", "rh.aparc.stats", "aseg.stats"):
        (subj / "stats" / name).symlink_to(fs / "fs7_soichi" / "stats" / name)
    s = read_subject(subj)
    assert s.name == "sub-07"
    assert s.m1 == 13626.0 + 13170.0         # lh line 84 + rh line 84
    assert s.precuneus == 8876.0 + 10004.0   # lh line 85 + rh line 85
    assert s.volume("precentral", "rh") == 13170.0
    assert s.total_gray == 625759.696158
    assert s.version == "7.0.0"
    assert any("subjectname output" in n for n in s.notes)


def test_fs6_subject_without_aseg(fs, tmp_path):
    subj = tmp_path / "fabian"
    (subj / "stats").mkdir(parents=True)
    for name in ("lh.aparc.stats", "rh.aparc.stats"):
        (subj / "stats" / name).symlink_to(fs / "fs6_fabian" / "stats" / name)
    with pytest.raises(DataValidationError, match=r"aseg\.stats: file not found"):
        read_subject(subj)
    s = read_subject(subj, require_aseg=False)
    assert s.m1 == 14547.0 + 14753.0 and s.precuneus == 9750.0 + 12363.0
    assert s.total_gray is None and s.version == "6.0"
    assert any("aseg.stats not found" in n for n in s.notes)


def test_dkt_short_file_reports_missing_precentral_and_precuneus(fs):
    path = fs / "fs6_fabian/stats/lh.aparc.DKTatlas.stats.short"
    with pytest.raises(DataValidationError) as err:
        read_aparc(path, "lh")
    msg = str(err.value)
    assert f"{path}: required structure 'precentral' is missing" in msg
    assert "required structure 'precuneus' is missing" in msg
    assert "lh.aparc.DKTatlas.annot" in msg  # the atlas is named too
    # Without the Desikan check the missing structures are still errors.
    with pytest.raises(DataValidationError, match="'precentral' is missing"):
        read_aparc(path, "lh", atlas="any")


def test_wrong_kinds_and_hemisphere_rejected(fs):
    with pytest.raises(DataValidationError, match=r"brainvol\.stats file\?"):
        read_aseg(fs / "fs7_soichi/stats/brainvol.stats")
    with pytest.raises(DataValidationError,
                       match=r"aseg\.stats line 3: wrong file kind: generating_program "
                             r"mri_segstats"):
        read_aparc(fs / "fs7_soichi/stats/aseg.stats")
    with pytest.raises(DataValidationError,
                       match=r"rh\.aparc\.stats line 16: wrong hemisphere: lh expected"):
        read_aparc(fs / "fs7_soichi/stats/rh.aparc.stats", "lh")
