"""``report.html``: one self-contained page that tells a run's or a comparison's story.

A results folder, and a comparison folder, get a ``report.html`` that opens
from an e-mail attachment: images inline (base64 PNG), styles inline, no
script and no network request, and print CSS for A4. ``poolsim report DIR``
writes it again from the folder's saved tables (:func:`write_report`).

How it is built:

* the figures are :mod:`sim.plots`' (the PNGs of ``plots/`` themselves when
  they were just drawn, else drawn again by the same functions) and
  :mod:`sim.structure_figure`'s picture of the structure, read from the
  folder's ``scenario.toml``;
* the page is a Jinja2 template of ``sim/templates/`` (``run.html``,
  ``comparison.html``, both extending ``base.html``), filled with a context
  that this module builds from the tables; every number is formatted here
  (:mod:`sim.report_format`), so the templates only place text.

An optimisation folder's report is :mod:`sim.report_optimize`'s, with the
template ``optimisation.html``.
"""
from __future__ import annotations

import base64
import datetime
import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from . import plots
from .errors import ScenarioError, UsageError
from .report_format import MISSING, POOL_LABEL, Column, MoneyUnit, format_percent, format_probability, format_se, table_rows

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .model import Scenario
    from .results import Results

REPORT_FILE = "report.html"
TREATIES_FILE = "treaties.csv"
# A member "at risk" in the verdict: below 100% in more of its years than this (the printed
# comparison lists members beyond the same share).
AT_RISK_PROBABILITY = 0.005
_ENVIRONMENT = None


# --------------------------------------------------------------------------- templates
def environment():
    """The Jinja2 environment of ``sim/templates`` (made once): HTML escaped, undefined names an error."""
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        import jinja2

        _ENVIRONMENT = jinja2.Environment(
            loader=jinja2.PackageLoader("sim", "templates"),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True, lstrip_blocks=True)
    return _ENVIRONMENT


def render(template: str, context: dict[str, Any]) -> str:
    """``template`` of ``sim/templates`` filled with ``context``."""
    return environment().get_template(template).render(**context)


def write_html(html: str, path: Path) -> Path:
    """Write ``html`` to ``path`` through a temporary file, so a reader never sees half a page."""
    partial = path.with_name(f".{path.name}.tmp")
    try:
        partial.write_text(html, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


# --------------------------------------------------------------------------- images
@dataclass(frozen=True)
class Image:
    """A figure of the page: its data URI and its caption (also its alt text)."""

    uri: str
    caption: str


def png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def figure_image(figure: "Figure", caption: str) -> Image:
    """``figure`` as an inline PNG, at the resolution of the PNGs of ``plots/``."""
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=plots.DPI, format="png")
    return Image(png_uri(buffer.getvalue()), caption)


def plot_image(results: "Results", name: str, caption: str, plots_folder: Path | None) -> Image:
    """The plot ``name`` (e.g. ``solvency.png``) of :mod:`sim.plots`: the file just drawn into
    ``plots_folder`` when there is one, else drawn now by the same function."""
    if plots_folder is not None and (plots_folder / name).is_file():
        return Image(png_uri((plots_folder / name).read_bytes()), caption)
    drawers = {**plots.DRAWERS, **plots.MULTI_YEAR_DRAWERS}
    return figure_image(drawers[name](results), caption)


def saved_scenario(scenario_text: str | None, source: str) -> tuple["Scenario | None", str]:
    """The scenario of a results folder's ``scenario.toml`` (``source``), or why there is none."""
    from .scenario import loads

    if scenario_text is None:
        return None, ("The scenario was not saved with these results (it was not read from a file, the file "
                      "changed during the run, or an earlier version of poolsim wrote the folder), so its "
                      "structure cannot be drawn.")
    try:
        return loads(scenario_text, source=source), ""
    except ScenarioError as error:
        return None, f"{source} cannot be read by this version of poolsim: {error.problems[0]}"


def structure_image(scenario: "Scenario | None") -> Image | None:
    """The picture of ``scenario``'s structure (:func:`sim.structure_figure.plot_structure`)."""
    from .structure_figure import plot_structure

    if scenario is None:
        return None
    return figure_image(plot_structure(scenario), f"The structure of {scenario.name}")


