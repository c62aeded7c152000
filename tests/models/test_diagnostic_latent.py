"""Latent-class diagnostic model: indicator, priors, likelihood and accuracy (issue 15).

The recovery study (coverage of NfL's accuracy with 20% of labels wrong) is in the slow
tier (tests/models/test_diagnostic_latent_recovery.py) and benchmarks/bench_latent_class.py.
"""

import itertools
import json
import math

import arviz as az
import numpy as np
import pandas as pd
import pytensor.tensor as pt
import pytest
import xarray as xr
from pymc.model.transform.conditioning import remove_value_transforms
from scipy import stats
from scipy.special import logsumexp

from alsstats.errors import AlsStatsError, SpecError
from alsstats.inference.convergence import check_convergence
from alsstats.models.diagnostic.accuracy import label_accuracy, marker_accuracy
from alsstats.models.diagnostic.data import baseline_table, class_labels
from alsstats.models.diagnostic.graph import free_variable_names, symmetrised_record_prior
from alsstats.models.diagnostic.latent import (
    indicator_codes,
    indicator_levels,
    level_classes,
    recorded_class_prior,
)
from alsstats.models.diagnostic.model import DiagnosticModel
from alsstats.models.diagnostic.relabel import class_permutations, relabel_posterior
from alsstats.models.diagnostic.spec import DiagnosticSpec, default_spec
from alsstats.simulate import simulate_cohort
from tests.models.conftest import diagnostic_graph, values_at_random_point


def _latent_spec(**model):
    d = default_spec().to_dict()
    d["model"].update({"reference": "latent", **model})
    return DiagnosticSpec.from_dict(d)


def test_spec_reference_is_checked():
    assert default_spec().reference == "labels"
    assert _latent_spec().to_dict()["model"]["reference"] == "latent"
    with pytest.raises(SpecError, match="reference must be one of labels, latent"):
        _latent_spec(reference="silver")
    with pytest.raises(SpecError, match="needs missingness = 'ignore'"):
        _latent_spec(missingness="class")


def test_indicator_levels_split_als_by_el_escorial_in_class_order():
    spec = _latent_spec()            # classes ALS, MIMIC, HC; PMA counted as ALS
    groups = np.array(["HC", "ALS", "ALS", "PMA", "MIMIC", "ALS", "ALS"])
    ee = np.array([None, "definite", "possible", None, None, None, "possible"], dtype=object)
    labels = np.array([2, 0, 0, 0, 1, 0, -1])
    levels = indicator_levels(groups, ee, labels, spec)
    assert levels == ("ALS:possible", "ALS:definite", "ALS:unrecorded", "PMA", "MIMIC", "HC")
    assert level_classes(levels, spec).tolist() == [0, 0, 0, 0, 1, 2]
    assert indicator_codes(groups, ee, labels, levels).tolist() == [5, 1, 0, 3, 4, 2, -1]


def test_recorded_class_prior_mean_agreement():
    prior = recorded_class_prior(_latent_spec())
    # Dirichlet(8, 1, 1) rows: prior mean P(recorded as itself) = 8 / 10
    np.testing.assert_array_equal(prior, [[8, 1, 1], [1, 8, 1], [1, 1, 8]])
    assert (np.diag(prior) / prior.sum(axis=1)).tolist() == [0.8] * 3


def test_latent_likelihood_is_the_class_sum_of_the_markers_and_indicator():
    # Exact identity at a random point: the Potential equals
    # sum_i log sum_k pi_k Lambda[k, r_i] N(y_io | mean_k, Sigma_k,oo), computed here
    # with scipy on the same parameters (covariates and sites included).
    spec = _latent_spec(classes=["ALS", "HC"])
    data, _ = simulate_cohort("default", seed=4, label_error=0.2,
                              n_per_group={"ALS": 20, "HC": 20, "PMA": 0, "MIMIC": 0})
    prepared, arrays, codes, model = diagnostic_graph(spec, data)
    values, potential = values_at_random_point(
        model, ["mu", "B", "u", "Sigma", "class_share", "indicator_prob"])
    design = prepared.design
    total = 0.0
    for i in np.flatnonzero(arrays["weight"][:len(design.y)] > 0):
        o = np.isfinite(design.y[i])
        terms = []
        for k in range(len(spec.classes)):
            mean = values["mu"][k] + design.x[i] @ values["B"] + values["u"][design.site[i]]
            cov = values["Sigma"][k][np.ix_(o, o)]
            terms.append(np.log(values["class_share"][k])
                         + np.log(values["indicator_prob"][k, codes[i]])
                         + stats.multivariate_normal(mean[o], cov).logpdf(design.y[i, o]))
        total += logsumexp(terms)
    assert potential == pytest.approx(total, rel=1e-10)


