"""Ingestion of real per-subject outputs into the cohort table.

One subpackage or module per external tool, and one for assembling the cohort:

- :mod:`~alsstats.io.freesurfer` — ``?h.aparc.stats``, ``aseg.stats``, group TSVs,
  ``aparc+aseg.mgz``;
- :mod:`~alsstats.io.lcmodel` — ``.table``, ``.coord``, ``.csv``, with CRLB quality
  control (:mod:`~alsstats.io.lcmodel.mrs`);
- :mod:`~alsstats.io.nifti` — SMN activity in an SMA mask from ICA maps;
- :mod:`~alsstats.io.clinical` — the clinical and blood sheet (CSV/Excel);
- :mod:`~alsstats.io.assemble` — the manifest, per-source collection and
  :func:`ingest` / :func:`write_ingest` (validated cohort, provenance sidecar, QC report).

Readers are strict: errors name the file, the line or structure and the problem.
"""

from alsstats._lazy import lazy_exports

_WHERE = {
    "IngestResult": "assemble.ingest",
    "ingest": "assemble.ingest",
    "output_paths": "assemble.ingest",
    "write_ingest": "assemble.ingest",
    "Manifest": "assemble.manifest",
    "load_manifest": "assemble.manifest",
    "read_aparc": "freesurfer.subject",
    "read_aseg": "freesurfer.subject",
    "read_subject": "freesurfer.subject",
    "read_lcmodel": "lcmodel.reader",
    "MrsOptions": "lcmodel.mrs",
    "extract_mrs": "lcmodel.mrs",
    "load_mask": "nifti",
    "smn_activity": "nifti",
    "smn_activity_stack": "nifti",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
