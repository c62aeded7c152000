"""Matplotlib figures for reports.

Every function takes numbers that were already computed (a DataFrame), draws
them, and returns a :class:`~alsstats.report.document.Figure` carrying the PNG,
the same DataFrame (downloadable as CSV) and the drawn lines as read back from
the axes.  Figures are built with :class:`matplotlib.figure.Figure` directly,
never through pyplot's global state.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure as MplFigure

from alsstats.report.document import Figure

__all__ = [
    "calibration_figure",
    "histogram_figure",
    "interval_figure",
    "lines_figure",
    "missingness_figure",
    "roc_figure",
    "roc_panels_figure",
]

_COLORS = ("#1f5fa8", "#d1495b", "#2a9d8f", "#e9a03b", "#6a4c93", "#4a5568", "#8ab17d")


def _finish(fig: MplFigure, title: str, caption: str, data: pd.DataFrame, slug: str) -> Figure:
    plotted = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            label = line.get_label()
            if not label.startswith("_"):
                plotted[label] = np.asarray(line.get_xydata(), dtype=float)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight",
                metadata={"Software": None})
    return Figure(title=title, caption=caption, png=buf.getvalue(), data=data.copy(),
                  slug=slug, plotted=plotted)


def _new(width: float = 6.4, height: float = 4.2):
    fig = MplFigure(figsize=(width, height))
    ax = fig.add_subplot()
    ax.grid(alpha=0.3)
    return fig, ax


def roc_figure(curves: pd.DataFrame, aucs: pd.DataFrame, *, title: str, caption: str,
               slug: str = "roc", band: pd.DataFrame | None = None) -> Figure:
    """ROC curves, one per ``marker``, with the AUC and its interval in the legend.

    ``curves``: columns ``marker, fpr, tpr`` (fpr = 1 - specificity).  ``aucs``:
    ``marker, auc, low, high``.  ``band`` (optional): ``marker, fpr, tpr_low,
    tpr_high``, a pointwise confidence band drawn as a shaded area.
    """
    fig, ax = _new(5.6, 5.2)
    ax.plot([0, 1], [0, 1], color="#a0aec0", lw=1, ls="--", label="_chance")
    table = aucs.set_index("marker")
    for color, (marker, curve) in zip(_COLORS * 3, curves.groupby("marker", sort=False),
                                      strict=False):
        row = table.loc[marker]
        label = f"{marker}: AUC {row['auc']:.3f} ({row['low']:.3f}–{row['high']:.3f})"
        if band is not None and marker in set(band["marker"]):
            b = band[band["marker"] == marker]
            ax.fill_between(b["fpr"], b["tpr_low"], b["tpr_high"], color=color, alpha=0.15,
                            lw=0)
        ax.plot(curve["fpr"], curve["tpr"], color=color, lw=1.8, label=label,
                drawstyle="default")
    ax.set_xlabel("1 − specificity")
    ax.set_ylabel("sensitivity")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(loc="lower right", fontsize=8)
    data = curves.merge(aucs, on="marker", how="left")
    return _finish(fig, title, caption, data, slug)


def roc_panels_figure(bands: pd.DataFrame, aucs: pd.DataFrame, *, title: str, caption: str,
                      slug: str = "roc-bands", columns: int = 3) -> Figure:
    """One small ROC panel per ``marker`` with its pointwise confidence band.

    ``bands``: ``marker, fpr, tpr, tpr_low, tpr_high``; ``aucs``: ``marker, auc, low, high``.
    """
    names = list(dict.fromkeys(bands["marker"]))
    rows = -(-len(names) // columns)
    fig = MplFigure(figsize=(3.0 * columns, 2.9 * rows))
    table = aucs.set_index("marker")
    for i, (name, color) in enumerate(zip(names, _COLORS * 3, strict=False)):
        ax = fig.add_subplot(rows, columns, i + 1)
        b = bands[bands["marker"] == name]
        ax.plot([0, 1], [0, 1], color="#a0aec0", lw=0.8, ls="--", label="_chance")
        ax.fill_between(b["fpr"], b["tpr_low"], b["tpr_high"], color=color, alpha=0.2, lw=0,
                        step="post")
        ax.step(b["fpr"], b["tpr"], where="post", color=color, lw=1.6, label=name)
        r = table.loc[name]
        ax.set_title(f"{name}\nAUC {r['auc']:.2f} ({r['low']:.2f}–{r['high']:.2f})", fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    fig.supxlabel("1 − specificity", fontsize=9)
    fig.supylabel("sensitivity", fontsize=9)
    fig.tight_layout()
    return _finish(fig, title, caption, bands.merge(aucs, on="marker", how="left"), slug)


def lines_figure(frame: pd.DataFrame, *, x: str, y: str, group: str | None = None,
                 low: str | None = None, high: str | None = None, title: str, caption: str,
                 xlabel: str, ylabel: str, slug: str, errorbars: bool = False,
                 hline: float | None = None, ylim: tuple[float, float] | None = None,
                 analytic: str | None = None) -> Figure:
    """Lines of ``y`` over ``x`` (one per ``group``) with optional interval bands or error bars.

    ``analytic`` names a column drawn as a dashed reference line (e.g. analytic power).
    """
    fig, ax = _new()
    groups = frame.groupby(group, sort=False) if group else [(ylabel, frame)]
    for color, (name, part) in zip(_COLORS * 3, groups, strict=False):
        part = part.sort_values(x)
        if low and high and not errorbars:
            ax.fill_between(part[x], part[low], part[high], color=color, alpha=0.18, lw=0)
        if low and high and errorbars:
            ax.errorbar(part[x], part[y], yerr=[part[y] - part[low], part[high] - part[y]],
                        fmt="none", ecolor=color, capsize=3, lw=1)
        ax.plot(part[x], part[y], color=color, lw=1.8, marker="o" if errorbars else None,
                ms=4, label=str(name))
        if analytic and analytic in part:
            ax.plot(part[x], part[analytic], color=color, lw=1, ls="--",
                    label=f"{name} (analytic)" if group else "analytic")
    if hline is not None:
        ax.axhline(hline, color="#4a5568", lw=1, ls=":", label="_ref")
    if ylim:
        ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if group or analytic:
        ax.legend(fontsize=8)
    return _finish(fig, title, caption, frame, slug)


def histogram_figure(values: pd.DataFrame, *, column: str, title: str, caption: str,
                     xlabel: str, slug: str, reference: dict[str, float] | None = None,
                     bins: int = 40, group: str | None = None) -> Figure:
    """Histogram of ``values[column]`` with labelled vertical reference lines; with ``group``
    one density-scaled histogram per group on common bins."""
    fig, ax = _new()
    if group is None:
        ax.hist(values[column].dropna(), bins=bins, color=_COLORS[0], alpha=0.75)
        ax.set_ylabel("count")
        colors = _COLORS[1:]
    else:
        v = values[column].dropna()
        edges = np.histogram_bin_edges(v, bins=bins)
        names = list(dict.fromkeys(values[group]))
        for color, name in zip(_COLORS, names, strict=False):
            ax.hist(values.loc[values[group] == name, column].dropna(), bins=edges,
                    density=True, color=color, alpha=0.5, label=str(name))
        ax.set_ylabel("density")
        colors = _COLORS[len(names):] + _COLORS
    for color, (label, at) in zip(colors, (reference or {}).items(), strict=False):
        ax.axvline(at, color=color, lw=2, label=f"{label}: {at:.3f}")
    ax.set_xlabel(xlabel)
    if reference or group is not None:
        ax.legend(fontsize=8)
    return _finish(fig, title, caption, values, slug)


def interval_figure(frame: pd.DataFrame, *, label: str, estimate: str, low: str, high: str,
                    title: str, caption: str, xlabel: str, slug: str, color_by: str | None = None,
                    vline: float | None = None, max_rows: int = 60) -> Figure:
    """Point estimates with intervals, one row each (forest plot / per-patient probabilities)."""
    shown = frame.head(max_rows)
    fig = MplFigure(figsize=(6.4, 1.2 + 0.16 * len(shown)))
    ax = fig.add_subplot()
    ax.grid(alpha=0.3, axis="x")
    pos = np.arange(len(shown))[::-1]
    keys = shown[color_by].astype(str) if color_by else pd.Series([""] * len(shown))
    palette = {k: c for k, c in zip(dict.fromkeys(keys), _COLORS * 3, strict=False)}
    for k in palette:
        sel = (keys == k).to_numpy()
        ax.errorbar(shown[estimate][sel], pos[sel],
                    xerr=[shown[estimate][sel] - shown[low][sel],
                          shown[high][sel] - shown[estimate][sel]],
                    fmt="o", ms=3, color=palette[k], capsize=2, lw=1, label=k or "_x")
    if vline is not None:
        ax.axvline(vline, color="#4a5568", lw=1, ls=":")
    ax.set_yticks(pos)
    ax.set_yticklabels(shown[label].astype(str), fontsize=7)
    ax.set_xlabel(xlabel)
    if color_by:
        ax.legend(fontsize=8, loc="best")
    return _finish(fig, title, caption, frame, slug)


def calibration_figure(bins: pd.DataFrame, *, title: str, caption: str,
                       slug: str = "calibration") -> Figure:
    """Reliability curve: observed frequency (with interval) against mean predicted probability.

    ``bins``: columns ``predicted, observed, low, high``.
    """
    fig, ax = _new(5.2, 5.0)
    ax.plot([0, 1], [0, 1], color="#a0aec0", ls="--", lw=1, label="_ideal")
    ax.errorbar(bins["predicted"], bins["observed"],
                yerr=[bins["observed"] - bins["low"], bins["high"] - bins["observed"]],
                fmt="none", ecolor=_COLORS[0], capsize=3)
    ax.plot(bins["predicted"], bins["observed"], marker="o", color=_COLORS[0], label="observed")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted P(ALS)")
    ax.set_ylabel("observed proportion with ALS")
    return _finish(fig, title, caption, bins, slug)


def missingness_figure(patterns: pd.DataFrame, markers: list[str], *, title: str, caption: str,
                       slug: str = "missingness") -> Figure:
    """Missingness patterns as a tile plot: rows are patterns, dark tiles markers present."""
    shown = patterns.head(20)
    fig = MplFigure(figsize=(6.4, 1.0 + 0.25 * len(shown)))
    ax = fig.add_subplot()
    ax.imshow(shown[markers].to_numpy(float), aspect="auto", cmap="Blues", vmin=-0.3, vmax=1.1)
    ax.set_xticks(range(len(markers)))
    ax.set_xticklabels(markers, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(shown)))
    ax.set_yticklabels([f"n = {n}" for n in shown["total"]], fontsize=8)
    return _finish(fig, title, caption, patterns, slug)
