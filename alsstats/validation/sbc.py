r"""Simulation-based calibration (Talts et al. 2018) of the package's Bayesian models.

If :math:`\tilde\theta \sim p(\theta)`, :math:`\tilde y \sim p(y \mid \tilde\theta)`
and :math:`\theta_1, \dots, \theta_L` are independent draws from the posterior
:math:`p(\theta \mid \tilde y)`, the rank of :math:`\tilde\theta` among them,
:math:`r = \#\{l : \theta_l < \tilde\theta\}`, is uniform on :math:`\{0, \dots, L\}`
for every scalar parameter (Talts et al. 2018, Theorem 1).  A sampler, likelihood or
marginalisation that is wrong shows up as a non-uniform rank histogram (a U shape:
posterior too narrow; a hump: too wide; a slope: biased).

Here each replicate draws the parameters from the model's own prior
(``pm.sample_prior_predictive`` of the compiled graph), simulates one data set from
them with the model's generative equations (numpy, independent of the graph's
likelihood code), and samples the posterior with the *same compiled* nutpie model
(``with_data``), so a replicate costs one sampling run.  Posterior draws are thinned
to :math:`L` evenly spaced draws (``n_rank_draws``, 99 by default: autocorrelated
draws would make the ranks non-uniform even for a correct sampler), ranks are put in
``n_bins`` bins of equal width (10 by default, :math:`(L+1)/B` ranks each) and
uniformity is tested per parameter by Pearson's chi-square with :math:`B - 1`
degrees of freedom.  With many parameters the test is Bonferroni-corrected:
:meth:`SBCResult.passed` requires every p-value above ``alpha / n_parameters``.

The diagnostic model is run on the standardised scale on which its priors are set
(the data are not re-standardised), with a fixed design: balanced classes, subjects
assigned to sites in turn, one standard-normal covariate and a block of subjects
missing one marker (so the padded-covariance marginalisation is calibrated too).  The
longitudinal model is run on a fixed design of two groups with 3–5 visits per subject
(unequal follow-up), on the standardised scale of :mod:`alsstats.models.longitudinal.graph`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
from scipy.stats import chisquare

from alsstats.errors import AlsStatsError, SpecError
from alsstats.inference.sampling import CompiledSampler, SamplingConfig, integer_seed
from alsstats.random import SeedLike, as_generator, spawn_seeds

__all__ = ["SBCResult", "rank_statistics", "sbc_diagnostic", "sbc_longitudinal",
           "uniformity_table"]


@dataclass(frozen=True)
class SBCResult:
    """Ranks of the true parameters and their uniformity tests.

    ``ranks`` (replicates x parameters) in ``0..n_rank_draws``; ``table`` one row per
    parameter: ``parameter``, ``chi2``, ``dof``, ``p_value``, ``min_bin``, ``max_bin``;
    ``divergent_fits``: replicates whose sampling had divergences.
    """

    ranks: pd.DataFrame
    table: pd.DataFrame
    n_rank_draws: int
    n_bins: int
    divergent_fits: int

    def passed(self, alpha: float = 0.01) -> bool:
        """Every parameter's chi-square p-value above ``alpha / n_parameters``."""
        return bool((self.table["p_value"] > alpha / len(self.table)).all())


def rank_statistics(truth: dict[str, np.ndarray], posterior, n_rank_draws: int
                    ) -> dict[str, int]:
    """Rank of each true scalar among ``n_rank_draws`` evenly spaced posterior draws.

    ``posterior`` is an ArviZ posterior group (chain, draw, ...); ties count half.
    """
    out = {}
    for name, value in truth.items():
        v = posterior[name].values
        flat = v.reshape(v.shape[0] * v.shape[1], -1)
        pick = np.linspace(0, len(flat) - 1, n_rank_draws).round().astype(int)
        draws = flat[pick]
        true = np.asarray(value, float).ravel()
        below = (draws < true).sum(axis=0) + 0.5 * (draws == true).sum(axis=0)
        for i, r in enumerate(np.floor(below).astype(int)):
            out[f"{name}[{i}]" if true.size > 1 else name] = int(r)
    return out


