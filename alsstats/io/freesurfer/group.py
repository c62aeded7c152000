"""FreeSurfer group inputs: ``aparcstats2table``/``asegstats2table`` TSVs, ``aparc+aseg.mgz``.

Group tables have one row per subject; the first column header names the
table (``lh.aparc.volume`` for ``aparcstats2table --hemi lh --meas volume``,
``Measure:volume`` for ``asegstats2table``).  Columns used:
``<hemi>_precentral_volume``, ``<hemi>_precuneus_volume``, ``TotalGrayVol``
and ``EstimatedTotalIntraCranialVol`` (FS 5.1: ``IntraCranialVol``, mapped and
reported).

From an ``aparc+aseg.mgz`` label volume the region volume is
``n_voxels(label) × |det(A[:3, :3])|`` with A the image affine (never an
assumed 1 mm voxel).  Voxel-count volumes differ from the surface-based
``GrayVol`` of the ``.stats`` files, so a cohort uses one or the other.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from alsstats.errors import DataValidationError, Problem
from alsstats.io._problems import fail, problem

__all__ = ["APARC_ASEG_LABELS", "read_aparc_aseg_volumes", "read_aparc_table",
           "read_aseg_table"]

#: FreeSurferColorLUT labels of the regions alsstats uses.
APARC_ASEG_LABELS = {("lh", "precentral"): 1024, ("rh", "precentral"): 2024,
                     ("lh", "precuneus"): 1025, ("rh", "precuneus"): 2025}


def _read_tsv(path: Path, first_header: tuple[str, ...], what: str
              ) -> tuple[list[str], list[tuple[str, list[str], int]]]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise fail(path, "file not found") from None
    lines = [(i, ln) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip()]
    if not lines:
        raise fail(path, f"empty file; expected {what}")
    head = lines[0][1].split("\t") if "\t" in lines[0][1] else lines[0][1].split()
    if head[0] not in first_header:
        raise fail(path, f"first column header {head[0]!r}; expected {' or '.join(first_header)}"
                   f" ({what})", 1)
    rows = []
    problems = []
    for lineno, ln in lines[1:]:
        cells = ln.split("\t") if "\t" in ln else ln.split()
        if len(cells) != len(head):
            problems.append(problem(path, f"row has {len(cells)} fields, header has {len(head)} "
                                    "(truncated file?)", lineno))
            continue
        rows.append((cells[0].strip(), [c.strip() for c in cells[1:]], lineno))
    seen: dict[str, int] = {}
    for name, _, lineno in rows:
        if name in seen:
            problems.append(problem(path, f"duplicate subject {name!r} (first on line "
                                    f"{seen[name]})", lineno))
        seen.setdefault(name, lineno)
    if problems:
        raise DataValidationError(problems)
    return head, rows


def _columns(path: Path, head: list[str], rows, wanted: dict[str, tuple[str, ...]]
             ) -> dict[str, dict[str, float]]:
    problems: list[Problem] = []
    index = {}
    for key, names in wanted.items():
        found = [n for n in names if n in head]
        if not found:
            problems.append(problem(path, f"required column {names[0]!r} is missing", 1))
        else:
            index[key] = head.index(found[0]) - 1
    if problems:
        raise DataValidationError(problems)
    out: dict[str, dict[str, float]] = {}
    for name, cells, lineno in rows:
        values = {}
        for key, i in index.items():
            try:
                v = float(cells[i])
            except ValueError:
                v = float("nan")
            if not np.isfinite(v) or v < 0:
                problems.append(problem(path, f"subject {name!r}: column {head[i + 1]!r} must be a"
                                        " non-negative number", lineno, cells[i]))
            values[key] = v
        out[name] = values
    if problems:
        raise DataValidationError(problems)
    return out


def read_aparc_table(path: str | os.PathLike, hemi: str) -> dict[str, dict[str, float]]:
    """Subject → ``{"precentral": mm³, "precuneus": mm³}`` from an ``aparcstats2table`` TSV.

    Raises
    ------
    DataValidationError
        Wrong table (first header not ``<hemi>.aparc.volume``, e.g. the other
        hemisphere or thickness), missing columns, duplicate subjects,
        non-numeric or negative volumes.
    """
    p = Path(path)
    if hemi not in ("lh", "rh"):
        raise ValueError(f"hemi must be 'lh' or 'rh', got {hemi!r}")
    head, rows = _read_tsv(p, (f"{hemi}.aparc.volume",),
                           f"aparcstats2table --hemi {hemi} --meas volume output")
    return _columns(p, head, rows, {s: (f"{hemi}_{s}_volume",)
                                    for s in ("precentral", "precuneus")})


def read_aseg_table(path: str | os.PathLike) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Subject → ``{"total_gray", "etiv"}`` from an ``asegstats2table`` TSV, and notes.

    The FS 5.1 column ``IntraCranialVol`` is accepted as eTIV and reported in
    the returned notes.
    """
    p = Path(path)
    head, rows = _read_tsv(p, ("Measure:volume",), "asegstats2table --meas volume output")
    values = _columns(p, head, rows, {"total_gray": ("TotalGrayVol",),
                                      "etiv": ("EstimatedTotalIntraCranialVol",
                                               "IntraCranialVol")})
    notes = []
    if "EstimatedTotalIntraCranialVol" not in head:
        notes.append(f"{p}: FreeSurfer 5.1 column 'IntraCranialVol' used as eTIV")
    return values, notes


def read_aparc_aseg_volumes(path: str | os.PathLike) -> dict[tuple[str, str], float]:
    """``(hemi, structure)`` → volume in mm³ from an ``aparc+aseg.mgz`` label image.

    Raises
    ------
    DataValidationError
        Unreadable image, non-3D or non-integer labels, a non-positive voxel
        volume, or a required label with no voxels (not an aparc+aseg volume).
    """
    import nibabel as nib

    p = Path(path)
    try:
        img = nib.load(str(p))
        data = np.asanyarray(img.dataobj)
    except FileNotFoundError:
        raise fail(p, "file not found") from None
    except (OSError, EOFError, ValueError, nib.filebasedimages.ImageFileError) as exc:
        raise fail(p, f"cannot read the label image: {exc}") from None
    if data.ndim != 3:
        raise fail(p, f"label image must be 3D, got shape {data.shape}")
    if not np.issubdtype(data.dtype, np.integer):
        if not np.all(np.isfinite(data)) or np.any(data != np.round(data)):
            raise fail(p, f"label image has non-integer values (dtype {data.dtype})")
    voxel = float(abs(np.linalg.det(img.affine[:3, :3])))
    if not voxel > 0:
        raise fail(p, "affine gives a zero voxel volume")
    labels, counts = np.unique(data, return_counts=True)
    count = dict(zip(labels.astype(np.int64).tolist(), counts.tolist(), strict=True))
    problems = [problem(p, f"label {lab} ({hemi} {name}) has no voxels: not an aparc+aseg "
                        "volume?") for (hemi, name), lab in APARC_ASEG_LABELS.items()
                if count.get(lab, 0) == 0]
    if problems:
        raise DataValidationError(problems)
    return {key: count[lab] * voxel for key, lab in APARC_ASEG_LABELS.items()}