def test_recorded_accuracy_is_the_count_with_jeffreys_intervals(diag_fit, diag_train):
    result = marker_accuracy(diag_fit, diag_train, "nfl_pg_ml", 20.0)
    assert result.table["reference"].tolist() == ["recorded"]   # labels are the reference
    base = baseline_table(diag_train)
    labels = class_labels(base, diag_fit.spec_)
    v = base["nfl_pg_ml"].to_numpy()
    has = np.isfinite(v) & (labels >= 0)
    als, pos = labels[has] == 0, v[has] > 20.0
    x, n = int((als & pos).sum()), int(als.sum())
    row = result.table.iloc[0]
    assert row["sensitivity"] == x / n
    assert row["sensitivity_low"] == pytest.approx(stats.beta.ppf(0.05, x + .5, n - x + .5))
    assert row["specificity"] == (~als & ~pos).sum() / (~als).sum()
    assert result.to_dict()["rows"][0]["n"] == has.sum()
    with pytest.raises(AlsStatsError, match="needs a latent-class fit"):
        label_accuracy(diag_fit)
    with pytest.raises(AlsStatsError, match="direction must be"):
        marker_accuracy(diag_fit, diag_train, "nfl_pg_ml", 20.0, direction=">=")
    with pytest.raises(AlsStatsError, match="not a column"):
        marker_accuracy(diag_fit, diag_train, "nfl", 20.0)


@pytest.fixture(scope="module")
def latent_fit(tmp_path_factory):
    """A small latent-class fit with the default sampler (4 x 1000): ALS and HC, three
    markers, 160 subjects, a fifth of the labels wrong; it must meet the convergence
    policy (a ConvergenceWarning fails the run)."""
    d = default_spec().to_dict()
    d["model"].update({"reference": "latent", "classes": ["ALS", "HC"]})
    d["markers"] = {k: v for k, v in d["markers"].items()
                    if k in ("nfl_pg_ml", "glu_naa", "m1_precuneus_ratio")}
    data, truth = simulate_cohort("default", seed=12, label_error=0.2,
                                  n_per_group={"ALS": 80, "HC": 80, "PMA": 0, "MIMIC": 0})
    model = DiagnosticModel(spec=DiagnosticSpec.from_dict(d), seed=3).fit(data)
    folder = tmp_path_factory.mktemp("latent")
    model.save(folder / "fit.nc")
    data.to_csv(folder / "cohort.csv", index=False)
    return model, data, truth, folder


@pytest.mark.sampling
def test_latent_fit_converges_and_recovers_the_label_accuracy(latent_fit):
    model, _, truth, _ = latent_fit
    assert model.convergence_.ok
    table = label_accuracy(model).set_index("quantity")
    subjects = truth.subjects
    for true, recorded in (("ALS", "ALS"), ("HC", "HC")):
        row = table.loc[f"P(recorded {recorded} | {true})"]
        share = (subjects.loc[subjects["group"] == true, "recorded_group"] == recorded).mean()
        # the sample share of correct labels (about 0.8) inside the 90% interval
        assert row["value_low"] <= share <= row["value_high"]
    # P(recorded ALS | ALS) + P(recorded HC | ALS) = 1 in every draw
    assert (table.loc["P(recorded ALS | ALS)", "value"]
            + table.loc["P(recorded HC | ALS)", "value"]) == pytest.approx(1.0)


