"""Choose the diagnostic model's marker distribution by PSIS-LOO: heavy tails vs Gaussian.

Run: ``python benchmarks/bench_marker_distribution.py`` (from a worktree:
``PYTHONPATH=. python benchmarks/bench_marker_distribution.py``).

Two cohorts of 300 subjects, each fitted with the default spec and ``marker_distribution``
``normal``, ``student_t`` and ``skew_normal``
(:func:`alsstats.models.diagnostic.distribution_choice.choose_marker_distribution`,
nutpie, ``--chains`` x (``--tune`` + ``--draws``), one BLAS thread):

* ``heavy_tails``: drawn from the diagnostic model itself
  (:func:`alsstats.testing.recovery.simulate_diagnostic_cohort`, seed 2, three classes)
  with multivariate-t errors (nu = 3) in the ALS class and 20% of subjects without MRS
  and 20% without fMRI (missing markers);
* ``default``: the default scenario's baseline visits
  (``simulate_cohort("default", seed=101, n_per_group=60)``, the test tier's training
  cohort; normal within-stratum errors, ALS a mixture of stages).

Printed per cohort: the ``az.compare``-style table (elpd, se, p_loo, d_elpd, dse, Pareto
k), the fit times, convergence, and the choice (normal unless a candidate is better by
more than 2 SE of the paired difference).
"""

from __future__ import annotations

import argparse
import json
import warnings

import pandas as pd
from threadpoolctl import threadpool_limits

from alsstats.errors import ConvergenceWarning
from alsstats.models.diagnostic.distribution_choice import choose_marker_distribution
from alsstats.models.diagnostic.spec import default_spec
from alsstats.simulate import simulate_cohort
from alsstats.testing.recovery import default_truth, simulate_diagnostic_cohort


def cohorts() -> dict[str, pd.DataFrame]:
    truth = default_truth(default_spec(), seed=1)
    heavy = simulate_diagnostic_cohort(truth, 300, seed=2, heavy_tails={"ALS": 3.0},
                                       missing={"mrs": 0.2, "fmri": 0.2})
    data, _ = simulate_cohort("default", seed=101, n_per_group=60)
    return {"heavy_tails": heavy, "default": data[data["visit"] == 0].reset_index(drop=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--cohort", choices=("heavy_tails", "default"), action="append")
    parser.add_argument("--candidates", default="student_t,skew_normal")
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    for name, df in cohorts().items():
        if args.cohort and name not in args.cohort:
            continue
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            choice = choose_marker_distribution(
                df, candidates=tuple(args.candidates.split(",")), draws=args.draws,
                tune=args.tune, chains=args.chains, seed=3)
        print(f"== {name}: {len(df)} subjects")
        print(choice.table.round(2).to_string(index=False))
        summary = {k: v for k, v in choice.to_dict().items() if k != "comparison"}
        if "student_t" in choice.fits:
            nu = choice.fits["student_t"].idata_.posterior["nu"]
            summary["nu_posterior_mean"] = dict(zip(
                nu["class"].values.tolist(),
                nu.mean(("chain", "draw")).values.round(1).tolist(), strict=True))
        print(json.dumps(summary, indent=1), flush=True)


if __name__ == "__main__":
    main()
