r"""Bayesian hierarchical diagnostic model: P(ALS | markers) with credible intervals.

Model
-----
For subject :math:`i` of class :math:`k` (ALS, MIMIC, HC by default) seen at
site :math:`s`, the vector of transformed markers (by default log Glu/NAA,
log Glu/GABA, M1/precuneus ratio, log NfL, log CHI3L1, SMN activity; which
markers and transforms is set by the TOML spec), each standardised with the
training mean and SD, is

.. math::

    y_i \sim \mathrm{MVN}\big(\mu_k + B^\top x_i + u_s,\; \Sigma_k\big),\qquad
    u_s = \tau \odot z_s,\quad z_s \sim N(0, I),

    \mu_{kj} \sim N(0, \sigma_\mu),\quad B_{cj} \sim N(0, \sigma_B),\quad
    \tau_j \sim \mathrm{HalfNormal}(\sigma_\tau),

    \Sigma_k = \mathrm{diag}(\sigma_k)\,\Omega\,\mathrm{diag}(\sigma_k),\quad
    \sigma_{kj} \sim \mathrm{Exponential}(\lambda),\quad \Omega \sim \mathrm{LKJ}(\eta),

with covariates :math:`x_i` = (age − training mean age)/10 years and sex
(F = −0.5, M = +0.5), each marker adjusted for the covariates its spec lists
(NfL's age dependence enters here).  The site offsets are partially pooled
and non-centred.  By default (``covariance = "class_sd"``) the classes share the
correlation matrix and have their own marker SDs (the generator's classes differ in
spread; chosen by PPC and LOO, see ``docs/models/diagnostic.md``);
``covariance = "shared"`` uses one :math:`\Sigma` and ``"per_class"`` one
:math:`\Sigma_k` per class with its own correlations (slower to compile).
Hyperparameters come from the spec's ``[priors]``.  PMA is mapped by the
spec (``pma = "ALS"`` counts it as motor neuron disease, ``"exclude"`` leaves
it out of the fit, ``"own"`` makes it a class).

Missing markers are marginalised exactly: a subject with observed markers
:math:`o` contributes :math:`\log N(y_o \mid \cdot_o, \Sigma_{k,oo})`.  Nothing
is imputed and nobody is dropped for missing markers; a subject with none
contributes nothing to the fit and is scored at the prior prevalence.  The
fit uses each subject's earliest visit (visit 0 = baseline).

Scoring
-------
For each posterior draw, class log-likelihoods plus log prior prevalence
give P(class | markers) by softmax (:mod:`alsstats.inference.scoring`); the
score is the mean over draws and the interval the central quantiles over
draws (``interval`` in the spec, 0.9 by default).  A site not seen in
training is integrated over the site distribution (:math:`\Sigma +
\mathrm{diag}(\tau^2)`), so its intervals are wider.  Prevalence is an
argument of scoring, not of the fit, and should be the prevalence of the
population scored (without one the training class frequencies are used, with a
:class:`~alsstats.errors.PrevalenceWarning`).  With ``missingness = "class"`` the
availability of each modality depends on the class and a patient's missingness
pattern enters her score (:func:`~alsstats.models.diagnostic.data.pattern_log_likelihood`).

Robust marker distributions
---------------------------
With ``marker_distribution = "student_t"`` the class-conditional markers are
multivariate Student-t with the same location and scale matrix and :math:`\nu_k = 2 +
\mathrm{Gamma}(2, \text{nu\_rate})` per class; with ``"skew_normal"`` they are the
skew-normal convolution :math:`y = m_k + \lambda_k|U_0| + \varepsilon`,
:math:`\varepsilon \sim N(0, \Sigma_k)`, :math:`\lambda_{kj} \sim N(0, \text{skew\_sd})`
(:math:`\mu_k` is then the class location; the class mean is
:math:`\mu_k + \lambda_k\sqrt{2/\pi}`).  Both marginalise missing markers exactly; fit,
scoring (credible and predictive intervals) and criticism use the density
(:mod:`alsstats.inference.marker_density`);
:func:`~alsstats.models.diagnostic.distribution_choice.choose_marker_distribution`
chooses between them and the normal by PSIS-LOO.

Known measurement error
-----------------------
With ``measurement_error = "crlb"`` the measured markers of subject :math:`i` have
covariance :math:`\Sigma_k + V_i` in the fit and in scoring, :math:`V_i` the
delta-method error covariance of the log MRS ratios from the spectrum's CRLBs
(:func:`~alsstats.models.diagnostic.data.measurement_variance`): a noisy spectrum
counts less and its patient's score stays nearer the prior.
"""

