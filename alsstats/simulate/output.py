"""Write a simulated cohort with its JSON sidecar (scenario, seed, package version)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from alsstats._files import file_sha256, write_json
from alsstats._version import __version__
from alsstats.schema import write_cohort
from alsstats.simulate.generator import SimulationTruth

__all__ = ["sidecar_path", "write_simulation"]


def sidecar_path(path: str | os.PathLike) -> Path:
    """The sidecar of a data file: same name, ``.json`` extension (BIDS style)."""
    return Path(path).with_suffix(".json")


def write_simulation(data: pd.DataFrame, truth: SimulationTruth,
                     path: str | os.PathLike, options: dict | None = None) -> tuple[Path, Path]:
    """Write ``data`` (CSV or Parquet, atomically) and its sidecar; returns both paths.

    The sidecar records the scenario (with overrides), the seed, the package
    version, the table's size and the SHA-256 of the data file.  ``options``: the
    non-default generator options (``label_error``, ``crlb_noise``), recorded as
    given; with wrong labels the sidecar also lists each mislabelled subject's true
    and recorded group (``wrong_labels``), the truth a latent-class analysis is
    checked against.  It contains no timestamp, so the same seed gives
    byte-identical files.
    """
    out = write_cohort(data, path)
    side = sidecar_path(out)
    subjects = data.drop_duplicates("subject_id")
    write_json(side, {
        "generator": "alsstats.simulate.simulate_cohort",
        "alsstats_version": __version__,
        "seed": truth.to_dict()["seed"],
        "scenario": truth.scenario.to_dict(),
        "rows": len(data),
        "subjects": len(subjects),
        "subjects_per_stratum": truth.subjects["stratum"].value_counts(sort=False).to_dict()
        if len(truth.subjects) else {},
        "data_file": out.name,
        "data_sha256": file_sha256(out),
        **({"options": options} if options else {}),
        **_wrong_labels(truth),
    })
    return out, side


def _wrong_labels(truth: SimulationTruth) -> dict:
    subjects = truth.subjects
    if "recorded_group" not in subjects or not len(subjects):
        return {}
    wrong = subjects[subjects["recorded_group"] != subjects["group"]]
    if not len(wrong):
        return {}
    return {"wrong_labels": wrong[["subject_id", "group", "recorded_group"]]
            .to_dict(orient="records")}
