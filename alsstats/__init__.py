"""alsstats: ALS brain and blood biomarker statistics.

Simulate calibrated cohorts, diagnose with a Bayesian hierarchical model,
monitor gray-matter decline, validate markers and cutoffs, plan trials and
diagnostic studies, ingest FreeSurfer/LCModel/NIfTI outputs, and report.
"""

from alsstats._version import __version__
from alsstats.errors import (
    AlsStatsError,
    ConvergenceWarning,
    DataValidationError,
    NotFittedError,
    ScenarioError,
    SpecError,
)
from alsstats.schema import read_cohort, validate_cohort, write_cohort

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
