r"""Added value of a new marker: NRI, IDI, Δ net benefit, Δ Brier, Δ log score, ΔAUC.

Two sets of predicted probabilities of the same subjects are compared: ``p_old`` from the
base model and ``p_new`` from the model with the added markers.  With events (y = 1,
``n_e`` of them) and non-events (y = 0, ``n_ne``):

* **Net reclassification improvement** (Pencina et al. 2008, Stat Med 27:157):

  .. math::

      \mathrm{NRI} = \underbrace{\frac{\#\mathrm{up}_e - \#\mathrm{down}_e}{n_e}}_{\text{events}}
                   + \underbrace{\frac{\#\mathrm{down}_{ne} - \#\mathrm{up}_{ne}}{n_{ne}}}
                     _{\text{non-events}},

  where *up* means a higher risk category under the new model.  **Categorical**: the
  categories are cut at the user's risk thresholds ``c_1 < … < c_m`` (``p ≥ c_j`` is in
  the category above ``c_j``); **continuous** (category-free, Pencina et al. 2011): up is
  ``p_new > p_old``.  Pencina's z uses the null variance
  ``(#up_e + #down_e)/n_e² + (#up_ne + #down_ne)/n_ne²``.
* **Integrated discrimination improvement**:
  ``IDI = [mean_e(p_new) − mean_e(p_old)] − [mean_ne(p_new) − mean_ne(p_old)]``
  (the change in discrimination slope).
* **Net benefit** (Vickers & Elkin 2006) at threshold probability ``t``, "treat" meaning
  ``p ≥ t``: ``NB(t) = TP/n − FP/n · t/(1 − t)``; ``ΔNB(t) = NB_new(t) − NB_old(t)``.
* **Brier score** ``mean((p − y)²)``, ``ΔBrier = Brier_new − Brier_old`` (negative: better).
* **Log score** ``mean(y log p + (1 − y) log(1 − p))`` (p clipped to [1e-12, 1 − 1e-12]),
  ``Δ = new − old`` (positive: better).
* **ΔAUC** = AUC_new − AUC_old with the paired DeLong interval
  (:func:`~alsstats.validation.delong_test`).  For *nested* models fitted and evaluated on
  the same data the DeLong test is conservative (Demler et al. 2012, Stat Med 31:2577);
  on out-of-fold predictions the two sets are not nested fits.

Every quantity except ΔAUC is a (within-class or overall) mean of per-subject terms, so the
percentile bootstrap (resampling subjects with replacement, ``n_boot`` replicates) is
computed at once from a replicate × subject matrix of multinomial weights.  The bootstrap
treats the predictions as fixed: it does not refit the models (for predictions from
cross-validation see :func:`alsstats.validation.increment.increment`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alsstats import _gauss
from alsstats.errors import DataValidationError, Problem
from alsstats.random import SeedLike, as_generator
from alsstats.validation._inputs import check_binary
from alsstats.validation._results import Result
from alsstats.validation.delong import delong_test
from alsstats.validation.intervals import z_value

__all__ = ["IncrementalValue", "Reclassification", "incremental_value",
           "integrated_discrimination", "metric_names", "net_reclassification",
           "point_estimates"]

_EPS = 1e-12
#: Default risk categories of the categorical NRI: below 0.25, 0.25 to 0.75, at least 0.75.
DEFAULT_CATEGORIES = (0.25, 0.75)
#: Default threshold probabilities of the Δ net benefit table.
DEFAULT_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def _check_pair(labels, p_old, p_new) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p_old, y, _ = check_binary(p_old, labels, name="p_old")
    p_new, _, _ = check_binary(p_new, labels, name="p_new")
    for name, p in (("p_old", p_old), ("p_new", p_new)):
        bad = (p < 0) | (p > 1)
        if bad.any():
            raise DataValidationError([Problem("predicted probabilities must lie in [0, 1]",
                                               column=name, row=int(np.flatnonzero(bad)[0]),
                                               value=float(p[bad][0]))])
    return y, p_old, p_new


def _check_cuts(values, what: str) -> np.ndarray:
    c = np.asarray(values, dtype=float).ravel()
    if c.size == 0 or ((c <= 0) | (c >= 1)).any() or (np.diff(c) <= 0).any():
        raise DataValidationError([Problem(
            f"{what} must be increasing probabilities strictly between 0 and 1",
            column=what, value=[float(v) for v in c])])
    return c


def _moves(p_old: np.ndarray, p_new: np.ndarray, cuts: np.ndarray | None) -> np.ndarray:
    """+1 up, −1 down, 0 unchanged (categories from ``cuts``, or any change when None)."""
    if cuts is None:
        return np.sign(p_new - p_old).astype(int)
    return np.sign(np.searchsorted(cuts, p_new, side="right")
                   - np.searchsorted(cuts, p_old, side="right")).astype(int)


@dataclass
class Reclassification(Result):
    """Net reclassification improvement with its counts and Pencina's z.

    ``kind`` is ``'categorical'`` (with ``categories``, the cut points) or ``'continuous'``.
    ``se`` is the null standard error ``√((up_e + down_e)/n_e² + (up_ne + down_ne)/n_ne²)``
    of Pencina et al. (2008), ``z = nri/se`` and ``p_value`` two-sided.
    """

    kind: str
    categories: list[float] | None
    n_events: int
    n_nonevents: int
    events_up: int
    events_down: int
    nonevents_up: int
    nonevents_down: int
    nri_events: float
    nri_nonevents: float
    nri: float
    se: float
    z: float
    p_value: float


def net_reclassification(labels, p_old, p_new, *, categories=None) -> Reclassification:
    """Categorical (``categories`` given) or continuous NRI of ``p_new`` over ``p_old``.

    Parameters
    ----------
    labels : array of bool or 0/1
        1 = event (the positive class).
    p_old, p_new : arrays of probabilities in [0, 1]
        Base and new model's predictions for the same subjects.
    categories : sequence of float, optional
        Increasing cut points of the risk categories (e.g. ``(0.06, 0.2)`` for <6%,
        6–20%, ≥20%); ``p ≥ c`` lies above ``c``.  ``None``: the continuous NRI.
    """
    y, p_old, p_new = _check_pair(labels, p_old, p_new)
    cuts = None if categories is None else _check_cuts(categories, "categories")
    mv = _moves(p_old, p_new, cuts)
    ne, nn = int(y.sum()), int((~y).sum())
    up_e, down_e = int((mv[y] > 0).sum()), int((mv[y] < 0).sum())
    up_n, down_n = int((mv[~y] > 0).sum()), int((mv[~y] < 0).sum())
    nri_e, nri_n = (up_e - down_e) / ne, (down_n - up_n) / nn
    se = float(np.sqrt((up_e + down_e) / ne**2 + (up_n + down_n) / nn**2))
    nri = nri_e + nri_n
    z = nri / se if se > 0 else 0.0
    return Reclassification(
        kind="continuous" if cuts is None else "categorical",
        categories=None if cuts is None else cuts.tolist(), n_events=ne, n_nonevents=nn,
        events_up=up_e, events_down=down_e, nonevents_up=up_n, nonevents_down=down_n,
        nri_events=nri_e, nri_nonevents=nri_n, nri=nri, se=se, z=float(z),
        p_value=float(2.0 * _gauss.sf(abs(z))))


def integrated_discrimination(labels, p_old, p_new) -> float:
    """IDI = [mean_e(p_new) − mean_e(p_old)] − [mean_ne(p_new) − mean_ne(p_old)]."""
    y, p_old, p_new = _check_pair(labels, p_old, p_new)
    d = p_new - p_old
    return float(d[y].mean() - d[~y].mean())


def _log_score(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    q = np.clip(p, _EPS, 1 - _EPS)
    return np.where(y, np.log(q), np.log1p(-q))


def _term_names(thresholds) -> list[str]:
    return ["nri_continuous_events", "nri_continuous_nonevents", "nri_categorical_events",
            "nri_categorical_nonevents", "idi_events", "idi_nonevents", "delta_brier",
            "delta_log_score", *[f"delta_net_benefit@{t:g}" for t in thresholds]]


def _terms(y, p_old, p_new, cuts, thresholds) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Per-subject terms (n, q) and the scope of each: 1 events, −1 non-events, 0 all."""
    yf = y.astype(float)
    cont, cat = _moves(p_old, p_new, None), _moves(p_old, p_new, cuts)
    d = p_new - p_old
    odds = thresholds / (1 - thresholds)
    treat_new = p_new[:, None] >= thresholds[None, :]
    treat_old = p_old[:, None] >= thresholds[None, :]
    gain = yf[:, None] - (1 - yf)[:, None] * odds[None, :]
    names = _term_names(thresholds)
    cols = [cont, -cont, cat, -cat, d, -d, (p_new - yf) ** 2 - (p_old - yf) ** 2,
            _log_score(y, p_new) - _log_score(y, p_old)]
    terms = np.column_stack([*cols, (treat_new.astype(float) - treat_old) * gain])
    scope = np.array([1, -1, 1, -1, 1, -1, 0, 0] + [0] * thresholds.size)
    return names, terms, scope


