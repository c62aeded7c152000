"""The bad-input battery: every case of issue 12's sweep, for every command, in one table.

Each case runs the CLI in-process on a fresh workspace and asserts

* the exit code (1 bad input, 2 usage),
* a one-line first message ``alsstats COMMAND: error: ...`` naming the problem (regex),
* no ``Traceback`` anywhere in stdout or stderr,
* no file at the target path (or the target unchanged when it existed),
* every input unchanged (SHA-256 of every file in the workspace).

No case samples or fits: each is refused before any model is compiled.  The verdict of a
case is "clear+safe" when all of these hold (and no file contents are quoted where a case
names text that must not appear); the counts are recorded in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alsstats._files import file_sha256
from alsstats.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "data" / "synthetic" / "example_cohort.csv"
TRIAL = ROOT / "alsstats" / "power" / "scenarios" / "trial_adascog.toml"


# -- the workspace every case starts from -----------------------------------------------------

def _binary_table(rng: np.random.Generator, n: int = 40) -> pd.DataFrame:
    y = np.repeat([1, 0], n // 2)
    return pd.DataFrame({"subject": [f"S{i:03d}" for i in range(n)], "y": y,
                         "a": rng.normal(y * 1.0, 1.0), "b": rng.normal(y * 0.5, 1.0),
                         "flat": np.full(n, 3.0)})


def _long_table(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for s in range(8):
        for t in (0.0, 0.5, 1.0):
            rows.append({"subject_id": f"P{s:02d}", "years": t, "group": "ALS" if s % 2 else "HC",
                         "total_gm_volume_mm3": 600_000 - 5_000 * t + rng.normal(0, 2_000)})
    return pd.DataFrame(rows)


def _build(ws: Path) -> None:
    rng = np.random.default_rng(12)
    _binary_table(rng).to_csv(ws / "table.csv", index=False)
    _long_table(rng).to_csv(ws / "long.csv", index=False)
    shutil.copy(EXAMPLE, ws / "cohort.csv")
    shutil.copy(TRIAL, ws / "trial.toml")
    (ws / "model.nc").write_bytes(b"CDF\x01 not really a NetCDF file")
    (ws / "a_file").write_text("a regular file, not a folder\n")
    (ws / "folder").mkdir()
    from alsstats.testing.inputs import write_inputs

    write_inputs(_study_cohort(), ws / "study", ica_shape=(4, 4, 4))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("battery-template")
    _build(ws)
    return ws


# -- per-case setups (each writes extra inputs into the workspace) ----------------------------

def _cohort_with(ws: Path, name: str, change) -> None:
    df = pd.read_csv(ws / "cohort.csv", dtype=str, keep_default_na=False)
    change(df)
    df.to_csv(ws / name, index=False)


def _volumes_in_cm3(ws: Path) -> None:
    def change(df):
        for c in ("m1_volume_mm3", "precuneus_volume_mm3"):
            df[c] = (pd.to_numeric(df[c]) / 1000).round(3).astype(str)
        df["m1_precuneus_ratio"] = ""
    _cohort_with(ws, "cm3.csv", change)


def _negative_gm(ws: Path) -> None:
    df = pd.read_csv(ws / "long.csv")
    df.loc[3, "total_gm_volume_mm3"] = -600_000.0
    df.to_csv(ws / "neg.csv", index=False)
    # the same under a name the schema does not know: only --positive-only can tell
    df.rename(columns={"total_gm_volume_mm3": "volume"}).to_csv(ws / "negvol.csv", index=False)


def _half_cm3(ws: Path) -> None:
    df = pd.read_csv(ws / "long.csv")
    df.loc[df.index % 2 == 0, "total_gm_volume_mm3"] /= 1000
    df.to_csv(ws / "halfcm3.csv", index=False)


def _nul_subject(ws: Path) -> None:
    df = pd.read_csv(ws / "long.csv")
    df.loc[0:2, "subject_id"] = "P\x0000"
    df.to_csv(ws / "nul.csv", index=False)


def _nul_cohort(ws: Path) -> None:
    def change(df):
        df.loc[df["subject_id"] == df["subject_id"].iloc[0], "subject_id"] = "P\x0001"
    _cohort_with(ws, "nulcohort.csv", change)


def _conflicting_rows(ws: Path) -> None:
    df = pd.read_csv(ws / "cohort.csv", dtype=str, keep_default_na=False)
    extra = df.iloc[[0]].copy()
    extra["age"] = str(float(extra["age"].iloc[0]) + 10)
    pd.concat([df, extra]).to_csv(ws / "conflict.csv", index=False)


def _constant_nfl(ws: Path) -> None:
    def change(df):
        df["nfl_pg_ml"] = "25.0"
    _cohort_with(ws, "flatnfl.csv", change)


def _fifo(ws: Path) -> None:
    os.mkfifo(ws / "pipe.csv")


def _semicolon(ws: Path) -> None:
    pd.read_csv(ws / "table.csv").to_csv(ws / "semi.csv", sep=";", index=False)


def _tab_in_csv(ws: Path) -> None:
    pd.read_csv(ws / "table.csv").to_csv(ws / "tabs.csv", sep="\t", index=False)


def _latin1(ws: Path) -> None:
    text = (ws / "table.csv").read_text().replace("S003", "S\u00e9003")
    (ws / "latin1.csv").write_bytes(text.encode("latin-1"))


def _cyclic(ws: Path) -> None:
    (ws / "a.toml").write_text('extends = "b.toml"\n')
    (ws / "b.toml").write_text('extends = "a.toml"\n')


def _latin1_scenario(ws: Path) -> None:
    (ws / "bad.toml").write_bytes(b'extends = "default"\n# caf\xe9\n')
    (ws / "badtrial.toml").write_bytes(TRIAL.read_bytes() + b"\n# caf\xe9\n")


def _half_site(ws: Path) -> None:
    (ws / "sites.toml").write_text('extends = "default"\n[design]\nn_sites = 2.5\n')


def _checkpoint(ws: Path, damage: str) -> None:
    assert main([*_COMPARE, "--checkpoint", str(ws / "ckpt"), "--seed", "3"]) == 0
    chunk = ws / "ckpt" / "chunk_000001.npy"
    if damage == "zeroed":
        arr = np.load(chunk)
        with open(chunk, "wb") as fh:
            np.save(fh, np.zeros_like(arr))
    else:
        chunk.write_bytes(chunk.read_bytes()[:30])


def _study_cohort(n_subjects: int = 4) -> pd.DataFrame:
    """A small complete cohort for the ingestion inputs (two visits per subject)."""
    rng = np.random.default_rng(3)
    rows = []
    for i in range(n_subjects):
        group = "HC" if i % 2 == 0 else "ALS"
        for v in (0, 1):
            rows.append({
                "subject_id": f"S{i + 1:03d}", "visit": v, "site": "A" if i < 2 else "B",
                "group": group, "age": 50.0 + i + v, "sex": "FM"[i % 2],
                "years_from_baseline": 0.5 * v, "alsfrs_r": 40.0 if group == "ALS" else None,
                "nfl_pg_ml": float(rng.uniform(5, 80)), "chi3l1_ng_ml": float(rng.uniform(20, 90)),
                "glu": float(rng.uniform(6, 10)), "naa": float(rng.uniform(8, 12)),
                "gaba": float(rng.uniform(1, 2)), "glu_crlb": 6.0, "naa_crlb": 3.0,
                "gaba_crlb": 15.0, "m1_volume_mm3": float(rng.uniform(24000, 30000)),
                "precuneus_volume_mm3": float(rng.uniform(17000, 21000)),
                "total_gm_volume_mm3": float(rng.uniform(5.5e5, 6.5e5)),
                "etiv_mm3": float(rng.uniform(1.3e6, 1.7e6)), "smn_sma": float(rng.normal())})
    return pd.DataFrame(rows)


def _manifest_outside(ws: Path, how: str) -> None:
    manifest = ws / "study" / "manifest.toml"
    text = manifest.read_text()
    clinical = re.search(r'file = "([^"]+)"', text).group(1)
    if how == "dotdot":
        shutil.copy(manifest.parent / clinical, ws / "outside.csv")
        text = text.replace(f'file = "{clinical}"', 'file = "../outside.csv"')
    elif how == "absolute":
        text = text.replace(f'file = "{clinical}"', 'file = "/etc/passwd"')
    else:
        (manifest.parent / "link.csv").symlink_to("/etc/passwd")
        text = text.replace(f'file = "{clinical}"', 'file = "link.csv"')
    manifest.write_text(text)


def _lcmodel_fort(ws: Path) -> None:
    d = ws / "lcm" / "S001"
    d.mkdir(parents=True)
    (d / "fort.7").write_text("\n $$DIAG  1 lines in following diagnostic table:\n"
                              "   1 FATAL     MYCONT  7\n $$INPU  0 lines\n")


def _report_folder(ws: Path) -> None:
    (ws / "rep" / "data").mkdir(parents=True)
    shutil.copy(ws / "cohort.csv", ws / "rep" / "data" / "c.csv")


# -- the table --------------------------------------------------------------------------------

_COMPARE = ["power", "diagnostic", "compare-auc", "--auc1", "0.8", "--auc2", "0.7",
            "--n-positive", "20", "--n-negative", "20", "--replicates", "20",
            "--chunk-size", "10"]
_ROC = ["roc", "{ws}/table.csv", "--outcome", "y", "--marker", "a"]
_CUTOFF = ["cutoff", "{ws}/table.csv", "--outcome", "y", "--marker", "a", "--n-boot", "20"]
_CV = ["cv", "{ws}/table.csv", "--outcome", "y", "--marker", "a", "--folds", "2",
       "--repeats", "1"]
_SCORE = ["score", "--model", "{ws}/model.nc", "--data", "{ws}/cohort.csv", "--prevalence",
          "0.3:uniform"]
_FIT = ["fit", "diagnostic", "--data", "{ws}/cohort.csv", "--out", "{ws}/fit.nc",
        "--draws", "10", "--tune", "10", "--chains", "1"]
_LONG = ["longitudinal", "--data", "{ws}/long.csv", "--outcome", "total_gm_volume_mm3",
         "--time", "years", "--subject", "subject_id"]
_DECLINE = ["decline-power", "--n", "10", "--dt", "1", "--replicates", "20"]
_SIM = ["simulate", "--n-per-group", "2"]
_PSIM = ["power", "simulate", "{ws}/trial.toml", "--replicates", "10"]
_ACCURACY = ["accuracy", "--model", "{ws}/model.nc", "--data", "{ws}/cohort.csv", "--marker",
             "nfl_pg_ml", "--cutoff", "25"]
_COHORT = ["power", "diagnostic", "cohort", "--markers", "nfl_pg_ml", "--n-per-group", "5",
           "--replicates", "2"]


@dataclass(frozen=True)
class Case:
    """One bad input: argv (``{ws}`` is the workspace), exit code, first-line regex."""

    id: str
    argv: list[str]
    code: int
    message: str
    setup: object = None
    target: str | None = None   # path (relative to the workspace) that must not appear/change
    forbidden: str | None = None  # text that must not appear in the output (file contents)


CASES = [
    # -- data loss: an output that is an input ----------------------------------------------
    Case("roc-out-is-data", [*_ROC, "--out", "{ws}/table.csv"], 1, r"is the input --file",
         target="table.csv"),
    Case("cutoff-out-is-data", [*_CUTOFF, "--out", "{ws}/table.csv"], 1, r"is the input",
         target="table.csv"),
    Case("cv-out-is-data", [*_CV, "--out", "{ws}/table.csv"], 1, r"is the input",
         target="table.csv"),
    Case("score-out-is-data", [*_SCORE, "--out", "{ws}/cohort.csv"], 1,
         r"is the input --data", target="cohort.csv"),
    # .nc is not a score format: the model is reached through a link named like a score file
    Case("score-out-is-model", [*_SCORE, "--out", "{ws}/model.csv"], 1, r"is the input --model",
         setup=lambda ws: (ws / "model.csv").symlink_to(ws / "model.nc"), target="model.nc"),
    # a result is written as .json/.csv/.parquet only, so a TOML scenario cannot be overwritten
    Case("power-simulate-out-is-scenario", [*_PSIM, "--out", "{ws}/trial.toml"], 2,
         r"--out .*trial\.toml: unknown extension '\.toml'", target="trial.toml"),
    Case("calibration-out-is-data", ["calibration", "{ws}/table.csv", "--outcome", "y",
                                     "--probability", "a", "--out", "{ws}/table.csv"], 1,
         r"is the input --file", target="table.csv"),
    Case("ingest-out-is-clinical-sheet",
         ["ingest", "--manifest", "{ws}/study/manifest.toml", "--out", "{ws}/study/clinical.csv"],
         1, r"named in the manifest", target="study/clinical.csv"),
    Case("ingest-out-is-manifest",
         ["ingest", "--manifest", "{ws}/study/manifest.toml", "--out",
          "{ws}/study/manifest.toml"], 1, r"is the input --manifest",
         target="study/manifest.toml"),
    Case("fit-out-is-data-via-symlink", [*_FIT[:-8], "--out", "{ws}/link.nc", *_FIT[-6:]], 1,
         r"is the input --data",
         setup=lambda ws: (ws / "link.nc").symlink_to(ws / "cohort.csv")),
    Case("report-out-folder-holds-input",
         ["report", "--from", "{ws}/rep/data/c.csv", "--out", "{ws}/rep"], 1, r"is the input",
         setup=_report_folder),
    Case("roc-out-is-fifo", [*_ROC, "--out", "{ws}/pipe.csv"], 1, r"FIFO", setup=_fifo),
    Case("roc-out-is-device", [*_ROC, "--out", "{ws}/null.csv"], 1, r"character device",
         setup=lambda ws: (ws / "null.csv").symlink_to("/dev/null")),
    Case("roc-out-is-folder", [*_ROC, "--out", "{ws}/folder.csv"], 1, r"is a folder",
         setup=lambda ws: (ws / "folder.csv").mkdir()),
    Case("demo-out-is-file", ["demo", "--out", "{ws}/a_file", "--quick"], 1,
         r"not a folder"),
    Case("roc-out-under-file", [*_ROC, "--out", "{ws}/a_file/x.csv"], 1,
         r"a_file is a file, not a folder", target="a_file/x.csv"),
    Case("simulate-out-under-file", [*_SIM, "--out", "{ws}/a_file/c.csv"], 1,
         r"is a file, not a folder"),
    Case("longitudinal-out-under-file", [*_LONG, "--out", "{ws}/a_file/fit.json"], 1,
         r"is a file, not a folder"),
    Case("checkpoint-under-file", [*_COMPARE, "--checkpoint", "{ws}/a_file/ck", "--seed", "1"],
         1, r"is a file, not a folder"),
    Case("checkpoint-is-file", [*_COMPARE, "--checkpoint", "{ws}/a_file", "--seed", "1"], 1,
         r"not a folder"),
    # -- wrong results without an error ---------------------------------------------------
    Case("longitudinal-negative-volume", [*_LONG[:2], "{ws}/neg.csv", *_LONG[3:]], 1,
         r"total_gm_volume_mm3.*out of range", setup=_negative_gm),
    Case("longitudinal-half-cm3", [*_LONG[:2], "{ws}/halfcm3.csv", *_LONG[3:]], 1,
         r"look like cm³", setup=_half_cm3),
    Case("longitudinal-positive-only",
         [*_LONG[:2], "{ws}/negvol.csv", "--outcome", "volume", *_LONG[5:],
          "--positive-only"],
         1, r"'volume'.*must be > 0 \(--positive-only\)", setup=_negative_gm),
    Case("validate-volumes-in-cm3", ["validate", "{ws}/cm3.csv"], 1,
         r"m1_volume_mm3.*look like cm³", setup=_volumes_in_cm3),
    Case("roc-volumes-in-cm3", ["roc", "{ws}/cm3.csv", "--outcome", "group", "--positive",
                                "ALS", "--marker", "nfl_pg_ml"], 1, r"look like cm³",
         setup=_volumes_in_cm3),
    Case("ingest-lcmodel-fort7", ["ingest", "lcmodel", "{ws}/lcm", "--out", "{ws}/m.csv"], 1,
         r"fort\.7.*stray Fortran unit file.*FATAL MYCONT 7", setup=_lcmodel_fort,
         target="m.csv"),
    Case("score-conflicting-rows", [*_SCORE[:3],
         "--data", "{ws}/conflict.csv", *_SCORE[5:], "--out", "{ws}/s.csv"], 1, r"conflicting rows",
         setup=_conflicting_rows, target="s.csv"),
    # scores are written by extension (.csv, .json, .parquet); any other is a usage error
    Case("score-out-txt", [*_SCORE, "--out", "{ws}/s.txt"], 2, r"unknown extension '\.txt'",
         target="s.txt"),
    Case("score-out-nc", [*_SCORE, "--out", "{ws}/s.nc"], 2, r"unknown extension '\.nc'",
         target="s.nc"),
    Case("roc-constant-marker", [*_ROC[:-1], "flat"], 1, r"'flat'.*constant"),
    Case("roc-constant-second-marker", [*_ROC, "--marker", "flat"], 1, r"'flat'.*constant"),
    Case("cutoff-constant-marker", [*_CUTOFF[:-3], "flat", "--n-boot", "20"], 1,
         r"'flat'.*constant"),
    Case("cv-constant-marker", [*_CV[:5], "flat", *_CV[6:]], 1, r"'flat'.*constant"),
    Case("fit-constant-marker", [*_FIT[:3], "{ws}/flatnfl.csv", *_FIT[4:]], 1,
         r"nfl_pg_ml.*constant", setup=_constant_nfl, target="fit.nc"),
    Case("decline-power-baseline-only-outcome", [*_DECLINE, "--outcome", "glu", "--seed", "1"],
         1, r"never measured at both scans"),
    Case("auc-test-alt-below-null", ["power", "diagnostic", "auc-test", "--null", "0.8",
                                     "--alt", "0.7"], 1, r"must be larger than the null"),
    Case("cohort-power-repeated-marker", [*_COHORT[:4], "nfl_pg_ml,nfl_pg_ml", *_COHORT[5:]],
         2, r"listed twice"),
    Case("scenario-n-sites-fraction", [*_SIM, "--scenario", "{ws}/sites.toml"], 1,
         r"n_sites: must be a whole number", setup=_half_site),
    Case("sequential-looks-not-ending-at-1", ["power", "sequential", "{ws}/trial.toml",
                                              "--looks", "0.5,0.8", "--replicates", "4"], 1,
         r"information_rates must .* end at 1"),
    Case("increment-unknown-marker", ["increment", "{ws}/cohort.csv", "--add", "nope_marker"],
         1, r"column 'nope_marker': no marker column"),
    Case("increment-out-is-data", ["increment", "{ws}/cohort.csv", "--add", "glu_naa",
                                   "--out", "{ws}/cohort.csv"], 1, r"is the input --file",
         target="cohort.csv"),
    Case("choose-distribution-unknown-candidate",
         ["choose-distribution", "--data", "{ws}/cohort.csv", "--candidates", "cauchy"], 1,
         r"candidates must be robust marker distributions \(student_t, skew_normal\)"),
    Case("choose-distribution-out-is-data",
         ["choose-distribution", "--data", "{ws}/cohort.csv", "--out", "{ws}/cohort.csv"], 1,
         r"is the input --data", target="cohort.csv"),
    Case("accuracy-model-unreadable", [*_ACCURACY], 1, r"model\.nc: not a readable NetCDF"),
    Case("accuracy-out-is-data", [*_ACCURACY, "--out", "{ws}/cohort.csv"], 1,
         r"is the input --data", target="cohort.csv"),
    Case("assurance-pilot-missing", ["power", "assurance", "--pilot", "{ws}/nofit.nc",
                                     "--effect-prior", "0.3", "--n", "50", "--times", "0,1"],
         1, r"nofit\.nc"),
    Case("assurance-bad-effect-prior", ["power", "assurance", "--pilot", "{ws}/nofit.nc",
                                        "--effect-prior", "beta(2,3)", "--n", "50", "--times",
                                        "0,1"], 1, r"expected normal\(MEAN, SD\)"),
    Case("enrichment-threshold-keeps-too-few", ["power", "enrichment", "--times", "0,6,12",
                                                "--slowing", "0.3", "--population-size", "200",
                                                "--thresholds", "100000"], 1,
         r"keeps 0 of \d+ patients"),
    Case("slope-times-empty-item", ["power", "slope", "--times", "0,,1", "--var-slope", "1",
                                    "--var-residual", "1", "--delta", "1", "--power", "0.8"],
         2, r"empty item"),
    Case("checkpoint-zeroed-chunk", [*_COMPARE, "--checkpoint", "{ws}/ckpt", "--seed", "3"], 1,
         r"does not match its SHA-256", setup=lambda ws: _checkpoint(ws, "zeroed")),
    Case("power-nan", ["power", "diagnostic", "compare-auc", "--auc1", "0.7", "--auc2", "0.7",
                       "--n-positive", "1", "--n-negative", "1", "--replicates", "3"], 1,
         r"power is undefined"),
    # -- tracebacks -----------------------------------------------------------------------
    *[Case(f"negative-seed-{name}", [*argv, "--seed", "-3"], 2, r"--seed -3: a seed must be")
      for name, argv in [("simulate", _SIM), ("roc", _ROC), ("cutoff", _CUTOFF), ("cv", _CV),
                         ("fit", _FIT), ("longitudinal", _LONG), ("decline-power", _DECLINE),
                         ("demo", ["demo", "--quick", "--out", "{ws}/d"]),
                         ("report", ["report", "--from", "{ws}/cohort.csv", "--out", "{ws}/r"]),
                         ("power-simulate", _PSIM), ("compare-auc", _COMPARE),
                         ("cohort", _COHORT)]],
    Case("cyclic-extends", [*_SIM, "--scenario", "{ws}/a.toml"], 1, r"circular base scenario",
         setup=_cyclic),
    Case("scenario-not-utf8", [*_SIM, "--scenario", "{ws}/bad.toml"], 1,
         r"line 2: not UTF-8", setup=_latin1_scenario),
    Case("trial-scenario-not-utf8", [*_PSIM[:2], "{ws}/badtrial.toml", *_PSIM[3:]], 1,
         r"not UTF-8", setup=_latin1_scenario),
    Case("checkpoint-truncated-chunk", [*_COMPARE, "--checkpoint", "{ws}/ckpt", "--seed", "3"],
         1, r"does not match its SHA-256", setup=lambda ws: _checkpoint(ws, "truncated")),
    *[Case(f"ingest-crlb-max-{v}", ["ingest", "lcmodel", "{ws}/lcm", "--out", "{ws}/m.csv",
                                    "--crlb-max", v], 2, r"--crlb-max", target="m.csv")
      for v in ("0", "1000", "nan")],
    Case("cv-n-jobs-0", [*_CV, "--n-jobs", "0"], 2, r"--n-jobs: must be >= 1"),
    Case("ci-width-prevalence-0", ["power", "diagnostic", "ci-width", "--p", "0.9",
                                   "--conf-width", "0.1", "--prevalence", "0"], 2,
         r"--prevalence: must be in \(0, 1\]"),
    Case("ci-width-exact-tiny", ["power", "diagnostic", "ci-width", "--p", "0.9",
                                 "--conf-width", "1e-9", "--method", "exact"], 1,
         r"needs more than"),
    Case("decline-power-outcome-id", [*_DECLINE, "--outcome", "subject_id", "--seed", "1"], 1,
         r"not a longitudinal cohort measure"),
    Case("score-damaged-nc", [*_SCORE, "--out", "{ws}/s.csv"], 1,
         r"model\.nc: not a readable NetCDF model file", target="s.csv"),
    Case("longitudinal-nul-in-id", [*_LONG[:2], "{ws}/nul.csv", *_LONG[3:], "--out",
                                    "{ws}/fit.nc"], 1, r"control character", setup=_nul_subject,
         target="fit.nc"),
    Case("validate-nul-in-id", ["validate", "{ws}/nulcohort.csv"], 1,
         r"subject_id.*control character", setup=_nul_cohort),
    Case("fit-nul-in-id", [*_FIT[:3], "{ws}/nulcohort.csv", *_FIT[4:]], 1,
         r"subject_id.*control character", setup=_nul_cohort, target="fit.nc"),
    # -- security -------------------------------------------------------------------------
    *[Case(f"manifest-path-outside-{how}",
           ["ingest", "--manifest", "{ws}/study/manifest.toml", "--out", "{ws}/c.csv"], 1,
           r"resolves outside the manifest's folder", setup=lambda ws, h=how:
           _manifest_outside(ws, h), target="c.csv", forbidden="root:")
      for how in ("dotdot", "absolute", "symlink")],
    Case("clinical-sheet-not-a-sheet",
         ["ingest", "--manifest", "{ws}/study/manifest.toml", "--out", "{ws}/c.csv",
          "--allow-outside-paths"], 1,
         r"unknown sheet type|required clinical columns? missing: subject_id",
         setup=lambda ws: _manifest_outside(ws, "symlink"), target="c.csv", forbidden="root:"),
    # -- unclear messages -----------------------------------------------------------------
    Case("roc-not-utf8", ["roc", "{ws}/latin1.csv", "--outcome", "y", "--marker", "a"], 1,
         r"line \d+: not UTF-8", setup=_latin1),
    Case("roc-semicolon", ["roc", "{ws}/semi.csv", "--outcome", "y", "--marker", "a"], 1,
         r"semicolon-separated", setup=_semicolon),
    Case("roc-tab-in-csv", ["roc", "{ws}/tabs.csv", "--outcome", "y", "--marker", "a"], 1,
         r"tab-separated", setup=_tab_in_csv),
    Case("roc-data-is-folder", ["roc", "{ws}/folder", "--outcome", "y", "--marker", "a"], 1,
         r"is a folder"),
    Case("validate-data-is-folder", ["validate", "{ws}/folder"], 1, r"is a folder"),
    Case("validate-not-utf8", ["validate", "{ws}/latin1cohort.csv"], 1,
         r"line 5: not UTF-8", setup=lambda ws: (ws / "latin1cohort.csv").write_bytes(
             (ws / "cohort.csv").read_text().replace("P000002", "P\u00e9002").encode("latin-1"))),
    Case("validate-missing-file", ["validate", "{ws}/nope.csv"], 1, r"nope\.csv: file not found"),
    Case("unknown-option", [*_ROC, "--bogus"], 2, r"unrecognized arguments: --bogus"),
    Case("missing-required", ["roc", "{ws}/table.csv"], 2, r"required: --outcome"),
]


def _hashes(ws: Path) -> dict[str, str]:
    return {str(p.relative_to(ws)): file_sha256(p) for p in sorted(ws.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def run_case(case: Case, ws: Path, capsys) -> dict:
    if case.setup is not None:
        case.setup(ws)
        capsys.readouterr()
    target = ws / case.target if case.target else None
    target_before = file_sha256(target) if target is not None and target.is_file() else None
    before = _hashes(ws)
    argv = [a.replace("{ws}", str(ws)) for a in case.argv]
    code = main(argv)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    first = lines[0] if lines else ""
    after = _hashes(ws)
    checks = {
        "exit code": code == case.code,
        "one-line first message": bool(re.match(r"alsstats( [\w -]+)?: error: ", first))
        and re.search(case.message, first) is not None,
        "no traceback": "Traceback" not in out + err,
        "target untouched": target is None or (
            file_sha256(target) == target_before if target_before else not target.exists()),
        "inputs unchanged": all(after.get(k) == v for k, v in before.items())
        and not (set(after) - set(before)),
        "no file contents": case.forbidden is None or case.forbidden not in out + err,
    }
    return {"checks": checks, "code": code, "first": first, "err": err}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, template, tmp_path, capsys):
    ws = tmp_path / "ws"
    shutil.copytree(template, ws, symlinks=True)
    result = run_case(case, ws, capsys)
    failed = [k for k, ok in result["checks"].items() if not ok]
    assert not failed, (f"{case.id}: {failed}; exit {result['code']}; stderr:\n"
                        f"{result['err']}")


def test_battery_size_and_coverage():
    """Every command of the CLI appears in the battery; the count is in RESULTS.md."""
    from alsstats.cli import build_parser

    commands = set(build_parser()._subparsers._group_actions[0].choices)
    covered = {c.argv[0] for c in CASES}
    assert commands <= covered, sorted(commands - covered)
    assert len(CASES) >= 70
    assert len({c.id for c in CASES}) == len(CASES)
