"""Shared behaviour of validation results: ``to_dict()`` for JSON, ``to_frame()`` for tables."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from alsstats._json import to_jsonable

__all__ = ["Result"]


class Result:
    """Mixin for result dataclasses.

    ``to_dict`` returns every field as plain JSON values (arrays become lists,
    nested results become dicts, NaN and infinities become ``None``), except the fields
    a subclass names in ``_NOT_IN_DICT`` (bulky arrays such as bootstrap or posterior
    draws).  Subclasses override ``to_frame`` with their natural table.
    """

    _NOT_IN_DICT: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {f.name: to_jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)
                if f.name not in self._NOT_IN_DICT}

    def to_frame(self) -> pd.DataFrame:
        scalars = {k: v for k, v in self.to_dict().items() if not isinstance(v, list | dict)}
        return pd.DataFrame([scalars])
