"""``alsstats ingest``: the cohort table from FreeSurfer, LCModel, ICA maps and a clinical sheet."""

from __future__ import annotations

import argparse

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
                    "source on its own into a per-subject table.")
    p.add_argument("source", nargs="?", choices=("freesurfer", "lcmodel"),
                   help="single-source mode: read only this source (no manifest)")
    p.add_argument("path", nargs="?", help="single-source mode: SUBJECTS_DIR or LCModel folder")
    p.add_argument("--manifest", help="manifest TOML file")
    p.add_argument("--out", required=True, help="table to write (.csv or .parquet)")
    p.add_argument("--skip-bad", action="store_true",
                   help="leave out and report bad subjects instead of stopping")
    p.add_argument("--crlb-max", type=float, default=None, metavar="PERCENT",
                   help="LCModel CRLB (%%SD) threshold; overrides the manifest (default 20)")


def _run(args: argparse.Namespace) -> Outcome:
    from alsstats.io.assemble.ingest import ingest, ingest_source, write_ingest

    if (args.manifest is None) == (args.source is None):
        raise DataValidationError("give either --manifest M.toml or a single source "
                                  "('freesurfer DIR' or 'lcmodel DIR')")
    if args.manifest is not None:
        result = ingest(args.manifest, skip_bad=args.skip_bad, crlb_max=args.crlb_max)
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
