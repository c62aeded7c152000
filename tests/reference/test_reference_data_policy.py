"""A clone without the external reference data must fail loudly, never pass by skipping.

Each check runs pytest on the FreeSurfer module that reads the external folder
(``needs_shared``) in a subprocess, with ``ALSSTATS_REFERENCE_DATA`` pointing at an empty
folder: what a fresh clone without ``../shared`` sees.  Before issue 11 these tests skipped
(exit 0) unless ``CI`` was set.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODULE = "tests/io/test_io_freesurfer_reference.py"
N_TESTS = 11  # the tests in MODULE, all marked needs_shared


def _pytest(tmp_path: Path, *args: str, ci: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    env["ALSSTATS_REFERENCE_DATA"] = str(tmp_path / "empty")
    if ci is not None:
        env["CI"] = ci
    (tmp_path / "empty").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "pytest", MODULE, "-q", "-rs",
                           "-p", "no:cacheprovider", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("ci", [None, "true"])
def test_missing_reference_data_fails_naming_the_file(tmp_path, ci):
    run = _pytest(tmp_path, ci=ci)
    out = run.stdout
    assert run.returncode == 1, out
    # The lookup is in each module fixture's setup, so pytest reports errors (not failures).
    assert f"{N_TESTS} errors" in out and "passed" not in out and "skipped" not in out
    assert "reference data 'formats/freesurfer/fs6_fabian' is missing" in out
    assert f"not in {tmp_path / 'empty'}" in out
    assert "ALSSTATS_REFERENCE_DATA=/path/to/reference-data" in out
    # The opt-out is offered locally and not under CI.
    assert ('-m "not slow and not needs_shared"' in out) is (ci is None)


def test_opt_out_deselects_exactly_the_needs_shared_tests(tmp_path):
    run = _pytest(tmp_path, "-m", "not slow and not needs_shared")
    assert run.returncode == 5, run.stdout  # no test left to run, nothing failed or skipped
    assert f"{N_TESTS} deselected" in run.stdout


def test_opt_out_is_refused_under_ci(tmp_path):
    run = _pytest(tmp_path, "-m", "not slow and not needs_shared", ci="true")
    assert run.returncode == 4, run.stdout + run.stderr  # usage error
    assert "CI is set: the reference tests cannot be deselected" in run.stderr


def test_distributions_do_not_ship_the_test_data():
    # The GPL data sets in tests/data/ are distributed beside alsstats, never inside it
    # (tests/data/SOURCES.md).  Checked by building both on 2026-11-29: the wheel holds
    # alsstats/ only, the sdist alsstats/ plus LICENSE, README.md and the build files.
    tool = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert tool["packages"]["find"]["include"] == ["alsstats*"]
    assert set(tool["package-data"]) == {"alsstats"}
    assert not (REPO / "MANIFEST.in").exists()  # would add files (such as tests/) to the sdist