# --------------------------------------------------------------------------- run report
def write_run_report(results: "Results", folder: str | os.PathLike, plots_folder: Path | None = None) -> Path:
    """Write ``folder/report.html`` for ``results``; ``plots_folder`` holds PNGs just drawn from them.

    Call it within :func:`sim.plots.legible_text`, as :meth:`sim.results.Results.write` and
    :func:`write_report` do (one note on missing glyphs for the plots and the page together).
    """
    folder = Path(folder)
    html = render("run.html", run_context(results, folder, plots_folder))
    return write_html(html, folder / REPORT_FILE)


def horizon_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary's rows for the whole run: a multi-year summary's horizon rows (``year`` empty)."""
    if "year" in summary.columns:
        return summary[summary["year"].isna()]
    return summary


def run_context(results: "Results", folder: Path, plots_folder: Path | None) -> dict[str, Any]:
    """Everything ``run.html`` shows, formatted."""
    from .results import SCENARIO_FILE

    summary = horizon_rows(results.summary).reset_index(drop=True)
    unit = MoneyUnit.for_amount(results.currency, _largest_money(summary))
    multi_year = results.years > 1
    period = "paths" if multi_year else "years"
    members = summary[summary["kind"] == "member"]
    reinsurers = summary[summary["kind"] == "reinsurer"]
    pool = summary[summary["kind"] == "pool"]
    scenario, structure_missing = saved_scenario(results.scenario_text, str(folder / SCENARIO_FILE))
    structure = structure_image(scenario)

    def image(name: str, caption: str) -> Image:
        return plot_image(results, name, caption, plots_folder)

    figures = {
        "who_pays": image("who_pays.png", "Who pays the pool's 1-in-10, 1-in-100 and 1-in-250 year gross losses"),
        "ep_curve": image("ep_curve.png", "The pool's exceedance-probability curves, gross and net"),
        "solvency": image("solvency.png", "Each member's solvency ratio" + (
            " (each path's lowest year end)" if multi_year else " at year end")),
        "loss_ratio": image("loss_ratio.png", "Loss ratios before and after reinsurance"),
    }
    fans = []
    if multi_year:
        fans = [image("solvency_fan.png", "Solvency ratio by year while in the pool"),
                image("capital_fan.png", "Capital at each year end"),
                image("exits.png", "Members that have left the pool")]
        if getattr(results, "pricing", None) is not None:     # [pricing] runs: sim.plots_pricing
            from .plots_pricing import PRICING_PLOT, plot_pricing
            caption = "Premium rates set at each renewal against the paths' true rates"
            drawn = plots_folder is not None and (plots_folder / PRICING_PLOT).is_file()
            fans.append(image(PRICING_PLOT, caption) if drawn else figure_image(plot_pricing(results), caption))
    record = results.run_info
    return {
        "title": f"{results.name}: simulation report",
        "name": results.name,
        "currency": results.currency,
        "unit": unit.header,
        "multi_year": multi_year,
        "years": results.years,
        "trials": results.n_trials,
        "period": period,
        "verdicts": (member_verdicts(members, multi_year, results.n_trials)
                     + pool_verdicts(pool, reinsurers, multi_year, results.n_trials, unit)),
        "member_table": table_rows(summary[summary["kind"] != "reinsurer"], MEMBER_COLUMNS, unit),
        "solvency_table": table_rows(summary[summary["kind"] != "reinsurer"], SOLVENCY_COLUMNS, unit),
        "reinsurer_table": table_rows(reinsurers, REINSURER_COLUMNS, unit),
        "structure": structure,
        "structure_missing": structure_missing,
        "treaties": treaty_table(folder, unit),
        "who_pays_table": who_pays_table(results, unit),
        "ep_table": ep_table(results, unit),
        "figures": figures,
        "fans": fans,
        "year_table": year_table(results.summary) if multi_year else None,
        "record": run_record_rows(record),
        "notes": [str(note) for note in record.get("notes", [])],
        "scenario_text": results.scenario_text,
        "written": _now(),
    }


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _utc_minute(text: str) -> str:
    """An ISO 8601 time (run.json's ``finished``) as ``2026-12-06 05:51 UTC``; other text as it is."""
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _largest_money(summary: pd.DataFrame) -> float:
    values = summary[[c for c in ("gross_premium", "capital_start") if c in summary.columns]].to_numpy(float)
    finite = values[np.isfinite(values)]
    return float(np.max(np.abs(finite))) if finite.size else 0.0


# Columns of the key-figure tables (see sim.metrics.summary); those a summary lacks are left out.
MEMBER_COLUMNS = (
    Column("share", "Pool share", "percent"),
    Column("gross_premium", "Gross premium", "money"),
    Column("net_premium", "Net premium", "money"),
    Column("expected_net_loss", "Expected net loss", "money", "expected_net_loss_se"),
    Column("net_loss_ratio", "Net loss ratio", "percent"),
    Column("combined_ratio", "Combined ratio", "percent"),
    Column("var_995_net_loss", "Net loss 1 in 200 (VaR 99.5%)", "money", "var_995_net_loss_se"),
    Column("tvar_995_net_loss", "Net loss, worst 0.5% mean (TVaR)", "money", "tvar_995_net_loss_se"),
    Column("expected_net_result", "Expected net result", "money", "expected_net_result_se"),
)
SOLVENCY_COLUMNS = (
    Column("capital_start", "Capital at start", "money"),
    Column("mean_capital_end", "Mean capital at end", "money", "mean_capital_end_se"),
    Column("mean_solvency_ratio", "Mean solvency ratio", "percent", "mean_solvency_ratio_se"),
    Column("solvency_ratio_p01", "Solvency ratio, worst 1%", "percent", "solvency_ratio_p01_se"),
    Column("prob_solvency_below_100", "P(ratio < 100%)", "probability", "prob_solvency_below_100_se"),
    Column("prob_ruin", "P(ruin: capital < 0)", "probability", "prob_ruin_se"),
    Column("prob_exit", "P(left the pool)", "probability"),
)
REINSURER_COLUMNS = (
    Column("expected_gross_loss", "Expected amount owed", "money", "expected_gross_loss_se"),
    Column("expected_net_loss", "Expected amount paid", "money", "expected_net_loss_se"),
    Column("var_995_net_loss", "Paid, 1 in 200 (VaR 99.5%)", "money", "var_995_net_loss_se"),
    Column("expected_default_loss", "Expected unpaid (default)", "money", "expected_default_loss_se"),
    Column("prob_default", "P(default)", "probability"),
)
TREATY_COLUMNS = (
    Column("cedant", "Cedant", "text"),
    Column("treaty", "Treaty", "text"),
    Column("type", "Type", "text"),
    Column("year", "Year", "count"),
    Column("ceded_premium", "Ceded premium", "money"),
    Column("reinstatement_premium", "Reinstatement premium", "money"),
    Column("commission", "Commission", "money"),
    Column("expected_ceded_loss", "Expected ceded loss", "money", "expected_ceded_loss_se"),
    Column("expected_default_loss", "Expected default loss", "money"),
    Column("prob_attach", "P(attach)", "probability"),
    Column("prob_exhaust", "P(exhaust)", "probability"),
    Column("cost", "Cost", "money"),
    Column("ceded_loss_ratio", "Ceded loss ratio", "percent"),
)


def _value(row, column: str) -> float:
    value = row.get(column, np.nan) if hasattr(row, "get") else np.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _with_se(value: float, se: float, kind: str, unit: MoneyUnit | None = None) -> str:
    """``value`` as ``kind`` prints it, with ``(± SE)`` when there is a standard error."""
    unit = unit or MoneyUnit("", 1.0, "")
    if not (math.isfinite(value) and math.isfinite(se) and se > 0):
        return Column("", "", kind).format(value, unit)
    error = format_se(se, kind, unit)
    if kind == "money" and abs(value / unit.divisor) < 0.05:   # 0.0061 (± 0.0053), not 0.0 (± 0.0053)
        decimals = len(error.split(".")[1]) if "." in error else 0
        return f"{value / unit.divisor:,.{decimals}f} (± {error})".replace("-", "−")
    return f"{Column('', '', kind).format(value, unit)} (± {error})"


def member_verdicts(members: pd.DataFrame, multi_year: bool, n_trials: int) -> list[dict[str, str]]:
    """A sentence per member from its figures: how often below 100%, its worst 1%, its ruin and exit.

    Returns dicts of ``party``, ``status`` (``at-risk``, ``watch``, ``sound`` or ``none``) and ``text``.
    """
    verdicts = []
    years = "paths (in some year)" if multi_year else "years"
    never = f"in none of the {n_trials:,} simulated {'paths' if multi_year else 'years'}"
    worst = "the lowest year end of the worst 1% of paths" if multi_year else "worst 1% of years"
    for _, row in members.iterrows():
        below, below_se = _value(row, "prob_solvency_below_100"), _value(row, "prob_solvency_below_100_se")
        p01, p01_se = _value(row, "solvency_ratio_p01"), _value(row, "solvency_ratio_p01_se")
        ruin = _value(row, "prob_ruin")
        if not math.isfinite(p01) and not (math.isfinite(below) and below > 0):
            verdicts.append({"party": row["party"], "status": "none",
                             "text": "no solvency ratio: it holds no minimum capital in any trial."})
            continue
        text = (f"ratio below 100% in {_with_se(below, below_se, 'probability')} of {years}" if below > 0
                else f"ratio below 100% {never}")
        text += f"; {worst} at {_with_se(p01, p01_se, 'percent')}"
        if math.isfinite(ruin) and ruin > 0:
            text += f"; capital exhausted in {format_probability(ruin)}"
        exit_probability = _value(row, "prob_exit")
        if math.isfinite(exit_probability) and exit_probability > 0:
            text += f"; leaves the pool in {format_probability(exit_probability)} of paths"
        text += "."
        status = "at-risk" if below > AT_RISK_PROBABILITY else ("watch" if p01 < 1.2 else "sound")
        verdicts.append({"party": row["party"], "status": status, "text": text})
    return verdicts


def pool_verdicts(pool: pd.DataFrame, reinsurers: pd.DataFrame, multi_year: bool,
                  n_trials: int, unit: MoneyUnit) -> list[dict[str, str]]:
    """The lines under the members': some member below 100%, and each reinsurer's default."""
    verdicts = []
    when = " (in some year)" if multi_year else ""
    never = f"in none of the {n_trials:,} simulated {'paths' if multi_year else 'years'}"
    if len(pool) and "prob_any_member_below_100" in pool.columns:
        row = pool.iloc[0]
        below = _value(row, "prob_any_member_below_100")
        if math.isfinite(below):
            how_often = (f"in {format_probability(below)} of the {'paths' if multi_year else 'years'}{when}"
                         if below > 0 else never)
            verdicts.append({"party": "Some member", "status": "at-risk" if below > AT_RISK_PROBABILITY else "sound",
                             "text": f"below 100% {how_often}: the pool's own ratio sums the members' capital, "
                                     "so it can hide a small member's breach."})
    for _, row in reinsurers.iterrows():
        default = _value(row, "prob_default")
        if not math.isfinite(default):
            continue
        text = (f"defaults in {format_probability(default)} of the {'paths' if multi_year else 'years'}{when}"
                if default > 0 else f"defaults {never}")
        unpaid = _value(row, "expected_default_loss")
        if math.isfinite(unpaid) and unpaid > 0:
            text += f", leaving {_with_se(unpaid, _value(row, 'expected_default_loss_se'), 'money', unit)} " \
                    f"{unit.header} a year unpaid on average"
        verdicts.append({"party": row["party"], "status": "reinsurer", "text": text + "."})
    return verdicts


def treaty_table(folder: Path, unit: MoneyUnit) -> dict[str, Any] | None:
    """treaties.csv as a table, or None when the folder has none (an older run's)."""
    path = folder / TREATIES_FILE
    if not path.is_file():
        return None
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    return table_rows(table, TREATY_COLUMNS, unit, label_column=None)


def who_pays_table(results: "Results", unit: MoneyUnit) -> dict[str, Any]:
    """Who pays the pool's large gross losses (:func:`sim.plots.who_pays`), as a table."""
    labels, amounts, gross = plots.who_pays(results)
    periods = plots.WHO_PAYS_RETURN_PERIODS
    header = ["Who"] + [f"1 in {period:g} years ({unit.header})" for period in periods]
    rows = [[label] + [unit.format(amount) for amount in amounts[:, index]] for index, label in enumerate(labels)]
    rows.append(["Pool gross loss"] + [unit.format(value) for value in gross])
    return {"header": header, "rows": rows}


def ep_table(results: "Results", unit: MoneyUnit) -> dict[str, Any]:
    """The pool's AEP and OEP, gross and net, at the saved return periods."""
    pool = results.names_of("pool")[0]
    table = results.ep[results.ep["party"] == pool]
    wide = table.pivot_table(index="return_period", columns=["basis", "metric"], values="loss", aggfunc="first")
    curves = [(basis, metric) for basis, metric in
              (("gross", "AEP"), ("net", "AEP"), ("gross", "OEP"), ("net", "OEP")) if (basis, metric) in wide]
    header = ["Return period (years)"] + [f"{basis} {metric} ({unit.header})" for basis, metric in curves]
    rows = [[f"{period:,.0f}"] + [unit.format(wide.loc[period, curve]) for curve in curves]
            for period in wide.index]
    return {"header": header, "rows": rows}


def year_table(summary: pd.DataFrame) -> dict[str, Any]:
    """Each member's and the pool's mean solvency ratio year by year (multi-year runs)."""
    by_year = summary[summary["year"].notna() & (summary["kind"] != "reinsurer")]
    ratios = by_year.pivot(index="party", columns="year", values="mean_solvency_ratio")
    order = [party for party in summary["party"].drop_duplicates() if party in ratios.index]
    ratios = ratios.reindex(order)
    header = ["Party"] + [f"Year {int(year)}" for year in ratios.columns]
    rows = [[party] + [format_percent(value) for value in ratios.loc[party]] for party in ratios.index]
    return {"header": header, "rows": rows}


RECORD_KEYS = (  # run.json key, shown as
    ("scenario", "Scenario"), ("scenario_file", "Scenario file"), ("sha256", "sha256 of the resolved scenario"),
    ("seed", "Seed"), ("trials", "Trials"), ("years", "Years"), ("regime", "Solvency regime"),
    ("currency", "Currency"), ("version", "poolsim version"), ("wall_seconds", "Simulation time (s)"),
    ("threads", "Threads"), ("workers", "Dask workers"), ("finished", "Finished"),
)


def run_record_rows(record: dict[str, Any]) -> list[tuple[str, str]]:
    """run.json's keys as (label, text) rows, thousands separated; missing keys left out."""
    rows = []
    for key, label in RECORD_KEYS:
        value = record.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif isinstance(value, int):
            text = f"{value:,}" if key != "seed" else str(value)
        elif isinstance(value, float):
            text = f"{value:,.1f}"
        elif key == "finished":
            text = _utc_minute(str(value))
        else:
            text = str(value)
        rows.append((label, text))
    return rows


# --------------------------------------------------------------------------- comparison report
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
    unit = MoneyUnit.for_amount(runs[0].currency, max(_largest_money(horizon_rows(r.summary)) for r in runs))
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
        "written": _now(),
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
    text = _with_se(value, se, kind, unit)

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


# --------------------------------------------------------------------------- poolsim report DIR
def write_report(folder: str | os.PathLike) -> list[Path]:
    """Write ``report.html`` of a results or comparison folder again from its saved tables
    (a comparison's runs too); return the pages written. The plots are drawn again, not taken
    from ``plots/``, so the page shows what the tables hold now.

    Raises UsageError when ``folder`` is neither.
    """
    from .compare import COMPARISON_RECORD, is_comparison_folder, structure_labels
    from .results import RUN_RECORD, Results

    folder = Path(folder)
    if not folder.exists():
        raise UsageError(f"{folder}: no such results folder (write one with poolsim run)")
    if not folder.is_dir():
        raise UsageError(f"{folder}: is a file, not a folder; give a folder written by poolsim run or "
                         f"poolsim compare")
    if is_comparison_folder(folder):
        try:
            record = json.loads((folder / COMPARISON_RECORD).read_text(encoding="utf-8"))
            stems = [entry["folder"] for entry in record["scenarios"]]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise UsageError(f"{folder / COMPARISON_RECORD}: is not the record of a comparison ({error}); "
                             f"run poolsim compare again") from None
        runs = [Results.read(folder / stem) for stem in stems]
        with plots.legible_text():
            written = [write_run_report(results, folder / stem) for results, stem in zip(runs, stems)]
        return written + [write_comparison_report(runs, structure_labels(runs, stems), folder, record,
                                                  reuse_plots=False)]
    if (folder / RUN_RECORD).is_file():
        results = Results.read(folder)
        with plots.legible_text():
            return [write_run_report(results, folder)]
    from .report_optimize import RECORD as OPTIMIZE_RECORD, is_optimisation_folder, write_optimisation_report

    if is_optimisation_folder(folder):
        with plots.legible_text():
            return [write_optimisation_report(folder)]
    raise UsageError(f"{folder}: not a results folder (it has no {RUN_RECORD}, {COMPARISON_RECORD} or "
                     f"{OPTIMIZE_RECORD}); give a folder written by poolsim run, compare or optimize")
