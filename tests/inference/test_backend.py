"""Choice of nutpie's compile backend and the cache folder (no compilation here)."""

import pytest

from alsstats.errors import AlsStatsError
from alsstats.inference import sampling
from alsstats.inference.sampling import SamplingConfig, cache_dir, resolve_backend


@pytest.fixture
def no_override(monkeypatch):
    monkeypatch.delenv("ALSSTATS_BACKEND", raising=False)


def test_auto_is_jax_for_one_fit_and_numba_for_refits(no_override, monkeypatch):
    monkeypatch.setattr(sampling, "jax_available", lambda: True)
    assert resolve_backend("auto") == "jax"
    assert resolve_backend("auto", refits=True) == "numba"
    assert resolve_backend("numba") == "numba"
    assert resolve_backend("jax", refits=True) == "jax"


def test_auto_without_jax_is_numba_and_explicit_jax_says_how_to_install(no_override,
                                                                        monkeypatch):
    monkeypatch.setattr(sampling, "jax_available", lambda: False)
    assert resolve_backend("auto") == "numba"
    with pytest.raises(AlsStatsError, match=r"alsstats\[jax\]"):
        resolve_backend("jax")


def test_environment_overrides_auto_only(monkeypatch):
    monkeypatch.setattr(sampling, "jax_available", lambda: True)
    monkeypatch.setenv("ALSSTATS_BACKEND", "numba")
    assert resolve_backend("auto") == "numba"
    assert resolve_backend("jax") == "jax"
    monkeypatch.setenv("ALSSTATS_BACKEND", "cuda")
    with pytest.raises(AlsStatsError, match="ALSSTATS_BACKEND must be one of"):
        resolve_backend("auto")


def test_bad_backend_is_rejected():
    with pytest.raises(AlsStatsError, match="backend must be one of"):
        resolve_backend("tensorflow")
    with pytest.raises(AlsStatsError, match="backend must be one of"):
        SamplingConfig(backend="tensorflow")


def test_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ALSSTATS_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("ALSSTATS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "alsstats"


@pytest.mark.sampling
def test_jax_backend_same_seed_same_draws_and_data_swap(jax_installed, monkeypatch, tmp_path):
    # A conjugate normal mean (known sigma 1, prior N(0, 10^2)): posterior mean
    # sum(y) / (n + 1/100); with n = 50 its posterior SD is 0.14, and 2 x 300 draws put
    # the sample mean within 0.1 of it (about 5 Monte Carlo SE).
    import numpy as np
    import pymc as pm

    from alsstats.inference.sampling import CompiledSampler, swappable_data

    monkeypatch.setenv("ALSSTATS_CACHE_DIR", str(tmp_path))
    y = np.random.default_rng(0).normal(1.0, 1.0, 50)
    with pm.Model() as model:
        data = pm.Data("y", y)
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Normal("obs", mu, 1.0, observed=data)
    sampler = CompiledSampler(model, SamplingConfig(draws=300, tune=300, backend="jax"))
    assert sampler.backend == "jax" and "y" in swappable_data(sampler._compiled)
    first, again = sampler.sample(7), sampler.sample(7)
    np.testing.assert_array_equal(first.posterior["mu"], again.posterior["mu"])
    exact = y.sum() / (len(y) + 1e-2)
    assert float(first.posterior["mu"].mean()) == pytest.approx(exact, abs=0.1)
    shifted = sampler.sample(7, {"y": y + 3.0})
    assert float(shifted.posterior["mu"].mean()) == pytest.approx(exact + 3.0 * 50 / 50.01,
                                                                 abs=0.1)


def test_refit_reuses_the_compiled_model_unless_another_backend_is_named(monkeypatch):
    from alsstats.models import base

    compiled = []

    class FakeSampler:            # records compiles; no PyMC model needed
        def __init__(self, model, config, *, refits=False):
            self.backend = "jax" if config.backend == "auto" else config.backend
            compiled.append(self.backend)

        def with_config(self, config):
            return self

    monkeypatch.setattr(base, "CompiledSampler", FakeSampler)
    estimator = base.BayesianEstimator()
    for backend in ("auto", "auto", "jax", "numba", "auto"):
        estimator._compiled_sampler("structure", lambda: None, SamplingConfig(backend=backend))
    assert compiled == ["jax", "numba"]      # "auto" and the cached backend reuse


@pytest.mark.slow
@pytest.mark.sampling
def test_numba_and_jax_posteriors_agree(jax_installed, monkeypatch, tmp_path):
    # The conjugate normal mean of the test above: both backends' posterior means lie
    # within 0.1 of the exact one and of each other (about 5 Monte Carlo SE), and their
    # posterior SDs within 15% of the exact 0.1414.
    import numpy as np
    import pymc as pm

    from alsstats.inference.sampling import CompiledSampler

    monkeypatch.setenv("ALSSTATS_CACHE_DIR", str(tmp_path))
    y = np.random.default_rng(0).normal(1.0, 1.0, 50)
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Normal("obs", mu, 1.0, observed=pm.Data("y", y))
    exact_mean, exact_sd = y.sum() / (len(y) + 1e-2), (len(y) + 1e-2) ** -0.5
    draws = {b: CompiledSampler(model, SamplingConfig(draws=500, tune=500, backend=b))
             .sample(3).posterior["mu"].values.ravel() for b in ("numba", "jax")}
    for d in draws.values():
        assert d.mean() == pytest.approx(exact_mean, abs=0.1)
        assert d.std() == pytest.approx(exact_sd, rel=0.15)
    assert draws["numba"].mean() == pytest.approx(draws["jax"].mean(), abs=0.1)


@pytest.mark.sampling
def test_jax_backend_caches_compiled_code_on_disk(jax_installed, tmp_path):
    # In a fresh process, as every CLI call is: JAX reads its cache folder once per
    # process, so an in-process check depends on whether an earlier test compiled first.
    import os
    import subprocess
    import sys

    code = ("import pymc as pm\n"
            "from alsstats.inference.sampling import CompiledSampler, SamplingConfig\n"
            "with pm.Model() as model:\n"
            "    pm.Normal('mu', 0.0, 1.0)\n"
            "CompiledSampler(model, SamplingConfig(draws=10, tune=10, backend='jax')).sample(1)\n")
    env = {**os.environ, "ALSSTATS_CACHE_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=600)
    assert any((tmp_path / "jax").iterdir())            # XLA executables cached on disk
