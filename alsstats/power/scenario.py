r"""Trial scenarios for simulation-based power (dataclasses, read from TOML).

A scenario describes a parallel-arm slope trial.  Subject ``i`` in arm ``a`` at site
``s`` is measured at the scheduled visits :math:`t_j` until it drops out or dies:

.. math::

    y_{ij} = \beta_0 + u_{0i} + v_{0s} + \big(\beta_1 (1 - \kappa_a) + u_{1i} + v_{1s}\big) t_j
             + \varepsilon_{ij},

with :math:`(u_{0i}, u_{1i}) \sim N(0, G)` (SDs and correlation given),
:math:`v_s` site intercept/slope offsets, :math:`\varepsilon_{ij} \sim N(0, \sigma^2_e)`,
:math:`\beta_1` the control-arm mean slope and :math:`\kappa_a` arm ``a``'s slowing
(0.3 = 30% slower decline; 0 for the control arm, the first arm).  Dropout and death
times are exponential (rates per time unit of the visit schedule); the death hazard
can be informative (a shared-parameter link), multiplied by :math:`\exp(\gamma\, z_i)`
with :math:`\gamma` = ``death_slope_log_hr`` and :math:`z_i` in slope-SD units, signed so
that positive means faster progression:

* ``death_link = "deviation"`` (default): :math:`z_i = \pm u_{1i} / \sigma_{b_1}`, the
  subject's deviation from its arm's mean slope.  Both arms lose the same kind of
  subjects, so the slope *difference* is barely affected;
* ``death_link = "slope"``: :math:`z_i = \pm (b_{1i} - \beta_1) / \sigma_{b_1}` with
  :math:`b_{1i}` the subject's whole slope (arm effect, random and site slope):
  patients who decline faster die sooner whatever their arm, so a treatment that slows
  decline also changes who is still measured (informative, arm-dependent dropout; the
  plain slope analysis is then biased, :mod:`alsstats.power.joint`).

A subject is observed at every visit up to the earlier of the two times (baseline
always); the death time is recorded (censored at dropout and at the last visit) for the
joint analysis.  Subjects are spread over sites at random within each arm.

Example TOML (shipped as ``trial_adascog``)::

    name = "ADAS-cog"
    visits = [0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5]
    [[arms]]
    name = "placebo"
    n = 208
    [[arms]]
    name = "active"
    n = 208
    slowing = 0.3
    [outcome]
    intercept = 20.0
    slope = 5.0
    sd_intercept = 7.416
    sd_slope = 4.899
    corr_intercept_slope = 0.8
    sd_residual = 3.162
    [analysis]
    method = "reml"
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from alsstats.dropout import Retention
from alsstats.errors import AlsStatsError, ScenarioError

__all__ = [
    "ANALYSIS_METHODS",
    "DEATH_LINKS",
    "Analysis",
    "Arm",
    "Dropout",
    "Outcome",
    "Sites",
    "TrialScenario",
    "read_trial_scenario",
]

ANALYSIS_METHODS = ("reml", "egls", "two-stage", "joint")
DEATH_LINKS = ("deviation", "slope")


@dataclass(frozen=True)
class Arm:
    """A trial arm: name, subjects, and slowing of the control slope (0 for control)."""

    name: str
    n: int
    slowing: float = 0.0


@dataclass(frozen=True)
class Outcome:
    """Mean trajectory of the control arm and the variance components."""

    intercept: float
    slope: float
    sd_intercept: float
    sd_slope: float
    corr_intercept_slope: float
    sd_residual: float

    @property
    def random_cov(self) -> np.ndarray:
        """The 2×2 covariance ``G`` of the random intercept and slope."""
        c = self.corr_intercept_slope * self.sd_intercept * self.sd_slope
        return np.array([[self.sd_intercept**2, c], [c, self.sd_slope**2]])


@dataclass(frozen=True)
class Dropout:
    """Exponential dropout and death hazards (per time unit) and informative death.

    ``death_slope_log_hr`` is the log hazard ratio of death per SD of faster decline;
    ``death_link`` says which slope it refers to (module docstring).
    """

    hazard: float = 0.0
    death_hazard: float = 0.0
    death_slope_log_hr: float = 0.0
    death_link: str = "deviation"


@dataclass(frozen=True)
class Sites:
    """Number of sites and SDs of site intercept/slope offsets."""

    n: int = 1
    sd_intercept: float = 0.0
    sd_slope: float = 0.0


@dataclass(frozen=True)
class Analysis:
    """How each simulated trial is analysed and tested."""

    method: str = "reml"
    alpha: float = 0.05
    alternative: str = "two-sided"
    common_baseline: bool = False


@dataclass(frozen=True)
class TrialScenario:
    """A complete trial scenario; the first arm is the control arm."""

    visits: tuple[float, ...]
    arms: tuple[Arm, ...]
    outcome: Outcome
    dropout: Dropout = field(default_factory=Dropout)
    sites: Sites = field(default_factory=Sites)
    analysis: Analysis = field(default_factory=Analysis)
    name: str = "trial"

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def times(self) -> np.ndarray:
        return np.asarray(self.visits, dtype=float)

    @property
    def active_arms(self) -> tuple[Arm, ...]:
        return self.arms[1:]

    def with_changes(self, *, n_control: int | None = None, slowing: float | None = None,
                     method: str | None = None) -> TrialScenario:
        """A copy with the control arm resized (other arms keep their ratio to it), every
        active arm's slowing set to ``slowing`` and/or another analysis ``method``."""
        arms = list(self.arms)
        if n_control is not None:
            ratio = [a.n / arms[0].n for a in arms]
            arms = [dataclasses.replace(a, n=max(1, round(n_control * r)))
                    for a, r in zip(arms, ratio, strict=True)]
        if slowing is not None:
            arms = [arms[0], *(dataclasses.replace(a, slowing=float(slowing)) for a in arms[1:])]
        analysis = self.analysis if method is None else dataclasses.replace(self.analysis,
                                                                            method=method)
        return dataclasses.replace(self, arms=tuple(arms), analysis=analysis)

    def last_visit_shares(self) -> np.ndarray:
        """Share of subjects whose last visit is each visit (ignoring informative death)."""
        rate = self.dropout.hazard + self.dropout.death_hazard
        surv = np.exp(-rate * self.times)          # P(still followed at visit j)
        return surv - np.append(surv[1:], 0.0)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON of the scenario (identifies checkpoint runs)."""
        text = json.dumps(self.to_dict(), sort_keys=True, default=float)
        return hashlib.sha256(text.encode()).hexdigest()


def _fail(msg: str):
    raise ScenarioError(msg)


def _finite(name: str, value: float, *, low: float | None = None, low_open: bool = False,
            high: float | None = None, high_open: bool = False) -> None:
    v = float(value)
    if not math.isfinite(v):
        _fail(f"{name} must be a finite number, got {value!r}")
    if low is not None and (v < low or (low_open and v == low)):
        _fail(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (v > high or (high_open and v == high)):
        _fail(f"{name} must be {'<' if high_open else '<='} {high}, got {value!r}")


def _validate(s: TrialScenario) -> None:
    t = np.asarray(s.visits, dtype=float)
    if t.ndim != 1 or t.size < 2 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        _fail(f"visits must be >= 2 finite, strictly increasing times, got {list(s.visits)}")
    if t[0] != 0:
        _fail(f"the first visit must be baseline at time 0, got {t[0]}")
    if len(s.arms) < 2:
        _fail("a trial needs a control arm and at least one active arm ([[arms]] twice)")
    names = [a.name for a in s.arms]
    if len(set(names)) != len(names):
        _fail(f"arm names must be unique, got {names}")
    for a in s.arms:
        if int(a.n) != a.n or a.n < 2:
            _fail(f"arm {a.name!r}: n must be a whole number >= 2, got {a.n!r}")
        _finite(f"arm {a.name!r} slowing", a.slowing, high=1.0)
    if s.arms[0].slowing != 0:
        _fail(f"the first arm ({s.arms[0].name!r}) is the control arm; its slowing must be 0")
    o = s.outcome
    for k in ("intercept", "slope"):
        _finite(f"outcome.{k}", getattr(o, k))
    for k in ("sd_intercept", "sd_slope"):
        _finite(f"outcome.{k}", getattr(o, k), low=0.0)
    _finite("outcome.sd_residual", o.sd_residual, low=0.0, low_open=True)
    _finite("outcome.corr_intercept_slope", o.corr_intercept_slope, low=-1.0, high=1.0)
    if o.slope == 0 and any(a.slowing for a in s.arms):
        _fail("outcome.slope is 0, so a slowing has no effect; give the control slope")
    d = s.dropout
    _finite("dropout.hazard", d.hazard, low=0.0)
    _finite("dropout.death_hazard", d.death_hazard, low=0.0)
    _finite("dropout.death_slope_log_hr", d.death_slope_log_hr)
    if d.death_link not in DEATH_LINKS:
        _fail(f"dropout.death_link must be one of {DEATH_LINKS}, got {d.death_link!r}")
    if int(s.sites.n) != s.sites.n or s.sites.n < 1:
        _fail(f"sites.n must be a whole number >= 1, got {s.sites.n!r}")
    _finite("sites.sd_intercept", s.sites.sd_intercept, low=0.0)
    _finite("sites.sd_slope", s.sites.sd_slope, low=0.0)
    a = s.analysis
    if a.method not in ANALYSIS_METHODS:
        _fail(f"analysis.method must be one of {ANALYSIS_METHODS}, got {a.method!r}")
    _finite("analysis.alpha", a.alpha, low=0.0, low_open=True, high=1.0, high_open=True)
    if a.alternative not in ("two-sided", "one-sided"):
        _fail(f"analysis.alternative must be 'two-sided' or 'one-sided', got {a.alternative!r}")
    if a.method == "joint" and len(s.arms) != 2:
        _fail("the joint analysis compares one active arm with control; the scenario has "
              f"{len(s.arms)} arms")
    if a.method == "two-stage" and a.common_baseline:
        _fail("the two-stage estimator compares per-subject slopes; common_baseline needs "
              "'reml' or 'egls'")


_SECTIONS = {"outcome": Outcome, "dropout": Dropout, "sites": Sites, "analysis": Analysis}
_TOP = {"name", "visits", "arms", *_SECTIONS}


def _build(cls, table: dict, where: str):
    if not isinstance(table, dict):
        _fail(f"[{where}] must be a table")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(table) - known)
    if unknown:
        _fail(f"unknown key(s) in [{where}]: {', '.join(unknown)} "
              f"(known: {', '.join(sorted(known))})")
    try:
        return cls(**table)
    except TypeError as exc:
        _fail(f"[{where}]: {exc}")


def _locate(scenario: str | os.PathLike):
    """A ``.toml`` path as given, else the package's ``NAME.toml`` (never the working folder)."""
    path = Path(scenario)
    if path.suffix == ".toml":
        if path.is_dir():
            raise ScenarioError(f"{path}: is a folder, not a scenario file")
        if not path.is_file():
            raise ScenarioError(f"{path}: trial scenario file not found")
        return path
    shipped = resources.files("alsstats.power.scenarios") / f"{scenario}.toml"
    if shipped.is_file():
        return shipped
    names = sorted(p.name[:-5] for p in resources.files("alsstats.power.scenarios").iterdir()
                   if p.name.endswith(".toml"))
    raise ScenarioError(f"unknown trial scenario {str(scenario)!r}; shipped: {', '.join(names)} "
                        "(or give a .toml path)")


