"""Benchmark: ingest 1,000 synthetic subject folders (target < 30 s).

Run: python benchmarks/bench_ingest.py [--no-ica]

Writes, in a temporary folder, 1,000 subjects × 1 visit of raw outputs with
:func:`alsstats.testing.inputs.write_inputs` (a FreeSurfer folder with lh/rh
aparc.stats and aseg.stats, an LCModel ``.table``, a 6×6×6 ICA map per subject,
an SMA mask and the clinical CSV), then times :func:`alsstats.io.ingest` plus
:func:`alsstats.io.write_ingest` (parse, check, hash every input, validate,
write the cohort and its sidecars).  Best of 3 runs.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from alsstats.io import ingest, write_ingest
from alsstats.testing.inputs import write_inputs

N_SUBJECTS = 1_000


def cohort(n: int, seed: int = 1) -> pd.DataFrame:
    """A baseline cohort with every marker present (every subject has every file)."""
    rng = np.random.default_rng(seed)
    groups = np.array(["HC", "MIMIC", "PMA", "ALS"])[rng.integers(0, 4, n)]
    return pd.DataFrame({
        "subject_id": [f"P{i:05d}" for i in range(1, n + 1)], "visit": 0,
        "site": [f"S{k:02d}" for k in rng.integers(1, 6, n)], "group": groups,
        "age": rng.uniform(30, 80, n).round(1), "sex": rng.choice(["F", "M"], n),
        "years_from_baseline": 0.0, "alsfrs_r": np.where(groups == "HC", 48.0, 40.0),
        "nfl_pg_ml": rng.lognormal(3, 0.6, n).round(2),
        "chi3l1_ng_ml": rng.lognormal(4, 0.4, n).round(2),
        "glu": rng.uniform(6, 10, n).round(3), "naa": rng.uniform(8, 12, n).round(3),
        "gaba": rng.uniform(1, 2, n).round(3), "glu_crlb": rng.integers(3, 15, n),
        "naa_crlb": rng.integers(2, 6, n), "gaba_crlb": rng.integers(8, 40, n),
        "m1_volume_mm3": rng.uniform(20000, 30000, n),
        "precuneus_volume_mm3": rng.uniform(16000, 22000, n),
        "total_gm_volume_mm3": rng.uniform(5.2e5, 7e5, n),
        "etiv_mm3": rng.uniform(1.2e6, 1.8e6, n), "smn_sma": rng.normal(0, 1, n)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-ica", action="store_true", help="do not write/read ICA maps")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        manifest = write_inputs(cohort(N_SUBJECTS), root / "study", write_ica=not args.no_ica)
        t_write = time.perf_counter() - t0
        n_files = sum(1 for p in (root / "study").rglob("*") if p.is_file())
        times = []
        for run in range(3):
            t0 = time.perf_counter()
            result = ingest(manifest)
            write_ingest(result, root / f"out{run}" / "cohort.csv")
            times.append(time.perf_counter() - t0)
        summary = result.qc_summary()
    print(f"python {platform.python_version()}, {platform.machine()}")
    print(f"wrote {N_SUBJECTS:,} subjects ({n_files:,} files, ICA maps "
          f"{'no' if args.no_ica else 'yes'}) in {t_write:.2f} s")
    print(f"ingest + write: {summary['rows']:,} rows, QC counts {summary['counts']}: "
          f"best {min(times):.2f} s, runs {', '.join(f'{t:.2f}' for t in times)}; "
          "target < 30 s")


if __name__ == "__main__":
    main()
