"""The ingestion manifest (TOML): where each source is and how to read it.

Paths are relative to the manifest's folder and must stay inside it (after
following symlinks) unless ``allow_outside=True`` (the CLI's
``--allow-outside-paths``): a manifest from elsewhere cannot make alsstats read
``/etc`` or another user's files.  Every section except
``[clinical]`` is optional; unknown sections or keys are errors.  Example::

    [ids]                       # how folder names / file stems become (subject, visit)
    pattern = '^(?P<subject>.+?)(?:_ses-(?P<visit>[0-9]+))?$'
    strip_prefix = true         # drop "sub-"
    casefold = false            # S01 == s01
    strip_zeros = false         # 007 == 7
    default_visit = 0

    [clinical]                  # CSV or Excel: subject, visit, group, age, sex, site, ...
    file = "clinical.csv"
    sheet = "baseline"          # Excel only
    columns = { "Patient ID" = "subject_id", "NfL (pg/mL)" = "nfl_pg_ml" }

    [freesurfer]
    subjects_dir = "freesurfer" # or the group tables below
    aparc_lh_table = "lh.aparc.volume.tsv"
    aparc_rh_table = "rh.aparc.volume.tsv"
    aseg_table = "aseg.volume.tsv"
    exclude = ["fsaverage_sym"]
    require_aseg = true
    atlas = "desikan"           # or "any"
    volumes = "stats"           # or "aparc+aseg" (voxel counts from mri/aparc+aseg.mgz)
    strict_versions = false     # mixed FreeSurfer versions: warn (false) or reject (true)
    per_hemisphere = false      # also write m1_lh_volume_mm3, m1_rh_volume_mm3, ...

    [lcmodel]
    dir = "lcmodel"
    id_from = "stem"            # or "folder"
    voxel = "sma"               # optional: use only <id>_sma.* files
    naa = "NAA"                 # or "NAA+NAAG"
    crlb_max = 20
    crlb_policy = "drop"        # or "flag"
    fwhm_max_ppm = 0.1          # optional
    snr_min = 10                # optional

    [fmri]
    mask = "sma_mask.nii.gz"
    mask_threshold = 0
    maps_dir = "ica"            # per-subject maps named <id>.nii(.gz)
    component = 3               # 0-based, for 4D per-subject component stacks
    stack = "dr_stage2_ic0003.nii.gz"   # or one 4D file, volumes = subjects ...
    subject_list = "subjects.txt"       # ... in this order (one ID per line)
    statistic = "mean"          # mean | median | max
    sign = "as_is"              # as_is | flip | positive_skew
    zscore_to_hc = true         # smn_sma = (raw - mean_HC) / sd_HC at baseline
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alsstats.errors import DataValidationError, Problem
from alsstats.io._problems import fail, problem
from alsstats.io.ids import DEFAULT_ID_PATTERN, IdRules
from alsstats.io.lcmodel.mrs import MrsOptions
from alsstats.io.nifti import SIGN_OPTIONS, STATISTICS

__all__ = ["ClinicalSource", "FMRISource", "FreeSurferSource", "LCModelSource", "Manifest",
           "load_manifest"]


@dataclass(frozen=True)
class ClinicalSource:
    file: Path
    sheet: str | None = None
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FreeSurferSource:
    subjects_dir: Path | None = None
    aparc_lh_table: Path | None = None
    aparc_rh_table: Path | None = None
    aseg_table: Path | None = None
    exclude: tuple[str, ...] = ()
    require_aseg: bool = True
    atlas: str = "desikan"
    volumes: str = "stats"
    strict_versions: bool = False
    per_hemisphere: bool = False


@dataclass(frozen=True)
class LCModelSource:
    dir: Path
    id_from: str = "stem"
    voxel: str | None = None
    mrs: MrsOptions = field(default_factory=MrsOptions)


@dataclass(frozen=True)
class FMRISource:
    mask: Path
    mask_threshold: float = 0.0
    maps_dir: Path | None = None
    component: int | None = None
    stack: Path | None = None
    subject_list: Path | None = None
    statistic: str = "mean"
    sign: str = "as_is"
    zscore_to_hc: bool = True


@dataclass(frozen=True)
class Manifest:
    """A loaded, checked manifest (paths resolved against the manifest's folder)."""

    path: Path
    ids: IdRules
    clinical: ClinicalSource
    freesurfer: FreeSurferSource | None = None
    lcmodel: LCModelSource | None = None
    fmri: FMRISource | None = None

    def with_crlb_max(self, crlb_max: float) -> Manifest:
        """A copy whose LCModel CRLB threshold is ``crlb_max`` (the CLI's ``--crlb-max``)."""
        if self.lcmodel is None:
            return self
        m = self.lcmodel.mrs
        mrs = MrsOptions(m.naa, crlb_max, m.policy, m.fwhm_max_ppm, m.snr_min)
        lcm = LCModelSource(self.lcmodel.dir, self.lcmodel.id_from, self.lcmodel.voxel, mrs)
        return Manifest(self.path, self.ids, self.clinical, self.freesurfer, lcm, self.fmri)


# key -> (type(s), default); "path" values are resolved against the manifest folder.
_SPEC: dict[str, dict[str, tuple[Any, Any]]] = {
    "ids": {"pattern": (str, DEFAULT_ID_PATTERN), "strip_prefix": (bool, True),
            "casefold": (bool, False), "strip_zeros": (bool, False),
            "default_visit": (int, 0)},
    "clinical": {"file": ("path", None), "sheet": (str, None), "columns": (dict, {})},
    "freesurfer": {"subjects_dir": ("path", None), "aparc_lh_table": ("path", None),
                   "aparc_rh_table": ("path", None), "aseg_table": ("path", None),
                   "exclude": (list, []), "require_aseg": (bool, True),
                   "atlas": (("desikan", "any"), "desikan"),
                   "volumes": (("stats", "aparc+aseg"), "stats"),
                   "strict_versions": (bool, False), "per_hemisphere": (bool, False)},
    "lcmodel": {"dir": ("path", None), "id_from": (("stem", "folder"), "stem"),
                "voxel": (str, None), "naa": (("NAA", "NAA+NAAG"), "NAA"),
                "crlb_max": ((int, float), 20.0), "crlb_policy": (("drop", "flag"), "drop"),
                "fwhm_max_ppm": ((int, float), None), "snr_min": ((int, float), None)},
    "fmri": {"mask": ("path", None), "mask_threshold": ((int, float), 0.0),
             "maps_dir": ("path", None), "component": (int, None), "stack": ("path", None),
             "subject_list": ("path", None), "statistic": (tuple(STATISTICS), "mean"),
             "sign": (SIGN_OPTIONS, "as_is"), "zscore_to_hc": (bool, True)},
}


def _section(path: Path, raw: dict, name: str, problems: list[Problem],
             allow_outside: bool = False) -> dict[str, Any]:
    spec = _SPEC[name]
    table = raw.get(name, {})
    if not isinstance(table, dict):
        problems.append(problem(path, f"[{name}] must be a table"))
        return {}
    out = {}
    for key in table:
        if key not in spec:
            problems.append(problem(path, f"unknown key {key!r} in [{name}]; allowed: "
                                    f"{', '.join(spec)}"))
    for key, (kind, default) in spec.items():
        if key not in table:
            out[key] = default
            continue
        value = table[key]
        if kind == "path":
            if not isinstance(value, str) or not value:
                problems.append(problem(path, f"[{name}] {key} must be a non-empty path string"))
                continue
            given, value = value, (path.parent / value).resolve()
            if not allow_outside and not value.is_relative_to(path.parent):
                problems.append(problem(path, f"[{name}] {key} = {given!r} resolves outside "
                                        f"the manifest's folder {path.parent} (to {value}); "
                                        "move it inside or pass --allow-outside-paths"))
                continue
        elif isinstance(kind, tuple) and all(isinstance(k, str) for k in kind):
            if value not in kind:
                problems.append(problem(path, f"[{name}] {key} = {value!r}; expected one of "
                                        f"{', '.join(kind)}"))
                continue
        elif (kind is not bool and isinstance(value, bool)) or not isinstance(value, kind):
            problems.append(problem(path, f"[{name}] {key} = {value!r} has the wrong type"))
            continue
        out[key] = value
    return out


def load_manifest(path: str | os.PathLike, *, allow_outside: bool = False) -> Manifest:
    """Read and check a manifest.

    Parameters
    ----------
    path
        The manifest TOML file.
    allow_outside
        Accept paths that resolve (symlinks followed) outside the manifest's folder.

    Raises
    ------
    DataValidationError
        Unreadable TOML, unknown sections or keys, values of the wrong type
        or outside their choices, missing required entries, inconsistent
        source combinations, paths that do not exist or lie outside the
        manifest's folder — all at once.
    """
    p = Path(path).resolve()
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise fail(p, "manifest not found") from None
    except IsADirectoryError:
        raise fail(p, "is a folder, not a manifest file") from None
    except UnicodeDecodeError as exc:
        raise fail(p, f"not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise fail(p, f"not valid TOML: {exc}") from None
    problems: list[Problem] = []
    for name in raw:
        if name not in _SPEC:
            problems.append(problem(p, f"unknown section [{name}]; allowed: "
                                    f"{', '.join(_SPEC)}"))
    if "clinical" not in raw:
        problems.append(problem(p, "[clinical] section with file = ... is required"))
    sec = {name: _section(p, raw, name, problems, allow_outside) for name in _SPEC}
    ids = sec["ids"]
    try:
        rules = IdRules(ids.get("pattern", DEFAULT_ID_PATTERN), ids.get("strip_prefix", True),
                        ids.get("casefold", False), ids.get("strip_zeros", False),
                        ids.get("default_visit", 0))
    except (ValueError, re.error) as exc:
        problems.append(problem(p, f"[ids] pattern: {exc}"))
        rules = IdRules()
    clin = sec["clinical"]
    if "clinical" in raw and clin.get("file") is None:
        problems.append(problem(p, "[clinical] file is required"))
    fs = lcm = fm = None
    if "freesurfer" in raw:
        f = sec["freesurfer"]
        tables = [f.get(k) for k in ("aparc_lh_table", "aparc_rh_table", "aseg_table")]
        if f.get("subjects_dir") is None and None in tables:
            problems.append(problem(p, "[freesurfer] needs subjects_dir, or all of "
                                    "aparc_lh_table, aparc_rh_table and aseg_table"))
        elif f.get("subjects_dir") is not None and any(t is not None for t in tables):
            problems.append(problem(p, "[freesurfer] give subjects_dir or the group tables, "
                                    "not both"))
        if f.get("volumes") == "aparc+aseg" and f.get("subjects_dir") is None:
            problems.append(problem(p, "[freesurfer] volumes = 'aparc+aseg' needs subjects_dir"))
        fs = FreeSurferSource(**{**f, "exclude": tuple(str(x) for x in f.get("exclude", []))})
    if "lcmodel" in raw:
        lc = sec["lcmodel"]
        if lc.get("dir") is None:
            problems.append(problem(p, "[lcmodel] dir is required"))
        try:
            mrs = MrsOptions(lc.get("naa", "NAA"), float(lc.get("crlb_max", 20.0)),
                             lc.get("crlb_policy", "drop"), lc.get("fwhm_max_ppm"),
                             lc.get("snr_min"))
        except ValueError as exc:
            problems.append(problem(p, f"[lcmodel] {exc}"))
            mrs = MrsOptions()
        lcm = LCModelSource(lc.get("dir"), lc.get("id_from", "stem"), lc.get("voxel"), mrs)
    if "fmri" in raw:
        fr = sec["fmri"]
        if fr.get("mask") is None:
            problems.append(problem(p, "[fmri] mask is required"))
        if (fr.get("maps_dir") is None) == (fr.get("stack") is None):
            problems.append(problem(p, "[fmri] give exactly one of maps_dir or stack"))
        if fr.get("stack") is not None and fr.get("subject_list") is None:
            problems.append(problem(p, "[fmri] stack needs subject_list (the subjects in "
                                    "volume order)"))
        fm = FMRISource(**fr)
    for name, values in sec.items():
        if name not in raw:
            continue
        for key, value in values.items():
            if isinstance(value, Path) and not value.exists():
                problems.append(problem(p, f"[{name}] {key}: {value} does not exist"))
    if problems:
        raise DataValidationError(problems)
    return Manifest(p, rules, ClinicalSource(clin["file"], clin.get("sheet"),
                                             dict(clin.get("columns", {}))), fs, lcm, fm)
