"""Simulation scenarios: TOML files parsed into validated, immutable dataclasses.

A scenario holds every parameter of the synthetic cohort: strata and their
sizes, covariates, class-conditional marker distributions and correlations,
site offsets, measurement error, MRS CRLB and QC, missingness, and the visit
schedule with dropout and decline.  The default scenario ships with the
package (``alsstats/simulate/scenarios/default.toml``) and is found by name; a
user scenario is given as a path to its ``.toml`` file (a name is never looked
up in the working directory, so a local file cannot silently replace a shipped
scenario).

Unknown keys, negative standard deviations, probabilities outside [0, 1] and
correlation matrices that are not positive definite raise
:class:`~alsstats.errors.ScenarioError` naming the offending key.
"""

from __future__ import annotations

import copy
import itertools
import math
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from alsstats.dropout import Retention
from alsstats.errors import AlsStatsError, ScenarioError
from alsstats.schema import EL_ESCORIAL, GROUPS

__all__ = [
    "LOG_MARKERS",
    "MARKER_ORDER",
    "MODALITY_NAMES",
    "Scenario",
    "Stratum",
    "available_scenarios",
    "load_scenario",
]

#: Markers generated jointly (transformed scale); the last five on the log scale.
MARKER_ORDER = ("ratio", "smn", "glu", "naa", "gaba", "nfl", "chi3l1")
LOG_MARKERS = ("glu", "naa", "gaba", "nfl", "chi3l1")
MODALITY_NAMES = ("mrs", "fmri", "smri", "blood")
_VOLUMES = ("total_gm", "precuneus", "etiv")
_SITE_KEYS = (*MARKER_ORDER, "total_gm", "precuneus")


def _strict(d: Any, allowed: set[str], path: str, required: set[str] = frozenset()) -> dict:
    if not isinstance(d, dict):
        raise ScenarioError(f"{path}: expected a table, got {type(d).__name__} {d!r}")
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise ScenarioError(f"{path}: unknown key {unknown[0]!r}; allowed keys: "
                            f"{', '.join(sorted(allowed))}")
    missing = sorted(required - set(d))
    if missing:
        raise ScenarioError(f"{path}: missing required key {missing[0]!r}")
    return d


def _num(d: dict, key: str, path: str, default: float | None = None, *, low: float | None = None,
         high: float | None = None, positive: bool = False) -> float:
    if key not in d:
        if default is None:
            raise ScenarioError(f"{path}: missing required key {key!r}")
        return float(default)
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ScenarioError(f"{path}.{key}: expected a finite number, got {v!r}")
    if positive and v <= 0:
        raise ScenarioError(f"{path}.{key}: must be > 0, got {v!r}")
    if low is not None and v < low:
        raise ScenarioError(f"{path}.{key}: must be >= {low:g}, got {v!r}")
    if high is not None and v > high:
        raise ScenarioError(f"{path}.{key}: must be <= {high:g}, got {v!r}")
    return float(v)


def _sd(d: dict, key: str, path: str, default: float | None = None) -> float:
    return _num(d, key, path, default, low=0.0)


@dataclass(frozen=True)
class LogNormal:
    """A log-normal distribution by its median and log-scale SD."""

    median: float
    log_sd: float

    @classmethod
    def parse(cls, d: Any, path: str) -> LogNormal:
        d = _strict(d, {"median", "log_sd"}, path, {"median", "log_sd"})
        return cls(_num(d, "median", path, positive=True), _sd(d, "log_sd", path))


@dataclass(frozen=True)
class Stratum:
    """One stratum of the cohort (a diagnostic group or an ALS stage).

    ``markers`` maps each marker of :data:`MARKER_ORDER` to its (location, SD)
    on the transformed scale, location *relative to the reference*: the
    multiplier's log for log markers, the mean itself for identity markers.
    """

    name: str
    group: str
    n: int
    age_mean: float
    age_sd: float
    male_fraction: float
    el_escorial: dict[str, float]
    duration: LogNormal | None
    delta_fs: LogNormal | None
    post_slope: LogNormal | None
    alsfrs_mean: float | None
    alsfrs_sd: float | None
    markers: dict[str, tuple[float, float]]
    nfl_progression: float
    correlations: dict[tuple[str, str], float]
    gm_offset: float
    annual_change: dict[str, tuple[float, float]]

    @property
    def progressive(self) -> bool:
        """True for strata whose function declines (ALS, PMA): they have a ΔFS slope."""
        return self.delta_fs is not None


