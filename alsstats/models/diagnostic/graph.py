r"""The diagnostic model as a PyMC graph with fixed-shape data.

Missing markers are marginalised exactly without one graph branch per
missingness pattern.  For pattern ``o`` (observed markers) let
:math:`D_o` be the diagonal 0/1 selector and

.. math::

    \tilde\Sigma_o = D_o \Sigma D_o + (I - D_o),

i.e. Sigma with the missing rows and columns replaced by those of the
identity.  With the residual ``r`` set to 0 at the missing markers,

.. math::

    \log N(r \mid 0, \tilde\Sigma_o) = \log N(r_o \mid 0, \Sigma_{oo})
    - \tfrac12 (M - |o|) \log 2\pi,

so the exact marginal likelihood of the observed markers needs one batched
inverse and determinant per pattern (and class) and one small quadratic form per
subject, whatever the number of patterns.  The
graph (and its compile time) does not grow with the number of patterns, and
every data array has a fixed shape: one compiled model serves many data sets
(``nutpie``'s ``compiled.with_data``) — CV folds (held-out rows get
likelihood weight 0) and simulation replicates (padded to the same number of
rows).

Known measurement error (``measurement_error = "crlb"``): subject :math:`i`'s
measured markers have covariance :math:`\Sigma_k + V_i`, with :math:`V_i` the
known error covariance of its MRS ratios
(:func:`~alsstats.models.diagnostic.data.measurement_variance`, data array
``me_var`` (n, M, M), zero at missing markers).  The padded covariance is then one
per row,

.. math::

    \tilde\Sigma_i = D_{o(i)} (\Sigma_k + V_i) D_{o(i)} + (I - D_{o(i)}),

(n, M, M), or (K, n, M, M) in the latent-class likelihood, inverted in one batch.
Without it the graph is the per-pattern one above, unchanged.

Robust marker distributions (``marker_distribution``,
:mod:`~alsstats.inference.marker_density` for the densities): the same padded
precision gives each row's Student-t density (``nu`` (K,) per class,
:math:`\nu_k = 2 + \mathrm{Gamma}(2, \text{nu\_rate})`) from
:math:`r_o^\top\Sigma_{k,oo}^{-1}r_o` and :math:`\log|\Sigma_{k,oo}|`; the skew-normal
(``skew`` (K, M), :math:`\lambda_{kj} \sim N(0, \text{skew\_sd})`) pads
:math:`\Omega_k = \Sigma_k + \lambda_k\lambda_k^\top` per class and pattern and adds
:math:`\log 2\Phi(\cdot)` with :math:`\lambda` zeroed at the missing markers (the padded
matrix is block diagonal, so the forms reduce to the observed block).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from scipy.special import gammaln

from alsstats.models.diagnostic.data import Design
from alsstats.models.diagnostic.latent import level_classes, recorded_class_prior
from alsstats.models.diagnostic.spec import DiagnosticSpec

__all__ = ["DataLayout", "build_pymc_model", "free_variable_names", "model_data"]

_LOG_2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class DataLayout:
    """Missingness patterns (P, M) bool (True = observed) and the number of data rows."""

    masks: np.ndarray
    n_rows: int


def model_data(design: Design, labels: np.ndarray, layout: DataLayout,
               weights: np.ndarray | None = None,
               indicator: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The ``pm.Data`` arrays for a data set, padded to ``layout.n_rows`` rows.

    Rows with label -1 (not used in the fit), without any observed marker, or
    past the data (padding) get likelihood weight 0.  ``indicator`` (the
    latent-class model's recorded level of each row,
    :mod:`~alsstats.models.diagnostic.latent`) adds the array ``indicator``; a
    design with known measurement error (``design.me_var``) adds ``me_var``.
    Raises ``ValueError`` if a used row's pattern is not in the layout (a
    programming error: layouts are built from the data).
    """
    n = len(labels)
    if n > layout.n_rows:
        raise ValueError(f"layout holds {layout.n_rows} rows, data set has {n}")
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    obs = np.isfinite(design.y)
    use = (labels >= 0) & obs.any(axis=1) & (w > 0)
    match = (obs[:, None, :] == layout.masks[None, :, :]).all(axis=2)      # (n, P)
    if (use & ~match.any(axis=1)).any():
        raise ValueError("a missingness pattern of the data set is not in the layout")
    pad = layout.n_rows - n

    def padded(a, fill=0):
        return np.concatenate([a, np.full((pad, *a.shape[1:]), fill, dtype=a.dtype)])

    data = {
        "y": padded(np.where(obs, design.y, 0.0)),
        "observed": padded(obs.astype(float)),
        "pattern": padded(np.where(use, match.argmax(axis=1), 0).astype(np.int64)),
        "class_index": padded(np.where(use, labels, 0).astype(np.int64)),
        "site_index": padded(np.where(use, design.site, 0).astype(np.int64)),
        "x": padded(design.x.astype(float)),
        "weight": padded(np.where(use, w, 0.0)),
    }
    if indicator is not None:
        data["indicator"] = padded(np.where(use, indicator, 0).astype(np.int64))
    if design.me_var is not None:
        # zero rows/columns at missing markers (and for unused rows), so that the padded
        # per-row covariance keeps its identity block there
        both = obs[:, :, None] & obs[:, None, :] & use[:, None, None]
        data["me_var"] = padded(np.where(both, design.me_var, 0.0))
    return data


