"""Reports on users' own results: ``alsstats report --from FILE``.

The kind of result is recognized from the file:

* a cohort table (``.csv``/``.parquet``) → cohort summary, marker ROC/AUC and the
  M1/precuneus cutoff validation (computed here, as in the demo);
* a saved longitudinal fit (``.nc`` from ``alsstats longitudinal --out``) → its summary,
  trajectories, subject slopes and convergence;
* a saved diagnostic fit (``.nc`` from ``alsstats fit diagnostic``) → class means,
  convergence and provenance;
* a JSON result of ``alsstats cv`` or of ``alsstats power simulate`` (one scenario) → their
  dedicated sections;
* a JSON result of ``alsstats power sequential``, ``power assurance`` or ``power
  enrichment`` → the trial-planning sections: operating characteristics per look,
  assurance and power vs n, screening and enrolment vs threshold;
* any other JSON result a command writes (``--out x.json`` or ``--json``; it carries
  ``kind``, ``inputs`` and ``alsstats_version``) → its inputs, its values and each of its
  tables.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd

from alsstats._files import file_sha256
from alsstats.describe import cohort_summary, missingness_patterns
from alsstats.errors import AlsStatsError
from alsstats.pipeline._kinds import KINDS, TRIAL_RESULT_KINDS
from alsstats.report.document import Report, Section, Table, write_report
from alsstats.report.sections import cohort_section, cutoff_section, marker_section
from alsstats.schema import MARKERS, read_cohort

__all__ = ["KINDS", "detect_kind", "report_from"]



def detect_kind(path: Path) -> str:
    """The kind of result stored in ``path`` (see the module docstring)."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".parquet"):
        return "cohort"
    if suffix == ".json":
        data = _read_json(path)
        if "models" in data and "folds" in data:
            return "cv"
        if "arms" in data and "replicates" in data:
            return "power"
        if data.get("kind") in TRIAL_RESULT_KINDS:
            return "trial"
        if isinstance(data.get("kind"), str) and "alsstats_version" in data:
            return "result"
        raise AlsStatsError(f"{path}: JSON is not an alsstats result (no 'kind' and "
                            "'alsstats_version' fields): write it with a command's "
                            "--out FILE.json or --json")
    if suffix == ".nc":
        import arviz as az

        try:
            idata = az.from_netcdf(str(path))
        except (OSError, ValueError) as exc:
            raise AlsStatsError(f"{path}: not a readable NetCDF fit: {exc}") from None
        if "derived" in idata.groups() and str(idata.derived.attrs.get("format", "")).startswith(
                "alsstats.longitudinal"):
            return "longitudinal"
        if "posterior" in idata.groups() and idata.posterior.attrs.get(
                "alsstats_model") == "diagnostic":
            return "diagnostic"
        raise AlsStatsError(f"{path}: NetCDF file is not a saved alsstats fit")
    raise AlsStatsError(f"{path}: cannot tell the result kind from {suffix!r}; expected "
                        ".csv/.parquet (cohort), .nc (saved fit) or .json (cv/power result)")


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AlsStatsError(f"{path}: not a readable JSON result: {exc}") from None
    if not isinstance(data, dict):
        raise AlsStatsError(f"{path}: expected a JSON object")
    return data


def report_from(path: str | os.PathLike, out_dir: str | os.PathLike, *, seed: int = 2026,
                kind: str | None = None) -> tuple[Path, str]:
    """Write a report on the result in ``path`` to ``out_dir/index.html`` (or to ``out_dir``
    itself if it ends in ``.html``); returns (path, kind)."""
    src = Path(path)
    if not src.is_file():
        raise AlsStatsError(f"{src}: file not found")
    kind = kind or detect_kind(src)
    if kind not in KINDS:
        raise AlsStatsError(f"unknown report kind {kind!r}; expected one of {', '.join(KINDS)}")
    build = {"cohort": _cohort, "longitudinal": _longitudinal, "diagnostic": _diagnostic,
             "cv": _cv, "power": _power, "trial": _trial, "result": _result}[kind]
    title, sections = build(src, seed)
    report = Report(title=title, subtitle=f"Report on {src.name}", sections=sections,
                    provenance={"input": f"{src.name} (sha256 {file_sha256(src)})",
                                "kind": kind, "seed": str(seed),
                                "python": sys.version.split()[0]})
    return write_report(report, out_dir), kind


def _cohort(src: Path, seed: int):
    from alsstats.pipeline.markers import validate_markers

    data = read_cohort(src)
    markers = validate_markers(data, seed=seed)
    return (f"Cohort report: {src.name}",
            [cohort_section(cohort_summary(data), missingness_patterns(data), list(MARKERS),
                            description=f"Cohort table {src.name}."),
             marker_section(markers), cutoff_section(markers)])


