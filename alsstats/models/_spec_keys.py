"""Strict key checking for model specifications (TOML tables)."""

from __future__ import annotations

from typing import Any

from alsstats.errors import SpecError

__all__ = ["check_keys"]


def check_keys(table: Any, allowed: set[str], source: str, what: str) -> None:
    """Raise :class:`SpecError` unless ``table`` is a table whose keys are all ``allowed``."""
    if not isinstance(table, dict):
        raise SpecError(f"{source}: expected a table for {what}")
    extra = sorted(set(table) - allowed)
    if extra:
        raise SpecError(f"{source}: unknown {what} {', '.join(map(repr, extra))}; allowed: "
                        f"{', '.join(sorted(allowed))}")