def _dropout_hazard(table, visits) -> dict:
    """``[dropout]`` with ``lost`` by ``by`` (constant hazard) turned into its ``hazard``.

    The exact conversion of :meth:`alsstats.dropout.Retention.lost_by`:
    ``hazard = -ln(1 - lost) / by`` per time unit of the visit schedule.
    """
    if not isinstance(table, dict) or not ({"lost", "by"} & set(table)):
        return table
    if "hazard" in table or not {"lost", "by"} <= set(table):
        _fail("[dropout]: give hazard, or both lost and by (proportion lost by that time, "
              "constant hazard), not both forms")
    rest = {k: v for k, v in table.items() if k not in ("lost", "by")}
    try:
        hazard = Retention.lost_by([float(v) for v in visits], table["lost"], table["by"]).hazard
    except AlsStatsError as exc:
        _fail(f"[dropout]: {exc}")
    return {**rest, "hazard": hazard}


def read_trial_scenario(scenario: str | os.PathLike) -> TrialScenario:
    """Read and validate a trial scenario (unknown keys are errors).

    ``scenario`` is a ``.toml`` path, or the name of a scenario shipped with the
    package (``trial_adascog``, ``trial_alsfrs``, ``trial_alsfrs_death``).
    """
    path = _locate(scenario)
    data = path.read_bytes()
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ScenarioError(f"{path}: line {line}: not UTF-8 text (byte {exc.start}); save the "
                            "scenario as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(raw) - _TOP)
    if unknown:
        _fail(f"{path}: unknown top-level key(s): {', '.join(unknown)}")
    for key in ("visits", "arms", "outcome"):
        if key not in raw:
            _fail(f"{path}: missing required key {key!r}")
    if not isinstance(raw["arms"], list):
        _fail(f"{path}: arms must be an array of tables ([[arms]])")
    try:
        arms = tuple(_build(Arm, a, f"arms #{i + 1}") for i, a in enumerate(raw["arms"]))
        if "dropout" in raw:
            raw = {**raw, "dropout": _dropout_hazard(raw["dropout"], raw["visits"])}
        parts = {k: _build(cls, raw[k], k) for k, cls in _SECTIONS.items() if k in raw}
        return TrialScenario(visits=tuple(float(v) for v in raw["visits"]), arms=arms,
                             name=str(raw.get("name", os.path.basename(str(path)))), **parts)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ScenarioError(f"{path}: {exc}") from None
