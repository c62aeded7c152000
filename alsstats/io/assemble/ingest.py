"""Assemble the cohort table from a manifest, with provenance and a QC report.

The clinical sheet is the spine (one row per subject and visit).  Each
imaging source adds its columns by ``(subject_id, visit)``; then

    glu_naa            = glu / naa
    glu_gaba           = glu / gaba
    m1_precuneus_ratio = m1_volume_mm3 / precuneus_volume_mm3
    smn_sma            = (smn_sma_raw − mean_HC) / sd_HC   (baseline healthy controls;
                         or smn_sma_raw itself when ``zscore_to_hc = false``)

are computed where both parts exist, and the table is checked with
:func:`alsstats.schema.validate_cohort`.  A bad subject (unreadable or
failing input, imaging without a clinical row) stops the run with every
problem listed, unless ``skip_bad=True``: then its rows are left out and
reported.  Duplicates and mixed scaling always stop the run.  Inputs are
only read.
"""

from __future__ import annotations

import csv
import datetime as _dt
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alsstats._files import atomic_path, atomic_write, file_sha256, write_json
from alsstats._version import __version__
from alsstats.errors import DataValidationError, Problem
from alsstats.io._problems import QCItem, fail, problem
from alsstats.io.assemble.manifest import FreeSurferSource, LCModelSource, Manifest, load_manifest
from alsstats.io.assemble.sources import (
    Failure,
    SourceRecords,
    collect_fmri,
    collect_freesurfer,
    collect_lcmodel,
)
from alsstats.io.clinical import read_clinical
from alsstats.io.ids import IdRules, collision_key
from alsstats.io.lcmodel.mrs import MrsOptions
from alsstats.schema import COLUMNS, validate_cohort

__all__ = ["IngestResult", "ingest", "ingest_source", "output_paths", "write_ingest"]

_RATIOS = (("glu_naa", "glu", "naa"), ("glu_gaba", "glu", "gaba"),
           ("m1_precuneus_ratio", "m1_volume_mm3", "precuneus_volume_mm3"))


@dataclass
class IngestResult:
    """The validated cohort, the QC items and the provenance record."""

    cohort: pd.DataFrame
    qc: list[QCItem] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)

    def qc_summary(self) -> dict:
        """Counts of QC items by source and kind, and the skipped subjects."""
        counts: dict[str, dict[str, int]] = {}
        for item in self.qc:
            counts.setdefault(item.source, {}).setdefault(item.kind, 0)
            counts[item.source][item.kind] += 1
        skipped = sorted({f"{i.subject or i.file}/{i.visit}" if i.visit is not None
                          else str(i.subject or i.file) for i in self.qc if i.kind == "skipped"})
        return {"rows": len(self.cohort), "subjects": int(self.cohort["subject_id"].nunique()),
                "counts": counts, "skipped": skipped}


def _failure_problems(failures: list[Failure]) -> list[Problem]:
    return [Problem(rule=f"bad subject {f.raw!r} ({f.source}): {p.rule}", file=p.file,
                    value=p.value) for f in failures for p in f.problems]


def _orphans(records: list[SourceRecords], keys: set, sheet: Path) -> list[Failure]:
    near = {collision_key(s): s for s, _ in keys}
    out = []
    for rec in records:
        for key in rec.values:
            if key not in keys:
                raw = rec.raw_names[key]
                similar = near.get(collision_key(key[0]))
                hint = (f"; the sheet has {similar!r} (set [ids] casefold / strip_zeros?)"
                        if similar is not None else "; check the ID or add the row")
                out.append(Failure(rec.source, raw, key, (problem(
                    sheet, f"no clinical row for subject {key[0]!r} visit {key[1]} (from "
                    f"{rec.source} entry {raw!r}){hint}"),)))
    return out


