"""Choose the diagnostic model's within-class covariance by PPC and LOO on the default scenario.

Run: ``python benchmarks/bench_diagnostic_scales.py`` (from a worktree:
``PYTHONPATH=. python benchmarks/bench_diagnostic_scales.py``).

For each ``covariance`` option of the spec (``shared``, ``class_sd``, ``per_class``) the
default spec is fitted to the baseline visits of ``simulate_cohort("default", seed=101,
n_per_group=60)`` (300 subjects, the default test tier's training cohort), 2 chains x
(1000 tune + 1000 draws).  Reported per option: convergence (max R-hat, min bulk/tail
ESS, divergences), the posterior predictive p-values of every class/marker SD and mean
(the extremes), PSIS-LOO of the markers' likelihood (``elpd_loo``, paired difference
against the best, max Pareto k) and the diagnostic LOO log score, and
calibration-in-the-large (intercept of ``logit P(ALS) = a + logit p``) on 2,000
clinic-like test patients (ALS 30%, MIMIC 60%, HC 10%) scored with that mix as the
prevalence and with the training frequencies.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from alsstats.errors import ConvergenceWarning
from alsstats.models.diagnostic.criticism import (
    classification_loo,
    loo,
    posterior_predictive_check,
)
from alsstats.models.diagnostic.model import DiagnosticModel
from alsstats.models.diagnostic.spec import COVARIANCES, DiagnosticSpec, default_spec
from alsstats.simulate import simulate_cohort
from alsstats.validation.calibration import calibration_summary

#: A clinic-like mix (referrals with suspected motor neuron disease).
CLINIC_MIX = {"ALS": 0.3, "MIMIC": 0.6, "HC": 0.1}


def baseline(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["visit"] == 0].reset_index(drop=True)


def clinic_cohort(seed: int, n: int = 2000) -> pd.DataFrame:
    sizes = {g: round(p * n) for g, p in CLINIC_MIX.items()}
    data, _ = simulate_cohort("default", seed=seed, n_per_group=sizes)
    return baseline(data)


def spec_with(covariance: str) -> DiagnosticSpec:
    data = default_spec().to_dict()
    data["model"]["covariance"] = covariance
    return DiagnosticSpec.from_dict(data)


def calibration_in_the_large(model: DiagnosticModel, test: pd.DataFrame, prevalence) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = model.predict_posterior(test, prevalence=prevalence, interval_kind="credible")
    y = test["group"].isin(["ALS", "PMA"]).to_numpy()
    p = np.clip(scores["p_als"].to_numpy(), 1e-9, 1 - 1e-9)
    return calibration_summary(y, p).intercept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--options", nargs="+", default=list(COVARIANCES))
    args = parser.parse_args()
    train = baseline(simulate_cohort("default", seed=101, n_per_group=60)[0])
    test = clinic_cohort(seed=303)
    fits, rows = {}, []
    for option in args.options:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = DiagnosticModel(spec_with(option), draws=args.draws, tune=args.tune,
                                    chains=2, seed=7).fit(train)
        seconds = time.perf_counter() - start
        fits[option] = model
        ppc = posterior_predictive_check(model, train, n_draws=1000, seed=1)
        marker_loo = loo(model, train)
        diag = classification_loo(model, train, prevalence="training")
        conv = model.convergence_
        rows.append({
            "covariance": option, "seconds": round(seconds, 1),
            "max_rhat": conv.max_rhat, "min_ess_bulk": conv.min_ess_bulk,
            "min_ess_tail": conv.min_ess_tail, "divergences": conv.divergences,
            "p_sd_min": ppc["p_sd"].min(), "p_sd_max": ppc["p_sd"].max(),
            "p_mean_min": ppc["p_mean"].min(), "p_mean_max": ppc["p_mean"].max(),
            "elpd_loo": float(marker_loo.elpd_loo), "elpd_se": float(marker_loo.se),
            "max_k": float(np.max(marker_loo.pareto_k)),
            "_pointwise": np.asarray(marker_loo.loo_i),
            "diag_elpd": diag["elpd"], "diag_se": diag["se"],
            "citl_clinic": calibration_in_the_large(model, test, CLINIC_MIX),
            "citl_training": calibration_in_the_large(model, test, "training"),
        })
        print(f"{option}: done in {seconds:.0f} s", flush=True)
        print(ppc.round(3).to_string(), flush=True)
    best = max(rows, key=lambda r: r["elpd_loo"])
    for r in rows:
        diff = best["_pointwise"] - r["_pointwise"]
        r["elpd_diff"] = float(diff.sum())
        r["se_diff"] = float(np.sqrt(len(diff) * diff.var()))
    table = pd.DataFrame([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows])
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print(table.round(4).to_string(index=False))


if __name__ == "__main__":
    main()