def free_variable_names(spec: DiagnosticSpec) -> list[str]:
    """Posterior variables whose convergence is checked (every free parameter)."""
    names = ["mu", "tau", "site_z"]
    if spec.covariates:
        names.append("beta")
    if spec.reference == "latent":
        names += ["class_share", "indicator_prob"]   # every level probability
    names += {"normal": [], "student_t": ["nu"], "skew_normal": ["skew"]}[
        spec.marker_distribution]
    suffixes = [f"_{c}" for c in spec.classes] if spec.covariance == "per_class" else [""]
    if spec.covariance == "class_sd":
        return [*names, "sigma_class"] + (["corr_offdiag"] if len(spec.markers) > 1 else [])
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


def _correlation(spec: DiagnosticSpec):
    """Correlation matrix Omega ~ LKJ(eta) (the identity for one marker).

    It is the correlation of an ``LKJCholeskyCov`` (whose Cholesky transform keeps
    every draw positive definite).  That prior's SDs are independent of the
    correlation a priori and enter nothing else; they are given a tight
    LogNormal(0, 0.1) so that they stay near 1: with a wide prior, small values
    make a funnel of the unconstrained Cholesky entries (measured: 392 divergences
    and R-hat 1.23 with Exponential(1) on the default scenario).
    """
    m = len(spec.markers)
    if m == 1:
        return pt.ones((1, 1))
    _, corr, _ = pm.LKJCholeskyCov(
        "corr_chol", n=m, eta=spec.priors["lkj_eta"],
        sd_dist=pm.LogNormal.dist(0.0, 0.1, size=m), compute_corr=True)
    iu = np.triu_indices(m, k=1)
    pm.Deterministic("corr_offdiag", corr[iu], dims="pair")
    return corr


def _log_det(spd):
    """log |A| of a batch of positive-definite matrices, with a gradient.

    ``log(det(A))`` would be rewritten by PyTensor into ``SLogDet``, which has no
    gradient and no batched form; the floor (never reached: the matrices are positive
    definite) keeps the plain determinant, whose gradient is ``|A| A^{-T}``.
    """
    return pt.log(pt.maximum(pt.linalg.det(spd), 1e-300))


