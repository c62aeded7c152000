"""Specification of the longitudinal decline model (TOML), validated completely on loading.

The shipped default is ``alsstats/models/specs/longitudinal.toml``; the repository's
``models/longitudinal.toml`` is the editable copy.  Unknown tables, keys and prior
names are :class:`~alsstats.errors.SpecError`.  The canonical JSON form is stored with
every saved fit.
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

__all__ = ["DEFAULT_PRIORS", "DEFAULT_SAMPLING", "LongitudinalSpec",
           "load_longitudinal_spec"]

#: Prior hyperparameters on the standardised scale (meanings in the TOML file).
DEFAULT_PRIORS: dict[str, float] = {
    "intercept_sd": 2.5, "slope_sd": 2.5, "covariate_sd": 2.5, "sd_intercept_scale": 1.0,
    "sd_slope_scale": 1.0, "lkj_eta": 2.0, "sigma_scale": 1.0, "site_sd_scale": 0.5,
    "nu_rate": 0.1,
}
DEFAULT_SAMPLING: dict[str, float] = {"draws": 1000, "tune": 1000, "chains": 4,
                                      "target_accept": 0.95}
RANDOM_EFFECTS = ("intercept_slope", "intercept")
RESIDUALS = ("normal", "student_t")
GROUP_VARIANCES = ("shared", "per_group", "auto")
OUTCOME_SCALES = ("linear", "log")
_MODEL_KEYS = {"random_effects", "group_intercepts", "residual", "reference_group", "interval",
               "group_variances", "outcome_scale"}
_TOP_KEYS = {"model", "priors", "sampling", "convergence"}


@dataclass(frozen=True)
class LongitudinalSpec:
    """A validated longitudinal-model specification (see the module docstring)."""

    random_effects: str = "intercept_slope"
    group_intercepts: bool = True
    residual: str = "normal"
    reference_group: str = ""
    interval: float = 0.9
    group_variances: str = "shared"
    outcome_scale: str = "linear"
    priors: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PRIORS))
    sampling: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SAMPLING))
    convergence: ConvergencePolicy = field(default_factory=ConvergencePolicy)

    @property
    def random_slope(self) -> bool:
        return self.random_effects == "intercept_slope"

    @property
    def log_outcome(self) -> bool:
        """The outcome column is a natural log: percent change per time unit is 100(e^b − 1)."""
        return self.outcome_scale == "log"

    def to_dict(self) -> dict[str, Any]:
        return {"model": {"random_effects": self.random_effects,
                          "group_intercepts": self.group_intercepts, "residual": self.residual,
                          "reference_group": self.reference_group, "interval": self.interval,
                          "group_variances": self.group_variances,
                          "outcome_scale": self.outcome_scale},
                "priors": dict(self.priors), "sampling": dict(self.sampling),
                "convergence": self.convergence.to_dict()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def replace(self, **changes: Any) -> LongitudinalSpec:
        """A copy with ``[model]`` fields or whole ``priors``/``sampling`` tables changed."""
        data = self.to_dict()
        for key, value in changes.items():
            if key in ("priors", "sampling", "convergence"):
                data[key] = {**data[key], **value}
            else:
                data["model"][key] = value
        return LongitudinalSpec.from_dict(data, source="spec override")

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "spec") -> LongitudinalSpec:
        """Validate plain data (as read from TOML); raise :class:`SpecError` on any problem."""
        check_keys(data, _TOP_KEYS, source, "top-level table")
        model = data.get("model", {})
        check_keys(model, _MODEL_KEYS, source, "[model] key")
        re_kind = choice(model, "random_effects", "intercept_slope", RANDOM_EFFECTS, source)
        residual = choice(model, "residual", "normal", RESIDUALS, source)
        gi = model.get("group_intercepts", True)
        if not isinstance(gi, bool):
            raise SpecError(f"{source}: [model] group_intercepts must be true or false")
        ref = model.get("reference_group", "")
        if not isinstance(ref, str):
            raise SpecError(f"{source}: [model] reference_group must be a string")
        interval = model.get("interval", 0.9)
        if isinstance(interval, bool) or not isinstance(interval, int | float) \
                or not 0 < interval < 1:
            raise SpecError(f"{source}: [model] interval must be in (0, 1); got {interval!r}")
        choices = {key: choice(model, key, default, allowed, source)
                   for key, allowed, default in (("group_variances", GROUP_VARIANCES, "shared"),
                                                 ("outcome_scale", OUTCOME_SCALES, "linear"))}
        tables = {}
        for name, defaults in (("priors", DEFAULT_PRIORS), ("sampling", DEFAULT_SAMPLING)):
            raw = data.get(name, {})
            check_keys(raw, set(defaults), source, f"[{name}] name")
            merged = dict(defaults)
            for key, value in raw.items():
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise SpecError(f"{source}: [{name}] {key} must be a non-negative number; "
                                    f"got {value!r}")
                merged[key] = value
            tables[name] = merged
        if any(v <= 0 for v in tables["priors"].values()):
            raise SpecError(f"{source}: [priors] values must be positive")
        s = tables["sampling"]
        for key in ("draws", "tune", "chains"):
            if int(s[key]) != s[key] or s[key] < 1:
                raise SpecError(f"{source}: [sampling] {key} must be a positive integer")
            s[key] = int(s[key])
        if not 0 < s["target_accept"] < 1:
            raise SpecError(f"{source}: [sampling] target_accept must be in (0, 1)")
        return cls(re_kind, gi, residual, ref, float(interval), choices["group_variances"],
                   choices["outcome_scale"], tables["priors"], tables["sampling"],
                   ConvergencePolicy.from_dict(data.get("convergence", {}), source))

    @classmethod
    def from_json(cls, text: str) -> LongitudinalSpec:
        return cls.from_dict(json.loads(text), source="stored spec")


def load_longitudinal_spec(spec: LongitudinalSpec | dict | str | os.PathLike | None = None
                           ) -> LongitudinalSpec:
    """A :class:`LongitudinalSpec` from a spec, a dict, a TOML path or ``None`` (the default)."""
    if isinstance(spec, LongitudinalSpec):
        return spec
    if isinstance(spec, dict):
        return LongitudinalSpec.from_dict(spec)
    if spec is None:
        text = resources.files("alsstats.models").joinpath("specs/longitudinal.toml").read_text(
            encoding="utf-8")
        return LongitudinalSpec.from_dict(tomllib.loads(text), source="default spec")
    if isinstance(spec, str | os.PathLike):
        return LongitudinalSpec.from_dict(read_spec_file(spec), source=str(spec))
    raise SpecError(f"spec must be None, a path, a dict or a LongitudinalSpec; got "
                    f"{type(spec).__name__}")
