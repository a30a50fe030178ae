"""``report.html`` of a results folder: one run's story, from its saved tables.

The page is the template ``run.html``, filled with a context built here; every
number is formatted here (:mod:`sim.report_format`), so the template only places text.
"""
from __future__ import annotations

import datetime
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import plots
from .metrics import horizon_rows
from .report_format import (Column, MoneyUnit, format_percent, format_probability, row_number, table_rows,
                            with_se)
from .report_page import (REPORT_FILE, Image, largest_money, plot_image, render, saved_scenario, structure_image,
                          write_html, written_at)
from .text_tables import AT_RISK_PROBABILITY

if TYPE_CHECKING:
    from .results import Results

TREATIES_FILE = "treaties.csv"


def write_run_report(results: "Results", folder: str | os.PathLike, plots_folder: Path | None = None) -> Path:
    """Write ``folder/report.html`` for ``results``; ``plots_folder`` holds PNGs just drawn from them.

    Call it within :func:`sim.plots.legible_text`, as :meth:`sim.results.Results.write` and
    :func:`write_report` do (one note on missing glyphs for the plots and the page together).
    """
    folder = Path(folder)
    html = render("run.html", run_context(results, folder, plots_folder))
    return write_html(html, folder / REPORT_FILE)


def run_context(results: "Results", folder: Path, plots_folder: Path | None) -> dict[str, Any]:
    """Everything ``run.html`` shows, formatted."""
    from .results import SCENARIO_FILE

    summary = horizon_rows(results.summary).reset_index(drop=True)
    unit = MoneyUnit.for_amount(results.currency, largest_money(summary))
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
        if results.pricing is not None:      # [pricing] runs
            fans.append(image(plots.PRICING_PLOT, "Premium rates set at each renewal against the paths' true rates"))
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
        "written": written_at(),
    }


def _utc_minute(text: str) -> str:
    """An ISO 8601 time (run.json's ``finished``) as ``2026-12-06 05:51 UTC``; other text as it is."""
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


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


def member_verdicts(members: pd.DataFrame, multi_year: bool, n_trials: int) -> list[dict[str, str]]:
    """A sentence per member from its figures: how often below 100%, its worst 1%, its ruin and exit.

    Returns dicts of ``party``, ``status`` (``at-risk``, ``watch``, ``sound`` or ``none``) and ``text``.
    """
    verdicts = []
    years = "paths (in some year)" if multi_year else "years"
    never = f"in none of the {n_trials:,} simulated {'paths' if multi_year else 'years'}"
    worst = "the lowest year end of the worst 1% of paths" if multi_year else "worst 1% of years"
    for _, row in members.iterrows():
        below, below_se = row_number(row, "prob_solvency_below_100"), row_number(row, "prob_solvency_below_100_se")
        p01, p01_se = row_number(row, "solvency_ratio_p01"), row_number(row, "solvency_ratio_p01_se")
        ruin = row_number(row, "prob_ruin")
        if not math.isfinite(p01) and not (math.isfinite(below) and below > 0):
            verdicts.append({"party": row["party"], "status": "none",
                             "text": "no solvency ratio: it holds no minimum capital in any trial."})
            continue
        text = (f"ratio below 100% in {with_se(below, below_se, 'probability')} of {years}" if below > 0
                else f"ratio below 100% {never}")
        text += f"; {worst} at {with_se(p01, p01_se, 'percent')}"
        if math.isfinite(ruin) and ruin > 0:
            text += f"; capital exhausted in {format_probability(ruin)}"
        exit_probability = row_number(row, "prob_exit")
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
        below = row_number(row, "prob_any_member_below_100")
        if math.isfinite(below):
            how_often = (f"in {format_probability(below)} of the {'paths' if multi_year else 'years'}{when}"
                         if below > 0 else never)
            verdicts.append({"party": "Some member", "status": "at-risk" if below > AT_RISK_PROBABILITY else "sound",
                             "text": f"below 100% {how_often}: the pool's own ratio sums the members' capital, "
                                     "so it can hide a small member's breach."})
    for _, row in reinsurers.iterrows():
        default = row_number(row, "prob_default")
        if not math.isfinite(default):
            continue
        text = (f"defaults in {format_probability(default)} of the {'paths' if multi_year else 'years'}{when}"
                if default > 0 else f"defaults {never}")
        unpaid = row_number(row, "expected_default_loss")
        if math.isfinite(unpaid) and unpaid > 0:
            text += f", leaving {with_se(unpaid, row_number(row, 'expected_default_loss_se'), 'money', unit)} " \
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
