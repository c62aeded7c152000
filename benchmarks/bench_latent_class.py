"""Latent-class diagnostic model: recovery of a marker's accuracy when labels are wrong.

Each replicate simulates the default scenario's ALS and HC strata (``--n`` subjects per
group) with ``--label-error`` of the recorded groups wrong, fits the latent-class spec
(classes ALS and HC, all six markers) and the accuracy of NfL at ``--cutoff`` pg/mL,
and records whether the 90% intervals cover the sample's true sensitivity and
specificity, next to the same intervals against the recorded labels (the
gold-standard analysis).  All replicates share one compiled model (``fit_many``).

    python benchmarks/bench_latent_class.py --replicates 100 --out latent.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from alsstats.models.diagnostic.accuracy import marker_accuracy
from alsstats.models.diagnostic.model import DiagnosticModel
from alsstats.models.diagnostic.spec import DiagnosticSpec, default_spec
from alsstats.simulate import simulate_cohort


def latent_spec() -> DiagnosticSpec:
    spec = default_spec().to_dict()
    spec["model"].update(reference="latent", classes=["ALS", "HC"])
    return DiagnosticSpec.from_dict(spec)


def true_accuracy(data, truth, cutoff: float) -> tuple[float, float]:
    """NfL's sensitivity and specificity at ``cutoff`` against the true groups."""
    base = data[data["visit"] == 0].merge(
        truth.subjects[["subject_id", "group"]].rename(columns={"group": "true"}),
        on="subject_id")
    base = base[base["group"].isin(["ALS", "HC"]) & base["nfl_pg_ml"].notna()]
    als = base["true"].eq("ALS").to_numpy()
    pos = (base["nfl_pg_ml"] > cutoff).to_numpy()
    return float((pos & als).sum() / als.sum()), float((~pos & ~als).sum() / (~als).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--n", type=int, default=150, help="subjects per group (ALS, HC)")
    ap.add_argument("--label-error", type=float, default=0.2)
    ap.add_argument("--cutoff", type=float, default=25.0)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out")
    args = ap.parse_args()
    cohorts = [simulate_cohort("default", seed=args.seed + r, label_error=args.label_error,
                               n_per_group={"ALS": args.n, "HC": args.n, "PMA": 0, "MIMIC": 0})
               for r in range(args.replicates)]
    start = time.perf_counter()
    fits = DiagnosticModel(spec=latent_spec(), draws=args.draws, tune=args.draws,
                           chains=args.chains, seed=args.seed).fit_many(
        [data for data, _ in cohorts])
    seconds = time.perf_counter() - start
    rows = []
    for r, (fit, (data, truth)) in enumerate(zip(fits, cohorts, strict=True)):
        se, sp = true_accuracy(data, truth, args.cutoff)
        table = marker_accuracy(fit, data, "nfl_pg_ml", args.cutoff, seed=r).table
        for _, row in table.iterrows():
            rows.append({"replicate": r, "reference": row["reference"], "true_se": se,
                         "true_sp": sp, "se": row["sensitivity"], "sp": row["specificity"],
                         "se_covers": bool(row["sensitivity_low"] <= se
                                           <= row["sensitivity_high"]),
                         "sp_covers": bool(row["specificity_low"] <= sp
                                           <= row["specificity_high"]),
                         "converged": bool(fit.convergence_.ok)})
    summary = {}
    for ref in ("latent", "recorded"):
        sub = [r for r in rows if r["reference"] == ref]
        n = len(sub)
        for what in ("se", "sp"):
            cover = np.mean([r[f"{what}_covers"] for r in sub])
            bias = np.mean([r[what] - r[f"true_{what}"] for r in sub])
            sd = np.std([r[what] - r[f"true_{what}"] for r in sub], ddof=1)
            summary[f"{ref}_{what}_coverage"] = float(cover)
            summary[f"{ref}_{what}_coverage_mc_se"] = float(np.sqrt(cover * (1 - cover) / n))
            summary[f"{ref}_{what}_bias"] = float(bias)
            summary[f"{ref}_{what}_bias_mc_se"] = float(sd / np.sqrt(n))
    summary.update(replicates=args.replicates, converged=sum(f.convergence_.ok for f in fits),
                   seconds=seconds, seconds_per_fit=seconds / args.replicates,
                   machine=f"{platform.machine()}, {platform.python_version()}",
                   args=vars(args))
    print(json.dumps(summary, indent=1))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"summary": summary, "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
