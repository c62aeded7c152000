"""Shared behaviour of validation results: ``to_dict()`` for JSON, ``to_frame()`` for tables."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Result", "plain"]


def plain(obj: Any) -> Any:
    """Convert numpy values, frames and nested results to plain JSON values (NaN/inf -> None)."""
    if isinstance(obj, Result):
        return obj.to_dict()
    if isinstance(obj, pd.DataFrame):
        return [plain(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, pd.Series):
        return plain(obj.tolist())
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    if isinstance(obj, np.generic):
        return plain(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


class Result:
    """Mixin for result dataclasses.

    ``to_dict`` returns every field as plain JSON values (arrays become lists,
    nested results become dicts, NaN and infinities become ``None``).
    Subclasses override ``to_frame`` with their natural table.
    """

    def to_dict(self) -> dict[str, Any]:
        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def to_frame(self) -> pd.DataFrame:
        scalars = {k: v for k, v in self.to_dict().items() if not isinstance(v, list | dict)}
        return pd.DataFrame([scalars])