from __future__ import annotations

import json
import os
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from alsstats.errors import (
    AlsStatsError,
    ConvergenceWarning,
    DataValidationError,
    PrevalenceWarning,
    SpecError,
)
from alsstats.inference.convergence import (
    Convergence,
    check_convergence,
    warn_if_not_converged,
)
from alsstats.inference.predictive import predictive_interval
from alsstats.inference.sampling import CompiledSampler, SamplingConfig, integer_seed
from alsstats.inference.scoring import PosteriorParameters, class_probabilities
from alsstats.models.base import (
    BayesianEstimator,
    data_sha256,
    provenance_attrs,
    read_fit,
    write_fit,
)
from alsstats.models.diagnostic.data import (
    Design,
    Standardization,
    baseline_table,
    class_labels,
    encode,
    fit_standardization,
    modalities,
    modality_available,
    observed_patterns,
    pattern_log_likelihood,
    recorded_groups,
)
from alsstats.models.diagnostic.graph import (
    DataLayout,
    build_pymc_model,
    free_variable_names,
    model_data,
)
from alsstats.models.diagnostic.latent import indicator_codes, indicator_levels
from alsstats.models.diagnostic.relabel import relabel_posterior
from alsstats.models.diagnostic.scoring_table import validate_scoring_table
from alsstats.models.diagnostic.spec import DiagnosticSpec, load_spec
from alsstats.random import spawn_seeds

__all__ = ["DiagnosticModel", "parse_prevalence"]

_MODEL_NAME = "diagnostic"


@dataclass(frozen=True)
class _Prepared:
    labels: np.ndarray
    groups: np.ndarray
    el_escorial: np.ndarray
    std: Standardization
    sites: tuple[str, ...]
    design: Design
    data_hash: str


