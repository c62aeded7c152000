"""The diagnostic model as a PyMC graph with fixed-shape data slots.

Subjects are grouped by missingness pattern (which markers are observed).
Each pattern is a *slot* of fixed capacity holding ``pm.Data`` arrays (markers,
covariates, site, class, likelihood weight); unused places have weight 0.
Because shapes are fixed, one compiled model serves many data sets
(``nutpie``'s ``compiled.with_data``): cross-validation folds (held-out rows
get weight 0) and simulation replicates.

Per slot with observed markers ``o`` the log-likelihood is the exact marginal

    sum_i w_i log N(y_io | mu_{k_i,o} + (B^T x_i)_o + u_{s_i,o}, Sigma_oo),

computed with the Cholesky factor of ``Sigma_oo`` (``Sigma_k,oo`` with
per-class covariances).  Missing markers are integrated out, never imputed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.tensor.slinalg import cholesky, solve_triangular

from alsstats.models._diagnostic_data import Design
from alsstats.models.spec import DiagnosticSpec

__all__ = ["SlotLayout", "build_pymc_model", "free_variable_names", "slot_data"]

_LOG_2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class SlotLayout:
    """Missingness patterns (P, M) bool and the row capacity of each pattern's slot."""

    masks: np.ndarray
    capacities: tuple[int, ...]

    def key(self) -> tuple:
        return (self.masks.tobytes(), self.masks.shape, self.capacities)


