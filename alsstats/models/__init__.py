"""Statistical models.

- :mod:`alsstats.models.diagnostic` — the Bayesian diagnostic model (P(class | markers));
- :mod:`alsstats.models.longitudinal` — the gray-matter decline model (Bayesian or REML/ML);
- :mod:`alsstats.models.lmm` — the linear mixed-model engine (REML/ML, formulas, results);
- :mod:`alsstats.models.base` — what both Bayesian models share (estimator contract,
  convergence policy, NetCDF persistence with provenance).

Public names are imported lazily (PyMC loads only when a Bayesian model is used).
"""

from alsstats._lazy import lazy_exports

_WHERE = {
    "DiagnosticModel": "diagnostic.model",
    "LongitudinalModel": "longitudinal.model",
    "fit_lmm": "lmm.engine",
    "fit_lmm_formula": "lmm.engine",
    "likelihood_ratio_test": "lmm.engine",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