def uniformity_table(ranks: pd.DataFrame, n_rank_draws: int, n_bins: int) -> pd.DataFrame:
    """Pearson chi-square test of uniform ranks, per column of ``ranks``."""
    if (n_rank_draws + 1) % n_bins:
        raise AlsStatsError(f"n_rank_draws + 1 ({n_rank_draws + 1}) must be a multiple of "
                            f"n_bins ({n_bins}) for bins of equal width")
    rows = []
    for name in ranks.columns:
        counts = np.bincount(ranks[name].to_numpy() * n_bins // (n_rank_draws + 1),
                             minlength=n_bins)
        stat, p = chisquare(counts)
        rows.append({"parameter": name, "chi2": float(stat), "dof": n_bins - 1,
                     "p_value": float(p), "min_bin": int(counts.min()),
                     "max_bin": int(counts.max())})
    return pd.DataFrame(rows)


def _run(model: pm.Model, simulate, data_for, names: list[str], n_replicates: int,
         config: SamplingConfig, seed: SeedLike, n_rank_draws: int, n_bins: int
         ) -> SBCResult:
    rng = as_generator(seed)
    prior = pm.sample_prior_predictive(draws=n_replicates, model=model,
                                       random_seed=integer_seed(rng)).prior
    sampler = CompiledSampler(model, config, refits=n_replicates > 1)
    rows, divergent = [], 0
    for r, child in enumerate(spawn_seeds(integer_seed(rng), n_replicates)):
        truth = {name: prior[name].values[0, r] for name in prior.data_vars}
        data = data_for(simulate(truth, np.random.default_rng(child)))
        idata = sampler.sample(integer_seed(child), data)
        if "diverging" in idata.sample_stats and int(idata.sample_stats["diverging"].sum()):
            divergent += 1
        rows.append(rank_statistics({n: truth[n] for n in names}, idata.posterior,
                                    n_rank_draws))
    ranks = pd.DataFrame(rows)
    return SBCResult(ranks, uniformity_table(ranks, n_rank_draws, n_bins), n_rank_draws,
                     n_bins, divergent)


