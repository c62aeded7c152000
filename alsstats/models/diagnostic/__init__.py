"""The Bayesian hierarchical diagnostic model.

P(class | markers) from whichever markers a patient has.

Modules: :mod:`.model` (the estimator), :mod:`.spec` (markers, transforms, priors),
:mod:`.data` (baseline rows, standardisation), :mod:`.graph` (the PyMC graph),
:mod:`.scoring_table` (tables to score), :mod:`.criticism` (PPC, PSIS-LOO).
"""

from alsstats._lazy import lazy_exports

_WHERE = {
    "DiagnosticModel": "model",
    "parse_prevalence": "model",
    "DiagnosticSpec": "spec",
    "MarkerSpec": "spec",
    "default_spec": "spec",
    "load_spec": "spec",
    "posterior_predictive_check": "criticism",
    "loo": "criticism",
    "classification_loo": "criticism",
    "compare_marker_sets": "criticism",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
