"""Descriptive summaries of a cohort table: per-group baseline summary and missingness patterns."""

from __future__ import annotations

import pandas as pd

from alsstats.schema import MARKERS

__all__ = ["baseline", "cohort_summary", "missingness_patterns"]


def baseline(df: pd.DataFrame) -> pd.DataFrame:
    """Each subject's first visit."""
    first = df.groupby("subject_id")["visit"].transform("min")
    return df[df["visit"] == first]


def cohort_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Baseline summary by group: size, age, sex, ALSFRS-R, marker medians and availability."""
    base = baseline(df)
    g = base.groupby("group", observed=True)
    out = pd.DataFrame({
        "subjects": g.size(),
        "visits": df.groupby("group", observed=True).size(),
        "age_mean": g["age"].mean().round(1),
        "male_pct": g["sex"].apply(lambda s: 100 * (s == "M").mean()).round(0),
        "alsfrs_r_median": g["alsfrs_r"].median(),
    })
    for col in MARKERS:
        out[f"{col}_median"] = g[col].median().round(3)
        out[f"{col}_available_pct"] = (100 * g[col].apply(lambda s: s.notna().mean())).round(0)
    return out


def missingness_patterns(df: pd.DataFrame, markers: tuple[str, ...] = MARKERS) -> pd.DataFrame:
    """Baseline missingness patterns: which markers are present (1) or missing (0), and counts.

    One row per distinct pattern, most frequent first, with a count per group.
    """
    base = baseline(df)
    present = base[list(markers)].notna().astype(int)
    present["group"] = base["group"].astype(str).to_numpy()
    counts = present.groupby([*markers, "group"]).size().unstack("group", fill_value=0)
    counts["total"] = counts.sum(axis=1)
    return counts.sort_values("total", ascending=False).reset_index()
