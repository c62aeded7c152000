r"""Longitudinal decline model: Bayesian (PyMC + nutpie) or REML/ML, one estimator.

Model (natural units; subject *i* in group *g*, visit *j* at time :math:`t_{ij}`)

.. math::

    y_{ij} = a_g + b_g t_{ij} + c^\top x_i + s_{site(ij)} + u_{0i} + u_{1i} t_{ij}
             + \varepsilon_{ij},\qquad (u_{0i}, u_{1i}) \sim \mathrm{MVN}(0, \Omega),

with group-specific intercepts :math:`a_g` (the baseline level at mean covariates) and
mean slopes :math:`b_g`, subject-level covariates :math:`x_i` (value at the first visit,
centred: e.g. age at baseline, sex, eTIV), site offsets :math:`s` (partially pooled,
:math:`N(0, \tau_{site}^2)`, non-centred, in the Bayesian fit; fixed effects summing to
zero in the REML fit), and normal or Student-t residuals (Bayesian fit only; the
Student-t option makes each subject's visit vector multivariate t, see
:mod:`alsstats.models.longitudinal.graph`).  The
subject effects are integrated out analytically (see
:mod:`alsstats.models.longitudinal.graph`); each subject's trajectory posterior is drawn
afterwards from its Gaussian conditional.  ``random_effects = "intercept"`` drops
:math:`u_{1i}`.

Reported: group intercepts and slopes (per time unit of the time column, e.g. per year),
slopes as % of the group's baseline level per time unit (100·b_g/a_g; 100·(e^b_g − 1)
for a log outcome, ``outcome_scale = "log"``), slope
differences from the reference group, covariate effects, SDs and correlation of the
random effects, residual SD; per subject, slope and baseline posteriors, and the
probability that the decline exceeds a threshold.

``method="bayes"`` samples with nutpie through the shared Bayesian base
(:class:`alsstats.models.base.BayesianEstimator`): the graph is compiled once per
estimator and model structure, and a refit of the same structure swaps the data into the
compiled model.  Its convergence is judged by the spec's ``[convergence]`` policy
(:mod:`alsstats.inference.convergence`).  ``"reml"``/``"ml"`` use
:func:`alsstats.models.lmm.engine.fit_lmm` (agrees with lme4); their convergence is the
optimiser's (:class:`~alsstats.inference.convergence.OptimizerConvergence`).
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pandas as pd

from alsstats._version import __version__
from alsstats.errors import ConvergenceWarning, SpecError
from alsstats.inference.convergence import OptimizerConvergence, check_convergence
from alsstats.inference.sampling import SamplingConfig, integer_seed
from alsstats.inference.threads import single_threaded_blas
from alsstats.models.base import BayesianEstimator, write_fit
from alsstats.models.longitudinal.data import Columns, prepare_long_data
from alsstats.models.longitudinal.persistence import from_inference_data, to_inference_data
from alsstats.models.longitudinal.posterior import natural_draws, standard_draws, subject_draws
from alsstats.models.longitudinal.reml import fit_reml, percent_change, reml_draws, reml_summary
from alsstats.models.longitudinal.spec import LongitudinalSpec, load_longitudinal_spec
from alsstats.random import as_generator

__all__ = ["METHODS", "LongitudinalModel"]

METHODS = ("bayes", "reml", "ml")
_CORE_VARS = ("a", "b", "c", "sigma", "tau0", "tau1", "rho", "site_sd", "site_z", "nu")


class LongitudinalModel(BayesianEstimator):
    """Estimator for the longitudinal decline model (see the module docstring).

    Parameters
    ----------
    spec : LongitudinalSpec, dict, path to TOML, or None (shipped default)
    method : {"bayes", "reml", "ml"}
    outcome, time, subject : str
        Column names in the long-format table (one row per subject × visit).
    group : str or None
        Grouping column for group-specific intercepts and slopes (None: one group).
    covariates : sequence of str
        Subject-level covariates (value at the first visit is used).
    site : str or None
        Site column (offsets partially pooled in the Bayesian fit).
    seed : int or None
        Seeds sampling and the draws of subject trajectories.
    backend : {"auto", "numba", "jax"}
        nutpie's compile backend for ``method="bayes"``: ``"auto"`` is JAX when
        installed (a compile of seconds, cached across processes) and numba otherwise;
        pass ``"numba"`` for loops of refits (``reuse``): its gradient is ~9x faster
        once compiled.  See :mod:`alsstats.inference.sampling`.

    Attributes
    ----------
    idata_ : arviz.InferenceData
        What :meth:`save` writes: group ``derived`` (natural-scale draws, with the
        provenance attributes) and, for Bayesian fits, ``posterior`` and ``sample_stats``
        (standardised scale, dims ``group``, ``covariate_term``, ``site_id``).
    convergence_ : Convergence or OptimizerConvergence
        Bayesian fits: R-hat, ESS and divergences judged by the spec's policy;
        REML/ML fits: the optimiser's convergence.  ``converged_`` is ``convergence_.ok``.
    timing_ : dict
        Bayesian fits: ``compile_seconds``, ``sampling_seconds`` and ``backend`` of the
        last sampling run (not saved).
    """

    _provenance_group = "derived"

    def __init__(self, spec=None, method: str = "bayes", *, outcome: str = "total_gm_volume_mm3",
                 time: str = "years_from_baseline", subject: str = "subject_id",
                 group: str | None = "group", covariates=("age", "sex", "etiv_mm3"),
                 site: str | None = "site", seed: int | None = None, backend: str = "auto"):
        self.spec = spec
        self.method = method
        self.outcome = outcome
        self.time = time
        self.subject = subject
        self.group = group
        self.covariates = covariates
        self.site = site
        self.seed = seed
        self.backend = backend

    # ------------------------------------------------------------------ fitting
    def fit(self, data: pd.DataFrame, y=None, *,
            reuse: LongitudinalModel | None = None) -> LongitudinalModel:
        """Fit on a long-format table; returns ``self``.

        ``reuse``: a Bayesian fit of the same model structure (groups, sites,
        covariates, random effects, residuals and priors) whose compiled sampler this fit
        reuses instead of compiling (the data are swapped in; sampling settings may
        differ).  A different structure compiles anew.
        """
        if self.method not in METHODS:
            raise SpecError(f"method must be one of {', '.join(METHODS)}; got {self.method!r}")
        spec = load_longitudinal_spec(self.spec)
        if self.method != "bayes" and spec.residual != "normal":
            raise SpecError("Student-t residuals need method='bayes'")
        columns = Columns(self.outcome, self.time, self.subject, self.group,
                          tuple(self.covariates or ()), self.site)
        ld = prepare_long_data(data, columns, random_slope=spec.random_slope)
        rng = as_generator(self.seed)
        self.spec_ = spec
        self.lmm_ = None
        posterior = None
        choice = None
        if self.method == "bayes":
            seed = integer_seed(rng)
            if spec.group_variances == "auto" and len(ld.groups) > 1:
                posterior, std, choice = self._sample_by_loo(ld, spec, seed, reuse)
            else:
                posterior = self._sample(ld, spec, seed, reuse)
                std = standard_draws(posterior.posterior, ld, spec.group_intercepts)
            self.draws_ = natural_draws(std, ld, spec.log_outcome)
            self.subject_draws_ = subject_draws(std, ld, rng)
            names = [v for v in _CORE_VARS if v in posterior.posterior]
            self.convergence_ = check_convergence(posterior, names, policy=spec.convergence)
            self.n_chains_ = int(posterior.posterior.sizes["chain"])
        else:
            with single_threaded_blas():
                self.lmm_, layout, choice = fit_reml(ld, spec, self.method)
                self.draws_, self.subject_draws_ = reml_draws(
                    self.lmm_, layout, ld, rng, log_outcome=spec.log_outcome)
            self.lmm_names_ = layout.names
            self.convergence_ = OptimizerConvergence(bool(self.lmm_.converged),
                                                     bool(self.lmm_.singular),
                                                     str(self.lmm_.message))
            self.n_chains_ = 1
        self.converged_ = bool(self.convergence_.ok)
        self.meta_ = _meta(ld, spec)
        if choice is not None:
            self.meta_["random_effects_covariance"] = choice
        self.data_hash_ = ld.data_hash
        self.idata_ = to_inference_data(self, posterior)
        if not self.converged_:
            warnings.warn(self.convergence_.message(f"longitudinal {self.method} fit"),
                          ConvergenceWarning, stacklevel=2)
        return self

    def _sample_by_loo(self, ld, spec: LongitudinalSpec, seed: int, reuse):
        """Sample the shared and the per-group model; keep the one chosen by PSIS-LOO
        (:mod:`alsstats.models.longitudinal.selection`)."""
        from alsstats.models.longitudinal.selection import choose_by_loo, pointwise_loglik

        fits, candidates = {}, {}
        for kind in ("shared", "per_group"):
            idata = self._sample(ld, spec.replace(group_variances=kind), seed, reuse)
            std = standard_draws(idata.posterior, ld, spec.group_intercepts)
            fits[kind] = (idata, std)
            candidates[kind] = (pointwise_loglik(std, ld), idata.posterior)
        choice = choose_by_loo(candidates)
        return (*fits[choice["group_variances"]], choice)

    def _sample(self, ld, spec: LongitudinalSpec, seed: int, reuse):
        from alsstats.models.longitudinal.graph import build_model, data_arrays, model_signature

        s = spec.sampling
        config = SamplingConfig(draws=s["draws"], tune=s["tune"], chains=s["chains"],
                                target_accept=float(s["target_accept"]),
                                backend=self.backend)
        sampler = self._compiled_sampler(model_signature(ld, spec),
                                         lambda: build_model(ld, spec), config, reuse)
        idata = sampler.sample(seed, data_arrays(ld))
        self.timing_ = sampler.timing(compiled=not sampler.reused)
        coords = {"group": list(ld.groups), "site_id": list(ld.sites),
                  "covariate_term": list(ld.covariate_names)}
        present = {k: v for k, v in coords.items() if k in idata.posterior.dims}
        return idata.assign_coords(present, groups="posterior") if present else idata

    # ------------------------------------------------------------------ results
    @property
    def reference_group_(self) -> str:
        self._check_fitted()
        groups = self.meta_["groups"]
        ref = self.spec_.reference_group or ("HC" if "HC" in groups else groups[0])
        if ref not in groups:
            raise SpecError(f"reference_group {ref!r} is not a group in the data ({groups})")
        return ref

    def summary(self) -> pd.DataFrame:
        """Estimates with SD/SE and interval: group levels and slopes, %/time, slope
        differences from the reference group, covariates and variance components."""
        self._check_fitted()
        level = self.spec_.interval
        if self.lmm_ is not None:
            return _reml_summary(self, level)
        rows = {}
        groups = self.meta_["groups"]
        d = self.draws_
        for k, g in enumerate(groups):
            rows[f"intercept[{g}]"] = d["intercept"][:, k]
            rows[f"slope[{g}]"] = d["slope"][:, k]
            rows[f"percent_per_time[{g}]"] = d["percent_per_time"][:, k]
        r = groups.index(self.reference_group_)
        for k, g in enumerate(groups):
            if k != r:
                rows[f"slope_diff[{g} - {groups[r]}]"] = d["slope"][:, k] - d["slope"][:, r]
                rows[f"percent_diff[{g} - {groups[r]}]"] = (d["percent_per_time"][:, k]
                                                            - d["percent_per_time"][:, r])
        for k, c in enumerate(self.meta_["covariate_names"]):
            rows[f"covariate[{c}]"] = d["covariate"][:, k]
        for name in ("sd_intercept", "sd_slope", "corr", "sigma", "site_sd", "nu"):
            if name in d and d[name].ndim == 2:          # per-group random-effect SDs
                rows.update({f"{name}[{g}]": d[name][:, k] for k, g in enumerate(groups)})
            elif name in d:
                rows[name] = d[name]
        return _draw_table(rows, level, self.n_chains_)

    def subject_slopes(self) -> pd.DataFrame:
        """Each subject's slope (per time unit) and %/time of its own baseline, with intervals."""
        self._check_fitted()
        s = self.subject_draws_
        lo, hi = _bounds(self.spec_.interval)
        pct = percent_change(s["slope"], s["baseline"], self.spec_.log_outcome)
        out = pd.DataFrame({
            "subject": self.meta_["subjects"], "group": self.meta_["subject_group"],
            "slope": s["slope"].mean(0), "slope_sd": s["slope"].std(0),
            "slope_lower": np.quantile(s["slope"], lo, axis=0),
            "slope_upper": np.quantile(s["slope"], hi, axis=0),
            "baseline": s["baseline"].mean(0), "percent_per_time": pct.mean(0),
            "percent_lower": np.quantile(pct, lo, axis=0),
            "percent_upper": np.quantile(pct, hi, axis=0)})
        return out.set_index("subject")

    def predict(self, times=None, *, level: str = "group", subjects=None,
                interval: float | None = None) -> pd.DataFrame:
        """Expected trajectories with intervals, per group or per subject.

        ``times`` defaults to 11 points from 0 to the longest follow-up.  Group
        trajectories are a_g + b_g t (mean covariates, average site); subject
        trajectories use the subject's own baseline and slope.  Returns a long table
        (level, id, group, time, estimate, lower, upper).
        """
        self._check_fitted()
        if level not in ("group", "subject"):
            raise SpecError("level must be 'group' or 'subject'")
        t = (np.linspace(0.0, self.meta_["max_time"], 11) if times is None
             else np.asarray(times, dtype=float).ravel())
        lo, hi = _bounds(interval or self.spec_.interval)
        if level == "group":
            ids = self.meta_["groups"]
            base, slope, grp = self.draws_["intercept"], self.draws_["slope"], ids
        else:
            all_ids = list(self.meta_["subjects"])
            ids = all_ids if subjects is None else [str(s) for s in subjects]
            unknown = [s for s in ids if s not in all_ids]
            if unknown:
                raise SpecError(f"unknown subjects {unknown[:5]}")
            idx = [all_ids.index(s) for s in ids]
            base = self.subject_draws_["baseline"][:, idx]
            slope = self.subject_draws_["slope"][:, idx]
            grp = [self.meta_["subject_group"][k] for k in idx]
        traj = base[:, :, None] + slope[:, :, None] * t[None, None, :]   # (D, n_id, n_t)
        return pd.DataFrame({
            "level": level, "id": np.repeat(ids, len(t)), "group": np.repeat(grp, len(t)),
            "time": np.tile(t, len(ids)), "estimate": traj.mean(0).ravel(),
            "lower": np.quantile(traj, lo, axis=0).ravel(),
            "upper": np.quantile(traj, hi, axis=0).ravel()})

    def prob_decline_exceeds(self, threshold: float, *, percent: bool = False,
                             level: str = "subject") -> pd.Series:
        """P(decline faster than ``threshold`` per time unit), per subject or group.

        Decline is a negative slope: the probability is P(slope < −threshold), with the
        slope in outcome units per time unit, or (``percent=True``) in % of the baseline
        level per time unit.  For REML/ML fits the probability comes from joint draws of
        β and the subject effects (see :mod:`alsstats.models.longitudinal.reml`).
        """
        self._check_fitted()
        if level == "subject":
            s = self.subject_draws_
            slope = (percent_change(s["slope"], s["baseline"], self.spec_.log_outcome)
                     if percent else s["slope"])
            index = pd.Index(self.meta_["subjects"], name="subject")
        elif level == "group":
            slope = self.draws_["percent_per_time" if percent else "slope"]
            index = pd.Index(self.meta_["groups"], name="group")
        else:
            raise SpecError("level must be 'subject' or 'group'")
        return pd.Series((slope < -float(threshold)).mean(axis=0), index=index,
                         name=f"P(decline > {threshold}{'%' if percent else ''} per time unit)")

    def to_dict(self) -> dict:
        """JSON-ready results: summary, convergence, provenance."""
        self._check_fitted()
        table = self.summary().reset_index()
        return {"method": self.method, "columns": self.meta_["columns"],
                "n_subjects": self.meta_["n_subjects"], "n_obs": self.meta_["n_obs"],
                "n_rows_without_outcome": self.meta_["n_dropped"],
                "reference_group": self.reference_group_,
                "summary": table.to_dict(orient="records"),
                "convergence": self.convergence_.to_dict(), "converged": self.converged_,
                "lmm": self.lmm_.to_dict() if self.lmm_ is not None else None,
                "data_hash": self.data_hash_, "alsstats_version": __version__,
                "spec": self.spec_.to_dict()}

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> None:
        """Write the fit as NetCDF (ArviZ InferenceData) with provenance; never pickle."""
        self._check_fitted()
        # meta_ can gain entries after the fit (the CLI records the time unit): save them
        self.idata_[self._provenance_group].attrs["meta"] = json.dumps(self.meta_)
        write_fit(self.idata_, path, group=self._provenance_group)

    @classmethod
    def load(cls, path: str | os.PathLike) -> LongitudinalModel:
        """Read a fit written by :meth:`save`; warns if the fit did not converge."""
        model = from_inference_data(cls, path)
        if not model.converged_:
            warnings.warn(model.convergence_.message(f"{path}: this fit"), ConvergenceWarning,
                          stacklevel=2)
        return model


