"""FreeSurfer per-subject volumes from ``?h.aparc.stats`` (M1, precuneus) and ``aseg.stats``.

For subject *s* with Desikan–Killiany parcellations the cohort columns are

    m1_volume_mm3        = GrayVol(lh, precentral) + GrayVol(rh, precentral)
    precuneus_volume_mm3 = GrayVol(lh, precuneus)  + GrayVol(rh, precuneus)
    m1_precuneus_ratio   = m1_volume_mm3 / precuneus_volume_mm3
    total_gm_volume_mm3  = aseg ``# Measure TotalGray, TotalGrayVol``
    etiv_mm3             = aseg ``# Measure EstimatedTotalIntraCranialVol, eTIV``
                           (FreeSurfer 5.1: ``IntraCranialVol, ICV``, mapped and reported)

``GrayVol`` is the surface-based gray-matter volume (mm³).  The subject ID is
the folder name (``# subjectname`` is unreliable and only compared), the
FreeSurfer version comes from ``scripts/build-stamp.txt`` or else from the
``cvs_version`` header (a CVS revision is mapped to a release, never taken as
one).  Versions 5.3, 6 and 7 are read alike; their differences are the FS6
missing-comma ``# Measure`` line (repaired by :mod:`alsstats.io.freesurfer.stats_file`),
``Left-Thalamus-Proper`` vs ``Left-Thalamus`` (not used here) and the
``cvs_version`` text.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from alsstats._files import file_sha256
from alsstats.errors import DataValidationError, Problem
from alsstats.io._problems import fail, problem
from alsstats.io.freesurfer.stats_file import StatsFile, read_stats

__all__ = [
    "DESIKAN_STRUCTURES",
    "AparcStats",
    "AsegStats",
    "FreeSurferSubject",
    "freesurfer_version",
    "read_aparc",
    "read_aseg",
    "read_subject",
    "version_from_cvs",
]

#: The 34 cortical structures of the Desikan–Killiany atlas (``?h.aparc.stats``).
DESIKAN_STRUCTURES = (
    "bankssts", "caudalanteriorcingulate", "caudalmiddlefrontal", "cuneus", "entorhinal",
    "fusiform", "inferiorparietal", "inferiortemporal", "isthmuscingulate", "lateraloccipital",
    "lateralorbitofrontal", "lingual", "medialorbitofrontal", "middletemporal",
    "parahippocampal", "paracentral", "parsopercularis", "parsorbitalis", "parstriangularis",
    "pericalcarine", "postcentral", "posteriorcingulate", "precentral", "precuneus",
    "rostralanteriorcingulate", "rostralmiddlefrontal", "superiorfrontal", "superiorparietal",
    "superiortemporal", "supramarginal", "frontalpole", "temporalpole", "transversetemporal",
    "insula",
)
_REQUIRED = ("precentral", "precuneus")
_HEMIS = ("lh", "rh")

# CVS revisions of the two stats programs -> FreeSurfer release.  6.0 and 5.1
# revisions were read in real headers; 5.3's "1.75.2.x" branch is taken from
# public code (likely, not certain) and reported as such.
_CVS_RELEASES = {
    ("mri_segstats.c", "1.75"): "5.1",
    ("mri_segstats.c", "1.121"): "6.0",
    ("mris_anatomical_stats.c", "1.72"): "5.1",
    ("mris_anatomical_stats.c", "1.79"): "6.0",
}
_CVS_RE = re.compile(r"\$Id:\s*(\S+),v\s+([0-9.]+)\s+(\d{4})/")
_RELEASE_RE = re.compile(r"(?<![0-9.])(\d+\.\d+\.\d+)(?![0-9.])")


@dataclass(frozen=True)
class AparcStats:
    """The values alsstats takes from one ``?h.aparc.stats`` file."""

    path: Path
    hemi: str
    gray_vol: dict[str, float]
    etiv: float | None
    cvs_version: str | None
    subjectname: str | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class AsegStats:
    """The values alsstats takes from ``aseg.stats``.

    ``etiv_source`` is ``"eTIV"`` or, for FreeSurfer 5.1, ``"ICV"`` (the
    ``IntraCranialVol, ICV`` measure, which is the same estimate under its old
    name).
    """

    path: Path
    total_gray: float
    etiv: float
    etiv_source: str
    cvs_version: str | None
    subjectname: str | None
    notes: tuple[str, ...] = ()


def _positive_volume(st: StatsFile, name: str, problems: list[Problem]) -> float | None:
    m = st.measures.get(name)
    if m is None:
        return None
    if m.units != "mm^3":
        problems.append(problem(st.path, f"# Measure {name} has units {m.units!r}, expected "
                                "mm^3", m.line))
    if m.value <= 0:
        problems.append(problem(st.path, f"# Measure {name} must be > 0 mm^3", m.line, m.value))
    return m.value


def _check_kind(st: StatsFile, program: str, anatomy: str, what: str) -> None:
    prog = st.get("generating_program")
    if prog is None:
        if st.columns is None and st.measures:
            raise fail(st.path, f"measures only, no table and no '# generating_program' "
                       f"(a brainvol.stats file?); expected {what} written by {program}")
        raise fail(st.path, f"no '# generating_program' line; expected {what} written by "
                   f"{program}")
    if prog != program:
        kind = "an aseg/segmentation table" if prog == "mri_segstats" else (
            "a surface parcellation table" if prog == "mris_anatomical_stats" else prog)
        line = st.header["generating_program"][1]
        raise fail(st.path, f"wrong file kind: generating_program {prog} ({kind}); expected "
                   f"{what} written by {program}", line)
    at = st.header.get("anatomy_type")
    if at is not None and at[0] != anatomy:
        raise fail(st.path, f"wrong file kind: anatomy_type {at[0]}, expected {anatomy}", at[1])
    if st.columns is None:
        raise fail(st.path, "no '# ColHeaders' line: the table is missing (truncated file?)")


def _table(st: StatsFile, value_col: str, problems: list[Problem]) -> dict[str, float]:
    """StructName -> value of ``value_col``; checks names, numbers, signs and units."""
    i_name, i_val = st.column("StructName"), st.column(value_col)
    units = st.units.get(value_col)
    if units is not None and units != "mm^3":
        problems.append(problem(st.path, f"column {value_col} has units {units!r}, expected "
                                "mm^3", st.columns_line))
    out: dict[str, float] = {}
    first_line: dict[str, int] = {}
    for tokens, line in st.rows:
        name = tokens[i_name]
        if name in out:
            problems.append(problem(st.path, f"duplicate structure {name!r} (first on line "
                                    f"{first_line[name]})", line))
            continue
        try:
            value = float(tokens[i_val])
        except ValueError:
            problems.append(problem(st.path, f"structure {name!r}: {value_col} is not a number",
                                    line, tokens[i_val]))
            continue
        if not value >= 0:
            problems.append(problem(st.path, f"structure {name!r}: {value_col} must be a "
                                    "non-negative volume", line, tokens[i_val]))
            continue
        out[name] = value
        first_line[name] = line
    return out


def read_aparc(path: str | os.PathLike, hemi: str | None = None, *,
               atlas: str = "desikan") -> AparcStats:
    """Read ``lh.aparc.stats`` or ``rh.aparc.stats`` strictly.

    Parameters
    ----------
    path
        The file.  Its name must start with ``lh.`` or ``rh.``.
    hemi
        The hemisphere the caller expects (``"lh"``/``"rh"``); ``None`` accepts
        either.  The filename, ``# hemi`` and ``hemi`` must all agree.
    atlas
        ``"desikan"`` requires all 34 Desikan–Killiany structures (catches
        truncated files and DKT/a2009s tables passed by mistake); ``"any"``
        requires only precentral and precuneus.

    Raises
    ------
    DataValidationError
        Wrong file kind or hemisphere, no table, malformed rows, duplicate or
        missing structures, non-numeric, negative or non-mm³ GrayVol — every
        problem with file and line or structure.
    """
    if atlas not in ("desikan", "any"):
        raise ValueError(f"atlas must be 'desikan' or 'any', got {atlas!r}")
    st = read_stats(path)
    p = st.path
    _check_kind(st, "mris_anatomical_stats", "surface", "an aparc table")
    problems: list[Problem] = []
    name_hemi = p.name[:2] if p.name[:3] in ("lh.", "rh.") else None
    head = st.header.get("hemi")
    if head is None:
        problems.append(problem(p, "no '# hemi' line: cannot confirm the hemisphere"))
    elif head[0] not in _HEMIS:
        problems.append(problem(p, f"'# hemi {head[0]}' is not lh or rh", head[1]))
    elif name_hemi is not None and head[0] != name_hemi:
        problems.append(problem(p, f"wrong hemisphere: the file name says {name_hemi} but the "
                                f"header says '# hemi {head[0]}'", head[1]))
    file_hemi = head[0] if head is not None and head[0] in _HEMIS else name_hemi
    if hemi is not None and file_hemi is not None and file_hemi != hemi:
        problems.append(problem(p, f"wrong hemisphere: {hemi} expected, this file is "
                                f"{file_hemi}", head[1] if head else None))
    vols = _table(st, "GrayVol", problems)
    for name in _REQUIRED:
        if name not in vols:
            last = st.rows[-1][1] if st.rows else st.columns_line
            problems.append(problem(p, f"required structure {name!r} is missing from the table "
                                    f"(lines {st.columns_line}-{last})"))
    if atlas == "desikan":
        absent = [s for s in DESIKAN_STRUCTURES if s not in vols and s not in _REQUIRED]
        extra = [s for s in vols if s not in DESIKAN_STRUCTURES]
        if absent or extra:
            annot = st.get("AnnotationFile") or "unknown annotation"
            problems.append(problem(
                p, f"not a complete Desikan-Killiany (aparc) table: {len(vols)} structures, "
                f"{len(absent)} Desikan structures absent ({', '.join(absent[:5])}"
                f"{', ...' if len(absent) > 5 else ''}), {len(extra)} unknown "
                f"({', '.join(extra[:5])}); AnnotationFile {annot} "
                "(truncated file, or a DKT/a2009s table where aparc was expected?)"))
    etiv = st.measures.get("eTIV")
    if problems:
        raise DataValidationError(problems)
    return AparcStats(p, file_hemi or hemi or "", vols, None if etiv is None else etiv.value,
                      st.get("cvs_version"), st.get("subjectname"), tuple(st.notes))


def read_aseg(path: str | os.PathLike) -> AsegStats:
    """Read ``aseg.stats`` strictly: TotalGrayVol and eTIV (or the FS 5.1 ``ICV`` alias).

    The table (``Volume_mm3`` per structure) is checked even though only the
    header measures are used: its row count must equal ``# NRows``, and every
    volume must be a non-negative number.

    Raises
    ------
    DataValidationError
        brainvol.stats or an aparc file given instead, no table, row count ≠
        ``# NRows``, duplicate structures, missing TotalGrayVol or eTIV/ICV,
        non-mm³ or non-positive measures.
    """
    st = read_stats(path)
    p = st.path
    _check_kind(st, "mri_segstats", "volume", "aseg.stats")
    problems: list[Problem] = []
    notes = list(st.notes)
    nrows = st.header.get("NRows")
    if nrows is not None:
        try:
            expected = int(nrows[0].split()[0])
        except (ValueError, IndexError):
            problems.append(problem(p, f"'# NRows {nrows[0]}' is not an integer", nrows[1]))
        else:
            if expected != len(st.rows):
                problems.append(problem(p, f"table has {len(st.rows)} rows but '# NRows' says "
                                        f"{expected} (truncated file?)", nrows[1]))
    _table(st, "Volume_mm3", problems)
    total = _positive_volume(st, "TotalGrayVol", problems)
    if total is None:
        problems.append(problem(p, "required measure TotalGrayVol is missing "
                                "('# Measure TotalGray, TotalGrayVol, ...')"))
    etiv = _positive_volume(st, "eTIV", problems)
    source = "eTIV"
    if etiv is None:
        icv = _positive_volume(st, "ICV", problems)
        if icv is None:
            problems.append(problem(p, "required measure eTIV is missing (no "
                                    "'EstimatedTotalIntraCranialVol, eTIV' and no FreeSurfer 5.1 "
                                    "'IntraCranialVol, ICV' line)"))
        else:
            etiv, source = icv, "ICV"
            notes.append(f"line {st.measures['ICV'].line}: FreeSurfer 5.1 measure "
                         "'IntraCranialVol, ICV' used as eTIV")
    if problems:
        raise DataValidationError(problems)
    return AsegStats(p, total, etiv, source, st.get("cvs_version"), st.get("subjectname"),
                     tuple(notes))


def version_from_cvs(cvs_version: str | None) -> str | None:
    """FreeSurfer release from a ``# cvs_version`` header, or ``None`` if unknown.

    FreeSurfer 7 writes the release itself (``7.0.0``); older releases write a
    CVS ``$Id: program.c,v REV date`` string whose revision is mapped to the
    release through a table of revisions seen in real files.  An unknown
    revision returns ``"unknown (program.c rev REV, YEAR)"`` — never the
    revision number as a version.
    """
    if not cvs_version:
        return None
    m = _CVS_RE.search(cvs_version)
    if m is None:
        r = _RELEASE_RE.search(cvs_version)
        return r.group(1) if r else None
    program, rev, year = m.groups()
    if (program, rev) in _CVS_RELEASES:
        return _CVS_RELEASES[(program, rev)]
    if program == "mri_segstats.c" and rev.startswith("1.75.2."):
        return "5.3"
    return f"unknown ({program} rev {rev}, {year})"


def freesurfer_version(subject_dir: str | os.PathLike,
                       cvs_versions: list[str | None] = ()) -> tuple[str | None, str]:
    """``(version, source)`` for a subject folder.

    ``scripts/build-stamp.txt`` (e.g. ``freesurfer-linux-centos7_x86_64-7.4.1-20230613-…``)
    wins; otherwise the first ``cvs_version`` that maps to a release.
    """
    stamp = Path(subject_dir) / "scripts" / "build-stamp.txt"
    if stamp.is_file():
        text = stamp.read_text(encoding="utf-8", errors="replace").strip()
        m = _RELEASE_RE.search(text)
        if m:
            return m.group(1), "scripts/build-stamp.txt"
    for cvs in cvs_versions:
        v = version_from_cvs(cvs)
        if v is not None:
            return v, "cvs_version header"
    return None, "not found"


@dataclass(frozen=True)
class FreeSurferSubject:
    """One FreeSurfer subject folder, read and checked.

    Volumes are in mm³; ``total_gray`` and ``etiv`` are ``None`` only when the
    subject was read with ``require_aseg=False`` and has no ``aseg.stats``.
    """

    name: str
    version: str | None
    version_source: str
    gray_vol: dict[str, dict[str, float]]
    total_gray: float | None
    etiv: float | None
    etiv_source: str | None
    files: dict[str, Path] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def volume(self, structure: str, hemi: str = "both") -> float:
        """GrayVol of ``structure`` in ``"lh"``, ``"rh"`` or summed over ``"both"``."""
        if hemi == "both":
            return self.gray_vol["lh"][structure] + self.gray_vol["rh"][structure]
        return self.gray_vol[hemi][structure]

    @property
    def m1(self) -> float:
        """Precentral GrayVol, both hemispheres (mm³)."""
        return self.volume("precentral")

    @property
    def precuneus(self) -> float:
        """Precuneus GrayVol, both hemispheres (mm³)."""
        return self.volume("precuneus")


def read_subject(subject_dir: str | os.PathLike, *, require_aseg: bool = True,
                 atlas: str = "desikan") -> FreeSurferSubject:
    """Read ``stats/lh.aparc.stats``, ``stats/rh.aparc.stats`` and ``stats/aseg.stats``.

    Checks that lh and rh are two different files (by SHA-256) of the right
    hemispheres, and notes when ``# subjectname`` differs from the folder name
    or when the eTIV in the aparc headers (FS 6+) disagrees with aseg.stats.

    Raises
    ------
    DataValidationError
        Missing files and every problem of :func:`read_aparc` / :func:`read_aseg`.
    """
    d = Path(subject_dir)
    stats = d / "stats"
    files = {"lh.aparc": stats / "lh.aparc.stats", "rh.aparc": stats / "rh.aparc.stats",
             "aseg": stats / "aseg.stats"}
    need = ["lh.aparc", "rh.aparc"] + (["aseg"] if require_aseg else [])
    missing = [files[k] for k in need if not files[k].is_file()]
    if missing:
        raise DataValidationError([problem(f, "file not found (required FreeSurfer output)")
                                   for f in missing])
    if file_sha256(files["lh.aparc"]) == file_sha256(files["rh.aparc"]):
        raise fail(files["rh.aparc"], f"identical to {files['lh.aparc'].name} (same SHA-256): "
                   "lh and rh were given as the same file")
    lh = read_aparc(files["lh.aparc"], "lh", atlas=atlas)
    rh = read_aparc(files["rh.aparc"], "rh", atlas=atlas)
    notes = [f"{lh.path.name} {n}" for n in lh.notes] + [f"{rh.path.name} {n}" for n in rh.notes]
    aseg = None
    if files["aseg"].is_file():
        aseg = read_aseg(files["aseg"])
        notes += [f"aseg.stats {n}" for n in aseg.notes]
    else:
        del files["aseg"]
        notes.append("stats/aseg.stats not found: total_gm_volume_mm3 and etiv_mm3 missing")
    for item in (lh, rh, aseg):
        if item is not None and item.subjectname not in (None, d.name):
            notes.append(f"{item.path.name}: '# subjectname {item.subjectname}' differs from the "
                         f"folder name {d.name!r} (the folder name is used)")
    if aseg is not None:
        for a in (lh, rh):
            if a.etiv is not None and abs(a.etiv - aseg.etiv) > 1e-6 * aseg.etiv:
                notes.append(f"{a.path.name}: eTIV {a.etiv} differs from aseg.stats {aseg.etiv}")
    version, source = freesurfer_version(
        d, [aseg.cvs_version if aseg else None, lh.cvs_version, rh.cvs_version])
    return FreeSurferSubject(
        name=d.name, version=version, version_source=source,
        gray_vol={"lh": lh.gray_vol, "rh": rh.gray_vol},
        total_gray=aseg.total_gray if aseg else None, etiv=aseg.etiv if aseg else None,
        etiv_source=aseg.etiv_source if aseg else None, files=files, notes=tuple(notes))
