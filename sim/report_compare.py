"""``report.html`` of a comparison folder: the compared structures side by side on one page.

The page is the template ``comparison.html``; the figures that changed from the
first structure are marked better or worse.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from . import plots
from .metrics import horizon_rows
from .report_format import MISSING, POOL_LABEL, Column, MoneyUnit, format_percent, format_probability, with_se
from .report_page import (REPORT_FILE, Image, figure_image, largest_money, png_uri, render, saved_scenario,
                          structure_image, write_html, written_at)
from .text_tables import AT_RISK_PROBABILITY

if TYPE_CHECKING:
    from .model import Scenario
    from .results import Results

def write_comparison_report(runs: Sequence["Results"], labels: Sequence[str], folder: str | os.PathLike,
                            record: dict[str, Any], reuse_plots: bool = True) -> Path:
    """Write ``folder/report.html`` for the compared ``runs`` (their folders are ``folder/<stem>``);
    ``reuse_plots``: take the comparison's PNGs from ``folder`` when there, rather than draw them."""
    folder = Path(folder)
    with plots.legible_text():
        html = render("comparison.html", comparison_context(runs, labels, folder, record, reuse_plots))
    return write_html(html, folder / REPORT_FILE)


# What the comparison shows per party and structure: (column, label, kind, higher is better).
COMPARED = (
    ("prob_solvency_below_100", "P(ratio < 100%)", "probability", False),
    ("solvency_ratio_p01", "Solvency ratio, worst 1%", "percent", True),
    ("mean_solvency_ratio", "Mean solvency ratio", "percent", True),
    ("reinsurance_cost", "Expected cost of reinsurance", "money", False),
    ("expected_net_result", "Expected net result", "money", True),
    ("var_995_net_loss", "Net loss 1 in 200 (VaR 99.5%)", "money", False),
)


def reinsurance_cost(summary: pd.DataFrame) -> pd.Series:
    """What reinsurance costs each party on average: premium ceded (with reinstatements) less
    commission received and recoveries collected (recoveries net of defaults)."""
    ceded = summary["gross_premium"] - summary["net_premium"]
    return ceded - summary.get("expected_commission", 0.0) - summary.get("expected_recovery", 0.0)


def comparison_context(runs: Sequence["Results"], labels: Sequence[str], folder: Path,
                       record: dict[str, Any], reuse_plots: bool = True) -> dict[str, Any]:
    """Everything ``comparison.html`` shows, formatted."""
    from .results import SCENARIO_FILE

    summaries = []
    for results in runs:
        summary = horizon_rows(results.summary).copy()
        summary["reinsurance_cost"] = reinsurance_cost(summary)
        summaries.append(summary[summary["kind"] != "reinsurer"].set_index("party"))
    unit = MoneyUnit.for_amount(runs[0].currency, max(largest_money(horizon_rows(r.summary)) for r in runs))
    parties = list(dict.fromkeys(party for summary in summaries for party in summary.index))
    blocks = []
    for column, label, kind, higher_is_better in COMPARED:
        if not all(column in summary.columns for summary in summaries):
            continue
        rows = []
        for party in parties:
            cells = []
            first = summaries[0].loc[party, column] if party in summaries[0].index else np.nan
            for index, summary in enumerate(summaries):
                value = float(summary.loc[party, column]) if party in summary.index else np.nan
                se_column = f"{column}_se"
                se = float(summary.loc[party, se_column]) if (party in summary.index
                                                              and se_column in summary.columns) else np.nan
                cells.append(compared_cell(value, se, float(first), index == 0, higher_is_better, kind, unit))
            shown = POOL_LABEL if summaries[0].get("kind", pd.Series(dtype=str)).get(party) == "pool" else party
            rows.append({"party": party, "shown": shown, "cells": cells})
        blocks.append({"key": column, "label": label + (f" ({unit.header})" if kind == "money" else ""),
                       "rows": rows})
    structures = []
    scenarios = []
    for results, label, entry in zip(runs, labels, record.get("scenarios", [{}] * len(runs))):
        stem = entry.get("folder", "")
        scenario, missing = saved_scenario(results.scenario_text, str(folder / stem / SCENARIO_FILE))
        scenarios.append(scenario)
        structures.append({"label": label, "file": entry.get("file", ""), "folder": stem,
                           "identical": entry.get("gross_losses_identical_to_first", None),
                           "image": structure_image(scenario), "missing": missing})

    def comparison_plot(name: str, draw, caption: str) -> Image:
        if reuse_plots and (folder / name).is_file():
            return Image(png_uri((folder / name).read_bytes()), caption)
        return figure_image(draw(runs, labels), caption)

    figures = [comparison_plot("compare_solvency.png", plots.plot_compare_solvency,
                               "Each member's solvency ratio in each structure"),
               comparison_plot("compare_net_ep.png", plots.plot_compare_net_ep,
                               "The pool's net exceedance-probability curves in each structure")]
    if any(results.pricing is not None for results in runs):
        figures.append(comparison_plot(plots.COMPARE_PRICING_PLOT, plots.plot_compare_pricing,
                                       "How fast each structure's rates learn the paths' true rates"))
    at_risk = []
    for label, summary in zip(labels, summaries):
        members = summary[summary["kind"] == "member"]
        below = members[members["prob_solvency_below_100"] > AT_RISK_PROBABILITY]["prob_solvency_below_100"]
        lowest = members["solvency_ratio_p01"].dropna()
        text = (", ".join(f"{party} ({format_probability(value)})" for party, value in below.items())
                if len(below) else "none")
        if len(lowest):
            text += (f"; the lowest worst 1%: {lowest.idxmin()} at {format_percent(lowest.min())}; "
                     f"the members' expected net result together: {unit.format(members['expected_net_result'].sum())} "
                     f"{unit.header}")
        at_risk.append({"label": label, "at_risk": bool(len(below)), "text": text})
    trials = record.get("trials", [])
    return {
        "title": "Comparison: " + " vs ".join(labels),
        "labels": list(labels),
        "first": labels[0],
        "blocks": blocks,
        "structures": structures,
        "terms": structure_terms(scenarios),
        "figures": figures,
        "at_risk": at_risk,
        "seed": record.get("seed"),
        "trials": ", ".join(f"{int(t):,}" for t in dict.fromkeys(trials)) if trials else "",
        "multi_year": any(results.years > 1 for results in runs),
        "written": written_at(),
    }


