"""LCModel readers on tables the tests write: fixed-width rows, QC, scaling and every rejection."""

from __future__ import annotations

import math

import pytest

from alsstats.errors import DataValidationError
from alsstats.io.lcmodel.mrs import MrsOptions, extract_mrs
from alsstats.io.lcmodel.reader import read_lcmodel
from alsstats.testing.inputs import format_conc_row, write_lcmodel_table

METS = {"GABA": (1.5, 12), "Glu": (8.25, 6), "NAA": (10.5, 3), "NAAG": (1.2, 15),
        "NAA+NAAG": (11.7, 3), "Cr+PCr": (6.0, 3)}


def _line_of(path, text):
    return next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if text in ln)


def test_fixed_width_round_trip(tmp_path):
    assert format_conc_row("Glu", 7.2e-08, 166, 3.9e-02) == " 7.20E-08 166% 3.9E-02 Glu"
    assert format_conc_row("Cr", 0.0, 999, 0.0) == "    0.000 999%   0.000 Cr"
    p = write_lcmodel_table(tmp_path / "a.table", METS, water_scaled=True)
    r = read_lcmodel(p)
    assert {n: (m.conc, m.sd_pct) for n, m in r.metabolites.items()} == METS
    assert r.water_scaled is True and r.scaling == {"dows": "T", "filh2o": "given"}
    out = extract_mrs(r)
    assert out.values == {"glu": 8.25, "glu_crlb": 6.0, "naa": 10.5, "naa_crlb": 3.0,
                          "gaba": 1.5, "gaba_crlb": 12.0}


def test_flag_column_and_dash_names(tmp_path):
    p = write_lcmodel_table(tmp_path / "a.table", METS)
    text = p.read_text().replace(format_conc_row("Glu", 8.25, 6, 8.25 / 6.0),
                                 format_conc_row("Glu", 8.25, 6, 8.25 / 6.0, "+"))
    text = text.replace(" NAAG\n", " NAAG\n" + format_conc_row("-CrCH2", 0.5, 20, 0.1) + "\n")
    text = text.replace("$$CONC 7 lines", "$$CONC 8 lines")
    p.write_text(text)
    r = read_lcmodel(p)
    assert "+Glu" not in r.metabolites and r.metabolites["Glu"].flag == "+"
    assert r.metabolites["-CrCH2"].flag == "" and r.metabolites["-CrCH2"].conc == 0.5
    out = extract_mrs(r)
    assert ("flagged", "glu") == out.findings[0][:2]
    assert "prior-ratio outlier" in out.findings[0][2]


def test_999_and_threshold_policies(tmp_path):
    mets = dict(METS, GABA=(0.0, 999), Glu=(8.0, 25))
    r = read_lcmodel(write_lcmodel_table(tmp_path / "a.table", mets))
    dropped = extract_mrs(r)
    assert math.isnan(dropped.values["gaba"]) and math.isnan(dropped.values["gaba_crlb"])
    assert math.isnan(dropped.values["glu"]) and dropped.values["glu_crlb"] == 25.0
    kinds = {(k, f) for k, f, _, _ in dropped.findings}
    assert kinds == {("dropped", "gaba"), ("dropped", "glu")}
    assert any("GABA not determined by LCModel (Conc. 0, %SD 999%)" in f[2]
               for f in dropped.findings)
    flagged = extract_mrs(r, MrsOptions(policy="flag"))
    assert flagged.values["glu"] == 8.0                 # kept, flagged
    assert math.isnan(flagged.values["gaba"])           # 999 % is never kept
    loose = extract_mrs(r, MrsOptions(crlb_max=30))
    assert loose.values["glu"] == 8.0 and len(loose.findings) == 1


def test_naa_choice_and_missing_metabolite(tmp_path):
    r = read_lcmodel(write_lcmodel_table(tmp_path / "a.table", METS))
    assert extract_mrs(r, MrsOptions(naa="NAA+NAAG")).values["naa"] == 11.7
    mets = {k: v for k, v in METS.items() if k != "GABA"}
    p = write_lcmodel_table(tmp_path / "b.table", mets)
    with pytest.raises(DataValidationError,
                       match=r"b\.table: required metabolite 'GABA' .* is not in the "
                             "concentration table"):
        extract_mrs(read_lcmodel(p))


def test_spectrum_quality_flags(tmp_path):
    r = read_lcmodel(write_lcmodel_table(tmp_path / "a.table", METS, fwhm=0.12, snr=6))
    out = extract_mrs(r, MrsOptions(fwhm_max_ppm=0.1, snr_min=10))
    reasons = [f[2] for f in out.findings]
    assert "FWHM 0.12 ppm > 0.1 ppm" in reasons and "S/N 6 < 10" in reasons


