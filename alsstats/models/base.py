"""The contract shared by alsstats' Bayesian estimators, and NetCDF persistence with provenance.

Estimators follow scikit-learn's rules: ``__init__`` only stores its arguments,
``fit`` returns ``self``, learned state ends in ``_``, and
:func:`sklearn.base.clone` works.  The PyMC graph is compiled once per estimator
and structure (:meth:`BayesianEstimator._compiled_sampler`): refitting the same
estimator to data of the same structure swaps the data into the compiled model;
there is no module-global cache.  Convergence is judged by one policy
(:mod:`alsstats.inference.convergence`), set in each model's spec.  A fit is
saved as an ArviZ ``InferenceData`` NetCDF file (never pickle) whose provenance
group (``posterior`` for the diagnostic model, ``derived`` for the longitudinal
model, which has no posterior when fitted by REML) carries in its attributes
the model name, the package version, the model spec (canonical JSON), the
SHA-256 of the training data and the convergence summary.  The contract is
written out in ``docs/models/contract.md``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from pathlib import Path

import arviz as az
import pandas as pd
from sklearn.base import BaseEstimator

from alsstats._files import atomic_path
from alsstats._version import __version__
from alsstats.errors import AlsStatsError, NotFittedError, SpecError
from alsstats.inference.sampling import CompiledSampler, SamplingConfig

__all__ = ["BayesianEstimator", "data_sha256", "provenance_attrs", "read_fit", "write_fit"]

_PROVENANCE_KEYS = ("alsstats_model", "alsstats_version", "spec", "data_sha256", "convergence",
                    "created")


def data_sha256(df: pd.DataFrame) -> str:
    """SHA-256 of a table's content (columns, then rows as CSV), independent of the index."""
    text = df.to_csv(index=False, lineterminator="\n", float_format="%.17g")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def provenance_attrs(*, model: str, spec_json: str, data_hash: str,
                     convergence_json: str) -> dict[str, str]:
    """The provenance attributes every saved fit carries."""
    return {"alsstats_model": model, "alsstats_version": __version__, "spec": spec_json,
            "data_sha256": data_hash, "convergence": convergence_json,
            "created": datetime.now(UTC).isoformat(timespec="seconds")}


def write_fit(idata: az.InferenceData, path: str | os.PathLike, *,
              group: str = "posterior") -> Path:
    """Write a fit (with provenance attributes on ``group``) to NetCDF atomically."""
    attrs = idata[group].attrs if group in idata.groups() else {}
    missing = [k for k in _PROVENANCE_KEYS if k not in attrs]
    if missing:
        raise AlsStatsError(f"cannot save a fit without provenance ({', '.join(missing)})")
    target = Path(path)
    with atomic_path(target) as tmp:
        idata.to_netcdf(str(tmp))
    return target


def read_fit(path: str | os.PathLike, *, model: str,
             group: str = "posterior") -> az.InferenceData:
    """Read a saved fit and check it is an alsstats ``model`` fit (provenance on ``group``);
    raise :class:`~alsstats.errors.AlsStatsError` on anything else."""
    p = Path(path)
    if not p.is_file():
        raise AlsStatsError(f"{p}: saved model not found")
    try:
        idata = az.from_netcdf(str(p))
    except Exception as exc:  # any reader failure on an untrusted file: damaged or not NetCDF
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise AlsStatsError(f"{p}: not a readable NetCDF model file ({reason})") from None
    attrs = idata[group].attrs if group in idata.groups() else {}
    missing = [k for k in _PROVENANCE_KEYS if k not in attrs]
    if missing:
        raise AlsStatsError(f"{p}: not an alsstats fit (missing {', '.join(missing)})")
    if attrs["alsstats_model"] != model:
        raise SpecError(f"{p}: holds a {attrs['alsstats_model']!r} fit, not {model!r}")
    return idata


class BayesianEstimator(BaseEstimator):
    """Base of alsstats' Bayesian models: compiled-sampler reuse, the fitted check and
    provenance accessors.  ``_provenance_group`` names the InferenceData group whose
    attributes hold the provenance."""

    _provenance_group = "posterior"

    def _compiled_sampler(self, key: Hashable, build: Callable[[], object],
                          config: SamplingConfig,
                          reuse: BayesianEstimator | None = None) -> CompiledSampler:
        """The sampler compiled for structure ``key`` (``build()`` gives the PyMC model).

        Kept on the estimator (``clone`` starts afresh).  A refit with the same ``key``
        and sampler reuses the compiled model with ``config``'s draws, tuning and
        target acceptance; so does a fit given ``reuse``, another estimator of the same
        class already fitted to the same structure.  Any other ``key``, or a compile
        backend other than the cached one named in ``config.backend`` (``"auto"``
        accepts either), compiles anew.
        """
        if reuse is not None and type(reuse) is not type(self):
            raise AlsStatsError(f"reuse must be a {type(self).__name__}; got "
                                f"{type(reuse).__name__}")
        for source in (self, reuse):
            cached = getattr(source, "_sampler_cache", None)
            if (cached is not None and cached[0] == (key, config.sampler)
                    and config.backend in ("auto", cached[1].backend)):
                self._sampler_cache = cached
                return cached[1].with_config(config)
        sampler = CompiledSampler(build(), config)
        self._sampler_cache = ((key, config.sampler), sampler)
        return sampler

    def _check_fitted(self) -> None:
        if not hasattr(self, "idata_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit "
                                 "(or load a saved fit) first")

    @property
    def provenance_(self) -> dict[str, str]:
        """Model, package version, spec, training-data hash and convergence of the fit."""
        self._check_fitted()
        attrs = self.idata_[self._provenance_group].attrs
        return {k: str(v) for k, v in attrs.items() if k in _PROVENANCE_KEYS}
