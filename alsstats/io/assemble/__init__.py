"""Assembling the cohort table: the manifest (:mod:`.manifest`), per-source collection
(:mod:`.sources`) and ingestion with provenance and QC (:mod:`.ingest`)."""

from alsstats._lazy import lazy_exports

_WHERE = {
    "IngestResult": "ingest",
    "ingest": "ingest",
    "output_paths": "ingest",
    "write_ingest": "ingest",
    "Manifest": "manifest",
    "load_manifest": "manifest",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
