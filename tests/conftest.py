"""Shared fixtures.  Expensive objects (simulated cohorts, compiled models) are session-scoped."""

from __future__ import annotations

from pathlib import Path

import pytest


def _find_shared() -> Path:
    """``../shared`` next to the repository, or next to any parent (git worktrees live deeper)."""
    repo = Path(__file__).resolve().parents[1]
    for parent in repo.parents:
        if (parent / "shared").is_dir():
            return parent / "shared"
    return repo.parent / "shared"


SHARED = _find_shared()


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
