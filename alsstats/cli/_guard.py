"""The checks every command runs before it reads or writes anything (the output policy).

:func:`prepare_run` is called by :func:`alsstats.cli.main` after parsing and
before the command runs:

* **Seed.** A negative ``--seed`` is refused.  A command with a ``--seed``
  option run without one gets a fresh seed, printed on stderr and returned so
  that it is stored in the JSON output: every run can be repeated.
* **Outputs.** Each output (``--out``, ``--checkpoint`` and the sidecars a
  command writes next to ``--out``) must not resolve to any input: the data,
  model, spec, scenario, manifest or any file the manifest names.  An output
  that exists must be a regular file (a folder for report folders and
  checkpoints); an ancestor that is a file is refused.  Nothing is created
  here; the writers create missing parent folders.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tomllib
from pathlib import Path

from alsstats._files import check_output_target
from alsstats.errors import OutputError, UsageError

__all__ = ["INPUT_OPTIONS", "prepare_run"]

#: Argument names that hold input paths (a value that is not an existing path is ignored:
#: e.g. a shipped scenario name).
INPUT_OPTIONS = ("data", "file", "model", "spec", "scenario", "cohort_scenario", "manifest",
                 "source", "path")
#: Commands whose ``--out`` is a folder.
_FOLDER_OUT = {"demo", "report"}
_MANIFEST_PATH_KEYS = {"file", "subjects_dir", "aparc_lh_table", "aparc_rh_table", "aseg_table",
                       "dir", "mask", "maps_dir", "stack", "subject_list"}


def prepare_run(args: argparse.Namespace) -> int | None:
    """Check the seed and the outputs of a parsed command; returns the seed drawn, if any.

    Raises
    ------
    UsageError
        A negative ``--seed``.
    OutputError
        An output that is an input, is not a regular file (or folder), or lies
        under a file.
    """
    drawn = _seed(args)
    inputs = _inputs(args)
    for option, path, folder in _outputs(args):
        _check_output(option, path, inputs, folder=folder)
    return drawn


def _seed(args: argparse.Namespace) -> int | None:
    """Draw a seed when none is given and the run uses one (``args.seed_needed``, a
    predicate a command may set; default: always); returns the drawn seed."""
    if not hasattr(args, "seed"):
        return None
    if args.seed is None:
        if not getattr(args, "seed_needed", lambda _: True)(args):
            return None
        args.seed = secrets.randbelow(2**31)
        return args.seed
    if args.seed < 0:
        raise UsageError(f"--seed {args.seed}: a seed must be a whole number >= 0")
    return None


def _inputs(args: argparse.Namespace) -> dict[Path, str]:
    found: dict[Path, str] = {}
    for name in INPUT_OPTIONS:
        value = getattr(args, name, None)
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, str | os.PathLike) and v and Path(v).exists():
                found[Path(v).resolve()] = f"--{name.replace('_', '-')} {v}"
                if name == "manifest":
                    found.update(_manifest_inputs(Path(v)))
    return found


def _manifest_inputs(manifest: Path) -> dict[Path, str]:
    """Every path a manifest names (leniently: a broken manifest is reported by ingest)."""
    try:
        raw = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    out = {}
    for section in raw.values():
        if not isinstance(section, dict):
            continue
        for key, value in section.items():
            if key in _MANIFEST_PATH_KEYS and isinstance(value, str) and value:
                p = (manifest.parent / value).resolve()
                out[p] = f"{value} (named in the manifest)"
    return out


def _outputs(args: argparse.Namespace) -> list[tuple[str, str, bool]]:
    command = getattr(args, "command", "")
    outs = []
    out = getattr(args, "out", None)
    if out:
        outs.append(("--out", str(out), command in _FOLDER_OUT))
        if command == "ingest":
            from alsstats.io.assemble.ingest import output_paths

            outs += [("--out (sidecar)", str(p), False)
                     for k, p in output_paths(out).items() if k != "cohort"]
        if command == "simulate":
            outs.append(("--out (sidecar)", str(Path(out).with_suffix(".json")), False))
    checkpoint = getattr(args, "checkpoint", None)
    if checkpoint:
        outs.append(("--checkpoint", str(checkpoint), True))
    return outs


def _check_output(option: str, path: str, inputs: dict[Path, str], *, folder: bool) -> None:
    resolved = Path(path).resolve()
    for inp, label in inputs.items():
        if resolved == inp or (folder and inp.is_relative_to(resolved) and inp != resolved
                               and _is_report_file(inp, resolved)):
            raise OutputError(f"{option} {path} is the input {label}; refusing to overwrite an "
                              "input (give another output path)")
        if resolved.exists() and inp.exists() and os.path.samefile(resolved, inp):
            raise OutputError(f"{option} {path} is the same file as the input {label}; refusing "
                              "to overwrite an input")
    try:
        check_output_target(path, folder=folder)
    except OutputError as exc:
        raise OutputError(f"{option} {exc}") from None


def _is_report_file(inp: Path, folder: Path) -> bool:
    """An input inside a report folder that writing the report would replace or remove."""
    rel = inp.relative_to(folder)
    return rel == Path("index.html") or (rel.parent == Path("data") and rel.suffix == ".csv")
