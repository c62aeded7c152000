"""Benchmark: simulate 100,000 subjects x 3 visits with the default scenario (target < 5 s).

Run: python benchmarks/bench_simulate.py
Times simulate_cohort end to end (including schema validation of the 300,000-row table),
best of 3 runs, and separately the validation alone.
"""

from __future__ import annotations

import platform
import time

from alsstats.schema import validate_cohort
from alsstats.simulate import load_scenario, simulate_cohort


def main() -> None:
    raw = load_scenario("default").to_dict()
    raw["design"]["retention"] = [1.0, 1.0, 1.0]  # every subject has all 3 visits
    per_stratum = 100_000 // len(raw["strata"])
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        data, _ = simulate_cohort(raw, seed=1, n_per_group=per_stratum)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    validate_cohort(data)
    t_validate = time.perf_counter() - t0
    print(f"python {platform.python_version()}, {platform.machine()}")
    print(f"simulate_cohort: {data['subject_id'].nunique():,} subjects, {len(data):,} rows: "
          f"best {min(times):.2f} s, runs {', '.join(f'{t:.2f}' for t in times)} "
          f"(of which validation {t_validate:.2f} s); target < 5 s")


if __name__ == "__main__":
    main()
