"""Known MRS measurement error (``measurement_error = "crlb"``): shrinkage and calibration.

Training and test cohorts come from the default scenario with ``crlb_noise=True`` (each
measured concentration carries multiplicative noise of SD CRLB/100, so the CRLB is a
true measurement SD); the test cohort is simulated at the training cohort's sites.  The
CRLB spec and the default spec (no measurement error) are fitted on the same training
cohort and compared on the test cohort's P(ALS) (PMA counted as ALS, scored at the
training class frequencies, which are the test cohort's too):

* calibration intercept (slope fixed at 1) and slope of P(ALS), with Wald 95% intervals
  (their width is the Monte Carlo error of one test cohort);
* shrinkage: each test patient with both MRS ratios is scored twice by the CRLB model,
  with all three CRLBs set to ``--low`` and to ``--high`` % (markers unchanged): with
  the MRS ratios alone, |P(ALS) - prior|; with every marker, the distance to her score
  without the MRS ratios (:func:`shrinkage`).

    python benchmarks/bench_measurement_error.py --out measurement_error.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from alsstats.models.diagnostic.model import DiagnosticModel
from alsstats.models.diagnostic.spec import DiagnosticSpec, default_spec
from alsstats.simulate import simulate_cohort
from alsstats.validation.calibration import calibration_summary

CRLB_COLUMNS = ("glu_crlb", "naa_crlb", "gaba_crlb")


def crlb_spec() -> DiagnosticSpec:
    spec = default_spec().to_dict()
    spec["model"]["measurement_error"] = "crlb"
    return DiagnosticSpec.from_dict(spec)


def baseline(df):
    return df[df["visit"] == 0].reset_index(drop=True)


def cohorts(seed: int, n_train: int, n_test: int):
    train, truth = simulate_cohort("default", seed=seed, n_per_group=n_train, crlb_noise=True)
    test, _ = simulate_cohort("default", seed=seed + 1, n_per_group=n_test, crlb_noise=True,
                              site_offsets=truth.site_offsets)
    return baseline(train), baseline(test)


def _p_als(model, table):
    return model.predict_posterior(table, prevalence="training",
                                   interval_kind="credible")["p_als"].to_numpy()


def _summary(dist: dict[str, np.ndarray]) -> dict:
    shrunk = dist["high"] < dist["low"]
    n = len(shrunk)
    return {"n": n, "mean_abs_low": float(dist["low"].mean()),
            "mean_abs_high": float(dist["high"].mean()),
            "mean_abs_low_se": float(dist["low"].std(ddof=1) / np.sqrt(n)),
            "mean_abs_high_se": float(dist["high"].std(ddof=1) / np.sqrt(n)),
            "share_shrunk": float(shrunk.mean()),
            "share_shrunk_se": float(np.sqrt(shrunk.mean() * (1 - shrunk.mean()) / n))}


def shrinkage(model: DiagnosticModel, test, low: float, high: float) -> dict:
    """How far the patients with both ratios are moved by their MRS, CRLBs ``low`` vs ``high``.

    ``mrs_only``: the other markers removed, |P(ALS) - prior|.  ``all_markers``: every
    marker, |P(ALS) - P(ALS without the MRS ratios)| (the MRS contribution; with other
    markers the prior is not where a noisier spectrum leads).
    """
    mrs = test[test["glu_naa"].notna() & test["glu_gaba"].notna()].reset_index(drop=True)
    others = [m for m in model.spec_.marker_names if m not in ("glu_naa", "glu_gaba")]
    prior = float(model.prior_probabilities("training")[0])
    without = _p_als(model, mrs.assign(glu_naa=np.nan, glu_gaba=np.nan))
    only, full = {}, {}
    for name, value in (("low", low), ("high", high)):
        table = mrs.copy()
        table[list(CRLB_COLUMNS)] = value
        only[name] = np.abs(_p_als(model, table.assign(**dict.fromkeys(others, np.nan)))
                            - prior)
        full[name] = np.abs(_p_als(model, table) - without)
    return {"prior": prior, "crlb_low": low, "crlb_high": high,
            "mrs_only": _summary(only), "all_markers": _summary(full)}


def calibration(model: DiagnosticModel, test) -> dict:
    p = model.predict_posterior(test, prevalence="training",
                                interval_kind="credible")["p_als"].to_numpy()
    y = test["group"].isin(["ALS", "PMA"]).to_numpy()
    c = calibration_summary(y, p)
    return {"n": c.n, "intercept": c.intercept, "intercept_ci": [c.intercept_lower,
                                                                  c.intercept_upper],
            "slope": c.slope, "slope_ci": [c.slope_lower, c.slope_upper], "brier": c.brier}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--n-train", type=int, default=60, help="subjects per stratum")
    ap.add_argument("--n-test", type=int, default=200, help="subjects per stratum")
    ap.add_argument("--low", type=float, default=2.0)
    ap.add_argument("--high", type=float, default=20.0)
    ap.add_argument("--specs", default="crlb,none", help="comma-separated: crlb, none")
    ap.add_argument("--out")
    args = ap.parse_args()
    train, test = cohorts(args.seed, args.n_train, args.n_test)
    result = {"python": platform.python_version(), "seed": args.seed,
              "n_train": len(train), "n_test": len(test)}
    specs = {"crlb": crlb_spec, "none": default_spec}
    for name in args.specs.split(","):
        spec = specs[name]()
        start = time.perf_counter()
        model = DiagnosticModel(spec=spec, seed=7).fit(train)
        conv = model.convergence_
        result[name] = {"fit_seconds": time.perf_counter() - start,
                        "converged": conv.ok, "max_rhat": conv.max_rhat,
                        "min_ess_bulk": conv.min_ess_bulk, "min_ess_tail": conv.min_ess_tail,
                        "divergences": conv.divergences,
                        "calibration": calibration(model, test)}
        start = time.perf_counter()
        result[name]["shrinkage"] = shrinkage(model, test, args.low, args.high)
        result[name]["shrinkage"]["score_seconds"] = time.perf_counter() - start
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
