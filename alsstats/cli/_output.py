"""One output convention for command results: ``--out FILE`` in the format its extension names.

* ``.json`` — the command's full result, exactly as ``--json`` prints it (the result table's
  rows included): every JSON result carries ``kind`` (the command, e.g. ``"power.slope"``),
  ``inputs`` (the options it ran with) and ``alsstats_version``;
* ``.csv`` / ``.parquet`` — the command's result table (one row per marker, model, curve
  point, patient, …; for a single-number answer such as a sample size, one row of its
  scalar values).

Any other extension is a usage error (exit status 2) raised before any work is done.
``alsstats report --from`` renders every JSON result (see :mod:`alsstats.pipeline.from_file`).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from alsstats._version import __version__

__all__ = ["RESULT_FORMATS", "add_out", "check_out", "envelope", "write_result"]

RESULT_FORMATS = (".json", ".csv", ".parquet")

# Parser defaults and bookkeeping that are not the user's inputs.
_NOT_INPUTS = {"func", "json", "kind", "out_formats", "quiet"}


def add_out(parser: argparse.ArgumentParser, *, required: bool = False,
            table: str = "the result table") -> None:
    """Add ``--out FILE`` with the result-file convention (``.json``, ``.csv``, ``.parquet``)."""
    parser.add_argument("--out", metavar="FILE", required=required,
                        help=f"write the result: .json (everything, with kind, inputs and "
                             f"version), .csv or .parquet ({table})")
    parser.set_defaults(out_formats=RESULT_FORMATS)


def check_out(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage error (exit 2) unless ``--out`` names a format the command writes."""
    formats = getattr(args, "out_formats", None)
    out = getattr(args, "out", None)
    if formats and out and Path(out).suffix.lower() not in formats:
        parser.error(f"--out {out}: unknown extension {Path(out).suffix or '(none)'!r}; "
                     f"expected one of {', '.join(formats)}")


def _inputs(args: argparse.Namespace) -> dict[str, Any]:
    return {k: (os.fspath(v) if isinstance(v, os.PathLike) else v)
            for k, v in sorted(vars(args).items())
            if k not in _NOT_INPUTS and not callable(v)}


def envelope(args: argparse.Namespace, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``kind``, ``inputs`` and ``alsstats_version`` in front."""
    head = {"kind": getattr(args, "kind", None), "alsstats_version": __version__,
            "inputs": _inputs(args)}
    return {**head, **{k: v for k, v in data.items() if k not in head}}


def _scalar_row(data: dict[str, Any]):
    import pandas as pd

    flat = pd.json_normalize(data, sep=".")
    keep = [c for c in flat.columns
            if not isinstance(flat.at[0, c], (list, dict, tuple)) and not c.startswith("inputs.")]
    return flat[keep]


def write_result(path: str | os.PathLike, data: dict[str, Any], table=None) -> None:
    """Write ``data`` (``.json``) or ``table`` (``.csv``/``.parquet``) to ``path``, atomically.

    Parameters
    ----------
    path : path
        Output file; its extension picks the format (checked by :func:`check_out`).
    data : dict
        The full result, with its :func:`envelope` (it holds the table's rows too).
    table : pandas.DataFrame, optional
        The result table; without one, a single row of ``data``'s scalar values.
    """
    from alsstats._files import atomic_path, atomic_write, write_json
    from alsstats._json import to_jsonable

    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        write_json(path, to_jsonable(data))
        return
    frame = _scalar_row(to_jsonable(data)) if table is None else table
    if suffix == ".csv":
        with atomic_write(path, encoding="utf-8", newline="") as fh:
            frame.to_csv(fh, index=False, lineterminator="\n")
    else:
        with atomic_path(path) as tmp:
            frame.to_parquet(tmp, index=False)
