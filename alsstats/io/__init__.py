"""Ingestion of real per-subject outputs (FreeSurfer, LCModel, NIfTI ICA maps, lab sheets) into the cohort table."""
