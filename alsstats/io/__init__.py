"""Ingestion of real outputs (FreeSurfer, LCModel, NIfTI ICA maps, lab sheets) into the cohort."""