@pytest.mark.sampling
def test_accuracy_cli_latent_and_recorded_rows(latent_fit, capsys, tmp_path):
    from alsstats.cli import main

    _, _, _, folder = latent_fit
    out = tmp_path / "accuracy.csv"
    code = main(["accuracy", "--model", str(folder / "fit.nc"), "--data",
                 str(folder / "cohort.csv"), "--marker", "nfl_pg_ml", "--cutoff", "25",
                 "--seed", "1", "--json", "--out", str(out)])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert [r["reference"] for r in result["rows"]] == ["latent", "recorded"]
    assert result["label_accuracy"][0]["quantity"] == "sensitivity of the ALS label"
    assert pd.read_csv(out)["reference"].tolist() == ["latent", "recorded"]
    # the same seed gives the same draws of the latent classes
    assert main(["accuracy", "--model", str(folder / "fit.nc"), "--data",
                 str(folder / "cohort.csv"), "--marker", "nfl_pg_ml", "--cutoff", "25",
                 "--seed", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == result["rows"]


def test_class_permutations_choose_the_labelling_the_prior_favours():
    rho = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.05, 0.15, 0.8]])
    assert class_permutations(rho).tolist() == [0, 1, 2]         # already favoured: kept
    for perm in ([1, 0, 2], [2, 0, 1], [1, 2, 0]):
        # rows in a swapped labelling: new row k = old row perm[k]; the inverse restores it
        swapped = rho[perm]
        restore = class_permutations(swapped)
        np.testing.assert_array_equal(swapped[restore], rho)
    # brute force over the 6 orders on random draws: the assignment finds the maximum
    rng = np.random.default_rng(0)
    draws = rng.dirichlet(np.ones(3), size=(4, 50, 3))               # (chain, draw, K, K)
    perms = class_permutations(draws)
    orders = np.array(list(itertools.permutations(range(3))))
    for d, p in zip(draws.reshape(-1, 3, 3), perms.reshape(-1, 3), strict=True):
        gains = [np.log(d[o, np.arange(3)]).sum() for o in orders]
        assert np.log(d[p, np.arange(3)]).sum() == pytest.approx(max(gains))


def _swap_chain(posterior, chain, perm):
    """``posterior`` with the classes of one chain reordered by ``perm`` (a swapped mode)."""
    out = posterior.copy(deep=True)
    for name, var in posterior.data_vars.items():
        if "class" in var.dims:
            values = var.values.copy()
            axis = var.get_axis_num("class")
            values[chain] = np.take(values[chain], perm, axis=axis - 1)
            out[name] = var.copy(data=values)
    return out


@pytest.mark.sampling
def test_a_chain_in_the_swapped_mode_is_relabelled(latent_fit):
    # Put chain 1 of a converged fit into the swapped mode (ALS <-> HC in every
    # class-indexed variable, record_prob rows included): unrelabelled, R-hat fails
    # the policy; relabelling restores every draw exactly and the policy holds.
    model = latent_fit[0]
    post = model.idata_.posterior
    attrs = json.loads(post.attrs["relabelled_draws_json"])
    # each chain sat in one copy of the mode: none or all of its draws were relabelled
    # (with this seed one whole chain of the fit came out in the swapped copy)
    assert set(attrs["per_chain"]) <= {0, post.sizes["draw"]}, attrs
    swapped = _swap_chain(post, 1, [1, 0])
    names = free_variable_names(model.spec_)
    idata = az.InferenceData(posterior=swapped)
    assert check_convergence(idata, names).max_rhat > 1.5
    fixed, perms = relabel_posterior(swapped, model.spec_.classes)
    assert (perms[1] == [1, 0]).all() and (perms[[0, 2, 3]] == [0, 1]).all()
    for name in ("mu", "sigma_class", "Sigma", "class_share", "record_prob",
                 "indicator_prob"):
        np.testing.assert_array_equal(fixed[name].values, post[name].values)
    assert check_convergence(az.InferenceData(posterior=fixed), names).ok


