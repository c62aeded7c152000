"""Collect per-subject values from each imaging source named in a manifest.

Each collector walks its source, keys every entry by ``(subject_id, visit)``
through the shared :class:`~alsstats.io.ids.IdRules`, reads it with the
strict readers and returns a :class:`SourceRecords`: the values, every file
read (for the provenance sidecar), QC items, per-subject *failures* (one bad
subject; the run stops on them unless ``skip_bad``) and *conflicts*
(duplicate subjects, mixed scaling, ...: the run always stops, nothing is
picked silently).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from alsstats.errors import DataValidationError, Problem
from alsstats.io._problems import QCItem, problem
from alsstats.io.assemble.manifest import FMRISource, FreeSurferSource, LCModelSource
from alsstats.io.freesurfer.group import read_aparc_aseg_volumes, read_aparc_table, read_aseg_table
from alsstats.io.freesurfer.subject import read_subject
from alsstats.io.ids import IdRules, duplicate_groups, strip_rerun
from alsstats.io.lcmodel.mrs import extract_mrs
from alsstats.io.lcmodel.reader import read_lcmodel
from alsstats.io.nifti import load_mask, smn_activity, smn_activity_stack

__all__ = ["Failure", "SourceRecords", "collect_fmri", "collect_freesurfer", "collect_lcmodel"]

Key = tuple[str, int]
_LCM_SUFFIXES = (".table", ".coord", ".csv")
_NIFTI_RE = re.compile(r"^(?P<stem>.+?)\.(nii\.gz|nii|hdr|mgz)$", re.IGNORECASE)
_STRAY_FORTRAN = re.compile(r"^fort\.\d+", re.IGNORECASE)


@dataclass(frozen=True)
class Failure:
    """A bad subject: where it came from and every problem found."""

    source: str
    raw: str
    key: Key | None
    problems: tuple[Problem, ...]


@dataclass
class SourceRecords:
    """What one source contributed."""

    source: str
    values: dict[Key, dict[str, float]] = field(default_factory=dict)
    raw_names: dict[Key, str] = field(default_factory=dict)
    files: list[dict] = field(default_factory=list)
    qc: list[QCItem] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    conflicts: list[Problem] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def fail(self, raw: str, key: Key | None, exc: DataValidationError) -> None:
        self.failures.append(Failure(self.source, raw, key, tuple(exc.problems)))

    def note(self, kind: str, reason: str, key: Key | None = None, **kw) -> None:
        self.qc.append(QCItem(kind, self.source, reason, key[0] if key else None,
                              key[1] if key else None, **kw))

    def add_file(self, path: Path, role: str, key: Key | None = None) -> None:
        self.files.append({"path": str(path), "role": role,
                           "subject_id": key[0] if key else None,
                           "visit": key[1] if key else None})


def _keyed(rec: SourceRecords, entries: list[tuple[str, object]], rules: IdRules,
           where: Path, id_part=lambda raw: raw) -> list[tuple[str, Key, object]]:
    """Key raw names by ``id_part(raw)``; unmatched names fail, collisions are conflicts."""
    keyed = []
    for raw, payload in entries:
        key = rules.key(id_part(raw))
        if key is None:
            rec.fail(raw, None, DataValidationError([problem(
                payload if isinstance(payload, Path) else where,
                f"name {raw!r} does not match the ID pattern {rules.pattern!r}")]))
            continue
        keyed.append((raw, key, payload))
    # Re-runs ("S01_ses-1_rerun") collide with the run they repeat.
    collide = [(raw, *(rules.key(strip_rerun(id_part(raw))) or key)) for raw, key, _ in keyed]
    groups = duplicate_groups(collide)
    for group in groups:
        rec.conflicts.append(problem(where, "duplicate subjects (same participant and visit "
                                     f"after normalisation): {', '.join(group)}; refusing to "
                                     "pick one — remove or exclude the extra entries"))
    bad = {raw for group in groups for raw in group}
    return [item for item in keyed if item[0] not in bad]


def _long_prefix(name: str) -> str:
    """The time point of a longitudinal folder ``<tp>.long.<base>`` (else the name)."""
    return name.split(".long.", 1)[0]


def collect_freesurfer(src: FreeSurferSource, rules: IdRules) -> SourceRecords:
    """Volumes from a SUBJECTS_DIR (or group tables), keyed by folder name."""
    rec = SourceRecords("freesurfer")
    if src.subjects_dir is None:
        return _collect_fs_tables(src, rules, rec)
    root = src.subjects_dir
    names = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    bases = {n.split(".long.", 1)[1] for n in names if ".long." in n}
    entries = []
    for name in names:
        if name.startswith("fsaverage") or name in src.exclude:
            why = "template subject" if name.startswith("fsaverage") else "excluded by manifest"
            rec.note("note", f"folder {name!r} skipped ({why})", file=str(root / name))
            continue
        if name in bases:
            rec.conflicts.append(problem(root / name, "base template of the longitudinal runs "
                                         f"'*.long.{name}': not a participant visit; add it to "
                                         "[freesurfer] exclude"))
            continue
        entries.append((name, root / name))
    versions: dict[str, str | None] = {}
    for _raw, key, folder in _keyed(rec, entries, rules, root, _long_prefix):
        try:
            subj = read_subject(folder, require_aseg=src.require_aseg, atlas=src.atlas)
            gray = subj.gray_vol
            if src.volumes == "aparc+aseg":
                mgz = folder / "mri" / "aparc+aseg.mgz"
                vols = read_aparc_aseg_volumes(mgz)
                gray = {h: {s: vols[(h, s)] for s in ("precentral", "precuneus")}
                        for h in ("lh", "rh")}
                rec.add_file(mgz, "freesurfer aparc+aseg.mgz", key)
        except DataValidationError as exc:
            rec.fail(folder.name, key, exc)
            continue
        values = {
            "m1_volume_mm3": gray["lh"]["precentral"] + gray["rh"]["precentral"],
            "precuneus_volume_mm3": gray["lh"]["precuneus"] + gray["rh"]["precuneus"],
            "total_gm_volume_mm3": subj.total_gray, "etiv_mm3": subj.etiv}
        if src.per_hemisphere:
            for h in ("lh", "rh"):
                values[f"m1_{h}_volume_mm3"] = gray[h]["precentral"]
                values[f"precuneus_{h}_volume_mm3"] = gray[h]["precuneus"]
        rec.values[key] = values
        rec.raw_names[key] = folder.name
        versions[folder.name] = subj.version
        for role, path in subj.files.items():
            rec.add_file(path, f"freesurfer {role}.stats", key)
        stamp = folder / "scripts" / "build-stamp.txt"
        if stamp.is_file():
            rec.add_file(stamp, "freesurfer build-stamp", key)
        for n in subj.notes:
            rec.note("note", n, key)
        if subj.etiv_source == "ICV":
            rec.note("note", "eTIV taken from the FreeSurfer 5.1 'ICV' measure", key,
                     field="etiv_mm3")
        if subj.version is None:
            rec.note("warning", "FreeSurfer version not found (no build-stamp.txt, "
                     "unrecognised cvs_version)", key)
    rec.info["versions"] = versions
    majors = {v.split(".")[0] for v in versions.values() if v and v[0].isdigit()}
    if len(majors) > 1:
        listing = ", ".join(f"{n}: {v}" for n, v in sorted(versions.items()))
        msg = f"mixed FreeSurfer major versions {sorted(majors)} ({listing})"
        if src.strict_versions:
            rec.conflicts.append(problem(root, msg + "; strict_versions = true"))
        else:
            rec.note("warning", msg + ": volumes are not comparable across releases")
    return rec


def _collect_fs_tables(src: FreeSurferSource, rules: IdRules, rec: SourceRecords
                       ) -> SourceRecords:
    try:
        lh = read_aparc_table(src.aparc_lh_table, "lh")
        rh = read_aparc_table(src.aparc_rh_table, "rh")
        aseg, notes = read_aseg_table(src.aseg_table)
    except DataValidationError as exc:
        rec.conflicts.extend(exc.problems)
        return rec
    for path, role in ((src.aparc_lh_table, "lh.aparc table"),
                       (src.aparc_rh_table, "rh.aparc table"), (src.aseg_table, "aseg table")):
        rec.add_file(path, f"freesurfer {role}")
    for n in notes:
        rec.note("note", n, field="etiv_mm3")
    names = list(dict.fromkeys([*lh, *rh, *aseg]))
    for raw, key, _ in _keyed(rec, [(n, None) for n in names], rules, src.aseg_table.parent):
        absent = [str(p) for p, t in ((src.aparc_lh_table, lh), (src.aparc_rh_table, rh),
                                      (src.aseg_table, aseg)) if raw not in t]
        if absent:
            rec.fail(raw, key, DataValidationError([problem(a, f"subject {raw!r} is missing "
                                                            "from this table") for a in absent]))
            continue
        rec.values[key] = {
            "m1_volume_mm3": lh[raw]["precentral"] + rh[raw]["precentral"],
            "precuneus_volume_mm3": lh[raw]["precuneus"] + rh[raw]["precuneus"],
            "total_gm_volume_mm3": aseg[raw]["total_gray"], "etiv_mm3": aseg[raw]["etiv"]}
        if src.per_hemisphere:
            for h, t in (("lh", lh), ("rh", rh)):
                rec.values[key][f"m1_{h}_volume_mm3"] = t[raw]["precentral"]
                rec.values[key][f"precuneus_{h}_volume_mm3"] = t[raw]["precuneus"]
        rec.raw_names[key] = raw
    rec.info["versions"] = {}
    return rec


def _lcm_raw(src: LCModelSource, path: Path) -> str | None:
    name = path.parent.name if src.id_from == "folder" else path.stem
    if src.voxel is None:
        return name
    suffix = f"_{src.voxel}".lower()
    stem = path.stem.lower()
    if src.id_from == "folder":
        return name if stem == src.voxel.lower() or stem.endswith(suffix) else None
    return name[: -len(suffix)] if stem.endswith(suffix) else None


_DIAG_LINE = re.compile(rb"^\s*\d+\s+(FATAL|ERROR|ILLOGICAL)\s+([A-Z0-9]{1,8})\s+(\d{1,3})\s*$",
                        re.MULTILINE)


def _fatal_code(path: Path) -> str:
    """``"; LCModel FATAL MYCONT 7"`` from a leftover's $$DIAG line (only the code is quoted)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
    except OSError:
        return ""
    m = _DIAG_LINE.search(head)
    return "" if m is None else "; LCModel " + " ".join(g.decode() for g in m.groups())


