"""How poolsim's figures look: fonts that draw Chinese names, per-cent and return-period axes, box
statistics, titles, the solvency regimes' thresholds, and saving a figure as PNG (money scales
are :mod:`sim.money`'s).

Figures are built with :class:`matplotlib.figure.Figure` directly, never
through ``pyplot``: no global state, no GUI backend, safe in threads, and a
notebook's own backend is left alone.
"""
from __future__ import annotations

import os
import re
import sys
import unicodedata
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

if TYPE_CHECKING:
    from ..results import Results

DPI = 120
THRESHOLDS = (  # (ratio in %, label, colour, line style)
    (100.0, "100% regulatory minimum", "#c0392b", "-"),
    (120.0, "120% regulator's watch list", "#e67e22", "--"),
)
GROSS_COLOUR, NET_COLOUR = "#1f77b4", "#ff7f0e"
# Beside a member without a solvency ratio in any trial (see plot_solvency).
NO_RATIO_LABEL = "no minimum capital (ratio not defined)"


# Families that draw Chinese characters, most wanted first; those installed go ahead of
# matplotlib's sans-serif list (DejaVu Sans has no CJK glyph), so that Chinese scenario,
# member and line names are legible. Latin text is then drawn in the CJK family too.
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC", "Noto Sans CJK JP",
    "Noto Sans CJK TC",
)
# matplotlib's warning for each character no font of the list has: "Glyph 20013 (...) missing from font(s) ..."
MISSING_GLYPH = re.compile(r"Glyph (\d+) .*missing from font")

# --------------------------------------------------------------------------- helpers
def save(figure: Figure, path: str | os.PathLike | None) -> Figure:
    """Save ``figure`` as PNG at ``path`` (when given); return the figure."""
    if path is not None:
        with legible_text():
            figure.savefig(Path(path), dpi=DPI, format="png")
    return figure


def installed_cjk_families() -> list[str]:
    """The families of :data:`CJK_FAMILIES` that matplotlib finds on this machine."""
    from matplotlib import font_manager

    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return [family for family in CJK_FAMILIES if family in installed]


@contextmanager
def legible_text():
    """Draw figures (savefig) with the installed CJK families ahead of the sans-serif list.

    Characters that no installed font has draw as boxes: matplotlib warns once per
    character and figure, a hundred lines for a few Chinese names. Those warnings
    are collected, and one note on stderr says what is wrong and how to fix it.
    Other warnings are passed on as they came.

    The capture (``warnings.catch_warnings``) is process-wide: a thread that enters
    and leaves its own during this one would undo it. Hold this around such a
    thread's whole life, as :meth:`sim.results.Results.write` does.
    """
    families = installed_cjk_families() + [family for family in matplotlib.rcParams["font.sans-serif"]
                                           if family not in CJK_FAMILIES]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with matplotlib.rc_context({"font.sans-serif": families}):
            yield
    missing = []
    for warning in caught:
        found = MISSING_GLYPH.search(str(warning.message))
        if found:
            missing.append(chr(int(found.group(1))))
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    if missing:
        print(missing_glyphs_note(missing), file=sys.stderr)


def missing_glyphs_note(missing: Sequence[str]) -> str:
    """One line on characters no installed font has; Chinese (CJK) ones get a package to install."""
    characters = "".join(dict.fromkeys(missing))
    shown = characters if len(characters) <= 8 else characters[:8] + "..."
    if any(unicodedata.name(character, "").startswith("CJK") for character in characters):
        return ("poolsim: note: no installed font has Chinese characters; names show as boxes in the "
                f"plots ({shown}). Install e.g. fonts-noto-cjk.")
    return f"poolsim: note: no installed font has the characters {shown}; they show as boxes in the plots."


