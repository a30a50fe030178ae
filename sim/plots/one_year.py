"""The plots of every run: solvency ratios, loss ratios, EP curves and who pays the large losses.

In a multi-year run they show the last year, except :func:`plot_solvency`: each
path's lowest year-end ratio while in the pool (:func:`sim.plots.horizon.horizon_solvency_ratio`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..money import money_label, money_scale
from .horizon import horizon_solvency_ratio
from .style import (GROSS_COLOUR, HORIZON_LOWEST, NET_COLOUR, NO_RATIO_LABEL, REGIME_NAMES, SOLVENCY_AXIS_LABELS,
                    SOLVENCY_THRESHOLDS, _alternating, _box_legend_handles, _horizontal_boxes, _new_figure,
                    _percent_axis, _regime, _return_period_axis, _title, _whisker_range, box_statistics,)

if TYPE_CHECKING:
    from ..results import Results

WHO_PAYS_RETURN_PERIODS = (10, 100, 250)
# Trials "near" a return level: exceedance probability within ±10% of 1/T.
WHO_PAYS_WINDOW = 0.10


# --------------------------------------------------------------------------- solvency
def plot_solvency(results: "Results") -> Figure:
    """Each member's (and the pool's) solvency ratio, with the regime's thresholds: the year-end
    ratio, or in a multi-year run each path's lowest (:func:`horizon_solvency_ratio`)."""
    ratio = horizon_solvency_ratio(results) * 100.0
    names = results.party_names
    rows = [(name, names.index(name)) for name in results.names_of("member")]
    rows.append(("Pool (members together)", names.index(results.names_of("pool")[0])))
    stats = [box_statistics(ratio[:, column], label) for label, column in rows]
    below = [np.mean(ratio[:, column] < 100.0) for _, column in rows]
    # A member whose minimum capital is 0 in every trial has no ratio: it holds no risk (share 0,
    # or run off after leaving the pool), or it does but its lines have no premium, on which the
    # C-ROSS premium risk charge is set. "No risk held" would be wrong in the second case.
    applicable = [bool(np.isfinite(ratio[:, column]).any()) for _, column in rows]

    figure = _new_figure(10.0, 2.6 + 0.42 * len(rows))
    axes = figure.add_subplot()
    positions = np.arange(len(rows))[::-1]       # first member at the top
    _horizontal_boxes(axes, stats, positions=positions, showmeans=True, widths=0.6, patch_artist=True,
             boxprops={"facecolor": "#d6e4f0"}, medianprops={"color": "black"},
             meanprops={"marker": "D", "markerfacecolor": "black", "markeredgecolor": "black",
                        "markersize": 4})
    regime = _regime(results)
    for value, label, colour, style in SOLVENCY_THRESHOLDS[regime]:
        axes.axvline(value, color=colour, linestyle=style, linewidth=1.5, label=label)
    for position, probability, has_ratio in zip(positions, below, applicable):
        text = f"P(<100%) {probability:.2%}" if has_ratio else NO_RATIO_LABEL
        axes.annotate(text, xy=(1.0, position), xycoords=("axes fraction", "data"),
                      xytext=(6, 0), textcoords="offset points", va="center", fontsize=8)
    low, high = _whisker_range(stats, 90.0, 130.0)
    if high / max(low, 1.0) > 15.0:
        axes.set_xscale("log")     # one very strong member must not squash the others
    else:
        margin = 0.05 * (high - low)
        axes.set_xlim(low - margin, high + margin)
    _percent_axis(axes.xaxis)
    axes.set_yticks(positions, [label for label, _ in rows])
    if results.years == 1:
        axes.set_xlabel(SOLVENCY_AXIS_LABELS[regime])
        axes.set_title(_title(results, f"Solvency ratio by member, {REGIME_NAMES[regime]} minimum capital"))
    else:
        axes.set_xlabel(f"{SOLVENCY_AXIS_LABELS[regime]}{HORIZON_LOWEST}")
        axes.set_title(_title(results, f"Lowest solvency ratio over the horizon by member, "
                                       f"{REGIME_NAMES[regime]} minimum capital"))
    axes.grid(axis="x", alpha=0.3)
    handles, _ = axes.get_legend_handles_labels()
    # Below the axes: the right margin holds each row's probability of falling below 100%.
    figure.legend(handles=handles + _box_legend_handles(), loc="outside lower center", ncols=3,
                  fontsize=8, frameon=False)
    return figure


