"""Benchmarks of the longitudinal models (issue 5).

1. REML fit of 2,000 subjects × 4 visits (target < 1 s) against statsmodels MixedLM
   (``method=["lbfgs"]``) on the same data; also 416 × 7 (the power helper's design).
2. Bayesian fit of 200 subjects × 4 visits, including compilation (target < 30 s with
   bulk ESS ≥ 400 and R-hat ≤ 1.01), and a refit with the compiled model.

Run: ``python benchmarks/bench_longitudinal.py``
"""

from __future__ import annotations

import platform
import time
import warnings

import numpy as np
import pandas as pd


def cohort(n_subjects: int, times, seed: int = 0, n_sites: int = 4) -> pd.DataFrame:
    """Two groups (ALS slope −2 %/y of 620 cm³, HC −0.5 %/y), age effect, site offsets."""
    rng = np.random.default_rng(seed)
    m = len(times)
    subj = np.repeat(np.arange(n_subjects), m)
    t = np.tile(np.asarray(times, float), n_subjects) + rng.uniform(0, 0.04, n_subjects * m)
    als = (np.arange(n_subjects) % 2 == 1)[subj]
    age = rng.normal(63, 9, n_subjects)[subj]
    site = rng.integers(0, n_sites, n_subjects)[subj]
    u = rng.multivariate_normal([0, 0], [[40.0**2, 0], [0, 6.0**2]], n_subjects)[subj]
    y = (620 - 3.0 * (age - 63) + rng.normal(0, 4, n_sites)[site] + u[:, 0]
         + (np.where(als, -12.4, -3.1) + u[:, 1]) * t + rng.normal(0, 4.0, len(t)))
    return pd.DataFrame({"subject": subj, "years": t, "gm": y,
                         "group": np.where(als, "ALS", "HC"), "age": age,
                         "site": [f"S{k}" for k in site]})


def bench_reml() -> None:
    from alsstats.inference.threads import single_threaded_blas
    from alsstats.models.lmm.engine import fit_lmm, fit_lmm_formula
    from alsstats.models.lmm.formula import design_matrices

    formula = "gm ~ group * years + age + (years | subject)"
    for n, times, reps in ((2000, (0, 0.5, 1, 1.5), 20), (416, (0, 0.25, 0.5, 0.75, 1, 1.25,
                                                                  1.5), 200)):
        df = cohort(n, times, seed=1)
        with single_threaded_blas():
            fit = fit_lmm_formula(formula, df)
            start = time.perf_counter()
            for _ in range(reps):
                fit = fit_lmm_formula(formula, df)
            per = (time.perf_counter() - start) / reps
            d = design_matrices(formula, df)
            start = time.perf_counter()
            for _ in range(reps):
                fit_lmm(d.y, d.X, d.subject, d.Z, "reml")
            per_arrays = (time.perf_counter() - start) / reps
        print(f"REML {n} subjects x {len(times)} visits: {per_arrays * 1e3:.1f} ms per fit on "
              f"arrays (fit_lmm), {per * 1e3:.1f} ms with formula parsing "
              f"(fit_lmm_formula); {fit.n_evaluations} deviance evaluations, "
              f"converged={fit.converged}; slope diff {fit.coef('group[HC]:years'):.3f}")
        if n == 2000:
            import statsmodels.formula.api as smf

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                sm = smf.mixedlm("gm ~ group * years + age", df, groups="subject",
                                 re_formula="~years").fit(reml=True, method=["lbfgs"])
                sm_time = time.perf_counter() - start
            print(f"statsmodels MixedLM (lbfgs), same data: {sm_time:.2f} s per fit "
                  f"({sm_time / per:.0f}x slower); slope diff "
                  f"{sm.fe_params['group[T.HC]:years']:.3f}; "
                  f"max |fixed diff| {np.max(np.abs(sm.fe_params.to_numpy() - _order(fit))):.2e}"
                  f"; our REML loglik {fit.loglik:.4f} vs statsmodels {sm.llf:.4f}")


def _order(fit):
    return np.array([fit.coef(n) for n in ("Intercept", "group[HC]", "years",
                                           "group[HC]:years", "age")])


def bench_bayes() -> None:
    from alsstats.models.longitudinal.model import LongitudinalModel

    df = cohort(200, (0, 0.5, 1, 1.5), seed=2)
    kw = {"outcome": "gm", "time": "years", "subject": "subject", "group": "group",
          "covariates": ("age",), "site": "site"}
    start = time.perf_counter()
    m = LongitudinalModel(method="bayes", seed=3, **kw).fit(df)
    total = time.perf_counter() - start
    c = m.convergence_
    print(f"Bayes 200 subjects x 4 visits (group slopes, age, 4 sites), 2 chains x "
          f"(1000 tuning + 1500 draws): {total:.1f} s including compilation; min bulk ESS "
          f"{c.min_ess_bulk:.0f}, min tail ESS {c.min_ess_tail:.0f}, max R-hat "
          f"{c.max_rhat:.4f}, divergences {c.divergences}, converged {c.ok}")
    s = m.summary()
    print(f"  slope diff ALS-HC {s.loc['slope_diff[ALS - HC]', 'estimate']:.2f} "
          f"(truth -9.30), 90% [{s.loc['slope_diff[ALS - HC]', 'lower']:.2f}, "
          f"{s.loc['slope_diff[ALS - HC]', 'upper']:.2f}]")
    start = time.perf_counter()
    LongitudinalModel(method="bayes", seed=4, **kw).fit(cohort(200, (0, 0.5, 1, 1.5), seed=5),
                                                        reuse=m)
    refit = time.perf_counter() - start
    print(f"  refit on new data with the compiled model: {refit:.2f} s "
          f"(so compilation + first imports ≈ {total - refit:.1f} s of the first fit)")


if __name__ == "__main__":
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    bench_reml()
    bench_bayes()
