"""Shared fixtures.  Expensive objects (simulated cohorts, compiled models) are session-scoped.

Reference files are looked up in ``tests/data/`` (copies whose license allows it, see
``tests/data/SOURCES.md``) and then in the external reference-data folder: the folder named
by the environment variable ``ALSSTATS_REFERENCE_DATA``, else ``shared/reference-data/``
beside the clone (or beside any parent: git worktrees live deeper).  It holds the files that
may not be copied here (the GPL FreeSurfer fixtures).

A reference test never skips.  A file found in neither place **fails** the test, naming the
file and how to provide it.  Tests that read the external folder carry the marker
``needs_shared`` (checked: reading it from an unmarked test fails too), so someone who
knowingly lacks the data can deselect exactly them with
``pytest -m "not slow and not needs_shared"``.  Under ``CI`` (set and not empty/0/false)
that opt-out is refused: CI must run every reference test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from pathlib import Path
from typing import NoReturn

import pytest

from tests.report.chromium import find_or_install

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = REPO / "tests" / "data"
REFERENCE_ENV = "ALSSTATS_REFERENCE_DATA"
NEEDS_SHARED = "needs_shared"


def _find_shared() -> Path:
    """``../shared`` next to the repository, or next to any parent (git worktrees live deeper)."""
    for parent in REPO.parents:
        if (parent / "shared").is_dir():
            return parent / "shared"
    return REPO.parent / "shared"


def external_reference_data() -> Path:
    """The folder of reference data that is not in the repository.

    Returns
    -------
    Path
        ``$ALSSTATS_REFERENCE_DATA`` if set, else ``shared/reference-data`` beside the clone
        (which need not exist).
    """
    override = os.environ.get(REFERENCE_ENV, "")
    return Path(override) if override else _find_shared() / "reference-data"


def under_ci() -> bool:
    """True when the environment variable ``CI`` is set and not empty, ``0`` or ``false``."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


# The test being run (setup, call and teardown), so that a reference lookup can check the
# marker of the test that needs it even when a session- or module-scoped fixture asks.
_running: list[pytest.Item] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """Remember ``item`` while it runs (see :func:`reference_path`)."""
    _running.append(item)
    try:
        return (yield)
    finally:
        _running.pop()


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to deselect the ``needs_shared`` tests under CI."""
    if under_ci() and NEEDS_SHARED in (config.option.markexpr or ""):
        raise pytest.UsageError(
            f"CI is set: the reference tests cannot be deselected (-m {config.option.markexpr!r})."
            f" Provide the data: {_how_to_provide()}")


def _how_to_provide() -> str:
    return (f"set {REFERENCE_ENV}=/path/to/reference-data, or put shared/ (with "
            f"reference-data/ inside) beside the clone")


def _missing(relative: str, external: Path) -> NoReturn:
    message = (f"reference data {relative!r} is missing: not in {TEST_DATA} and not in "
               f"{external}.  To provide it, {_how_to_provide()}.")
    if not under_ci():
        message += (f"  To run without it knowingly, deselect the {NEEDS_SHARED} tests: "
                    f"pytest -m \"not slow and not {NEEDS_SHARED}\" (see tests/data/SOURCES.md).")
    pytest.fail(message, pytrace=False)


def _check_marked(relative: str) -> None:
    item = _running[-1] if _running else None
    if item is not None and item.get_closest_marker(NEEDS_SHARED) is None:
        pytest.fail(f"{item.nodeid} reads {relative!r} from outside the repository but is not "
                    f"marked {NEEDS_SHARED}: mark it so that -m \"not {NEEDS_SHARED}\" "
                    f"deselects it", pytrace=False)


@pytest.fixture(scope="session")
def reference_path() -> Callable[[str], Path]:
    """``reference_path("formats/nifti")``: the file or folder from tests/data or outside.

    A path found only in the external folder must be asked for by a test marked
    ``needs_shared``; a path found nowhere fails the test with the file's name and how to
    provide it (never a skip).
    """

    def find(relative: str) -> Path:
        if (TEST_DATA / relative).exists():
            return TEST_DATA / relative
        _check_marked(relative)
        external = external_reference_data()
        if (external / relative).exists():
            return external / relative
        _missing(relative, external)

    return find


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a Chromium binary for the report-rendering checks (``tests/report/chromium.py``).

    Chromium is a system program, not a Python dependency, so ``make test`` cannot install
    it without root: a machine without it skips these checks with the reason, and under CI
    (where the rendering must be checked) its absence is a failure.
    """
    path, reason = find_or_install()
    if path is None:
        if under_ci():
            pytest.fail(f"CI requires chromium for the rendering checks: {reason}",
                        pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def jax_installed() -> None:
    """The optional JAX backend (the ``jax`` extra, which ``make`` installs).

    A machine without it skips the JAX-backend checks with the reason; under CI, where
    ``make test`` installs it, its absence is a failure.
    """
    import importlib.util

    if importlib.util.find_spec("jax") is None:
        reason = "JAX is not installed (pip install 'alsstats[jax]'; make installs it)"
        if under_ci():
            pytest.fail(f"CI requires the JAX backend: {reason}", pytrace=False)
        pytest.skip(reason)