def box_statistics(values: np.ndarray, label: str) -> dict:
    """Box-plot statistics for :meth:`Axes.bxp`: box 25-75%, whiskers 1-99%, median, mean.

    Precomputed so a million trials draw as fast as ten; NaN and infinite values are ignored.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        values = np.array([np.nan])
    p01, p25, p50, p75, p99 = np.percentile(values, [1, 25, 50, 75, 99])
    return {"label": label, "whislo": p01, "q1": p25, "med": p50, "q3": p75, "whishi": p99,
            "mean": float(np.mean(values)), "fliers": []}


def _title(results: "Results", what: str) -> str:
    n_trials = results.n_trials
    years = results.years
    if years > 1:
        return f"{results.name}\n{what}\n{_count(n_trials, 'simulated path')} of {years} years"
    return f"{results.name}\n{what}\n{_count(n_trials, 'simulated year')}"


def _count(number: int, noun: str) -> str:
    """``1 simulated year``, ``2,000 simulated years``."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def _new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure


def _percent_axis(axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}%"))


def _horizontal_boxes(axes, stats: list[dict], **options) -> None:
    """``Axes.bxp`` drawn horizontally on matplotlib before and after 3.10 (``vert`` is deprecated)."""
    version = tuple(int(part) for part in matplotlib.__version__.split(".")[:2] if part.isdigit())
    if version >= (3, 10):
        axes.bxp(stats, orientation="horizontal", **options)
    else:
        axes.bxp(stats, vert=False, **options)


def _return_period_axis(axes) -> None:
    axes.set_xscale("log")
    axes.set_xticks([2, 5, 10, 20, 50, 100, 200, 500, 1000])
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    axes.xaxis.set_minor_formatter(FuncFormatter(lambda value, _: ""))
    axes.set_xlabel("Return period (years, log scale)")


# How a solvency regime of the scenario is written in a title.
REGIME_NAMES = {"c-ross": "C-ROSS II", "var": "99.5% VaR"}
# Each regime's words for its ratio (the x-axis label) and its threshold lines. The 120% watch
# list is C-ROSS's; under the Solvency II style "var" regime the line is the SCR alone.
SOLVENCY_AXIS_LABELS = {
    "c-ross": "Comprehensive solvency ratio at year end (% of minimum capital)",
    "var": "Solvency ratio at year end (own funds / SCR, %; SCR = 99.5% VaR of the net result)",
}
SOLVENCY_THRESHOLDS = {
    "c-ross": THRESHOLDS,
    "var": ((100.0, "100% of the SCR (regulatory minimum)", "#c0392b", "-"),),
}


def _whisker_range(stats: list[dict], low: float, high: float) -> tuple[float, float]:
    """``(low, high)`` widened to the boxes' finite whiskers (a party without values has NaN ones)."""
    whiskers = [value for box in stats for value in (box["whislo"], box["whishi"]) if np.isfinite(value)]
    return min(whiskers + [low]), max(whiskers + [high])


def _alternating(levels: np.ndarray) -> np.ndarray:
    """``levels`` (ascending) reordered lower half, upper half, in turn: neighbouring bands of a
    stack of many members then differ by half the range, not one step, and stay visible."""
    half = (len(levels) + 1) // 2
    out = np.empty_like(levels)
    out[0::2] = levels[:half]
    out[1::2] = levels[half:]
    return out


def _box_legend_handles() -> list:
    return [Patch(facecolor="#d6e4f0", edgecolor="black", label="box 25-75%, whiskers 1-99%"),
            Line2D([], [], color="black", label="median"),
            Line2D([], [], marker="D", color="white", markerfacecolor="black", label="mean")]

# --------------------------------------------------------------------------- solvency
def _regime(results: "Results") -> str:
    """The run's solvency regime; C-ROSS for a folder written before run.json recorded it."""
    regime = results.run_info.get("regime", "c-ross")
    return regime if regime in SOLVENCY_AXIS_LABELS else "c-ross"


def _common_regime(runs: Sequence["Results"]) -> str | None:
    """The regime of every run, or None when they differ."""
    regimes = {_regime(results) for results in runs}
    return regimes.pop() if len(regimes) == 1 else None


HORIZON_LOWEST = ": the lowest of each path over its years in the pool"


def _wrapped_labels(labels) -> str:
    """Scenario names joined with "vs" when they fit on one title line; else how many there are
    (the legend names each: four names wrapped to four lines crowded the plot)."""
    joined = " vs ".join(labels)
    return joined if len(joined) <= 90 else f"{len(labels)} structures (see the legend)"
