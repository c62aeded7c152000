"""Cohorts drawn from the diagnostic model itself, for parameter recovery and benchmarks.

Unlike :mod:`alsstats.simulate` (a realistic generator whose ALS class is a
mixture of disease stages), this draws data *exactly* from the model's
generative process, so the true parameters are known on the model's own scale:

    y_i = m_k + b_age (age_i - age_ref) / 10 + b_sex sex_i + u_s + e_i,
    u_s ~ N(0, diag(tau^2)),   e_i ~ N(0, Sigma),

on the transformed marker scale (log for ``transform = "log"``), with
``sex`` coded F = -0.5, M = +0.5.  A fitted model centres age at the training
mean ``a`` and constrains its site offsets to sum to zero, so its class mean ``mu_k``
corresponds to ``m_k + b_age (a - age_ref)/10 + mean_s(u_s)`` (see
:func:`true_class_means`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alsstats.models.diagnostic.data import AGE_SCALE_YEARS
from alsstats.models.diagnostic.spec import DiagnosticSpec
from alsstats.random import SeedLike, as_generator
from alsstats.schema import COLUMNS, MODALITIES

__all__ = ["DiagnosticTruth", "default_truth", "simulate_diagnostic_cohort", "true_class_means"]

# Per marker: healthy mean and within-class SD on the transformed scale, and the
# shift of (MIMIC, ALS, PMA) from healthy in within-class SDs.
_MARKER_DEFAULTS = {
    "glu_naa": (np.log(0.85), 0.12, (0.3, 1.0, 0.8)),
    "glu_gaba": (np.log(4.5), 0.20, (0.2, 0.9, 0.7)),
    "m1_precuneus_ratio": (1.05, 0.06, (-0.2, -1.0, -0.8)),
    "nfl_pg_ml": (np.log(12.0), 0.45, (0.8, 2.0, 1.5)),
    "chi3l1_ng_ml": (np.log(60.0), 0.50, (0.3, 1.0, 0.7)),
    "smn_sma": (0.0, 1.0, (0.0, 0.8, 0.3)),   # SMN hyperactivity (calibration.md: HC-z)
}
_SHIFT_INDEX = {"MIMIC": 0, "ALS": 1, "PMA": 2}
_AGE_EFFECT_SD = {"nfl_pg_ml": 0.5}  # NfL rises ~2%/year: 0.5 within-class SD per decade


@dataclass(frozen=True)
class DiagnosticTruth:
    """True parameters on the transformed marker scale (see the module docstring).

    ``class_means`` (K, M) at ``age_ref`` and sex midpoint; ``beta`` (C, M) per
    decade / male-minus-female; ``sigma`` (M,); ``corr`` (M, M); ``site_sd``
    (M,); ``site_offsets`` (S, M); ``class_probs`` (K,).
    """

    spec: DiagnosticSpec
    class_means: np.ndarray
    beta: np.ndarray
    sigma: np.ndarray
    corr: np.ndarray
    site_sd: np.ndarray
    site_offsets: np.ndarray
    class_probs: np.ndarray
    age_ref: float = 60.0

    @property
    def sites(self) -> tuple[str, ...]:
        return tuple(f"S{s + 1:02d}" for s in range(len(self.site_offsets)))


def default_truth(spec: DiagnosticSpec, n_sites: int = 10, seed: SeedLike = None,
                  site_sd_fraction: float = 0.3) -> DiagnosticTruth:
    """Plausible true parameters for ``spec``: published-direction class shifts, correlation 0.2.

    Site SDs are ``site_sd_fraction`` of each marker's within-class SD; the site
    offsets themselves are drawn from ``seed``.
    """
    rng = as_generator(seed)
    names = spec.marker_names
    m = len(names)
    base = np.array([_MARKER_DEFAULTS[n][0] for n in names])
    sd = np.array([_MARKER_DEFAULTS[n][1] for n in names])
    means = np.empty((len(spec.classes), m))
    for k, c in enumerate(spec.classes):
        shift = np.zeros(m) if c == "HC" else np.array(
            [_MARKER_DEFAULTS[n][2][_SHIFT_INDEX[c]] for n in names])
        means[k] = base + shift * sd
    beta = np.zeros((len(spec.covariates), m))
    for j, marker in enumerate(spec.markers):
        for c in marker.covariates:
            effect = _AGE_EFFECT_SD.get(marker.name, 0.1) if c == "age" else 0.1
            beta[spec.covariates.index(c), j] = effect * sd[j]
    corr = np.full((m, m), 0.2) + 0.8 * np.eye(m)
    site_sd = site_sd_fraction * sd
    offsets = rng.normal(size=(n_sites, m)) * site_sd
    probs = np.full(len(spec.classes), 1.0 / len(spec.classes))
    return DiagnosticTruth(spec, means, beta, sd, corr, site_sd, offsets, probs)


def simulate_diagnostic_cohort(truth: DiagnosticTruth, n: int, seed: SeedLike = None,
                               missing: dict[str, float] | None = None,
                               site_offsets: np.ndarray | None = None,
                               heavy_tails: dict[str, float] | None = None) -> pd.DataFrame:
    """A baseline cohort table of ``n`` subjects drawn from the diagnostic model.

    Parameters
    ----------
    truth
        The true parameters.
    n
        Number of subjects (one baseline row each).
    seed
        Seed for the draws.
    missing
        Probability that a subject lacks a whole modality (``mrs``, ``smri``,
        ``blood``, ``fmri``); default none missing.
    site_offsets
        Offsets (S', M) of other sites (e.g. sites never seen in training);
        their labels are ``N01, N02, ...``.  Default: ``truth``'s sites.
    heavy_tails
        Degrees of freedom ``nu`` by class: that class's errors are multivariate
        Student-t, ``e_i / sqrt(W_i)`` with ``W_i ~ Gamma(nu/2, rate nu/2)`` (same scale
        matrix; heavier tails, e.g. for choosing ``marker_distribution``).  Default: all
        classes normal (and the same draws as before the option existed).
    """
    rng = as_generator(seed)
    spec = truth.spec
    offsets = truth.site_offsets if site_offsets is None else np.asarray(site_offsets)
    labels = truth.sites if site_offsets is None else tuple(
        f"N{s + 1:02d}" for s in range(len(offsets)))
    k = rng.choice(len(spec.classes), size=n, p=truth.class_probs)
    site = rng.integers(len(offsets), size=n)
    age = np.clip(rng.normal(truth.age_ref, 10.0, size=n), 25, 90)
    sex = rng.choice(np.array(["F", "M"]), size=n)
    x = []
    for c in spec.covariates:
        x.append((age - truth.age_ref) / AGE_SCALE_YEARS if c == "age"
                 else np.where(sex == "M", 0.5, -0.5))
    xmat = np.column_stack(x) if x else np.zeros((n, 0))
    cov = truth.corr * np.outer(truth.sigma, truth.sigma)
    e = rng.multivariate_normal(np.zeros(len(truth.sigma)), cov, size=n, method="cholesky")
    for name, nu in (heavy_tails or {}).items():
        in_class = k == spec.classes.index(name)
        e[in_class] /= np.sqrt(rng.gamma(nu / 2, 2 / nu, size=int(in_class.sum())))[:, None]
    y = truth.class_means[k] + xmat @ truth.beta + offsets[site] + e
    group = np.array(spec.classes)[k]
    frame: dict[str, object] = {
        "subject_id": [f"D{i:06d}" for i in range(n)], "site": np.array(labels)[site],
        "visit": 0, "years_from_baseline": 0.0, "group": group, "age": age, "sex": sex}
    bounds = {c.name: (c.low, c.high) for c in COLUMNS}
    for j, marker in enumerate(spec.markers):
        v = np.exp(y[:, j]) if marker.transform == "log" else y[:, j]
        low, high = bounds[marker.name]
        frame[marker.name] = np.clip(v, low + 1e-6 if low is not None else -np.inf,
                                     high if high is not None else np.inf)
    df = pd.DataFrame(frame)
    for modality, p in (missing or {}).items():
        cols = [c for c in MODALITIES[modality] if c in df.columns]
        drop = rng.random(n) < p
        df.loc[drop, cols] = np.nan
    return df


def true_class_means(truth: DiagnosticTruth, age_center: float) -> np.ndarray:
    """True class means (K, M) at age ``age_center`` and sex midpoint (what ``mu`` estimates).

    The model's site offsets sum to zero over its sites, so the mean of the true offsets
    (over ``truth``'s sites, all present in a fitted cohort) belongs to ``mu``: with
    offsets ``u_s``, ``m_k + u_s = (m_k + mean(u)) + (u_s - mean(u))``.

    Parameters
    ----------
    truth
        The true parameters the cohort was drawn from.
    age_center
        The fitted model's age centre (``standardization_.age_center``).

    Returns
    -------
    numpy.ndarray
        (K, M) class means on the transformed marker scale.
    """
    means = truth.class_means + truth.site_offsets.mean(axis=0)
    if "age" in truth.spec.covariates:
        means += truth.beta[truth.spec.covariates.index("age")] * (
            (age_center - truth.age_ref) / AGE_SCALE_YEARS)
    return means