def build_pymc_model(spec: DiagnosticSpec, layout: DataLayout, data: dict[str, np.ndarray],
                     sites: tuple[str, ...], levels: tuple[str, ...] = ()) -> pm.Model:
    """The PyMC model for ``spec`` with data from :func:`model_data`.

    ``levels``: the indicator levels of a latent-class spec (``reference =
    "latent"``, :mod:`~alsstats.models.diagnostic.latent`); the true class is then
    summed out of each row's likelihood.
    """
    markers = list(spec.marker_names)
    m = len(markers)
    rows, cols, coef_names = _coefficient_index(spec)
    iu = np.triu_indices(m, k=1)
    coords = {"class": list(spec.classes), "marker": markers, "marker_": markers,
              "site": list(sites), "covariate": list(spec.covariates), "coef": coef_names,
              "pair": [f"{markers[a]}~{markers[b]}" for a, b in zip(*iu, strict=True)],
              "indicator": list(levels), "class_recorded": list(spec.classes)}
    if spec.reference == "latent":
        level_class = level_classes(levels, spec)
        coords.update({f"level_{c}": [v for v, k in zip(levels, level_class, strict=True)
                                      if k == i] for i, c in enumerate(spec.classes)})
    pr = spec.priors
    masks = layout.masks.astype(float)                                     # (P, M)
    keep = masks[:, :, None] * masks[:, None, :]
    fill = np.eye(m)[None] * (1.0 - masks)[:, :, None]
    with pm.Model(coords=coords) as model:
        # A latent-class fit starts at the recorded classes' means: the mixture has one
        # mode per permutation of the classes, and the sampler stays in the one it starts
        # in (from mu = 0 both chains of a test fit settled in the swapped mode).
        mu = pm.Normal("mu", 0.0, pr["class_mean_sd"], dims=("class", "marker"),
                       initval=(_recorded_class_means(data, len(spec.classes))
                                if spec.reference == "latent" else None))
        if coef_names:
            beta = pm.Normal("beta", 0.0, pr["covariate_sd"], dims="coef")
            b_mat = pt.zeros((len(spec.covariates), m))[rows, cols].set(beta)
        else:
            b_mat = pt.zeros((0, m))
        pm.Deterministic("B", b_mat, dims=("covariate", "marker"))
        tau = pm.HalfNormal("tau", pr["site_sd_scale"], dims="marker")
        # Zero-sum over sites: a free mean of the offsets would be confounded with the
        # class means (site_z tail ESS 228 of 2000 draws with free offsets).
        site_z = pm.ZeroSumNormal("site_z", sigma=1.0, dims=("marker", "site"))
        u = pm.Deterministic("u", (site_z * tau[:, None]).T, dims=("site", "marker"))
        if spec.covariance == "per_class":
            sigma_k = pt.stack([_covariance(f"_{c}", spec, ())[0] for c in spec.classes])
            pm.Deterministic("Sigma", sigma_k, dims=("class", "marker", "marker_"))
        elif spec.covariance == "class_sd":
            # Sigma_k = diag(sigma_k) Omega diag(sigma_k): one correlation matrix, class SDs.
            sigma_class = pm.Exponential("sigma_class", pr["marker_sd_rate"],
                                         dims=("class", "marker"))
            corr = _correlation(spec)
            sigma_k = sigma_class[:, :, None] * corr[None] * sigma_class[:, None, :]
            pm.Deterministic("Sigma", sigma_k, dims=("class", "marker", "marker_"))
        else:
            sigma_mat = _covariance("", spec, ())[0]
            pm.Deterministic("Sigma", sigma_mat, dims=("marker", "marker_"))
        # Static shapes: every data set is padded to the layout's rows, and a shape known
        # when the graph is built keeps the JAX backend from tracing a row count (an
        # ``Alloc`` of shape (rows, 1, 1) in the one-marker gradient could not be traced).
        y, observed, pattern, cls, site, x, w = (
            pm.Data(name, data[name], shape=data[name].shape)
            for name in ("y", "observed", "pattern", "class_index", "site_index", "x",
                         "weight"))
        me_var = (pm.Data("me_var", data["me_var"], shape=data["me_var"].shape)
                  if spec.measurement_error != "none" else None)
        if spec.reference == "latent":
            loglik = _latent_log_likelihood(spec, levels, data, (keep, fill), mu, b_mat, u,
                                            sigma_k if spec.class_scales else sigma_mat,
                                            (y, observed, pattern, site, x), me_var)
            pm.Potential("loglik", pt.sum(w * loglik))
            return model
        resid = (y - mu[cls] - pt.dot(x, b_mat) - u[site]) * observed
        n_obs = pt.sum(observed, axis=1)
        if spec.marker_distribution == "skew_normal":
            # Omega_k = Sigma_k + lambda_k lambda_k': per class even with a shared Sigma.
            skew = pm.Normal("skew", 0.0, pr["skew_sd"], dims=("class", "marker"))
            scale = sigma_k if spec.class_scales else sigma_mat[None]
            omega = scale + skew[:, :, None] * skew[:, None, :]
            padded = keep[None] * omega[:, None] + fill[None]              # (K, P, M, M)
            prec_rows = pt.linalg.inv(padded)[cls, pattern]
            logp = _normal_log_density(resid, prec_rows, _log_det(padded)[cls, pattern],
                                       n_obs)
            pm.Potential("loglik", pt.sum(w * (logp + _skew_log_factor(
                resid, prec_rows, skew[cls] * observed))))
            return model
        # Precision and log-determinant of each padded covariance.  Inverse and
        # determinant (not a Cholesky factor and triangular solves) keep the gradient
        # graph free of ops that numba runs in Python object mode (batched AllocDiag and
        # upper SolveTriangular from the Cholesky gradient).
        if me_var is not None:
            # one padded covariance per row: D_o (Sigma_k + V_i) D_o + (I - D_o)
            keep_rows, fill_rows = _row_padding(observed, m)
            sigma_rows = sigma_k[cls] if spec.class_scales else sigma_mat[None]
            padded = keep_rows * sigma_rows + me_var + fill_rows            # (n, M, M)
            prec_rows = pt.linalg.inv(padded)
            logdet_rows = _log_det(padded)
        elif spec.class_scales:
            padded = keep[None] * sigma_k[:, None] + fill[None]            # (K, P, M, M)
            prec_rows = pt.linalg.inv(padded)[cls, pattern]
            logdet_rows = _log_det(padded)[cls, pattern]
        else:
            padded = keep * sigma_mat[None] + fill                         # (P, M, M)
            prec_rows = pt.linalg.inv(padded)[pattern]
            logdet_rows = _log_det(padded)[pattern]
        if spec.marker_distribution == "student_t":
            # nu_k = 2 + Gamma(2, nu_rate): finite variance, prior mean 2 + 2 / nu_rate.
            nu_excess = pm.Gamma("nu_excess", 2.0, pr["nu_rate"], dims="class")
            nu = pm.Deterministic("nu", 2.0 + nu_excess, dims="class")
            logp = _student_t_log_density(resid, prec_rows, logdet_rows, n_obs, nu[cls])
        else:
            logp = _normal_log_density(resid, prec_rows, logdet_rows, n_obs)
        pm.Potential("loglik", pt.sum(w * logp))
    return model