class DiagnosticModel(BayesianEstimator):
    """Bayesian hierarchical diagnostic model (math in the module docstring).

    Parameters
    ----------
    spec
        Model spec: ``None`` (the shipped default), a TOML path, a dict or a
        :class:`~alsstats.models.diagnostic.spec.DiagnosticSpec`.
    draws, tune, chains
        MCMC draws and tuning steps per chain, and the number of chains.  The defaults
        (4 x 1000 after 1000 tuning steps) meet the convergence policy on the default
        scenario (300 subjects, seeds 7, 8, 9: min tail ESS 557-787, the site SDs ``tau``
        the slowest); 2 chains of 1000 or 1000 + 1500 tuning did not (tail ESS 229-378).
    sampler
        ``"nutpie"`` (default), ``"pymc"`` (PyMC's NUTS), or ``"advi"`` (fast
        variational approximation for loops only; flagged as not converged).
    seed
        Seed of the sampler.
    target_accept
        NUTS target acceptance rate; raise it (e.g. 0.95) when few sites make the
        site-SD funnel produce divergences.
    backend
        nutpie's compile backend: ``"auto"`` (JAX for a single fit when installed,
        numba for :meth:`fit_many`), ``"numba"`` or ``"jax"``
        (:mod:`alsstats.inference.sampling`).

    Attributes
    ----------
    classes_ : ndarray of str
        Class names in output order.
    idata_ : arviz.InferenceData
        The posterior (standardised marker scale), with provenance attributes.
    convergence_ : Convergence
        R-hat, bulk/tail ESS and divergences; ``convergence_.ok``.
    timing_ : dict
        ``compile_seconds``, ``sampling_seconds`` and ``backend`` of the fit (not saved).
    standardization_, sites_, class_counts_, spec_
        What the fit learned from the training data.

    Examples
    --------
    >>> model = DiagnosticModel(draws=500, tune=500, seed=1).fit(train)   # doctest: +SKIP
    >>> model.predict_posterior(new, prevalence={"ALS": .3, "MIMIC": .3, "HC": .4})  # +SKIP
    """

    def __init__(self, spec=None, draws: int = 1000, tune: int = 1000, chains: int = 4,
                 sampler: str = "nutpie", seed=None, target_accept: float = 0.8,
                 backend: str = "auto"):
        self.spec = spec
        self.draws = draws
        self.tune = tune
        self.chains = chains
        self.sampler = sampler
        self.seed = seed
        self.target_accept = target_accept
        self.backend = backend

    # ------------------------------------------------------------------ fit
    def _config(self) -> SamplingConfig:
        return SamplingConfig(draws=self.draws, tune=self.tune, chains=self.chains,
                              sampler=self.sampler, target_accept=self.target_accept,
                              backend=self.backend)

    def _prepare(self, df: pd.DataFrame, y, spec: DiagnosticSpec) -> _Prepared:
        base = baseline_table(df)
        groups = recorded_groups(base, y, n_rows=len(df))
        labels = class_labels(base, spec, groups)
        used = labels >= 0
        counts = np.bincount(labels[used], minlength=len(spec.classes))
        empty = [c for c, n in zip(spec.classes, counts, strict=True) if n == 0]
        if empty:
            raise DataValidationError(f"no training subjects in class(es) {', '.join(empty)}; "
                                      "every class of the spec needs subjects")
        std = fit_standardization(base[used], spec)
        sites = tuple(sorted(base.loc[used, "site"].astype(str).unique()))
        design = encode(base, spec, std, sites)
        return _Prepared(labels, groups, base["el_escorial"].to_numpy(dtype=object), std, sites,
                         design, data_sha256(df))

    def fit(self, df: pd.DataFrame, y=None) -> DiagnosticModel:
        """Fit the model to a cohort table (each subject's baseline visit).

        Parameters
        ----------
        df
            Cohort table (:mod:`alsstats.schema`).
        y
            Optional labels, one per row of ``df`` (cohort group labels);
            default: the ``group`` column.

        Returns
        -------
        self
        """
        spec = load_spec(self.spec)
        config = self._config()
        prepared = self._prepare(df, y, spec)
        layout = _layout([prepared])
        levels, (codes,) = _indicator([prepared], spec)
        data = model_data(prepared.design, prepared.labels, layout, indicator=codes)
        sampler = CompiledSampler(build_pymc_model(spec, layout, data, prepared.sites, levels),
                                  config, fixed_start=_fixed_start(spec))
        idata = sampler.sample(integer_seed(self.seed))
        self._set_fit(spec, prepared, idata, config)
        self.timing_ = sampler.timing()
        return self

    def fit_many(self, datasets: list[pd.DataFrame]) -> list[DiagnosticModel]:
        """Fit independent copies of this model to several data sets, compiling once.

        All data sets must have the same number of training sites (smaller
        data sets are padded with weight-0 rows).  Each gets a
        child seed of ``seed`` (``SeedSequence.spawn``), so results do not
        depend on how the list is split.  With the nutpie sampler the model is
        compiled once and each data set is swapped in with ``with_data``.
        """
        from sklearn.base import clone

        if not datasets:
            raise AlsStatsError("fit_many needs at least one data set")
        spec = load_spec(self.spec)
        config = self._config()
        prepared = [self._prepare(df, None, spec) for df in datasets]
        n_sites = {len(p.sites) for p in prepared}
        if len(n_sites) > 1:
            raise DataValidationError(f"fit_many needs the same number of sites in every data "
                                      f"set; got {sorted(n_sites)}")
        layout = _layout(prepared)
        levels, codes = _indicator(prepared, spec)
        first = model_data(prepared[0].design, prepared[0].labels, layout, indicator=codes[0])
        # Refits compile with numba, except the latent-class likelihood: numba took 400 s
        # to compile its gradient (JAX 19 s) and ran it 3.4x slower (2.9 vs 0.84 ms, 300
        # subjects, 2026-11-29).
        sampler = CompiledSampler(build_pymc_model(spec, layout, first, prepared[0].sites,
                                                   levels),
                                  config, refits=len(prepared) > 1 and spec.reference != "latent",
                                  fixed_start=_fixed_start(spec))
        fits = []
        root = (integer_seed(self.seed) if isinstance(self.seed, np.random.Generator)
                else self.seed)
        for p, child, code in zip(prepared, spawn_seeds(root, len(prepared)), codes,
                                  strict=True):
            idata = sampler.sample(integer_seed(child),
                                   model_data(p.design, p.labels, layout, indicator=code))
            model = clone(self)
            model._set_fit(spec, p, idata, config)
            model.timing_ = sampler.timing(compiled=not fits)
            fits.append(model)
        return fits

    def _set_fit(self, spec: DiagnosticSpec, prepared: _Prepared, idata: az.InferenceData,
                 config: SamplingConfig) -> None:
        relabelled = None
        if spec.reference == "latent":
            idata, relabelled = _relabel(idata, spec)
        conv = check_convergence(idata, free_variable_names(spec),
                                 approximate=config.approximate, policy=spec.convergence)
        used = prepared.labels >= 0
        counts = np.bincount(prepared.labels[used], minlength=len(spec.classes))
        available = modality_available(prepared.design.y[used], spec)
        modality_counts = np.stack([available[prepared.labels[used] == k].sum(axis=0)
                                    for k in range(len(spec.classes))])
        markers = list(spec.marker_names)
        const = xr.Dataset({
            "marker_center": ("marker", prepared.std.center),
            "marker_scale": ("marker", prepared.std.scale),
            "class_count": ("class", counts.astype(np.int64)),
            "modality_count": (("class", "modality"), modality_counts.astype(np.int64)),
        }, coords={"marker": markers, "class": list(spec.classes),
                   "modality": list(modalities(spec))})
        posterior = idata.posterior.assign_coords(site=list(prepared.sites))
        posterior.attrs = provenance_attrs(model=_MODEL_NAME, spec_json=spec.to_json(),
                                           data_hash=prepared.data_hash,
                                           convergence_json=conv.to_json())
        idata = az.InferenceData(posterior=posterior,
                                 **({"sample_stats": idata.sample_stats}
                                    if "sample_stats" in idata.groups() else {}),
                                 constant_data=const)
        idata.posterior.attrs.update({
            "age_center": float(prepared.std.age_center),
            "sampling": json.dumps({"draws": config.draws, "tune": config.tune,
                                    "chains": config.chains, "sampler": config.sampler,
                                    "target_accept": config.target_accept}),
        })
        if relabelled is not None:
            idata.posterior.attrs["relabelled_draws_json"] = json.dumps(relabelled)
        self._set_state(spec, idata, conv, prepared.std, prepared.sites, counts,
                        modality_counts, prepared.data_hash)
        warn_if_not_converged(conv, "diagnostic model fit")

    def _set_state(self, spec, idata, conv, std, sites, counts, modality_counts,
                   data_hash) -> None:
        self.spec_ = spec
        self.idata_ = idata
        self.convergence_ = conv
        self.standardization_ = std
        self.sites_ = tuple(sites)
        self.class_counts_ = np.asarray(counts)
        self.modality_counts_ = np.asarray(modality_counts)
        self.classes_ = np.array(spec.classes)
        self.data_sha256_ = data_hash

    # ------------------------------------------------------------------ scoring
    def posterior_parameters(self) -> PosteriorParameters:
        """Posterior draws (chains stacked) on the standardised marker scale."""
        self._check_fitted()
        post = self.idata_.posterior

        def stacked(name):
            v = post[name]
            return v.values.reshape((-1, *v.shape[2:]))

        return PosteriorParameters(mu=stacked("mu"), B=stacked("B"), u=stacked("u"),
                                   tau=stacked("tau"), Sigma=stacked("Sigma"),
                                   nu=stacked("nu") if "nu" in post else None,
                                   skew=stacked("skew") if "skew" in post else None)

    def prior_probabilities(self, prevalence=None) -> np.ndarray:
        """Prior class probabilities for scoring (see :func:`parse_prevalence`)."""
        self._check_fitted()
        return parse_prevalence(prevalence, tuple(self.classes_), self.class_counts_)

    def predict_posterior(self, df: pd.DataFrame, prevalence=None, *,
                          interval: float | None = None,
                          interval_kind: str = "predictive") -> pd.DataFrame:
        """Per row of ``df``: posterior mean and interval of P(class | markers).

        Parameters
        ----------
        df
            Patients to score: ``subject_id``, ``site``, the spec's markers
            (NaN where missing) and, if the spec uses them, ``age`` and ``sex``.
            Each row is scored as given (pass baseline rows for diagnosis).
        prevalence
            Prior class probabilities of the population scored: a mapping
            ``{class: probability}`` covering every class and summing to 1,
            ``(p_als, rest)`` with ``rest`` = ``"uniform"``, ``"training"`` or a
            mapping of relative weights of the other classes, ``"uniform"`` or
            ``"training"`` (the training class frequencies).  ``None`` (the
            training frequencies) and a bare P(ALS) (the rest split by training
            frequencies) work but warn (:class:`~alsstats.errors.PrevalenceWarning`):
            the class balance of the training study would leak into the scores.
            See :func:`parse_prevalence`.
        interval
            Central interval probability; default: the spec's ``interval``.
        interval_kind
            ``"predictive"`` (default): where P(class) could land once the patient's
            missing markers are measured and an unseen site is calibrated
            (:mod:`alsstats.inference.predictive`); it widens with every missing
            marker and at an unseen site, and equals the credible interval for a
            complete patient at a training site.  ``"credible"``: the spread over
            posterior draws of P(class | observed markers), parameter uncertainty
            only.  The point estimate is the same posterior mean either way.

        Returns
        -------
        pandas.DataFrame
            ``subject_id``, then for each class ``p_<class>``,
            ``p_<class>_low``, ``p_<class>_high`` (lower-case class names),
            ``n_markers`` (observed), ``site_seen`` (site in the training data),
            ``fit_converged`` and ``prior_<class>``, the prevalence used.  With
            the spec's ``missingness = "class"`` the patient's modality pattern
            enters the score: the prior of row ``i`` is proportional to
            ``prior_k P(pattern_i | k)``
            (:func:`~alsstats.models.diagnostic.data.pattern_log_likelihood`).
        """
        self._check_fitted()
        spec = self.spec_
        interval = spec.interval if interval is None else float(interval)
        if not 0 < interval < 1:
            raise AlsStatsError(f"interval must be in (0, 1); got {interval!r}")
        prior = self.prior_probabilities(prevalence)
        table = validate_scoring_table(df, spec)
        design = encode(table, spec, self.standardization_, self.sites_)
        if not self.convergence_.ok:
            warnings.warn("scoring with a " + self.convergence_.message("diagnostic model fit"),
                          ConvergenceWarning, stacklevel=2)
        if interval_kind not in ("predictive", "credible"):
            raise AlsStatsError(f"interval_kind must be 'predictive' or 'credible'; got "
                                f"{interval_kind!r}")
        params = self.posterior_parameters()
        log_prior = self._log_prior_rows(design.y, prior)
        result = class_probabilities(design.y, design.x, design.site, params, log_prior,
                                     interval=interval, measurement_var=design.me_var)
        if interval_kind == "predictive":
            needs = np.flatnonzero(~np.isfinite(design.y).all(axis=1) | (design.site < 0))
            # Random numbers keyed by the fit (its data hash) and each patient's ID and
            # markers: reproducible, and independent of who else is scored.
            keys = np.array([zlib.crc32(f"{sid}|{row.tobytes().hex()}".encode())
                             for sid, row in zip(design.subject_id, design.y, strict=True)])
            low, high = predictive_interval(design.y, design.x, design.site, params,
                                            log_prior, interval=interval,
                                            seed=int(self.data_sha256_[:8], 16), keys=keys,
                                            rows=needs, measurement_var=design.me_var)
            result.low[needs], result.high[needs] = low[needs], high[needs]
        out = {"subject_id": design.subject_id}
        for k, c in enumerate(self.classes_):
            name = f"p_{c.lower()}"
            out[name] = result.mean[:, k]
            out[f"{name}_low"] = result.low[:, k]
            out[f"{name}_high"] = result.high[:, k]
        out["n_markers"] = np.isfinite(design.y).sum(axis=1)
        out["site_seen"] = design.site >= 0
        out["fit_converged"] = self.convergence_.ok
        for c, p in zip(self.classes_, prior, strict=True):
            out[f"prior_{c.lower()}"] = p
        frame = pd.DataFrame(out)
        frame.attrs.update({"prevalence": dict(zip(self.classes_, prior.tolist(), strict=True)),
                            "interval": interval, "interval_kind": interval_kind,
                            "fit_converged": self.convergence_.ok})
        return frame

    def _log_prior_rows(self, y: np.ndarray, prior: np.ndarray) -> np.ndarray:
        """(K,) log prevalence, or (n, K) with the missingness model's pattern term added."""
        if self.spec_.missingness == "ignore":
            return np.log(prior)
        if self.modality_counts_ is None:
            raise SpecError("this saved fit has no modality counts; refit it to use "
                            "missingness = 'class'")
        return np.log(prior)[None, :] + pattern_log_likelihood(
            modality_available(y, self.spec_), self.modality_counts_, self.class_counts_)

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        """(n_rows, K) posterior-mean class probabilities at the training class frequencies.

        This is the scikit-learn interface (cross-validation of the fitted
        pipeline); use :meth:`predict_posterior` with the prevalence of the
        population scored for clinical scores.
        """
        frame = self.predict_posterior(df, prevalence="training", interval_kind="credible")
        return frame[[f"p_{c.lower()}" for c in self.classes_]].to_numpy()

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[np.argmax(self.predict_proba(df), axis=1)]

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> None:
        """Save the fit as NetCDF (ArviZ InferenceData) with provenance; no pickle."""
        self._check_fitted()
        write_fit(self.idata_, path)

    @classmethod
    def load(cls, path: str | os.PathLike, spec=None) -> DiagnosticModel:
        """Load a saved fit.  If ``spec`` is given it must equal the fit's spec (else SpecError)."""
        idata = read_fit(path, model=_MODEL_NAME)
        try:
            return cls._from_idata(idata, path, spec)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            if isinstance(exc, SpecError):
                raise
            raise SpecError(f"{path}: damaged diagnostic fit (missing or malformed "
                            f"{str(exc).strip() or type(exc).__name__})") from None

    @classmethod
    def _from_idata(cls, idata, path, spec) -> DiagnosticModel:
        attrs = idata.posterior.attrs
        stored = DiagnosticSpec.from_json(attrs["spec"])
        if spec is not None:
            wanted = load_spec(spec)
            if wanted.to_json() != stored.to_json():
                raise SpecError(f"{path}: the saved fit was made with a different spec; "
                                f"saved {stored.to_json()} but got {wanted.to_json()}")
        config = json.loads(attrs["sampling"])
        model = cls(spec=stored, draws=config["draws"], tune=config["tune"],
                    chains=config["chains"], sampler=config["sampler"],
                    target_accept=config.get("target_accept", 0.8))
        const = idata.constant_data
        std = Standardization(center=const["marker_center"].values,
                              scale=const["marker_scale"].values,
                              age_center=float(attrs["age_center"]))
        conv = Convergence.from_json(attrs["convergence"])
        sites = tuple(str(s) for s in idata.posterior["site"].values)
        model._set_state(stored, idata, conv, std, sites, const["class_count"].values,
                         const["modality_count"].values if "modality_count" in const
                         else None, attrs["data_sha256"])
        if not conv.ok:
            warnings.warn(conv.message(f"{path}: this fit"), ConvergenceWarning, stacklevel=2)
        return model


