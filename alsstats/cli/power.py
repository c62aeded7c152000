"""``alsstats power``: sample size and power (slope trials, diagnostic studies, prediction
models, simulation).  Option names follow longpower / presize / pmsampsize."""

from __future__ import annotations

import argparse
import math
import sys

from alsstats.cli._common import Outcome, add_command
from alsstats.cli._output import add_out
from alsstats.cli._progress import show_progress
from alsstats.errors import AlsStatsError

__all__ = ["register"]


def _items(text: str, kind: type, what: str) -> list:
    items = text.replace(" ", "").split(",")
    if "" in items:
        raise argparse.ArgumentTypeError(f"empty item in {text!r}; expected comma-separated "
                                         f"{what} such as 1,2,3")
    try:
        values = [kind(v) for v in items]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated {what}, got {text!r}") \
            from None
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected finite {what}, got {text!r}")
    return values


def _floats(text: str) -> list[float]:
    return _items(text, float, "numbers")


def _ints(text: str) -> list[int]:
    return _items(text, int, "integers")


def _share(text: str) -> float:
    """A prevalence: a number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


def _names(text: str) -> list[str]:
    """Comma-separated names, each once."""
    names = [m.strip() for m in text.split(",") if m.strip()]
    repeated = sorted({m for m in names if names.count(m) > 1})
    if repeated:
        raise argparse.ArgumentTypeError(f"{repeated[0]!r} is listed twice; a marker is "
                                         "compared with another marker, not itself")
    return names


def _run_options(p: argparse.ArgumentParser, replicates: int) -> None:
    p.add_argument("--replicates", type=int, default=replicates, help="Monte Carlo replicates")
    p.add_argument("--seed", type=int, default=0, help="root seed (replicate i: child seed i)")
    p.add_argument("--workers", type=int, default=1, help="local processes / Dask workers")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS|local",
                   help="run on Dask: a scheduler address, or 'local' for a local cluster")
    p.add_argument("--chunk-size", type=int, default=50,
                   help="replicates per chunk (unit of scheduling and checkpointing)")
    p.add_argument("--checkpoint", default=None, metavar="DIR",
                   help="save finished chunks here; rerun the same command to resume")


def _run_kwargs(args) -> dict:
    return {"workers": args.workers, "scheduler": args.scheduler,
            "chunk_size": args.chunk_size, "checkpoint": args.checkpoint,
            "progress": show_progress(args)}


def _command(sub, name: str, help: str, run, table: str = "one row of the result's values"):
    """A power sub-command with the common flags and ``--out`` (see cli._output)."""
    p = add_command(sub, name, help, run)
    add_out(p, table=table)
    return p


def _finish(args, data: dict, text: str, table=None) -> Outcome:
    """The simulated-power outcome; an error when no replicate could be analysed."""
    powers = [data.get("power")] + [r.get("power") for r in data.get("curve", [])]
    if any(isinstance(v, float) and math.isnan(v) for v in powers):
        raise AlsStatsError("power is undefined: no simulated replicate could be analysed "
                            f"({data.get('failed', 'all')} failed); check the design "
                            "(sizes, markers, groups)")
    return Outcome(data, text, table=table)


def register(sub) -> None:
    power = sub.add_parser("power", help="sample size and power: slope trials, diagnostic "
                           "studies, prediction models, simulation",
                           description=__doc__)
    psub = power.add_subparsers(dest="power_command", metavar="WHAT", required=True)
    _register_slope(psub)
    _register_ttest(psub)
    _register_diagnostic(psub)
    _register_prediction(psub)
    _register_simulate(psub)
    _register_sequential(psub)
    _register_assurance(psub)
    _register_enrichment(psub)


# -- slope ------------------------------------------------------------------------------------

def _register_slope(psub) -> None:
    p = _command(psub, "slope", "n, power or detectable slope difference of a slope trial "
                    "(GLS information; longpower's lmmpower/diggle/liu.liang/edland)", _run_slope)
    p.add_argument("--times", type=_floats, required=True, help="visit times, e.g. 0,0.25,0.5")
    eff = p.add_mutually_exclusive_group(required=False)
    eff.add_argument("--delta", type=float, help="slope difference to detect")
    eff.add_argument("--pct-change", type=float,
                     help="fractional slowing of --slope (0.3 = 30%%)")
    p.add_argument("--slope", type=float, help="mean (placebo) slope that --pct-change slows")
    p.add_argument("--var-intercept", type=float, default=0.0)
    p.add_argument("--var-slope", type=float, required=True)
    p.add_argument("--cov-intercept-slope", type=float, default=0.0)
    p.add_argument("--var-residual", type=float, required=True)
    p.add_argument("--power", type=float, help="target power (solve for n or delta)")
    p.add_argument("--n", type=float, help="control-arm size (solve for power or delta)")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--alternative", default="two-sided", choices=["two-sided", "one-sided"])
    p.add_argument("--allocation", type=float, default=1.0, help="n_treatment / n_control")
    _add_dropout_options(p)
    p.add_argument("--common-baseline", action="store_true",
                   help="one intercept for both arms (randomised trial)")
    p.add_argument("--method", default="gls", choices=["gls", "edland"],
                   help="GLS information engine (default) or Edland's formula")


def _run_slope(args) -> Outcome:
    from alsstats.power.slope import edland_sample_size, slope_sample_size

    retention = _retention(args)
    dropout = None if retention is None else list(retention.last_visit_shares())
    if args.delta is None and args.pct_change is None and (args.n is None or args.power is None):
        raise AlsStatsError("give --delta or --pct-change (with --slope), or both --n and "
                            "--power to solve for the detectable delta")
    delta = args.delta
    if args.method == "edland":
        if args.pct_change is not None:
            if args.slope is None:
                raise AlsStatsError("--pct-change needs --slope")
            delta = args.pct_change * abs(args.slope)
        if args.common_baseline:
            raise AlsStatsError("--common-baseline is a GLS option; drop --method edland")
        res = edland_sample_size(args.times, var_slope=args.var_slope,
                                 var_residual=args.var_residual, delta=delta, n=args.n,
                                 power=args.power, alpha=args.alpha,
                                 alternative=args.alternative, allocation=args.allocation,
                                 dropout=dropout)
    else:
        res = slope_sample_size(args.times, delta=delta, pct_change=args.pct_change,
                                slope=args.slope, n=args.n, power=args.power,
                                var_intercept=args.var_intercept, var_slope=args.var_slope,
                                cov_intercept_slope=args.cov_intercept_slope,
                                var_residual=args.var_residual, alpha=args.alpha,
                                alternative=args.alternative, allocation=args.allocation,
                                dropout=dropout, common_baseline=args.common_baseline)
    d = res.to_dict()
    extra = ""
    if retention is not None:
        d["dropout"] = retention.to_dict()
        if args.n is None:   # solved for n: show the simple inflation beside the exact n
            complete = _run_slope_complete(args, delta)
            d["n_control_complete_data"] = complete
            d["n_control_simple_inflation"] = retention.simple_inflation(complete)
            simple = d["n_control_simple_inflation"]
            extra = (f"\ndropout ({retention.shape}; retention "
                     f"{', '.join(f'{r:.3f}' for r in retention.retention)}): exact GLS n per "
                     f"control arm {res.n} ({res.n_exact:.2f}) vs {math.ceil(complete - 1e-9)} "
                     f"({complete:.2f}) with complete data; the simple "
                     f"n/(1 - {retention.lost:.3f}) inflation gives "
                     f"{math.ceil(simple - 1e-9)} ({simple:.2f})")
    text = (f"{res.method}: n {d['n']} per control arm ({d['n_exact']:.4f} unrounded), "
            f"{d['n_treatment_ceiling']} treatment ({res.n_treatment:.4f}), total "
            f"{d['n_total_ceiling']} subjects; delta {res.delta:.6g}; power {res.power:.4f}"
            f"; {res.alternative} alpha {res.alpha:g}; SE {res.se:.6g}" + extra)
    return Outcome(d, text)


def _retention(args):
    """The dropout given in any of the three forms, as a Retention (or None)."""
    from alsstats.dropout import Retention

    if (args.lost is None) != (args.by is None):
        raise AlsStatsError("--lost P needs --by T (the time by which P is lost), and --by "
                            "needs --lost")
    if args.lost is not None:
        return Retention.lost_by(args.times, args.lost, args.by)
    if args.retention is not None:
        return Retention.as_observed(args.times, args.retention)
    if args.dropout is not None:
        return Retention.from_last_visit_shares(args.times, args.dropout)
    return None


def _run_slope_complete(args, delta) -> float:
    """The control-arm n of the same design with complete data (no dropout)."""
    from alsstats.power.slope import edland_sample_size, slope_sample_size

    if args.method == "edland":
        return edland_sample_size(args.times, var_slope=args.var_slope,
                                  var_residual=args.var_residual, delta=delta, n=None,
                                  power=args.power, alpha=args.alpha,
                                  alternative=args.alternative,
                                  allocation=args.allocation).n_control
    return slope_sample_size(args.times, delta=delta, pct_change=args.pct_change,
                             slope=args.slope, n=None, power=args.power,
                             var_intercept=args.var_intercept, var_slope=args.var_slope,
                             cov_intercept_slope=args.cov_intercept_slope,
                             var_residual=args.var_residual, alpha=args.alpha,
                             alternative=args.alternative, allocation=args.allocation,
                             common_baseline=args.common_baseline).n_control


def _register_ttest(psub) -> None:
    p = _command(psub, "ttest", "two-sample t test n per group or power (noncentral t, as "
                    "pwr.t.test)", _run_ttest)
    p.add_argument("--d", type=float, required=True, help="standardised difference")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--power", type=float)
    g.add_argument("--n", type=float, help="n per group")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--alternative", default="two-sided", choices=["two-sided", "one-sided"])


def _run_ttest(args) -> Outcome:
    from alsstats.power.ttest import t_test_power, t_test_sample_size

    if args.n is None:
        size = t_test_sample_size(args.d, args.power, args.alpha, args.alternative)
        n, exact = size.n, size.n_exact
        power = args.power
        text = f"two-sample t test: n per group {n} ({exact:.4f} unrounded) for power {power:g}"
    else:
        exact = n = args.n
        power = t_test_power(args.d, args.n, args.alpha, args.alternative).power
        text = f"two-sample t test: power {power:.6f} with {n:g} per group"
    data = {"d": args.d, "n_per_group": n, "n_per_group_exact": exact, "power": power,
            "alpha": args.alpha, "alternative": args.alternative}
    return Outcome(data, text)


# -- diagnostic -------------------------------------------------------------------------------

def _register_diagnostic(psub) -> None:
    diag = psub.add_parser("diagnostic", help="diagnostic-accuracy studies (presize, Buderer, "
                           "Hanley-McNeil, Obuchowski, DeLong simulation)")
    dsub = diag.add_subparsers(dest="diagnostic_command", metavar="DESIGN", required=True)
    p = _command(dsub, "ci-width", "n for a target CI width of a proportion "
                    "(sensitivity/specificity; presize prec_prop)", _run_ci_width)
    p.add_argument("--p", type=float, required=True, help="expected proportion")
    p.add_argument("--conf-width", type=float, required=True,
                   help="full width of the interval (0.1 for ± 0.05), as presize")
    p.add_argument("--method", default="wilson",
                   choices=["wilson", "agresti-coull", "exact", "wald"])
    p.add_argument("--conf-level", type=float, default=0.95)
    p.add_argument("--prevalence", type=_share, default=None,
                   help="convert diseased n to a total cohort size")
    p = _command(dsub, "buderer", "Buderer (1996) n for sensitivity/specificity with a CI of "
                 "full width --conf-width",
                    _run_buderer)
    p.add_argument("--sensitivity", type=float)
    p.add_argument("--specificity", type=float)
    p.add_argument("--conf-width", type=float,
                   help="full width of the interval (0.1 for ± 0.05), as presize")
    p.add_argument("--half-width", type=float, help=argparse.SUPPRESS)  # deprecated
    p.add_argument("--prevalence", type=float, required=True)
    p.add_argument("--conf-level", type=float, default=0.95)
    p = _command(dsub, "auc-width", "n for a target CI width of an AUC (Hanley-McNeil)",
                    _run_auc_width)
    p.add_argument("--auc", type=float, required=True)
    p.add_argument("--conf-width", type=float, required=True,
                   help="full width of the interval (0.1 for ± 0.05), as presize")
    p.add_argument("--prevalence", type=float, required=True)
    p.add_argument("--conf-level", type=float, default=0.95)
    p = _command(dsub, "sensitivity-test", "exact binomial n to show sensitivity above a "
                    "bound (saw-tooth handled)", _run_sens_test)
    p.add_argument("--null", type=float, required=True, help="sensitivity bound (H0)")
    p.add_argument("--alt", type=float, required=True, help="anticipated sensitivity")
    p.add_argument("--power", type=float, default=0.8)
    p.add_argument("--alpha", type=float, default=0.05, help="one-sided")
    p.add_argument("--prevalence", type=_share, default=None)
    p = _command(dsub, "auc-test", "n to show AUC above a null value (Obuchowski)",
                    _run_auc_test)
    p.add_argument("--null", type=float, required=True)
    p.add_argument("--alt", type=float, required=True)
    p.add_argument("--power", type=float, default=0.8)
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--ratio", type=float, default=1.0, help="non-diseased per diseased")
    p.add_argument("--alternative", default="one-sided", choices=["two-sided", "one-sided"])
    p = _command(dsub, "compare-auc", "power of the paired DeLong test for two correlated "
                    "AUCs (binormal simulation)", _run_compare_auc)
    p.add_argument("--auc1", type=float, required=True)
    p.add_argument("--auc2", type=float, required=True)
    p.add_argument("--n-positive", type=int, required=True)
    p.add_argument("--n-negative", type=int, required=True)
    p.add_argument("--corr-positive", type=float, default=0.5)
    p.add_argument("--corr-negative", type=float, default=0.5)
    p.add_argument("--alpha", type=float, default=0.05)
    _run_options(p, 1000)
    p = _command(dsub, "cohort", "power of a diagnostic study simulated with the synthetic "
                    "cohort generator (one marker: AUC > --auc-null; two: paired DeLong)",
                    _run_cohort)
    p.add_argument("--markers", type=_names, required=True,
                   help="one or two cohort columns, e.g. nfl_pg_ml,m1_precuneus_ratio")
    p.add_argument("--directions", type=lambda s: [d for d in s.split(",") if d], default=None,
                   help="per marker: '>' higher in positives (default), '<' lower")
    p.add_argument("--n-per-group", type=int, required=True, help="subjects per stratum")
    p.add_argument("--cohort-scenario", default="default", help="synthetic cohort scenario")
    p.add_argument("--positive", default="ALS", help="comma-separated positive groups")
    p.add_argument("--negative", default="MIMIC", help="comma-separated negative groups")
    p.add_argument("--auc-null", type=float, default=0.5)
    p.add_argument("--alpha", type=float, default=0.05)
    _run_options(p, 200)


def _run_cohort(args) -> Outcome:
    from alsstats.power.diagnostic_sim import cohort_auc_power

    res = cohort_auc_power(args.markers, n_per_group=args.n_per_group,
                           scenario=args.cohort_scenario, directions=args.directions,
                           positive=tuple(args.positive.split(",")),
                           negative=tuple(args.negative.split(",")), auc_null=args.auc_null,
                           alpha=args.alpha, replicates=args.replicates, seed=args.seed,
                           **_run_kwargs(args))
    text = (f"{res.design['test']}: power {res.power:.4f} (MC SE {res.mc_se:.4f}) from "
            f"{res.successful} replicates; failed {res.failed}; mean AUC "
            f"{', '.join(f'{a:.3f}' for a in res.mean_auc if a == a)}; mean n "
            f"{res.mean_n_positive:.1f} positive / {res.mean_n_negative:.1f} negative")
    return _finish(args, res.to_dict(), text)


def _size_text(res) -> str:
    """``n = 692 (691.46)`` per group and in total: whole subjects, the exact value beside."""
    parts = [f"{label} {n} ({exact:.2f})" for label, n, exact in (
        ("diseased", res.n_diseased, res.n_diseased_exact),
        ("non-diseased", res.n_non_diseased, res.n_non_diseased_exact),
        ("total", res.n_total, res.n_total_exact)) if n is not None]
    return ", ".join(parts) + " (rounded up; unrounded in brackets)"


def _run_ci_width(args) -> Outcome:
    import math

    from alsstats.power.diagnostic import proportion_ci, proportion_ci_sample_size

    size = proportion_ci_sample_size(args.p, args.conf_width, args.method, args.conf_level)
    n, exact = size.n, size.n_exact
    lo, hi = proportion_ci(args.p, n, args.method, args.conf_level)
    data = {"p": args.p, "conf_width": args.conf_width, "method": args.method,
            "conf_level": args.conf_level, "n": n, "n_exact": exact, "lower": lo, "upper": hi}
    text = (f"{args.method}: n = {n} ({exact:.4f} unrounded); interval at n = {n}: "
            f"{lo:.4f} – {hi:.4f}")
    if args.prevalence is not None:
        data["n_total_exact"] = n / args.prevalence
        data["n_total"] = math.ceil(data["n_total_exact"] - 1e-9)
        text += (f"; total at prevalence {args.prevalence:g}: {data['n_total']} "
                 f"({data['n_total_exact']:.2f})")
    return Outcome(data, text)


def _run_buderer(args) -> Outcome:
    from alsstats.power.diagnostic import buderer_sample_size

    width = args.conf_width
    if args.half_width is not None:
        if width is not None:
            raise AlsStatsError("give --conf-width (the full width) only")
        print("alsstats: --half-width is deprecated; use --conf-width (the full width, "
              f"here {2 * args.half_width:g})", file=sys.stderr)
        width = 2 * args.half_width
    if width is None:
        raise AlsStatsError("give --conf-width, the full width of the interval (e.g. 0.1 "
                            "for ± 0.05)")
    res = buderer_sample_size(sensitivity=args.sensitivity, specificity=args.specificity,
                              conf_width=width, prevalence=args.prevalence,
                              conf_level=args.conf_level)
    return Outcome(res.to_dict(), "Buderer: " + _size_text(res))


def _run_auc_width(args) -> Outcome:
    from alsstats.power.diagnostic import auc_ci_sample_size

    res = auc_ci_sample_size(args.auc, args.conf_width, args.prevalence, args.conf_level)
    return Outcome(res.to_dict(), f"AUC {args.auc:g} ± {args.conf_width / 2:g}: "
                                  + _size_text(res))


def _run_sens_test(args) -> Outcome:
    from alsstats.power.diagnostic import sensitivity_test_sample_size

    res = sensitivity_test_sample_size(args.null, args.alt, power=args.power, alpha=args.alpha)
    data = res.to_dict()
    text = (f"exact binomial: n = {res.n} diseased (power >= {args.power:g} for every larger n; "
            f"first reached at n = {res.n_first}); reject if >= {res.critical} positives; "
            f"power {res.power:.4f}, attained alpha {res.attained_alpha:.4f}")
    if args.prevalence is not None:
        data["n_total"] = res.n / args.prevalence
        text += f"; total at prevalence {args.prevalence:g}: {data['n_total']:.1f}"
    return Outcome(data, text)


def _run_auc_test(args) -> Outcome:
    from alsstats.power.diagnostic import auc_test_sample_size

    res = auc_test_sample_size(args.null, args.alt, power=args.power, alpha=args.alpha,
                               ratio=args.ratio, alternative=args.alternative)
    return Outcome(res.to_dict(), "Obuchowski: " + _size_text(res))


def _run_compare_auc(args) -> Outcome:
    from alsstats.power.diagnostic_sim import compare_auc_power

    res = compare_auc_power(args.auc1, args.auc2, args.n_positive, args.n_negative,
                            corr_positive=args.corr_positive, corr_negative=args.corr_negative,
                            alpha=args.alpha, replicates=args.replicates, seed=args.seed,
                            **_run_kwargs(args))
    text = (f"paired DeLong: power {res.power:.4f} (MC SE {res.mc_se:.4f}) from "
            f"{res.successful} replicates; failed {res.failed}")
    return _finish(args, res.to_dict(), text)


# -- prediction -------------------------------------------------------------------------------

def _register_prediction(psub) -> None:
    pred = psub.add_parser("prediction", help="minimum n to develop a prediction model "
                           "(Riley et al.; pmsampsize)")
    qsub = pred.add_subparsers(dest="outcome_type", metavar="OUTCOME", required=True)
    for name, run in (("binary", _run_binary), ("continuous", _run_continuous),
                      ("survival", _run_survival)):
        p = _command(qsub, name, f"Riley criteria for a {name} outcome", run,
                     table="one row per criterion")
        p.add_argument("--parameters", type=int, required=True,
                       help="candidate predictor parameters")
        p.add_argument("--shrinkage", type=float, default=0.9)
        if name == "continuous":
            p.add_argument("--rsquared", type=float, required=True, help="adjusted R²")
            p.add_argument("--intercept", type=float, required=True)
            p.add_argument("--sd", type=float, required=True, help="SD of the outcome")
            p.add_argument("--mmoe", type=float, default=1.1)
        elif name == "binary":
            r2 = p.add_mutually_exclusive_group(required=True)
            r2.add_argument("--csrsquared", type=float, help="anticipated Cox-Snell R²")
            r2.add_argument("--cstatistic", type=float,
                            help="anticipated C statistic (AUC), converted to the Cox-Snell "
                                 "R² (Riley, Van Calster & Collins 2021)")
        else:
            p.add_argument("--csrsquared", type=float, required=True, help="Cox-Snell R²")
        if name == "binary":
            p.add_argument("--prevalence", type=float, required=True)
        if name == "survival":
            p.add_argument("--rate", type=float, required=True, help="events per person-time")
            p.add_argument("--timepoint", type=float, required=True)
            p.add_argument("--meanfup", type=float, required=True, help="mean follow-up")


def _prediction_outcome(res) -> Outcome:
    import pandas as pd

    lines = [f"{c.name}: n = {c.n}" + (f" (shrinkage {c.shrinkage:.3f})" if c.shrinkage else "")
             for c in res.criteria]
    if res.details.get("cstatistic") is not None:
        lines.insert(0, f"C statistic {res.details['cstatistic']:g} at prevalence "
                        f"{res.details['prevalence']:g}: Cox-Snell R² "
                        f"{res.details['r2_cs']:.4f}")
    lines.append(f"minimum sample size: {res.n}")
    if res.events is not None:
        lines[-1] += f" ({res.events:.1f} events, {res.events_per_parameter:.2f} per parameter)"
    d = res.to_dict()
    return Outcome(d, "\n".join(lines), table=pd.DataFrame(d["criteria"]))


def _run_binary(args) -> Outcome:
    from alsstats.power.prediction import binary_sample_size

    return _prediction_outcome(binary_sample_size(args.csrsquared, args.parameters,
                                                  args.prevalence, shrinkage=args.shrinkage,
                                                  cstatistic=args.cstatistic))


def _run_continuous(args) -> Outcome:
    from alsstats.power.prediction import continuous_sample_size

    return _prediction_outcome(continuous_sample_size(args.rsquared, args.parameters,
                                                      args.intercept, args.sd,
                                                      shrinkage=args.shrinkage, mmoe=args.mmoe))


def _run_survival(args) -> Outcome:
    from alsstats.power.prediction import survival_sample_size

    return _prediction_outcome(survival_sample_size(args.csrsquared, args.parameters,
                                                    args.rate, args.timepoint, args.meanfup,
                                                    shrinkage=args.shrinkage))


# -- simulate ---------------------------------------------------------------------------------

def _register_simulate(psub) -> None:
    p = _command(psub, "simulate", "simulated power of a trial scenario (TOML), serial, on "
                 "local processes or on Dask; resumable with --checkpoint", _run_simulate,
                 table="one row per active arm, or per curve point")
    p.add_argument("scenario", help="trial scenario: .toml path or name "
                                    "(shipped: trial_adascog, trial_alsfrs, trial_alsfrs_death)")
    _add_method_option(p)
    p.add_argument("--n-control", type=_ints, default=None,
                   help="control-arm sizes for a power curve, e.g. 100,150,200")
    p.add_argument("--slowing", type=_floats, default=None,
                   help="slowings for a power curve, e.g. 0.2,0.3")
    _run_options(p, 1000)


def _add_method_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--method", default=None, choices=["reml", "egls", "two-stage", "joint"],
                   help="override the scenario's analysis method ('joint': slope and death, "
                        "for informative death)")


def _scenario(args):
    """The trial scenario named on the command line, with ``--method`` applied."""
    from alsstats.power.scenario import read_trial_scenario

    scenario = read_trial_scenario(args.scenario)
    return scenario.with_changes(method=args.method) if args.method else scenario


def _run_simulate(args) -> Outcome:
    import pandas as pd

    from alsstats.power.simulate import power_curve, simulate_power

    scenario = _scenario(args)
    if args.n_control or args.slowing:
        rows = power_curve(scenario, n_control=args.n_control, slowing=args.slowing,
                           replicates=args.replicates, seed=args.seed, **_run_kwargs(args))
        lines = ["n_control  slowing   power  MC SE  failed  analytic"]
        for r in rows:
            analytic = "-" if r["analytic_power"] is None else f"{r['analytic_power']:.4f}"
            lines.append(f"{r['n_control']:9d}  {r['slowing']:7.3f}  {r['power']:.4f}  "
                         f"{r['mc_se']:.4f}  {r['failed_fits']:6d}  {analytic}")
        data = {"scenario": scenario.name, "method": scenario.analysis.method,
                "replicates": args.replicates, "seed": args.seed, "curve": rows}
        return _finish(args, data, "\n".join(lines), table=pd.DataFrame(rows))
    res = simulate_power(scenario, args.replicates, args.seed, **_run_kwargs(args))
    lines = [f"{scenario.name}: {res.method}, {res.replicates} replicates, seed {res.seed}, "
             f"{res.run.scheduler} ({res.run.elapsed_seconds:.1f} s"
             + (f", {res.run.chunks_resumed} chunks resumed" if res.run.chunks_resumed else "")
             + ")"]
    for a in res.arms:
        analytic = "" if a.analytic_power is None else f"; analytic GLS {a.analytic_power:.4f}"
        lines.append(f"{a.arm} vs control: power {a.power:.4f} (MC SE {a.mc_se:.4f}), "
                     f"{a.successful_fits} fits, {a.failed_fits} failed{analytic}")
    d = res.to_dict()
    return _finish(args, d, "\n".join(lines), table=pd.DataFrame(d["arms"]))


# -- sequential -------------------------------------------------------------------------------

def _probability_arg(text: str) -> float:
    """A probability strictly inside (0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a probability in (0, 1), got {text}")
    return value


def _register_sequential(psub) -> None:
    p = _command(psub, "sequential", "operating characteristics of a Bayesian decision rule "
                 "with interim looks (type I error, power, E[N], stops per look), simulated; "
                 "beside a Lan-DeMets group-sequential design", _run_sequential,
                 table="one row per look and hypothesis")
    p.add_argument("scenario", help="two-arm trial scenario: .toml path or name "
                                    "(shipped: trial_adascog, trial_alsfrs, trial_alsfrs_death)")
    p.add_argument("--looks", type=_floats, required=True, metavar="F1,...,1",
                   help="information fractions of the looks (share of each arm's subjects "
                        "with complete follow-up), ending at 1, e.g. 0.5,1")
    p.add_argument("--success", type=_probability_arg, default=0.975,
                   help="stop for success when P(benefit > 0 | data) exceeds this "
                        "(ignored with --calibrate-alpha)")
    p.add_argument("--futility", type=_probability_arg, default=None,
                   help="stop at an interim look when P(benefit > 0 | data) is below this")
    p.add_argument("--prior-mean", type=float, default=0.0,
                   help="normal prior on the benefit (endpoint units per time unit)")
    p.add_argument("--prior-sd", type=float, default=None,
                   help="SD of the normal prior (default: flat prior)")
    p.add_argument("--calibrate-alpha", type=_probability_arg, default=None,
                   help="calibrate the success threshold on independent null trials to this "
                        "one-sided type I error")
    p.add_argument("--alpha", type=_probability_arg, default=0.025,
                   help="one-sided alpha of the group-sequential comparison design (default "
                        "0.025; --calibrate-alpha overrides it)")
    p.add_argument("--spending", default="obrien-fleming", choices=["obrien-fleming", "pocock"],
                   help="alpha-spending function of the group-sequential comparison design")
    _add_method_option(p)
    _run_options(p, 1000)


def _run_sequential(args) -> Outcome:
    import pandas as pd

    from alsstats.power.sequential import DecisionRule, sequential_design

    scenario = _scenario(args)
    rule = DecisionRule(args.success, args.futility, args.prior_mean, args.prior_sd)
    res = sequential_design(scenario, args.looks, rule, calibrate_alpha=args.calibrate_alpha,
                            spending=args.spending, replicates=args.replicates,
                            seed=args.seed, alpha=args.alpha, **_run_kwargs(args))
    d = res.to_dict()
    r = res.rule
    lines = [f"{res.scenario}: looks at {', '.join(f'{t:g}' for t in res.looks)}; "
             f"{res.replicates} trials per hypothesis, seed {res.seed}"]
    if res.calibration:
        c = res.calibration
        lines.append(f"calibrated success threshold P(benefit > 0) > {c['threshold']:.5f} "
                     f"(z {c['threshold_z']:.4f}) for one-sided alpha {c['target_alpha']:g} on "
                     f"{c['calibration_replicates']} independent null trials")
    else:
        lines.append(f"success threshold P(benefit > 0) > {r.success}")
    if r.futility is not None:
        lines.append(f"futility: stop at an interim look when P(benefit > 0) < {r.futility:g}")
    an0, an1 = d["analytic"]["null"], d["analytic"]["alternative"]
    lines.append(f"type I error {res.null.success:.4f} (MC SE {res.null.success_mc_se:.4f}; "
                 f"analytic {an0['success']:.4f}); power {res.alternative.success:.4f} "
                 f"(MC SE {res.alternative.success_mc_se:.4f}; analytic {an1['success']:.4f})")
    lines.append(f"expected subjects: {res.null.expected_n:.1f} under the null, "
                 f"{res.alternative.expected_n:.1f} under the effect (of "
                 f"{sum(res.n_per_arm.values())})")
    lines.append("look  info  n    P(success|H0)  P(futility|H0)  P(success|H1)  "
                 "P(futility|H1)")
    rows = []
    for l0, l1 in zip(res.null.looks, res.alternative.looks, strict=True):
        lines.append(f"{l0.look:4d}  {l0.information:4.2f}  {l0.n_analysed:<4d} "
                     f"{l0.success:.4f}         {l0.futility:.4f}          "
                     f"{l1.success:.4f}         {l1.futility:.4f}")
        for name, look in (("null", l0), ("alternative", l1)):
            rows.append({"hypothesis": name, **look.__dict__})
    g = res.group_sequential
    lines.append(f"Lan-DeMets {g.spending}-type, one-sided alpha {g.alpha:g}: boundaries "
                 f"{', '.join(f'{c:.4f}' for c in g.critical_values)}; type I error "
                 f"{res.group_sequential_null.success:.4f} (MC SE "
                 f"{res.group_sequential_null.success_mc_se:.4f}), power "
                 f"{res.group_sequential_alternative.success:.4f} (MC SE "
                 f"{res.group_sequential_alternative.success_mc_se:.4f}; analytic "
                 f"{d['group_sequential']['analytic']['alternative']['power']:.4f})")
    failed = res.null.failed + res.alternative.failed
    if failed:
        lines.append(f"{failed} simulated trials had a failed fit at some look (left out)")
    return Outcome(d, "\n".join(lines), table=pd.DataFrame(rows))


# -- assurance --------------------------------------------------------------------------------

def _add_dropout_options(p: argparse.ArgumentParser) -> None:
    """The three dropout forms of ``power slope`` (read back by :func:`_retention`)."""
    drop = p.add_mutually_exclusive_group()
    drop.add_argument("--retention", type=_floats, default=None, metavar="R0,R1,...",
                      help="dropout as observed: share still followed at each visit "
                           "(starts at 1), e.g. 1,0.95,0.9,0.85")
    drop.add_argument("--lost", type=float, default=None, metavar="P",
                      help="dropout as the proportion lost by time --by, constant hazard "
                           "(e.g. --lost 0.2 --by 1: 20%% lost by t = 1)")
    drop.add_argument("--dropout", type=_floats, default=None, metavar="S0,S1,...",
                      help="dropout as the share of subjects whose last visit is each visit "
                           "(sums to 1)")
    p.add_argument("--by", type=float, default=None, metavar="T",
                   help="the time (in visit-time units) by which --lost is lost")


def _register_assurance(psub) -> None:
    p = _command(psub, "assurance", "assurance (Bayesian probability of success) of a slope "
                 "trial over a pilot decline model's posterior and a design prior on the "
                 "effect, beside the power at the posterior mean", _run_assurance,
                 table="one row per control-arm size")
    p.add_argument("--pilot", required=True, metavar="FIT.nc",
                   help="longitudinal fit saved by 'alsstats longitudinal --out fit.nc' "
                        "(Bayesian: posterior draws; REML: the mean slope's sampling draws)")
    p.add_argument("--group", default=None,
                   help="the pilot group whose decline the trial slows (default ALS)")
    p.add_argument("--effect-prior", required=True, metavar="PRIOR",
                   help="design prior on the relative slowing: normal(MEAN,SD), point(VALUE) "
                        "or a number, e.g. 'normal(0.3,0.1)'")
    p.add_argument("--n", type=_floats, required=True, metavar="N[,N...]",
                   help="control-arm size(s); several give an assurance curve")
    p.add_argument("--times", type=_floats, required=True,
                   help="planned visit times in the pilot fit's time unit, e.g. 0,0.5,1")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--alternative", default="two-sided", choices=["two-sided", "one-sided"])
    p.add_argument("--allocation", type=float, default=1.0, help="n_treatment / n_control")
    p.add_argument("--common-baseline", action="store_true",
                   help="one intercept for both arms (randomised trial)")
    _add_dropout_options(p)


def _run_assurance(args) -> Outcome:
    import pandas as pd

    from alsstats.power.assurance import assurance, parse_effect_prior, pilot_draws

    prior = parse_effect_prior(args.effect_prior)
    retention = _retention(args)
    dropout = None if retention is None else list(retention.last_visit_shares())
    pilot = pilot_draws(args.pilot, args.group)
    res = assurance(pilot, args.times, args.n, prior, alpha=args.alpha,
                    alternative=args.alternative, allocation=args.allocation,
                    dropout=dropout, common_baseline=args.common_baseline)
    d = res.to_dict()
    if retention is not None:
        d["dropout"] = retention.to_dict()
    m = res.posterior_means
    unit = f" per {res.time_unit.removesuffix('s')}" if res.time_unit else ""
    lines = [f"pilot: {res.source}, group {res.group}, {res.n_draws} draws (ESS {res.ess:.0f}); "
             f"posterior mean slope {m['slope']:.6g}{unit}, SD of slopes {m['sd_slope']:.6g}, "
             f"residual SD {m['sigma']:.6g}",
             f"design prior on the slowing: {prior.kind} mean {prior.mean:g}"
             + (f", SD {prior.sd:g}" if prior.sd else ""),
             "n_control  assurance  MC SE    power at posterior mean"]
    for row in d["curve"]:
        lines.append(f"{row['n']:9g}  {row['assurance']:.4f}     {row['mc_se']:.4f}   "
                     f"{row['power_at_posterior_mean']:.4f}")
    return Outcome(d, "\n".join(lines), table=pd.DataFrame(d["curve"]))


# -- enrichment -------------------------------------------------------------------------------

def _register_enrichment(psub) -> None:
    p = _command(psub, "enrichment", "biomarker enrichment of an ALSFRS-R slope trial: "
                 "screening ratio, sample size and cost at each NfL threshold (cohort "
                 "generator's population)", _run_enrichment, table="one row per threshold")
    p.add_argument("--times", type=_floats, required=True,
                   help="visit times in months, e.g. 0,2,4,6,8,10,12")
    p.add_argument("--slowing", type=float, required=True,
                   help="relative slowing of the decline (0.3 = 30%%)")
    p.add_argument("--power", type=float, default=0.8)
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--alternative", default="two-sided", choices=["two-sided", "one-sided"])
    p.add_argument("--allocation", type=float, default=1.0, help="n_treatment / n_control")
    p.add_argument("--thresholds", type=_floats, default=None,
                   help="marker thresholds (default: the 10th..80th percentiles, and none)")
    p.add_argument("--marker", default="nfl_pg_ml", help="cohort column to enrich on")
    p.add_argument("--cost-screen", type=float, default=1.0, help="cost per patient screened")
    p.add_argument("--cost-enrolled", type=float, default=0.0,
                   help="cost per patient enrolled")
    p.add_argument("--cohort-scenario", default="default", help="synthetic cohort scenario")
    p.add_argument("--population-size", type=int, default=20_000,
                   help="simulated ALS patients to screen from")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulated population")
    _add_dropout_options(p)


def _run_enrichment(args) -> Outcome:
    import pandas as pd

    from alsstats.power.enrichment import enrichment_design, enrichment_population

    retention = _retention(args)
    dropout = None if retention is None else list(retention.last_visit_shares())
    pop = enrichment_population(args.cohort_scenario, args.population_size, args.seed,
                                marker=args.marker)
    res = enrichment_design(pop, args.times, slowing=args.slowing, power=args.power,
                            alpha=args.alpha, alternative=args.alternative,
                            allocation=args.allocation, dropout=dropout,
                            thresholds=args.thresholds, cost_screen=args.cost_screen,
                            cost_enrolled=args.cost_enrolled)
    d = res.to_dict()
    if retention is not None:
        d["dropout"] = retention.to_dict()
    lines = [f"population: {pop.source}; slowing {args.slowing:g}, power {args.power:g}",
             f"{'threshold':>10}  eligible  screen/enrol  mean decline  n/arm  enrolled  "
             "screened      cost"]
    for r in res.rows:
        cut = "none" if r["threshold"] is None else f"{r['threshold']:.4g}"
        lines.append(f"{cut:>10}  {r['eligible']:.3f}     {r['screening_ratio']:8.3f}  "
                     f"{r['mean_decline']:12.4f}  {r['n_control']:5d}  {r['enrolled']:8d}  "
                     f"{r['screened']:8.1f}  {r['cost']:8.1f}")

    def name(c):
        return "none" if c is None else f"{c:.4g}"

    lines.append(f"fewest screened: threshold {name(res.best['screened'])}; fewest enrolled: "
                 f"{name(res.best['enrolled'])}; lowest cost: {name(res.best['cost'])}")
    return Outcome(d, "\n".join(lines), table=pd.DataFrame(res.rows))
