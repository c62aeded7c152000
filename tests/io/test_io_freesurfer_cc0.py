"""Real FreeSurfer 7.3.2 stats files of one subject, in the repository (CC0).

``tests/data/formats/freesurfer/fsmd_rages_sub-fsm02cd/stats/`` holds unchanged copies of
``aseg``, ``brainvol``, ``lh.aparc`` and ``rh.aparc.stats`` of subject ``sub-fsm02cd`` from
``UNFmontreal/fsmd.rages.smriprep`` (OpenNeuro ds004958 through fMRIPrep 24.1.1; see the
LICENSE.md there).  Every expected number is quoted with the file and line it comes from.
These run on every clone; the FreeSurfer 6 and 7.0 files (GPL) stay outside the repository
(``test_io_freesurfer_reference.py``, marked ``needs_shared``).
"""

from __future__ import annotations

import pytest

from alsstats.errors import DataValidationError
from alsstats.io.freesurfer.stats_file import read_stats
from alsstats.io.freesurfer.subject import read_aparc, read_aseg, read_subject, version_from_cvs

SUBJECT = "sub-fsm02cd"


@pytest.fixture(scope="module")
def stats(reference_path):
    return reference_path(f"formats/freesurfer/fsmd_rages_{SUBJECT}/stats")


@pytest.mark.parametrize("name, hemi, precentral, precuneus, insula", [
    # lh.aparc.stats lines 76 (precentral GrayVol), 77 (precuneus), 87 (insula)
    ("lh.aparc.stats", "lh", 12950.0, 8116.0, 7120.0),
    # rh.aparc.stats lines 76, 77, 87
    ("rh.aparc.stats", "rh", 12644.0, 9004.0, 7014.0),
])
def test_aparc_gray_volumes(stats, name, hemi, precentral, precuneus, insula):
    a = read_aparc(stats / name, hemi)
    assert a.hemi == hemi                              # line 16: "# hemi lh" / "# hemi rh"
    assert a.gray_vol["precentral"] == precentral
    assert a.gray_vol["precuneus"] == precuneus
    assert a.gray_vol["insula"] == insula
    assert len(a.gray_vol) == 34                       # lines 54-87: the Desikan table
    assert a.cvs_version == "7.3.2"                    # line 5
    assert a.subjectname == SUBJECT                    # line 15
    # mris_anatomical_stats ran with -noglobal (line 7): no eTIV measure in this file.
    assert a.etiv is None


def test_aseg_measures(stats):
    g = read_aseg(stats / "aseg.stats")
    assert g.total_gray == 649046.747841   # line 25: # Measure TotalGray, TotalGrayVol
    assert g.etiv == 1489060.555307        # line 34: # Measure EstimatedTotalIntraCranialVol
    assert g.etiv_source == "eTIV"
    assert g.cvs_version == "7.3.2"        # line 4
    assert g.subjectname == SUBJECT        # line 13
    table = read_stats(stats / "aseg.stats")
    assert len(table.rows) == 45                       # line 77: "# NRows 45"
    volume, name = table.column("Volume_mm3"), table.column("StructName")
    volumes = {row[name]: float(row[volume]) for row, _ in table.rows}
    assert volumes["Left-Hippocampus"] == 4765.0       # line 91


def test_brainvol_agrees_with_aseg(stats):
    # brainvol.stats line 9 prints TotalGrayVol to 12 decimals (649046.747840508935);
    # aseg.stats line 25 rounds the same number to 6.
    vol = read_stats(stats / "brainvol.stats")
    assert vol.columns is None                         # measures only, no table
    assert vol.measures["TotalGrayVol"].value == 649046.747840508935
    assert vol.measures["TotalGrayVol"].value == pytest.approx(
        read_aseg(stats / "aseg.stats").total_gray, abs=5e-7)
    assert "eTIV" not in vol.measures


def test_version_is_the_release_itself():
    # FreeSurfer 7 writes the release ("# cvs_version 7.3.2"), not a CVS revision.
    assert version_from_cvs("7.3.2") == "7.3.2"


def test_subject_folder(stats, tmp_path):
    subj = tmp_path / SUBJECT
    (subj / "stats").mkdir(parents=True)
    for name in ("lh.aparc.stats", "rh.aparc.stats", "aseg.stats"):
        (subj / "stats" / name).symlink_to(stats / name)
    s = read_subject(subj)
    assert s.name == SUBJECT
    assert s.m1 == 12950.0 + 12644.0                   # lh line 76 + rh line 76
    assert s.precuneus == 8116.0 + 9004.0              # lh line 77 + rh line 77
    assert s.volume("precentral", "lh") == 12950.0
    assert s.total_gray == 649046.747841 and s.etiv == 1489060.555307
    assert s.version == "7.3.2"
    # '# subjectname sub-fsm02cd' matches the folder name: nothing to report about it.
    assert not any("subjectname" in n for n in s.notes)


def test_truncated_table_names_the_missing_structures(stats, tmp_path):
    # The real lh.aparc.stats cut after its first three table rows (lines 54-56: bankssts,
    # caudalanteriorcingulate, caudalmiddlefrontal), as an interrupted copy would leave it.
    lines = (stats / "lh.aparc.stats").read_text().splitlines(keepends=True)
    short = tmp_path / "lh.aparc.stats"
    short.write_text("".join(lines[:56]))
    with pytest.raises(DataValidationError) as err:
        read_aparc(short, "lh")
    msg = str(err.value)
    assert "required structure 'precentral' is missing from the table (lines 53-56)" in msg
    assert "required structure 'precuneus' is missing" in msg
    assert "AnnotationFile ../label/lh.aparc.annot" in msg      # line 17


def test_wrong_kinds_and_hemisphere_rejected(stats):
    with pytest.raises(DataValidationError, match=r"brainvol\.stats file\?"):
        read_aseg(stats / "brainvol.stats")
    with pytest.raises(DataValidationError,
                       match=r"aseg\.stats line 3: wrong file kind: generating_program "
                             r"mri_segstats"):
        read_aparc(stats / "aseg.stats")
    with pytest.raises(DataValidationError,
                       match=r"rh\.aparc\.stats line 16: wrong hemisphere: lh expected"):
        read_aparc(stats / "rh.aparc.stats", "lh")
