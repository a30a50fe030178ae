"""Plots that set several structures side by side (``poolsim compare``)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..money import money_label, money_scale
from .horizon import horizon_solvency_ratio
from .style import (HORIZON_LOWEST, SOLVENCY_AXIS_LABELS, SOLVENCY_THRESHOLDS, THRESHOLDS, _common_regime,
                    _horizontal_boxes, _new_figure, _percent_axis, _return_period_axis, _whisker_range,
                    _wrapped_labels, box_statistics)

if TYPE_CHECKING:
    from ..results import Results


def plot_compare_solvency(runs: Sequence["Results"], labels: Sequence[str]) -> Figure:
    """Each member's solvency ratio distribution, one box per structure, side by side: the
    year-end ratio, or in multi-year runs each path's lowest (:func:`horizon_solvency_ratio`)."""
    members: list[str] = []
    for results in runs:
        members += [name for name in results.names_of("member") if name not in members]
    rows = members + ["Pool (members together)"]
    n_runs = len(runs)
    colours = [matplotlib.colormaps["tab10"](i % 10) for i in range(n_runs)]
    figure = _new_figure(10.0, 1.8 + (0.3 * n_runs + 0.25) * len(rows))
    axes = figure.add_subplot()
    centres = np.arange(len(rows))[::-1].astype(float)
    width = 0.8 / n_runs
    high, low = 130.0, 90.0
    for run, (results, colour) in enumerate(zip(runs, colours)):
        ratio = horizon_solvency_ratio(results) * 100.0
        names = results.party_names
        columns = [names.index(name) if name in names else None for name in members]
        columns.append(names.index(results.names_of("pool")[0]))
        present = [(row, column) for row, column in enumerate(columns) if column is not None]
        stats = [box_statistics(ratio[:, column], rows[row]) for row, column in present]
        offset = (n_runs - 1) / 2.0 * width - run * width
        _horizontal_boxes(axes, stats, positions=[centres[row] + offset for row, _ in present], showmeans=True,
                 widths=width * 0.85, patch_artist=True, boxprops={"facecolor": colour, "alpha": 0.6},
                 medianprops={"color": "black"},
                 meanprops={"marker": "D", "markerfacecolor": "black", "markeredgecolor": "black",
                            "markersize": 3})
        low, high = _whisker_range(stats, low, high)
    regime = _common_regime(runs)
    # structures under different regimes: the minimum alone, which both have, and neutral words
    thresholds = SOLVENCY_THRESHOLDS[regime] if regime else THRESHOLDS[:1]
    for value, label, colour, style in thresholds:
        axes.axvline(value, color=colour, linestyle=style, linewidth=1.5, label=label)
    if high / max(low, 1.0) > 15.0:
        axes.set_xscale("log")
    _percent_axis(axes.xaxis)
    axes.set_yticks(centres, rows)
    axes.set_xlabel((SOLVENCY_AXIS_LABELS[regime] if regime else
                     "Solvency ratio at year end (% of each structure's minimum capital)")
                    + (HORIZON_LOWEST if any(results.years > 1 for results in runs) else ""))
    axes.set_title("Solvency ratio by member across structures\n" + _wrapped_labels(labels))
    axes.grid(axis="x", alpha=0.3)
    handles = [Patch(facecolor=colour, alpha=0.6, label=label) for label, colour in zip(labels, colours)]
    handles += axes.get_legend_handles_labels()[0]
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    axes.text(1.01, 0.0, "box 25-75%,\nwhiskers 1-99%,\n◆ mean", transform=axes.transAxes, fontsize=8,
              va="bottom")
    return figure


def plot_compare_net_ep(runs: Sequence["Results"], labels: Sequence[str]) -> Figure:
    """The pool's net AEP (solid) and OEP (dashed) in each structure; gross AEP of the first for reference."""
    pool_tables = [results.ep[results.ep["party"] == results.names_of("pool")[0]] for results in runs]
    divisor, suffix = money_scale(max(table["loss"].max() for table in pool_tables))
    colours = [matplotlib.colormaps["tab10"](i % 10) for i in range(len(runs))]
    figure = _new_figure(9.0, 5.5)
    axes = figure.add_subplot()
    first_gross = pool_tables[0][(pool_tables[0]["basis"] == "gross") & (pool_tables[0]["metric"] == "AEP")]
    first_gross = first_gross.sort_values("return_period")
    axes.plot(first_gross["return_period"], first_gross["loss"] / divisor, color="grey", linewidth=3,
              alpha=0.5, label=f"gross AEP ({labels[0]})")
    # Structures can have the same net curve (they differ only in who holds the pool's net):
    # earlier structures are drawn wider, so each shows around the later ones drawn over it,
    # and the legend says which curves coincide.
    n_runs = len(runs)
    drawn: dict[str, list[tuple[str, np.ndarray, np.ndarray]]] = {"AEP": [], "OEP": []}
    for run, (table, label, colour) in enumerate(zip(pool_tables, labels, colours)):
        widen = (n_runs - 1 - run) / max(n_runs - 1, 1)
        for metric, style in (("AEP", "-"), ("OEP", "--")):
            curve = table[(table["basis"] == "net") & (table["metric"] == metric)].sort_values("return_period")
            periods, losses = curve["return_period"].to_numpy(), curve["loss"].to_numpy()
            same = [earlier for earlier, earlier_periods, earlier_losses in drawn[metric]
                    if np.array_equal(periods, earlier_periods) and np.allclose(losses, earlier_losses, rtol=1e-9)]
            drawn[metric].append((label, periods, losses))
            axes.plot(periods, losses / divisor, color=colour, linestyle=style, linewidth=1.5 + 3.0 * widen,
                      marker="o" if metric == "AEP" else "s", markersize=3 + 4 * widen,
                      label=f"{label}: net {metric}" + (f" (same as {same[0]})" if same else ""))
    _return_period_axis(axes)
    axes.set_ylabel(f"Pool net loss ({money_label(runs[0].currency, suffix)})")
    axes.set_title("Pool net exceedance-probability curves across structures\n" + _wrapped_labels(labels))
    axes.grid(which="both", alpha=0.3)
    axes.legend(fontsize=8)
    return figure


COMPARE_PRICING_PLOT = "compare_pricing.png"


def plot_compare_pricing(runs: Sequence["Results"], labels: Sequence[str]) -> Figure:
    """How fast each structure's repricing learns the true rates: by line (line style) and
    structure (colour), the share of paths whose rate is within 10% of the path's true rate
    in each year (``pricing.csv``). Only runs with ``[pricing]`` are drawn."""
    colours = [matplotlib.colormaps["tab10"](i % 10) for i in range(len(runs))]
    styles = ("-", "--", ":", "-.")
    figure = _new_figure(9.0, 5.5)
    axes = figure.add_subplot()
    for results, label, colour in zip(runs, labels, colours):
        if results.pricing is None:
            continue
        for index, (line, rows) in enumerate(results.pricing.groupby("line", sort=False)):
            rows = rows.sort_values("year")
            axes.plot(rows["year"], 100.0 * rows["share_within_10pct"], color=colour, linestyle=styles[index % len(styles)],
                      marker="o", markersize=4, label=f"{label}: {line}")
    axes.set_ylim(0.0, 100.0)
    _percent_axis(axes.yaxis)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_xlabel("year (the rate set at its renewal)")
    axes.set_ylabel("paths whose rate is within 10% of the true rate")
    axes.set_title("Learning the true rate across structures\n" + _wrapped_labels(labels))
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return figure