def _meta(ld, spec) -> dict:
    _, t, _, _ = ld.long()
    return {"groups": list(ld.groups), "subjects": [str(s) for s in ld.subjects],
            "subject_group": [ld.groups[k] for k in ld.group_idx],
            "sites": list(ld.sites), "covariate_names": list(ld.covariate_names),
            "columns": ld.columns.to_dict(), "n_subjects": ld.n_subjects, "n_obs": ld.n_obs,
            "n_dropped": ld.n_dropped, "max_time": float(t.max()),
            "visits_per_subject": ld.info["visits_per_subject"]}


def _bounds(level: float) -> tuple[float, float]:
    return (1.0 - level) / 2.0, (1.0 + level) / 2.0


def _draw_table(rows: dict[str, np.ndarray], level: float, n_chains: int) -> pd.DataFrame:
    import arviz as az

    lo, hi = _bounds(level)
    out = []
    for name, v in rows.items():
        by_chain = v.reshape(n_chains, -1)
        out.append({"term": name, "estimate": v.mean(), "sd": v.std(ddof=1),
                    "lower": np.quantile(v, lo), "upper": np.quantile(v, hi),
                    "r_hat": float(az.rhat(by_chain)) if n_chains > 1 else np.nan,
                    "ess_bulk": float(az.ess(by_chain, method="bulk"))})
    return pd.DataFrame(out).set_index("term")


def _reml_summary(model: LongitudinalModel, level: float) -> pd.DataFrame:
    m = model.meta_
    return reml_summary(model.lmm_, model.lmm_names_, m["groups"], m["covariate_names"],
                        model.reference_group_, level, model.spec_.log_outcome)


def _convergence(idata, spec: LongitudinalSpec) -> dict:
    import arviz as az

    names = [v for v in _CORE_VARS if v in idata.posterior]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = az.summary(idata, var_names=names, kind="diagnostics", round_to="none")
    div = int(idata.sample_stats["diverging"].sum()) if "diverging" in idata.sample_stats else 0
    c = spec.convergence
    out = {"max_rhat": float(table["r_hat"].max()),
           "min_ess_bulk": float(table["ess_bulk"].min()),
           "min_ess_tail": float(table["ess_tail"].min()), "divergences": div}
    out["ok"] = bool(out["max_rhat"] <= c["max_rhat"] and out["min_ess_bulk"] >= c["min_ess_bulk"]
                     and out["min_ess_tail"] >= c["min_ess_tail"]
                     and div <= c["max_divergences"])
    out["thresholds"] = dict(c)
    return out


