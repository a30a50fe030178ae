"""The report tables as text: what ``poolsim run`` and ``poolsim compare`` print, for a notebook too.

Each table comes as a DataFrame of formatted cells (money with thousands
separators, ratios and probabilities in %, a missing figure blank), and as the
text the command prints (``format_*``)::

    from sim.text_tables import format_summary, treaty_cost_table
    print(format_summary(results.summary))
    treaty_cost_table(results.treaties)          # a DataFrame, shown as a table in a notebook

``report.html`` formats its own tables (:mod:`sim.report_format`), with
standard errors and one money unit a page.
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from .metrics import horizon_rows

# Columns of the printed summary, in order; those the results lack are skipped.
SUMMARY_COLUMNS = (
    "party", "share", "gross_premium", "expected_net_loss", "net_loss_ratio", "combined_ratio",
    "var_995_net_loss", "mean_solvency_ratio", "prob_solvency_below_100", "prob_ruin",
)
PERCENT_COLUMNS = {"share", "net_loss_ratio", "combined_ratio", "mean_solvency_ratio", "prob_exit",
                   "prob_solvency_below_100", "prob_ruin"}
# The members listed under a comparison: below 100% in more than this share of trials (report.html's
# verdicts call a member at risk beyond the same share).
AT_RISK_PROBABILITY = 0.005


# ---------------------------------------------------------------- one run
def is_multi_year(summary: pd.DataFrame) -> bool:
    return "year" in summary.columns and bool(summary["year"].notna().any())


def summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The printed summary: a row per party, :data:`SUMMARY_COLUMNS` (and ``prob_exit`` in a
    multi-year run, whose horizon rows it shows) as text. A reinsurer's share is blank."""
    if is_multi_year(summary):
        return _text_cells(horizon_rows(summary), SUMMARY_COLUMNS + ("prob_exit",))
    return _text_cells(summary, SUMMARY_COLUMNS)


def solvency_by_year_table(summary: pd.DataFrame) -> pd.DataFrame | None:
    """A multi-year run's mean solvency ratio, a row per member and the pool, a column per year
    (over the paths in which the party writes business that year); None for a one-year run."""
    if not is_multi_year(summary):
        return None
    # Members and the pool, every year: a year in which none holds risk shows empty, not missing.
    by_year = summary[summary["year"].notna() & (summary["kind"] != "reinsurer")]
    ratios = by_year.pivot(index="party", columns="year", values="mean_solvency_ratio")
    ratios = ratios.reindex([p for p in summary["party"].drop_duplicates() if p in ratios.index])
    ratios.columns = [f"year {int(year)}" for year in ratios.columns]
    ratios = ratios.apply(lambda column: column.map(lambda value: format_value(value, "{:.1%}")))
    return ratios.rename_axis(None)


def summary_notes(summary: pd.DataFrame) -> list[str]:
    """What the summary's columns do not show: the chance that some member is below 100% or
    ruined (the pool row's own ratio is of the members' capital summed, so it can be well above
    100% while a small member is below), and each reinsurer's chance of default. A multi-year
    run's are of its horizon rows ("in some year"). Empty when the summary lacks those columns."""
    if is_multi_year(summary):
        return _notes(horizon_rows(summary), " in some year")
    return _notes(summary)


def format_summary(summary: pd.DataFrame) -> str:
    """The summary as ``poolsim run`` prints it: :func:`summary_table`, the lines of
    :func:`summary_notes` and, for a multi-year run, :func:`solvency_by_year_table`
    (every per-year figure is in summary.csv)."""
    text = table_text(summary_table(summary), index=False) + "".join("\n" + line for line in summary_notes(summary))
    by_year = solvency_by_year_table(summary)
    if by_year is None:
        return text
    return (f"{text}\n\nmean solvency ratio by year (paths in which the member is in the pool that "
            f"year; run-off after an exit left out)\n"
            f"{table_text(by_year)}")


def yearly_average(treaties: pd.DataFrame) -> pd.DataFrame:
    """treaties.csv with one row per treaty: a multi-year run's rows averaged over its years."""
    if "year" not in treaties.columns:
        return treaties
    averaged = treaties.groupby(["cedant", "treaty", "type"], sort=False, as_index=False).mean(numeric_only=True)
    # a ratio of the averages, not an average of the yearly ratios
    premium = averaged["ceded_premium"] + averaged["reinstatement_premium"]
    averaged["ceded_loss_ratio"] = (averaged["expected_ceded_loss"] / premium).where(premium > 0)
    return averaged


