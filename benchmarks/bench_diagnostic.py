"""Benchmark of the diagnostic model: fit time and ESS, nutpie vs PyMC's NUTS, scoring speed.

Run: ``python benchmarks/bench_diagnostic.py`` (from a worktree:
``PYTHONPATH=. python benchmarks/bench_diagnostic.py``); ``--skip-pymc`` skips
the slow PyMC-sampler comparison.

1. Fit on 600 subjects drawn from the model (5 markers, 3 classes, 10 sites,
   30% of subjects missing one whole modality), 2 chains x (1000 tune + 1000
   draws), nutpie: wall time including compilation, min bulk ESS over every
   free parameter, max R-hat, divergences.
2. The same model and data with PyMC's default NUTS sampler: ESS per second.
3. Scoring 100,000 patients (same missingness, 5% at unseen sites) with the
   2,000 posterior draws of fit 1.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from alsstats.errors import ConvergenceWarning
from alsstats.inference.scoring import class_probabilities
from alsstats.models.diagnostic.model import DiagnosticModel
from alsstats.models.diagnostic.spec import DiagnosticSpec, default_spec
from alsstats.schema import MODALITIES
from alsstats.testing.recovery import default_truth, simulate_diagnostic_cohort

N_FIT = 600
N_SCORE = 100_000


def five_marker_spec() -> DiagnosticSpec:
    data = default_spec().to_dict()
    del data["markers"]["chi3l1_ng_ml"]
    return DiagnosticSpec.from_dict(data)


def cohort(truth, n: int, seed: int, unseen_fraction: float = 0.0):
    """n subjects; 30% miss one modality (MRS, sMRI, blood or fMRI, equally likely)."""
    rng = np.random.default_rng(seed)
    df = simulate_diagnostic_cohort(truth, n, seed=rng)
    miss = np.flatnonzero(rng.random(n) < 0.3)
    which = rng.choice(["mrs", "smri", "blood", "fmri"], size=len(miss))
    for modality in ("mrs", "smri", "blood", "fmri"):
        cols = [c for c in MODALITIES[modality] if c in df.columns]
        df.loc[miss[which == modality], cols] = np.nan
    if unseen_fraction:
        new = rng.random(n) < unseen_fraction
        df.loc[new, "site"] = "UNSEEN"
    return df


def timed_fit(spec, df, sampler: str):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = DiagnosticModel(spec=spec, draws=1000, tune=1000, chains=2, sampler=sampler,
                                seed=20261126).fit(df)
    return model, time.perf_counter() - start


def report(name: str, model, seconds: float) -> None:
    c = model.convergence_
    t = model.timing_
    split = (f"nutpie compile {t['compile_seconds']:.1f} s, sampling call "
             f"{t['sampling_seconds']:.1f} s" if model.sampler == "nutpie"
             else f"pm.sample call incl. its compilation {t['sampling_seconds']:.1f} s")
    print(f"{name}: total {seconds:.1f} s ({split})"
          + f"; min bulk ESS {c.min_ess_bulk:.0f}, min tail ESS {c.min_ess_tail:.0f}, "
          f"max R-hat {c.max_rhat:.4f}, divergences {c.divergences}, converged {c.ok}; "
          f"min bulk ESS per total second {c.min_ess_bulk / seconds:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-pymc", action="store_true", help="skip the PyMC NUTS comparison")
    args = parser.parse_args()
    spec = five_marker_spec()
    truth = default_truth(spec, n_sites=10, seed=1)
    train = cohort(truth, N_FIT, seed=2)
    missing = train[list(spec.marker_names)].isna().any(axis=1).mean()
    print(f"fit data: {N_FIT} subjects, {len(spec.markers)} markers, 3 classes, "
          f"{train['site'].nunique()} sites, {missing:.0%} missing a modality")
    model, seconds = timed_fit(spec, train, "nutpie")
    report("nutpie (numba), 2 x (1000 + 1000)", model, seconds)
    if not args.skip_pymc:
        ref, ref_seconds = timed_fit(spec, train, "pymc")
        report("PyMC NUTS,      2 x (1000 + 1000)", ref, ref_seconds)
        ratio = ((model.convergence_.min_ess_bulk / seconds)
                 / (ref.convergence_.min_ess_bulk / ref_seconds))
        print(f"ESS/s ratio nutpie / PyMC (min bulk ESS per total second): {ratio:.1f}")

    patients = cohort(truth, N_SCORE, seed=3, unseen_fraction=0.05)
    params = model.posterior_parameters()
    print(f"scoring: {N_SCORE:,} patients x {params.mu.shape[0]:,} draws")
    model.predict_posterior(patients.head(200))           # compile/load the numba kernel
    start = time.perf_counter()
    scores = model.predict_posterior(patients)
    total = time.perf_counter() - start
    from alsstats.models.diagnostic.data import encode
    from alsstats.models.diagnostic.scoring_table import validate_scoring_table

    design = encode(validate_scoring_table(patients, spec), spec, model.standardization_,
                    model.sites_)
    start = time.perf_counter()
    class_probabilities(design.y, design.x, design.site, params,
                        np.log(model.prior_probabilities()), interval=0.9)
    kernel = time.perf_counter() - start
    print(f"predict_posterior (validation + encoding + scoring): {total:.2f} s; "
          f"class_probabilities alone: {kernel:.2f} s; mean P(ALS) {scores['p_als'].mean():.3f}")


if __name__ == "__main__":
    main()
