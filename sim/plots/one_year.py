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
from .horizon import party_horizon_solvency_ratio
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
    ratio, or in a multi-year run each path's lowest (:func:`party_horizon_solvency_ratio`)."""
    rows = [(name, name) for name in results.names_of("member")]
    rows.append(("Pool (members together)", results.names_of("pool")[0]))
    stats, below, applicable = [], [], []
    for label, party in rows:        # a party's column at a time: 80 MB at 10,000,000 trials
        ratio = party_horizon_solvency_ratio(results, party) * 100.0
        stats.append(box_statistics(ratio, label))
        below.append(np.mean(ratio < 100.0))
        # A member whose minimum capital is 0 in every trial has no ratio: it holds no risk (share 0,
        # or run off after leaving the pool), or it does but its lines have no premium, on which the
        # C-ROSS premium risk charge is set. "No risk held" would be wrong in the second case.
        applicable.append(bool(np.isfinite(ratio).any()))

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
    ``(n_trials, len(parties))`` of the party columns ``parties`` only
    (:func:`party_loss_ratios` side by side)."""
    names = results.party_names
    columns = range(len(names)) if parties is None else [int(party) for party in parties]
    pairs = [party_loss_ratios(results, names[party]) for party in columns]
    if not pairs:
        return np.empty((results.n_trials, 0)), np.empty((results.n_trials, 0))
    return np.column_stack([gross for gross, _ in pairs]), np.column_stack([net for _, net in pairs])


def party_loss_ratios(results: "Results", party: str) -> tuple[np.ndarray, np.ndarray]:
    """One party's per-trial gross and net loss ratios in %, ``(n_trials,)`` each.

    Gross: gross loss / gross premium. Net: net loss / net premium (gross − ceded −
    reinstatement premium); NaN where the premium is not positive. Worked in place,
    a column read at a time.
    """
    def ratio(loss: np.ndarray, premium: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(loss, premium, out=loss)
        loss[~(premium > 0)] = np.nan
        loss *= 100.0
        return loss

    premium = results.party_column("gross_premium", party)
    gross = ratio(results.party_column("gross_loss", party), premium)
    # The net premium as sim.metrics.net_premium works it out, (gross − ceded) − reinstatement.
    premium -= results.party_column("ceded_premium", party)
    premium -= results.party_column("reinstatement_premium", party)
    return gross, ratio(results.party_column("net_loss", party), premium)


def plot_loss_ratio(results: "Results") -> Figure:
    """Gross vs net loss ratio distribution of the pool and each member."""
    rows = [("Pool", results.names_of("pool")[0])] + [(name, name) for name in results.names_of("member")]
    stats = {"gross": [], "net": []}
    for label, party in rows:        # a party's ratios at a time: 80 MB each at 10,000,000 trials
        gross, net = party_loss_ratios(results, party)
        stats["gross"].append(box_statistics(gross, label))
        stats["net"].append(box_statistics(net, label))
        del gross, net
    figure = _new_figure(10.0, 1.8 + 0.6 * len(rows))
    axes = figure.add_subplot()
    centres = np.arange(len(rows))[::-1].astype(float)
    for offset, basis, colour in ((0.18, "gross", GROSS_COLOUR), (-0.18, "net", NET_COLOUR)):
        _horizontal_boxes(axes, stats[basis], positions=centres + offset, showmeans=True, widths=0.3,
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
    members, reinsurers = results.names_of("member"), results.names_of("reinsurer")
    labels = ([f"{name} (retained)" for name in members] + ["reinsurer defaults (borne by members)"]
              + [f"{name} (paid)" for name in reinsurers])
    pool_gross = results.party_column("gross_loss", results.names_of("pool")[0])
    order = np.argsort(pool_gross, kind="stable")     # sorted once for every return period
    selections = [trials_near_return_period(pool_gross, period, order=order) for period in return_periods]

    def selected(column: str, parties: Sequence[str]) -> list[np.ndarray]:
        """``column`` of ``parties`` at each return period's selected trials, ``(n_selected, n_parties)``
        each: one party's column read at a time, only the selected trials' values kept (the
        components of every trial would be 0.7 GB at 10,000,000 trials)."""
        by_party = []
        for party in parties:
            values = results.party_column(column, party)
            by_party.append([values[rows] for rows in selections])
        return [np.column_stack([taken[at] for taken in by_party]) if by_party else np.empty((len(rows), 0))
                for at, rows in enumerate(selections)]

    gross_rows, ceded_rows = selected("gross_loss", members), selected("ceded_loss", members)
    default_rows, paid_rows = selected("default_loss", members), selected("net_loss", reinsurers)
    amounts, gross = [], []
    for at, rows in enumerate(selections):
        # member net = gross − ceded + default: split it into what it kept and what defaults cost it.
        components = np.column_stack([gross_rows[at] - ceded_rows[at],
                                      default_rows[at].sum(axis=1, keepdims=True), paid_rows[at]])
        amounts.append(components.mean(axis=0))
        gross.append(pool_gross[rows].mean())
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