def _quadratic(a, prec_rows, b):
    """Row-wise a_i' P_i b_i of (n, M) vectors and (n, M, M) matrices."""
    return pt.sum(a[:, :, None] * prec_rows * b[:, None, :], axis=(1, 2))


def _normal_log_density(resid, prec_rows, logdet_rows, n_obs):
    """log N(r_o | 0, Sigma_oo) of each row from its padded precision and log-determinant."""
    return (-0.5 * _quadratic(resid, prec_rows, resid) - 0.5 * logdet_rows
            - 0.5 * n_obs * _LOG_2PI)


def _student_t_log_density(resid, prec_rows, logdet_rows, n_obs, nu_rows):
    r"""log t_nu(r_o | 0, Sigma_oo) of each row (p = number of observed markers):

    .. math::

        \log\Gamma(\tfrac{\nu+p}{2}) - \log\Gamma(\tfrac{\nu}{2}) - \tfrac p2\log(\nu\pi)
        - \tfrac12\log|\Sigma_{oo}| - \tfrac{\nu+p}{2}\log(1 + r_o^\top\Sigma_{oo}^{-1}r_o/\nu).

    A row without observed markers (p = 0, r = 0) contributes 0.
    """
    quad = _quadratic(resid, prec_rows, resid)
    return (pt.gammaln((nu_rows + n_obs) / 2) - pt.gammaln(nu_rows / 2)
            - 0.5 * n_obs * pt.log(nu_rows * np.pi) - 0.5 * logdet_rows
            - 0.5 * (nu_rows + n_obs) * pt.log1p(quad / nu_rows))


