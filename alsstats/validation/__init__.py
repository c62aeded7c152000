"""Validation harness: ROC/AUC with intervals, cutoffs, cross-validation, calibration."""
