"""The plots of a multi-year run (``years > 1``) over its years: fan charts and exits."""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from ..money import money_label, money_scale
from .horizon import going_concern_year_matrix, year_matrix
from .style import THRESHOLDS, _new_figure, _percent_axis, _title

if TYPE_CHECKING:
    from ..results import Results

# --------------------------------------------------------------------------- multi-year
FAN_BANDS = ((5.0, 95.0, 0.18, "90% band"), (25.0, 75.0, 0.38, "50% band"))


def _fan_figure(results: "Results", column: str, what: str, scale, unit: str, thresholds=(),
                values_of=None) -> Figure:
    """``values_of(results, party)`` gives a party's ``(n_trials, n_years)`` values, by default
    :func:`year_matrix` of ``column``; NaN values are left out of the bands."""
    members = results.names_of("member")
    n_columns = min(len(members), 3)
    n_rows = int(np.ceil(len(members) / n_columns))
    figure = _new_figure(4.2 * n_columns, 3.2 * n_rows + 0.9)
    years = np.arange(1, results.years + 1)
    for index, name in enumerate(members):
        axes = figure.add_subplot(n_rows, n_columns, index + 1)
        values = (year_matrix(results, column, name) if values_of is None else values_of(results, name)) * scale
        # Years in which no path has a value (every member run off) give NaN, silently.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for low, high, alpha, label in FAN_BANDS:
                band = np.nanpercentile(values, [low, high], axis=0) if np.isfinite(values).any() else None
                if band is not None:
                    axes.fill_between(years, band[0], band[1], color="#1f77b4", alpha=alpha, linewidth=0,
                                      label=label)
            median = np.nanmedian(values, axis=0) if np.isfinite(values).any() else np.full(len(years), np.nan)
        axes.plot(years, median, color="#0b3d66", marker="o", markersize=3, label="median")
        for value, label, colour, style in thresholds:
            axes.axhline(value, color=colour, linestyle=style, linewidth=1.0, label=label)
        axes.set_title(name, fontsize=10)
        axes.set_xticks(years)
        axes.set_xlabel("year")
        axes.set_ylabel(unit)
        axes.grid(alpha=0.3)
        if index == 0:
            handles, labels = axes.get_legend_handles_labels()
    figure.suptitle(_title(results, what))
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8, frameon=False)
    return figure


def plot_solvency_fan(results: "Results") -> Figure:
    """Fan chart of each member's year-end solvency ratio over the years while it is in the pool.

    Each year's bands are of the paths in which the member writes business that
    year; its run-off after leaving (see exits.png) is left out.
    """
    figure = _fan_figure(results, "solvency_ratio",
                         "Solvency ratio by year while in the pool: median, 50% and 90% of the paths "
                         "in which the member writes business (run-off after an exit left out)",
                         100.0, "solvency ratio (%)", THRESHOLDS, values_of=going_concern_year_matrix)
    for axes in figure.axes:
        _percent_axis(axes.yaxis)
    return figure


def plot_capital_fan(results: "Results") -> Figure:
    """Fan chart of each member's year-end capital over the years."""
    largest = np.nanmax(np.abs(results.trials.loc[results.trials["party"].isin(results.names_of("member")),
                                                  "capital_end"].to_numpy(dtype=np.float64)))
    divisor, suffix = money_scale(largest)
    return _fan_figure(results, "capital_end", "Capital at year end: median, 50% and 90% of paths",
                       1.0 / divisor, f"capital ({money_label(results.currency, suffix)})",
                       ((0.0, "ruin (capital 0)", "#c0392b", "-"),))


def plot_exits(results: "Results") -> Figure:
    """Share of paths in which each member has left the pool by each year, and the pool has ended."""
    figure = _new_figure(9.0, 5.0)
    axes = figure.add_subplot()
    years = np.arange(1, results.years + 1)
    for name in results.names_of("member"):
        left = 1.0 - year_matrix(results, "active", name).mean(axis=0)
        axes.plot(years, left * 100.0, marker="o", markersize=4, label=name)
    ended = 1.0 - year_matrix(results, "active", results.names_of("pool")[0]).mean(axis=0)
    axes.plot(years, ended * 100.0, color="black", linestyle="--", label="pool ended (no member left)")
    axes.set_xticks(years)
    axes.set_xlabel("year (a member that breaches at a year end has left by the next year)")
    axes.set_ylabel("paths in which it has left (%)")
    _percent_axis(axes.yaxis)
    highest = max([line.get_ydata().max() for line in axes.get_lines()] + [0.0])
    axes.set_ylim(0.0, max(5.0, 1.1 * highest))      # keep a readable scale when nobody leaves
    axes.set_title(_title(results, "Members that have left the pool"))
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return figure


MULTI_YEAR_DRAWERS = {
    "solvency_fan.png": plot_solvency_fan,
    "capital_fan.png": plot_capital_fan,
    "exits.png": plot_exits,
}
