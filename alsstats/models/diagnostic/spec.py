"""Model specifications: which markers, transforms, covariates and priors a model uses.

A specification is a TOML file (the shipped default is
``alsstats/models/specs/diagnostic.toml``; ``models/diagnostic.toml`` in the
repository is the editable copy).  It is validated completely on loading: an
unknown key, marker, transform, covariate or prior is a :class:`SpecError`.
A spec has a canonical JSON form, stored with every saved fit, so that a fit
is never silently scored with a different spec.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from alsstats.errors import SpecError
from alsstats.inference.convergence import ConvergencePolicy
from alsstats.models._spec_keys import check_keys, choice, read_spec_file
from alsstats.schema import GROUPS, MARKERS

__all__ = [
    "COVARIANCES",
    "COVARIATES",
    "DEFAULT_PRIORS",
    "MARKER_DISTRIBUTIONS",
    "MEASUREMENT_ERRORS",
    "MISSINGNESS",
    "PMA_OPTIONS",
    "RATIO_METABOLITES",
    "REFERENCES",
    "ROBUST_PRIORS",
    "TRANSFORMS",
    "DiagnosticSpec",
    "MarkerSpec",
    "default_spec",
    "load_spec",
]

TRANSFORMS = ("log", "identity")
COVARIATES = ("age", "sex")
PMA_OPTIONS = ("ALS", "exclude", "own")
#: "shared": one Sigma; "class_sd": one correlation matrix, class-specific marker SDs;
#: "per_class": one Sigma_k per class.
COVARIANCES = ("shared", "class_sd", "per_class")
#: "ignore": missing markers are marginalised and the pattern carries no information;
#: "class": which modalities are available depends on the class (Bernoulli per class).
MISSINGNESS = ("ignore", "class")
#: "labels": the cohort's group labels are the truth; "latent": true class is latent and
#: the recorded label (ALS split by El Escorial category) is an imperfect indicator.
REFERENCES = ("labels", "latent")
#: "none": markers are measured without known error; "crlb": the MRS ratios carry their
#: spectra's Cramér–Rao lower bounds as a known per-patient measurement SD
#: (:func:`alsstats.models.diagnostic.data.measurement_variance`).
MEASUREMENT_ERRORS = ("none", "crlb")
#: The class-conditional distribution of the markers: "normal" (multivariate normal),
#: "student_t" (multivariate Student-t, one nu per class) or "skew_normal" (multivariate
#: skew-normal, one skewness vector per class); :mod:`~alsstats.models.diagnostic.density`.
MARKER_DISTRIBUTIONS = ("normal", "student_t", "skew_normal")
#: The metabolites (cohort CRLB columns ``<name>_crlb``) of each MRS ratio marker.
RATIO_METABOLITES: dict[str, tuple[str, str]] = {"glu_naa": ("glu", "naa"),
                                                 "glu_gaba": ("glu", "gaba")}

#: Default prior hyperparameters (standardised marker scale); see the TOML for meanings.
DEFAULT_PRIORS: dict[str, float] = {
    "class_mean_sd": 1.5,
    "covariate_sd": 0.5,
    "marker_sd_rate": 1.0,
    "lkj_eta": 2.0,
    "site_sd_scale": 0.5,
    "label_agreement": 8.0,
    "label_disagreement": 1.0,
}

#: Priors of the robust marker distributions (written to the canonical JSON only when
#: their distribution is used, so that the JSON of every normal spec is unchanged):
#: nu_k - 2 ~ Gamma(2, nu_rate) (Student-t), lambda_kj ~ Normal(0, skew_sd) (skew-normal).
ROBUST_PRIORS: dict[str, tuple[str, float]] = {"nu_rate": ("student_t", 0.1),
                                               "skew_sd": ("skew_normal", 1.0)}

_MODEL_KEYS = {"classes", "pma", "covariance", "missingness", "reference",
               "measurement_error", "marker_distribution", "interval"}
#: Fits saved before ``covariance`` existed store ``per_class_covariance`` (true/false).
_LEGACY_MODEL_KEYS = {"per_class_covariance"}
_MARKER_KEYS = {"transform", "covariates"}
_TOP_KEYS = {"model", "markers", "priors", "convergence"}


@dataclass(frozen=True)
class MarkerSpec:
    """One marker: its cohort column, transform and the covariates adjusting it."""

    name: str
    transform: str = "identity"
    covariates: tuple[str, ...] = COVARIATES


@dataclass(frozen=True)
class DiagnosticSpec:
    """A validated diagnostic-model specification (see the module docstring)."""

    markers: tuple[MarkerSpec, ...]
    classes: tuple[str, ...] = ("ALS", "MIMIC", "HC")
    pma: str = "ALS"
    covariance: str = "class_sd"
    missingness: str = "ignore"
    reference: str = "labels"
    measurement_error: str = "none"
    marker_distribution: str = "normal"
    interval: float = 0.9
    priors: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PRIORS))
    convergence: ConvergencePolicy = field(default_factory=ConvergencePolicy)

    @property
    def marker_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.markers)

    @property
    def class_scales(self) -> bool:
        """True when the classes have their own marker SDs (``class_sd`` or ``per_class``)."""
        return self.covariance != "shared"

    @property
    def covariates(self) -> tuple[str, ...]:
        """Covariates used by at least one marker, in :data:`COVARIATES` order."""
        used = {c for m in self.markers for c in m.covariates}
        return tuple(c for c in COVARIATES if c in used)

    def group_to_class(self) -> dict[str, str | None]:
        """Map each cohort ``group`` label to a model class (``None``: not used in the fit)."""
        mapping: dict[str, str | None] = {g: (g if g in self.classes else None) for g in GROUPS}
        mapping["PMA"] = {"ALS": "ALS", "exclude": None, "own": "PMA"}[self.pma]
        return mapping

    @property
    def error_markers(self) -> tuple[str, ...]:
        """Markers with a known per-patient measurement error (empty unless ``"crlb"``)."""
        if self.measurement_error == "none":
            return ()
        return tuple(n for n in self.marker_names if n in RATIO_METABOLITES)

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (the TOML structure, fully filled in).

        ``measurement_error`` is written only when it is not ``"none"``, and
        ``marker_distribution`` (with its prior, :data:`ROBUST_PRIORS`) only when it is
        not ``"normal"``, so that the canonical JSON of every spec without them (and of
        every fit saved before they existed) is unchanged.
        """
        model = {"classes": list(self.classes), "pma": self.pma,
                 "covariance": self.covariance, "missingness": self.missingness,
                 "reference": self.reference, "interval": self.interval}
        if self.measurement_error != "none":
            model["measurement_error"] = self.measurement_error
        if self.marker_distribution != "normal":
            model["marker_distribution"] = self.marker_distribution
        priors = {key: value for key, value in self.priors.items()
                  if key not in ROBUST_PRIORS
                  or ROBUST_PRIORS[key][0] == self.marker_distribution}
        return {
            "model": model,
            "markers": {m.name: {"transform": m.transform, "covariates": list(m.covariates)}
                        for m in self.markers},
            "priors": priors,
            "convergence": self.convergence.to_dict(),
        }

    def to_json(self) -> str:
        """Canonical JSON (marker order kept; keys within tables sorted)."""
        return json.dumps(self.to_dict(), sort_keys=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "spec") -> DiagnosticSpec:
        """Validate plain data (as read from TOML) into a spec; raise :class:`SpecError`."""
        if not isinstance(data, dict):
            raise SpecError(f"{source}: expected a table, got {type(data).__name__}")
        check_keys(data, _TOP_KEYS, source, "top-level table")
        model = data.get("model", {})
        check_keys(model, _MODEL_KEYS | _LEGACY_MODEL_KEYS, source, "[model] key")
        classes = model.get("classes", ["ALS", "MIMIC", "HC"])
        if (not isinstance(classes, list) or len(classes) < 2
                or any(c not in GROUPS for c in classes) or len(set(classes)) != len(classes)):
            raise SpecError(f"{source}: [model] classes must be 2 or more distinct labels from "
                            f"{', '.join(GROUPS)}; got {classes!r}")
        if "ALS" not in classes:
            raise SpecError(f"{source}: [model] classes must include 'ALS'")
        pma = choice(model, "pma", "ALS", PMA_OPTIONS, source)
        if (pma == "own") != ("PMA" in classes):
            raise SpecError(f"{source}: [model] pma = 'own' requires 'PMA' in classes, and "
                            "'PMA' in classes requires pma = 'own'")
        legacy = model.get("per_class_covariance")
        covariance = choice(model, "covariance", "class_sd" if legacy is None
                            else ("per_class" if legacy else "shared"), COVARIANCES, source)
        missingness = choice(model, "missingness", "ignore", MISSINGNESS, source)
        reference = choice(model, "reference", "labels", REFERENCES, source)
        if reference == "latent" and missingness == "class":
            raise SpecError(f"{source}: [model] reference = 'latent' needs missingness = "
                            "'ignore' (availability per class needs the true classes)")
        measurement_error = choice(model, "measurement_error", "none", MEASUREMENT_ERRORS,
                                   source)
        marker_distribution = choice(model, "marker_distribution", "normal",
                                     MARKER_DISTRIBUTIONS, source)
        if marker_distribution != "normal":
            for key, value, needs in (("reference", reference, "labels"),
                                      ("measurement_error", measurement_error, "none")):
                if value != needs:
                    raise SpecError(f"{source}: [model] marker_distribution = "
                                    f"{marker_distribution!r} is not supported with {key} = "
                                    f"{value!r} (only with {key} = {needs!r})")
        interval = model.get("interval", 0.9)
        if isinstance(interval, bool) or not isinstance(interval, int | float) \
                or not 0 < interval < 1:
            raise SpecError(f"{source}: [model] interval must be a number in (0, 1); "
                            f"got {interval!r}")
        markers_raw = data.get("markers")
        if not isinstance(markers_raw, dict) or not markers_raw:
            raise SpecError(f"{source}: [markers] must list at least one marker table")
        markers = []
        for name, m in markers_raw.items():
            if name not in MARKERS:
                raise SpecError(f"{source}: unknown marker {name!r}; expected one of "
                                f"{', '.join(MARKERS)}")
            if not isinstance(m, dict):
                raise SpecError(f"{source}: [markers.{name}] must be a table")
            check_keys(m, _MARKER_KEYS, source, f"[markers.{name}] key")
            transform = choice(m, "transform", "identity", TRANSFORMS, source,
                               f"[markers.{name}]")
            covs = m.get("covariates", list(COVARIATES))
            if not isinstance(covs, list) or any(c not in COVARIATES for c in covs) \
                    or len(set(covs)) != len(covs):
                raise SpecError(f"{source}: [markers.{name}] covariates must be distinct "
                                f"names from {', '.join(COVARIATES)}; got {covs!r}")
            markers.append(MarkerSpec(name, transform, tuple(c for c in COVARIATES if c in covs)))
        if measurement_error == "crlb":
            ratios = [m for m in markers if m.name in RATIO_METABOLITES]
            if not ratios:
                raise SpecError(f"{source}: [model] measurement_error = 'crlb' needs an MRS "
                                f"ratio marker ({', '.join(RATIO_METABOLITES)}) in [markers]")
            linear = [m.name for m in ratios if m.transform != "log"]
            if linear:
                raise SpecError(f"{source}: [model] measurement_error = 'crlb' needs "
                                f"transform = 'log' for {', '.join(linear)} (the CRLB is a "
                                "relative SD: the delta method is exact to first order on "
                                "the log scale)")
        priors_raw = data.get("priors", {})
        if not isinstance(priors_raw, dict):
            raise SpecError(f"{source}: [priors] must be a table")
        check_keys(priors_raw, set(DEFAULT_PRIORS) | set(ROBUST_PRIORS), source, "prior")
        priors = dict(DEFAULT_PRIORS)
        for key, (distribution, value) in ROBUST_PRIORS.items():
            if distribution == marker_distribution:
                priors[key] = value
        for key, value in priors_raw.items():
            if key in ROBUST_PRIORS and ROBUST_PRIORS[key][0] != marker_distribution:
                raise SpecError(f"{source}: prior {key} is used only with [model] "
                                f"marker_distribution = {ROBUST_PRIORS[key][0]!r}; got "
                                f"{marker_distribution!r}")
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise SpecError(f"{source}: prior {key} must be a positive number; got {value!r}")
            priors[key] = float(value)
        convergence = ConvergencePolicy.from_dict(data.get("convergence", {}), source)
        return cls(markers=tuple(markers), classes=tuple(classes), pma=pma,
                   covariance=covariance, missingness=missingness, reference=reference,
                   measurement_error=measurement_error,
                   marker_distribution=marker_distribution, interval=float(interval),
                   priors=priors, convergence=convergence)

    @classmethod
    def from_json(cls, text: str) -> DiagnosticSpec:
        return cls.from_dict(json.loads(text), source="stored spec")


def load_spec(spec: DiagnosticSpec | dict | str | os.PathLike | None) -> DiagnosticSpec:
    """Return a :class:`DiagnosticSpec` from a spec, a dict, a TOML path, or ``None`` (default)."""
    if spec is None:
        return default_spec()
    if isinstance(spec, DiagnosticSpec):
        return spec
    if isinstance(spec, dict):
        return DiagnosticSpec.from_dict(spec)
    if isinstance(spec, str | os.PathLike):
        return DiagnosticSpec.from_dict(read_spec_file(spec), source=str(spec))
    raise SpecError(f"spec must be None, a path, a dict or a DiagnosticSpec; got "
                    f"{type(spec).__name__}")


def default_spec() -> DiagnosticSpec:
    """The shipped default specification (six markers, ALS/MIMIC/HC, PMA counted as ALS)."""
    text = resources.files("alsstats.models").joinpath("specs/diagnostic.toml").read_text(
        encoding="utf-8")
    return DiagnosticSpec.from_dict(tomllib.loads(text), source="default diagnostic spec")
