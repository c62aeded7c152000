"""``alsstats ingest``: the cohort table from FreeSurfer, LCModel, ICA maps and a clinical sheet."""

from __future__ import annotations

import argparse

from alsstats.cli._common import Outcome, add_command
from alsstats.io.cohort import ingest, write_ingest

__all__ = ["register"]


def register(sub) -> None:
    p = add_command(
        sub, "ingest", "assemble the cohort table from a manifest of imaging and lab outputs",
        _run,
        description="Read the sources named in a TOML manifest (FreeSurfer SUBJECTS_DIR or "
                    "group tables, LCModel outputs, ICA maps + SMA mask, clinical sheet), join "
                    "them by subject and visit, validate, and write the cohort with a "
                    "provenance sidecar and a QC report. Inputs are never modified.")
    p.add_argument("--manifest", required=True, help="manifest TOML file")
    p.add_argument("--out", required=True, help="cohort table to write (.csv or .parquet)")
    p.add_argument("--skip-bad", action="store_true",
                   help="leave out and report bad subjects instead of stopping")
    p.add_argument("--crlb-max", type=float, default=None, metavar="PERCENT",
                   help="LCModel CRLB (%%SD) threshold; overrides the manifest (default 20)")


def _run(args: argparse.Namespace) -> Outcome:
    result = ingest(args.manifest, skip_bad=args.skip_bad, crlb_max=args.crlb_max)
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
