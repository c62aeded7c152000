"""``alsstats ingest``: the cohort table from FreeSurfer, LCModel, ICA maps and a clinical sheet."""

from __future__ import annotations

import argparse
from pathlib import Path

from alsstats.cli._common import Outcome, add_command
from alsstats.errors import DataValidationError

__all__ = ["register"]


def register(sub) -> None:
    p = add_command(
        sub, "ingest", "assemble the cohort table from a manifest of imaging and lab outputs",
        _run,
        description="Read the sources named in a TOML manifest (FreeSurfer SUBJECTS_DIR or "
                    "group tables, LCModel outputs, ICA maps + SMA mask, clinical sheet), join "
                    "them by subject and visit, validate, and write the cohort with a "
                    "provenance sidecar and a QC report. Inputs are never modified. "
                    "'alsstats ingest freesurfer DIR --out t.csv' (or lcmodel DIR) reads one "
                    "source on its own into a per-subject table. Start a manifest with "
                    "'alsstats ingest --template manifest.toml': every section and key, "
                    "commented.")
    p.add_argument("source", nargs="?", choices=("freesurfer", "lcmodel"),
                   help="single-source mode: read only this source (no manifest)")
    p.add_argument("path", nargs="?", help="single-source mode: SUBJECTS_DIR or LCModel folder")
    p.add_argument("--manifest", help="manifest TOML file (start one with --template)")
    p.add_argument("--template", metavar="FILE", nargs="?", const="-",
                   help="write a commented manifest template to FILE (or stdout) and stop")
    p.add_argument("--out", help="table to write (.csv or .parquet)")
    p.add_argument("--skip-bad", action="store_true",
                   help="leave out and report bad subjects instead of stopping")
    p.add_argument("--crlb-max", type=_percent, default=None, metavar="PERCENT",
                   help="LCModel CRLB (%%SD) threshold in (0, 999); overrides the manifest "
                        "(default 20)")
    p.add_argument("--allow-outside-paths", action="store_true",
                   help="accept manifest paths that resolve outside the manifest's folder "
                        "(by default they are refused)")


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 999:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be in (0, 999) percent, got {text}")
    return value


def _run(args: argparse.Namespace) -> Outcome:
    if args.template is not None:
        return _template(args.template)
    if args.out is None:
        raise DataValidationError("--out is required: the cohort table to write "
                                  "(.csv or .parquet)")
    from alsstats.io.assemble.ingest import ingest, ingest_source, write_ingest

    if (args.manifest is None) == (args.source is None):
        raise DataValidationError("give either --manifest M.toml or a single source "
                                  "('freesurfer DIR' or 'lcmodel DIR')")
    if args.manifest is not None:
        result = ingest(args.manifest, skip_bad=args.skip_bad, crlb_max=args.crlb_max,
                        allow_outside=args.allow_outside_paths)
    else:
        if args.path is None:
            raise DataValidationError(f"{args.source}: the folder to read is missing")
        result = ingest_source(args.source, args.path, skip_bad=args.skip_bad,
                               crlb_max=20.0 if args.crlb_max is None else args.crlb_max)
    paths = write_ingest(result, args.out)
    summary = result.qc_summary()
    lines = [f"{paths['cohort']}: {summary['rows']} rows, {summary['subjects']} subjects"]
    for source, counts in sorted(summary["counts"].items()):
        lines.append(f"  {source}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if summary["skipped"]:
        lines.append(f"  skipped (bad input): {', '.join(summary['skipped'])}")
    lines.append(f"  provenance: {paths['provenance']}")
    lines.append(f"  QC report: {paths['qc_json']}, {paths['qc_csv']}")
    return Outcome({"outputs": {k: str(v) for k, v in paths.items()}, "qc": summary},
                   "\n".join(lines))


def _template(path: str) -> Outcome:
    from importlib import resources

    from alsstats._files import atomic_write

    text = (resources.files("alsstats.io.assemble") / "manifest_template.toml").read_text(
        encoding="utf-8")
    if path == "-":
        return Outcome({"template": text}, text.rstrip("\n"))
    if Path(path).exists():
        raise DataValidationError(f"{path}: already exists; the template never overwrites a "
                                  "file (choose another name)")
    with atomic_write(path, encoding="utf-8") as fh:
        fh.write(text)
    return Outcome({"template": str(path)},
                   f"wrote {path}: edit the paths, delete the sources you do not have, then "
                   f"run 'alsstats ingest --manifest {path} --out cohort.csv'")
