"""From a parsed LCModel result to the cohort's MRS columns, with CRLB quality control.

Columns: ``glu``, ``naa`` (NAA, or total NAA = the ``NAA+NAAG`` row when
configured), ``gaba`` and their Cramér–Rao lower bounds ``*_crlb`` (%SD).  A
value is *not determined* when LCModel prints ``999%`` or a zero
concentration; it is then missing with that reason, never 0 and never
averaged.  A value whose %SD exceeds ``crlb_max`` is dropped (set missing)
or, with ``policy="flag"``, kept and flagged.  Dropping by CRLB biases the
group means of low-concentration metabolites such as GABA (Kreis 2016, NMR
Biomed), so every drop is reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from alsstats.io._problems import fail
from alsstats.io.lcmodel.reader import LCModelResult

__all__ = ["METABOLITE_ALIASES", "MrsOptions", "MrsValues", "extract_mrs"]

#: Basis-set names accepted for each quantity (first match wins).  Combined
#: rows are computed by LCModel; they are never rebuilt from their parts.
METABOLITE_ALIASES: dict[str, tuple[str, ...]] = {
    "Glu": ("Glu",),
    "NAA": ("NAA",),
    "NAA+NAAG": ("NAA+NAAG", "tNAA"),
    "GABA": ("GABA",),
}
_NOT_DETERMINED = 999


@dataclass(frozen=True)
class MrsOptions:
    """What to extract and how strictly.

    Parameters
    ----------
    naa
        ``"NAA"`` or ``"NAA+NAAG"`` (total NAA) for the ``naa`` column.
    crlb_max
        Largest acceptable %SD (default 20).
    policy
        ``"drop"`` (set to missing) or ``"flag"`` (keep, report) above ``crlb_max``.
    fwhm_max_ppm, snr_min
        Optional spectrum-quality limits; a spectrum outside them is flagged.
    """

    naa: str = "NAA"
    crlb_max: float = 20.0
    policy: str = "drop"
    fwhm_max_ppm: float | None = None
    snr_min: float | None = None

    def __post_init__(self):
        crlb = self.crlb_max
        if isinstance(crlb, bool) or not isinstance(crlb, int | float) or not 0 < crlb < 999:
            raise ValueError(f"crlb_max must be a number of percent in (0, 999) (999 is "
                             f"LCModel's 'not determined'), got {crlb!r}")
        if self.naa not in ("NAA", "NAA+NAAG"):
            raise ValueError(f"naa must be 'NAA' or 'NAA+NAAG', got {self.naa!r}")
        if self.policy not in ("drop", "flag"):
            raise ValueError(f"policy must be 'drop' or 'flag', got {self.policy!r}")
        if not (0 < self.crlb_max < _NOT_DETERMINED):
            raise ValueError(f"crlb_max must be in (0, 999), got {self.crlb_max!r}")


@dataclass
class MrsValues:
    """Extracted columns plus QC findings ``(kind, field, reason, value)``."""

    values: dict[str, float]
    findings: list[tuple[str, str | None, str, object]] = field(default_factory=list)


def _find(result: LCModelResult, quantity: str):
    for name in METABOLITE_ALIASES[quantity]:
        if name in result.metabolites:
            return result.metabolites[name]
    names = ", ".join(result.metabolites)
    raise fail(result.path, f"required metabolite {quantity!r} (names tried: "
               f"{', '.join(METABOLITE_ALIASES[quantity])}) is not in the concentration table; "
               f"present: {names}")


def extract_mrs(result: LCModelResult, options: MrsOptions | None = None) -> MrsValues:
    """The ``glu``, ``naa``, ``gaba`` values and CRLBs of one LCModel result.

    Raises
    ------
    DataValidationError
        A required metabolite is absent from the table (name and file quoted).
    """
    opt = options or MrsOptions()
    out = MrsValues(values={})
    for column, quantity in (("glu", "Glu"), ("naa", opt.naa), ("gaba", "GABA")):
        met = _find(result, quantity)
        where = f"{result.path.name} line {met.line}" if met.line else result.path.name
        value, crlb = met.conc, float(met.sd_pct)
        if met.sd_pct >= _NOT_DETERMINED or met.conc <= 0:
            out.findings.append(("dropped", column, f"{met.name} not determined by LCModel "
                                 f"(Conc. {met.conc:g}, %SD {met.sd_pct}%) at {where}",
                                 met.sd_pct))
            value, crlb = math.nan, math.nan
        elif met.sd_pct > opt.crlb_max:
            reason = (f"{met.name} CRLB {met.sd_pct}% > {opt.crlb_max:g}% at {where}")
            if opt.policy == "drop":
                out.findings.append(("dropped", column, reason, met.sd_pct))
                value = math.nan
            else:
                out.findings.append(("flagged", column, reason, met.sd_pct))
        if met.flag:
            out.findings.append(("flagged", column, f"{met.name} marked '{met.flag}' (prior-ratio"
                                 f" outlier) at {where}", met.flag))
        out.values[column] = value
        out.values[f"{column}_crlb"] = crlb
    if opt.fwhm_max_ppm is not None and result.fwhm_ppm is not None \
            and result.fwhm_ppm > opt.fwhm_max_ppm:
        out.findings.append(("flagged", None, f"FWHM {result.fwhm_ppm:g} ppm > "
                             f"{opt.fwhm_max_ppm:g} ppm", result.fwhm_ppm))
    if opt.snr_min is not None and result.snr is not None and result.snr < opt.snr_min:
        out.findings.append(("flagged", None, f"S/N {result.snr:g} < {opt.snr_min:g}",
                             result.snr))
    for d in result.diagnostics:
        if d.kind == "warning":
            out.findings.append(("warning", None, f"LCModel diagnostic {d} at "
                                 f"{result.path.name} line {d.line}", str(d)))
    return out