def sbc_diagnostic(spec=None, *, n_replicates: int = 100, n_subjects: int = 120,
                   n_sites: int = 8, draws: int = 500, tune: int = 500,
                   target_accept: float = 0.9, n_rank_draws: int = 99, n_bins: int = 10,
                   seed: SeedLike = None) -> SBCResult:
    """SBC of the diagnostic model's graph (``spec``: default a 3-marker class-SD spec).

    Ranked: class means, covariate effects, marker SDs, class log-SD ratios (if the
    spec has them), correlations and site SDs.  The default design has the default
    scenario's 8 sites (15 subjects each): with 3 sites, prior draws of the site SDs
    put the sampler in the site-SD funnel (divergences in 19 of 20 fits), which says
    more about a 3-site study than about the model as used.
    """
    from alsstats.models.diagnostic.data import Design
    from alsstats.models.diagnostic.graph import DataLayout, build_pymc_model, model_data
    from alsstats.models.diagnostic.spec import DiagnosticSpec, load_spec

    if spec is None:
        spec = DiagnosticSpec.from_dict({
            "model": {"classes": ["ALS", "MIMIC", "HC"], "covariance": "class_sd"},
            "markers": {"nfl_pg_ml": {"transform": "log", "covariates": ["age"]},
                        "m1_precuneus_ratio": {"transform": "identity", "covariates": []},
                        "smn_sma": {"transform": "identity", "covariates": []}}})
    spec = load_spec(spec)
    if spec.measurement_error != "none":
        raise SpecError("sbc_diagnostic simulates markers without measurement error; it "
                        "needs [model] measurement_error = 'none'")
    if spec.marker_distribution != "normal":
        raise SpecError("sbc_diagnostic simulates multivariate normal markers; it needs "
                        f"[model] marker_distribution = 'normal', got "
                        f"{spec.marker_distribution!r}")
    k, m = len(spec.classes), len(spec.markers)
    c = len(spec.covariates)
    design_rng = np.random.default_rng(20181)
    labels = np.arange(n_subjects) % k
    site = np.arange(n_subjects) % n_sites
    x = design_rng.standard_normal((n_subjects, c))
    missing = np.zeros((n_subjects, m), bool)
    missing[: n_subjects // 5, m - 1] = True            # a fifth lack the last marker
    masks = np.array([np.ones(m, bool), ~missing[0]])
    layout = DataLayout(masks, n_subjects)
    sites = tuple(f"S{s + 1}" for s in range(n_sites))
    ids = np.array([f"D{i}" for i in range(n_subjects)])

    def data_for(y):
        return model_data(Design(ids, y, x, site), labels, layout)

    def simulate(truth, rng):
        sigma = truth["Sigma"] if truth["Sigma"].ndim == 3 else np.broadcast_to(
            truth["Sigma"], (k, m, m))
        chol = np.linalg.cholesky(sigma)[labels]
        e = np.einsum("nab,nb->na", chol, rng.standard_normal((n_subjects, m)))
        y = truth["mu"][labels] + x @ truth["B"] + truth["u"][site] + e
        return np.where(missing, np.nan, y)

    model = build_pymc_model(spec, layout, data_for(np.zeros((n_subjects, m))), sites)
    names = ["mu", "tau"] + (["beta"] if c else [])
    names += {"shared": ["sigma"], "class_sd": ["sigma_class"],
              "per_class": [f"sigma_{cls}" for cls in spec.classes]}[spec.covariance]
    if m > 1 and spec.covariance != "per_class":
        names.append("corr_offdiag")
    config = SamplingConfig(draws=draws, tune=tune, chains=2, target_accept=target_accept)
    return _run(model, simulate, data_for, names, n_replicates, config, seed, n_rank_draws,
                n_bins)


def sbc_longitudinal(spec=None, *, n_replicates: int = 100, n_subjects: int = 40,
                     draws: int = 500, tune: int = 500, target_accept: float = 0.9,
                     n_rank_draws: int = 99, n_bins: int = 10,
                     seed: SeedLike = None) -> SBCResult:
    """SBC of the longitudinal model's graph (two groups, random intercept and slope).

    Ranked: group intercepts and slopes, residual SD, random-effect SDs and correlation.
    """
    from alsstats.models.longitudinal.data import Columns, prepare_long_data
    from alsstats.models.longitudinal.graph import build_model
    from alsstats.models.longitudinal.spec import load_longitudinal_spec

    spec = load_longitudinal_spec(spec)
    if spec.residual != "normal":
        raise AlsStatsError("sbc_longitudinal simulates normal residuals; use a spec with "
                            "residual = 'normal'")
    design_rng = np.random.default_rng(20182)
    rows = []
    for i in range(n_subjects):
        for t in range(3 + i % 3):                      # 3, 4 or 5 visits
            rows.append({"id": f"P{i}", "g": "A" if i % 2 else "B",
                         "t": 0.5 * t + 0.05 * design_rng.standard_normal(), "y": 0.0})
    table = pd.DataFrame(rows)
    table["y"] = design_rng.standard_normal(len(table))   # placeholder for the layout
    ld = prepare_long_data(table, Columns("y", "t", "id", "g"),
                           random_slope=spec.random_slope)
    g, T, W = ld.group_idx, ld.T, ld.mask

    def data_for(y):
        return {"Y": y}           # the design arrays stay those of the compiled model

    def simulate(truth, rng):
        n = len(g)
        a = truth["a"][g] if spec.group_intercepts else truth["a"][0]
        z = rng.standard_normal((2, n))
        u0 = truth["tau0"] * z[0]
        u1 = np.zeros(n)
        if spec.random_slope:
            rho = truth["rho"]
            u1 = truth["tau1"] * (rho * z[0] + np.sqrt(1 - rho ** 2) * z[1])
        y = (a + u0)[:, None] + (truth["b"][g] + u1)[:, None] * T
        y = y + truth["sigma"] * rng.standard_normal(T.shape)
        return np.where(W > 0, y, 0.0)

    model = build_model(ld, spec)
    names = ["a", "b", "sigma", "tau0"] + (["tau1", "rho"] if spec.random_slope else [])
    config = SamplingConfig(draws=draws, tune=tune, chains=2, target_accept=target_accept)
    return _run(model, simulate, data_for, names, n_replicates, config, seed, n_rank_draws,
                n_bins)
