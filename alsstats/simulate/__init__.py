"""Synthetic ALS cohorts calibrated to the seed programme, with known truth.

>>> from alsstats.simulate import simulate_cohort
>>> data, truth = simulate_cohort("default", seed=1)
"""

from alsstats.simulate.generator import SimulationTruth, simulate_cohort
from alsstats.simulate.output import sidecar_path, write_simulation
from alsstats.simulate.scenario import (
    LOG_MARKERS,
    MARKER_ORDER,
    Scenario,
    Stratum,
    available_scenarios,
    load_scenario,
)

__all__ = [
    "LOG_MARKERS",
    "MARKER_ORDER",
    "Scenario",
    "SimulationTruth",
    "Stratum",
    "available_scenarios",
    "load_scenario",
    "sidecar_path",
    "simulate_cohort",
    "write_simulation",
]
