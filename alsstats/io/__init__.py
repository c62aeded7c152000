"""Ingestion of real per-subject outputs into the cohort table.

Readers (strict; errors name the file, the line or structure and the problem):
:mod:`~alsstats.io.freesurfer` (``?h.aparc.stats``, ``aseg.stats``),
:mod:`~alsstats.io.fs_group` (group TSVs, ``aparc+aseg.mgz``),
:mod:`~alsstats.io.lcmodel` (``.table``, ``.coord``, ``.csv``) with
:mod:`~alsstats.io.mrs` (CRLB quality control), :mod:`~alsstats.io.nifti`
(SMN activity in an SMA mask), :mod:`~alsstats.io.clinical` (CSV/Excel sheet).
Assembly: :func:`ingest` reads a manifest (:mod:`~alsstats.io.manifest`) and
returns the validated cohort; :func:`write_ingest` writes it with a
provenance sidecar and a QC report.
"""

from alsstats.io.cohort import IngestResult, ingest, output_paths, write_ingest
from alsstats.io.freesurfer import read_aparc, read_aseg, read_subject
from alsstats.io.lcmodel import read_lcmodel
from alsstats.io.manifest import Manifest, load_manifest
from alsstats.io.mrs import MrsOptions, extract_mrs
from alsstats.io.nifti import load_mask, smn_activity, smn_activity_stack

__all__ = [
    "IngestResult",
    "Manifest",
    "MrsOptions",
    "extract_mrs",
    "ingest",
    "load_manifest",
    "load_mask",
    "output_paths",
    "read_aparc",
    "read_aseg",
    "read_lcmodel",
    "read_subject",
    "smn_activity",
    "smn_activity_stack",
    "write_ingest",
]
