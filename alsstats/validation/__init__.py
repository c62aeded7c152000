"""Validation harness: ROC/AUC with intervals, cutoffs, cross-validation, calibration.

Array functions take ``scores`` and ``labels`` (True/1 = positive class);
see :mod:`alsstats.validation._inputs` for the *direction* convention
(``'>'``: positive if ``score >= cutoff``; ``'<'``: positive if
``score < cutoff``; ``'auto'``: detected and reported).  Every result is a
small dataclass with ``to_dict()`` (JSON) and ``to_frame()`` (table).
"""

from alsstats.validation.bootstrap import auc_ci, bootstrap_auc_ci
from alsstats.validation.delong import (
    AUCComparison,
    AUCInterval,
    PairedAUCTest,
    compare_aucs,
    delong_ci,
    delong_covariance,
    delong_test,
    holm_adjust,
)
from alsstats.validation.intervals import (
    clopper_pearson_interval,
    likelihood_ratio_interval,
    wilson_interval,
)
from alsstats.validation.roc import PartialAUC, ROCCurve, auc, partial_auc, roc_curve

__all__ = [
    "AUCComparison",
    "AUCInterval",
    "PairedAUCTest",
    "PartialAUC",
    "ROCCurve",
    "auc",
    "auc_ci",
    "bootstrap_auc_ci",
    "clopper_pearson_interval",
    "compare_aucs",
    "delong_ci",
    "delong_covariance",
    "delong_test",
    "holm_adjust",
    "likelihood_ratio_interval",
    "partial_auc",
    "roc_curve",
    "wilson_interval",
]