def collect_lcmodel(src: LCModelSource, rules: IdRules) -> SourceRecords:
    """Glu, NAA, GABA and CRLBs from every LCModel output under ``src.dir``."""
    rec = SourceRecords("lcmodel")
    files = sorted(f for f in src.dir.rglob("*")
                   if f.is_file() and (f.suffix.lower() in _LCM_SUFFIXES
                                       or _STRAY_FORTRAN.match(f.name)))
    by_raw: dict[str, dict[str, list[Path]]] = {}
    strays = [f for f in files if _STRAY_FORTRAN.match(f.name)]
    for f in files:
        if f in strays:
            continue
        raw = _lcm_raw(src, f)
        if raw is None:
            rec.note("note", f"{f.name}: not the '{src.voxel}' voxel, ignored", file=str(f))
            continue
        by_raw.setdefault(raw, {}).setdefault(f.suffix.lower(), []).append(f)
    for f in strays:
        # LCModel writes fort.7/fort.9 when a run fails before opening the named outputs.
        raw = f.parent.name if src.id_from == "folder" else str(f.relative_to(src.dir))
        if raw in by_raw:
            rec.note("warning", f"{f.name}: leftover of a failed LCModel run next to a result; "
                     "the result is used", file=str(f))
            continue
        exc = DataValidationError([problem(f, "stray Fortran unit file: LCModel wrote it "
                                           "instead of the named output (a failed run)"
                                           + _fatal_code(f))])
        if f.suffix.lower() in _LCM_SUFFIXES:
            try:
                read_lcmodel(f)
            except DataValidationError as err:
                exc = err
        rec.fail(raw, rules.key(raw) if src.id_from == "folder" else None, exc)
    entries = []
    for raw, kinds in by_raw.items():
        for kind, paths in kinds.items():
            if len(paths) > 1:
                rec.conflicts.append(problem(paths[1], f"duplicate LCModel {kind} files for "
                                             f"{raw!r}: {', '.join(map(str, paths))}"))
        kind = next(k for k in _LCM_SUFFIXES if k in kinds)
        entries.append((raw, kinds[kind][0]))
        for other in kinds:
            if other != kind:
                rec.note("note", f"{kinds[other][0].name} not used ({kind} preferred)",
                         file=str(kinds[other][0]))
    scaled: dict[str, bool | None] = {}
    references: dict[str, str] = {}
    versions: dict[str, str | None] = {}
    basis: dict[frozenset, list[str]] = {}
    for raw, key, path in _keyed(rec, entries, rules, src.dir):
        try:
            result = read_lcmodel(path)
            mrs = extract_mrs(result, src.mrs)
        except DataValidationError as exc:
            rec.fail(raw, key, exc)
            continue
        rec.values[key] = mrs.values
        rec.raw_names[key] = raw
        rec.add_file(path, f"lcmodel .{result.kind}", key)
        for kind, fld, reason, value in mrs.findings:
            rec.note(kind, reason, key, field=fld, file=str(path), value=value)
        for n in result.notes:
            rec.note("note", f"{path.name}: {n}", key, file=str(path))
        scaled[raw], references[raw], versions[raw] = (result.water_scaled, result.reference,
                                                       result.version)
        # The metabolite list identifies the basis set (.csv names are cut to 13 characters).
        basis.setdefault(frozenset(n[:13] for n in result.metabolites), []).append(raw)
    known = {v for v in scaled.values() if v is not None}
    if len(known) > 1:
        rec.conflicts.append(problem(src.dir, "mixed water scaling: "
                                     f"{sorted(r for r, v in scaled.items() if v)} are "
                                     "water-scaled, the others are not; never mix them"))
    unknown = sorted(r for r, v in scaled.items() if v is None)
    if known and unknown:
        rec.note("warning", f"water scaling unknown for {', '.join(unknown)} (no control echo, "
                 f"e.g. .csv input) while the others are "
                 f"{'water-scaled' if known == {True} else 'not water-scaled'}")
    if len(set(references.values())) > 1:
        rec.conflicts.append(problem(src.dir, "mixed ratio references "
                                     f"{sorted(set(references.values()))} across tables"))
    if len(basis) > 1:
        sets = sorted(basis.items(), key=lambda kv: -len(kv[1]))
        common = sets[0][0]
        parts = [f"{', '.join(raws[:3])}{' ...' if len(raws) > 3 else ''} "
                 f"(+{', '.join(sorted(names - common)) or '-'} / "
                 f"-{', '.join(sorted(common - names)) or '-'})" for names, raws in sets[1:]]
        rec.conflicts.append(problem(src.dir, "mixed basis sets: the metabolite lists differ "
                                     f"from the most common one ({len(sets[0][1])} tables) in "
                                     f"{'; '.join(parts)}"))
    if len({v for v in versions.values() if v}) > 1:
        rec.note("warning", f"mixed LCModel versions {sorted({v for v in versions.values() if v})}")
    rec.info.update(water_scaled=(known.pop() if len(known) == 1 else None),
                    reference=next(iter(set(references.values())), None),
                    versions=versions, naa=src.mrs.naa, crlb_max=src.mrs.crlb_max,
                    crlb_policy=src.mrs.policy)
    return rec


