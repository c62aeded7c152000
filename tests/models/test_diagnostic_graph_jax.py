"""The diagnostic graph traces for JAX whatever the number of markers (issue 11)."""

import numpy as np
import pytest
from pytensor.graph.basic import Constant

from alsstats.inference.sampling import compile_nutpie
from alsstats.models.diagnostic.spec import DiagnosticSpec, default_spec
from alsstats.testing.recovery import default_truth, simulate_diagnostic_cohort
from tests.models.conftest import diagnostic_graph


def _model(markers, covariance="class_sd"):
    d = default_spec().to_dict()
    d["markers"] = {k: v for k, v in d["markers"].items() if k in markers}
    d["model"]["covariance"] = covariance
    spec = DiagnosticSpec.from_dict(d)
    cohort = simulate_diagnostic_cohort(default_truth(spec, n_sites=3, seed=5), 40, seed=6)
    return diagnostic_graph(spec, cohort)[3]


@pytest.mark.parametrize(("markers", "covariance"), [
    (("nfl_pg_ml",), "class_sd"), (("nfl_pg_ml",), "shared"), (("nfl_pg_ml",), "per_class"),
    (tuple(default_spec().marker_names), "class_sd")])
def test_jax_graph_has_only_constant_shapes(markers, covariance):
    # JAX traces shapes as values, so a shape computed from the data in the graph fails
    # to compile, or not, depending on PyTensor's rewrite order: 1 of 3 NfL-only fits
    # failed with an Alloc of shape (rows, 1, 1); with the data's shapes declared, no
    # shape-taking op of the log-density and gradient has a computed shape.
    fgraph = _model(markers, covariance).logp_dlogp_function(
        ravel_inputs=True, mode="JAX")._pytensor_function.maker.fgraph
    computed = [str(node) for node in fgraph.apply_nodes
                if type(node.op).__name__ in ("Alloc", "Reshape", "Split")
                and not all(isinstance(i, Constant) for i in node.inputs[1:])]
    assert computed == []


@pytest.mark.sampling
def test_nutpie_jax_log_density_of_one_marker_matches_pytensor(jax_installed):
    # What nutpie samples with backend "jax" (the default for one fit) is the same
    # log-density and gradient as PyTensor's default backend.
    model = _model(("nfl_pg_ml",))
    compiled = compile_nutpie(model, "jax", freeze_model=False)
    logp_jax = compiled._make_logp_func()
    logp_ref, dlogp_ref = model.compile_logp(), model.compile_dlogp()
    point, rng = model.initial_point(), np.random.default_rng(1)
    for _ in range(3):
        values = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in point.items()}
        # nutpie ravels the value variables in the model's order
        x = np.concatenate([values[v.name].ravel() for v in model.value_vars])
        logp, grad = logp_jax(x, **compiled._shared_data)
        # the same double-precision arithmetic on two backends
        assert logp == pytest.approx(float(logp_ref(values)), rel=1e-10)
        np.testing.assert_allclose(grad, dlogp_ref(values), rtol=1e-9, atol=1e-10)
