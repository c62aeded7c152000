"""The hardened command line beyond the battery: seeds, the top-level handler, exit codes,
reported duplicates, report folders, the atomic writer's refusals."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from alsstats._files import atomic_write
from alsstats.cli import EXIT_INTERNAL, main
from alsstats.errors import DataValidationError, OutputError, Problem
from alsstats.schema import NEAR_CONSTANT_RTOL, is_near_constant


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(4)
    y = np.repeat([1, 0], 15)
    df = pd.DataFrame({"y": y, "a": rng.normal(y, 1.0)})
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    return path


def test_seed_is_printed_and_stored_when_none_is_given(table, capsys):
    # roc draws a seed only for bootstrap intervals (DeLong: tests/cli/test_conventions.py)
    boot = ["--method", "bootstrap", "--n-boot", "100"]
    assert main(["roc", str(table), "--outcome", "y", "--marker", "a", "--json", *boot]) == 0
    out, err = capsys.readouterr()
    seed = json.loads(out)["seed"]
    assert isinstance(seed, int) and seed >= 0
    assert f"used seed {seed} (pass --seed {seed} to repeat this run)" in err
    assert main(["roc", str(table), "--outcome", "y", "--marker", "a", "--json", *boot,
                 "--seed", "7"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["seed"] == 7 and "seed" not in err


def test_unexpected_error_is_one_line_with_debug_hint(table, capsys, monkeypatch):
    from alsstats import validation  # the CLI imports it on use (lazy heavy imports)

    def boom(*args, **kwargs):
        raise RuntimeError("internal state broken\nsecond line")

    monkeypatch.setattr(validation, "auc_ci", boom)
    argv = ["roc", str(table), "--outcome", "y", "--marker", "a", "--seed", "1"]
    assert main(argv) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.splitlines()[0] == ("alsstats roc: error: unexpected error (RuntimeError): "
                                   "internal state broken")
    assert "run with --debug for the traceback" in err and "Traceback" not in err
    assert main(["--debug", *argv]) == EXIT_INTERNAL
    assert "Traceback" in capsys.readouterr().err
    assert main([*argv, "--debug"]) == EXIT_INTERNAL  # --debug anywhere
    assert "Traceback" in capsys.readouterr().err


def test_numpy_scalars_are_plain_in_messages(table, capsys, monkeypatch):
    from alsstats import validation  # the CLI imports it on use (lazy heavy imports)

    def bad(*args, **kwargs):
        raise ValueError(f"value {np.float64(-3.0)!r} is negative")

    monkeypatch.setattr(validation, "auc_ci", bad)
    assert main(["roc", str(table), "--outcome", "y", "--marker", "a", "--seed", "1"]) == 1
    assert "value -3.0 is negative" in capsys.readouterr().err


def test_exact_repeated_rows_are_excluded_and_reported(tmp_path, table, capsys):
    df = pd.read_csv(table)
    doubled = tmp_path / "d.csv"
    pd.concat([df, df.iloc[:4]]).to_csv(doubled, index=False)
    assert main(["roc", str(doubled), "--outcome", "y", "--marker", "a", "--json",
                 "--seed", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"reason": "exact repeat of an earlier row (every column equal)", "rows": 4} in \
        data["exclusions"]
    assert data["n_positive"] + data["n_negative"] == len(df)


def test_near_constant_tolerance():
    assert is_near_constant([5.0, 5.0, 5.0]) and is_near_constant([0.0, 0.0])
    assert is_near_constant([1.0, 1.0 + 1.8e-15, 1.0 - 1e-15])
    assert is_near_constant([100.0, 100.0 * (1 + NEAR_CONSTANT_RTOL)])
    assert not is_near_constant([100.0, 100.0 * (1 + 10 * NEAR_CONSTANT_RTOL)])
    assert not is_near_constant([-0.1, 0.1])


def test_validation_error_first_line_is_the_first_problem():
    err = DataValidationError([Problem("out of range", column="age", row=3, value=-3.0,
                                       file="c.csv"), Problem("bad", column="sex", row=4)])
    first, _, rest = str(err).partition("\n")
    assert first == ("c.csv, row 3, column 'age' (value -3.0): out of range "
                     "(and 1 more problem; all 2 below)")
    assert "row 4, column 'sex'" in rest


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform (Windows)")
def test_atomic_writer_refuses_non_regular_targets(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="FIFO"), atomic_write(fifo) as fh:
        fh.write("x")
    assert fifo.exists() and not fifo.is_file()
    (tmp_path / "f").write_text("file")
    with pytest.raises(OutputError, match="is a file, not a folder") as info, \
            atomic_write(tmp_path / "f" / "x.csv") as fh:
        fh.write("x")
    assert ".tmp" not in str(info.value)
    assert list(tmp_path.glob(".*.tmp")) == []


def test_report_folder_holds_only_the_latest_report(tmp_path):
    from alsstats.report.document import Report, Section, Table, write_report

    def report(slug):
        return Report("r", [Section("s", "s", items=[Table("t", pd.DataFrame({"x": [1]}),
                                                           slug=slug)])])

    write_report(report("old"), tmp_path)
    (tmp_path / "notes.txt").write_text("user file")
    write_report(report("new"), tmp_path)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["s-new.csv"]
    assert (tmp_path / "notes.txt").exists()  # only the report's own CSVs are removed
