"""Benchmark alsstats.power: analytic engines (ms) and 1,000 simulated ADAS-cog trials.

Run from the repository root: ``python benchmarks/bench_power.py``.  Prints a Markdown
table for benchmarks/RESULTS.md (``## power``).
"""

from __future__ import annotations

import math
import os
import platform
import time

import numpy as np

from alsstats.power.diagnostic import (
    auc_test_sample_size,
    proportion_ci_sample_size,
    sensitivity_test_sample_size,
)
from alsstats.power.prediction import binary_sample_size, continuous_sample_size
from alsstats.power.scenario import Analysis, Arm, Outcome, TrialScenario
from alsstats.power.simulate import simulate_power
from alsstats.power.slope import edland_sample_size, slope_sample_size

TIMES = np.arange(0, 1.51, 0.25)
ADAS = dict(var_intercept=55, var_slope=24, cov_intercept_slope=0.8 * math.sqrt(55 * 24),
            var_residual=10)
DROPOUT = [0.05, 0.05, 0.05, 0.05, 0.1, 0.1, 0.6]


def per_call_ms(fn, repeat: int = 200) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat * 1e3


def adascog(method: str) -> TrialScenario:
    return TrialScenario(visits=tuple(TIMES), arms=(Arm("placebo", 208), Arm("active", 208, 0.3)),
                         outcome=Outcome(20.0, 5.0, 55**0.5, 24**0.5, 0.8, 10**0.5),
                         analysis=Analysis(method=method))


def main() -> None:
    rows = []
    analytic = {
        "slope n, ADAS-cog, complete data (GLS)":
            lambda: slope_sample_size(TIMES, delta=1.5, power=0.8, **ADAS),
        "slope n, ADAS-cog, dropout pattern, common baseline, 2:1":
            lambda: slope_sample_size(TIMES, delta=1.5, power=0.8, dropout=DROPOUT,
                                      allocation=2, common_baseline=True, **ADAS),
        "Edland n, dropout": lambda: edland_sample_size(TIMES, delta=1.5, power=0.8,
                                                        var_slope=24, var_residual=10,
                                                        dropout=DROPOUT),
        "Wilson CI-width n (root finding)": lambda: proportion_ci_sample_size(0.15, 0.05),
        "exact binomial sensitivity test n (saw-tooth scan)":
            lambda: sensitivity_test_sample_size(0.8, 0.9),
        "Obuchowski AUC test n": lambda: auc_test_sample_size(0.5, 0.7),
        "Riley binary (pmsampsize example)": lambda: binary_sample_size(0.288, 24, 0.174),
        "Riley continuous (pmsampsize example)":
            lambda: continuous_sample_size(0.2, 25, 1.9, 0.6),
    }
    for name, fn in analytic.items():
        rows.append((name, f"{per_call_ms(fn, 50):.2f} ms per call", "milliseconds"))

    sims = {}
    for method, workers in (("reml", 1), ("reml", 2), ("egls", 1), ("egls", 2)):
        simulate_power(adascog(method), 20, 0, workers=workers, chunk_size=10)  # warm-up
        start = time.perf_counter()
        res = simulate_power(adascog(method), 1000, 2026, workers=workers, chunk_size=50)
        elapsed = time.perf_counter() - start
        sims[(method, workers)] = (elapsed, res)
        arm = res.arms[0]
        target = "< 5 s" if method == "reml" else ""
        rows.append((f"1,000 ADAS-cog trials (208/arm, 7 visits), {method}, workers={workers}",
                     f"{elapsed:.2f} s; power {arm.power:.3f} (MC SE {arm.mc_se:.3f}), "
                     f"{arm.failed_fits} failed; analytic {arm.analytic_power:.3f}", target))
    for method in ("reml", "egls"):
        r1, r2 = sims[(method, 1)], sims[(method, 2)]
        same = np.array_equal(r1[1].results, r2[1].results, equal_nan=True)
        rows.append((f"speed-up 1 → 2 workers, {method}", f"{r1[0] / r2[0]:.2f}× "
                     f"(results identical: {same})", ""))

    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.machine()}")
    print("| what | result | target |\n|---|---|---|")
    for what, result, target in rows:
        print(f"| {what} | {result} | {target} |")


if __name__ == "__main__":
    main()