def slot_data(design: Design, labels: np.ndarray, layout: SlotLayout,
              weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Fill the slots of ``layout`` with a data set; unused places get weight 0.

    Rows with label -1 (not used in the fit) or with no observed marker are
    left out.  Raises ``ValueError`` if a row's pattern is not in the layout or
    a slot overflows (a programming error: layouts are built from the data).
    """
    w_all = np.ones(len(labels)) if weights is None else np.asarray(weights, float)
    obs = np.isfinite(design.y)
    use = (labels >= 0) & obs.any(axis=1) & (w_all > 0)
    out: dict[str, np.ndarray] = {}
    n_cov = design.x.shape[1]
    taken = np.zeros(len(labels), bool)
    for p, (mask, cap) in enumerate(zip(layout.masks, layout.capacities, strict=True)):
        rows = np.flatnonzero(use & (obs == mask).all(axis=1))
        if len(rows) > cap:
            raise ValueError(f"slot {p} holds {cap} rows, data set has {len(rows)}")
        taken[rows] = True
        m = int(mask.sum())
        y = np.zeros((cap, m))
        x = np.zeros((cap, n_cov))
        site = np.zeros(cap, np.int64)
        cls = np.zeros(cap, np.int64)
        w = np.zeros(cap)
        y[: len(rows)] = design.y[np.ix_(rows, np.flatnonzero(mask))]
        x[: len(rows)] = design.x[rows]
        site[: len(rows)] = design.site[rows]
        cls[: len(rows)] = labels[rows]
        w[: len(rows)] = w_all[rows]
        out.update({f"y_{p}": y, f"x_{p}": x, f"site_{p}": site, f"class_{p}": cls,
                    f"w_{p}": w})
    if (use & ~taken).any():
        raise ValueError("a missingness pattern of the data set is not in the slot layout")
    return out


def free_variable_names(spec: DiagnosticSpec) -> list[str]:
    """Posterior variables whose convergence is checked (every free parameter)."""
    names = ["mu", "tau", "site_z"]
    if spec.covariates:
        names.append("beta")
    suffixes = [f"_{c}" for c in spec.classes] if spec.per_class_covariance else [""]
    for s in suffixes:
        names.append(f"sigma{s}")
        if len(spec.markers) > 1:
            names.append(f"corr_offdiag{s}")
    return names


def _coefficient_index(spec: DiagnosticSpec) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rows, cols, names = [], [], []
    for j, m in enumerate(spec.markers):
        for c in m.covariates:
            rows.append(spec.covariates.index(c))
            cols.append(j)
            names.append(f"{c}:{m.name}")
    return np.array(rows, np.int64), np.array(cols, np.int64), names


def _covariance(name: str, spec: DiagnosticSpec, dims: tuple[str, ...]):
    """(Sigma, sigma, offdiag correlations) with LKJ(eta) correlations and Exponential SDs."""
    m = len(spec.markers)
    rate = spec.priors["marker_sd_rate"]
    if m == 1:
        sigma = pm.Exponential(f"sigma{name}", rate, dims=(*dims, "marker"))
        return (sigma[..., :, None] * sigma[..., None, :]), sigma, None
    chol, corr, sigma = pm.LKJCholeskyCov(
        f"chol_cov{name}", n=m, eta=spec.priors["lkj_eta"],
        sd_dist=pm.Exponential.dist(rate, size=m), compute_corr=True)
    pm.Deterministic(f"sigma{name}", sigma, dims=(*dims, "marker"))
    iu = np.triu_indices(m, k=1)
    offdiag = pm.Deterministic(f"corr_offdiag{name}", corr[iu], dims=(*dims, "pair"))
    return chol @ chol.T, sigma, offdiag


def build_pymc_model(spec: DiagnosticSpec, layout: SlotLayout, data: dict[str, np.ndarray],
                     sites: tuple[str, ...]) -> pm.Model:
    """The PyMC model for ``spec`` with data slots from :func:`slot_data`."""
    markers = list(spec.marker_names)
    m = len(markers)
    rows, cols, coef_names = _coefficient_index(spec)
    iu = np.triu_indices(m, k=1)
    coords = {"class": list(spec.classes), "marker": markers, "marker_": markers,
              "site": list(sites), "covariate": list(spec.covariates), "coef": coef_names,
              "pair": [f"{markers[a]}~{markers[b]}" for a, b in zip(*iu, strict=True)]}
    pr = spec.priors
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", 0.0, pr["class_mean_sd"], dims=("class", "marker"))
        if coef_names:
            beta = pm.Normal("beta", 0.0, pr["covariate_sd"], dims="coef")
            b_mat = pt.zeros((len(spec.covariates), m))[rows, cols].set(beta)
        else:
            b_mat = pt.zeros((0, m))
        pm.Deterministic("B", b_mat, dims=("covariate", "marker"))
        tau = pm.HalfNormal("tau", pr["site_sd_scale"], dims="marker")
        site_z = pm.Normal("site_z", 0.0, 1.0, dims=("site", "marker"))
        u = pm.Deterministic("u", site_z * tau, dims=("site", "marker"))
        if spec.per_class_covariance:
            parts = [_covariance(f"_{c}", spec, ()) for c in spec.classes]
            sigma_k = pt.stack([p[0] for p in parts])
            pm.Deterministic("Sigma", sigma_k, dims=("class", "marker", "marker_"))
            covs = [p[0] for p in parts]
        else:
            sigma_mat, _, _ = _covariance("", spec, ())
            pm.Deterministic("Sigma", sigma_mat, dims=("marker", "marker_"))
            covs = [sigma_mat]
        for p, mask in enumerate(layout.masks):
            obs = np.flatnonzero(mask)
            y = pm.Data(f"y_{p}", data[f"y_{p}"])
            x = pm.Data(f"x_{p}", data[f"x_{p}"])
            site = pm.Data(f"site_{p}", data[f"site_{p}"])
            cls = pm.Data(f"class_{p}", data[f"class_{p}"])
            w = pm.Data(f"w_{p}", data[f"w_{p}"])
            mean = (mu[cls] + pt.dot(x, b_mat) + u[site])[:, obs]
            resid = y - mean
            per_class = [_mvn_logp(resid, cov[obs][:, obs], len(obs)) for cov in covs]
            if len(per_class) == 1:
                logp = per_class[0]
            else:
                onehot = pt.eq(cls[:, None], np.arange(len(covs))[None, :])
                logp = pt.sum(pt.stack(per_class, axis=1) * onehot, axis=1)
            pm.Potential(f"loglik_{p}", pt.sum(w * logp))
    return model


def _mvn_logp(resid, cov, m: int):
    """Row-wise log N(resid | 0, cov) through the Cholesky factor."""
    chol = cholesky(cov)
    z = solve_triangular(chol, resid.T, lower=True)
    return (-0.5 * pt.sum(z**2, axis=0) - pt.sum(pt.log(pt.diagonal(chol)))
            - 0.5 * m * _LOG_2PI)