def _fixed_start(spec: DiagnosticSpec) -> tuple[str, ...]:
    """A latent-class fit's chains all start at the recorded classes' means (``mu``).

    Jittered starts put 12 of 60 two-chain fits (20% of labels wrong) partly in the
    swapped mode, with sensitivity and specificity off by about 0.4
    (benchmarks/RESULTS.md, "latent-class diagnostic model").
    """
    return ("mu",) if spec.reference == "latent" else ()


def _relabel(idata: az.InferenceData, spec: DiagnosticSpec) -> tuple[az.InferenceData, dict]:
    """Latent-class draws in the labelling the prior favours (:mod:`.relabel`).

    Also returns, per chain, how many draws were relabelled and the most frequent
    permutation (relabelled class ``k`` = sampled class ``perm[k]``), recorded in the
    posterior's attributes as ``relabelled_draws_json``.
    """
    posterior, perms = relabel_posterior(idata.posterior, spec.classes,
                                         per_class_suffixes=spec.covariance == "per_class")
    moved = (perms != np.arange(len(spec.classes))).any(axis=-1).sum(axis=1)
    modal = [Counter(map(tuple, chain.tolist())).most_common(1)[0][0] for chain in perms]
    groups = {g: idata[g] for g in idata.groups() if g != "posterior"}
    return (az.InferenceData(posterior=posterior, **groups),
            {"per_chain": [int(v) for v in moved], "draws_per_chain": int(perms.shape[1]),
             "modal_permutation": [[int(k) for k in m] for m in modal]})


