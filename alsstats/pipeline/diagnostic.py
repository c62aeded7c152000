"""The Bayesian diagnostic model for the demo: fit, score held-out patients, check it.

Fits :class:`~alsstats.models.diagnostic.model.DiagnosticModel` on the demo cohort, scores an
independent simulated cohort (new subjects, same sites), and computes what the report
shows: P(ALS) per patient with credible intervals, the AUC of P(ALS) against each single
marker on the same patients, calibration and decision curves, interval widths by the
number of markers a patient has, posterior class means, posterior predictive checks and
convergence.  Motor neuron disease is the positive class: the default spec counts PMA as
ALS (``pma = "ALS"``), so the evaluation does too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alsstats.describe import baseline
from alsstats.models.diagnostic.criticism import posterior_predictive_check
from alsstats.models.diagnostic.model import DiagnosticModel
from alsstats.pipeline.markers import MARKER_DIRECTIONS, marker_roc
from alsstats.random import spawn_seeds
from alsstats.simulate import simulate_cohort
from alsstats.validation import (
    calibration_summary,
    decision_curve,
    roc_band,
)

__all__ = ["DiagnosticResults", "class_means", "convergence_table", "fit_and_score"]


@dataclass
class DiagnosticResults:
    """Tables behind the demo's diagnostic section."""

    scores: pd.DataFrame        # subject_id, group, p_als, p_als_low, p_als_high, n_markers, ...
    aucs: pd.DataFrame          # marker, n, n_positive, n_negative, auc, low, high (model first)
    curves: pd.DataFrame        # marker, fpr, tpr
    model_band: pd.DataFrame    # marker, fpr, tpr, tpr_low, tpr_high (bootstrap, P(ALS))
    calibration: pd.DataFrame   # predicted, observed, low, high (bins)
    calibration_stats: pd.DataFrame  # quantity, value, lower, upper
    decision: pd.DataFrame      # threshold, strategy, net_benefit
    widths: pd.DataFrame        # markers_available, patients, mean_interval_width
    class_means: pd.DataFrame   # class, marker, mean, lower, upper (standardised scale)
    ppc: pd.DataFrame
    convergence: pd.DataFrame   # quantity, value
    converged: bool
    spec_json: str
    n_train: int
    n_test: int
    seconds: dict


def fit_and_score(data: pd.DataFrame, *, seed: int, draws: int = 1000) -> DiagnosticResults:
    """Fit on ``data`` (baseline visits), score an independent cohort; see the module doc."""
    fit_seed, test_seed, ppc_seed = (int(s.generate_state(1)[0])
                                     for s in spawn_seeds(seed, 3))
    train = baseline(data)
    # Few sites make the site-SD funnel hard: small steps; 4 chains (the model's default)
    # because 2 x 1000 draws missed the tail-ESS bar on tau (docs/models/contract.md).
    model = DiagnosticModel(draws=draws, tune=max(draws, 1000), seed=fit_seed,
                            target_accept=0.95).fit(train)
    test_data, _ = simulate_cohort("default", seed=test_seed)
    test = baseline(test_data).assign(subject_id=lambda d: "T" + d["subject_id"].astype(str))
    scores = model.predict_posterior(test, prevalence="training")  # same scenario as training
    scores.insert(1, "group", test["group"].astype(str).to_numpy())
    scores["interval_width"] = scores["p_als_high"] - scores["p_als_low"]
    positive = test["group"].isin(["ALS", "PMA"]).to_numpy()

    rocs = [marker_roc("P(ALS) model", scores["p_als"], positive, ">")]
    rocs += [marker_roc(marker, test[marker], positive, direction)
             for marker, direction in MARKER_DIRECTIONS.items()]
    aucs = [row for row, _ in rocs]
    curves = [curve for _, curve in rocs]
    band = roc_band(positive, scores["p_als"].to_numpy(), direction=">", n_boot=500,
                    seed=ppc_seed).to_frame().assign(marker="P(ALS) model")

    cal = calibration_summary(positive, scores["p_als"].to_numpy(), n_bins=8)
    bins = cal.reliability.rename(columns={"low": "bin_low", "high": "bin_high"}).rename(
        columns={"mean_predicted": "predicted", "observed_lower": "low",
                 "observed_upper": "high"})
    stats = pd.DataFrame({
        "quantity": ["Brier score", "scaled Brier", "calibration intercept",
                     "calibration slope", "observed / expected", "patients"],
        "value": [cal.brier, cal.scaled_brier, cal.intercept, cal.slope,
                  cal.observed_expected, len(positive)],
        "lower": [np.nan, np.nan, cal.intercept_lower, cal.slope_lower, np.nan, np.nan],
        "upper": [np.nan, np.nan, cal.intercept_upper, cal.slope_upper, np.nan, np.nan]})
    dc = decision_curve(positive, scores["p_als"].to_numpy(),
                        thresholds=np.round(np.arange(0.05, 0.96, 0.05), 2)).to_frame()
    decision = (dc.rename(columns={"net_benefit": "model"})
                .melt(id_vars="threshold", value_vars=["model", "treat_all", "treat_none"],
                      var_name="strategy", value_name="net_benefit"))

    widths = (scores.groupby("n_markers")["interval_width"].agg(["size", "mean"])
              .reset_index().rename(columns={"n_markers": "markers_available",
                                             "size": "patients",
                                             "mean": "mean_interval_width"}))
    return DiagnosticResults(
        scores=scores, aucs=pd.DataFrame(aucs), curves=pd.concat(curves, ignore_index=True),
        model_band=band,
        calibration=bins, calibration_stats=stats, decision=decision, widths=widths,
        class_means=class_means(model),
        ppc=posterior_predictive_check(model, train, n_draws=300, seed=ppc_seed),
        convergence=convergence_table(model), converged=model.convergence_.ok,
        spec_json=model.spec_.to_json(),
        n_train=len(train), n_test=len(test),
        seconds=dict(model.timing_))


def convergence_table(model: DiagnosticModel) -> pd.DataFrame:
    """The fit's convergence checks as a two-column table."""
    conv = model.convergence_
    return pd.DataFrame({
        "quantity": ["max R-hat", "min bulk ESS", "min tail ESS", "divergences", "chains",
                     "draws per chain", "worst parameter (R-hat)", "lowest-ESS parameter",
                     "converged", "problems"],
        "value": [f"{conv.max_rhat:.4f}", f"{conv.min_ess_bulk:.0f}",
                  f"{conv.min_ess_tail:.0f}", str(conv.divergences), str(conv.chains),
                  str(conv.draws), conv.worst_parameter, conv.lowest_ess_parameter,
                  str(conv.ok), "; ".join(conv.problems()) or "none"]})


def class_means(model: DiagnosticModel) -> pd.DataFrame:
    """Posterior mean and 90% interval of each class mean on the standardised scale.

    The class mean is μ_k, or μ_k + λ_k √(2/π) for skew-normal markers (μ_k is then the
    class location; ``marker_distribution = "skew_normal"``).
    """
    post = model.idata_.posterior
    mean = post["mu"] + (post["skew"] * np.sqrt(2 / np.pi) if "skew" in post else 0.0)
    draws = mean.stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy()  # (S,K,J)
    markers = list(model.spec_.marker_names)
    rows = []
    for k, cls in enumerate(model.classes_):
        for j, marker in enumerate(markers):
            d = draws[:, k, j]
            rows.append({"class": cls, "marker": marker, "mean": float(d.mean()),
                         "lower": float(np.quantile(d, 0.05)),
                         "upper": float(np.quantile(d, 0.95))})
    return pd.DataFrame(rows)
