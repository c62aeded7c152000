"""Convergence checks on synthetic chains with known behaviour."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from alsstats.errors import AlsStatsError, ConvergenceWarning
from alsstats.inference.convergence import Convergence, check_convergence, warn_if_not_converged
from alsstats.inference.sampling import SamplingConfig, integer_seed


def _idata(theta, diverging=None):
    stats = {} if diverging is None else {"diverging": diverging}
    return az.from_dict(posterior={"theta": theta}, sample_stats=stats or None)


def test_independent_chains_converge():
    rng = np.random.default_rng(1)
    conv = check_convergence(_idata(rng.normal(size=(2, 1000, 3)),
                                    np.zeros((2, 1000), bool)), ["theta"])
    assert conv.ok and conv.max_rhat < 1.01 and conv.min_ess_bulk > 1500
    assert Convergence.from_json(conv.to_json()) == conv


def test_shifted_chain_fails_rhat_and_warns():
    rng = np.random.default_rng(2)
    theta = rng.normal(size=(2, 1000, 1))
    theta[1] += 1.0                                 # chains disagree: R-hat ~ 1.1
    conv = check_convergence(_idata(theta), ["theta"])
    assert not conv.ok and conv.max_rhat > 1.05
    assert any("R-hat" in p for p in conv.problems())
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        warn_if_not_converged(conv)


def test_divergences_and_autocorrelation_fail():
    rng = np.random.default_rng(3)
    walk = np.cumsum(rng.normal(size=(2, 1000, 1)), axis=1)   # random walk: tiny ESS
    div = np.zeros((2, 1000), bool)
    div[0, 5] = True
    conv = check_convergence(_idata(walk, div), ["theta"])
    assert conv.divergences == 1 and conv.min_ess_bulk < 200 and not conv.ok
    assert any("divergent" in p for p in conv.problems())


def test_variational_fit_is_never_converged():
    conv = check_convergence(_idata(np.zeros((1, 10, 1))), ["theta"], approximate=True)
    assert not conv.ok and "variational" in conv.problems()[0]


def test_sampling_config_and_seeds():
    with pytest.raises(AlsStatsError):
        SamplingConfig(draws=-1)
    assert SamplingConfig(sampler="advi").approximate
    assert integer_seed(5) == integer_seed(5)
    assert integer_seed(np.random.SeedSequence(5)) == integer_seed(np.random.SeedSequence(5))
