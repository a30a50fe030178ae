"""The report tables as text (sim.text_tables): what poolsim run and compare print, and the
DataFrames a notebook gets."""
from __future__ import annotations

import types
import unicodedata

import pandas as pd

from sim.text_tables import (format_side_by_side, format_summary, format_treaties, format_treaty_costs_side_by_side,
                             run_text, side_by_side_table, solvency_by_year_table, summary_table,
                             treaty_cost_table, treaty_costs_side_by_side)


def test_multi_year_summary_prints_the_horizon_then_solvency_by_year():
    nan = float("nan")
    summary = pd.DataFrame({
        "year": [None, None, None, 1, 1, 1, 2, 2, 2, 3, 3, 3],
        "party": ["pool", "Lead", "Re"] * 4,
        "kind": ["pool", "member", "reinsurer"] * 4,
        "share": [1.0, 1.0, 0.0] * 4,
        # year 3: every member has left and its run-off is paid: no ratio at all
        "mean_solvency_ratio": [2.0, 2.1, nan, 2.2, 2.3, nan, 1.8, 1.9, nan, nan, nan, nan],
        "prob_exit": [None, 0.25, None, None, 0.0, None, None, 0.25, None, None, 1.0, None],
    })
    text = format_summary(summary)
    horizon, by_year = text.split("mean solvency ratio by year")
    assert "25.0%" in horizon and "200.0%" in horizon and "220.0%" not in horizon
    assert by_year.split("\n")[1].split() == ["year", "1", "year", "2", "year", "3"]
    assert by_year.split("\n")[2].split() == ["pool", "220.0%", "180.0%"]
    assert by_year.split("\n")[3].split() == ["Lead", "230.0%", "190.0%"]
    assert "Re" not in by_year


def test_summary_says_what_its_columns_do_not_show():
    nan = float("nan")
    summary = pd.DataFrame({
        "party": ["pool", "Lead", "Small", "China Re", "Swiss Re"],
        "kind": ["pool", "member", "member", "reinsurer", "reinsurer"],
        "share": [1.0, 0.9, 0.1, nan, nan],
        "prob_solvency_below_100": [0.0, 0.0, 0.007, nan, nan],
        "prob_any_member_below_100": [0.0066, nan, nan, nan, nan],
        "prob_any_member_ruin": [0.0, nan, nan, nan, nan],
        "prob_default": [nan, nan, nan, 0.0005, 0.89],
    })
    lines = format_summary(summary).splitlines()
    # the pool's own 0.0% below 100% is of the members' capital summed; the small member's 0.7% is not
    assert lines[-2] == ("some member below 100%: 0.66%; some member ruined: 0.00% "
                         "(the pool row's ratio is of the members' capital summed)")
    assert lines[-1] == "reinsurer default probability: China Re 0.05%, Swiss Re 89.00%"


def test_compare_prints_the_members_side_by_side_with_the_cost_of_each_structure():

    def summary(small_below, small_p01, lead_result, small_result):
        return pd.DataFrame({
            "party": ["pool", "Lead", "Small", "Re"], "kind": ["pool", "member", "member", "reinsurer"],
            "prob_solvency_below_100": [0.0, 0.0, small_below, float("nan")],
            "solvency_ratio_p01": [2.0, 2.2, small_p01, float("nan")],
            "expected_net_result": [lead_result + small_result, lead_result, small_result, 5.0e6]})

    text = format_side_by_side([summary(0.001, 1.5, 30e6, 10e6), summary(0.012, 0.9, 32e6, 12.5e6)],
                               ["with cat XL", "no cat XL"])
    rows = [line.split() for line in text.splitlines()]
    # the second structure: its change from the first, per party; reinsurers are not members' costs
    assert ["Small", "no", "cat", "XL", "1.20%", "90.0%", "12,500,000", "+2,500,000"] in rows
    assert ["pool", "no", "cat", "XL", "0.00%", "200.0%", "44,500,000", "+4,500,000"] in rows
    assert ["Small", "with", "cat", "XL", "0.10%", "150.0%", "10,000,000"] in rows
    assert not [row for row in rows if row and row[0] == "Re"]
    assert text.splitlines()[-2:] == ["  with cat XL: none", "  no cat XL: Small (1.20%)"]


def _terminal_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(character) in "WF" else 1 for character in text)


def test_summary_columns_line_up_on_a_terminal_with_chinese_names():
    summary = pd.DataFrame({"party": ["pool", "中国人保财险", "Small Cyber", "中再"],
                            "kind": ["pool", "member", "member", "reinsurer"],
                            "share": [1.0, 0.6, 0.4, 0.0], "gross_premium": [1.5e6, 9e5, 6e5, 2e5],
                            "net_loss_ratio": [0.55, 0.5, 0.6, 0.7]})
    lines = format_summary(summary).splitlines()
    # right-aligned columns: a row as wide as the others on a terminal has its columns under the headers
    assert len({_terminal_width(line) for line in lines}) == 1, lines
    header_end = _terminal_width(lines[0].split("gross_premium")[0] + "gross_premium")
    for line in lines[1:]:
        premium = line.split()[-2]
        assert _terminal_width(line.split(premium)[0] + premium) == header_end, line