@dataclass(frozen=True)
class Scenario:
    """A complete, validated simulation scenario (see the module docstring)."""

    name: str
    description: str
    reference_age: float
    strata: dict[str, Stratum]
    reference: dict[str, dict[str, float]]
    volumes: dict[str, dict[str, float]]
    measurement: dict[str, Any]
    site_sd: dict[str, float]
    n_sites: int
    visit_years: tuple[float, ...]
    visit_jitter_years: float
    retention: tuple[float, ...]
    followup_modalities: tuple[str, ...]
    missing_mechanism: str
    missing_probability: dict[str, float]
    mar_log_odds_per_10_points: float
    alsfrs_baseline_sd: float
    pre_post_log_correlation: float
    raw: dict = field(repr=False, compare=False, default_factory=dict)

    # ------------------------------------------------------------------ parsing
    @classmethod
    def from_dict(cls, raw: dict, source: str = "scenario") -> Scenario:
        """Validate a scenario table (as read from TOML) and build the dataclass."""
        top = _strict(raw, {"name", "description", "reference_age", "design",
                            "reference", "volumes", "measurement", "sites", "missingness",
                            "correlations", "strata", "alsfrs"}, source,
                      {"design", "reference", "volumes", "measurement", "strata"})
        name = str(top.get("name", source))
        design = _strict(top["design"], {"n_sites", "visit_years", "visit_jitter_years",
                                         "retention", "lost", "by_years",
                                         "followup_modalities"}, f"{source}.design",
                         {"visit_years"})
        n_sites_value = _num(design, "n_sites", f"{source}.design", 1, low=1)
        if n_sites_value != int(n_sites_value):
            raise ScenarioError(f"{source}.design.n_sites: must be a whole number, got "
                                f"{design['n_sites']!r}")
        n_sites = int(n_sites_value)
        visits = _float_list(design["visit_years"], f"{source}.design.visit_years")
        if not visits or visits[0] != 0.0 or any(b <= a for a, b in itertools.pairwise(visits)):
            raise ScenarioError(f"{source}.design.visit_years: must start at 0 and increase, "
                                f"got {visits}")
        retention = _design_retention(design, visits, f"{source}.design")
        if len(retention) != len(visits) or retention[0] != 1.0 or any(
                not 0 <= r <= 1 for r in retention) or any(
                b > a for a, b in itertools.pairwise(retention)):
            raise ScenarioError(f"{source}.design.retention: need one non-increasing "
                                f"probability per visit starting at 1.0, got {retention}")
        follow = tuple(design.get("followup_modalities", list(MODALITY_NAMES)))
        for m in follow:
            if m not in MODALITY_NAMES:
                raise ScenarioError(f"{source}.design.followup_modalities: unknown modality "
                                    f"{m!r}; expected one of {', '.join(MODALITY_NAMES)}")
        ref = _strict(top["reference"], set(MARKER_ORDER), f"{source}.reference",
                      set(MARKER_ORDER))
        reference = {}
        for m in MARKER_ORDER:
            p = f"{source}.reference.{m}"
            keys = {"median", "age_slope", "male"} if m in LOG_MARKERS else {"age_slope", "male"}
            d = _strict(ref[m], keys, p, {"median"} if m in LOG_MARKERS else set())
            reference[m] = {"age_slope": _num(d, "age_slope", p, 0.0),
                            "male": _num(d, "male", p, 0.0)}
            if m in LOG_MARKERS:
                reference[m]["median"] = _num(d, "median", p, positive=True)
        vol = _strict(top["volumes"], set(_VOLUMES), f"{source}.volumes", set(_VOLUMES))
        volumes = {}
        for v in _VOLUMES:
            p = f"{source}.volumes.{v}"
            d = _strict(vol[v], {"median", "log_sd", "age_slope", "male"}, p,
                        {"median", "log_sd"})
            volumes[v] = {"median": _num(d, "median", p, positive=True),
                          "log_sd": _sd(d, "log_sd", p), "age_slope": _num(d, "age_slope", p, 0.0),
                          "male": _num(d, "male", p, 0.0)}
        measurement = _parse_measurement(top["measurement"], f"{source}.measurement")
        sites = _strict(top.get("sites", {}), {"sd"}, f"{source}.sites")
        sd_tab = _strict(sites.get("sd", {}), set(_SITE_KEYS), f"{source}.sites.sd")
        site_sd = {k: _sd(sd_tab, k, f"{source}.sites.sd", 0.0) for k in _SITE_KEYS}
        miss = _strict(top.get("missingness", {}), {"mechanism", "probability",
                                                    "mar_log_odds_per_10_points"},
                       f"{source}.missingness")
        mechanism = str(miss.get("mechanism", "MCAR")).upper()
        if mechanism not in ("MCAR", "MAR"):
            raise ScenarioError(f"{source}.missingness.mechanism: expected 'MCAR' or 'MAR', "
                                f"got {miss.get('mechanism')!r}")
        prob = _strict(miss.get("probability", {}), set(MODALITY_NAMES),
                       f"{source}.missingness.probability")
        missing_probability = {m: _num(prob, m, f"{source}.missingness.probability", 0.0,
                                       low=0.0, high=1.0) for m in MODALITY_NAMES}
        shared_corr = _parse_correlations(top.get("correlations", {}), f"{source}.correlations")
        strata_raw = top["strata"]
        if not isinstance(strata_raw, dict) or not strata_raw:
            raise ScenarioError(f"{source}.strata: at least one stratum is required")
        strata = {k: _parse_stratum(k, v, f"{source}.strata.{k}", shared_corr)
                  for k, v in strata_raw.items()}
        als = _strict(top.get("alsfrs", {}), {"baseline_sd", "pre_post_log_correlation"},
                      f"{source}.alsfrs")
        scenario = cls(
            name=name, description=str(top.get("description", "")),
            reference_age=_num(top, "reference_age", source, 60.0), strata=strata,
            reference=reference, volumes=volumes, measurement=measurement, site_sd=site_sd,
            n_sites=n_sites, visit_years=tuple(visits),
            visit_jitter_years=_sd(design, "visit_jitter_years", f"{source}.design", 0.0),
            retention=tuple(retention), followup_modalities=follow,
            missing_mechanism=mechanism, missing_probability=missing_probability,
            mar_log_odds_per_10_points=_num(miss, "mar_log_odds_per_10_points",
                                            f"{source}.missingness", 0.0),
            alsfrs_baseline_sd=_sd(als, "baseline_sd", f"{source}.alsfrs", 1.5),
            pre_post_log_correlation=_num(als, "pre_post_log_correlation", f"{source}.alsfrs",
                                          0.0, low=-1.0, high=1.0),
            raw=copy.deepcopy(raw),
        )
        for st in strata.values():
            scenario.correlation_matrix(st.name)  # raises if not positive definite
            scenario.latent_sd(st.name)           # raises if noise exceeds the total SD
        return scenario

    # ------------------------------------------------------------------ derived
    def correlation_matrix(self, stratum: str) -> np.ndarray:
        """Residual correlation matrix of :data:`MARKER_ORDER` for a stratum (checked PD)."""
        st = self.strata[stratum]
        idx = {m: i for i, m in enumerate(MARKER_ORDER)}
        corr = np.eye(len(MARKER_ORDER))
        for (a, b), r in st.correlations.items():
            corr[idx[a], idx[b]] = corr[idx[b], idx[a]] = r
        eig = np.linalg.eigvalsh(corr)
        if eig[0] <= 1e-10:
            raise ScenarioError(f"{self.name}.strata.{stratum}.correlations: correlation "
                                f"matrix is not positive definite (smallest eigenvalue "
                                f"{eig[0]:.3g})")
        return corr

    def noise_sd(self, stratum: str) -> dict[str, float]:
        """SD of the non-subject parts of each marker's total SD (site, scan, visit noise)."""
        st = self.strata[stratum]
        meas = self.measurement
        ratio_mean = st.markers["ratio"][0]
        scan_ratio_var = ratio_mean**2 * (meas["m1_cv"] ** 2 + meas["precuneus_cv"] ** 2)
        extra = {m: self.site_sd[m] ** 2 for m in MARKER_ORDER}
        extra["ratio"] += scan_ratio_var
        extra["nfl"] += meas["nfl_within_sd"] ** 2
        extra["chi3l1"] += meas["chi3l1_within_sd"] ** 2
        return {m: math.sqrt(v) for m, v in extra.items()}

    def latent_sd(self, stratum: str) -> np.ndarray:
        """Subject-level latent SD of each marker: total SD with noise variance removed."""
        st = self.strata[stratum]
        noise = self.noise_sd(stratum)
        out = []
        for m in MARKER_ORDER:
            total = st.markers[m][1]
            var = total**2 - noise[m] ** 2
            if var <= 0 and total > 0:
                raise ScenarioError(f"{self.name}.strata.{stratum}.{m}: total SD {total:g} is "
                                    f"smaller than its site + measurement noise "
                                    f"{noise[m]:.3g}")
            out.append(math.sqrt(max(var, 0.0)))
        return np.array(out)

    def with_sizes(self, n_per_group: int | dict[str, int] | None) -> Scenario:
        """A copy with stratum sizes overridden.

        ``n_per_group`` is one size for every stratum, or a mapping from stratum
        name (or a group label; ``ALS`` is split over the ALS strata in the
        scenario's proportions) to size.
        """
        if n_per_group is None:
            return self
        if isinstance(n_per_group, int):
            sizes = dict.fromkeys(self.strata, n_per_group)
        else:
            sizes = {}
            for key, n in n_per_group.items():
                if key in self.strata:
                    sizes[key] = n
                    continue
                members = [s for s in self.strata.values() if s.group == key]
                if not members:
                    raise ScenarioError(f"n_per_group: unknown stratum or group {key!r}; "
                                        f"strata: {', '.join(self.strata)}")
                weights = np.array([s.n for s in members], dtype=float)
                if weights.sum() == 0:  # no sizes to keep the proportions of: split evenly
                    weights[:] = 1.0
                parts = np.floor(weights / weights.sum() * n).astype(int)
                parts[: n - parts.sum()] += 1
                sizes.update({s.name: int(p) for s, p in zip(members, parts, strict=True)})
        for key, n in sizes.items():
            if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
                raise ScenarioError(f"n_per_group: size for {key!r} must be a whole number "
                                    f">= 0, got {n!r}")
        raw = copy.deepcopy(self.raw)
        for key, n in sizes.items():
            raw["strata"][key]["n"] = int(n)
        return Scenario.from_dict(raw, self.name)

    def to_dict(self) -> dict:
        """The scenario as its TOML table (JSON-serialisable), including size overrides."""
        return copy.deepcopy(self.raw)


