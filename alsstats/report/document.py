"""The report document model and its HTML rendering.

A :class:`Report` is a list of :class:`Section` objects, each holding text,
:class:`Figure` objects (an embedded image plus the numbers behind it) and
:class:`Table` objects.  :func:`render_html` turns it into one self-contained
HTML page (Jinja2 with autoescape: every user string is escaped; figures and
CSV downloads are embedded as ``data:`` URIs; no external scripts, styles or
fonts).  Rendering computes nothing: every number shown was computed before.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pandas as pd

from alsstats._files import atomic_write
from alsstats._version import __version__

__all__ = ["Figure", "Report", "Section", "Table", "render_html", "write_report"]


def _csv_uri(frame: pd.DataFrame) -> str:
    payload = base64.b64encode(frame.to_csv(index=False).encode("utf-8")).decode("ascii")
    return f"data:text/csv;base64,{payload}"


@dataclass
class Table:
    """A table with a caption; downloadable as CSV from the page."""

    title: str
    frame: pd.DataFrame
    caption: str = ""
    slug: str = "table"
    max_rows: int = 60

    @property
    def csv_uri(self) -> str:
        return _csv_uri(self.frame)

    @property
    def shown(self) -> pd.DataFrame:
        return self.frame.head(self.max_rows)


@dataclass
class Figure:
    """An embedded figure, its caption, and the numbers drawn in it (``data``).

    ``plotted`` maps each drawn line's label to its (x, y) points as taken from
    the figure itself, so tests can check what is drawn, not only that an
    image exists.
    """

    title: str
    caption: str
    png: bytes
    data: pd.DataFrame
    slug: str = "figure"
    plotted: dict = field(default_factory=dict, repr=False)

    @property
    def img_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    @property
    def csv_uri(self) -> str:
        return _csv_uri(self.data)


@dataclass
class Section:
    """One section: a heading, paragraphs, warnings, figures and tables, in order."""

    title: str
    slug: str
    paragraphs: list[str] = field(default_factory=list)
    items: list[Figure | Table] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Report:
    """A whole report: title, sections and a provenance footer (key → value)."""

    title: str
    sections: list[Section]
    subtitle: str = ""
    provenance: dict[str, str] = field(default_factory=dict)


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("alsstats.report", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _format_cell(value) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


_ENV.filters["cell"] = _format_cell


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page."""
    provenance = {"alsstats version": __version__, **report.provenance}
    template = _ENV.get_template("report.html.j2")
    return template.render(report=report, provenance=provenance)


def write_report(report: Report, out_dir: str | os.PathLike) -> Path:
    """Write ``index.html`` into ``out_dir`` (atomically) and the CSV of each figure/table.

    If ``out_dir`` ends in ``.html`` the page is written to that file alone (it is
    self-contained: every table's CSV is embedded as a download).  Otherwise CSV files
    of a previous report in ``out_dir/data/`` that this report does not write are
    removed, so the folder holds exactly this report.  Returns the page's path.
    """
    out = Path(out_dir)
    html = render_html(report)
    if out.suffix.lower() == ".html":
        with atomic_write(out, encoding="utf-8") as fh:
            fh.write(html)
        return out
    data_dir = out / "data"
    written = set()
    for section in report.sections:
        for item in section.items:
            frame = item.data if isinstance(item, Figure) else item.frame
            name = f"{section.slug}-{item.slug}.csv"
            written.add(name)
            with atomic_write(data_dir / name, encoding="utf-8", newline="") as fh:
                frame.to_csv(fh, index=False)
    if data_dir.is_dir():
        for stale in data_dir.glob("*.csv"):
            if stale.name not in written and stale.is_file():
                stale.unlink()
    index = out / "index.html"
    with atomic_write(index, encoding="utf-8") as fh:
        fh.write(html)
    return index
