"""``true_class_means`` is what the diagnostic model's ``mu`` estimates, checked by least squares.

The model has zero-sum site offsets, so ``mu`` absorbs the mean of the true offsets.  A
large cohort from :mod:`alsstats.testing.recovery`, regressed on class indicators,
zero-sum site contrasts and the model's covariate coding, must give class coefficients
equal to ``true_class_means`` within sampling error.  Before the fix the function left out
the mean offset (about 0.1 within-class SD here: several standard errors), which made the
slow recovery test's 90% intervals cover only 95/144 class means.
"""

from __future__ import annotations

import numpy as np

from alsstats.models.diagnostic.data import AGE_SCALE_YEARS
from alsstats.models.diagnostic.spec import default_spec
from alsstats.testing.recovery import default_truth, simulate_diagnostic_cohort, true_class_means


def test_true_class_means_match_the_zero_sum_parameterisation():
    spec = default_spec()
    truth = default_truth(spec, n_sites=10, seed=1001)
    df = simulate_diagnostic_cohort(truth, 60_000, seed=2001)
    age_center = float(df["age"].mean())
    k = np.array([spec.classes.index(g) for g in df["group"]])
    sites = truth.sites
    s = np.array([sites.index(v) for v in df["site"]])
    classes = np.eye(len(spec.classes))[k]
    contrasts = np.eye(len(sites))[s][:, :-1] - (s == len(sites) - 1)[:, None]
    covariates = np.column_stack([(df["age"].to_numpy() - age_center) / AGE_SCALE_YEARS,
                                  np.where(df["sex"] == "M", 0.5, -0.5)])
    design = np.column_stack([classes, contrasts, covariates])
    y = np.column_stack([np.log(df[m.name]) if m.transform == "log" else df[m.name]
                         for m in spec.markers])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    se = np.sqrt(np.diag(np.linalg.inv(design.T @ design)))[:len(spec.classes), None] \
        * resid.std(axis=0)[None, :]
    z = (coef[:len(spec.classes)] - true_class_means(truth, age_center)) / se
    assert np.abs(z).max() < 4.5, np.round(z, 1)            # 18 estimates: |z| < 4.5
    # Without the mean site offset the same comparison is off by many standard errors.
    offset = truth.site_offsets.mean(axis=0)
    assert (np.abs(offset) / se).max() > 5
