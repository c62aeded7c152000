"""The longitudinal model's part of the shared NetCDF persistence (:mod:`alsstats.models.base`).

Groups: ``derived`` (always): natural-scale draws of the reported quantities and of
every subject's baseline and slope; for REML/ML fits also the estimates and covariance of
the fixed effects and the conditional modes of the random effects.  Its attributes
carry the shared provenance (:func:`alsstats.models.base.provenance_attrs`: model name,
package version, spec, data hash, convergence) plus this model's layout version, the
estimator's parameters, the data layout (``meta``) and the REML summary.  Bayesian fits
also keep ``posterior`` and ``sample_stats`` (standardised scale, as sampled).
"""

from __future__ import annotations

import json
import os

import numpy as np
import xarray as xr

from alsstats.errors import AlsStatsError
from alsstats.inference.convergence import Convergence, OptimizerConvergence
from alsstats.models.base import provenance_attrs, read_fit
from alsstats.models.lmm.engine import LMMResult
from alsstats.models.longitudinal.spec import LongitudinalSpec

__all__ = ["MODEL_NAME", "from_inference_data", "to_inference_data"]

MODEL_NAME = "longitudinal"
_DIMS = {"intercept": ("group",), "slope": ("group",), "percent_per_time": ("group",),
         "covariate": ("covariate_term",), "site_offset": ("site_id",)}
_FORMAT = "alsstats.longitudinal/2"
_OLD_FORMAT = "alsstats.longitudinal/1"


def to_inference_data(model, posterior=None):
    """The InferenceData of a fitted model (``posterior``: the sampler's output, if Bayesian)."""
    import arviz as az

    meta = model.meta_
    coords = {"group": meta["groups"], "subject": meta["subjects"],
              "covariate_term": meta["covariate_names"], "site_id": meta["sites"]}
    data_vars = {}
    for name, value in model.draws_.items():
        dims = _DIMS.get(name, ("group",) if np.ndim(value) == 2 else ())  # per-group SDs
        data_vars[name] = (("sample", *dims), np.asarray(value))
    for name, value in model.subject_draws_.items():
        data_vars[f"subject_{name}"] = (("sample", "subject"), value)
    lmm = None
    if model.lmm_ is not None:
        f = model.lmm_
        coords.update(term=model.lmm_names_, term2=model.lmm_names_,
                      re=f.random_names, re2=f.random_names, vgroup=f.variance_groups)
        data_vars.update(
            reml_fixed=(("term",), f.fixed), reml_fixed_cov=(("term", "term2"), f.fixed_cov),
            reml_random_cov=(("vgroup", "re", "re2")[3 - f.random_cov.ndim:], f.random_cov),
            reml_gain=(("subject", "re", "term"), f.random_effects_gain),
            reml_df=(("term",), f.df),
            reml_blup=(("subject", "re"), f.random_effects),
            reml_blup_cov=(("subject", "re", "re2"), f.random_effects_cov))
        lmm = {"method": f.method, "sigma": f.sigma, "theta": f.theta.tolist(),
               "deviance": f.deviance, "n_obs": f.n_obs, "n_subjects": f.n_subjects,
               "converged": f.converged, "singular": f.singular, "message": f.message,
               "n_evaluations": f.n_evaluations,
               "varpar_cov": None if f.varpar_cov is None else f.varpar_cov.tolist(),
               "fixed_cov_jac": None if f.fixed_cov_jac is None else f.fixed_cov_jac.tolist(),
               "subject_variance_group": None if f.subject_variance_group is None
               else f.subject_variance_group.tolist()}
    used = {d for v in data_vars.values() for d in v[0]}
    derived = xr.Dataset(data_vars, coords={k: v for k, v in coords.items() if k in used})
    params = model.get_params()
    params["spec"] = None
    params["covariates"] = list(params["covariates"] or ())
    derived.attrs = {**provenance_attrs(model=MODEL_NAME, spec_json=model.spec_.to_json(),
                                        data_hash=model.data_hash_,
                                        convergence_json=json.dumps(model.convergence_.to_dict(),
                                                                    default=float)),
                     "format": _FORMAT, "meta": json.dumps(meta), "params": json.dumps(params),
                     "n_chains": model.n_chains_, "lmm": json.dumps(lmm)}
    groups = {"derived": derived}
    if posterior is not None:
        groups["posterior"] = posterior.posterior
        groups["sample_stats"] = posterior.sample_stats
    return az.InferenceData(**groups)