def _indicator(prepared: list[_Prepared], spec: DiagnosticSpec):
    """Indicator levels over all data sets and each data set's codes (latent-class spec)."""
    if spec.reference != "latent":
        return (), [None] * len(prepared)
    levels = indicator_levels(np.concatenate([p.groups for p in prepared]),
                              np.concatenate([p.el_escorial for p in prepared]),
                              np.concatenate([p.labels for p in prepared]), spec)
    return levels, [indicator_codes(p.groups, p.el_escorial, p.labels, levels)
                    for p in prepared]


def _layout(prepared: list[_Prepared]) -> DataLayout:
    """The union of the data sets' missingness patterns and the largest number of subjects."""
    masks: dict[bytes, np.ndarray] = {}
    for p in prepared:
        used = (p.labels >= 0) & np.isfinite(p.design.y).any(axis=1)
        for mask in observed_patterns(p.design.y[used])[0]:
            masks[mask.tobytes()] = mask
    if not masks:
        raise DataValidationError("no training subject has any marker of the spec")
    order = sorted(masks, key=lambda key: (-int(masks[key].sum()), key))
    return DataLayout(np.array([masks[key] for key in order]),
                      max(len(p.labels) for p in prepared))


def parse_prevalence(prevalence, classes: tuple[str, ...],
                     class_counts: np.ndarray) -> np.ndarray:
    """Prior class probabilities from a prevalence argument (see ``predict_posterior``).

    Accepted forms: ``"training"`` (the training class frequencies),
    ``"uniform"``, a mapping ``{class: p}`` over every class summing to 1, a pair
    ``(p_als, rest)`` where ``rest`` splits ``1 - p_als`` over the other classes
    (``"training"``, ``"uniform"`` or a mapping of relative weights), or a bare
    P(ALS) (the rest split by training frequencies, with a
    :class:`~alsstats.errors.PrevalenceWarning`).  ``None`` means the training
    frequencies, also with a warning: the class balance of a study leaks into
    the scores.  The CLI's string forms are accepted too: ``"training"``,
    ``"uniform"``, ``"ALS=0.3,MIMIC=0.6,HC=0.1"``, ``"0.3:uniform"``,
    ``"0.3:training"``, ``"0.3:MIMIC=2,HC=1"`` and ``"0.3"``.
    """
    counts = np.asarray(class_counts, float)
    freq = counts / counts.sum()
    if isinstance(prevalence, str):
        prevalence = _prevalence_from_text(prevalence.strip())
    if prevalence is None:
        warnings.warn("no prevalence given: scoring at the training class frequencies "
                      f"({_format_prior(classes, freq)}); state the prevalence of the "
                      "population scored (prevalence=...)", PrevalenceWarning, stacklevel=4)
        return freq
    if isinstance(prevalence, str):
        if prevalence == "training":
            return freq
        if prevalence == "uniform":
            return np.full(len(classes), 1.0 / len(classes))
        raise AlsStatsError(f"prevalence must be 'training', 'uniform', a P(ALS) or "
                            f"'CLASS=p,...'; got {prevalence!r}")
    if isinstance(prevalence, dict):
        return _full_mapping(prevalence, classes)
    if isinstance(prevalence, int | float) and not isinstance(prevalence, bool):
        warnings.warn(f"prevalence P(ALS) = {prevalence:g} without a split of the rest: the "
                      "other classes share it in proportion to their training frequencies; "
                      "state the split, e.g. (p, 'uniform') or a full mapping",
                      PrevalenceWarning, stacklevel=4)
        prevalence = (prevalence, "training")
    if isinstance(prevalence, tuple) and len(prevalence) == 2:
        p_als, rest = prevalence
        if isinstance(p_als, bool) or not isinstance(p_als, int | float) or not 0 < p_als < 1:
            raise AlsStatsError(f"P(ALS) prevalence must be in (0, 1); got {p_als!r}")
        als = classes.index("ALS")
        others = [c for c in classes if c != "ALS"]
        if isinstance(rest, str) and rest in ("training", "uniform"):
            weights = np.delete(freq, als) if rest == "training" else np.ones(len(others))
        elif isinstance(rest, dict):
            unknown = sorted(set(rest) - set(others))
            absent = [c for c in others if c not in rest]
            if unknown or absent:
                raise AlsStatsError(f"the split of the rest must weight every non-ALS class "
                                    f"({', '.join(others)}); unknown {unknown}, missing "
                                    f"{absent}")
            weights = np.array([float(rest[c]) for c in others])
            if not np.all(weights > 0):
                raise AlsStatsError(f"the split of the rest needs weights > 0; got {rest!r}")
        else:
            raise AlsStatsError(f"the split of the rest must be 'training', 'uniform' or a "
                                f"mapping of weights; got {rest!r}")
        return np.insert(weights / weights.sum() * (1 - p_als), als, float(p_als))
    raise AlsStatsError(f"prevalence must be 'training', 'uniform', a mapping, (P(ALS), rest) "
                        f"or a number; got {type(prevalence).__name__}")


