"""Simulation-based calibration of both Bayesian models (see ``alsstats.validation.sbc``).

Run: ``python benchmarks/bench_sbc.py diagnostic --replicates 20 --seed 1 --ranks d1.csv``
(from a worktree: ``PYTHONPATH=. python ...``) writes the ranks of one batch;
``python benchmarks/bench_sbc.py combine d1.csv d2.csv ...`` pools batches run with
different seeds (independent replicates) and prints the chi-square table.
"""

from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd

from alsstats.validation.sbc import sbc_diagnostic, sbc_longitudinal, uniformity_table

N_RANK_DRAWS = 99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["diagnostic", "longitudinal", "combine"])
    parser.add_argument("files", nargs="*", help="rank CSVs to pool (combine)")
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bins", type=int, default=10)
    parser.add_argument("--ranks", help="write the ranks of this batch here (CSV)")
    args = parser.parse_args()
    if args.what == "combine":
        ranks = pd.concat([pd.read_csv(f) for f in args.files], ignore_index=True)
        table = uniformity_table(ranks, N_RANK_DRAWS, args.bins)
        alpha = 0.01 / len(table)
        print(f"{len(ranks)} replicates, {args.bins} bins, {len(table)} parameters; "
              f"min p {table['p_value'].min():.4f} (Bonferroni threshold {alpha:.5f}): "
              f"{'PASS' if (table['p_value'] > alpha).all() else 'FAIL'}")
        print(table.round(4).to_string(index=False))
        return
    run = sbc_diagnostic if args.what == "diagnostic" else sbc_longitudinal
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run(n_replicates=args.replicates, seed=args.seed,
                     n_rank_draws=N_RANK_DRAWS, n_bins=args.bins)
    print(f"{args.what}: {args.replicates} replicates in {time.perf_counter() - start:.0f} s; "
          f"{result.divergent_fits} fits with divergences")
    if args.ranks:
        result.ranks.to_csv(args.ranks, index=False)


if __name__ == "__main__":
    main()