def _longitudinal(src: Path, seed: int):
    from alsstats.models.longitudinal.model import LongitudinalModel
    from alsstats.pipeline.longitudinal import decline_tables
    from alsstats.report.sections import decline_section

    model = LongitudinalModel.load(src)
    outcome = model.meta_["columns"]["outcome"]
    return (f"Longitudinal model: {src.name}",
            [decline_section(decline_tables(model), outcome=outcome,
                             description=f"{model.method.upper()} fit of {outcome} "
                                         f"({model.meta_['n_subjects']} subjects, "
                                         f"{model.meta_['n_obs']} observations).")])


def _diagnostic(src: Path, seed: int):
    from alsstats.models.diagnostic.model import DiagnosticModel
    from alsstats.pipeline.diagnostic import class_means, convergence_table
    from alsstats.report.sections import diagnostic_fit_section

    model = DiagnosticModel.load(src)
    return (f"Diagnostic model: {src.name}",
            [diagnostic_fit_section(class_means(model), convergence_table(model),
                                    model.convergence_.ok, list(model.classes_),
                                    list(model.spec_.marker_names))])


def _cv(src: Path, seed: int):
    data = _read_json(src)
    rows = []
    for name, res in data["models"].items():
        summary = pd.DataFrame(res["summary"]).assign(model=name)
        rows.append(summary)
    table = pd.concat(rows, ignore_index=True)[["model", "quantity", "level", "mean", "sd",
                                                "min", "max", "n"]]
    pooled = table[table["level"] == "repeat"]
    section = Section(
        title="Cross-validated performance", slug="cv",
        paragraphs=[f"{data['folds']}-fold subject-grouped cross-validation repeated "
                    f"{data['repeats']} times (seed {data.get('seed')}) on {data['file']}: "
                    f"{data['n_positive']} positive and {data['n_negative']} negative "
                    f"subjects; outcome {data['outcome']}."],
        items=[Table("Pooled out-of-fold performance per model", pooled,
                     "Mean and SD over repeats of the pooled out-of-fold AUC, sensitivity and "
                     "specificity.", slug="pooled"),
               Table("All summaries", table, "Per split and per repeat.", slug="all")])
    return f"Cross-validation report: {src.name}", [section]


def _power(src: Path, seed: int):
    from alsstats.report.sections import power_simulation_section

    data = _read_json(src)
    return f"Power simulation report: {src.name}", [power_simulation_section(data)]


def _trial(src: Path, seed: int):
    from alsstats.report.sections import trial_planning_sections

    data = _read_json(src)
    if data.get("kind") not in TRIAL_RESULT_KINDS:
        raise AlsStatsError(f"{src}: not a trial-planning result (kind {data.get('kind')!r}; "
                            f"expected one of {', '.join(TRIAL_RESULT_KINDS)})")
    return f"Trial planning report: {src.name}", trial_planning_sections(data)


def _cell(value) -> str:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else str(value)


def _result(src: Path, seed: int):
    """Any command's JSON result: its inputs, its scalar values, and each table it holds."""
    data = _read_json(src)
    kind = str(data.get("kind") or "result")
    inputs = data.get("inputs") or {}
    items = [Table("Inputs", pd.DataFrame({"option": list(inputs),
                                           "value": [_cell(v) for v in inputs.values()]}),
                   "The options the command ran with.", slug="inputs")]
    scalars, tables = {}, {}
    for key, value in data.items():
        if key in ("kind", "inputs", "alsstats_version"):
            continue
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            tables[key] = pd.json_normalize(value, sep=".")
        elif isinstance(value, dict):
            for k, v in pd.json_normalize(value, sep=".").iloc[0].items():
                if isinstance(v, list) and v and all(isinstance(r, dict) for r in v):
                    tables[f"{key}.{k}"] = pd.json_normalize(v, sep=".")
                else:
                    scalars[f"{key}.{k}"] = _cell(v)
        else:
            scalars[key] = _cell(value)
    items.append(Table("Result", pd.DataFrame({"quantity": list(scalars),
                                               "value": list(scalars.values())}),
                       "Every single value of the result.", slug="values"))
    for i, (key, frame) in enumerate(tables.items()):
        items.append(Table(key.replace("_", " ").capitalize(), frame,
                           f"The result's '{key}' table ({len(frame)} rows).",
                           slug=f"table-{i}"))
    command = "alsstats " + kind.replace(".", " ")
    section = Section(title=f"Result of `{command}`", slug="result",
                      paragraphs=[f"{command}, alsstats {data.get('alsstats_version')}; "
                                  f"file {src.name}."],
                      items=items)
    return f"{command}: {src.name}", [section]
