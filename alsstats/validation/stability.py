"""How stable is a cutoff?  Bootstrap distribution, a pre-specified cutoff, folds and sites.

:func:`cutoff_stability` follows cutpointr's bootstrap: in each replicate
the optimal cutoff is chosen on the in-bag sample (drawn with replacement,
stratified by class; whole subjects when ``groups`` is given) and applied
to the out-of-bag observations, whose sensitivity and specificity are an
honest estimate of the cutoff-selection procedure's performance.  The
direction is fixed on the full data first.

:func:`validate_cutoff` assesses a *pre-specified* cutoff c₀ (e.g. an
M1/precuneus ratio < 1.00): its accuracy with intervals; the bootstrap
probability that the data-optimal cutoff lies within ±δ of c₀,
``P̂ = #{|ĉ_b − c₀| ≤ δ}/B`` with Monte Carlo SE ``√(P̂(1 − P̂)/B)``; and
its stability across cross-validation folds (the cutoff chosen in each
training fold, and the test-fold accuracy of both c₀ and that cutoff) and
across sites.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from alsstats._progress import Progress
from alsstats.errors import DataValidationError, Problem
from alsstats.random import SeedLike, as_generator
from alsstats.validation._inputs import check_binary, oriented
from alsstats.validation._results import Result
from alsstats.validation.cutoffs import (
    CutoffPerformance,
    OptimalCutoff,
    _check_method,
    _choose,
    classify,
    cutoff_performance,
    optimal_cutoff,
)
from alsstats.validation.folds import grouped_stratified_folds, subject_labels
from alsstats.validation.intervals import wilson_interval, z_value
from alsstats.validation.roc import resolve_direction

__all__ = ["CutoffStability", "CutoffValidation", "cutoff_stability", "validate_cutoff"]


@dataclass
class CutoffStability(Result):
    """Bootstrap distribution of the optimal cutoff and its out-of-bag accuracy.

    ``replicates`` has one row per replicate: ``cutoff``, in-bag
    ``sensitivity``/``specificity`` and out-of-bag ``oob_sensitivity``/
    ``oob_specificity`` (NaN when a replicate fails, e.g. a fixed
    specificity is unreachable; counted in ``n_failed``).  ``summary`` gives
    mean, SD and percentile interval of each column.
    """

    full_data: OptimalCutoff
    method: str
    direction: str
    n_boot: int
    n_failed: int
    conf_level: float
    replicates: pd.DataFrame
    summary: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.summary.copy()

    def prob_within(self, cutoff: float, delta: float) -> tuple[float, float]:
        """``(P̂, MC SE)`` that the bootstrap optimal cutoff lies within ``cutoff ± delta``."""
        c = self.replicates["cutoff"].dropna().to_numpy()
        p = float(np.mean(np.abs(c - cutoff) <= delta + 1e-12))
        return p, float(np.sqrt(p * (1 - p) / c.size))


def _resample(rng: np.random.Generator, strata: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([rng.choice(s, size=s.size, replace=True) for s in strata])


def _summarise(reps: pd.DataFrame, conf_level: float) -> pd.DataFrame:
    a = 1 - conf_level
    rows = []
    for col in reps.columns:
        v = reps[col].dropna().to_numpy()
        rows.append({"quantity": col, "mean": v.mean() if v.size else np.nan,
                     "sd": v.std(ddof=1) if v.size > 1 else np.nan,
                     "median": np.median(v) if v.size else np.nan,
                     "lower": np.quantile(v, a / 2) if v.size else np.nan,
                     "upper": np.quantile(v, 1 - a / 2) if v.size else np.nan,
                     "n": v.size})
    return pd.DataFrame(rows)


def cutoff_stability(labels, scores, *, method: str = "youden", direction: str = "auto",
                     n_boot: int = 1000, seed: SeedLike = None, groups=None,
                     conf_level: float = 0.95, name: str = "score", progress: bool = False,
                     **criteria) -> CutoffStability:
    """Bootstrap the optimal cutoff: its distribution and out-of-bag sensitivity/specificity.

    Parameters
    ----------
    labels, scores : arrays
    method : str
        'youden', 'fixed-spec', 'fixed-sens' or 'cost'; ``criteria`` passes
        ``specificity``, ``sensitivity``, ``cost_fp``, ``cost_fn``,
        ``prevalence`` as in :func:`~alsstats.validation.optimal_cutoff`.
    n_boot : int
    seed : int or Generator
    groups : array, optional
        Subject ids: resample whole subjects (all their visits), stratified
        by the subject's class; out-of-bag = subjects not drawn.
    progress : bool
        Show a one-line progress display on stderr (off by default).
    """
    z_value(conf_level)
    _check_method(method, criteria.get("specificity"), criteria.get("sensitivity"),
                  criteria.get("cost_fp", 1.0), criteria.get("cost_fn", 1.0),
                  criteria.get("prevalence"))
    if int(n_boot) < 10:
        raise DataValidationError([Problem("n_boot must be at least 10", value=n_boot)])
    s, y, _ = check_binary(scores, labels, name=name, min_per_class=2)
    full = optimal_cutoff(y, s, method=method, direction=direction, conf_level=conf_level,
                          name=name, **criteria)
    d = full.direction
    o = oriented(s, d)
    if groups is None:
        codes, subj_y = np.arange(s.size), y
    else:
        codes, _, subj_y = subject_labels(y, groups)
    rows_of = pd.Series(np.arange(s.size)).groupby(codes).apply(np.asarray).to_dict()
    strata = [np.flatnonzero(subj_y), np.flatnonzero(~subj_y)]
    rng = as_generator(seed)
    out = np.full((int(n_boot), 5), np.nan)
    bar = Progress(int(n_boot), "bootstrap", enabled=progress)
    step = max(1, int(n_boot) // 50)
    for b in range(int(n_boot)):
        if b and b % step == 0:
            bar.update(step)
        drawn = _resample(rng, strata)
        inbag = np.concatenate([rows_of[k] for k in drawn]) if groups is not None else drawn
        oob_mask = np.ones(s.size, dtype=bool)
        oob_mask[inbag] = False
        try:
            ch = _choose(o[inbag], y[inbag], method, **criteria)
        except DataValidationError:
            continue
        calls = o[oob_mask] > ch.threshold
        yo = y[oob_mask]
        oob_se = calls[yo].mean() if yo.any() else np.nan
        oob_sp = (~calls[~yo]).mean() if (~yo).any() else np.nan
        cut = ch.threshold if d == ">" else -ch.threshold
        out[b] = (cut, ch.sensitivity, ch.specificity, oob_se, oob_sp)
    bar.update(int(n_boot) - bar.done)
    reps = pd.DataFrame(out, columns=["cutoff", "sensitivity", "specificity",
                                      "oob_sensitivity", "oob_specificity"])
    return CutoffStability(full_data=full, method=method, direction=d, n_boot=int(n_boot),
                           n_failed=int(np.isnan(out[:, 0]).sum()), conf_level=conf_level,
                           replicates=reps, summary=_summarise(reps, conf_level))


@dataclass
class CutoffValidation(Result):
    """Validation of a pre-specified cutoff.

    ``performance``: its accuracy on all data with intervals; ``optimal``:
    the data-optimal cutoff; ``stability``: the bootstrap distribution of the
    optimal cutoff; ``prob_within_delta`` (± its MC SE): P(|ĉ − c₀| ≤ δ);
    ``by_fold``: per CV split, the training-fold optimal cutoff and the
    test-fold sensitivity/specificity of c₀ and of that cutoff;
    ``by_site``: per site, the accuracy of c₀ (Wilson intervals) and the
    site's own optimal cutoff (NaN where a site has < 2 of a class).
    """

    cutoff: float
    direction: str
    rule: str
    delta: float
    performance: CutoffPerformance
    optimal: OptimalCutoff
    stability: CutoffStability
    prob_within_delta: float
    prob_within_delta_se: float
    by_fold: pd.DataFrame | None = None
    by_site: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        return self.performance.to_frame()


def _by_fold(s, y, groups, cutoff, d, method, n_folds, n_repeats, seed, criteria):
    rows = []
    for sp in grouped_stratified_folds(y, groups, n_folds=n_folds, n_repeats=n_repeats,
                                       seed=seed):
        tr, te = sp.train, sp.test
        try:
            ch = _choose(oriented(s[tr], d), y[tr], method, **criteria)
            trained = ch.threshold if d == ">" else -ch.threshold
        except DataValidationError:
            trained = np.nan
        yt = y[te]
        fixed = classify(s[te], cutoff, d)
        rows.append({"repeat": sp.repeat, "fold": sp.fold, "n_test": te.size,
                     "trained_cutoff": trained,
                     "fixed_sensitivity": fixed[yt].mean(),
                     "fixed_specificity": (~fixed[~yt]).mean(),
                     "trained_sensitivity": (classify(s[te], trained, d)[yt].mean()
                                             if np.isfinite(trained) else np.nan),
                     "trained_specificity": ((~classify(s[te], trained, d)[~yt]).mean()
                                             if np.isfinite(trained) else np.nan)})
    return pd.DataFrame(rows)


def _by_site(s, y, sites, cutoff, d, method, conf_level, criteria):
    rows = []
    site_values = pd.Series(np.asarray(sites), dtype=object)
    for site in sorted(site_values.dropna().unique(), key=str):
        m = (site_values == site).to_numpy()
        ys, calls = y[m], classify(s[m], cutoff, d)
        tp, n1 = int(calls[ys].sum()), int(ys.sum())
        tn, n0 = int((~calls[~ys]).sum()), int((~ys).sum())
        se_lo, se_hi = wilson_interval(tp, n1, conf_level)
        sp_lo, sp_hi = wilson_interval(tn, n0, conf_level)
        opt = np.nan
        if min(n1, n0) >= 2:
            try:
                ch = _choose(oriented(s[m], d), ys, method, **criteria)
                opt = ch.threshold if d == ">" else -ch.threshold
            except DataValidationError:
                opt = np.nan
        rows.append({"site": site, "n_positive": n1, "n_negative": n0,
                     "sensitivity": tp / n1 if n1 else np.nan, "sensitivity_lower": se_lo,
                     "sensitivity_upper": se_hi, "specificity": tn / n0 if n0 else np.nan,
                     "specificity_lower": sp_lo, "specificity_upper": sp_hi,
                     "optimal_cutoff": opt})
    return pd.DataFrame(rows)


def validate_cutoff(labels, scores, cutoff: float, *, direction: str, delta: float = 0.05,
                    method: str = "youden", n_boot: int = 1000, seed: SeedLike = None,
                    groups=None, sites=None, n_folds: int | None = 5, n_repeats: int = 1,
                    prevalence: float | None = None, conf_level: float = 0.95,
                    name: str = "score", progress: bool = False,
                    **criteria) -> CutoffValidation:
    """Validate a pre-specified cutoff c₀: accuracy, closeness of the optimum, folds, sites.

    Parameters
    ----------
    labels, scores : arrays
    cutoff : float
        c₀; the rule is ``score >= c₀`` (``'>'``) or ``score < c₀`` (``'<'``).
    direction : {'<', '>'}
        Stated with the cutoff (``'auto'`` is allowed and reported).
    delta : float
        Half-width of the window for P(|ĉ − c₀| ≤ δ).
    method, criteria :
        How the data-optimal cutoff is chosen (see :func:`optimal_cutoff`).
    n_boot, seed :
        Bootstrap size and seed (folds use child seeds of the same seed).
    groups : array, optional
        Subject ids (bootstrap and folds keep a subject's visits together).
    sites : array, optional
        Site per row, for the per-site table.
    prevalence : float, optional
        Target prevalence for PPV/NPV (and for the 'cost' criterion).
    n_folds, n_repeats :
        Cross-validation of the training-fold cutoff; ``n_folds=None`` skips it.
        Skipped with a note when a class has fewer than 2 subjects per fold.
    """
    if not delta > 0:
        raise DataValidationError([Problem("delta must be positive", value=delta)])
    if method == "cost" and prevalence is not None:
        criteria = {**criteria, "prevalence": prevalence}
    s, y, _ = check_binary(scores, labels, name=name, min_per_class=2)
    d, _ = resolve_direction(s, y, direction)
    perf = cutoff_performance(y, s, cutoff, direction=d, conf_level=conf_level,
                              prevalence=prevalence, name=name)
    root = np.random.SeedSequence(seed) if not isinstance(seed, np.random.Generator) \
        else np.random.SeedSequence(seed.integers(2**63))
    boot_seed, fold_seed = root.spawn(2)
    stab = cutoff_stability(y, s, method=method, direction=d, n_boot=n_boot,
                            seed=np.random.default_rng(boot_seed), groups=groups,
                            conf_level=conf_level, name=name, progress=progress, **criteria)
    p, p_se = stab.prob_within(cutoff, delta)
    notes = []
    by_fold = None
    if n_folds is not None:
        try:
            by_fold = _by_fold(s, y, groups, cutoff, d, method, int(n_folds), int(n_repeats),
                               fold_seed, criteria)
        except DataValidationError as exc:
            notes.append(f"fold stability skipped: {exc.problems[0].rule}")
    by_site = None if sites is None else _by_site(s, y, sites, cutoff, d, method, conf_level,
                                                  criteria)
    return CutoffValidation(cutoff=float(cutoff), direction=d, rule=perf.rule, delta=delta,
                            performance=perf, optimal=stab.full_data, stability=stab,
                            prob_within_delta=p, prob_within_delta_se=p_se, by_fold=by_fold,
                            by_site=by_site, notes=notes)
