"""``alsstats roc``, ``cutoff`` and ``cv`` on small tables written by the tests."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from alsstats.cli import main
from alsstats.validation import delong_ci


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(0)
    n_subj = 60
    group = np.where(rng.random(n_subj) < 0.5, "ALS", np.where(rng.random(n_subj) < 0.5,
                                                                "HC", "MIMIC"))
    visits = rng.integers(1, 3, size=n_subj)
    df = pd.DataFrame({"pid": np.repeat([f"s{i}" for i in range(n_subj)], visits),
                       "group": np.repeat(group, visits)})
    als = (df["group"] == "ALS").to_numpy()
    df["ratio"] = np.round(np.where(als, 0.96, 1.04) + rng.normal(0, 0.04, len(df)), 3)
    df["nfl"] = np.exp(np.where(als, 4.0, 3.0) + rng.normal(0, 0.6, len(df)))
    df["centre"] = np.where(rng.random(len(df)) < 0.5, "A", "B")
    df.loc[3, "ratio"] = np.nan
    path = tmp_path_factory.mktemp("cli") / "t.csv"
    df.to_csv(path, index=False)
    return path, df


def _json(capsys, argv):
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_roc_reports_excluded_rows_and_matches_api(table, capsys):
    path, df = table
    code, d = _json(capsys, ["roc", str(path), "--outcome", "group", "--positive", "ALS",
                             "--negative", "HC", "--marker", "ratio"])
    assert code == 0
    reasons = {e["reason"]: e["rows"] for e in d["exclusions"]}
    assert reasons["outcome in neither --positive nor --negative"] == (df["group"] == "MIMIC").sum()
    assert reasons["missing value of marker 'ratio'"] == 1
    kept = df[df["group"].isin(["ALS", "HC"]) & df["ratio"].notna()]
    ref = delong_ci(kept["group"] == "ALS", kept["ratio"])
    m = d["markers"][0]
    assert m["auc"] == pytest.approx(ref.auc) and m["direction"] == "<"
    assert m["direction_detected"] is True


def test_roc_two_markers_paired_and_curve_csv(table, tmp_path, capsys):
    path, _ = table
    out = tmp_path / "curve.csv"
    code, d = _json(capsys, ["roc", str(path), "--outcome", "group", "--positive", "ALS",
                             "--marker", "ratio", "--marker", "nfl", "--subject", "pid",
                             "--out", str(out)])
    assert code == 0 and d["comparison"]["test"] == "paired DeLong"
    assert any("first row of its subject" in e["reason"] for e in d["exclusions"])
    curve = pd.read_csv(out)
    assert set(curve["marker"]) == {"ratio", "nfl"}


def test_roc_three_markers_joint(table, capsys, tmp_path):
    _, df = table
    p2 = tmp_path / "t.parquet"
    df.assign(noise=np.random.default_rng(1).normal(size=len(df))).to_parquet(p2)
    code, d = _json(capsys, ["roc", str(p2), "--outcome", "group", "--positive", "ALS",
                             "--marker", "ratio", "--marker", "nfl", "--marker", "noise",
                             "--method", "bootstrap", "--n-boot", "200", "--seed", "3"])
    assert code == 0 and d["comparison"]["df"] == 2 and len(d["comparison"]["contrasts"]) == 3


def test_cutoff_optimal_and_prespecified(table, capsys):
    path, _ = table
    code, d = _json(capsys, ["cutoff", str(path), "--outcome", "group", "--positive", "ALS",
                             "--negative", "HC", "--marker", "ratio", "--n-boot", "100",
                             "--seed", "1"])
    assert code == 0 and d["cutoff"]["direction"] == "<"
    code, d = _json(capsys, ["cutoff", str(path), "--outcome", "group", "--positive", "ALS",
                             "--negative", "HC", "--marker", "ratio", "--cutoff", "1.00",
                             "--direction", "<", "--site", "centre", "--folds", "3",
                             "--n-boot", "100", "--seed", "1", "--prevalences", "0.1", "0.3"])
    v = d["validation"]
    assert [r["prevalence"] for r in d["ppv_npv_by_prevalence"]] == [0.1, 0.3]
    assert "replicates" not in v["stability"]
    assert code == 0 and v["rule"] == "positive if ratio < 1"
    assert {r["site"] for r in v["by_site"]} == {"A", "B"} and len(v["by_fold"]) == 3
    assert 0 <= v["prob_within_delta"] <= 1


def test_cv_grouped(table, capsys, tmp_path):
    path, _ = table
    out = tmp_path / "cv.csv"
    code, d = _json(capsys, ["cv", str(path), "--outcome", "group", "--positive", "ALS",
                             "--marker", "ratio", "--marker", "nfl", "--subject", "pid",
                             "--folds", "3", "--repeats", "2", "--seed", "4",
                             "--out", str(out)])
    assert code == 0 and set(d["models"]) == {"ratio", "nfl", "logistic(ratio+nfl)"}
    assert len(pd.read_csv(out)) == 3 * 3 * 2


@pytest.mark.parametrize(("argv", "message"), [
    (["roc", "--outcome", "group", "--positive", "PMA", "--marker", "ratio"],
     "0 positive"),
    (["roc", "--outcome", "group", "--positive", "ALS", "--marker", "centre"],
     "must be numeric"),
    (["roc", "--outcome", "group", "--marker", "ratio"], "give --positive"),
    (["roc", "--outcome", "grp", "--positive", "ALS", "--marker", "ratio"], "not found"),
    (["cv", "--outcome", "group", "--positive", "ALS", "--marker", "ratio", "--subject",
      "pid", "--folds", "20"], "2 per class per fold"),
    (["cv", "--outcome", "group", "--positive", "ALS", "--marker", "ratio", "--method",
      "fixed-spec"], "needs a specificity"),
])
def test_bad_input_one_line_error_and_no_output(table, tmp_path, capsys, argv, message):
    path, _ = table
    out = tmp_path / "never.csv"
    code = main([argv[0], str(path), *argv[1:], "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and message in err and "Traceback" not in err
    assert not out.exists()


def test_cv_is_per_subject_and_missing_values_are_per_marker(tmp_path, capsys):
    rng = np.random.default_rng(5)
    n = 60
    y = np.arange(n) % 2 == 0
    a = rng.normal(size=n) + y
    b = rng.normal(size=n) + y
    b[:20] = np.nan                                   # marker b missing in 20 subjects
    first = pd.DataFrame({"pid": np.arange(n), "als": y.astype(int), "a": a, "b": b})
    later = first.assign(a=first["a"] + 5.0)          # a second visit that must be ignored
    path = tmp_path / "t.csv"
    pd.concat([first, later]).to_csv(path, index=False)
    code, d = _json(capsys, ["cv", str(path), "--outcome", "als", "--marker", "a",
                             "--marker", "b", "--subject", "pid", "--folds", "3",
                             "--repeats", "1", "--seed", "1", "--workers", "1"])
    assert code == 0
    m = d["models"]
    assert m["a"]["n_positive"] + m["a"]["n_negative"] == n        # every subject, once
    assert m["b"]["n_positive"] + m["b"]["n_negative"] == n - 20   # only where measured
    assert m["logistic(a+b)"]["n_positive"] + m["logistic(a+b)"]["n_negative"] == n - 20
