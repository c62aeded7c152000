"""Benchmark of the first Bayesian fit in a fresh process: numba vs JAX, cold and warm caches.

Run: ``python benchmarks/bench_cold_start.py`` (from a worktree:
``PYTHONPATH=. python benchmarks/bench_cold_start.py``); ``--backends jax`` or
``--models longitudinal`` restrict it.  Every fit runs in a new Python process (as each
CLI call does), first with empty compile caches (a fresh PyTensor ``base_compiledir``
and ``ALSSTATS_CACHE_DIR`` in a temporary folder), then again with the caches that run
left behind.  Fits:

- diagnostic: the demo's fit, the default cohort's baseline subjects (seed 1),
  the model's default 4 chains x (1000 tune + 1000 draws), target acceptance 0.95;
- longitudinal: the demo's Bayesian decline model of total gray matter on the same
  cohort (the shipped spec).

Printed per fit: wall time of the process, compile and sampling seconds reported by the
model, and its convergence verdict.  When both backends ran, the posteriors of their
warm fits (or cold, with ``--states cold``) are compared parameter by parameter: the
largest and the median difference of posterior means in posterior SDs (Monte Carlo
error alone gives differences of about 0.05-0.1 SD at these ESS).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, sys, time, warnings
t0 = time.perf_counter()
from alsstats.describe import baseline
from alsstats.simulate import simulate_cohort
model_name, backend = sys.argv[1], sys.argv[2]
data, _ = simulate_cohort("default", seed=1)
warnings.simplefilter("ignore")
t1 = time.perf_counter()
if model_name == "diagnostic":
    from alsstats.models.diagnostic.model import DiagnosticModel
    m = DiagnosticModel(draws=1000, tune=1000, seed=5, target_accept=0.95,
                        backend=backend).fit(baseline(data))
    ok = bool(m.convergence_.ok)
else:
    from alsstats.models.longitudinal.model import LongitudinalModel
    table = data.assign(total_gm_cm3=data["total_gm_volume_mm3"] / 1000.0)
    m = LongitudinalModel(method="bayes", outcome="total_gm_cm3", seed=5,
                          backend=backend).fit(table)
    ok = bool(m.converged_)
post = m.idata_.posterior
summary = {}
for name, values in post.data_vars.items():
    flat = values.values.reshape(values.sizes["chain"] * values.sizes["draw"], -1)
    for k, (mean, sd) in enumerate(zip(flat.mean(0), flat.std(0))):
        summary[f"{name}[{k}]"] = [float(mean), float(sd)]
print(json.dumps({"imports_and_data_s": t1 - t0, "fit_s": time.perf_counter() - t1,
                  "converged": ok, "posterior": summary, **m.timing_}))
"""


def run(model: str, backend: str, env: dict) -> dict:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, model, backend], env=env,
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - start
    return result


def agreement(a: dict, b: dict) -> tuple[float, float, str]:
    """Largest and median |difference of posterior means| / posterior SD, and the worst
    parameter, over the parameters with a positive SD in both fits."""
    z = {k: abs(a[k][0] - b[k][0]) / max(a[k][1], b[k][1])
         for k in a.keys() & b.keys() if min(a[k][1], b[k][1]) > 0}
    worst = max(z, key=z.get)
    return z[worst], sorted(z.values())[len(z) // 2], worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="numba,jax")
    parser.add_argument("--models", default="diagnostic,longitudinal")
    parser.add_argument("--states", default="cold,warm")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores)")
    for model in args.models.split(","):
        last = {}
        for backend in args.backends.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                env = dict(os.environ, PYTENSOR_FLAGS=f"base_compiledir={Path(tmp) / 'pt'}",
                           ALSSTATS_CACHE_DIR=str(Path(tmp) / "als"))
                for state in args.states.split(","):
                    r = run(model, backend, env)
                    last[backend] = r["posterior"]
                    extra = "".join(f", {k} {r[k]:.1f} s" for k in ("compile_seconds",
                                                                    "sampling_seconds") if k in r)
                    print(f"{model:12s} {backend:5s} {state}: process {r['process_s']:.1f} s "
                          f"(fit {r['fit_s']:.1f} s{extra}); converged {r['converged']}",
                          flush=True)
        if len(last) == 2:
            worst, median, name = agreement(*last.values())
            print(f"{model:12s} {' vs '.join(last)}: posterior means differ by at most "
                  f"{worst:.2f} SD ({name}), median {median:.2f} SD", flush=True)


if __name__ == "__main__":
    main()
