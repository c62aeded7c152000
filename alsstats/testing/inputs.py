"""Write synthetic FreeSurfer, LCModel, NIfTI and clinical inputs (for tests, demos, benchmarks).

:func:`write_inputs` turns a cohort table (e.g. from
:func:`alsstats.simulate.simulate_cohort`) into the raw outputs users have —
one FreeSurfer subject folder, one LCModel ``.table`` and one ICA map per
subject and visit, a clinical CSV and a manifest — so that
``alsstats ingest`` can be checked to give the table back.  The files follow
the grammars in :mod:`alsstats.io.freesurfer.stats_file` and :mod:`alsstats.io.lcmodel.reader`;
their headers are written from those grammars, not copied from real files.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from alsstats.io.freesurfer.subject import DESIKAN_STRUCTURES

__all__ = ["format_conc_row", "write_aparc_stats", "write_aseg_stats", "write_inputs",
           "write_lcmodel_table"]

_CVS = {
    "5.3": ("$Id: mris_anatomical_stats.c,v 1.69.2.1 2013/01/09 00:00:00 nicks Exp $",
            "$Id: mri_segstats.c,v 1.75.2.9 2013/02/16 00:00:00 greve Exp $"),
    "6.0": ("$Id: mris_anatomical_stats.c,v 1.79 2016/03/14 15:15:34 greve Exp $",
            "$Id: mri_segstats.c,v 1.121 2016/05/31 17:27:11 greve Exp $"),
}
_APARC_COLS = ("StructName NumVert SurfArea GrayVol ThickAvg ThickStd MeanCurv GausCurv "
               "FoldInd CurvInd")
_APARC_UNITS = ("NA", "unitless", "mm^2", "mm^3", "mm", "mm", "mm^-1", "mm^-2", "unitless",
                "unitless")
_ASEG_ROWS = (("Left-Lateral-Ventricle", 4), ("Left-Cerebellum-Cortex", 8),
              ("Left-Thalamus", 10), ("Right-Cerebellum-Cortex", 47), ("Right-Thalamus", 49))


def _cvs(version: str, index: int) -> str:
    return _CVS[version][index] if version in _CVS else version


def write_aparc_stats(path: str | os.PathLike, hemi: str, gray_vol: Mapping[str, float], *,
                      version: str = "7.4.1", subjectname: str = "subject",
                      etiv: float | None = None, structures: Iterable[str] = DESIKAN_STRUCTURES
                      ) -> Path:
    """Write a ``?h.aparc.stats``; structures absent from ``gray_vol`` get 5000 mm³.

    ``version`` ``"5.3"``/``"6.0"`` writes a CVS ``cvs_version`` (and, for 6.0,
    the missing-comma ``CortexVol`` measure); any other string is written as
    the FreeSurfer 7 release text.
    """
    p = Path(path)
    lines = ["# Table of FreeSurfer cortical parcellation anatomical statistics ", "# ",
             "# generating_program mris_anatomical_stats", f"# cvs_version {_cvs(version, 0)}",
             f"# cmdline mris_anatomical_stats {subjectname} {hemi} white", "# ",
             "# anatomy_type surface", f"# subjectname {subjectname}", f"# hemi {hemi}",
             f"# AnnotationFile ../label/{hemi}.aparc.annot",
             "# Measure Cortex, NumVert, Number of Vertices, 120000, unitless",
             "# Measure Cortex, MeanThickness, Mean Thickness, 2.5, mm"]
    if version != "5.3":
        sep = " " if version == "6.0" else ", "
        lines.append(f"# Measure Cortex, CortexVol{sep}Total cortical gray matter volume, "
                     "450000.0, mm^3")
        if etiv is not None:
            lines.append("# Measure EstimatedTotalIntraCranialVol, eTIV, Estimated Total "
                         f"Intracranial Volume, {etiv!r}, mm^3")
    names = _APARC_COLS.split()
    lines.append(f"# NTableCols {len(names)}")
    for i, (name, unit) in enumerate(zip(names, _APARC_UNITS, strict=True), start=1):
        lines += [f"# TableCol {i:2d} ColHeader {name}", f"# TableCol {i:2d} Units     {unit} "]
    lines.append(f"# ColHeaders {_APARC_COLS}")
    for s in structures:
        v = gray_vol.get(s, 5000.0)
        lines.append(f"{s:<40s} {3000:6d} {2000:6d} {v!r:>8} 2.500 0.500 0.120 0.020 "
                     f"{30:6d} 3.0")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def write_aseg_stats(path: str | os.PathLike, total_gray: float, etiv: float, *,
                     version: str = "7.4.1", subjectname: str = "subject",
                     icv_alias: bool = False) -> Path:
    """Write an ``aseg.stats``: TotalGrayVol, eTIV (or the FS 5.1 ICV line), a small table."""
    p = Path(path)
    lines = ["# Title Segmentation Statistics ", "# ", "# generating_program mri_segstats",
             f"# cvs_version {_cvs(version, 1)}", "# anatomy_type volume",
             f"# subjectname {subjectname}",
             "# Measure SubCortGray, SubCortGrayVol, Subcortical gray matter volume, 60000.0, "
             "mm^3",
             f"# Measure TotalGray, TotalGrayVol, Total gray matter volume, {total_gray!r}, mm^3"]
    if icv_alias:
        lines.append(f"# Measure IntraCranialVol, ICV, Intracranial Volume, {etiv!r}, mm^3")
    else:
        lines.append("# Measure EstimatedTotalIntraCranialVol, eTIV, Estimated Total "
                     f"Intracranial Volume, {etiv!r}, mm^3")
    cols = "Index SegId NVoxels Volume_mm3 StructName normMean normStdDev normMin normMax " \
           "normRange"
    lines += ["# VoxelVolume_mm3 1 ", "# TableCol  4 ColHeader Volume_mm3 ",
              "# TableCol  4 Units     mm^3", f"# NRows {len(_ASEG_ROWS)} ",
              "# NTableCols 10 ", f"# ColHeaders  {cols}  "]
    for i, (name, seg) in enumerate(_ASEG_ROWS, start=1):
        lines.append(f"{i:3d} {seg:3d} {5000:9d} {5012.5:10.1f}  {name:<30s} 80.0 10.0 "
                     "20.0 110.0 90.0 ")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def _num(x: float, decimals: int, exp_digits: int) -> str:
    if x != 0 and (abs(x) < 0.0995 or abs(x) > 999.999):
        return f"{x:8.{exp_digits}E}"
    return f"{x:8.{decimals}f}"


def format_conc_row(name: str, conc: float, sd_pct: int, ratio: float, flag: str = " ") -> str:
    """One fixed-width ``$$CONC`` row (``1X,F8.3|1PE8.2,I4,'%',F8.3|1PE8.1,A1,A``)."""
    return f" {_num(conc, 3, 2)}{min(int(sd_pct), 999):4d}%{_num(ratio, 3, 1)}{flag}{name}"


def write_lcmodel_table(path: str | os.PathLike, metabolites: Mapping[str, tuple[float, int]],
                        *, reference: str = "Cr+PCr", fwhm: float = 0.05, snr: float = 20,
                        water_scaled: bool = False, diagnostics: Iterable[str] = ()) -> Path:
    """Write an LCModel ``.table`` from ``name -> (conc, %SD)``; ratios to ``reference``."""
    p = Path(path)
    ref = metabolites.get(reference, (1.0, 3))[0] or 1.0
    rows = [format_conc_row(n, c, sd, c / ref) for n, (c, sd) in metabolites.items()]
    diags = list(diagnostics)
    inputs = [" filtab='out.table'", " ltable=7", " filraw='data.raw'", " filbas='basis'"]
    if water_scaled:
        inputs += [" dows=T", " filh2o='water.raw'"]
    lines = [" LCModel (Version 6.3-1N)", " synthetic", "",
             f"$$CONC {len(rows) + 1} lines in following concentration table = NCONC+1",
             f"    Conc.  %SD /{reference}  Metabolite", *rows, "",
             "$$MISC  5 lines in following misc. output table",
             f"  FWHM = {fwhm:.3f} ppm    S/N = {snr:3.0f}", "  Data shift = 0.000 ppm",
             "  Ph:   0 deg       0.0 deg/ppm", "  alphaB,S = 1.0E-01,   1.0E-01",
             "   28 spline knots.   Ns = 5(1)", "",
             f"$$DIAG {len(diags):2d} lines in following diagnostic table:", *diags, "",
             f"$$INPU {len(inputs)} lines in following table of input changes:", *inputs]
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def _crlb(given: float) -> int:
    return round(given) if np.isfinite(given) else 10


def write_inputs(cohort: pd.DataFrame, root: str | os.PathLike, *, ica_shape=(6, 6, 6),
                 write_ica: bool = True, seed: int = 0) -> Path:
    """Write per-subject inputs for every row of ``cohort`` and a manifest; return its path.

    Layout under ``root``: ``freesurfer/<sid>_ses-<visit>/stats/*.stats``,
    ``lcmodel/<sid>_ses-<visit>_sma.table``, ``ica/<sid>_ses-<visit>.nii.gz``
    (3D maps whose mean within ``sma_mask.nii.gz`` is the row's ``smn_sma``),
    ``clinical.csv`` and ``manifest.toml`` (``zscore_to_hc = false`` so that
    ``smn_sma`` round-trips, and ``crlb_policy = "flag"`` so that no value is
    dropped).  Rows with missing markers get no file for that
    modality, except a missing GABA next to a present Glu, which is written as
    LCModel's not-determined row (``0.000 999%``).  Hemispheres split M1 and
    precuneus 52/48.
    """
    import nibabel as nib

    root = Path(root)
    rng = np.random.default_rng(seed)
    fs_dir, lcm_dir, ica_dir = root / "freesurfer", root / "lcmodel", root / "ica"
    for d in (fs_dir, lcm_dir, ica_dir):
        d.mkdir(parents=True, exist_ok=True)
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    mask = np.zeros(ica_shape, dtype=np.uint8)
    mask[1:4, 1:4, 1:4] = 255
    if write_ica:
        nib.save(nib.Nifti1Image(mask, affine), root / "sma_mask.nii.gz")

    def get(row, col):
        v = row.get(col, math.nan)
        return float(v) if v is not None and pd.notna(v) else math.nan

    for row in cohort.to_dict("records"):
        name = f"{row['subject_id']}_ses-{int(row['visit'])}"
        m1, pc = get(row, "m1_volume_mm3"), get(row, "precuneus_volume_mm3")
        tg, etiv = get(row, "total_gm_volume_mm3"), get(row, "etiv_mm3")
        if all(np.isfinite([m1, pc, tg, etiv])):
            stats = fs_dir / name / "stats"
            for hemi, share in (("lh", 0.52), ("rh", 0.48)):
                write_aparc_stats(stats / f"{hemi}.aparc.stats", hemi,
                                  {"precentral": m1 * share, "precuneus": pc * share},
                                  subjectname=name, etiv=etiv)
            write_aseg_stats(stats / "aseg.stats", tg, etiv, subjectname=name)
        glu, naa, gaba = get(row, "glu"), get(row, "naa"), get(row, "gaba")
        if np.isfinite(glu) and np.isfinite(naa):
            # GABA missing with Glu present: LCModel's "not determined" row (0.000, 999 %).
            gaba_row = (gaba, _crlb(get(row, "gaba_crlb"))) if np.isfinite(gaba) else (0.0, 999)
            mets = {"GABA": gaba_row,
                    "Glu": (glu, _crlb(get(row, "glu_crlb"))),
                    "NAA": (naa, _crlb(get(row, "naa_crlb"))),
                    "NAAG": (0.1 * naa, 15), "Cr+PCr": (6.0, 3)}
            write_lcmodel_table(lcm_dir / f"{name}_sma.table", mets, water_scaled=True)
        smn = get(row, "smn_sma")
        if write_ica and np.isfinite(smn):
            data = rng.normal(0.0, 1.0, ica_shape)
            inside = mask > 0
            data[inside] += smn - data[inside].mean()
            nib.save(nib.Nifti1Image(data.astype(np.float32), affine),
                     ica_dir / f"{name}.nii.gz")
    clinical_cols = [c for c in ("subject_id", "visit", "site", "group", "el_escorial", "age",
                                 "sex", "years_from_baseline", "disease_duration_months",
                                 "alsfrs_r", "nfl_pg_ml", "chi3l1_ng_ml") if c in cohort]
    cohort[clinical_cols].to_csv(root / "clinical.csv", index=False)
    fmri = ('\n[fmri]\nmask = "sma_mask.nii.gz"\nmaps_dir = "ica"\nzscore_to_hc = false\n'
            if write_ica else "")
    text = ('[clinical]\nfile = "clinical.csv"\n\n[freesurfer]\nsubjects_dir = "freesurfer"\n\n'
            '[lcmodel]\ndir = "lcmodel"\nvoxel = "sma"\ncrlb_policy = "flag"\n' + fmri)
    manifest = root / "manifest.toml"
    manifest.write_text(text, encoding="utf-8")
    return manifest
