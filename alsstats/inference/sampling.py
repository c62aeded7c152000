"""Sampling configuration and backends.

``"nutpie"`` (default) compiles the PyMC model once with nutpie's numba
backend; later data sets reuse the compiled model through
``compiled.with_data`` (shapes must not change).  ``"pymc"`` is PyMC's own
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
import os
import time
import warnings
from dataclasses import dataclass

import arviz as az
import numpy as np
import pymc as pm

from alsstats._choices import SAMPLERS
from alsstats.errors import AlsStatsError
from alsstats.inference.threads import single_threaded_blas
from alsstats.random import as_generator

__all__ = ["SAMPLERS", "CompiledSampler", "SamplingConfig", "integer_seed",
           "sampler_progress"]


@dataclass(frozen=True)
class SamplingConfig:
    """How to sample: draws and tuning steps per chain, chains, sampler, NUTS target
    acceptance (higher: smaller steps, fewer divergences in funnels) and ADVI iterations."""

    draws: int = 1000
    tune: int = 1000
    chains: int = 2
    sampler: str = "nutpie"
    target_accept: float = 0.8
    advi_iterations: int = 30_000

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
    """

    def __init__(self, model: pm.Model, config: SamplingConfig):
        self.model = model
        self.config = config
        self._compiled = None
        self.reused = False           # True on copies made by with_config (no compiling)
        self.compile_seconds = 0.0
        self.sampling_seconds: list[float] = []
        start = time.perf_counter()
        if config.sampler == "nutpie":
            import nutpie

            with single_threaded_blas(), warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")
                self._compiled = nutpie.compile_pymc_model(model, freeze_model=False)
        self.compile_seconds = time.perf_counter() - start

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

                # nutpie keeps only the data containers the graph uses (e.g. not an
                # empty covariate matrix); the others cannot be swapped.
                used = {k: v for k, v in (data or {}).items()
                        if k in self._compiled.shared_data}
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