def _prevalence_from_text(text: str):
    """The Python form of a CLI prevalence string (see :func:`parse_prevalence`)."""
    if text.lower() in ("training", "uniform"):
        return text.lower()
    head, sep, rest = text.partition(":")
    if sep:
        rest = rest.strip()
        return (_number(head, text), rest.lower() if rest.lower() in ("training", "uniform")
                else _pairs(rest))
    if "=" in text:
        return _pairs(text)
    return _number(text, text)


def _number(part: str, text: str) -> float:
    try:
        return float(part)
    except ValueError as exc:
        raise AlsStatsError(f"prevalence {text!r}: {part.strip()!r} is not a number; expected "
                            "'training', 'uniform', 'ALS=p,MIMIC=p,...' or 'p:REST'") from exc


def _pairs(text: str) -> dict[str, float]:
    pairs = {}
    for part in text.split(","):
        name, eq, value = part.partition("=")
        if not eq:
            raise AlsStatsError(f"prevalence {part.strip()!r}: expected CLASS=number")
        pairs[name.strip()] = _number(value, part.strip())
    return pairs


def _full_mapping(prevalence: dict, classes: tuple[str, ...]) -> np.ndarray:
    unknown = sorted(set(prevalence) - set(classes))
    absent = [c for c in classes if c not in prevalence]
    if unknown or absent:
        raise AlsStatsError(f"prevalence must give every class ({', '.join(classes)}); "
                            f"unknown {unknown}, missing {absent}")
    p = np.array([float(prevalence[c]) for c in classes])
    if not (np.all(p > 0) and abs(p.sum() - 1) < 1e-6):
        raise AlsStatsError(f"prevalences must be > 0 and sum to 1; got {p.tolist()}")
    return p / p.sum()


def _format_prior(classes, p) -> str:
    return ", ".join(f"{c} {v:.3f}" for c, v in zip(classes, p, strict=True))
