"""The longitudinal decline model: Bayesian (PyMC + nutpie) or REML/ML, one estimator.

Modules: :mod:`.model` (the estimator), :mod:`.spec` (priors, sampling, convergence),
:mod:`.data` (long-format layout), :mod:`.graph` (the PyMC graph, random effects
integrated out), :mod:`.reml` (the frequentist path), :mod:`.posterior` (natural-scale
quantities), :mod:`.persistence` (NetCDF layout), :mod:`.criticism` (posterior
predictive checks and PSIS-LOO over subjects).
"""

from alsstats._lazy import lazy_exports

_WHERE = {
    "LongitudinalModel": "model",
    "METHODS": "model",
    "LongitudinalSpec": "spec",
    "load_longitudinal_spec": "spec",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