def _skew_log_factor(resid, prec_rows, skew_rows):
    r"""log 2 Phi(lambda_o' Omega_oo^{-1} r_o / sqrt(1 - lambda_o' Omega_oo^{-1} lambda_o)).

    ``prec_rows`` is the padded inverse of Omega = Sigma + lambda lambda' and
    ``skew_rows`` lambda with zeros at the missing markers (the padded matrix is block
    diagonal, so both forms reduce to the observed block); a row without observed
    markers gets log 2 Phi(0) = 0.
    """
    shape = (_quadratic(skew_rows, prec_rows, resid)
             / pt.sqrt(1.0 - _quadratic(skew_rows, prec_rows, skew_rows)))
    return np.log(2.0) + log_normal_cdf(shape)


def log_normal_cdf(z):
    r"""log Phi(z), accurate for every z, from ops that JAX and numba both implement.

    ``log(erfc(-z/sqrt 2)/2)`` for z >= -20 (erfc is accurate in relative terms there,
    down to 1e-89); below, the asymptotic series
    :math:`-z^2/2 - \log(-z) - \tfrac12\log 2\pi + \log(1 - z^{-2} + 3z^{-4} - 15z^{-6}
    + 105z^{-8})`, whose next term is below 1e-10 there.  (PyMC's ``normal_lcdf`` uses
    ``erfcx``, which the JAX backend lacks.)  Both branches are evaluated at clipped
    arguments so that the untaken one has finite gradients.
    """
    low = pt.minimum(z, -20.0)
    high = pt.maximum(z, -20.0)
    w = 1.0 / low**2
    series = (-0.5 * low**2 - pt.log(-low) - 0.5 * _LOG_2PI
              + pt.log(1.0 - w + 3.0 * w**2 - 15.0 * w**3 + 105.0 * w**4))
    return pt.switch(pt.lt(z, -20.0), series,
                     pt.log(0.5 * pt.erfc(-high / np.sqrt(2.0))))


def _row_padding(observed, m: int):
    """(n, M, M) keep (observed x observed) and fill (identity at missing) of each row."""
    keep_rows = observed[:, :, None] * observed[:, None, :]
    fill_rows = pt.eye(m)[None] * (1.0 - observed)[:, :, None]
    return keep_rows, fill_rows


def _recorded_class_means(data: dict[str, np.ndarray], n_classes: int) -> np.ndarray:
    """(K, M) mean standardised marker of each recorded class (0 where a class has none)."""
    onehot = (data["class_index"][:, None] == np.arange(n_classes)[None]) \
        * (data["weight"] > 0)[:, None]                                    # (n, K)
    count = onehot.T @ data["observed"]
    return np.where(count > 0, (onehot.T @ data["y"]) / np.maximum(count, 1), 0.0)


