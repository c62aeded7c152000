"""Benchmark: one latent-class diagnostic fit on 600 subjects (time, ESS, R-hat).

Run: ``python benchmarks/bench_latent_fit.py`` (from a worktree: ``PYTHONPATH=.``).

The default scenario (``simulate_cohort("default", seed=..., n_per_group=120)``: HC,
MIMIC, PMA and two ALS stages, 120 each, with the scenario's missing modalities), a
fifth of the recorded groups wrong (``label_error=0.2``).  The default spec with
``reference = "latent"`` (classes ALS, MIMIC, HC; PMA recorded as ALS; all six
markers) is fitted with the default sampler settings (nutpie, 4 chains x (1000 tune +
1000 draws), backend ``auto``), then the standard spec (labels as the reference) on
the same data for comparison.  Printed: wall time (compile and sampling), max R-hat,
min bulk and tail ESS over every checked parameter, divergences, relabelled draws.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings

from alsstats.errors import ConvergenceWarning
from alsstats.models.diagnostic.model import DiagnosticModel
from alsstats.models.diagnostic.spec import default_spec
from alsstats.simulate import simulate_cohort
from alsstats.testing.latent_recovery import latent_spec


def timed_fit(spec, data, seed: int, draws: int = 1000) -> dict:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = DiagnosticModel(spec=spec, seed=seed, draws=draws).fit(data)
    seconds = time.perf_counter() - start
    c = model.convergence_
    out = {"seconds": round(seconds, 1), **{k: (round(v, 1) if isinstance(v, float) else v)
                                            for k, v in model.timing_.items()},
           "max_rhat": round(c.max_rhat, 4), "worst_parameter": c.worst_parameter,
           "min_ess_bulk": round(c.min_ess_bulk), "min_ess_tail": round(c.min_ess_tail),
           "lowest_ess_parameter": c.lowest_ess_parameter, "divergences": c.divergences,
           "converged": c.ok}
    if "relabelled_draws_json" in model.idata_.posterior.attrs:
        out["relabelled"] = json.loads(model.idata_.posterior.attrs["relabelled_draws_json"])
        out["record_prob_mean"] = model.idata_.posterior["record_prob"].mean(
            ("chain", "draw")).round(3).values.tolist()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--label-error", type=float, default=0.2)
    parser.add_argument("--draws", type=int, default=1000,
                        help="kept draws per chain of the latent-class fit (tuning stays 1000)")
    parser.add_argument("--two-classes", action="store_true",
                        help="classes ALS and HC: 300 ALS (early and established) + 300 HC "
                             "instead of the five strata of 120 and classes ALS, MIMIC, HC")
    parser.add_argument("--latent-only", action="store_true",
                        help="skip the standard fit")
    args = parser.parse_args()
    sizes = ({"ALS": 300, "HC": 300, "PMA": 0, "MIMIC": 0} if args.two_classes
             else 120)
    classes = ("ALS", "HC") if args.two_classes else ("ALS", "MIMIC", "HC")
    data, _ = simulate_cohort("default", seed=args.seed, n_per_group=sizes,
                              label_error=args.label_error)
    n = int((data["visit"] == 0).sum())
    result = {"subjects": n, "machine": f"{platform.machine()}, {platform.python_version()}",
              "latent": timed_fit(latent_spec(classes), data, args.seed,
                                  args.draws)}
    if not args.latent_only:
        result["labels"] = timed_fit(default_spec(), data, args.seed)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