def test_relabel_moves_per_class_covariance_variables_together():
    rng = np.random.default_rng(1)
    classes = ("ALS", "MIMIC", "HC")
    rho = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])
    record = np.broadcast_to(rho[[2, 0, 1]], (2, 5, 3, 3))          # every draw swapped
    post = xr.Dataset({
        "record_prob": (("chain", "draw", "class", "class_recorded"), record),
        "mu": (("chain", "draw", "class", "marker"), rng.normal(size=(2, 5, 3, 2))),
        **{f"sigma_{c}": (("chain", "draw", "marker"), np.full((2, 5, 2), float(k)))
           for k, c in enumerate(classes)},
        "level_prob_ALS": (("chain", "draw", "class", "level_ALS"),
                           rng.dirichlet([1, 1], size=(2, 5, 3))),
    })
    fixed, perms = relabel_posterior(post, classes, per_class_suffixes=True)
    assert (perms == [1, 2, 0]).all()
    np.testing.assert_array_equal(fixed["record_prob"].values[0, 0], rho)
    np.testing.assert_array_equal(fixed["mu"].values, post["mu"].values[:, :, [1, 2, 0]])
    np.testing.assert_array_equal(fixed["level_prob_ALS"].values,
                                  post["level_prob_ALS"].values[:, :, [1, 2, 0]])
    assert [float(fixed[f"sigma_{c}"].values[0, 0, 0]) for c in classes] == [1.0, 2.0, 0.0]


def test_record_prior_is_the_average_of_the_permuted_dirichlets():
    # symmetrised_record_prior against scipy: (1/K!) sum over row assignments of the
    # product of Dirichlet(alpha_k) densities, at random record matrices (K = 2, 3)
    for classes in (["ALS", "HC"], ["ALS", "MIMIC", "HC"]):
        spec = _latent_spec(classes=classes)
        alpha = recorded_class_prior(spec)
        k = len(classes)
        rng = np.random.default_rng(k)
        for rho in rng.dirichlet(np.ones(k), size=(4, k)):
            want = logsumexp([sum(stats.dirichlet(alpha[j]).logpdf(rho[order[j]])
                                  for j in range(k))
                              for order in itertools.permutations(range(k))]) \
                - np.log(math.factorial(k))
            got = symmetrised_record_prior(pt.as_tensor(rho), spec).eval()
            assert got == pytest.approx(want, rel=1e-12)


def test_latent_posterior_is_invariant_under_class_permutations():
    # The premise of relabelling: the whole log posterior density (priors included, on
    # the constrained scale) is the same after permuting the true classes in every
    # class-indexed parameter, so relabelled draws from any mode are draws of one
    # posterior.  Exact identity at a random point, three classes, every permutation.
    spec = _latent_spec()
    data, _ = simulate_cohort("default", seed=6, label_error=0.2, n_per_group=8)
    graph = diagnostic_graph(spec, data)[3]
    graph.rvs_to_initial_values = dict.fromkeys(graph.rvs_to_initial_values)  # start of mu
    model = remove_value_transforms(graph)
    logp = model.compile_logp()
    rng = np.random.default_rng(0)
    point = model.initial_point()
    for name, value in point.items():
        if name in ("class_share", "record_prob") or name.startswith("level_prob"):
            point[name] = rng.dirichlet(np.ones(value.shape[-1]), size=value.shape[:-1])
        elif name in ("sigma_class", "tau"):
            point[name] = rng.uniform(0.5, 2.0, size=value.shape)
        elif name == "mu" or name == "beta":
            point[name] = rng.normal(size=value.shape)
    base = logp(point)
    assert np.isfinite(base)
    class_vars = [v.name for v in model.free_RVs if "class" in model.named_vars_to_dims
                  .get(v.name, ())]
    assert {"mu", "sigma_class", "class_share", "record_prob"} <= set(class_vars)
    for order in itertools.permutations(range(3)):
        permuted = {n: (v[list(order)] if n in class_vars else v) for n, v in point.items()}
        assert logp(permuted) == pytest.approx(base, rel=1e-12, abs=1e-9), order
    # and it is not invariant under a permutation of the recorded classes (columns)
    columns = dict(point, record_prob=point["record_prob"][:, [1, 0, 2]])
    assert abs(logp(columns) - base) > 1e-3
