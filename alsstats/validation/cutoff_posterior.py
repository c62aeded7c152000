r"""The posterior distribution of a marker's optimal cutoff under a binormal Bayesian model.

Model (stated): a dedicated two-class binormal model for one marker on its transformed
scale ``x`` (identity for the M1/precuneus ratio, log for concentrations), not the
multi-marker :class:`~alsstats.models.diagnostic.DiagnosticModel`:

.. math::

    x \mid \text{ALS} \sim N(\mu_1, \sigma_1^2), \qquad
    x \mid \text{not ALS} \sim N(\mu_0, \sigma_0^2),

with the standard noninformative prior ``p(μ_k, σ_k²) ∝ 1/σ_k²`` in each class.  The
posterior is then exact and needs no MCMC (Gelman et al., BDA3 §3.2):

.. math::

    \sigma_k^2 \mid x \sim \frac{(n_k - 1) s_k^2}{\chi^2_{n_k - 1}}, \qquad
    \mu_k \mid \sigma_k^2, x \sim N(\bar x_k, \sigma_k^2 / n_k).

For each posterior draw the cutoff ``c*`` that maximises the chosen utility is computed
in closed form; the draws of ``c*`` are its posterior.  With direction ``'<'`` (positive
if ``x < c``, e.g. a ratio below 1.00) ``Se(c) = Φ((c − μ_1)/σ_1)`` and
``Sp(c) = 1 − Φ((c − μ_0)/σ_0)``; with ``'>'`` the mirror images.

* **Youden** (max Se + Sp − 1) and **cost** (min ``c_FN π (1 − Se) + c_FP (1 − π)(1 − Sp)``
  at the stated prevalence π): the optimum solves ``f_1(c)/f_0(c) = K`` with ``K = 1``
  (Youden) or ``K = c_FP (1 − π)/(c_FN π)`` (cost), i.e. the quadratic

  .. math::

      \frac{(c-\mu_0)^2}{2\sigma_0^2} - \frac{(c-\mu_1)^2}{2\sigma_1^2}
      + \log\frac{\sigma_0}{\sigma_1} - \log K = 0;

  of its real roots the one with the best utility is taken.  When there is none (the
  likelihood ratio never reaches K: calling everybody, or nobody, is optimal) the draw has
  no finite optimum and is counted in ``n_no_optimum``.
* **Fixed specificity** s: ``c = μ_0 + σ_0 Φ⁻¹(1 − s)`` for ``'<'`` and
  ``μ_0 + σ_0 Φ⁻¹(s)`` for ``'>'``.

The cutoff is returned on the marker's own scale (``exp`` of the log-scale cutoff for a
log marker).  Beside it, the bootstrap distribution of the *empirical* optimum
(:func:`~alsstats.validation.cutoff_stability`) answers the same question without the
normal assumption, and ``P(|c* − c₀| < δ)`` is given under both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alsstats import _gauss
from alsstats.errors import DataValidationError, Problem
from alsstats.random import SeedLike, as_generator
from alsstats.validation._inputs import check_binary, check_direction
from alsstats.validation._results import Result
from alsstats.validation.intervals import z_value

__all__ = ["CutoffPosterior", "binormal_optimal_cutoff", "cutoff_posterior"]

UTILITIES = ("youden", "fixed-spec", "cost")


def _check_utility(utility, specificity, cost_fp, cost_fn, prevalence) -> None:
    if utility not in UTILITIES:
        raise DataValidationError([Problem(f"utility must be one of {', '.join(UTILITIES)}",
                                           value=utility)])
    if utility == "fixed-spec" and (specificity is None or not 0 < specificity < 1):
        raise DataValidationError([Problem("utility 'fixed-spec' needs a specificity in "
                                           "(0, 1)", value=specificity)])
    if utility == "cost":
        if prevalence is None or not 0 < prevalence < 1:
            raise DataValidationError([Problem("utility 'cost' needs the prevalence of the "
                                               "population, in (0, 1)", value=prevalence)])
        if not (cost_fp > 0 and cost_fn > 0):
            raise DataValidationError([Problem("costs must be positive",
                                               value=(cost_fp, cost_fn))])


def _se_sp(c, mu1, s1, mu0, s0, direction):
    from scipy.special import ndtr  # here: SciPy is slow to import

    if direction == "<":
        return ndtr((c - mu1) / s1), 1.0 - ndtr((c - mu0) / s0)
    return 1.0 - ndtr((c - mu1) / s1), ndtr((c - mu0) / s0)


def binormal_optimal_cutoff(mu1, sigma1, mu0, sigma0, *, direction: str, utility="youden",
                            specificity=None, cost_fp=1.0, cost_fn=1.0, prevalence=None):
    """Optimal cutoff(s) of binormal classes (vectorised over parameter arrays).

    Parameters
    ----------
    mu1, sigma1 : array_like
        Mean and SD of the positive class (ALS) on the transformed scale.
    mu0, sigma0 : array_like
        Mean and SD of the negative class.
    direction : {'<', '>'}
        ``'<'``: positive if x < c; ``'>'``: positive if x ≥ c.
    utility : {'youden', 'fixed-spec', 'cost'}
    specificity : float
        Target of ``'fixed-spec'``.
    cost_fp, cost_fn, prevalence : float
        Of ``'cost'``: ``K = c_FP (1 − π)/(c_FN π)``.

    Returns
    -------
    ndarray
        The cutoff per parameter set; NaN where no finite cutoff is optimal.
    """
    if direction not in ("<", ">"):
        raise DataValidationError([Problem("direction must be '<' or '>'", value=direction)])
    _check_utility(utility, specificity, cost_fp, cost_fn, prevalence)
    mu1, s1, mu0, s0 = np.broadcast_arrays(*(np.asarray(v, dtype=float)
                                             for v in (mu1, sigma1, mu0, sigma0)))
    if utility == "fixed-spec":
        q = _gauss.ppf(1.0 - specificity) if direction == "<" else _gauss.ppf(specificity)
        return mu0 + s0 * q
    log_k = 0.0 if utility == "youden" else np.log(cost_fp * (1 - prevalence)
                                                   / (cost_fn * prevalence))
    a = 0.5 / s0**2 - 0.5 / s1**2
    b = mu1 / s1**2 - mu0 / s0**2
    d = 0.5 * mu0**2 / s0**2 - 0.5 * mu1**2 / s1**2 + np.log(s0 / s1) - log_k
    # a c² + b c + d = 0; a ≈ 0 (equal SDs): the linear root
    lin = np.abs(a) < 1e-12 * (1.0 / s0**2 + 1.0 / s1**2)
    disc = b**2 - 4 * a * d
    with np.errstate(invalid="ignore", divide="ignore"):
        sq = np.sqrt(np.where(disc >= 0, disc, np.nan))
        r1 = np.where(lin, -d / np.where(b != 0, b, np.nan), (-b + sq) / (2 * a))
        r2 = np.where(lin, r1, (-b - sq) / (2 * a))
    weight_fp = 1.0 if utility == "youden" else cost_fp * (1 - prevalence)
    weight_fn = 1.0 if utility == "youden" else cost_fn * prevalence

    def loss(c):
        se, sp = _se_sp(c, mu1, s1, mu0, s0, direction)
        return weight_fn * (1 - se) + weight_fp * (1 - sp)

    l1, l2 = loss(r1), loss(r2)
    best = np.where(np.isnan(l2) | (l1 <= l2), r1, r2)
    # a stationary point that is a loss maximum is no optimum: compare with the extremes
    # (call nobody: loss = weight_fn; call everybody: loss = weight_fp)
    lb = loss(best)
    best = np.where(lb <= np.minimum(weight_fn, weight_fp) + 1e-15, best, np.nan)
    return best


@dataclass
class CutoffPosterior(Result):
    """Posterior of the optimal cutoff beside the bootstrap of the empirical optimum.

    ``summary``: one row per method ('posterior', 'bootstrap') with the cutoff's mean,
    median, SD, central interval, ``prob_within`` = P(|c* − reference| < delta) and its
    Monte Carlo SE; ``posterior_draws`` / ``bootstrap_draws`` (not in ``to_dict``): the
    cutoffs; ``class_parameters``: posterior means and intervals of μ_1, σ_1, μ_0, σ_0 on
    the transformed scale.
    """

    _NOT_IN_DICT = ("posterior_draws", "bootstrap_draws")

    marker: str
    transform: str
    direction: str
    utility: str
    specificity: float | None
    cost_fp: float
    cost_fn: float
    prevalence: float | None
    reference: float
    delta: float
    n_positive: int
    n_negative: int
    n_draws: int
    n_no_optimum: int
    n_boot: int
    conf_level: float
    model: str
    summary: pd.DataFrame
    class_parameters: pd.DataFrame
    posterior_draws: np.ndarray
    bootstrap_draws: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        return self.summary.copy()

    def row(self, method: str) -> pd.Series:
        """The summary row of ``'posterior'`` or ``'bootstrap'``."""
        return self.summary.set_index("method").loc[method]


def _posterior(x: np.ndarray, n_draws: int, rng) -> tuple[np.ndarray, np.ndarray]:
    n = x.size
    s2 = x.var(ddof=1)
    sigma2 = (n - 1) * s2 / rng.chisquare(n - 1, n_draws)
    mu = rng.normal(x.mean(), np.sqrt(sigma2 / n))
    return mu, np.sqrt(sigma2)


def _summary_row(method: str, c: np.ndarray, reference: float, delta: float,
                 conf_level: float) -> dict:
    a = 1 - conf_level
    c = c[np.isfinite(c)]
    p = float(np.mean(np.abs(c - reference) < delta)) if c.size else np.nan
    return {"method": method, "n": int(c.size), "mean": float(np.mean(c)),
            "median": float(np.median(c)), "sd": float(np.std(c, ddof=1)),
            "lower": float(np.quantile(c, a / 2)), "upper": float(np.quantile(c, 1 - a / 2)),
            "prob_within": p, "prob_within_mc_se": float(np.sqrt(p * (1 - p) / c.size))}


def cutoff_posterior(labels, values, *, direction: str = "<", transform: str = "identity",
                     utility: str = "youden", specificity: float | None = None,
                     cost_fp: float = 1.0, cost_fn: float = 1.0,
                     prevalence: float | None = None, reference: float = 1.0,
                     delta: float = 0.02, n_draws: int = 4000, n_boot: int = 1000,
                     conf_level: float = 0.95, name: str = "m1_precuneus_ratio",
                     seed: SeedLike = None) -> CutoffPosterior:
    """Posterior of the utility-maximising cutoff of one marker, and the empirical bootstrap.

    Parameters
    ----------
    labels : array of bool or 0/1
        1 = ALS (positive).
    values : array
        The marker (one value per subject, no missing values).
    direction : {'<', '>'}
        ``'<'`` (default, the M1/precuneus ratio): positive if value < cutoff.
    transform : {'identity', 'log'}
        Scale on which the classes are normal.
    utility : {'youden', 'fixed-spec', 'cost'}
        With ``specificity`` (fixed-spec) or ``cost_fp``, ``cost_fn`` and ``prevalence``
        (cost; the prevalence of the population the cutoff is for).
    reference, delta : float
        Report ``P(|c* − reference| < delta)`` (default the 1.00 ratio, ± 0.02).
    n_draws : int
        Posterior draws (exact, independent).
    n_boot : int
        Bootstrap replicates of the empirical optimum (stratified by class;
        :func:`~alsstats.validation.cutoff_stability`); 0 skips it.
    seed : int, optional
        Seeds the posterior draws and the bootstrap; same seed, same numbers.
    """
    from alsstats.validation.stability import cutoff_stability

    check_direction(direction)
    if direction == "auto":
        raise DataValidationError([Problem("give the direction, '<' or '>'", value=direction)])
    _check_utility(utility, specificity, cost_fp, cost_fn, prevalence)
    if transform not in ("identity", "log"):
        raise DataValidationError([Problem("transform must be 'identity' or 'log'",
                                           value=transform)])
    z_value(conf_level)
    v, y, _ = check_binary(values, labels, name=name, min_per_class=3)
    if transform == "log":
        if (v <= 0).any():
            raise DataValidationError([Problem("a log-transformed marker must be > 0",
                                               column=name, row=int(np.flatnonzero(v <= 0)[0]),
                                               value=float(v[v <= 0][0]))])
        x = np.log(v)
    else:
        x = v
    if int(n_draws) < 100:
        raise DataValidationError([Problem("n_draws must be at least 100", value=n_draws)])
    ss_post, ss_boot = np.random.SeedSequence(
        seed if not isinstance(seed, np.random.Generator) else
        int(seed.integers(2**63))).spawn(2)
    rng = as_generator(ss_post)
    mu1, s1 = _posterior(x[y], int(n_draws), rng)
    mu0, s0 = _posterior(x[~y], int(n_draws), rng)
    c = binormal_optimal_cutoff(mu1, s1, mu0, s0, direction=direction, utility=utility,
                                specificity=specificity, cost_fp=cost_fp, cost_fn=cost_fn,
                                prevalence=prevalence)
    if transform == "log":
        c = np.exp(c)
    rows = [_summary_row("posterior", c, reference, delta, conf_level)]
    boot = np.array([])
    if n_boot:
        method = {"youden": "youden", "fixed-spec": "fixed-spec", "cost": "cost"}[utility]
        stab = cutoff_stability(y, v, method=method, direction=direction, n_boot=n_boot,
                                seed=as_generator(ss_boot), conf_level=conf_level, name=name,
                                specificity=specificity, cost_fp=cost_fp, cost_fn=cost_fn,
                                prevalence=prevalence if utility == "cost" else None)
        boot = stab.replicates["cutoff"].dropna().to_numpy()
        rows.append(_summary_row("bootstrap", boot, reference, delta, conf_level))
    a = 1 - conf_level
    params = pd.DataFrame([
        {"parameter": p, "mean": float(d.mean()), "lower": float(np.quantile(d, a / 2)),
         "upper": float(np.quantile(d, 1 - a / 2))}
        for p, d in (("mu_positive", mu1), ("sigma_positive", s1), ("mu_negative", mu0),
                     ("sigma_negative", s0))])
    return CutoffPosterior(
        marker=name, transform=transform, direction=direction, utility=utility,
        specificity=specificity, cost_fp=float(cost_fp), cost_fn=float(cost_fn),
        prevalence=prevalence, reference=float(reference), delta=float(delta),
        n_positive=int(y.sum()), n_negative=int((~y).sum()), n_draws=int(n_draws),
        n_no_optimum=int(np.isnan(c).sum()), n_boot=int(n_boot), conf_level=conf_level,
        model="binormal, noninformative prior p(mu, sigma^2) ∝ 1/sigma^2 per class; exact "
              "posterior draws",
        summary=pd.DataFrame(rows), class_parameters=params, posterior_draws=c,
        bootstrap_draws=boot)