# --------------------------------------------------------------------------- loss ratios
def loss_ratios(results: "Results", parties: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-trial gross and net loss ratios in %, each ``(n_trials, n_parties)``, or
    ``(n_trials, len(parties))`` of the party columns ``parties`` only.

    Gross: gross loss / gross premium. Net: net loss / net premium (gross − ceded −
    reinstatement premium); NaN where the premium is not positive. Worked in
    place, on the columns asked for only, each premium column read and dropped in
    turn: at 10,000,000 trials every whole-matrix temporary is another 0.7 GB.
    """
    columns = slice(None) if parties is None else np.asarray(parties, dtype=np.intp)

    def ratio(loss: np.ndarray, premium: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.divide(loss, premium)
        out[~(premium > 0)] = np.nan
        out *= 100.0
        return out

    def taken(name: str) -> np.ndarray:
        return np.array(results.party_matrix(name)[:, columns], dtype=np.float64)     # a writeable copy

    premium = taken("gross_premium")
    gross = ratio(results.party_matrix("gross_loss")[:, columns], premium)
    # The net premium as sim.metrics.net_premium works it out, (gross − ceded) − reinstatement, in place.
    premium -= taken("ceded_premium")
    premium -= taken("reinstatement_premium")
    return gross, ratio(results.party_matrix("net_loss")[:, columns], premium)


def plot_loss_ratio(results: "Results") -> Figure:
    """Gross vs net loss ratio distribution of the pool and each member."""
    names = results.party_names
    rows = [("Pool", names.index(results.names_of("pool")[0]))]
    rows += [(name, names.index(name)) for name in results.names_of("member")]
    gross, net = loss_ratios(results, [column for _, column in rows])
    rows = [(label, place) for place, (label, _) in enumerate(rows)]      # columns of gross and net
    figure = _new_figure(10.0, 1.8 + 0.6 * len(rows))
    axes = figure.add_subplot()
    centres = np.arange(len(rows))[::-1].astype(float)
    for offset, values, colour in ((0.18, gross, GROSS_COLOUR), (-0.18, net, NET_COLOUR)):
        stats = [box_statistics(values[:, column], label) for label, column in rows]
        _horizontal_boxes(axes, stats, positions=centres + offset, showmeans=True, widths=0.3,
                 patch_artist=True, boxprops={"facecolor": colour, "alpha": 0.55},
                 medianprops={"color": "black"},
                 meanprops={"marker": "D", "markerfacecolor": "black", "markeredgecolor": "black",
                            "markersize": 3})
    axes.axvline(100.0, color="grey", linestyle=":", linewidth=1.2, label="100% (losses = premium)")
    axes.set_yticks(centres, [label for label, _ in rows])
    _percent_axis(axes.xaxis)
    axes.set_xlabel("Loss ratio of the year (% of premium; net: of premium after reinsurance)")
    axes.set_title(_title(results, "Loss ratio before (gross) and after (net) reinsurance"))
    axes.grid(axis="x", alpha=0.3)
    handles = [Patch(facecolor=GROSS_COLOUR, alpha=0.55, label="gross loss / gross premium"),
               Patch(facecolor=NET_COLOUR, alpha=0.55, label="net loss / net premium")]
    handles += axes.get_legend_handles_labels()[0] + _box_legend_handles()[1:]
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    axes.text(1.01, 0.0, "box 25-75%,\nwhiskers 1-99%", transform=axes.transAxes, fontsize=8, va="bottom")
    return figure


# --------------------------------------------------------------------------- EP curve
def plot_ep_curve(results: "Results", party: str | None = None) -> Figure:
    """AEP and OEP of the pool (or ``party``), gross vs net, on a log return-period axis."""
    party = party or results.names_of("pool")[0]
    table = results.ep[results.ep["party"] == party]
    divisor, suffix = money_scale(table["loss"].max())
    figure = _new_figure(9.0, 5.5)
    axes = figure.add_subplot()
    styles = {("gross", "AEP"): (GROSS_COLOUR, "-", "o"), ("net", "AEP"): (NET_COLOUR, "-", "o"),
              ("gross", "OEP"): (GROSS_COLOUR, "--", "s"), ("net", "OEP"): (NET_COLOUR, "--", "s")}
    names = {"AEP": "AEP (yearly aggregate)", "OEP": "OEP (largest occurrence)"}
    for (basis, metric), (colour, style, marker) in styles.items():
        curve = table[(table["basis"] == basis) & (table["metric"] == metric)].sort_values("return_period")
        if curve.empty:
            continue
        axes.plot(curve["return_period"], curve["loss"] / divisor, color=colour, linestyle=style,
                  marker=marker, markersize=4, label=f"{basis} {names[metric]}")
    _return_period_axis(axes)
    axes.set_ylabel(f"Loss ({money_label(results.currency, suffix)})")
    label = "pool" if party == results.names_of("pool")[0] else party
    what = f"Exceedance-probability curves of the {label}, gross vs net"
    if results.years > 1:
        # ep.csv of a multi-year run pools every year of every path (sim.results.build_multi_year_results)
        what += f", every year of the {results.years} pooled"
    axes.set_title(_title(results, what))
    axes.grid(which="both", alpha=0.3)
    axes.legend(fontsize=9)
    return figure


# --------------------------------------------------------------------------- who pays
def trials_near_return_period(loss: np.ndarray, return_period: float,
                              window: float = WHO_PAYS_WINDOW, order: np.ndarray | None = None) -> np.ndarray:
    """Indices of trials whose loss ranks near the ``return_period`` level.

    The trials whose empirical exceedance probability lies within
    ``1/T · (1 ± window)``; at least the trial at the quantile itself.

    Parameters
    ----------
    loss : (n_trials,)
    order : (n_trials,), optional: ``np.argsort(loss, kind="stable")``, when the caller has it
    """
    n_trials = len(loss)
    if order is None:
        order = np.argsort(loss, kind="stable")
    low = int(np.floor(n_trials * (1.0 - (1.0 + window) / return_period)))
    high = int(np.ceil(n_trials * (1.0 - (1.0 - window) / return_period))) - 1
    low = min(max(low, 0), n_trials - 1)
    high = min(max(high, low), n_trials - 1)
    return order[low:high + 1]


def who_pays(results: "Results", return_periods: Sequence[float] = WHO_PAYS_RETURN_PERIODS):
    """Average split of the pool's gross loss near each return level.

    Returns
    -------
    labels : list of component names (members' retained losses, defaults, reinsurers' payments)
    amounts : (n_return_periods, n_components); each row sums to the mean pool gross loss
    gross : (n_return_periods,) mean pool gross loss of the selected trials
    """
    names = results.party_names
    pool = names.index(results.names_of("pool")[0])
    members = [names.index(name) for name in results.names_of("member")]
    reinsurers = [names.index(name) for name in results.names_of("reinsurer")]
    gross_loss = results.party_matrix("gross_loss")
    ceded = results.party_matrix("ceded_loss")
    default = results.party_matrix("default_loss")
    paid = results.party_matrix("net_loss")
    labels = ([f"{names[m]} (retained)" for m in members] + ["reinsurer defaults (borne by members)"]
              + [f"{names[r]} (paid)" for r in reinsurers])
    pool_gross = gross_loss[:, pool]
    order = np.argsort(pool_gross, kind="stable")     # sorted once for every return period
    amounts, gross = [], []
    for period in return_periods:
        selected = trials_near_return_period(pool_gross, period, order=order)
        # Only the selected trials' rows: the components of every trial would be another
        # (n_trials, n_components) array (0.7 GB at 10,000,000 trials), and its temporaries more.
        gross_rows, ceded_rows = gross_loss[selected][:, members], ceded[selected][:, members]
        # member net = gross − ceded + default: split it into what it kept and what defaults cost it.
        components = np.column_stack(
            [gross_rows - ceded_rows, default[selected][:, members].sum(axis=1, keepdims=True),
             paid[selected][:, reinsurers]])
        amounts.append(components.mean(axis=0))
        gross.append(gross_loss[selected, pool].mean())
    return labels, np.array(amounts), np.array(gross)


def premium_payers(results: "Results") -> tuple[float, float] | None:
    """The pool's premium paid by the insureds and by the government (a year; multi-year: the
    yearly mean over the horizon), or None without a subsidy."""
    summary = results.summary
    if "premium_paid_by_government" not in summary.columns:
        return None
    pool = summary[summary["kind"] == "pool"]
    if "year" in pool.columns:
        pool = pool[pool["year"].isna()]
    if pool.empty or not pool["premium_paid_by_government"].iloc[0] > 0:
        return None
    return float(pool["premium_paid_by_insureds"].iloc[0]), float(pool["premium_paid_by_government"].iloc[0])


def plot_who_pays(results: "Results", return_periods: Sequence[float] = WHO_PAYS_RETURN_PERIODS) -> Figure:
    """Stacked bars: who pays the pool's 1-in-T gross loss (members, defaults, each reinsurer)."""
    labels, amounts, gross = who_pays(results, return_periods)
    n_members = len(results.names_of("member"))
    n_reinsurers = len(labels) - n_members - 1
    colours = ([matplotlib.colormaps["Blues"](x) for x in _alternating(np.linspace(0.35, 0.9, max(n_members, 1)))]
               [:n_members]
               + ["#c0392b"]
               + [matplotlib.colormaps["Greens"](x) for x in np.linspace(0.35, 0.9, max(n_reinsurers, 1))]
               [:n_reinsurers])
    divisor, suffix = money_scale(np.max(gross) if len(gross) else 0.0)
    figure = _new_figure(10.0, 6.0)
    axes = figure.add_subplot()
    x = np.arange(len(return_periods))
    bottom = np.zeros(len(return_periods))
    for column, (label, colour) in enumerate(zip(labels, colours)):
        heights = amounts[:, column] / divisor
        axes.bar(x, heights, bottom=bottom, color=colour, edgecolor="white", linewidth=0.5, width=0.6,
                 label=label, hatch="//" if label.startswith("reinsurer defaults") else None)
        bottom += heights
    unit = money_label(results.currency, suffix)
    axes.set_xticks(x, [f"1-in-{period:g} year\npool gross {results.currency} {value / divisor:,.3g}{suffix}"
                        for period, value in zip(return_periods, gross)])
    axes.set_ylabel(f"Share of the pool's gross loss paid ({unit})")
    axes.set_title(_title(results, "Who pays the pool's large gross losses\n"
                                   "(mean of the trials near each return level)"))
    payers = premium_payers(results)
    if payers is not None:
        insureds, government = payers
        total = insureds + government
        currency = results.currency
        axes.text(0.0, -0.2, f"Who pays the pool's premium a year: the insureds {currency} "
                             f"{insureds / divisor:,.3g}{suffix} ({insureds / total:.0%}), the government's subsidy "
                             f"{currency} {government / divisor:,.3g}{suffix} ({government / total:.0%})",
                  transform=axes.transAxes, fontsize=9, va="top")
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
                ncols=1 if len(labels) <= 24 else 2)
    return figure
