"""Session-scoped diagnostic-model fixtures: one compiled and fitted model for the whole run.

Training and test cohorts come from the synthetic generator
(:func:`alsstats.simulate.simulate_cohort`, default scenario, independent seeds).
"""

from __future__ import annotations

import numpy as np
import pytest

from alsstats.models.diagnostic.graph import build_pymc_model, model_data
from alsstats.models.diagnostic.model import DiagnosticModel, _indicator, _layout
from alsstats.simulate import simulate_cohort


def diagnostic_graph(spec, data):
    """The PyMC graph that ``DiagnosticModel.fit`` builds for ``data``.

    Returns ``(prepared, arrays, codes, model)``: the prepared data, the ``pm.Data``
    arrays, the latent-class indicator codes (``None`` for a labels spec) and the model.
    """
    prepared = DiagnosticModel(spec=spec)._prepare(data, None, spec)
    layout = _layout([prepared])
    levels, (codes,) = _indicator([prepared], spec)
    arrays = model_data(prepared.design, prepared.labels, layout, indicator=codes)
    return prepared, arrays, codes, build_pymc_model(spec, layout, arrays, prepared.sites,
                                                     levels)


def values_at_random_point(model, names, seed=3):
    """The named model variables and the likelihood Potential ``loglik`` at a random point
    (the initial point plus N(0, 0.2^2) on the unconstrained scale)."""
    rng = np.random.default_rng(seed)
    point = {k: v + 0.2 * rng.standard_normal(v.shape)
             for k, v in model.initial_point().items()}
    outputs = model.replace_rvs_by_values([*(model[n] for n in names), model["loglik"]])
    *params, potential = model.compile_fn(outputs, inputs=model.value_vars,
                                          on_unused_input="ignore")(point)
    return dict(zip(names, params, strict=True)), float(potential)


def baseline(df):
    return df[df["visit"] == 0].reset_index(drop=True)


@pytest.fixture(scope="session")
def diag_train():
    # 5 strata (HC, MIMIC, PMA, ALS early, ALS established) x 60 = 300 subjects.
    data, _ = simulate_cohort("default", seed=101, n_per_group=60)
    return baseline(data)


@pytest.fixture(scope="session")
def diag_test():
    data, _ = simulate_cohort("default", seed=202, n_per_group=200)
    return baseline(data)


@pytest.fixture(scope="session")
def diag_fit(diag_train):
    """The default-spec model fitted on 300 subjects with the default sampler settings
    (4 chains x (1000 tune + 1000 draws)); it must converge (tests/models/test_diagnostic_fit)
    and a ConvergenceWarning here fails the run (pyproject's filterwarnings)."""
    return DiagnosticModel(seed=7).fit(diag_train)


def mann_whitney_auc(score, positive) -> float:
    """AUC as the Mann-Whitney probability P(score_pos > score_neg) + 0.5 P(tie)."""
    score = np.asarray(score, float)
    positive = np.asarray(positive, bool)
    pos, neg = score[positive], score[~positive]
    greater = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(greater + 0.5 * ties)


def calibration_slope(outcome, p) -> float:
    """Slope of the logistic recalibration model logit P(y) = a + b logit(p) (Newton-Raphson)."""
    p = np.clip(np.asarray(p, float), 1e-12, 1 - 1e-12)
    y = np.asarray(outcome, float)
    x = np.column_stack([np.ones_like(p), np.log(p / (1 - p))])
    coef = np.zeros(2)
    for _ in range(100):
        eta = x @ coef
        mu = 1 / (1 + np.exp(-eta))
        grad = x.T @ (y - mu)
        hess = x.T @ (x * (mu * (1 - mu))[:, None])
        step = np.linalg.solve(hess, grad)
        coef += step
        if np.abs(step).max() < 1e-10:
            break
    return float(coef[1])
