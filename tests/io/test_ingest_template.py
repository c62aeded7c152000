"""``alsstats ingest --template``, every missing clinical column at once, no 0-row success."""

from __future__ import annotations

import pytest

from alsstats.cli import main
from alsstats.errors import DataValidationError
from alsstats.io.assemble.ingest import ingest
from alsstats.io.assemble.manifest import load_manifest


def test_template_is_a_manifest_whose_only_problems_are_the_example_paths(tmp_path, capsys):
    path = tmp_path / "manifest.toml"
    assert main(["ingest", "--template", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# alsstats ingest manifest")
    with pytest.raises(DataValidationError) as exc:
        load_manifest(path)
    rules = [p.rule for p in exc.value.problems]
    assert rules and all("does not exist" in r for r in rules)
    for section in ("[ids]", "[clinical]", "[freesurfer]", "[lcmodel]", "[fmri]"):
        assert section in text
    assert main(["ingest", "--template", str(path)]) == 1  # never overwrites
    assert "already exists" in capsys.readouterr().err


def test_help_points_to_the_template(capsys):
    assert main(["ingest", "--help"]) == 0
    assert "--template" in capsys.readouterr().out


def _clinical_only(tmp_path, sheet: str):
    (tmp_path / "clinical.csv").write_text(sheet, encoding="utf-8")
    manifest = tmp_path / "m.toml"
    manifest.write_text('[clinical]\nfile = "clinical.csv"\n', encoding="utf-8")
    return manifest


def test_every_missing_clinical_column_in_one_problem(tmp_path):
    manifest = _clinical_only(tmp_path, "Participant ID,Session,Diagnosis\nP1,0,ALS\n")
    with pytest.raises(DataValidationError,
                       match="required clinical columns missing: site, years_from_baseline, "
                             "age, sex"):
        ingest(manifest)


def test_a_run_ending_with_zero_rows_is_an_error(tmp_path, capsys):
    manifest = _clinical_only(tmp_path, "subject_id,site,visit,years_from_baseline,group,age,"
                                        "sex\n")
    out = tmp_path / "cohort.csv"
    assert main(["ingest", "--manifest", str(manifest), "--out", str(out)]) == 1
    assert "0 rows" in capsys.readouterr().err and not out.exists()
