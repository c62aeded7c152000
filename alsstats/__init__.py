"""alsstats: ALS brain and blood biomarker statistics.

Simulate calibrated cohorts, diagnose with a Bayesian hierarchical model,
monitor gray-matter decline, validate markers and cutoffs, plan trials and
diagnostic studies, ingest FreeSurfer/LCModel/NIfTI outputs, and report.
"""

from alsstats._lazy import lazy_exports
from alsstats._version import __version__
from alsstats.errors import (
    AlsStatsError,
    ConvergenceWarning,
    DataValidationError,
    NotFittedError,
    ScenarioError,
    SpecError,
)

# The table functions import pandas: loaded on first use, so `alsstats --help` starts fast.
_WHERE = {"read_cohort": "schema", "validate_cohort": "schema", "write_cohort": "schema"}
__getattr__, _lazy_dir = lazy_exports(__name__, _WHERE)

__all__ = [
    "AlsStatsError",
    "ConvergenceWarning",
    "DataValidationError",
    "NotFittedError",
    "ScenarioError",
    "SpecError",
    "__version__",
    "read_cohort",
    "validate_cohort",
    "write_cohort",
]
