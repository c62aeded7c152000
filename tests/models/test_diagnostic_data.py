"""Data layout of the diagnostic model (no sampling) and the padded-covariance identity."""

from __future__ import annotations

import numpy as np
from scipy import stats

from alsstats.models.diagnostic.data import (
    baseline_table,
    class_labels,
    encode,
    fit_standardization,
)
from alsstats.models.diagnostic.graph import DataLayout, model_data
from alsstats.models.diagnostic.spec import DiagnosticSpec, default_spec
from alsstats.testing.recovery import default_truth, simulate_diagnostic_cohort


def test_padded_covariance_gives_the_exact_marginal():
    """log N(r; D S D + (I - D)) with r_missing = 0 equals log N(r_o; S_oo) - (M-|o|)/2 log 2pi."""
    rng = np.random.default_rng(1)
    a = rng.normal(size=(5, 5))
    sigma = a @ a.T + np.eye(5)
    r = rng.normal(size=5)
    for mask in ([1, 1, 0, 1, 0], [0, 0, 0, 0, 1], [1, 1, 1, 1, 1]):
        d = np.array(mask, float)
        padded = d[:, None] * d[None, :] * sigma + np.diag(1 - d)
        o = np.flatnonzero(d)
        left = stats.multivariate_normal(np.zeros(5), padded).logpdf(r * d)
        right = (stats.multivariate_normal(np.zeros(len(o)), sigma[np.ix_(o, o)]).logpdf(r[o])
                 - 0.5 * (5 - len(o)) * np.log(2 * np.pi))
        assert np.isclose(left, right, rtol=1e-12)


def test_model_data_padding_and_exclusions():
    spec_dict = default_spec().to_dict()
    spec_dict["model"]["pma"] = "exclude"
    spec = DiagnosticSpec.from_dict(spec_dict)
    truth = default_truth(default_spec(), n_sites=3, seed=1)
    df = simulate_diagnostic_cohort(truth, 40, seed=2, missing={"mrs": 0.4})
    df.loc[0, "group"] = "PMA"
    df.loc[1, list(spec.marker_names)] = np.nan
    base = baseline_table(df)
    labels = class_labels(base, spec)
    assert labels[0] == -1                                       # PMA excluded by the spec
    std = fit_standardization(base[labels >= 0], spec)
    design = encode(base, spec, std, truth.sites)
    masks = np.unique(np.isfinite(design.y[2:]), axis=0)
    data = model_data(design, labels, DataLayout(masks, 50))
    assert data["y"].shape == (50, 6) and data["weight"].shape == (50,)
    np.testing.assert_array_equal(data["weight"][:2], 0.0)       # excluded, no markers
    np.testing.assert_array_equal(data["weight"][40:], 0.0)      # padding
    assert (data["weight"][2:40] == 1).all()
    used = np.arange(2, 40)
    np.testing.assert_array_equal(masks[data["pattern"][used]], np.isfinite(design.y[used]))
    assert not np.isnan(data["y"]).any()
    # Standardisation learned on the training rows: observed markers have mean ~0, SD ~1.
    np.testing.assert_allclose(np.nanmean(design.y[labels >= 0], axis=0), 0.0, atol=1e-12)
