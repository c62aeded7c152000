"""Statistical models: the Bayesian diagnostic model and the longitudinal decline model.

Public names are imported lazily (PyMC loads only when a Bayesian model is used):
:class:`DiagnosticModel`, :class:`LongitudinalModel`, :func:`fit_lmm`,
:func:`fit_lmm_formula`, :func:`likelihood_ratio_test`, :func:`decline_detection_power`.
"""

from importlib import import_module

__all__ = [
    "DiagnosticModel",
    "LongitudinalModel",
    "decline_detection_power",
    "fit_lmm",
    "fit_lmm_formula",
    "likelihood_ratio_test",
]

_WHERE = {"DiagnosticModel": "diagnostic", "LongitudinalModel": "longitudinal",
          "decline_detection_power": "decline_power", "fit_lmm": "lmm",
          "fit_lmm_formula": "lmm", "likelihood_ratio_test": "lmm"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"alsstats.models.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'alsstats.models' has no attribute {name!r}")
