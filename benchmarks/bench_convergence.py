"""Convergence of the two Bayesian models' default fits at their default sampler settings.

Run: ``python benchmarks/bench_convergence.py [--seeds 2026 1 2]`` (from a worktree:
``PYTHONPATH=. python ...``).  For each seed, the demo cohort (``simulate_cohort("default",
seed)``, the scenario's own sizes) is fitted with

* ``DiagnosticModel(seed=seed)`` on the baseline visits (default spec and sampler:
  4 chains x (1000 tune + 1000 draws), target_accept 0.8), and
* ``LongitudinalModel(method="bayes", seed=seed)`` on total gray matter (cm^3) with age,
  sex and eTIV as covariates (as the demo), default spec and sampler;

and the convergence summary is printed against the package's policy (R-hat <= 1.01,
bulk and tail ESS >= 400 in total, no divergences).  The backend is the default
(``auto``: JAX for a single fit when installed); ``ALSSTATS_BACKEND=numba`` selects numba.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

from alsstats.models.diagnostic.model import DiagnosticModel
from alsstats.models.longitudinal.model import LongitudinalModel
from alsstats.simulate import simulate_cohort


def _row(what: str, seed: int, n: int, model, seconds: float) -> str:
    c = model.convergence_
    verdict = "meets policy" if c.ok else "; ".join(c.problems())
    backend = model.timing_.get("backend", "")
    return (f"| {what} | {backend} | {seed} | {n} | {c.chains} x {c.draws} | {c.max_rhat:.4f} | "
            f"{c.min_ess_bulk:.0f} | {c.min_ess_tail:.0f} | {c.divergences} | {verdict} | "
            f"{seconds:.0f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[2026, 1, 2])
    parser.add_argument("--models", nargs="+", choices=["diagnostic", "longitudinal"],
                        default=["diagnostic", "longitudinal"])
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print("| model | backend | seed | subjects | chains x draws | max R-hat | min bulk ESS | "
          "min tail ESS | divergences | verdict | fit time |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for seed in args.seeds:
        data, _ = simulate_cohort("default", seed=seed)
        base = data[data["visit"] == 0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # the verdict column reports it
            if "diagnostic" in args.models:
                start = time.perf_counter()
                diag = DiagnosticModel(seed=seed).fit(base)
                print(_row("diagnostic", seed, len(base), diag, time.perf_counter() - start),
                      flush=True)
            if "longitudinal" in args.models:
                start = time.perf_counter()
                long = LongitudinalModel(method="bayes", outcome="total_gm_cm3",
                                         covariates=("age", "sex", "etiv_mm3"), seed=seed)
                long.fit(data.assign(total_gm_cm3=data["total_gm_volume_mm3"] / 1000.0))
                print(_row("longitudinal", seed, data["subject_id"].nunique(), long,
                           time.perf_counter() - start), flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
