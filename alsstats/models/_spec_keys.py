"""Reading and strict key checking of model specifications (TOML)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from alsstats.errors import SpecError

__all__ = ["check_keys", "choice", "read_spec_file"]


def check_keys(table: Any, allowed: set[str], source: str, what: str) -> None:
    """Raise :class:`SpecError` unless ``table`` is a table whose keys are all ``allowed``."""
    if not isinstance(table, dict):
        raise SpecError(f"{source}: expected a table for {what}")
    extra = sorted(set(table) - allowed)
    if extra:
        raise SpecError(f"{source}: unknown {what} {', '.join(map(repr, extra))}; allowed: "
                        f"{', '.join(sorted(allowed))}")


def choice(table: dict, key: str, default: Any, allowed, source: str,
           where: str = "[model]") -> Any:
    """``table[key]`` (``default`` when absent); :class:`SpecError` unless it is ``allowed``."""
    value = table.get(key, default)
    if value not in allowed:
        raise SpecError(f"{source}: {where} {key} must be one of {', '.join(allowed)}; "
                        f"got {value!r}")
    return value


def read_spec_file(spec: str | os.PathLike) -> dict:
    """The TOML table in the spec file ``spec``; a clear :class:`SpecError` if absent or bad."""
    path = Path(spec)
    if not path.is_file():
        raise SpecError(f"{path}: spec file not found")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from exc
