"""validate_cohort: one error listing every problem, with row, column, value and rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alsstats.cli import main
from alsstats.errors import DataValidationError
from alsstats.schema import COLUMN_NAMES, read_cohort, validate_cohort, write_cohort
from alsstats.simulate import simulate_cohort


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort("default", seed=1)[0]


def _problems(df):
    with pytest.raises(DataValidationError) as info:
        validate_cohort(df)
    return info.value.problems


def test_clean_frame_types_and_order(cohort):
    raw = cohort.astype({"group": str, "sex": str, "visit": float})
    clean = validate_cohort(raw)
    assert tuple(clean.columns) == COLUMN_NAMES
    assert clean["visit"].dtype == np.int64
    assert isinstance(clean["group"].dtype, pd.CategoricalDtype)
    assert list(clean["group"].cat.categories) == ["HC", "MIMIC", "PMA", "ALS"]


def test_optional_columns_added_and_extra_columns_kept():
    df = pd.DataFrame({"subject_id": ["a"], "site": ["s"], "visit": [0],
                       "years_from_baseline": [0.0], "group": ["HC"], "age": [50],
                       "sex": ["F"], "my_note": ["x"]})
    clean = validate_cohort(df)
    assert clean["nfl_pg_ml"].isna().all() and clean["my_note"].tolist() == ["x"]


def test_every_problem_reported_at_once(cohort):
    df = cohort.copy().astype({"group": object, "sex": object, "age": object})
    df.loc[0, "group"] = "ALZ"
    df.loc[1, "age"] = -4
    df.loc[2, "age"] = "sixty"
    df.loc[3, "glu_naa"] = df.loc[3, "glu_naa"] * 1.5 if pd.notna(df.loc[3, "glu_naa"]) else 9
    df.loc[3, "glu"], df.loc[3, "naa"] = 8.0, 9.0
    df.loc[4, "m1_volume_mm3"] = -10.0
    df.loc[5, "sex"] = "X"
    df = pd.concat([df, df.iloc[[6]]], ignore_index=True)  # duplicate (subject, visit)
    problems = _problems(df)
    found = {(p.row, p.column) for p in problems}
    assert {(0, "group"), (1, "age"), (2, "age"), (3, "glu_naa"), (4, "m1_volume_mm3"),
            (5, "sex"), (len(df) - 1, "visit")} <= found
    by_col = {p.column: p for p in problems}
    assert by_col["sex"].value == "X" and "expected one of F, M" in by_col["sex"].rule
    assert "duplicate (subject_id, visit)" in by_col["visit"].rule


def test_missing_required_columns(cohort):
    problems = _problems(cohort.drop(columns=["group", "age"]))
    assert "required column missing: group, age" in problems[0].rule


def test_units_looking_wrong(cohort):
    df = cohort.copy()
    df["nfl_pg_ml"] = df["nfl_pg_ml"] / 1000  # ng/mL
    df["chi3l1_ng_ml"] = df["chi3l1_ng_ml"] * 1000  # pg/mL
    rules = " ".join(p.rule for p in _problems(df))
    assert "looks like ng/mL" in rules and "looks like pg/mL" in rules


def test_subject_level_consistency(cohort):
    df = cohort.copy().astype({"sex": object})
    sid = df["subject_id"].iloc[0]
    df.loc[df["subject_id"] == sid, "sex"] = ["F", "M", "F"][: (df["subject_id"] == sid).sum()]
    df.loc[1, "years_from_baseline"] = 0.0
    df.loc[2, "years_from_baseline"] = 0.0 if df.loc[1, "subject_id"] != sid else 0.2
    rules = [p.rule for p in _problems(df)]
    assert any("sex changes between visits" in r for r in rules)


def test_el_escorial_only_for_als(cohort):
    df = cohort.copy().astype({"el_escorial": object})
    row = df.index[df["group"] == "HC"][0]
    df.loc[row, "el_escorial"] = "definite"
    assert any(p.row == row and "non-ALS" in p.rule for p in _problems(df))


def test_csv_problems_name_file_and_line(tmp_path, cohort, capsys):
    path = tmp_path / "c.csv"
    df = cohort.copy().astype({"age": object})
    df.loc[4, "age"] = "old"
    df.to_csv(path, index=False)
    before = path.read_bytes()
    with pytest.raises(DataValidationError) as info:
        read_cohort(path)
    assert f"{path} line 6" in str(info.value) and "'old'" in str(info.value)
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert first.startswith("alsstats validate: error: ") and f"{path} line 6" in first
    assert "'old'" in first and "Traceback" not in err
    assert path.read_bytes() == before  # input never modified


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip(tmp_path, cohort, suffix):
    path = write_cohort(cohort, tmp_path / f"c{suffix}")
    back = read_cohort(path)
    pd.testing.assert_frame_equal(back, cohort, check_dtype=False, check_categorical=False)


def test_unreadable_inputs(tmp_path):
    with pytest.raises(DataValidationError, match="file not found"):
        read_cohort(tmp_path / "nope.csv")
    bad = tmp_path / "x.xlsx"
    bad.write_text("x")
    with pytest.raises(DataValidationError, match="unknown file type"):
        read_cohort(bad)
    garbage = tmp_path / "g.parquet"
    garbage.write_bytes(b"not parquet")
    with pytest.raises(DataValidationError, match="cannot be read as parquet"):
        read_cohort(garbage)