def _weighted_means(w: np.ndarray, y: np.ndarray, terms: np.ndarray,
                    scope: np.ndarray) -> np.ndarray:
    """(B, q) means of ``terms`` with weights ``w`` (B, n), within each term's scope."""
    out = np.empty((w.shape[0], terms.shape[1]))
    for s, rows in ((1, y), (-1, ~y), (0, np.ones_like(y))):
        cols = scope == s
        ws = w[:, rows]
        out[:, cols] = (ws @ terms[rows][:, cols]) / ws.sum(axis=1, keepdims=True)
    return out


_SUMS = {"nri_continuous": ("nri_continuous_events", "nri_continuous_nonevents"),
         "nri_categorical": ("nri_categorical_events", "nri_categorical_nonevents"),
         "idi": ("idi_events", "idi_nonevents")}


def metric_names(thresholds) -> list[str]:
    """The metrics of :func:`point_estimates`, in its order."""
    return ["delta_auc", *_SUMS, *_term_names(thresholds)]


def _combine(names: list[str], values: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Add the overall NRIs and the IDI (sums of the event and non-event parts)."""
    idx = {n: i for i, n in enumerate(names)}
    extra = _SUMS
    sums = [values[..., idx[a]] + values[..., idx[b]] for a, b in extra.values()]
    return [*extra, *names], np.concatenate([np.stack(sums, axis=-1), values], axis=-1)


def point_estimates(y: np.ndarray, p_old: np.ndarray, p_new: np.ndarray, cuts: np.ndarray,
                    thresholds: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Names and values of ``delta_auc`` and every bootstrap metric of
    :func:`incremental_value` (checked inputs; no intervals): for resampling loops."""
    from alsstats.validation.roc import _auc_oriented

    names, terms, scope = _terms(y, p_old, p_new, cuts, thresholds)
    est = _weighted_means(np.ones((1, y.size)), y, terms, scope)[0]
    names, est = _combine(names, est)
    d_auc = _auc_oriented(p_new, y) - _auc_oriented(p_old, y)
    return ["delta_auc", *names], np.r_[d_auc, est]


@dataclass
class IncrementalValue(Result):
    """Added value of ``p_new`` over ``p_old`` on one set of subjects.

    ``table``: one row per metric (``auc_old``, ``auc_new``, ``delta_auc``, the NRIs and
    their event/non-event parts, ``idi``, ``delta_brier``, ``delta_log_score``,
    ``delta_net_benefit@t``) with ``estimate``, ``lower``, ``upper`` and ``interval``
    ('delong' or 'bootstrap'); ``net_benefit``: per threshold the two models' net benefit
    and the difference with its interval; ``reclassification``: the counts and Pencina z of
    the continuous and categorical NRI.
    """

    n: int
    n_events: int
    n_nonevents: int
    conf_level: float
    n_boot: int
    categories: list[float]
    table: pd.DataFrame
    net_benefit: pd.DataFrame
    reclassification: dict

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def row(self, metric: str) -> pd.Series:
        """The table row of ``metric`` (e.g. ``'delta_auc'``, ``'nri_continuous'``)."""
        return self.table.set_index("metric").loc[metric]


def incremental_value(labels, p_old, p_new, *, categories=DEFAULT_CATEGORIES,
                      thresholds=DEFAULT_THRESHOLDS, n_boot: int = 1000,
                      conf_level: float = 0.95, seed: SeedLike = None) -> IncrementalValue:
    """ΔAUC (DeLong), NRI, IDI, Δ net benefit, Δ Brier and Δ log score with intervals.

    Parameters
    ----------
    labels : array of bool or 0/1
    p_old, p_new : arrays of probabilities
        Base and new model's predicted probability of the positive class, same subjects.
    categories : sequence of float
        Cut points of the risk categories for the categorical NRI.
    thresholds : sequence of float
        Threshold probabilities of the net benefit.
    n_boot : int
        Percentile-bootstrap replicates (subjects resampled with replacement); at least
        100.
    conf_level : float
    seed : int, optional
        Seeds the bootstrap; same seed, same intervals.
    """
    y, p_old, p_new = _check_pair(labels, p_old, p_new)
    cuts = _check_cuts(categories, "categories")
    thr = _check_cuts(thresholds, "thresholds")
    z_value(conf_level)
    if int(n_boot) < 100:
        raise DataValidationError([Problem("n_boot must be at least 100", value=n_boot)])
    if min(int(y.sum()), int((~y).sum())) < 2:
        raise DataValidationError([Problem(
            f"each class needs at least 2 subjects; found {int(y.sum())} positive and "
            f"{int((~y).sum())} negative")])
    names, terms, scope = _terms(y, p_old, p_new, cuts, thr)
    n = y.size
    est = _weighted_means(np.ones((1, n)), y, terms, scope)[0]
    rng = as_generator(seed)
    w = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(int(n_boot))])
    # a replicate without events or non-events has no within-class mean: drawn again
    empty = (w[:, y].sum(axis=1) == 0) | (w[:, ~y].sum(axis=1) == 0)
    while empty.any():
        w[empty] = [np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(empty.sum())]
        empty = (w[:, y].sum(axis=1) == 0) | (w[:, ~y].sum(axis=1) == 0)
    reps = _weighted_means(w.astype(float), y, terms, scope)
    _, reps = _combine(names, reps)
    names, est = _combine(names, est)
    alpha = 1.0 - conf_level
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2], axis=0)
    dl = delong_test(y, p_new, p_old, direction=(">", ">"), conf_level=conf_level)
    rows = [{"metric": "auc_old", "estimate": dl.auc2, "lower": np.nan, "upper": np.nan,
             "interval": "none"},
            {"metric": "auc_new", "estimate": dl.auc1, "lower": np.nan, "upper": np.nan,
             "interval": "none"},
            {"metric": "delta_auc", "estimate": dl.difference, "lower": dl.lower,
             "upper": dl.upper, "interval": "delong"}]
    rows += [{"metric": m, "estimate": float(e), "lower": float(a), "upper": float(b),
              "interval": "bootstrap"} for m, e, a, b in zip(names, est, lo, hi, strict=True)]
    table = pd.DataFrame(rows)
    yf = y.astype(float)
    odds = thr / (1 - thr)

    def nb(p):
        treat = p[:, None] >= thr[None, :]
        return ((treat & y[:, None]).sum(0) - (treat & ~y[:, None]).sum(0) * odds) / n

    nb_rows = table[table["metric"].str.startswith("delta_net_benefit@")]
    net = pd.DataFrame({"threshold": thr, "net_benefit_old": nb(p_old),
                        "net_benefit_new": nb(p_new),
                        "treat_all": yf.mean() - (1 - yf.mean()) * odds,
                        "delta": nb_rows["estimate"].to_numpy(),
                        "lower": nb_rows["lower"].to_numpy(),
                        "upper": nb_rows["upper"].to_numpy()})
    recl = {"continuous": net_reclassification(y, p_old, p_new).to_dict(),
            "categorical": net_reclassification(y, p_old, p_new, categories=cuts).to_dict()}
    return IncrementalValue(n=int(n), n_events=int(y.sum()), n_nonevents=int((~y).sum()),
                            conf_level=conf_level, n_boot=int(n_boot), categories=cuts.tolist(),
                            table=table, net_benefit=net, reclassification=recl)
