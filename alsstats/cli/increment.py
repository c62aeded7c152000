"""``alsstats increment``: does each modality add to the base markers (default NfL)?

Thin wrapper around :func:`alsstats.validation.increment.increment` on a cohort table.
"""

from __future__ import annotations

import argparse

from alsstats.cli._common import Outcome, add_command, add_seed_and_level
from alsstats.cli._output import add_out

__all__ = ["register"]


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") \
            from None


def _columns(text: str) -> list[str]:
    cols = [c.strip() for c in text.split(",") if c.strip()]
    if not cols:
        raise argparse.ArgumentTypeError("expected one or more comma-separated columns")
    return cols


def register(sub) -> None:
    p = add_command(
        sub, "increment", "added value of each marker set over a base set (default NfL): "
        "ΔAUC, NRI, IDI, Δ net benefit, Δ Brier, Δ log score on out-of-fold predictions",
        _run,
        description="Added value of marker sets on out-of-fold predictions of the same model "
                    "class (subject-grouped, class-stratified, repeated K-fold; the repeats' "
                    "predictions are averaged per subject: repeated cross-validation is the "
                    "optimism correction).  Outcome: ALS (with PMA) against MIMIC and HC, "
                    "each subject's baseline visit.  Subjects without a base marker are "
                    "excluded and counted; subjects missing added markers get the model's "
                    "prediction from what they have (logistic: the pattern submodel; bayes: "
                    "marginalised), and every result is also given for the subjects who "
                    "have all added markers.")
    p.add_argument("file", help="cohort table (.csv, .tsv, .parquet; the cohort schema)")
    p.add_argument("--base", type=_columns, default=["nfl_pg_ml"], metavar="COLS",
                   help="base markers, comma-separated (nfl_pg_ml)")
    p.add_argument("--add", type=_columns, action="append", required=True, metavar="COLS",
                   help="a marker set to add, comma-separated (repeatable: one set each)")
    p.add_argument("--model", choices=("logistic", "bayes"), default="logistic",
                   help="model class fitted to base and base + added: L2 logistic regression "
                        "(default, fast) or the Bayesian diagnostic model (slow: one MCMC fit "
                        "per fold, repeat and marker set)")
    p.add_argument("--folds", type=int, default=5, help="folds (5)")
    p.add_argument("--repeats", type=int, default=10, help="repeats (10)")
    p.add_argument("--categories", type=_floats, default=[0.25, 0.75], metavar="P,P",
                   help="risk-category cut points of the categorical NRI (0.25,0.75)")
    p.add_argument("--thresholds", type=_floats, default=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7,
                                                          0.8, 0.9], metavar="P,...",
                   help="threshold probabilities of the Δ net benefit (0.1,...,0.9)")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates (1000)")
    p.add_argument("--draws", type=int, default=1000,
                   help="MCMC draws per chain for --model bayes (1000)")
    p.add_argument("--tune", type=int, default=1000,
                   help="MCMC tuning steps per chain for --model bayes (1000)")
    add_seed_and_level(p)
    add_out(p, table="one row per added set, population and metric")


def _run(args: argparse.Namespace) -> Outcome:
    from alsstats.cli._table import read_table
    from alsstats.validation.increment import increment

    df = read_table(args.file)
    model = args.model
    if model == "bayes":
        from alsstats.models.diagnostic import DiagnosticModel

        model = DiagnosticModel(draws=args.draws, tune=args.tune, seed=args.seed)
    r = increment(df, base=args.base, added=args.add, model=model, n_folds=args.folds,
                  n_repeats=args.repeats, categories=args.categories,
                  thresholds=args.thresholds, n_boot=args.n_boot, conf_level=args.conf_level,
                  seed=args.seed, file=str(args.file))
    data = {"file": str(args.file), **r.to_dict()}
    level = f"{args.conf_level:.0%}"
    lines = [f"{args.file}: {r.n_subjects} subjects ({r.n_positive} ALS/PMA, {r.n_negative} "
             f"MIMIC/HC) with {', '.join(r.base)}; {r.n_excluded_missing_base} excluded "
             f"(no base marker); model {r.model}, {r.n_folds} folds x {r.n_repeats} repeats",
             f"  optimism correction: {r.optimism_correction}",
             f"  intervals ({level}, {r.n_boot} replicates): {r.intervals}",
             "  ΔBrier < 0 and Δlog score > 0 are improvements"]
    t = r.table.set_index(["added", "population", "metric"])
    for s in r.added:
        name = "+".join(s)
        for pop in ("all", "with_added"):
            if (name, pop, "delta_auc") not in t.index:
                lines.append(f"  + {name} [{pop}]: not estimable (a class has < 2 subjects)")
                continue
            n = int(t.loc[(name, pop, "delta_auc"), "n"])

            rows = t.loc[(name, pop)]
            delong = (f" [DeLong {_cell(rows, 'delta_auc_delong')}]"
                      if "delta_auc_delong" in rows.index else "")
            lines.append(f"  + {name} [{pop}, n {n}]: ΔAUC {_cell(rows, 'delta_auc')}{delong}; NRI "
                         f"continuous {_cell(rows, 'nri_continuous')}, categorical "
                         f"{_cell(rows, 'nri_categorical')}; IDI {_cell(rows, 'idi')}; ΔBrier "
                         f"{_cell(rows, 'delta_brier', '+.4f')}; Δlog score "
                         f"{_cell(rows, 'delta_log_score', '+.4f')}")
            nb = r.net_benefit[(r.net_benefit["added"] == name)
                               & (r.net_benefit["population"] == pop)]
            better = nb[nb["lower"] > 0]["threshold"].tolist()
            worse = nb[nb["upper"] < 0]["threshold"].tolist()
            lines.append(f"      Δ net benefit: interval above 0 at thresholds "
                         f"{_list(better)}; below 0 at {_list(worse)}")
    return Outcome(data, "\n".join(lines), table=r.table)


def _cell(rows, metric: str, fmt: str = "+.3f") -> str:
    row = rows.loc[metric]
    return f"{row['estimate']:{fmt}} ({row['lower']:{fmt}} to {row['upper']:{fmt}})"


def _list(values) -> str:
    return ", ".join(f"{v:g}" for v in values) if values else "none"
