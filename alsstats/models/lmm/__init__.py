"""Linear mixed models by REML or ML with one grouping factor (the engine of the decline model).

Modules: :mod:`.engine` (fitting, likelihood-ratio tests), :mod:`.formula` (a small
formula language on pandas), :mod:`.result` (fit summaries and intervals).
"""

from alsstats._lazy import lazy_exports

_WHERE = {
    "fit_lmm": "engine",
    "fit_lmm_formula": "engine",
    "likelihood_ratio_test": "engine",
    "LMMResult": "result",
    "LRTResult": "result",
    "Formula": "formula",
    "design_matrices": "formula",
    "parse_formula": "formula",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
