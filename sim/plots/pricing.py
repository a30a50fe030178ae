"""pricing.png: how the premium rates learn the true rates, year by year (``[pricing]`` runs).

Drawn from ``pricing.csv`` (:func:`sim.repricing.pricing_table`), so ``poolsim
report`` redraws it from a results folder. Left: each line's mean rate with the
5%–95% range of the paths, and the mean true rate; right: the share of paths
whose rate is within 10% of the path's true rate.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

if TYPE_CHECKING:
    from ..results import Results

PRICING_PLOT = "pricing.png"


def plot_pricing(results: "Results") -> Figure:
    """The rates by year against the true rates, and the share of paths priced within 10%."""
    table = results.pricing
    figure = Figure(figsize=(12.0, 6.0), layout="constrained")
    rates, within = figure.subplots(1, 2)
    colours = [f"C{i}" for i in range(10)]
    for index, (line, rows) in enumerate(table.groupby("line", sort=False)):
        rows = rows.sort_values("year")
        years = rows["year"].to_numpy()
        colour = colours[index % len(colours)]
        rates.fill_between(years, rows["rate_p05"] * 100.0, rows["rate_p95"] * 100.0, color=colour, alpha=0.15,
                           linewidth=0)
        rates.plot(years, rows["mean_rate"] * 100.0, color=colour, marker="o", markersize=3,
                   label=f"{line}: mean rate (band: 5%-95% of paths)")
        rates.plot(years, rows["mean_true_rate"] * 100.0, color=colour, linestyle="--",
                   label=f"{line}: mean true rate")
        within.plot(years, rows["share_within_10pct"] * 100.0, color=colour, marker="o", markersize=3, label=line)
    for axes in (rates, within):
        axes.set_xlabel("year")
        axes.set_xticks(np.unique(table["year"].to_numpy()))
        axes.grid(alpha=0.3)
    percent = FuncFormatter(lambda value, _: f"{value:,.2f}%")
    rates.yaxis.set_major_formatter(percent)
    rates.set_ylabel("premium rate (% of sum insured)")
    rates.set_title("Premium rate set at each renewal", fontsize=10)
    rates.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2)
    within.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}%"))
    within.set_ylim(0.0, 100.0)
    within.set_ylabel("paths whose rate is within 10% of the true rate")
    within.set_title("Priced within 10% of the path's true rate", fontsize=10)
    within.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=3)
    figure.suptitle(f"{results.name}\nRepricing by credibility as experience accrues\n"
                    f"{results.n_trials:,} simulated paths of {results.years} years")
    return figure
