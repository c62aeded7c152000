r"""The synthetic cohort generator.

Model
-----
For subject :math:`i` of stratum :math:`g` at site :math:`s`, the markers on the
transformed scale (identity for the M1/precuneus ratio :math:`R` and SMN z; log
for Glu, NAA, GABA, NfL and CHI3L1) are

.. math::

    y_{ik} = a_k + \theta_{gk} + \beta_k (\text{age}_i - 60) + \gamma_k\,\text{male}_i
             + \delta_{gk} \log(\Delta FS_i / 0.7) + u_{sk} + e_{ik},
    \qquad e_i \sim \mathrm{MVN}(0, D_g R_g D_g),

where :math:`a_k` is the healthy-control reference (log median), :math:`\theta_{gk}`
the stratum's shift (log multiplier, or the mean for identity markers),
:math:`u_{sk} \sim N(0, \tau_k^2)` site offsets and :math:`D_g` the latent SDs:
the scenario's total within-group SD with the site, scan and visit noise
variances removed, so that *observed* baseline values have the calibrated SD.

Volumes: :math:`\log V_{ij} = \log V_{i0} + b_i t_{ij} + u_s + \varepsilon_{ij}`
with subject-specific annual change :math:`b_i \sim N(\mu_g, \sigma_g^2)` and
scan error :math:`\varepsilon \sim N(0, \mathrm{cv}^2)`; M1 is the latent ratio
times precuneus, with its own slope.  ALSFRS-R: :math:`48 - \Delta FS \cdot
\text{duration}` at baseline, then linear decline at the subject's post-baseline
slope (log-normal, correlated with :math:`\Delta FS`), with visit noise, rounded
and bounded to 0–48.  NfL and CHI3L1 are stable with visit-to-visit log noise.
MRS values carry CRLBs; values above the QC threshold are dropped.  Modalities
are missing completely at random, or at random given ALSFRS-R (MAR).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from alsstats.errors import ScenarioError
from alsstats.random import SeedLike
from alsstats.schema import COLUMN_NAMES, MODALITIES, validate_cohort
from alsstats.simulate.scenario import (
    LOG_MARKERS,
    MARKER_ORDER,
    Scenario,
    Stratum,
    load_scenario,
)

__all__ = ["SimulationTruth", "simulate_cohort"]

_MOD_COLUMNS = {"mrs": MODALITIES["mrs"], "fmri": MODALITIES["fmri"],
                "smri": MODALITIES["smri"], "blood": MODALITIES["blood"]}


@dataclass
class SimulationTruth:
    """What generated a simulated cohort.

    Attributes
    ----------
    scenario
        The scenario (with any size overrides applied).
    seed
        The seed given to :func:`simulate_cohort`.
    subjects
        One row per subject: ``subject_id``, ``stratum``, ``group`` (the true
        group), ``recorded_group`` (the table's label, see ``label_error``), ``site``,
        ``sex``, baseline ``age``, ``delta_fs`` and ``post_slope`` (ALSFRS-R
        points/month), ``alsfrs_baseline``, the latent transformed markers
        ``latent_<marker>`` (before site offsets and noise), and the true annual
        log-change of each volume (``slope_total_gm``, ``slope_m1``,
        ``slope_precuneus``; ≈ fraction per year).
    site_offsets
        Site × marker offsets on the transformed scale.
    marker_locations
        Stratum × marker location on the transformed scale at the reference
        age, female, ΔFS = 0.7 and no site offset.
    """

    scenario: Scenario
    seed: object
    subjects: pd.DataFrame
    site_offsets: pd.DataFrame
    marker_locations: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict:
        """JSON-ready summary (the scenario and seed, not the per-subject table)."""
        return {"scenario": self.scenario.to_dict(), "seed": _seed_repr(self.seed),
                "site_offsets": self.site_offsets.to_dict(orient="index"),
                "marker_locations": self.marker_locations.to_dict(orient="index")}


def _seed_repr(seed):
    return seed if seed is None or isinstance(seed, int | str) else repr(seed)


def _child_generators(seed: SeedLike, n: int) -> list[np.random.Generator]:
    if isinstance(seed, np.random.Generator):
        return list(seed.spawn(n))
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return [np.random.default_rng(s) for s in root.spawn(n)]


def simulate_cohort(scenario: str | Scenario | dict = "default", seed: SeedLike = None, *,
                    n_per_group: int | dict[str, int] | None = None,
                    site_offsets: pd.DataFrame | None = None,
                    label_error: float | dict[str, float] = 0.0,
                    crlb_noise: bool = False,
                    validate: bool = True) -> tuple[pd.DataFrame, SimulationTruth]:
    r"""Simulate a cohort table and return it with the truth that generated it.

    Parameters
    ----------
    scenario
        Shipped scenario name, path to a TOML file,
        a parsed table, or a :class:`Scenario`.
    seed
        Seed for the random generator; the same seed gives identical output.
        Each stratum draws from its own child stream, so changing one stratum's
        size leaves the others' subjects unchanged.
    n_per_group
        Override stratum sizes: one number for every stratum, or a mapping of
        stratum (or group) names to sizes.
    site_offsets
        The sites' offsets of an earlier cohort (its ``truth.site_offsets``): new
        patients at the *same* sites, e.g. a test cohort for a model fitted on that
        cohort.  By default each seed draws its own offsets, so two cohorts share
        site names (``S01``...) but not their scanners' offsets; scoring one with a
        model fitted on the other then applies the wrong offsets (score it as unseen
        sites instead).  Must have the scenario's sites and marker columns.
    label_error
        Share of subjects whose recorded ``group`` is wrong (no gold standard): one
        number for every group, or a mapping of true group to share.  A wrong label is
        drawn uniformly from the other groups that have subjects; a non-ALS subject recorded as
        ALS gets El Escorial "possible" (the uncertain category), an ALS patient recorded
        as something else loses the category.  The markers are those of the true group,
        which stays in ``truth.subjects["group"]``; ``recorded_group`` is the label in the
        table.  Drawn from a stream of its own, so every other value is the same as
        without the option.
    crlb_noise
        Make each spectrum's CRLB its true measurement SD: the measured concentration of
        metabolite ``a`` (glu, naa, gaba) is the true one times
        :math:`\exp(\varepsilon_a)`, :math:`\varepsilon_a \sim N(0, (c_a/100)^2)` with
        :math:`c_a` the row's ``<a>_crlb``, independently over metabolites and visits
        (the ratios ``glu_naa`` and ``glu_gaba`` are computed from the measured
        values, so they share glutamate's error).  Off by default: the CRLB is then
        drawn independently of the concentration, which carries no measurement noise,
        and every seed gives the cohort it gave before the option existed.  The noise
        is drawn from streams of its own, so every other value is the same with and
        without it (apart from the MRS concentrations and ratios).
    validate
        Check the table with :func:`alsstats.schema.validate_cohort` (on by
        default; the check is a guarantee of the generator, not of the user).

    Returns
    -------
    data : pandas.DataFrame
        The cohort table, one row per subject and attended visit.
    truth : SimulationTruth
        Parameters and each subject's latent values.
    """
    sc = load_scenario(scenario).with_sizes(n_per_group)
    names = list(sc.strata)
    groups = sorted({st.group for st in sc.strata.values() if st.n > 0})
    error_share = _label_error_shares(label_error, groups)
    # children 0..len(names): strata and sites; then the label errors' stream and, only
    # with crlb_noise (so that a Generator seed spawns as before), the MRS noise's root
    rngs = _child_generators(seed, len(names) + 2 + int(bool(crlb_noise)))
    noise_rngs = (list(rngs[len(names) + 2].spawn(len(names))) if crlb_noise
                  else [None] * len(names))
    site_rng = rngs[len(names)]
    site_keys = [*MARKER_ORDER, "total_gm", "precuneus"]
    site_ids = [f"S{j + 1:02d}" for j in range(sc.n_sites)]
    offsets = np.column_stack([site_rng.normal(0.0, sc.site_sd[k], sc.n_sites)
                               for k in site_keys])
    drawn = pd.DataFrame(offsets, index=pd.Index(site_ids, name="site"), columns=site_keys)
    site_offsets = drawn if site_offsets is None else _same_sites(site_offsets, drawn)
    subject_parts, row_parts = [], []
    first_id = 0
    width = max(6, len(str(sum(s.n for s in sc.strata.values()))))
    for name, rng, noise_rng in zip(names, rngs[:len(names)], noise_rngs, strict=True):
        st = sc.strata[name]
        if st.n == 0:
            continue
        subj, rows = _simulate_stratum(sc, st, rng, site_offsets, first_id, width,
                                       noise_rng)
        subject_parts.append(subj)
        row_parts.append(rows)
        first_id += st.n
    if not row_parts:
        data = validate_cohort(pd.DataFrame({c: [] for c in COLUMN_NAMES}))
        subjects = pd.DataFrame()
    else:
        data = pd.concat(row_parts, ignore_index=True)[list(COLUMN_NAMES)]
        subjects = pd.concat(subject_parts, ignore_index=True)
        _record_labels(data, subjects, error_share, groups, rngs[len(names) + 1])
        if validate:
            data = validate_cohort(data)
    locations = pd.DataFrame(
        {m: [_location(sc, sc.strata[s], m) for s in names] for m in MARKER_ORDER},
        index=pd.Index(names, name="stratum"))
    truth = SimulationTruth(sc, seed, subjects, site_offsets, locations)
    return data, truth


def _label_error_shares(label_error, groups: list[str]) -> dict[str, float]:
    """``label_error`` as a share per true group, checked."""
    shares = (label_error if isinstance(label_error, dict)
              else dict.fromkeys(groups, label_error))
    unknown = sorted(set(shares) - set(groups))
    if unknown:
        raise ScenarioError(f"label_error names groups {unknown} that the scenario does not "
                            f"have; expected some of {groups}")
    for group, share in shares.items():
        if isinstance(share, bool) or not isinstance(share, int | float) \
                or not 0.0 <= share <= 1.0:
            raise ScenarioError(f"label_error for {group} must be a share in [0, 1]; "
                                f"got {share!r}")
    if any(shares.values()) and len(groups) < 2:
        raise ScenarioError("label_error needs a scenario with at least two groups")
    return {g: float(shares.get(g, 0.0)) for g in groups}


def _record_labels(data: pd.DataFrame, subjects: pd.DataFrame, error_share: dict[str, float],
                   groups: list[str], rng: np.random.Generator) -> None:
    """Write each subject's recorded group into ``data`` (wrong for a drawn share)."""
    true = subjects["group"].to_numpy(dtype=object)
    wrong = rng.random(len(true)) < np.array([error_share[g] for g in true])
    draw = rng.integers(0, max(len(groups) - 1, 1), len(true))  # index among the others
    recorded = true.copy()
    for i in np.flatnonzero(wrong):
        others = [g for g in groups if g != true[i]]
        recorded[i] = others[draw[i]]
    subjects["recorded_group"] = recorded
    if not wrong.any():
        return
    by_subject = dict(zip(subjects["subject_id"], recorded, strict=True))
    row_group = data["subject_id"].map(by_subject).to_numpy(dtype=object)
    changed = row_group != data["group"].to_numpy(dtype=object)
    ee = data["el_escorial"].to_numpy(dtype=object).copy()
    ee[changed & (row_group == "ALS")] = "possible"
    ee[changed & (row_group != "ALS")] = None
    data["group"] = row_group
    data["el_escorial"] = ee


def _same_sites(given: pd.DataFrame, drawn: pd.DataFrame) -> pd.DataFrame:
    """``given`` checked against the scenario's sites and offset columns."""
    if not isinstance(given, pd.DataFrame):
        raise ScenarioError("site_offsets must be a DataFrame (a cohort's truth.site_offsets), "
                            f"got {type(given).__name__}")
    if list(given.index) != list(drawn.index):
        raise ScenarioError(f"site_offsets has sites {list(given.index)}; the scenario has "
                            f"{list(drawn.index)}")
    missing = [c for c in drawn.columns if c not in given.columns]
    if missing:
        raise ScenarioError(f"site_offsets lacks the offset columns {missing}")
    values = given[list(drawn.columns)].to_numpy(float)
    if not np.isfinite(values).all():
        raise ScenarioError("site_offsets must be finite numbers")
    return pd.DataFrame(values, index=drawn.index, columns=drawn.columns)


def _location(sc: Scenario, st: Stratum, marker: str) -> float:
    shift = st.markers[marker][0]
    if marker in LOG_MARKERS:
        return math.log(sc.reference[marker]["median"]) + shift
    return shift


def _lognormal(rng, dist, n):
    return dist.median * np.exp(dist.log_sd * rng.standard_normal(n))


def _simulate_stratum(sc: Scenario, st: Stratum, rng: np.random.Generator,
                      site_offsets: pd.DataFrame, first_id: int, width: int,
                      noise_rng: np.random.Generator | None = None):
    """One stratum's subjects and visit rows; ``noise_rng``: MRS noise of SD CRLB/100."""
    n = st.n
    ref_age = sc.reference_age
    ids = np.array([f"P{first_id + i + 1:0{width}d}" for i in range(n)], dtype=object)
    site_idx = rng.integers(0, sc.n_sites, n)
    sites = site_offsets.index.to_numpy()[site_idx]
    male = rng.random(n) < st.male_fraction
    age0 = np.clip(rng.normal(st.age_mean, st.age_sd, n), 18.0, 100.0)
    if st.el_escorial:
        cats = list(st.el_escorial)
        ee = np.array(cats, dtype=object)[rng.choice(len(cats), n,
                                                     p=list(st.el_escorial.values()))]
    else:
        ee = np.full(n, None, dtype=object)
    duration0 = _lognormal(rng, st.duration, n) if st.duration else np.full(n, np.nan)
    duration0 = np.minimum(duration0, 12.0 * (age0 - 18.0))  # onset in adulthood

    # ALSFRS-R: pre-slope (dFS) and post-baseline slope, correlated on the log scale
    if st.progressive:
        rho = sc.pre_post_log_correlation
        z1, z2 = rng.standard_normal((2, n))
        delta_fs = st.delta_fs.median * np.exp(st.delta_fs.log_sd * z1)
        post = st.post_slope.median * np.exp(
            st.post_slope.log_sd * (rho * z1 + math.sqrt(1 - rho**2) * z2))
        alsfrs0 = 48.0 - delta_fs * duration0 + rng.normal(0, sc.alsfrs_baseline_sd, n)
        progression = np.log(delta_fs / 0.7)
    else:
        delta_fs = post = np.full(n, np.nan)
        alsfrs0 = st.alsfrs_mean + st.alsfrs_sd * rng.standard_normal(n)
        progression = np.zeros(n)
    alsfrs0 = np.clip(alsfrs0, 0.0, 48.0)

    # Latent markers (transformed scale)
    corr = sc.correlation_matrix(st.name)
    latent_sd = sc.latent_sd(st.name)
    e = rng.standard_normal((n, len(MARKER_ORDER))) @ np.linalg.cholesky(corr).T * latent_sd
    latent = np.empty_like(e)
    for k, m in enumerate(MARKER_ORDER):
        ref = sc.reference[m]
        latent[:, k] = (_location(sc, st, m) + ref["age_slope"] * (age0 - ref_age)
                        + ref["male"] * male + e[:, k])
    latent[:, MARKER_ORDER.index("nfl")] += st.nfl_progression * progression

    # Volumes at baseline (latent, log scale) and annual changes
    vols = {}
    meas = sc.measurement
    vol_noise = {"total_gm": sc.site_sd["total_gm"] ** 2 + meas["total_gm_cv"] ** 2,
                 "precuneus": sc.site_sd["precuneus"] ** 2 + meas["precuneus_cv"] ** 2,
                 "etiv": meas["etiv_cv"] ** 2}
    for v, p in sc.volumes.items():
        sd = math.sqrt(max(p["log_sd"] ** 2 - vol_noise[v], 0.0))
        vols[v] = (math.log(p["median"]) + p["age_slope"] * (age0 - ref_age) + p["male"] * male
                   + sd * rng.standard_normal(n))
    vols["total_gm"] = vols["total_gm"] + st.gm_offset
    slopes = {r: rng.normal(mu, sd, n) for r, (mu, sd) in st.annual_change.items()}

    # Visits: monotone dropout, jittered times
    n_visits = len(sc.visit_years)
    u = rng.random(n)
    attends = u[:, None] < np.array(sc.retention)[None, :]
    times = np.array(sc.visit_years)[None, :] + np.where(
        np.arange(n_visits)[None, :] > 0,
        rng.normal(0.0, sc.visit_jitter_years, (n, n_visits)), 0.0)
    times = np.maximum.accumulate(np.maximum(times, 0.0), axis=1)
    subj_idx, visit = np.nonzero(attends)
    t = times[subj_idx, visit]
    m_rows = len(subj_idx)
    off = site_offsets.to_numpy()[site_idx[subj_idx]]
    col = {k: i for i, k in enumerate(site_offsets.columns)}
    lat = latent[subj_idx]

    def marker(m):
        return lat[:, MARKER_ORDER.index(m)] + off[:, col[m]]

    # sMRI
    prec_true = vols["precuneus"][subj_idx] + slopes["precuneus"][subj_idx] * t
    ratio_true = marker("ratio")
    if np.any(ratio_true <= 0):
        raise ScenarioError(f"{sc.name}.strata.{st.name}.ratio: the mean/SD give M1/precuneus "
                            "ratios <= 0")
    m1_true = np.log(ratio_true) + vols["precuneus"][subj_idx] + slopes["m1"][subj_idx] * t
    scan_site = off[:, col["precuneus"]]
    precuneus = np.exp(prec_true + scan_site + rng.normal(0, meas["precuneus_cv"], m_rows))
    m1 = np.exp(m1_true + scan_site + rng.normal(0, meas["m1_cv"], m_rows))
    total_gm = np.exp(vols["total_gm"][subj_idx] + slopes["total_gm"][subj_idx] * t
                      + off[:, col["total_gm"]] + rng.normal(0, meas["total_gm_cv"], m_rows))
    etiv = np.exp(vols["etiv"][subj_idx] + rng.normal(0, meas["etiv_cv"], m_rows))

    # Blood: stable, with visit-to-visit noise; age drift through the age slope
    nfl = np.exp(marker("nfl") + sc.reference["nfl"]["age_slope"] * t
                 + rng.normal(0, meas["nfl_within_sd"], m_rows))
    chi3l1 = np.exp(marker("chi3l1") + sc.reference["chi3l1"]["age_slope"] * t
                    + rng.normal(0, meas["chi3l1_within_sd"], m_rows))

    # MRS with CRLB and QC dropout; fMRI
    mrs = {}
    for m in ("glu", "naa", "gaba"):
        mu, sd = meas["crlb"][m]
        crlb = np.clip(np.round(rng.normal(mu, sd, m_rows)), 1.0, 999.0)
        noise = (0.0 if noise_rng is None
                 else crlb / 100.0 * noise_rng.standard_normal(m_rows))
        conc = np.round(np.exp(marker(m) + noise), 3)
        mrs[m] = np.where(crlb > meas["crlb_max"], np.nan, conc)
        mrs[f"{m}_crlb"] = crlb
    smn = marker("smn")

    # ALSFRS-R over time
    alsfrs = alsfrs0[subj_idx] - np.nan_to_num(post[subj_idx]) * 12.0 * t
    noisy = (visit > 0) & (st.progressive or (st.alsfrs_sd or 0) > 0)
    alsfrs = alsfrs + np.where(noisy, rng.normal(0, meas["alsfrs_visit_sd"], m_rows), 0.0)
    alsfrs = np.clip(np.round(alsfrs), 0, 48)

    rows = pd.DataFrame({
        "subject_id": ids[subj_idx],
        "site": sites[subj_idx],
        "visit": visit.astype(np.int64),
        "years_from_baseline": np.round(t, 3),
        "group": st.group,
        "el_escorial": ee[subj_idx],
        "age": np.round(age0[subj_idx] + t, 1),
        "sex": np.where(male[subj_idx], "M", "F"),
        "disease_duration_months": np.round(duration0[subj_idx] + 12.0 * t, 1),
        "alsfrs_r": alsfrs,
        "glu": mrs["glu"], "naa": mrs["naa"], "gaba": mrs["gaba"],
        "glu_crlb": mrs["glu_crlb"], "naa_crlb": mrs["naa_crlb"], "gaba_crlb": mrs["gaba_crlb"],
        "glu_naa": np.round(mrs["glu"] / mrs["naa"], 5),
        "glu_gaba": np.round(mrs["glu"] / mrs["gaba"], 5),
        "m1_volume_mm3": np.round(m1, 1),
        "precuneus_volume_mm3": np.round(precuneus, 1),
        "total_gm_volume_mm3": np.round(total_gm, 1),
        "etiv_mm3": np.round(etiv, 1),
        "nfl_pg_ml": np.round(nfl, 2),
        "chi3l1_ng_ml": np.round(chi3l1, 2),
        "smn_sma": np.round(smn, 4),
    })
    rows["m1_precuneus_ratio"] = np.round(rows["m1_volume_mm3"] / rows["precuneus_volume_mm3"],
                                          5)
    _apply_missingness(sc, rows, visit, rng)

    subjects = pd.DataFrame({
        "subject_id": ids, "stratum": st.name, "group": st.group, "site": sites,
        "sex": np.where(male, "M", "F"), "age": age0, "el_escorial": ee,
        "disease_duration_months": duration0, "delta_fs": delta_fs, "post_slope": post,
        "alsfrs_baseline": alsfrs0,
        **{f"latent_{m}": latent[:, k] for k, m in enumerate(MARKER_ORDER)},
        **{f"slope_{r}": s for r, s in slopes.items()},
        "n_visits": attends.sum(axis=1),
    })
    return subjects, rows


def _apply_missingness(sc: Scenario, rows: pd.DataFrame, visit: np.ndarray,
                       rng: np.random.Generator) -> None:
    n = len(rows)
    severity = (48.0 - rows["alsfrs_r"].to_numpy()) / 10.0
    for mod, cols in _MOD_COLUMNS.items():
        p0 = sc.missing_probability[mod]
        if sc.missing_mechanism == "MAR" and 0 < p0 < 1:
            logit = math.log(p0 / (1 - p0)) + sc.mar_log_odds_per_10_points * severity
            p = 1.0 / (1.0 + np.exp(-logit))
        else:
            p = np.full(n, p0)
        missing = rng.random(n) < p
        if mod not in sc.followup_modalities:
            missing |= visit > 0
        if missing.any():
            rows.loc[missing, list(cols)] = np.nan
