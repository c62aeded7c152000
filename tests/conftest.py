"""Shared fixtures.  Expensive objects (simulated cohorts, compiled models) are session-scoped.

Reference files are looked up in ``tests/data/`` (licensed copies, see
``tests/data/SOURCES.md``) and then in ``../shared/reference-data/`` (files that may not
be redistributed here).  A file found in neither is a skip locally and an **error** when
the environment variable ``CI`` is set, so CI cannot pass by skipping reference tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = REPO / "tests" / "data"


def _find_shared() -> Path:
    """``../shared`` next to the repository, or next to any parent (git worktrees live deeper)."""
    for parent in REPO.parents:
        if (parent / "shared").is_dir():
            return parent / "shared"
    return REPO.parent / "shared"


SHARED = _find_shared()


def missing_reference(reason: str) -> NoReturn:
    """Fail under CI (``CI`` set and not empty/false), else skip, with ``reason``."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{reason} (CI requires the reference data: put shared/ beside the clone)",
                    pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def reference_path() -> Callable[[str], Path]:
    """``reference_path("formats/nifti")``: the file or folder from tests/data or ../shared."""

    def find(relative: str) -> Path:
        for root in (TEST_DATA, SHARED / "reference-data"):
            if (root / relative).exists():
                return root / relative
        missing_reference(f"reference data {relative!r} not found in {TEST_DATA} or "
                          f"{SHARED / 'reference-data'}")

    return find