def structure_terms(scenarios: Sequence["Scenario | None"]) -> list[dict[str, Any]]:
    """The terms of each structure side by side: each member's share, the lead fee, each treaty of
    the pool's programme (by its place in the inuring order) and of each member's own; a term
    that differs from the first structure's is marked ``changed``. A structure whose scenario
    was not saved shows ``—``."""
    from .structure_figure import treaty_label

    def terms(scenario) -> dict[str, str]:
        if scenario is None:
            return {}
        found = {f"Share of {member.name}": f"{member.share:.1%}" + (" (lead)" if member.role == "lead" else "")
                 for member in scenario.pool.members}
        found["Lead fee"] = f"{scenario.pool.lead_fee:.1%}"
        programmes = [("Pool", scenario.pool.reinsurance)] + [
            (member.name, member.reinsurance) for member in scenario.pool.members]
        for cedant, programme in programmes:
            for number, treaty in enumerate(programme, start=1):
                panel = ", ".join(f"{name} {share:.0%}" for name, share in treaty.panel)
                found[f"{cedant}: treaty {number}"] = f"{treaty_label(treaty, scenario.currency)}; {panel}"
        return found

    columns = [terms(scenario) for scenario in scenarios]
    rows = []
    for key in dict.fromkeys(key for column in columns for key in column):
        texts = [column.get(key, MISSING) if column else MISSING for column in columns]
        rows.append({"label": key, "cells": [{"text": text, "class": "" if index == 0 or text == texts[0]
                                              else "changed"} for index, text in enumerate(texts)]})
    return rows


def compared_cell(value: float, se: float, first: float, is_first: bool, higher_is_better: bool,
                  kind: str, unit: MoneyUnit) -> dict[str, Any]:
    """One structure's figure, with its change from the first structure, marked better or worse.

    A change is marked only when it shows at the printed precision: the runs share their
    losses, so even a small change comes from the structure, not from sampling.
    """
    text = with_se(value, se, kind, unit)

    def formatter(number: float) -> str:
        return Column("", "", kind).format(number, unit)

    cell = {"text": text, "value": repr(value) if math.isfinite(value) else "", "change": "", "class": ""}
    if is_first or not (math.isfinite(value) and math.isfinite(first)):
        return cell
    difference = value - first
    shown = formatter(abs(difference))
    if difference == 0 or shown == formatter(0.0):
        cell["change"] = "same"
        return cell
    # a change of a ratio or a probability is in percentage points
    cell["change"] = ("+" if difference > 0 else "−") + (shown[:-1] + " pp" if shown.endswith("%") else shown)
    cell["class"] = "better" if (difference > 0) == higher_is_better else "worse"
    return cell
