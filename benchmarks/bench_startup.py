"""Benchmark the command line's start-up.

Run: python benchmarks/bench_startup.py [--runs 7]

Each command runs as a fresh process (``python -m alsstats ...``), as a user types it; the
median wall time of ``--runs`` runs is reported (target < 0.5 s for commands that do not
sample).  ``fit diagnostic`` is reported as its start-up: the CLI plus the modules a fit
imports (PyMC, PyTensor, ArviZ, nutpie), before any data is read or model compiled.

1. ``alsstats --help``
2. ``alsstats power slope`` (an ADAS-cog-like slope trial, solve for n)
3. ``alsstats roc`` on a 400-row table (one marker, DeLong interval)
4. ``alsstats fit diagnostic`` start-up: the CLI and everything a fit imports (reported,
   no target)

For scale, the floors every command pays are reported too: the interpreter alone, NumPy,
and NumPy with pandas (which ``roc`` needs to read and check its table).  The load
average at the start is printed: on the shared 2-core machine it moves every number.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET = 0.5


def _time(cmd: list[str], runs: int) -> tuple[float, list[float], int]:
    times, code = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - t0)
        code = proc.returncode
    return statistics.median(times), times, code


def _table(folder: Path) -> Path:
    rng = np.random.default_rng(1)
    y = rng.random(400) < 0.4
    path = folder / "markers.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("subject,als,nfl\n")
        for i, (yi, s) in enumerate(zip(y, rng.normal(size=400) + 1.2 * y, strict=True)):
            fh.write(f"s{i},{int(yi)},{s:.5f}\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    print(f"python {platform.python_version()}, {platform.machine()}; median of {runs} runs; "
          f"load average {os.getloadavg()[0]:.1f} (2 cores)")
    exe = [sys.executable, "-m", "alsstats"]
    with tempfile.TemporaryDirectory() as tmp:
        table = _table(Path(tmp))
        cases = [
            ("alsstats --help", [*exe, "--help"], True),
            ("alsstats power slope", [*exe, "power", "slope", "--times", "0,0.5,1,1.5",
                                      "--delta", "1.5", "--var-slope", "8",
                                      "--var-residual", "10", "--power", "0.8"], True),
            ("alsstats roc", [*exe, "roc", str(table), "--outcome", "als", "--marker", "nfl",
                              "--subject", "subject"], True),
            ("alsstats fit diagnostic (start-up)",
             [sys.executable, "-c", "import alsstats.cli, alsstats.models.diagnostic.model, "
              "nutpie"], False),
            ("floor: python -c pass", [sys.executable, "-c", "pass"], False),
            ("floor: import numpy", [sys.executable, "-c", "import numpy"], False),
            ("floor: import numpy, pandas", [sys.executable, "-c", "import numpy, pandas"],
             False),
        ]
        for name, cmd, targeted in cases:
            median, times, code = _time(cmd, runs)
            verdict = ""
            if targeted:
                verdict = "  OK" if median < TARGET else f"  ABOVE TARGET ({TARGET} s)"
            print(f"{name:<36} median {median:.3f} s (runs {', '.join(f'{t:.3f}' for t in times)}"
                  f"; exit {code}){verdict}")


if __name__ == "__main__":
    main()