def test_diagnostics(tmp_path):
    p = write_lcmodel_table(tmp_path / "w.table", METS,
                            diagnostics=["   1 warning   MYCONT 17"])
    out = extract_mrs(read_lcmodel(p))
    assert out.findings == [("warning", None, "LCModel diagnostic WARNING MYCONT 17 at "
                             f"w.table line {_line_of(p, 'MYCONT')}", "WARNING MYCONT 17")]
    p = write_lcmodel_table(tmp_path / "e.table", METS,
                            diagnostics=["   1 ERROR     RFALSI  2", "   2 info's    TWOREG  8"])
    with pytest.raises(DataValidationError,
                       match=rf"e\.table line {_line_of(p, 'RFALSI')}: LCModel reported ERROR "
                             "RFALSI 2: the fit cannot be used"):
        read_lcmodel(p)


def test_truncated_tables(tmp_path):
    p = write_lcmodel_table(tmp_path / "a.table", METS)
    full = p.read_text()
    p.write_text(full[: full.index("$$MISC")])
    with pytest.raises(DataValidationError, match=r"a\.table: truncated file: section\(s\) "
                                                  r"\$\$MISC, \$\$DIAG, \$\$INPU missing"):
        read_lcmodel(p)
    lines = full.splitlines()
    row = next(i for i, ln in enumerate(lines, 1) if ln.endswith(" Glu"))
    lines[row - 1] = lines[row - 1][:15]
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataValidationError,
                       match=rf"a\.table line {row} \(value .*\): concentration row does not fit "
                             "LCModel's fixed-width layout"):
        read_lcmodel(p)
    lines = full.splitlines()
    del lines[row - 1]
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataValidationError, match=r"a\.table line 4: \$\$CONC declares 7 lines "
                                                  r"\(header \+ 6 metabolites\) but has 6"):
        read_lcmodel(p)


def test_empty_missing_and_unknown_files(tmp_path):
    with pytest.raises(DataValidationError, match=r"x\.table: file not found"):
        read_lcmodel(tmp_path / "x.table")
    (tmp_path / "e.table").write_text("   \n")
    with pytest.raises(DataValidationError, match=r"e\.table: empty file"):
        read_lcmodel(tmp_path / "e.table")
    (tmp_path / "n.table").write_text(" LCModel (Version 6.3-1N)\n title\n")
    with pytest.raises(DataValidationError, match=r"n\.table: no \$\$CONC section: not an "
                                                  "LCModel output, or the file is truncated"):
        read_lcmodel(tmp_path / "n.table")
    with pytest.raises(DataValidationError, match=r"unknown LCModel output type '\.ps'"):
        read_lcmodel(tmp_path / "x.ps")


def test_non_ascii_title_does_not_crash(tmp_path):
    p = write_lcmodel_table(tmp_path / "a.table", METS)
    raw = p.read_bytes().replace(b" synthetic", " Women’s".encode() + b" \xff\xfe latin-1")
    p.write_bytes(raw)
    assert read_lcmodel(p).metabolites["Glu"].conc == 8.25


def test_csv_with_several_rows_rejected(tmp_path):
    p = tmp_path / "csi.csv"
    head = "Row, Col, Glu, Glu %SD, Glu/Cr+PCr"
    p.write_text(f"{head}\n  1,   1, 8.0, 5, 1.2\n  1,   2, 7.0, 6, 1.1\n")
    with pytest.raises(DataValidationError, match=r"csi\.csv line 3: 2 data rows \(CSI voxels\?\)"):
        read_lcmodel(p)
    p.write_text(f"{head}\n  1,   1, 8.0, 5\n")
    with pytest.raises(DataValidationError, match="data row has 4 fields, header has 5"):
        read_lcmodel(p)


def test_coord_truncated_block(tmp_path):
    ny = 12
    conc = [format_conc_row(n, c, sd, c / 6.0) for n, (c, sd) in METS.items()]
    values = " ".join(f"{i * 0.1:.3f}" for i in range(ny))
    lines = [" LCModel (Version 6.3-1N) Copyright", " t", f" {len(conc) + 1} lines in following "
             "concentration table = NCONC+1", "    Conc.  %SD /Cr+PCr  Metabolite", *conc,
             "   2 lines in following misc. output table", "  FWHM = 0.050 ppm    S/N =  20",
             "  Data shift = 0.000 ppm", f"  {ny} points on ppm-axis = NY", values,
             " NY phased data points follow", values, " NY points of the fit to the data follow",
             values, "   0 lines in following diagnostic table:",
             "   1 lines in following table of input changes:", " ltable=7"]
    p = tmp_path / "a.coord"
    p.write_text("\n".join(lines) + "\n")
    assert read_lcmodel(p).metabolites["Glu"].conc == 8.25
    lines[lines.index(" NY points of the fit to the data follow") + 1] = values[:20]
    p.write_text("\n".join(lines) + "\n")
    n = lines.index(" NY points of the fit to the data follow") + 1
    with pytest.raises(DataValidationError,
                       match=rf"a\.coord line {n}: NY points of the fit to the data follow has 4 "
                             rf"values, expected NY = {ny} \(truncated file\?\)"):
        read_lcmodel(p)
