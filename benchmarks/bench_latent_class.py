"""Latent-class diagnostic model: recovery of a marker's accuracy when labels are wrong.

Each replicate simulates the default scenario's ALS and HC strata (``--n`` subjects per
group) with ``--label-error`` of the recorded groups wrong, fits the latent-class spec
(classes ALS and HC, all six markers) and the accuracy of NfL at ``--cutoff`` pg/mL,
and records whether the 90% intervals cover the sample's true sensitivity and
specificity, next to the same intervals against the recorded labels (the
gold-standard analysis); :mod:`alsstats.testing.latent_recovery`.  All replicates
share one compiled model (``fit_many``).

    python benchmarks/bench_latent_class.py --replicates 100 --out latent.json
"""

from __future__ import annotations

import argparse
import json
import platform

from alsstats.testing.latent_recovery import recovery_study, summarise


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--n", type=int, default=150, help="subjects per group (ALS, HC)")
    ap.add_argument("--label-error", type=float, default=0.2)
    ap.add_argument("--cutoff", type=float, default=25.0)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--exclude", default="", help="comma-separated markers left out of the "
                    "latent-class spec (e.g. nfl_pg_ml, the marker evaluated)")
    ap.add_argument("--out")
    args = ap.parse_args()
    rows, seconds = recovery_study(args.replicates, n=args.n, label_error=args.label_error,
                                   cutoff=args.cutoff, draws=args.draws, chains=args.chains,
                                   seed=args.seed,
                                   exclude=tuple(m for m in args.exclude.split(",") if m))
    summary = summarise(rows)
    summary.update(seconds=seconds, seconds_per_fit=seconds / args.replicates,
                   machine=f"{platform.machine()}, {platform.python_version()}",
                   args=vars(args))
    print(json.dumps(summary, indent=1))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"summary": summary, "rows": rows.to_dict(orient="records")}, fh,
                      indent=1)


if __name__ == "__main__":
    main()