def _float_list(v: Any, path: str) -> list[float]:
    if not isinstance(v, list) or not all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in v):
        raise ScenarioError(f"{path}: expected a list of numbers, got {v!r}")
    return [float(x) for x in v]


def _parse_measurement(d: Any, path: str) -> dict[str, Any]:
    keys = {"total_gm_cv", "m1_cv", "precuneus_cv", "etiv_cv", "nfl_within_sd",
            "chi3l1_within_sd", "alsfrs_visit_sd", "crlb", "crlb_max"}
    d = _strict(d, keys, path)
    out: dict[str, Any] = {k: _sd(d, k, path, 0.0) for k in keys - {"crlb", "crlb_max"}}
    out["crlb_max"] = _num(d, "crlb_max", path, 20.0, positive=True)
    crlb = _strict(d.get("crlb", {}), {"glu", "naa", "gaba"}, f"{path}.crlb",
                   {"glu", "naa", "gaba"})
    out["crlb"] = {}
    for m in ("glu", "naa", "gaba"):
        c = _strict(crlb[m], {"mean", "sd"}, f"{path}.crlb.{m}", {"mean", "sd"})
        out["crlb"][m] = (_num(c, "mean", f"{path}.crlb.{m}", positive=True),
                          _sd(c, "sd", f"{path}.crlb.{m}"))
    return out