def collect_fmri(src: FMRISource, rules: IdRules) -> SourceRecords:
    """Raw SMN activity (``smn_sma_raw``) per subject from ICA maps within the SMA mask."""
    rec = SourceRecords("fmri")
    mask = load_mask(src.mask, src.mask_threshold)
    rec.add_file(src.mask, "fmri SMA mask")
    rec.info.update(statistic=src.statistic, sign=src.sign, component=src.component,
                    mask_voxels=int(mask.voxels.sum()), mask_threshold=src.mask_threshold)
    opts = {"statistic": src.statistic, "sign": src.sign}
    if src.stack is not None:
        lines = src.subject_list.read_text(encoding="utf-8").splitlines()
        raws = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
        rec.add_file(src.stack, "fmri subject stack")
        rec.add_file(src.subject_list, "fmri subject list")
        keyed = _keyed(rec, [(r, None) for r in raws], rules, src.subject_list)
        if len(keyed) != len(raws):
            return rec
        values, failures = smn_activity_stack(src.stack, mask, raws, **opts)
        for raw, key, _ in keyed:
            if raw in failures:
                rec.fail(raw, key, failures[raw])
                continue
            rec.values[key] = {"smn_sma_raw": values[raw].value}
            rec.raw_names[key] = raw
            for n in values[raw].notes:
                rec.note("note", n, key, field="smn_sma")
        return rec
    entries = []
    for f in sorted(src.maps_dir.iterdir()):
        m = _NIFTI_RE.match(f.name)
        if f.is_file() and m:
            entries.append((m.group("stem"), f))
    for raw, key, path in _keyed(rec, entries, rules, src.maps_dir):
        try:
            v = smn_activity(path, mask, component=src.component, **opts)
        except DataValidationError as exc:
            rec.fail(raw, key, exc)
            continue
        rec.values[key] = {"smn_sma_raw": v.value}
        rec.raw_names[key] = raw
        rec.add_file(path, "fmri ICA map", key)
        for n in v.notes:
            rec.note("note", n, key, field="smn_sma")
    return rec