def from_inference_data(cls, path: str | os.PathLike):
    """A fitted ``cls`` from a file written by :meth:`LongitudinalModel.save`."""
    try:
        idata = read_fit(path, model=MODEL_NAME, group="derived")
    except AlsStatsError as exc:
        if _format_of(path) == _OLD_FORMAT:
            raise AlsStatsError(f"{path}: a longitudinal fit saved in the previous layout "
                                f"({_OLD_FORMAT}); refit it with this version") from exc
        raise
    d = idata.derived
    a = d.attrs
    params = json.loads(a["params"])
    spec = LongitudinalSpec.from_json(a["spec"])
    params["spec"] = spec
    model = cls(**params)
    model.spec_ = spec
    model.meta_ = json.loads(a["meta"])
    model.data_hash_ = a["data_sha256"]
    conv = json.loads(a["convergence"])
    if "optimizer_converged" in conv:
        model.convergence_ = OptimizerConvergence(conv["optimizer_converged"], conv["singular"],
                                                  conv["optimizer_message"])
    else:
        model.convergence_ = Convergence.from_json(a["convergence"])
    model.converged_ = bool(model.convergence_.ok)
    model.n_chains_ = int(a["n_chains"])
    model.draws_ = {k: d[k].values for k in d.data_vars
                    if not k.startswith(("subject_", "reml_"))}
    model.subject_draws_ = {k.removeprefix("subject_"): d[k].values for k in d.data_vars
                            if k.startswith("subject_")}
    model.idata_ = idata
    lmm = json.loads(a["lmm"])
    model.lmm_ = None
    if lmm is not None:
        names = [str(x) for x in d["term"].values]
        model.lmm_names_ = names
        model.lmm_ = LMMResult(
            method=lmm["method"], fixed_names=names, fixed=d["reml_fixed"].values,
            fixed_cov=d["reml_fixed_cov"].values,
            random_names=[str(x) for x in d["re"].values],
            random_cov=d["reml_random_cov"].values, sigma=lmm["sigma"],
            theta=np.asarray(lmm["theta"]), deviance=lmm["deviance"], n_obs=lmm["n_obs"],
            n_subjects=lmm["n_subjects"], converged=lmm["converged"],
            singular=lmm["singular"], message=lmm["message"],
            n_evaluations=lmm["n_evaluations"], subjects=np.asarray(model.meta_["subjects"]),
            random_effects=d["reml_blup"].values, random_effects_cov=d["reml_blup_cov"].values,
            fixed_df=d["reml_df"].values if "reml_df" in d else None,
            varpar_cov=_array(lmm.get("varpar_cov")),
            fixed_cov_jac=_array(lmm.get("fixed_cov_jac")),
            random_effects_gain=d["reml_gain"].values if "reml_gain" in d else None,
            variance_groups=([str(x) for x in d["vgroup"].values] if "vgroup" in d.coords
                             else ["all"]),
            subject_variance_group=_array(lmm.get("subject_variance_group")))
    return model


def _format_of(path) -> str:
    """The ``format`` attribute of a NetCDF file's ``derived`` group ('' if unreadable)."""
    try:
        with xr.open_dataset(path, group="derived") as ds:
            return str(ds.attrs.get("format", ""))
    except (OSError, ValueError):
        return ""
def _array(value) -> np.ndarray | None:
    return None if value is None else np.asarray(value)
