"""Sampling configuration and backends.

``"nutpie"`` (default) compiles the PyMC model once; later data sets reuse the
compiled model through ``compiled.with_data`` (shapes must not change).  nutpie
compiles either with numba or with JAX (:func:`compile_nutpie`):

* ``backend="numba"``: the fastest gradient (diagnostic model 0.48 ms against
  0.74 ms with JAX; longitudinal 0.05 against 0.45 ms), so it wins whenever one
  compiled model is refitted many times in a process (``fit_many``, simulation-based
  calibration, loops that pass ``reuse``).  Its compile is slow: 114–180 s with an
  empty cache on a 2-core machine, 25–30 s with a warm PyTensor cache (nutpie's own
  wrappers recompile in every process).
* ``backend="jax"`` (with PyTensor's gradient graph): compiles in about 7 s, and
  XLA's executables are kept in a persistent cache (:func:`cache_dir`), so a
  first fit in a fresh process is quick.  Needs the optional ``jax`` extra.
* ``backend="auto"`` (default): ``"jax"`` for a single fit when JAX is installed,
  ``"numba"`` for refits and when it is not.  The environment variable
  ``ALSSTATS_BACKEND`` (``numba`` or ``jax``) overrides ``"auto"``.

The same seed with the same backend gives the same draws; the two backends agree
within Monte Carlo error but not to the last digit, so every fit records its
backend.  ``"pymc"`` is PyMC's own
NUTS (the fallback).  ``"advi"`` is mean-field ADVI: an explicit fast option
for loops only; its posterior SDs were 2.5–8× too small on the diagnostic
model (shared PyMC notes), so fits made with it are flagged ``approximate``
and never count as converged.  Pathfinder needs ``pymc-extras``, which is not a
dependency of alsstats, so it is not offered.

Every run happens inside :func:`~alsstats.inference.threads.single_threaded_blas`.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import importlib.util
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import arviz as az
import numpy as np
import pymc as pm

from alsstats._choices import BACKENDS, SAMPLERS
from alsstats.errors import AlsStatsError
from alsstats.inference.threads import single_threaded_blas
from alsstats.random import as_generator

__all__ = ["BACKENDS", "SAMPLERS", "CompiledSampler", "SamplingConfig", "cache_dir",
           "compile_nutpie", "integer_seed", "jax_available", "resolve_backend",
           "sampler_progress", "swappable_data"]


def cache_dir() -> Path:
    """The user cache folder of alsstats.

    Returns
    -------
    Path
        ``$ALSSTATS_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/alsstats``, else
        ``~/.cache/alsstats``.
    """
    explicit = os.environ.get("ALSSTATS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "alsstats"


def jax_available() -> bool:
    """True when the optional JAX backend can be imported (``pip install 'alsstats[jax]'``)."""
    return importlib.util.find_spec("jax") is not None


def resolve_backend(backend: str = "auto", *, refits: bool = False) -> str:
    """The nutpie backend to compile with.

    Parameters
    ----------
    backend
        ``"numba"``, ``"jax"`` or ``"auto"``; ``"auto"`` (or ``$ALSSTATS_BACKEND``
        when set to ``numba`` or ``jax``) picks JAX for a single fit when it is
        installed and numba for refits (``refits=True``) or when JAX is absent.
    refits
        Whether the compiled model will sample more than one data set.

    Returns
    -------
    str
        ``"numba"`` or ``"jax"``.
    """
    if backend not in BACKENDS:
        raise AlsStatsError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if backend == "auto":
        backend = os.environ.get("ALSSTATS_BACKEND", "auto") or "auto"
        if backend not in BACKENDS:
            raise AlsStatsError(f"ALSSTATS_BACKEND must be one of {', '.join(BACKENDS)}; "
                                f"got {backend!r}")
    if backend == "auto":
        return "jax" if jax_available() and not refits else "numba"
    if backend == "jax" and not jax_available():
        raise AlsStatsError("backend 'jax' needs JAX: pip install 'alsstats[jax]'")
    return backend


def _enable_jax_cache() -> None:
    """Point JAX's persistent compilation cache at ``cache_dir()/jax`` (every compile kept)."""
    import jax

    folder = cache_dir() / "jax"
    folder.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def swappable_data(compiled) -> frozenset[str]:
    """Names of the data a nutpie compiled model accepts in ``with_data``.

    numba-compiled models list them in ``shared_data``; JAX-compiled ones
    (``PyFuncModel``) keep the same mapping as ``_shared_data``.  nutpie keeps only
    the data containers the graph uses (e.g. not an empty covariate matrix).
    """
    names = getattr(compiled, "shared_data", None)
    if names is None:
        names = getattr(compiled, "_shared_data", {})
    return frozenset(names)