def _parse_correlations(d: Any, path: str) -> dict[tuple[str, str], float]:
    if not isinstance(d, dict):
        raise ScenarioError(f"{path}: expected a table of 'a:b' = r pairs, got {d!r}")
    out = {}
    for key, _r in d.items():
        parts = key.split(":")
        if len(parts) != 2 or parts[0] == parts[1] or any(p not in MARKER_ORDER for p in parts):
            raise ScenarioError(f"{path}: bad pair {key!r}; expected 'a:b' with two different "
                                f"markers from {', '.join(MARKER_ORDER)}")
        v = _num(d, key, path, low=-1.0, high=1.0)
        if abs(v) >= 1:
            raise ScenarioError(f"{path}.{key}: a correlation must lie strictly between -1 "
                                f"and 1, got {v!r}")
        out[tuple(sorted(parts))] = v
    return out


def _parse_stratum(name: str, d: Any, path: str,
                   shared_corr: dict[tuple[str, str], float]) -> Stratum:
    keys = {"group", "n", "el_escorial", "age", "male_fraction", "duration_months", "delta_fs",
            "post_slope", "alsfrs", "total_gm", "m1", "precuneus", "correlations",
            *MARKER_ORDER}
    d = _strict(d, keys, path, {"group", "n", "age", "male_fraction", *MARKER_ORDER})
    group = d["group"]
    if group not in GROUPS:
        raise ScenarioError(f"{path}.group: unknown group {group!r}; expected one of "
                            f"{', '.join(GROUPS)}")
    n = d["n"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ScenarioError(f"{path}.n: must be a whole number >= 0, got {n!r}")
    age = _strict(d["age"], {"mean", "sd"}, f"{path}.age", {"mean", "sd"})
    ee = _strict(d.get("el_escorial", {}), set(EL_ESCORIAL), f"{path}.el_escorial")
    el_escorial = {k: _num(ee, k, f"{path}.el_escorial", low=0.0, high=1.0) for k in ee}
    if group == "ALS" and (not el_escorial or abs(sum(el_escorial.values()) - 1) > 1e-9):
        raise ScenarioError(f"{path}.el_escorial: ALS strata need El Escorial probabilities "
                            f"summing to 1, got {el_escorial}")
    if group != "ALS" and el_escorial:
        raise ScenarioError(f"{path}.el_escorial: only ALS strata have El Escorial categories")
    markers = {}
    nfl_progression = 0.0
    for m in MARKER_ORDER:
        p = f"{path}.{m}"
        if m in LOG_MARKERS:
            allowed = {"multiplier", "log_sd", "progression"} if m == "nfl" else \
                {"multiplier", "log_sd"}
            md = _strict(d[m], allowed, p, {"multiplier", "log_sd"})
            markers[m] = (math.log(_num(md, "multiplier", p, positive=True)),
                          _sd(md, "log_sd", p))
            if m == "nfl":
                nfl_progression = _num(md, "progression", p, 0.0)
        else:
            md = _strict(d[m], {"mean", "sd"}, p, {"mean", "sd"})
            markers[m] = (_num(md, "mean", p), _sd(md, "sd", p))
    delta_fs = LogNormal.parse(d["delta_fs"], f"{path}.delta_fs") if "delta_fs" in d else None
    post = LogNormal.parse(d["post_slope"], f"{path}.post_slope") if "post_slope" in d else None
    if (delta_fs is None) != (post is None):
        raise ScenarioError(f"{path}: give both delta_fs and post_slope (progressive stratum) "
                            "or neither")
    if nfl_progression and delta_fs is None:
        raise ScenarioError(f"{path}.nfl.progression: needs delta_fs (a progressive stratum)")
    alsfrs_mean = alsfrs_sd = None
    if "alsfrs" in d:
        if delta_fs is not None:
            raise ScenarioError(f"{path}.alsfrs: a progressive stratum derives ALSFRS-R from "
                                "delta_fs and duration; remove 'alsfrs'")
        a = _strict(d["alsfrs"], {"mean", "sd"}, f"{path}.alsfrs", {"mean", "sd"})
        alsfrs_mean = _num(a, "mean", f"{path}.alsfrs", low=0.0, high=48.0)
        alsfrs_sd = _sd(a, "sd", f"{path}.alsfrs")
    elif delta_fs is None:
        raise ScenarioError(f"{path}: a non-progressive stratum needs 'alsfrs' = "
                            "{ mean, sd }")
    if delta_fs is not None and "duration_months" not in d:
        raise ScenarioError(f"{path}: a progressive stratum needs duration_months")
    gm = _strict(d.get("total_gm", {}), {"offset_pct", "annual_change_pct",
                                         "annual_change_sd_pct"}, f"{path}.total_gm")
    change = {}
    for region in ("total_gm", "m1", "precuneus"):
        p = f"{path}.{region}"
        r = _strict(d.get(region, {}), {"annual_change_pct", "annual_change_sd_pct"} |
                    ({"offset_pct"} if region == "total_gm" else set()), p)
        change[region] = (_num(r, "annual_change_pct", p, 0.0) / 100.0,
                          _sd(r, "annual_change_sd_pct", p, 0.0) / 100.0)
    corr = dict(shared_corr)
    corr.update(_parse_correlations(d.get("correlations", {}), f"{path}.correlations"))
    return Stratum(
        name=name, group=group, n=n, age_mean=_num(age, "mean", f"{path}.age", low=18, high=110),
        age_sd=_sd(age, "sd", f"{path}.age"),
        male_fraction=_num(d, "male_fraction", path, low=0.0, high=1.0),
        el_escorial=el_escorial,
        duration=LogNormal.parse(d["duration_months"], f"{path}.duration_months")
        if "duration_months" in d else None,
        delta_fs=delta_fs, post_slope=post, alsfrs_mean=alsfrs_mean, alsfrs_sd=alsfrs_sd,
        markers=markers, nfl_progression=nfl_progression, correlations=corr,
        gm_offset=math.log1p(_num(gm, "offset_pct", f"{path}.total_gm", 0.0, low=-99) / 100),
        annual_change=change,
    )


def available_scenarios() -> list[str]:
    """Names of the scenarios shipped with the package."""
    return sorted(p.name[:-5] for p in resources.files("alsstats.simulate.scenarios").iterdir()
                  if p.name.endswith(".toml"))


def load_scenario(scenario: str | os.PathLike | dict | Scenario = "default") -> Scenario:
    """Load a scenario by shipped name, ``.toml`` path or table.

    A name (no ``.toml`` suffix) is looked up only among the scenarios shipped
    with the package; a user scenario is given as a path.  A scenario may start
    with ``extends = "BASE"`` (a shipped name or a path relative to the file)
    and give only what differs; a cycle of ``extends`` is an error naming it.
    """
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, dict):
        return Scenario.from_dict(_resolve_extends(scenario, "scenario", (), None))
    raw, source, folder = _read_raw(str(scenario), None)
    return Scenario.from_dict(_resolve_extends(raw, source, (source,), folder), source)


