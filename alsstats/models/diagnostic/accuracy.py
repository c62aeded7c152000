r"""Accuracy of a marker and of the clinical label against the (possibly latent) truth.

Without a gold standard the sensitivity of a marker cannot be counted against the
recorded labels: a patient recorded as ALS who does not have it lowers the marker's
apparent sensitivity, and an ALS patient recorded as a mimic lowers its apparent
specificity.  With a latent-class fit (``reference = "latent"``,
:mod:`~alsstats.models.diagnostic.latent`) each subject's true class :math:`z_i` has,
for posterior draw :math:`d`,

.. math::

    P_d(z_i = k \mid y_i, r_i) \propto \pi_{dk}\, \Lambda_{d k r_i}\,
        N(y_{i,o} \mid \mu_{dk,o} + (B_d^\top x_i)_o + u_{d s_i, o},\ \Sigma_{d(k),oo}),

and one draw of :math:`z` per posterior draw gives a draw of the *sample* accuracy of
a marker :math:`v` at cutoff :math:`c` (rule ``v > c``; ``v < c`` for a marker that is
lower in ALS):

.. math::

    \mathrm{Se}_d = \frac{\#\{i: z_i = \mathrm{ALS},\ v_i > c\}}{\#\{i: z_i = \mathrm{ALS}\}},
    \qquad
    \mathrm{Sp}_d = \frac{\#\{i: z_i \ne \mathrm{ALS},\ v_i \le c\}}{\#\{i: z_i \ne
        \mathrm{ALS}\}},

over the subjects who have the marker.  The mean and central quantiles over draws
are the estimate and the credible interval; parameter uncertainty and which
subjects are truly ALS are both in it.  The ``recorded`` rows count against the
labels as a gold-standard analysis does, with Jeffreys intervals (Beta(x + ½, n − x
+ ½) quantiles; Brown, Cai & DasGupta 2001).

The clinical label's own accuracy is a model parameter: the sensitivity of "recorded
as ALS" is :math:`\rho_{\mathrm{ALS},\mathrm{ALS}}`, its specificity
:math:`1 - \sum_{k \ne \mathrm{ALS}} \pi_k \rho_{k,\mathrm{ALS}} / \sum_{k \ne
\mathrm{ALS}} \pi_k` (:func:`label_accuracy`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from alsstats.errors import AlsStatsError
from alsstats.models.diagnostic.criticism import class_log_likelihoods
from alsstats.models.diagnostic.data import baseline_table, class_labels, recorded_groups
from alsstats.models.diagnostic.latent import indicator_codes

__all__ = ["MarkerAccuracy", "label_accuracy", "latent_class_draws", "marker_accuracy"]


@dataclass(frozen=True)
class MarkerAccuracy:
    """Sensitivity and specificity of ``marker`` at ``cutoff``: one ``table`` row per reference."""

    marker: str
    cutoff: float
    direction: str
    interval: float
    table: pd.DataFrame

    def to_dict(self) -> dict:
        return {"marker": self.marker, "cutoff": self.cutoff, "direction": self.direction,
                "interval": self.interval, "rows": self.table.to_dict(orient="records")}


def marker_accuracy(model, df: pd.DataFrame, marker: str, cutoff: float, *,
                    direction: str = ">", interval: float = 0.9,
                    seed=None) -> MarkerAccuracy:
    """Sensitivity and specificity of one marker at a cutoff, against the truth.

    Parameters
    ----------
    model
        A fitted :class:`~alsstats.models.diagnostic.model.DiagnosticModel`.  With a
        latent-class spec the table has a ``latent`` row (against the latent truth,
        module docstring) besides the ``recorded`` row (against the labels).
    df
        The cohort the accuracy is wanted for, usually the training cohort (each
        subject's baseline row is used), with its recorded ``group`` and
        ``el_escorial``.
    marker
        A marker column of the cohort (raw scale), e.g. ``"nfl_pg_ml"``; it need not
        be in the spec, but the latent class is inferred from the spec's markers
        (including it when it is one of them).
    cutoff, direction
        The rule: positive when ``marker > cutoff`` (``">"``) or ``marker < cutoff``
        (``"<"``).
    interval
        Central interval probability.
    seed
        Seed of the draws of the latent classes.

    Returns
    -------
    MarkerAccuracy
        ``table`` columns: ``reference`` (``latent``/``recorded``), ``sensitivity``,
        ``sensitivity_low``, ``sensitivity_high``, ``specificity`` (and its interval),
        ``n`` (subjects with the marker).
    """
    model._check_fitted()
    if direction not in (">", "<"):
        raise AlsStatsError(f"direction must be '>' or '<'; got {direction!r}")
    if not 0 < interval < 1:
        raise AlsStatsError(f"interval must be in (0, 1); got {interval!r}")
    base = baseline_table(df)
    if marker not in base.columns:
        raise AlsStatsError(f"marker {marker!r} is not a column of the cohort")
    spec = model.spec_
    groups = recorded_groups(base)
    labels = class_labels(base, spec, groups)
    value = base[marker].to_numpy(float)
    has = np.isfinite(value) & (labels >= 0)
    positive = value > cutoff if direction == ">" else value < cutoff
    als = spec.classes.index("ALS")
    q = (0.5 - interval / 2, 0.5 + interval / 2)
    rows = [_recorded_row(labels[has] == als, positive[has], q)]
    if spec.reference == "latent":
        z, used = latent_class_draws(model, df, seed)
        z = z[:, has[used]]                                                # (D, n_has)
        is_als = z == als
        se = (is_als & positive[has]).sum(axis=1) / np.maximum(is_als.sum(axis=1), 1)
        sp = (~is_als & ~positive[has]).sum(axis=1) / np.maximum((~is_als).sum(axis=1), 1)
        rows.insert(0, {"reference": "latent", **_summary("sensitivity", se, q),
                        **_summary("specificity", sp, q)})
    table = pd.DataFrame(rows).assign(n=int(has.sum()))
    return MarkerAccuracy(marker, float(cutoff), direction, float(interval), table)


def label_accuracy(model, interval: float = 0.9) -> pd.DataFrame:
    """Sensitivity and specificity of "recorded as ALS" against the latent truth.

    Also P(recorded class | true class) for every pair (``record_prob``): one row per
    quantity with its posterior mean and central interval.
    """
    model._check_fitted()
    spec = model.spec_
    if spec.reference != "latent":
        raise AlsStatsError("label accuracy needs a latent-class fit (reference = 'latent' "
                            "in the spec); with labels as the reference it is 1 by definition")
    post = model.idata_.posterior
    record = post["record_prob"].values.reshape(-1, len(spec.classes), len(spec.classes))
    share = post["class_share"].values.reshape(-1, len(spec.classes))
    als = spec.classes.index("ALS")
    other = np.arange(len(spec.classes)) != als
    q = (0.5 - interval / 2, 0.5 + interval / 2)
    quantities = {"sensitivity of the ALS label": record[:, als, als],
                  "specificity of the ALS label": 1.0 - (share[:, other] * record[:, other, als]
                                                         ).sum(axis=1) / share[:, other].sum(1)}
    for k, true in enumerate(spec.classes):
        for c, rec in enumerate(spec.classes):
            quantities[f"P(recorded {rec} | {true})"] = record[:, k, c]
    return pd.DataFrame([{"quantity": name, **_summary("value", v, q)}
                         for name, v in quantities.items()])


def latent_class_draws(model, df: pd.DataFrame, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """One draw of each subject's true class per posterior draw (module docstring).

    Returns ``z`` (D, n) for the baseline subjects of ``df`` recorded in a class of the
    model, and the boolean mask of those subjects among the baseline rows.
    """
    spec = model.spec_
    post = model.idata_.posterior
    k = len(spec.classes)
    loglik, _ = class_log_likelihoods(model, df)                           # (D, K, n)
    base = baseline_table(df)
    groups = recorded_groups(base)
    labels = class_labels(base, spec, groups)
    used = labels >= 0
    levels = tuple(str(v) for v in post["indicator"].values)
    codes = indicator_codes(groups, base["el_escorial"].to_numpy(dtype=object), labels,
                            levels)[used]
    log_share = np.log(post["class_share"].values.reshape(-1, k))
    log_level = np.log(post["indicator_prob"].values.reshape(-1, k, len(levels)))
    logw = loglik + log_share[:, :, None] + log_level[:, :, codes]        # (D, K, n)
    prob = np.exp(logw - special.logsumexp(logw, axis=1, keepdims=True))
    u = np.random.default_rng(seed).random((prob.shape[0], prob.shape[2]))
    z = np.minimum((np.cumsum(prob, axis=1) < u[:, None, :]).sum(axis=1), k - 1)
    return z, used


def _recorded_row(is_als: np.ndarray, positive: np.ndarray, q) -> dict:
    def jeffreys(x, n):
        lo, hi = stats.beta.ppf(q, x + 0.5, n - x + 0.5) if n else (np.nan, np.nan)
        return (x / n if n else np.nan), lo, hi

    se = jeffreys(int((is_als & positive).sum()), int(is_als.sum()))
    sp = jeffreys(int((~is_als & ~positive).sum()), int((~is_als).sum()))
    return {"reference": "recorded",
            "sensitivity": se[0], "sensitivity_low": se[1], "sensitivity_high": se[2],
            "specificity": sp[0], "specificity_low": sp[1], "specificity_high": sp[2]}


def _summary(name: str, values: np.ndarray, q) -> dict:
    lo, hi = np.quantile(values, q)
    return {name: float(values.mean()), f"{name}_low": float(lo), f"{name}_high": float(hi)}