def compile_nutpie(model: pm.Model, backend: str = "numba", **kwargs):
    """Compile a PyMC model for nutpie.

    Parameters
    ----------
    model
        The PyMC model.
    backend
        ``"numba"`` or ``"jax"``.  JAX compiles use PyTensor's gradient graph (JAX's own
        autodiff was slower) and JAX's persistent compilation cache under
        :func:`cache_dir`.
    **kwargs
        Passed to ``nutpie.compile_pymc_model``.

    Returns
    -------
    nutpie compiled model
    """
    import nutpie

    if backend not in ("numba", "jax"):
        raise AlsStatsError(f"compile backend must be 'numba' or 'jax'; got {backend!r}")
    with single_threaded_blas(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")
        if backend == "jax":
            # PyTensor drops its shape assertions when tracing for JAX; nutpie checks
            # the data shapes itself, so the notice only confuses users.
            warnings.filterwarnings("ignore", message=".*as JAX tracing would remove it.*")
            _enable_jax_cache()
            return nutpie.compile_pymc_model(model, backend="jax",
                                             gradient_backend="pytensor", **kwargs)
        return nutpie.compile_pymc_model(model, **kwargs)


@dataclass(frozen=True)
class SamplingConfig:
    """How to sample: draws and tuning steps per chain, chains, sampler, NUTS target
    acceptance (higher: smaller steps, fewer divergences in funnels), ADVI iterations
    and nutpie's compile backend (``"auto"``, ``"numba"``, ``"jax"``; see the module doc)."""

    draws: int = 1000
    tune: int = 1000
    chains: int = 2
    sampler: str = "nutpie"
    target_accept: float = 0.8
    advi_iterations: int = 30_000
    backend: str = "auto"

    def __post_init__(self) -> None:
        for name in ("draws", "tune", "chains", "advi_iterations"):
            value = getattr(self, name)
            low = 0 if name == "tune" else 1
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise AlsStatsError(f"{name} must be an integer >= {low}; got {value!r}")
        if not 0 < self.target_accept < 1:
            raise AlsStatsError(f"target_accept must be in (0, 1); got {self.target_accept!r}")
        if self.sampler not in SAMPLERS:
            raise AlsStatsError(f"sampler must be one of {', '.join(SAMPLERS)}; "
                                f"got {self.sampler!r}")
        if self.backend not in BACKENDS:
            raise AlsStatsError(f"backend must be one of {', '.join(BACKENDS)}; "
                                f"got {self.backend!r}")

    @property
    def approximate(self) -> bool:
        """True for variational fits (not MCMC)."""
        return self.sampler == "advi"


_PROGRESS: contextvars.ContextVar[bool] = contextvars.ContextVar("sampler_progress",
                                                                 default=False)


@contextlib.contextmanager
def sampler_progress(enabled: bool = True):
    """Show the sampler's own progress display (nutpie's, PyMC's) inside this block.

    Off by default, so library calls and tests stay silent; the CLI turns it on for an
    interactive terminal unless ``--quiet``.
    """
    token = _PROGRESS.set(bool(enabled))
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def integer_seed(seed) -> int:
    """A 32-bit integer seed for a sampler, derived once from any seed-like value."""
    if isinstance(seed, np.random.SeedSequence):
        return int(seed.generate_state(1)[0])
    return int(as_generator(seed).integers(2**32 - 1))


class CompiledSampler:
    """A PyMC model compiled once for a backend; :meth:`sample` runs it on new data.

    Parameters
    ----------
    model
        The PyMC model, built on ``pm.Data`` containers of fixed shape.
    config
        The sampling configuration.
    refits
        Whether more than one data set will be sampled (``backend="auto"`` then compiles
        with numba, whose gradient is faster once compiled).
    fixed_start
        Free variables whose chains start exactly at their initial value (nutpie jitters
        every other one): a mixture's class means, which pick the mode of the class
        labels (:mod:`alsstats.models.diagnostic.latent`).

    Attributes
    ----------
    backend : str
        The compile backend used (``"numba"``, ``"jax"``), or the sampler's name for
        ``"pymc"`` and ``"advi"``.
    reused : bool
        True on copies made by :meth:`with_config` (no compiling).
    compile_seconds : float
        Wall time of the compile.
    sampling_seconds : list of float
        Wall time of each :meth:`sample` call.
    """

    def __init__(self, model: pm.Model, config: SamplingConfig, *, refits: bool = False,
                 fixed_start: tuple[str, ...] = ()):
        self.model = model
        self.config = config
        self._compiled = None
        self.reused = False
        self.compile_seconds = 0.0
        self.sampling_seconds: list[float] = []
        self.backend = config.sampler
        start = time.perf_counter()
        if config.sampler == "nutpie":
            self.backend = resolve_backend(config.backend, refits=refits)
            jitter = ({"jitter_rvs": {rv for rv in model.free_RVs if rv.name not in fixed_start}}
                      if fixed_start else {})
            self._compiled = compile_nutpie(model, self.backend, freeze_model=False, **jitter)
        self.compile_seconds = time.perf_counter() - start

    def timing(self, *, compiled: bool = True) -> dict:
        """``compile_seconds`` (0 unless ``compiled``: the compile was charged to an
        earlier fit), ``sampling_seconds`` of the last run and the ``backend``."""
        return {"compile_seconds": self.compile_seconds if compiled else 0.0,
                "sampling_seconds": self.sampling_seconds[-1], "backend": self.backend}

    def with_config(self, config: SamplingConfig) -> CompiledSampler:
        """This compiled model with other sampling settings (same backend, no recompiling)."""
        if config.sampler != self.config.sampler:
            raise AlsStatsError(f"a model compiled for {self.config.sampler!r} cannot sample "
                                f"with {config.sampler!r}")
        other = copy.copy(self)
        other.config = config
        other.sampling_seconds = []
        other.reused = True
        return other

    def sample(self, seed: int, data: dict[str, np.ndarray] | None = None) -> az.InferenceData:
        """Sample the posterior (with ``data`` swapped into the ``pm.Data`` containers).

        The wall time of each call is appended to ``sampling_seconds`` (for
        ``"pymc"`` and ``"advi"`` it includes PyMC's own compilation).
        """
        start = time.perf_counter()
        idata = self._sample(seed, data)
        self.sampling_seconds.append(time.perf_counter() - start)
        return idata

    def _sample(self, seed: int, data: dict[str, np.ndarray] | None) -> az.InferenceData:
        cfg = self.config
        with single_threaded_blas(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")
            if cfg.sampler == "nutpie":
                import nutpie

                swappable = swappable_data(self._compiled)
                used = {k: v for k, v in (data or {}).items() if k in swappable}
                compiled = self._compiled.with_data(**used) if used else self._compiled
                return nutpie.sample(compiled, draws=cfg.draws, tune=cfg.tune,
                                     chains=cfg.chains, cores=min(cfg.chains, os.cpu_count() or 1),
                                     seed=seed, progress_bar=_PROGRESS.get(),
                                     save_warmup=False, target_accept=cfg.target_accept)
            with self.model:
                if data:
                    pm.set_data(data)
                if cfg.sampler == "pymc":
                    warnings.filterwarnings("ignore", message=".*recommend running at least 4.*")
                    return pm.sample(draws=cfg.draws, tune=cfg.tune, chains=cfg.chains,
                                     cores=min(cfg.chains, os.cpu_count() or 1),
                                     random_seed=seed, nuts_sampler="pymc",
                                     progressbar=_PROGRESS.get(),
                                     compute_convergence_checks=False,
                                     target_accept=cfg.target_accept)
                approx = pm.fit(n=cfg.advi_iterations, method="advi", random_seed=seed,
                                progressbar=_PROGRESS.get())
                return approx.sample(draws=cfg.draws, random_seed=seed)