def treaties(cost_first, cost_second, years=None):
    """treaties.csv of two treaties; with ``years``, each treaty's rows year by year."""
    rows = []
    for year in (years or [None]):
        for cedant, treaty, cost in (("pool", "cat XL", cost_first), ("Lead", "quota share", cost_second)):
            rows.append({"cedant": cedant, "treaty": treaty, "type": "cat_xl", "ceded_premium": 100.0,
                         "reinstatement_premium": 0.0, "commission": 0.0, "expected_ceded_loss": 80.0,
                         "expected_default_loss": 5.0, "prob_attach": 0.1, "prob_exhaust": 0.01,
                         "cost": cost + (year or 0), "ceded_loss_ratio": 0.8, **({"year": year} if year else {})})
    return pd.DataFrame(rows)


def test_treaty_cost_table_is_text_with_the_recovery_net_of_defaults():
    table = treaty_cost_table(treaties(25.0, 1_234_567.0))
    assert list(table.columns) == ["cedant", "treaty", "type", "ceded premium", "reinst. premium", "commission",
                                   "expected recovery", "lost to defaults", "cost", "P(attach)", "P(exhaust)",
                                   "ceded LR"]
    assert table.iloc[1].to_dict()["cost"] == "1,234,567"
    assert table.iloc[0]["expected recovery"] == "75"              # 80 ceded, 5 of it lost to defaults
    assert table.iloc[0]["P(exhaust)"] == "1.00%" and table.iloc[0]["ceded LR"] == "80.0%"
    assert format_treaties(treaties(25.0, 1_234_567.0)).splitlines()[1].split()[:3] == ["cedant", "treaty", "type"]


def test_a_multi_year_runs_treaties_are_averaged_over_its_years():
    table = treaty_cost_table(treaties(10.0, 20.0, years=[1, 2, 3]))
    assert list(table["cost"]) == ["12", "22"]                      # the mean of 11, 12, 13 and of 21, 22, 23
    assert "yearly averages over the horizon" in format_treaties(treaties(10.0, 20.0, years=[1, 2, 3]))


def test_summary_table_leaves_a_reinsurers_share_blank_and_prints_what_the_command_prints():
    summary = pd.DataFrame({"party": ["pool", "Lead", "Re"], "kind": ["pool", "member", "reinsurer"],
                            "share": [1.0, 1.0, 0.0], "gross_premium": [1.5e6, 1.5e6, 2e5],
                            "prob_ruin": [0.001, 0.001, float("nan")]})
    table = summary_table(summary)
    assert list(table["share"]) == ["100.0%", "100.0%", ""]
    assert list(table["gross_premium"]) == ["1,500,000", "1,500,000", "200,000"]
    assert solvency_by_year_table(summary) is None
    assert format_summary(summary) == table.to_string(index=False)


def test_run_text_is_the_summary_then_the_treaties_and_empty_without_either():
    summary = pd.DataFrame({"party": ["pool"], "kind": ["pool"], "share": [1.0]})
    with_treaties = types.SimpleNamespace(summary=summary, treaties=treaties(1.0, 2.0))
    assert run_text(with_treaties) == f"{format_summary(summary)}\n\n{format_treaties(treaties(1.0, 2.0))}"
    assert run_text(types.SimpleNamespace(summary=summary, treaties=treaties(1.0, 2.0).iloc[:0])) == \
        format_summary(summary)
    assert run_text(types.SimpleNamespace()) == ""


def test_treaty_costs_side_by_side_gives_a_column_per_structure_and_the_totals():
    def run(cost_first, cost_second, worst):
        summary = pd.DataFrame({"party": ["pool", "Lead"], "kind": ["pool", "member"],
                                "prob_solvency_below_100": [0.0, worst]})
        return types.SimpleNamespace(summary=summary, treaties=treaties(cost_first, cost_second))

    by_treaty, totals = treaty_costs_side_by_side([run(10.0, 20.0, 0.01), run(15.0, 20.0, 0.002)], ["A", "B"])
    assert by_treaty.to_dict("records") == [{"cedant": "pool", "treaty": "cat XL", "A": "10", "B": "15"},
                                            {"cedant": "Lead", "treaty": "quota share", "A": "20", "B": "20"}]
    assert totals.to_dict("records") == [
        {"structure": "A", "total cost of reinsurance": "30", "worst member's P(ratio < 100%)": "1.00%",
         "vs the first": ""},
        {"structure": "B", "total cost of reinsurance": "35", "worst member's P(ratio < 100%)": "0.20%",
         "vs the first": "-0.80%"}]
    text = format_treaty_costs_side_by_side([run(10.0, 20.0, 0.01)], ["A"])
    assert text.startswith("cost of each treaty to its cedant") and "30" in text.splitlines()[-1]
    assert "(no treaties)" in format_treaty_costs_side_by_side([types.SimpleNamespace(treaties=None)], ["A"])


def test_side_by_side_table_is_the_printed_one():
    summary = pd.DataFrame({"party": ["pool", "Lead"], "kind": ["pool", "member"],
                            "prob_solvency_below_100": [0.0, 0.01], "solvency_ratio_p01": [2.0, 0.95],
                            "expected_net_result": [1e6, 1e6]})
    table = side_by_side_table([summary, summary], ["A", "B"])
    assert list(table["vs the first"]) == ["", "+0", "", "+0"]
    printed = format_side_by_side([summary, summary], ["A", "B"])
    assert table.to_string(index=False) in printed
    assert printed.splitlines()[-2:] == ["  A: Lead (1.00%)", "  B: Lead (1.00%)"]