def _read_raw(text: str, folder: Path | None) -> tuple[dict, str, Path | None]:
    """The TOML table of a shipped name or a path; (table, source label, its folder)."""
    path = Path(text)
    if path.suffix != ".toml":
        shipped = resources.files("alsstats.simulate.scenarios") / f"{text}.toml"
        if not shipped.is_file():
            raise ScenarioError(f"unknown scenario {text!r}; shipped: "
                                f"{', '.join(available_scenarios())} (or give a .toml path)")
        return _loads(shipped.read_bytes(), text), text, None
    if folder is not None and not path.is_absolute():
        path = folder / path
    if path.is_dir():
        raise ScenarioError(f"{path}: is a folder, not a scenario file")
    if not path.is_file():
        raise ScenarioError(f"{path}: scenario file not found")
    return _loads(path.read_bytes(), str(path)), str(path), path.parent


def _loads(data: bytes, source: str) -> dict:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ScenarioError(f"{source}: line {line}: not UTF-8 text (byte {exc.start}); save "
                            "the scenario as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from None


def _resolve_extends(raw: dict, source: str, seen: tuple[str, ...],
                     folder: Path | None) -> dict:
    """Apply ``extends = "BASE"``: the scenario's tables are merged key by key over BASE's."""
    if "extends" not in raw:
        return raw
    base_name = raw["extends"]
    if not isinstance(base_name, str) or not base_name:
        raise ScenarioError(f"{source}.extends: expected a scenario name or .toml path, got "
                            f"{base_name!r}")
    base_raw, base_source, base_folder = _read_raw(base_name, folder)
    if base_source in seen:
        chain = " -> ".join((*seen, base_source))
        raise ScenarioError(f"{source}.extends: circular base scenario ({chain})")
    base = Scenario.from_dict(_resolve_extends(base_raw, base_source, (*seen, base_source),
                                               base_folder), base_source).to_dict()
    merged = _deep_merge(base, {k: v for k, v in raw.items() if k != "extends"})
    merged.pop("extends", None)
    return merged


def _deep_merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _design_retention(design: dict, visits: list[float], where: str) -> list[float]:
    """Retention at each visit: ``retention = [...]`` as observed, or ``lost`` by
    ``by_years`` under a constant hazard (:class:`alsstats.dropout.Retention`)."""
    if "lost" in design or "by_years" in design:
        if "retention" in design or not {"lost", "by_years"} <= set(design):
            raise ScenarioError(f"{where}: give retention = [...] (as observed), or both lost "
                                "and by_years (constant hazard), not both forms")
        try:
            return list(Retention.lost_by(visits, _num(design, "lost", where, 0.0),
                                          _num(design, "by_years", where, 1.0)).retention)
        except AlsStatsError as exc:
            raise ScenarioError(f"{where}: {exc}") from None
    return _float_list(design.get("retention", [1.0] * len(visits)), f"{where}.retention")
