"""Save and load longitudinal fits as NetCDF (ArviZ InferenceData), never pickle.

Groups: ``posterior`` and ``sample_stats`` (Bayesian fits, standardised scale, as
sampled) and ``derived``: natural-scale draws of the reported quantities and of every
subject's baseline and slope; for REML/ML fits also the estimates and covariance of the
fixed effects and the conditional modes of the random effects.  The ``derived`` group's
attributes carry the provenance: alsstats version, the spec (canonical JSON), the
SHA-256 of the data columns used, the estimator's parameters and the convergence checks.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import xarray as xr

from alsstats._version import __version__
from alsstats.errors import SpecError
from alsstats.models.lmm.engine import LMMResult
from alsstats.models.longitudinal.spec import LongitudinalSpec

__all__ = ["from_inference_data", "to_inference_data"]

_DIMS = {"intercept": ("group",), "slope": ("group",), "percent_per_time": ("group",),
         "covariate": ("covariate_term",), "site_offset": ("site_id",)}
_FORMAT = "alsstats.longitudinal/1"


def to_inference_data(model):
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
    derived.attrs = {"format": _FORMAT, "alsstats_version": __version__,
                     "spec": model.spec_.to_json(), "data_hash": model.data_hash_,
                     "meta": json.dumps(meta), "params": json.dumps(params),
                     "convergence": json.dumps(model.convergence_, default=float),
                     "n_chains": model.n_chains_, "lmm": json.dumps(lmm)}
    groups = {"derived": derived}
    if model.idata_ is not None:
        groups["posterior"] = model.idata_.posterior
        groups["sample_stats"] = model.idata_.sample_stats
    return az.InferenceData(**groups)


def from_inference_data(cls, path: str | os.PathLike):
    import arviz as az

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        idata = az.from_netcdf(str(path))
    except (OSError, ValueError) as exc:
        raise SpecError(f"{path}: not a NetCDF fit file: {exc}") from exc
    if "derived" not in idata.groups() or idata.derived.attrs.get("format") != _FORMAT:
        raise SpecError(f"{path}: not a longitudinal fit written by alsstats")
    d = idata.derived
    a = d.attrs
    params = json.loads(a["params"])
    spec = LongitudinalSpec.from_json(a["spec"])
    params["spec"] = spec
    model = cls(**params)
    model.spec_ = spec
    model.meta_ = json.loads(a["meta"])
    model.data_hash_ = a["data_hash"]
    model.convergence_ = json.loads(a["convergence"])
    model.converged_ = bool(model.convergence_["ok"])
    model.n_chains_ = int(a["n_chains"])
    model.draws_ = {k: d[k].values for k in d.data_vars
                    if not k.startswith(("subject_", "reml_"))}
    model.subject_draws_ = {k.removeprefix("subject_"): d[k].values for k in d.data_vars
                            if k.startswith("subject_")}
    model.idata_ = None
    if "posterior" in idata.groups():
        model.idata_ = az.InferenceData(posterior=idata.posterior,
                                        sample_stats=idata.sample_stats)
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


def _array(value) -> np.ndarray | None:
    return None if value is None else np.asarray(value)
