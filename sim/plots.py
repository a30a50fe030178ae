"""Plots of a results folder, drawn from the saved tables (matplotlib, no screen needed).

Figures are built with :class:`matplotlib.figure.Figure` directly, never
through ``pyplot``: no global state, no GUI backend, safe in threads, and a
notebook's own backend is left alone. Every plot takes a
:class:`sim.results.Results` (or several, for comparisons) and returns the Figure.

Files written into ``plots/`` by :func:`write_plots`:

* ``solvency.png``   each member's year-end solvency ratio distribution
* ``loss_ratio.png`` gross vs net loss ratio distributions, members and pool
* ``ep_curve.png``   the pool's AEP / OEP, gross vs net
* ``who_pays.png``   who pays the pool's 1-in-10, 1-in-100 and 1-in-250 gross losses

Multi-year runs (``years > 1``) also get, over the years:

* ``solvency_fan.png`` each member's year-end solvency ratio while it is in the pool:
  median, 50% and 90% bands of the paths in which it writes business that year
* ``capital_fan.png``  each member's year-end capital: median, 50% and 90% bands
* ``exits.png``        the share of paths in which each member has left (and the pool has ended)

and the other plots above show the last year, except ``solvency.png``: each
path's lowest year-end ratio while in the pool, so that its P(<100%) is the
horizon's ``prob_solvency_below_100``. Ratios of the run-off after a member has
left (:func:`sim.solvency.going_concern_ratio`) are in no plot.
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
    from .results import Results

PLOT_FILES = ("solvency.png", "loss_ratio.png", "ep_curve.png", "who_pays.png")
WHO_PAYS_RETURN_PERIODS = (10, 100, 250)
# Trials "near" a return level: exceedance probability within ±10% of 1/T.
WHO_PAYS_WINDOW = 0.10
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


def money_scale(largest: float) -> tuple[float, str]:
    """Divisor and suffix that keep money axes readable: (1e9, "bn"), (1e6, "m"), ..."""
    largest = abs(float(largest)) if np.isfinite(largest) else 0.0
    for divisor, suffix in ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if largest >= divisor:
            return divisor, suffix
    return 1.0, ""


def money_label(currency: str, suffix: str) -> str:
    return f"{currency} {suffix}".strip()


def format_money(value: float, currency: str) -> str:
    divisor, suffix = money_scale(value)
    return f"{currency} {value / divisor:,.3g}{suffix}"


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


def horizon_solvency_ratio(results: "Results") -> np.ndarray:
    """``(n_trials, n_parties)``: the solvency ratio a run is judged on. A one-year run's
    year-end ratio; a multi-year run's lowest year-end ratio of each path over the years
    each party writes business.

    The last year alone would show a member that has left only by its run-off,
    or nothing once that is paid; the lowest ratio is what a regulator watches,
    and its P(<100%) is the horizon's ``prob_solvency_below_100``.
    """
    if results.years == 1:
        return results.party_matrix("solvency_ratio")
    from .solvency import lowest_ratio
    return np.stack([lowest_ratio(going_concern_year_matrix(results, name)) for name in results.party_names],
                    axis=1)


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
def loss_ratios(results: "Results") -> tuple[np.ndarray, np.ndarray]:
    """Per-trial gross and net loss ratios in %, each ``(n_trials, n_parties)``.

    Gross: gross loss / gross premium. Net: net loss / net premium (gross − ceded −
    reinstatement premium); NaN where the premium is not positive. Worked in
    place: at a million trials every whole-matrix temporary is another 72 MB.
    """
    from .metrics import net_premium

    def ratio(loss: np.ndarray, premium: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.divide(loss, premium)
        out[~(premium > 0)] = np.nan
        out *= 100.0
        return out

    gross_premium = results.party_matrix("gross_premium")
    gross = ratio(results.party_matrix("gross_loss"), gross_premium)
    premium_net = net_premium(gross_premium, results.party_matrix("ceded_premium"),
                              results.party_matrix("reinstatement_premium"))
    return gross, ratio(results.party_matrix("net_loss"), premium_net)


def plot_loss_ratio(results: "Results") -> Figure:
    """Gross vs net loss ratio distribution of the pool and each member."""
    gross, net = loss_ratios(results)
    names = results.party_names
    rows = [("Pool", names.index(results.names_of("pool")[0]))]
    rows += [(name, names.index(name)) for name in results.names_of("member")]
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
                              window: float = WHO_PAYS_WINDOW) -> np.ndarray:
    """Indices of trials whose loss ranks near the ``return_period`` level.

    The trials whose empirical exceedance probability lies within
    ``1/T · (1 ± window)``; at least the trial at the quantile itself.

    Parameters
    ----------
    loss : (n_trials,)
    """
    n_trials = len(loss)
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
    # member net = gross − ceded + default: split it into what it kept and what defaults cost it.
    components = np.column_stack(
        [gross_loss[:, members] - ceded[:, members], default[:, members].sum(axis=1, keepdims=True),
         paid[:, reinsurers]])
    labels = ([f"{names[m]} (retained)" for m in members] + ["reinsurer defaults (borne by members)"]
              + [f"{names[r]} (paid)" for r in reinsurers])
    amounts, gross = [], []
    for period in return_periods:
        selected = trials_near_return_period(gross_loss[:, pool], period)
        amounts.append(components[selected].mean(axis=0))
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


# --------------------------------------------------------------------------- comparisons
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


# --------------------------------------------------------------------------- multi-year
FAN_BANDS = ((5.0, 95.0, 0.18, "90% band"), (25.0, 75.0, 0.38, "50% band"))


def year_matrix(results: "Results", column: str, party: str) -> np.ndarray:
    """``column`` of one party as ``(n_trials, n_years)``; inf counts as missing."""
    values = results.party_by_year(column, party)
    return np.where(np.isfinite(values), values, np.nan)


def going_concern_year_matrix(results: "Results", party: str) -> np.ndarray:
    """One party's year-end solvency ratio as ``(n_trials, n_years)``, NaN in the years it
    does not write business (its run-off after leaving the pool: not a going-concern ratio)."""
    from .solvency import going_concern_ratio
    return going_concern_ratio(year_matrix(results, "solvency_ratio", party),
                               results.party_by_year("active", party))


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


# --------------------------------------------------------------------------- files
DRAWERS = {
    "solvency.png": plot_solvency,
    "loss_ratio.png": plot_loss_ratio,
    "ep_curve.png": plot_ep_curve,
    "who_pays.png": plot_who_pays,
}


def write_plots(results: "Results", folder: str | os.PathLike) -> list[Path]:
    """Draw every plot of ``results`` into ``folder``; each file is replaced atomically."""
    with legible_text():        # one note for all the plots, if a name cannot be drawn
        return draw_plots(results, folder)


def draw_plots(results: "Results", folder: str | os.PathLike) -> list[Path]:
    """:func:`write_plots` for a caller that holds :func:`legible_text` itself.

    :meth:`sim.results.Results.write` does: it writes trials.parquet on another thread
    meanwhile, and warning capture is process-wide, so it must span that thread's life.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    drawers = dict(DRAWERS)
    if results.years > 1:
        drawers.update(MULTI_YEAR_DRAWERS)
    if getattr(results, "pricing", None) is not None:      # [pricing] runs (sim.plots_pricing)
        from .plots_pricing import PRICING_PLOT, plot_pricing
        drawers[PRICING_PLOT] = plot_pricing
    return [save_atomically(draw(results), folder / name) for name, draw in drawers.items()]


def save_atomically(figure: Figure, path: Path) -> Path:
    """Save ``figure`` as PNG at ``path`` through a temporary file; call it within :func:`legible_text`."""
    partial = path.with_name(f".{path.name}.tmp")
    try:
        figure.savefig(partial, dpi=DPI, format="png")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def plot_results(folder: str | os.PathLike) -> list[Path]:
    """Redraw every plot of a results folder from its saved tables into ``folder/plots``."""
    from .results import PLOTS_FOLDER, Results
    results = Results.read(folder)
    return write_plots(results, Path(folder) / PLOTS_FOLDER)


def _wrapped_labels(labels) -> str:
    """Scenario names joined with "vs" when they fit on one title line; else how many there are
    (the legend names each: four names wrapped to four lines crowded the plot)."""
    joined = " vs ".join(labels)
    return joined if len(joined) <= 90 else f"{len(labels)} structures (see the legend)"