def _add_ratios(frame: pd.DataFrame, wanted: set[str]) -> None:
    """Add each wanted ratio whose parts are columns; missing where a part is missing or ≤ 0."""
    for ratio, num, den in _RATIOS:
        if ratio in wanted and num in frame.columns and den in frame.columns:
            a = pd.to_numeric(frame[num], errors="coerce").to_numpy(float)
            b = pd.to_numeric(frame[den], errors="coerce").to_numpy(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                frame[ratio] = np.where(np.isfinite(a) & np.isfinite(b) & (b > 0), a / b, np.nan)


def _zscore_smn(frame: pd.DataFrame, raw: np.ndarray, sheet: Path) -> tuple[np.ndarray, dict]:
    base_hc = ((frame["group"].astype(str).str.strip() == "HC").to_numpy()
               & (frame["visit"].to_numpy() == 0) & np.isfinite(raw))
    ref = raw[base_hc]
    if ref.size < 2 or not np.std(ref, ddof=1) > 0:
        raise fail(sheet, f"cannot z-score SMN activity to healthy controls: {ref.size} "
                   "baseline HC values with fMRI (need >= 2 with spread); set "
                   "[fmri] zscore_to_hc = false")
    mean, sd = float(ref.mean()), float(ref.std(ddof=1))
    return (raw - mean) / sd, {"hc_mean": mean, "hc_sd": sd, "hc_n": int(ref.size)}


def ingest(manifest: Manifest | str | os.PathLike, *, skip_bad: bool = False,
           crlb_max: float | None = None, allow_outside: bool = False) -> IngestResult:
    """Read every source in the manifest and assemble the validated cohort table.

    Parameters
    ----------
    manifest
        A :class:`~alsstats.io.assemble.manifest.Manifest` or the path of its TOML file.
    skip_bad
        Leave out (and report) the rows of bad subjects instead of stopping.
    crlb_max
        Overrides the manifest's LCModel CRLB threshold (%).
    allow_outside
        Accept manifest paths outside the manifest's folder (see :func:`load_manifest`).

    Raises
    ------
    DataValidationError
        Bad subjects (unless ``skip_bad``), duplicates, mixed scaling or
        references, a column given by both the sheet and a source, and every
        schema violation of the assembled table.
    """
    man = (manifest if isinstance(manifest, Manifest)
           else load_manifest(manifest, allow_outside=allow_outside))
    if crlb_max is not None:
        man = man.with_crlb_max(float(crlb_max))
    sheet = man.clinical.file
    clinical, id_map, notes = read_clinical(
        sheet, man.ids, sheet=man.clinical.sheet, columns=man.clinical.columns,
        required=tuple(c.name for c in COLUMNS if c.required))
    qc = [QCItem("note", "clinical", n, file=str(sheet)) for n in notes]
    records = []
    if man.freesurfer is not None:
        records.append(collect_freesurfer(man.freesurfer, man.ids))
    if man.lcmodel is not None:
        records.append(collect_lcmodel(man.lcmodel, man.ids))
    if man.fmri is not None:
        records.append(collect_fmri(man.fmri, man.ids))
    conflicts = [p for rec in records for p in rec.conflicts]
    provided = {c for rec in records for v in rec.values.values() for c in v}
    if man.lcmodel is not None:
        provided |= {"glu_naa", "glu_gaba"}
    if man.freesurfer is not None:
        provided.add("m1_precuneus_ratio")
    if man.fmri is not None:
        provided.add("smn_sma")
    for col in sorted(provided & set(clinical.columns)):
        conflicts.append(problem(sheet, f"column {col!r} is in the sheet and also ingested from "
                                 "imaging; remove one", 1))
    if conflicts:
        raise DataValidationError(conflicts)
    keys = list(zip(clinical["subject_id"], clinical["visit"], strict=True))
    failures = [f for rec in records for f in rec.failures] + _orphans(records, set(keys), sheet)
    if failures and not skip_bad:
        raise DataValidationError(_failure_problems(failures))
    bad_keys = {f.key for f in failures if f.key is not None}
    for f in failures:
        qc.append(QCItem("skipped", f.source, "; ".join(str(p) for p in f.problems),
                         f.key[0] if f.key else None, f.key[1] if f.key else None,
                         file=f.raw))
    keep = np.array([k not in bad_keys for k in keys], dtype=bool)
    frame = clinical.loc[keep].reset_index(drop=True)
    keys = [k for k, kept in zip(keys, keep, strict=True) if kept]
    for rec in records:
        qc.extend(rec.qc)
        cols = sorted({c for v in rec.values.values() for c in v})
        for c in cols:
            frame[c] = [rec.values.get(k, {}).get(c, math.nan) for k in keys]
        for k in keys:
            if k not in rec.values:
                qc.append(QCItem("missing", rec.source, f"no {rec.source} data for this "
                                 "subject and visit", k[0], k[1]))
    _add_ratios(frame, provided)
    fmri_info = {}
    if man.fmri is not None:
        raw = frame.get("smn_sma_raw", pd.Series(np.nan, index=frame.index)).to_numpy(float)
        if man.fmri.zscore_to_hc and np.isfinite(raw).any():
            frame["smn_sma"], fmri_info = _zscore_smn(frame, raw, sheet)
        else:
            frame["smn_sma"] = raw
            frame = frame.drop(columns=["smn_sma_raw"], errors="ignore")
    try:
        cohort = validate_cohort(frame)
    except DataValidationError as exc:
        raise DataValidationError([_locate(p, frame, sheet) for p in exc.problems]) from None
    if cohort.empty:
        raise DataValidationError([problem(sheet, "the assembled cohort has 0 rows: "
                                           + _why_empty(qc, "the clinical sheet has no "
                                                             "rows"))])
    provenance = _provenance(man, sheet, id_map, records, skip_bad, fmri_info)
    return IngestResult(cohort, qc, provenance)


def _why_empty(qc: list[QCItem], nothing_read: str) -> str:
    """Why a run ended with no rows: the subjects skipped as bad input, or ``nothing_read``."""
    skipped = [q for q in qc if q.kind == "skipped"]
    if not skipped:
        return nothing_read
    shown = "; ".join(f"{q.subject or q.file}: {q.reason}" for q in skipped[:3])
    more = f" (and {len(skipped) - 3} more)" if len(skipped) > 3 else ""
    return f"every subject was skipped as bad input: {shown}{more}"


def ingest_source(source: str, path: str | os.PathLike, *, skip_bad: bool = False,
                  ids: IdRules | None = None, crlb_max: float = 20.0) -> IngestResult:
    """Read one source on its own: a per-subject table without clinical data.

    ``source`` is ``"freesurfer"`` (``path`` = SUBJECTS_DIR) or ``"lcmodel"``
    (``path`` = a folder of ``<id>.table/.coord/.csv``).  The table has
    ``subject_id``, ``visit``, the source's name for the entry and its
    columns (with ``m1_precuneus_ratio`` or ``glu_naa``/``glu_gaba``); it is not
    a cohort table (no group, age ...) and is not schema-validated.  Checks,
    failures and ``skip_bad`` work as in :func:`ingest`.
    """
    root = Path(path).resolve()
    if not root.is_dir():
        raise fail(root, "not a folder")
    rules = ids or IdRules()
    if source == "freesurfer":
        rec = collect_freesurfer(FreeSurferSource(subjects_dir=root), rules)
    elif source == "lcmodel":
        rec = collect_lcmodel(LCModelSource(root, mrs=MrsOptions(crlb_max=crlb_max)), rules)
    else:
        raise ValueError(f"source must be 'freesurfer' or 'lcmodel', got {source!r}")
    if rec.conflicts:
        raise DataValidationError(rec.conflicts)
    if rec.failures and not skip_bad:
        raise DataValidationError(_failure_problems(rec.failures))
    qc = [QCItem("skipped", f.source, "; ".join(str(p) for p in f.problems),
                 f.key[0] if f.key else None, f.key[1] if f.key else None, file=f.raw)
          for f in rec.failures] + rec.qc
    rows = [{"subject_id": k[0], "visit": k[1], "name": rec.raw_names[k], **v}
            for k, v in sorted(rec.values.items())]
    if not rows:
        raise DataValidationError([problem(root, f"no {source} subject was read: "
                                           + _why_empty(qc, "the folder holds no readable "
                                                             "outputs"))])
    table = pd.DataFrame(rows)
    _add_ratios(table, {r for r, _, _ in _RATIOS})
    inputs = [dict(f, sha256=file_sha256(f["path"])) for f in rec.files]
    provenance = {"alsstats_version": __version__,
                  "created_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "source": source, "path": str(root), "skip_bad": skip_bad,
                  "sources": {rec.source: dict(rec.info)}, "inputs": inputs}
    return IngestResult(table, qc, provenance)


def _locate(p: Problem, frame: pd.DataFrame, sheet: Path) -> Problem:
    """Name the subject and visit of a schema problem in the assembled table."""
    if p.row is None:
        return Problem(rule=p.rule, column=p.column, value=p.value,
                       file=f"cohort assembled from {sheet}")
    sid, visit = frame["subject_id"].iloc[p.row], frame["visit"].iloc[p.row]
    return Problem(rule=p.rule, column=p.column, value=p.value,
                   file=f"cohort assembled from {sheet}, subject {sid!r} visit {visit}")


def _provenance(man: Manifest, sheet: Path, id_map: dict, records: list[SourceRecords],
                skip_bad: bool, fmri_info: dict) -> dict:
    inputs = [{"path": str(man.path), "role": "manifest", "subject_id": None, "visit": None},
              {"path": str(sheet), "role": "clinical sheet", "subject_id": None, "visit": None}]
    inputs += [f for rec in records for f in rec.files]
    hashes: dict[str, str] = {}
    for item in inputs:
        if item["path"] not in hashes:
            hashes[item["path"]] = file_sha256(item["path"])
        item["sha256"] = hashes[item["path"]]
    sources = {rec.source: dict(rec.info) for rec in records}
    if "fmri" in sources:
        sources["fmri"].update(fmri_info, zscore_to_hc=man.fmri.zscore_to_hc)
    if "lcmodel" in sources:
        scaled = sources["lcmodel"].get("water_scaled")
        sources["lcmodel"]["concentration_units"] = (
            "institutional units (water-scaled)" if scaled else
            "arbitrary units (not water-scaled; only ratios are comparable)" if scaled is False
            else "unknown (no control echo, e.g. .csv input)")
    return {
        "alsstats_version": __version__,
        "created_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "skip_bad": skip_bad,
        "id_rules": {"pattern": man.ids.pattern, "strip_prefix": man.ids.strip_prefix,
                     "casefold": man.ids.casefold, "strip_zeros": man.ids.strip_zeros,
                     "default_visit": man.ids.default_visit},
        "id_mapping": {"clinical": id_map,
                       **{rec.source: {raw: f"{k[0]}/visit {k[1]}"
                                       for k, raw in rec.raw_names.items()}
                          for rec in records}},
        "sources": sources,
        "inputs": inputs,
    }


def output_paths(out: str | os.PathLike) -> dict[str, Path]:
    """Where :func:`write_ingest` writes: the cohort and its three sidecars."""
    p = Path(out)
    stem = p.with_suffix("")
    return {"cohort": p, "provenance": Path(f"{stem}.provenance.json"),
            "qc_json": Path(f"{stem}.qc.json"), "qc_csv": Path(f"{stem}.qc.csv")}


def write_ingest(result: IngestResult, out: str | os.PathLike) -> dict[str, Path]:
    """Write the cohort (CSV or Parquet), provenance JSON, QC JSON and QC CSV atomically.

    The cohort appears last: when it exists, its sidecars are complete, and
    the provenance records the cohort's own SHA-256.
    """
    paths = output_paths(out)
    suffix = paths["cohort"].suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise fail(paths["cohort"], f"unknown output type {suffix!r}; expected .csv or .parquet")
    items = [i.as_dict() for i in result.qc]
    with atomic_path(paths["cohort"]) as tmp:
        if suffix == ".csv":
            result.cohort.to_csv(tmp, index=False, lineterminator="\n")
        else:
            result.cohort.to_parquet(tmp, index=False)
        prov = dict(result.provenance)
        prov["output"] = {"path": str(paths["cohort"]), "sha256": file_sha256(tmp),
                          "rows": len(result.cohort), "columns": list(result.cohort.columns)}
        write_json(paths["qc_json"], {"summary": result.qc_summary(), "items": items})
        fields = ["kind", "source", "subject", "visit", "field", "reason", "file", "value"]
        with atomic_write(paths["qc_csv"], encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(items)
        write_json(paths["provenance"], prov)
    return paths