def symmetrised_record_prior(record, spec: DiagnosticSpec):
    r"""Log density of the record matrix under the class-symmetrised Dirichlet prior.

    With :math:`\alpha_k` the row concentrations of
    :func:`~alsstats.models.diagnostic.latent.recorded_class_prior`
    (``label_agreement`` at column :math:`k`, ``label_disagreement`` elsewhere), the
    prior of the matrix :math:`\rho` is the average over the :math:`K!` assignments of
    its rows to those concentrations,

    .. math::

        p(\rho) = \frac{1}{K!}\sum_\sigma \prod_k
            \mathrm{Dirichlet}(\rho_{\sigma(k)\cdot} \mid \alpha_k),

    which is the same for every permutation of the true classes, so the whole
    posterior is (every other class-indexed prior is exchangeable).  Relabelled by
    :mod:`~alsstats.models.diagnostic.relabel`, draws from any mode are then draws of
    the one identified posterior.  In the labelling the relabelling picks, the
    :math:`\sigma = \mathrm{id}` term dominates and the prior is the row-wise
    Dirichlet(:math:`\alpha_k`) to within the other terms' share.  Returned as a log
    density relative to the flat Dirichlet(1) rows ``record`` is declared with
    (a constant apart).
    """
    alpha = recorded_class_prior(spec)                                      # (K, K)
    k = len(alpha)
    log_norm = gammaln(alpha.sum(axis=1)) - gammaln(alpha).sum(axis=1)     # (K,)
    # fit[j, k]: log Dirichlet(rho_j | alpha_k), row j given row k's concentrations
    fit = pt.dot(pt.log(record), (alpha - 1.0).T) + log_norm[None, :]
    orders = np.array(list(itertools.permutations(range(k))))
    terms = fit[orders, np.arange(k)[None, :]].sum(axis=1)                 # (K!,)
    return pt.logsumexp(terms) - np.log(len(orders))


def _latent_log_likelihood(spec, levels, data, padding, mu, b_mat, u, sigma, arrays,
                           me_var=None):
    """Each row's log p(markers, indicator) with the true class summed out (latent.py).

    ``me_var`` (n, M, M): known measurement-error covariance added to every class's
    covariance row by row (``measurement_error = "crlb"``), or ``None``.
    """
    y, observed, pattern, site, x = arrays
    keep, fill = padding
    share = pm.Dirichlet("class_share", np.ones(len(spec.classes)), dims="class")
    # Flat Dirichlet rows plus the symmetrised prior below: the same prior for every
    # permutation of the true classes (relabel.py).
    recorded = pm.Dirichlet("record_prob", np.ones((len(spec.classes),) * 2),
                            dims=("class", "class_recorded"))
    pm.Potential("record_prob_prior", symmetrised_record_prior(recorded, spec))
    level_class = level_classes(levels, spec)
    columns = []
    for c, name in enumerate(spec.classes):
        n_levels = int(np.sum(level_class == c))
        if n_levels > 1:
            within = pm.Dirichlet(f"level_prob_{name}", np.ones(n_levels),
                                  dims=("class", f"level_{name}"))
            columns.append(recorded[:, c][:, None] * within)
        elif n_levels == 1:
            columns.append(recorded[:, c][:, None])
    accuracy = pm.Deterministic("indicator_prob", pt.concatenate(columns, axis=1),
                                dims=("class", "indicator"))
    indicator = pm.Data("indicator", data["indicator"], shape=data["indicator"].shape)
    resid = ((y - pt.dot(x, b_mat) - u[site])[None] - mu[:, None, :]) \
        * observed[None]                                                   # (K, n, M)
    if me_var is not None:
        keep_rows, fill_rows = _row_padding(observed, len(spec.markers))
        sigma_rows = sigma[:, None] if spec.class_scales else sigma[None, None]
        padded = keep_rows[None] * sigma_rows + (me_var + fill_rows)[None]  # (K|1, n, M, M)
        prec_rows = pt.linalg.inv(padded)
        logdet_rows = _log_det(padded)
    elif spec.class_scales:
        padded = keep[None] * sigma[:, None] + fill[None]                  # (K, P, M, M)
        prec_rows = pt.linalg.inv(padded)[:, pattern]                      # (K, n, M, M)
        logdet_rows = _log_det(padded)[:, pattern]                         # (K, n)
    else:
        padded = keep * sigma[None] + fill                                 # (P, M, M)
        prec_rows = pt.linalg.inv(padded)[pattern][None]
        logdet_rows = _log_det(padded)[pattern][None]
    quad = pt.sum(resid[..., :, None] * prec_rows * resid[..., None, :], axis=(-2, -1))
    class_loglik = (-0.5 * quad - 0.5 * logdet_rows
                    - 0.5 * pt.sum(observed, axis=1)[None] * _LOG_2PI)     # (K, n)
    joint = pt.log(share)[:, None] + pt.log(accuracy)[:, indicator] + class_loglik
    return pt.logsumexp(joint, axis=0)
