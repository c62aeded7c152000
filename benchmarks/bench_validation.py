"""Benchmark the validation harness.

Run: python benchmarks/bench_validation.py

1. AUC + DeLong 95% interval on 1,000,000 scores (target < 1 s), continuous and with heavy
   ties (scores rounded to 2 decimals), best of 3.
2. Paired DeLong test of two markers on 1,000,000 scores.
3. 2,000 stratified bootstrap replicates of the AUC on 10,000 scores.
4. Bootstrap stability of the Youden cutoff (1,000 replicates, 1,000 scores).
5. Repeated grouped CV of a cutoff rule (5 folds x 10 repeats, 1,000 subjects x 3 visits).
"""

from __future__ import annotations

import platform
import time

import numpy as np

from alsstats.validation import (
    CutoffClassifier,
    bootstrap_auc_ci,
    cross_validate,
    cutoff_stability,
    delong_ci,
    delong_test,
)


def _best(fn, repeats: int = 3) -> tuple[float, list[float], object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), times, out


def _fmt(times: list[float]) -> str:
    return ", ".join(f"{t:.3f}" for t in times)


def main() -> None:
    rng = np.random.default_rng(1)
    print(f"python {platform.python_version()}, {platform.machine()}")

    n = 1_000_000
    y = rng.random(n) < 0.3
    s = rng.normal(size=n) + 1.0 * y
    best, times, r = _best(lambda: delong_ci(y, s, direction=">"))
    print(f"delong_ci, 1,000,000 scores: best {best:.3f} s (runs {_fmt(times)}); "
          f"AUC {r.auc:.4f} [{r.lower:.4f}, {r.upper:.4f}]; target < 1 s")
    st = np.round(s, 2)
    best, times, r = _best(lambda: delong_ci(y, st, direction=">"))
    print(f"delong_ci, 1,000,000 scores with ties ({np.unique(st).size} distinct): "
          f"best {best:.3f} s (runs {_fmt(times)})")
    s2 = 0.7 * s + rng.normal(size=n)
    best, times, r = _best(lambda: delong_test(y, s, s2, direction=">"))
    print(f"delong_test (paired), 1,000,000 scores x 2 markers: best {best:.3f} s "
          f"(runs {_fmt(times)}); z {r.z:.2f}")

    m = 10_000
    yb = rng.random(m) < 0.5
    sb = rng.normal(size=m) + yb
    best, times, r = _best(lambda: bootstrap_auc_ci(yb, sb, n_boot=2000, seed=2))
    print(f"bootstrap_auc_ci, 2,000 stratified replicates on 10,000 scores: best {best:.3f} s "
          f"(runs {_fmt(times)}); [{r.lower:.4f}, {r.upper:.4f}]")

    k = 1_000
    yk = rng.random(k) < 0.4
    sk = rng.normal(size=k) + yk
    best, times, _ = _best(lambda: cutoff_stability(yk, sk, n_boot=1000, seed=3), repeats=1)
    print(f"cutoff_stability, 1,000 bootstrap replicates on 1,000 scores: {best:.3f} s")

    subj = np.repeat(np.arange(1000), 3)
    yc = np.repeat(rng.random(1000) < 0.4, 3)
    xc = (rng.normal(size=3000) + yc)[:, None]
    best, times, _ = _best(lambda: cross_validate(CutoffClassifier(), xc, yc, groups=subj,
                                                  n_folds=5, n_repeats=10, seed=4), repeats=1)
    print(f"cross_validate, cutoff rule, 5 folds x 10 repeats, 1,000 subjects x 3 visits, "
          f"n_jobs=1: {best:.3f} s")


if __name__ == "__main__":
    main()