# treaties.csv column -> (printed header, format; None: the text as it is)
TREATY_COST_COLUMNS = {
    "cedant": ("cedant", None), "treaty": ("treaty", None), "type": ("type", None),
    "ceded_premium": ("ceded premium", "{:,.0f}"), "reinstatement_premium": ("reinst. premium", "{:,.0f}"),
    "commission": ("commission", "{:,.0f}"), "expected_recovery": ("expected recovery", "{:,.0f}"),
    "expected_default_loss": ("lost to defaults", "{:,.0f}"), "cost": ("cost", "{:,.0f}"),
    "prob_attach": ("P(attach)", "{:.2%}"), "prob_exhaust": ("P(exhaust)", "{:.2%}"),
    "ceded_loss_ratio": ("ceded LR", "{:.1%}"),
}


def treaty_cost_table(treaties: pd.DataFrame) -> pd.DataFrame:
    """What each treaty costs its cedant (treaties.csv) as text, a row per treaty (a multi-year
    run's yearly average over the horizon); the expected recovery is net of defaults."""
    table = yearly_average(treaties)
    table = table.assign(expected_recovery=table["expected_ceded_loss"] - table["expected_default_loss"])
    text = table[list(TREATY_COST_COLUMNS)].copy()
    for column, (_, pattern) in TREATY_COST_COLUMNS.items():
        if pattern is not None:
            text[column] = text[column].map(lambda value, pattern=pattern: format_value(value, pattern))
    text.columns = [header for header, _ in TREATY_COST_COLUMNS.values()]
    return text


def format_treaties(treaties: pd.DataFrame) -> str:
    """:func:`treaty_cost_table` as ``poolsim run`` prints it, under a line that says what cost is."""
    note = " (yearly averages over the horizon; treaties.csv has each year)" if "year" in treaties.columns else ""
    return (f"what each treaty costs its cedant{note}: cost = premium + reinstatement premium - commission "
            "- expected recovery net of defaults\n" + table_text(treaty_cost_table(treaties), index=False))


def run_text(results) -> str:
    """All ``poolsim run`` prints of a run's figures: :func:`format_summary`, then
    :func:`format_treaties` when the run has treaties. Empty when ``results`` has neither."""
    parts = []
    summary = getattr(results, "summary", None)
    if summary is not None:
        parts.append(format_summary(summary))
    treaties = getattr(results, "treaties", None)
    if treaties is not None and len(treaties):
        parts.append(f"\n{format_treaties(treaties)}")
    return "\n".join(parts)


# ---------------------------------------------------------------- structures compared
def side_by_side_table(summaries: Sequence[pd.DataFrame], labels: Sequence[str]) -> pd.DataFrame:
    """The pool and its members across the compared structures, on the same losses: a row per
    party and structure with what it risks (P(ratio < 100%), the 1% quantile of its ratio) and
    what the structure costs it (the expected net result, and its change from the first
    structure). A multi-year run gives its whole-horizon rows; reinsurers are left out."""
    tables = [_members_and_pool(summary) for summary in summaries]
    first = tables[0]
    rows = []
    parties = list(dict.fromkeys(party for table in tables for party in table.index))
    for party in parties:
        for label, table in zip(labels, tables):
            if party not in table.index:
                continue
            row = table.loc[party]
            result = row["expected_net_result"]
            change = result - first.loc[party, "expected_net_result"] if party in first.index else float("nan")
            rows.append({"party": party, "structure": label,
                         "P(ratio < 100%)": format_value(row["prob_solvency_below_100"], "{:.2%}"),
                         "ratio, 1% quantile": format_value(row["solvency_ratio_p01"], "{:.1%}"),
                         "expected net result": format_value(result, "{:,.0f}"),
                         "vs the first": "" if label == labels[0] else format_value(change, "{:+,.0f}")})
    return pd.DataFrame(rows)


def members_at_risk(summaries: Sequence[pd.DataFrame], labels: Sequence[str]) -> list[str]:
    """Per structure, ``label: member (P), ...``: its members below 100% in more than
    :data:`AT_RISK_PROBABILITY` of trials, or ``none``."""
    lines = []
    for label, table in zip(labels, (_members_and_pool(summary) for summary in summaries)):
        members = table[table["kind"] == "member"]
        below = members[members["prob_solvency_below_100"] > AT_RISK_PROBABILITY]["prob_solvency_below_100"]
        lines.append(f"{label}: " + (", ".join(f"{party} ({value:.2%})" for party, value in below.items())
                                     if len(below) else "none"))
    return lines


def format_side_by_side(summaries: Sequence[pd.DataFrame], labels: Sequence[str]) -> str:
    """:func:`side_by_side_table`, then :func:`members_at_risk`, as ``poolsim compare`` prints them."""
    return ("side by side, on the same losses (of a multi-year run, its whole horizon)\n"
            + table_text(side_by_side_table(summaries, labels), index=False)
            + "\nmembers below 100% in more than 0.5% of trials:\n  "
            + "\n  ".join(members_at_risk(summaries, labels)))


