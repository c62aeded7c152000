"""Real LCModel outputs (suspect svs_97, MIT; generated test_lcm, BSD-3) in tests/data/.

Each expected number is quoted with its file and line under
tests/data/formats/lcmodel/ (see tests/data/SOURCES.md).
"""

from __future__ import annotations

import math

import pytest

from alsstats.errors import DataValidationError
from alsstats.io.lcmodel.mrs import MrsOptions, extract_mrs
from alsstats.io.lcmodel.reader import read_lcmodel


@pytest.fixture(scope="module")
def lcm(reference_path):
    return reference_path("formats/lcmodel")


def test_svs97_table(lcm):
    r = read_lcmodel(lcm / "suspect_svs_97" / "svs_97.TABLE")  # upper-case extension
    assert r.version == "6.3-1B"                     # line 1
    assert r.reference == "Cr+PCr"                   # line 7 header "/Cr+PCr"
    assert len(r.metabolites) == 37                  # line 6: 38 lines = NCONC+1
    glu = r.metabolites["Glu"]                       # line 17: " 3.27E-02  55%   0.131 Glu"
    assert (glu.conc, glu.sd_pct, glu.ratio, glu.line) == (3.27e-02, 55, 0.131, 17)
    naa = r.metabolites["NAA"]                       # line 20: " 7.97E-02  11%   0.318 NAA"
    assert (naa.conc, naa.sd_pct, naa.ratio) == (7.97e-02, 11, 0.318)
    gaba = r.metabolites["GABA"]                     # line 12: " 4.05E-02  32%   0.162 GABA"
    assert (gaba.conc, gaba.sd_pct) == (4.05e-02, 32)
    tnaa = r.metabolites["NAA+NAAG"]                 # line 29: "    0.148   6%   0.591"
    assert (tnaa.conc, tnaa.sd_pct, tnaa.ratio) == (0.148, 6, 0.591)
    cr = r.metabolites["Cr"]                         # line 11: "    0.000 999%   0.000 Cr"
    assert (cr.conc, cr.sd_pct) == (0.0, 999)
    crch2 = r.metabolites["-CrCH2"]                  # line 26: name starts with '-', no flag
    assert (crch2.conc, crch2.flag) == (6.78e-02, "")
    assert (r.fwhm_ppm, r.snr, r.data_shift_ppm) == (0.043, 13.0, 0.0)  # lines 47-48
    assert [(d.count, d.kind, d.routine, d.number) for d in r.diagnostics] == [
        (2, "info", "TWOREG", 8), (1, "info", "FINOUT", 9)]  # lines 55-56
    assert r.water_scaled is False                   # no DOWS / FILH2O in $$INPU (lines 59-77)


def test_generated_ok_table_coord_csv_agree(lcm):
    ok = lcm / "generated_lcmodel63_test_lcm" / "ok"
    t = read_lcmodel(ok / "out.table")
    assert t.version == "6.3-1N"                     # line 1
    assert (t.metabolites["Glu"].conc, t.metabolites["Glu"].sd_pct) == (2.14e-06, 8)    # line 13
    assert (t.metabolites["GABA"].conc, t.metabolites["GABA"].sd_pct) == (2.92e-07, 45)  # line 9
    assert (t.metabolites["NAA"].conc, t.metabolites["NAA"].sd_pct) == (1.91e-06, 5)    # line 17
    assert t.metabolites["NAA+NAAG"].conc == 2.38e-06                                   # line 25
    assert (t.fwhm_ppm, t.snr, t.data_shift_ppm) == (0.084, 21.0, 0.008)  # lines 43-44
    assert t.diagnostics == []                       # line 50: "$$DIAG  0 lines"
    c = read_lcmodel(ok / "out.coord")
    s = read_lcmodel(ok / "out.csv")
    for other, width in ((c, None), (s, 13)):  # the .csv truncates names to 13 characters
        assert other.reference == t.reference
        assert {n: (m.conc, m.sd_pct, m.ratio) for n, m in other.metabolites.items()} == \
            {n[:width]: (m.conc, m.sd_pct, m.ratio) for n, m in t.metabolites.items()}
    assert (c.fwhm_ppm, c.snr) == (0.084, 21.0)      # out.coord line 41
    assert s.fwhm_ppm is None and s.water_scaled is None  # a .csv has neither


def test_svs97_coord_and_csv(lcm):
    d = lcm / "suspect_svs_97"
    c = read_lcmodel(d / "svs_97.COORD")
    assert c.metabolites["Glu"].conc == 3.27e-02     # line 16
    assert len(c.metabolites) == 37
    assert [str(x) for x in c.diagnostics] == ["INFO TWOREG 8", "INFO FINOUT 9"]  # 2401-2402
    s = read_lcmodel(d / "svs_97.CSV")
    assert "MM14+Lip13a+L" in s.metabolites          # name truncated to 13 characters
    assert s.metabolites["NAA+NAAG"].conc == 0.148


def test_svs97_extraction_with_crlb_threshold(lcm):
    r = read_lcmodel(lcm / "suspect_svs_97" / "svs_97.TABLE")
    out = extract_mrs(r)                             # CRLB max 20 %, drop
    assert math.isnan(out.values["glu"]) and out.values["glu_crlb"] == 55.0
    assert out.values["naa"] == 7.97e-02 and out.values["naa_crlb"] == 11.0
    assert math.isnan(out.values["gaba"])
    reasons = [f[2] for f in out.findings if f[0] == "dropped"]
    assert "Glu CRLB 55% > 20% at svs_97.TABLE line 17" in reasons
    assert "GABA CRLB 32% > 20% at svs_97.TABLE line 12" in reasons
    tnaa = extract_mrs(r, MrsOptions(naa="NAA+NAAG", crlb_max=60, policy="flag"))
    assert tnaa.values["naa"] == 0.148 and tnaa.values["glu"] == 3.27e-02
    assert tnaa.findings == []


@pytest.mark.parametrize("case, diag, line", [
    ("fatal_dows_without_h2o", "FATAL MYCONT 7", 3),   # fort.7.table line 3
    ("fatal_truncated_raw", "FATAL ZEROVX 5", 3),
])
def test_failed_runs_rejected(lcm, case, diag, line):
    d = lcm / "generated_lcmodel63_test_lcm" / case
    with pytest.raises(DataValidationError,
                       match=rf"fort\.7\.table line {line}: LCModel run failed: {diag}; no "
                             r"\$\$CONC section"):
        read_lcmodel(d / "fort.7.table")
    with pytest.raises(DataValidationError,
                       match=rf"fort\.9\.coord line 2: LCModel run failed: {diag}; no "
                             "concentration table"):
        read_lcmodel(d / "fort.9.coord")
