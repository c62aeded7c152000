"""Benchmark issue 16: a 10,000-replicate, 2-look Bayesian sequential design on Dask.

The ADAS-cog trial (208 per arm, 7 visits, 30% slowing), looks at 50% and 100% of the
subjects, each analysed by REML (two mixed-model fits per replicate).  Runs

1. serially (1 worker);
2. on a local Dask cluster (``scheduler="local"``, 2 single-threaded workers) with a
   checkpoint folder;
3. the same Dask run again after deleting half of the finished chunks (an interrupted
   run): only the missing chunks are computed;

checks that the three results are identical array for array, and prints the times and
the operating characteristics of the rule (P(benefit > 0) > 0.99 at either look, futility
below 0.1 at the interim).  Run from the repository root, on a quiet machine:
``nice python benchmarks/bench_sequential.py [--replicates 10000]``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from alsstats.power.scenario import Analysis, Arm, Outcome, TrialScenario
from alsstats.power.sequential import DecisionRule, simulate_sequential


def adascog() -> TrialScenario:
    return TrialScenario(visits=(0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5),
                         arms=(Arm("placebo", 208), Arm("active", 208, 0.3)),
                         outcome=Outcome(20.0, 5.0, 55**0.5, 24**0.5, 0.8, 10**0.5),
                         analysis=Analysis(method="reml"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=10_000)
    parser.add_argument("--chunk-size", type=int, default=100)
    args = parser.parse_args()
    s, looks, n, seed = adascog(), [0.5, 1.0], args.replicates, 16
    folder = Path(tempfile.mkdtemp(prefix="bench_sequential_"))
    try:
        t0 = time.perf_counter()
        serial = simulate_sequential(s, looks, n, seed, chunk_size=args.chunk_size)
        t_serial = time.perf_counter() - t0
        t0 = time.perf_counter()
        dask = simulate_sequential(s, looks, n, seed, chunk_size=args.chunk_size,
                                   scheduler="local", workers=2, checkpoint=folder / "ck")
        t_dask = time.perf_counter() - t0
        chunks = sorted((folder / "ck").glob("chunk_*.sha256"))
        for f in chunks[::2]:          # lose every other chunk, as an interrupted run would
            f.unlink()
        t0 = time.perf_counter()
        resumed = simulate_sequential(s, looks, n, seed, chunk_size=args.chunk_size,
                                      scheduler="local", workers=2, checkpoint=folder / "ck")
        t_resume = time.perf_counter() - t0
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    same = (np.array_equal(serial.results, dask.results, equal_nan=True)
            and np.array_equal(serial.results, resumed.results, equal_nan=True))
    oc = serial.operating_characteristics(DecisionRule(0.99, futility=0.1))
    fits = 2 * n
    print(f"| {n:,} replicates × 2 looks (REML, {fits:,} fits), 1 worker | {t_serial:.1f} s "
          f"({t_serial / n * 1e3:.1f} ms per replicate) |")
    print(f"| same, Dask local, 2 workers, checkpoint | {t_dask:.1f} s "
          f"(speed-up {t_serial / t_dask:.2f}×) |")
    print(f"| resume after losing {len(chunks[::2])} of {len(chunks)} chunks, Dask local, 2 "
          f"workers | {t_resume:.1f} s ({resumed.run.chunks_resumed} chunks resumed) |")
    print(f"| results identical (serial / Dask / resumed) | {same} |")
    print(f"| rule P>0.99, futility <0.1: power | {oc.success:.4f} (MC SE "
          f"{oc.success_mc_se:.4f}); E[N] {oc.expected_n:.1f} (MC SE "
          f"{oc.expected_n_mc_se:.1f}); failed {oc.failed} |")
    print(f"| R-side estimate, simr-style lme4 refit at 0.05 s per fit | "
          f"{fits * 0.05:.0f} s serial |")
    if not same:
        raise SystemExit("results differ between executions")


if __name__ == "__main__":
    main()