def treaty_costs_side_by_side(runs: Sequence, labels: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each treaty's cost to its cedant across the compared structures (a row per treaty, a column
    per structure; a multi-year run's yearly average), and per structure the total cost of
    reinsurance next to the worst member's P(ratio < 100%) and its change from the first.

    ``runs``: the compared :class:`sim.results.Results`; one without treaties is left out.
    """
    costs, totals = {}, []
    first_worst = None
    for label, results in zip(labels, runs):
        treaties = getattr(results, "treaties", None)
        if treaties is None:
            continue
        treaties = yearly_average(treaties)
        for cedant, treaty, cost in zip(treaties["cedant"], treaties["treaty"], treaties["cost"]):
            costs.setdefault((cedant, treaty), {})[label] = format_value(cost, "{:,.0f}")
        summary = horizon_rows(results.summary)
        worst = summary.loc[summary["kind"] == "member", "prob_solvency_below_100"].max()
        first_worst = worst if first_worst is None else first_worst
        totals.append({"structure": label,
                       "total cost of reinsurance": format_value(treaties["cost"].sum(), "{:,.0f}"),
                       "worst member's P(ratio < 100%)": format_value(worst, "{:.2%}"),
                       "vs the first": "" if label == labels[0] else format_value(worst - first_worst, "{:+.2%}")})
    rows = [{"cedant": cedant, "treaty": treaty, **{label: by_label.get(label, "") for label in labels}}
            for (cedant, treaty), by_label in costs.items()]
    return pd.DataFrame(rows), pd.DataFrame(totals)


def format_treaty_costs_side_by_side(runs: Sequence, labels: Sequence[str]) -> str:
    """:func:`treaty_costs_side_by_side` as ``poolsim compare`` prints it."""
    by_treaty, totals = treaty_costs_side_by_side(runs, labels)
    by_treaty_text = table_text(by_treaty, index=False) if len(by_treaty) else "(no treaties)"
    return ("cost of each treaty to its cedant, on the same losses (of a multi-year run, the yearly average)\n"
            + by_treaty_text + "\n\n" + table_text(totals, index=False))


def comparison_text(runs: Sequence, labels: Sequence[str]) -> str:
    """All ``poolsim compare`` prints after each run's own summary: :func:`format_side_by_side`,
    then :func:`format_treaty_costs_side_by_side`."""
    return (f"{format_side_by_side([results.summary for results in runs], labels)}\n\n"
            f"{format_treaty_costs_side_by_side(runs, labels)}")


# ---------------------------------------------------------------- text
def table_text(table: pd.DataFrame, **options) -> str:
    """``table.to_string`` with columns aligned on a terminal when names are Chinese.

    A Chinese character takes two columns of a terminal; pandas counts it as one
    unless told to measure East Asian widths.
    """
    with pd.option_context("display.unicode.east_asian_width", True):
        return table.to_string(**options)


def format_value(value, pattern: str) -> str:
    """``pattern.format(value)`` for a number; blank for NaN (e.g. a reinsurer's share); other
    values as text."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "" if number != number else pattern.format(number)


def _members_and_pool(summary: pd.DataFrame) -> pd.DataFrame:
    """The whole run's rows of the members and the pool, by party."""
    summary = horizon_rows(summary)
    return summary[summary["kind"] != "reinsurer"].set_index("party")


def _text_cells(summary: pd.DataFrame, wanted: Sequence[str]) -> pd.DataFrame:
    columns = [column for column in wanted if column in summary.columns]
    table = summary[columns].copy()
    if "share" in columns and "kind" in summary.columns:
        table.loc[summary["kind"] == "reinsurer", "share"] = float("nan")   # no pool share: blank, not 0.0%
    for column in columns:
        if column == "party":
            continue
        if column in PERCENT_COLUMNS:
            table[column] = table[column].map(lambda value: format_value(value, "{:.1%}"))
        else:
            table[column] = table[column].map(lambda value: format_value(value, "{:,.0f}"))
    return table


def _notes(summary: pd.DataFrame, when: str = "") -> list[str]:
    if "kind" not in summary.columns:
        return []
    lines = []
    pool = summary[summary["kind"] == "pool"]
    if len(pool) and {"prob_any_member_below_100", "prob_any_member_ruin"} <= set(summary.columns):
        row = pool.iloc[0]
        lines.append(f"some member below 100%{when}: {format_value(row['prob_any_member_below_100'], '{:.2%}')}; "
                     f"some member ruined{when}: {format_value(row['prob_any_member_ruin'], '{:.2%}')} "
                     "(the pool row's ratio is of the members' capital summed)")
    reinsurers = summary[summary["kind"] == "reinsurer"]
    if len(reinsurers) and "prob_default" in summary.columns:
        lines.append(f"reinsurer default probability{when}: " + ", ".join(
            f"{party} {format_value(probability, '{:.2%}')}"
            for party, probability in zip(reinsurers["party"], reinsurers["prob_default"])))
    return lines
