"""The demo: the whole alsstats pipeline on the built-in synthetic cohort, as one HTML report.

``alsstats demo`` simulates the default cohort, validates it, and runs each part
of the package on it, then renders ``reports/demo/index.html``.  This module
computes; :mod:`alsstats.report` only renders.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from alsstats._files import file_sha256
from alsstats.describe import cohort_summary, missingness_patterns
from alsstats.pipeline.added_value import (
    MODALITY_SETS,
    modality_increment,
    ratio_cutoff_posterior,
)
from alsstats.pipeline.diagnostic import fit_and_score
from alsstats.pipeline.longitudinal import fit_decline
from alsstats.pipeline.markers import validate_markers
from alsstats.pipeline.power import plan_power
from alsstats.random import spawn_seeds
from alsstats.report.document import Report, Section, write_report
from alsstats.report.sections import (
    cohort_section,
    cutoff_posterior_section,
    cutoff_section,
    decline_section,
    diagnostic_section,
    increment_section,
    marker_section,
    power_section,
)
from alsstats.schema import MARKERS, validate_cohort, write_cohort
from alsstats.simulate import simulate_cohort

__all__ = ["DemoResult", "run_demo"]


@dataclass
class DemoResult:
    """Where the demo wrote its report, and the headline numbers it computed."""

    report: Path
    seconds: float
    headline: dict = field(default_factory=dict)


class _Progress:
    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def step(self, text: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.t0:6.1f} s] {text}", file=sys.stderr, flush=True)


def run_demo(out_dir: str | os.PathLike = "reports/demo", *, seed: int = 2026,
             quick: bool = False, quiet: bool = False) -> DemoResult:
    """Run the demo pipeline and write ``out_dir/index.html``.

    Parameters
    ----------
    out_dir
        Report folder (created if needed).
    seed
        One seed for everything; the same seed gives the same report numbers.
    quick
        Fewer posterior draws, bootstrap and simulation replicates (the same cohort),
        for a fast look.
    quiet
        No progress messages on stderr.
    """
    progress = _Progress(quiet)
    out = Path(out_dir)
    headline: dict = {}
    sections: list[Section] = []
    seed_list = [int(s.generate_state(1)[0]) for s in spawn_seeds(seed, 8)]
    seeds = iter(seed_list[:5])  # seed_list[5:7]: added value and the cutoff posterior

    progress.step("simulating the default synthetic cohort")
    data, truth = simulate_cohort("default", seed=seed)
    data = validate_cohort(data)
    cohort_file = write_cohort(data, out / "data" / "cohort.csv")
    headline["subjects"] = int(data["subject_id"].nunique())
    summary = cohort_summary(data)
    patterns = missingness_patterns(data)
    sections.append(cohort_section(summary, patterns, list(MARKERS),
                                    description=truth.scenario.description + "."))

    progress.step("validating markers and the 1.00 M1/precuneus cutoff")
    markers = validate_markers(data, seed=next(seeds), n_boot=400 if quick else 1000,
                               cv_repeats=3 if quick else 5)
    sections += [marker_section(markers), cutoff_section(markers)]
    perf = markers.cutoff.performance
    headline.update(ratio_cutoff_sensitivity=perf.get("sensitivity")[0],
                    ratio_cutoff_specificity=perf.get("specificity")[0],
                    youden_cutoff=markers.cutoff.optimal.cutoff)

    progress.step("added value of each modality over NfL; the cutoff's posterior")
    added = modality_increment(data, seed=seed_list[5], n_repeats=2 if quick else 5,
                               n_boot=100 if quick else 200)
    posterior = ratio_cutoff_posterior(data, seed=seed_list[6], delta=0.05,
                                       n_boot=400 if quick else 1000)
    sections += [increment_section(added, {"+".join(v): k for k, v in MODALITY_SETS.items()}),
                 cutoff_posterior_section(posterior)]
    headline.update(
        ratio_cutoff_posterior_median=float(posterior.row("posterior")["median"]),
        ratio_cutoff_posterior_prob_within=float(posterior.row("posterior")["prob_within"]))

    progress.step("fitting the Bayesian diagnostic model and scoring held-out patients")
    diagnosis = fit_and_score(data, seed=next(seeds), draws=500 if quick else 1000)
    sections.append(diagnostic_section(diagnosis))
    model_auc = diagnosis.aucs.iloc[0]
    headline.update(model_auc=float(model_auc["auc"]),
                    best_marker_auc=float(diagnosis.aucs.iloc[1:]["auc"].max()),
                    diagnostic_converged=bool(diagnosis.converged))

    progress.step("fitting the Bayesian gray-matter decline model (compiles once)")
    decline = fit_decline(data, seed=next(seeds), draws=500 if quick else None,
                          replicates=300 if quick else 1000)
    sections.append(decline_section(decline, description=(
        "Bayesian mixed model of total gray matter (cm³) over years with group-specific "
        "slopes, correlated random intercepts and slopes (integrated out), age, sex and eTIV, "
        f"and partially pooled site offsets; {decline.n_subjects} subjects, {decline.n_obs} "
        "scans; 90% credible intervals.")))
    headline["gm_decline_als_pct_per_year"] = float(
        decline.summary.set_index("term").loc["percent_per_time[ALS]", "estimate"])

    progress.step("planning power and sample size")
    plan = plan_power(data, seed=next(seeds), replicates=100 if quick else 300)
    sections.append(power_section(plan))
    headline["gm_trial_n_per_arm_30pct"] = int(
        plan.gm_sample_sizes.loc[plan.gm_sample_sizes["slowing"] == 0.3, "n_per_arm"].iloc[0])

    progress.step("rendering the report")
    report = Report(
        title="alsstats demo: ALS biomarkers on a synthetic cohort",
        subtitle=("Simulated cohort calibrated to the seed programme's findings; every number "
                  "below is computed by alsstats from this cohort."),
        sections=sections,
        provenance={"seed": str(seed), "scenario": truth.scenario.name,
                    "mode": "quick" if quick else "full",
                    "cohort file": f"data/cohort.csv (sha256 {file_sha256(cohort_file)})",
                    "diagnostic spec": diagnosis.spec_json,
                    "longitudinal spec": decline.spec_json,
                    "python": sys.version.split()[0], "pandas": pd.__version__},
    )
    index = write_report(report, out)
    seconds = time.perf_counter() - progress.t0
    progress.step(f"wrote {index}")
    return DemoResult(index, seconds, headline)
