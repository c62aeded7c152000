"""Shared fixtures.  Expensive objects (simulated cohorts, compiled models) are session-scoped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[1]
# ``../shared`` next to the repository; a git worktree one level deeper looks one level up too.
SHARED = next((p for p in (Path(os.environ.get("ALSSTATS_SHARED", _ROOT.parent / "shared")),
                           _ROOT.parent.parent / "shared") if p.is_dir()),
              _ROOT.parent / "shared")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ``../shared`` folder (reference data); tests skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"shared reference folder not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def reference_data(shared_dir: Path) -> Path:
    path = shared_dir / "reference-data"
    if not path.is_dir():
        pytest.skip(f"reference data not found at {path}")
    return path
