"""Validation harness: ROC/AUC with intervals, cutoffs, cross-validation, calibration.

Array functions take ``labels`` then ``scores``, in scikit-learn's ``(y_true, y_score)``
order (labels True/1 = positive class; ``delong_test(labels, scores1, scores2)``);
see :mod:`alsstats.validation._inputs` for the *direction* convention
(``'>'``: positive if ``score >= cutoff``; ``'<'``: positive if
``score < cutoff``; ``'auto'``: detected and reported).  Every result is a
small dataclass with ``to_dict()`` (JSON) and ``to_frame()`` (table).
The cross-validation names are imported lazily (scikit-learn is slow to load).

Modules: :mod:`~.roc` (curve, AUC, partial AUC), :mod:`~.delong` (DeLong
intervals and tests), :mod:`~.bootstrap`, :mod:`~.intervals` (Wilson, exact,
likelihood ratios), :mod:`~.cutoffs`, :mod:`~.stability`, :mod:`~.folds`,
:mod:`~.cv`, :mod:`~.calibration`, :mod:`~.sbc` (simulation-based calibration of the
Bayesian models; imports PyMC, so not re-exported here).
"""

from alsstats._lazy import lazy_exports
from alsstats.validation.bootstrap import auc_ci, bootstrap_auc_ci
from alsstats.validation.calibration import (
    CalibrationSummary,
    DecisionCurve,
    calibration_summary,
    decision_curve,
)
from alsstats.validation.cutoffs import (
    CutoffPerformance,
    OptimalCutoff,
    classify,
    cutoff_performance,
    optimal_cutoff,
    ppv_npv_by_prevalence,
)
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
from alsstats.validation.folds import grouped_stratified_folds
from alsstats.validation.intervals import (
    LikelihoodRatios,
    clopper_pearson_interval,
    likelihood_ratio_interval,
    wilson_interval,
)
from alsstats.validation.roc import PartialAUC, ROCCurve, auc, partial_auc, roc_curve
from alsstats.validation.roc_band import ROCBand, roc_band
from alsstats.validation.stability import (
    CutoffStability,
    CutoffValidation,
    cutoff_stability,
    validate_cutoff,
)

_LAZY = {"CVResult": "cv", "CutoffClassifier": "cv", "cross_validate": "cv"}
__getattr__, _ = lazy_exports(__name__, _LAZY)

__all__ = [
    "AUCComparison",
    "AUCInterval",
    "CVResult",
    "CalibrationSummary",
    "CutoffClassifier",
    "CutoffPerformance",
    "CutoffStability",
    "CutoffValidation",
    "DecisionCurve",
    "LikelihoodRatios",
    "OptimalCutoff",
    "PairedAUCTest",
    "PartialAUC",
    "ROCBand",
    "ROCCurve",
    "auc",
    "auc_ci",
    "bootstrap_auc_ci",
    "calibration_summary",
    "classify",
    "clopper_pearson_interval",
    "compare_aucs",
    "cross_validate",
    "cutoff_performance",
    "cutoff_stability",
    "decision_curve",
    "delong_ci",
    "delong_covariance",
    "delong_test",
    "grouped_stratified_folds",
    "holm_adjust",
    "likelihood_ratio_interval",
    "optimal_cutoff",
    "partial_auc",
    "ppv_npv_by_prevalence",
    "roc_band",
    "roc_curve",
    "validate_cutoff",
    "wilson_interval",
]
