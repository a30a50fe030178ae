"""The structure of a scenario as a picture: who holds which share and which layer.

:func:`plot_structure` draws, from a :class:`sim.model.Scenario`:

* the members' shares of the pool, as one bar of 100%;
* the pool's programme, in inuring order, each kind of treaty on its own
  scale: a quota share or surplus as the share of each risk ceded, an excess
  of loss as layers stacked by retention and limit (money per risk or per
  occurrence), a stop loss as layers of the loss ratio; each layer split
  across its panel, each reinsurer's share written in it;
* each member's own programme, on its share, in the same way.

Like :mod:`sim.plots`, it builds a :class:`matplotlib.figure.Figure` directly
(no pyplot). The report (:mod:`sim.report`) embeds it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter

from .model import Scenario, Treaty
from .money import money_scale

# The scale each treaty type is drawn on, and its words.
SCALES = {  # type: (scale, the tower's title, its axis)
    "quota_share": ("share", "Proportional", "share of each risk ceded"),
    "surplus": ("share", "Proportional", "share of each risk ceded"),
    "per_risk_xl": ("per_risk", "Per-risk excess of loss", "{unit} per risk"),
    "cat_xl": ("occurrence", "Catastrophe excess of loss", "{unit} per occurrence"),
    "stop_loss": ("loss_ratio", "Stop loss", "loss ratio of the year"),
}
TYPE_NAMES = {"quota_share": "Quota share", "surplus": "Surplus", "per_risk_xl": "Per-risk XL",
              "cat_xl": "Cat XL", "stop_loss": "Stop loss"}
RETAINED_COLOUR = "#e8e8e8"
# Above the highest layer, the tower shows this much more of the axis, unshaded: the cedant's again.
HEADROOM = 0.12


@dataclass(frozen=True)
class Layer:
    """One treaty drawn as a rectangle on its scale: from ``bottom`` to ``top`` (scale units)."""

    treaty: Treaty
    number: int           # 1-based position in the cedant's programme (inuring order)
    bottom: float
    top: float
    label: str


def reinsurer_colours(scenario: Scenario) -> dict[str, tuple]:
    """One colour per reinsurer, the same in every tower."""
    names = [reinsurer.name for reinsurer in scenario.reinsurers]
    for treaty in _all_treaties(scenario):
        names += [name for name, _ in treaty.panel if name not in names]
    palette = matplotlib.colormaps["tab20"]
    return {name: palette((2 * index) % 20 + (index // 10) % 2) for index, name in enumerate(dict.fromkeys(names))}


def _all_treaties(scenario: Scenario) -> list[Treaty]:
    return list(scenario.pool.reinsurance) + [t for member in scenario.pool.members for t in member.reinsurance]


def short_money(value: float, currency: str = "") -> str:
    """``200m``, ``1.5bn``: money as a layer label writes it."""
    if not math.isfinite(value):
        return "unlimited"
    divisor, suffix = money_scale(value)
    return f"{currency} {value / divisor:,.4g}{suffix}".strip()


def treaty_label(treaty: Treaty, currency: str) -> str:
    """What a treaty is, in a line: ``Cat XL CNY 200m xs CNY 50m, 1 reinst., RoL 12%``."""
    name = TYPE_NAMES.get(treaty.type, treaty.type)
    lines = f" on {', '.join(treaty.lines)}" if treaty.lines else ""
    if treaty.type == "quota_share":
        return f"{name} {treaty.cession:.0%} ceded, commission {treaty.commission:.0%}{lines}"
    if treaty.type == "surplus":
        return (f"{name} {treaty.surplus_lines:g} lines of {short_money(treaty.retention, currency)} "
                f"(up to {treaty.surplus_lines / (treaty.surplus_lines + 1.0):.0%} of a risk), "
                f"commission {treaty.commission:.0%}{lines}")
    if treaty.type in ("per_risk_xl", "cat_xl"):
        text = f"{name} {short_money(treaty.limit, currency)} xs {short_money(treaty.retention, currency)}"
        if treaty.reinstatements:
            text += f", {treaty.reinstatements} reinst."
        if treaty.premium is not None:
            text += f", premium {short_money(treaty.premium, currency)}"
        elif treaty.rate_on_line:
            text += f", RoL {treaty.rate_on_line:.1%}"
        return text + lines
    if treaty.type == "stop_loss":
        return (f"{name} {treaty.limit:.0%} xs {treaty.attachment:.0%} loss ratio, "
                f"rate {treaty.rate:.1%}{lines}")
    return name + lines


def programme_layers(programme, currency: str) -> dict[str, list[Layer]]:
    """The treaties of one programme grouped by the scale they are drawn on.

    A proportional treaty's rectangle is the share ceded (a surplus: up to its
    capacity's share of a risk at its retention's multiple, shown as the lines'
    share of the line capacity, ``lines / (lines + 1)``).
    """
    scales: dict[str, list[Layer]] = {}
    for number, treaty in enumerate(programme, start=1):
        scale = SCALES.get(treaty.type, ("other", ""))[0]
        if treaty.type == "quota_share":
            bottom, top = 0.0, treaty.cession
        elif treaty.type == "surplus":
            bottom, top = 0.0, treaty.surplus_lines / (treaty.surplus_lines + 1.0)   # of a risk at capacity
        elif treaty.type in ("per_risk_xl", "cat_xl"):
            bottom, top = treaty.retention, treaty.retention + treaty.limit
        elif treaty.type == "stop_loss":
            bottom, top = treaty.attachment, treaty.attachment + treaty.limit
        else:
            continue
        scales.setdefault(scale, []).append(Layer(treaty, number, bottom, top, treaty_label(treaty, currency)))
    return scales


def plot_structure(scenario: Scenario) -> Figure:
    """The members' shares, the pool's programme and each member's own programme.

    Returns the Figure: one band (a sub-figure) for the shares, one for the pool's
    towers, then one per member with a programme of its own.
    """
    currency = scenario.currency
    colours = reinsurer_colours(scenario)
    cedants = [(f"{scenario.pool.name}: the pool's programme, on 100%", scenario.pool.reinsurance)]
    cedants += [(f"{member.name}'s own programme, on its {member.share:.1%} share", member.reinsurance)
                for member in scenario.pool.members if member.reinsurance]
    grouped = [(title, programme_layers(programme, currency)) for title, programme in cedants]
    n_columns = max([len(scales) for _, scales in grouped] + [1])
    legend_rows = math.ceil(len(scenario.pool.members) / 5)
    shares_height = 1.3 + 0.2 * legend_rows
    tower_height = 3.6
    figure = Figure(figsize=(max(10.0, 4.2 * n_columns), 0.5 + shares_height + tower_height * len(grouped)),
                    layout="constrained")
    bands = figure.subfigures(1 + len(grouped), 1, height_ratios=[shares_height] + [tower_height] * len(grouped))
    _draw_shares(bands[0].add_subplot(), scenario)
    bands[0].suptitle("Members' shares of the pool's business", x=0.01, ha="left", fontsize=11,
                      fontweight="bold")
    for band, (title, scales) in zip(bands[1:], grouped):
        band.suptitle(title, x=0.01, ha="left", fontsize=11, fontweight="bold")
        if not scales:
            axes = band.add_subplot()
            axes.set_axis_off()
            axes.text(0.5, 0.5, "no reinsurance: the members keep everything", ha="center", va="center")
            continue
        all_axes = band.subplots(1, n_columns, squeeze=False)[0]
        for axes, (scale, layers) in zip(all_axes, scales.items()):
            _draw_tower(axes, scale, layers, colours, currency)
        for axes in all_axes[len(scales):]:
            axes.set_axis_off()
    figure.suptitle(f"{scenario.name}: who holds what", fontsize=13)
    return figure


def _draw_shares(axes, scenario: Scenario) -> None:
    """One bar of 100%: each member's share, its name in the legend below (a 2% share has no
    room for a name in the bar)."""
    members = scenario.pool.members
    palette = matplotlib.colormaps["Blues"]
    left = 0.0
    for index, member in enumerate(members):
        dark = index % 2 == 1
        colour = palette(0.8 if dark else 0.35 + 0.15 * ((index // 2) % 2))
        label = f"{member.name} {member.share:.1%}" + (" (lead)" if member.role == "lead" else "")
        axes.barh(0, member.share, left=left, color=colour, edgecolor="white", height=0.8, label=label)
        if member.share >= 0.04:
            axes.text(left + member.share / 2, 0, f"{member.share:.0%}" if member.share >= 0.1 else
                      f"{member.share:.1%}", ha="center", va="center", fontsize=8,
                      color="white" if dark else "black")
        left += member.share
    axes.set_xlim(0, max(left, 1.0))
    axes.set_ylim(-0.5, 0.5)
    axes.set_yticks([])
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0%}"))
    axes.legend(loc="upper left", bbox_to_anchor=(0.0, -0.25), ncols=min(len(members), 5), fontsize=8,
                frameon=False, handlelength=1.2)


def _draw_tower(axes, scale: str, layers: list[Layer], colours: dict, currency: str) -> None:
    """Layers on one scale as rectangles, each split by its panel; the rest retained (grey)."""
    highest = max(layer.top for layer in layers if math.isfinite(layer.top)) if any(
        math.isfinite(layer.top) for layer in layers) else max(layer.bottom for layer in layers) * 2 or 1.0
    if scale == "share":
        ceiling, divisor, unit = 1.0, 1.0, ""
    else:
        ceiling = highest * (1.0 + HEADROOM)
        divisor, suffix = (1.0, "") if scale == "loss_ratio" else money_scale(highest)
        unit = f"{currency} {suffix}".strip()
    # Proportional treaties side by side (each cedes its share of each risk); layers of the
    # other scales share the tower's full width, stacked by their attachment.
    side_by_side = scale == "share"
    width = 1.0 / len(layers) if side_by_side else 1.0
    axes.add_patch(Rectangle((0, 0), 1.0, ceiling / divisor, facecolor=RETAINED_COLOUR, edgecolor="none"))
    for position, layer in enumerate(layers):
        x = position * width if side_by_side else 0.0
        top = min(layer.top, ceiling)
        left = x
        for reinsurer, share in layer.treaty.panel:
            axes.add_patch(Rectangle((left, layer.bottom / divisor), width * share, (top - layer.bottom) / divisor,
                                     facecolor=colours.get(reinsurer, "#999999"), edgecolor="white", linewidth=1))
            if share * width >= 0.12:
                axes.text(left + width * share / 2, (layer.bottom + top) / 2 / divisor, f"{reinsurer}\n{share:.0%}",
                          ha="center", va="center", fontsize=8)
            left += width * share
        axes.text(x + 0.01, top / divisor, f"{layer.number}. {layer.label}", ha="left", va="bottom", fontsize=8,
                  wrap=True)
    axes.set_xlim(0, 1)
    axes.set_xticks([])
    axes.set_ylim(0, ceiling / divisor)
    if scale == "share":
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0%}"))
    elif scale == "loss_ratio":
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0%}"))
    else:
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.4g}"))
    _, title, axis = SCALES[layers[0].treaty.type]
    axes.set_title(title, fontsize=10)
    axes.set_ylabel(axis.format(unit=unit), fontsize=9)
    axes.text(0.99, 0.005, "grey: kept by the cedant", transform=axes.transAxes, ha="right", va="bottom",
              fontsize=7, color="#555555")
