"""Catastrophes from event loss tables (YELT and ELT): reading, checking, and their losses.

The statistical checks compare with the table's own figures within 4 Monte
Carlo standard errors (:data:`engine_cases.Z`); the YELT ones are exact.
"""
from __future__ import annotations

import io
import math
import textwrap

import numba
import numpy as np
import pandas as pd
import pytest

from sim.engine import LossModel, simulate_chunk
from sim.exposure import build_exposure
from sim.kernels.codes import ATTRITIONAL
from sim.scenario import load

from engine_cases import Z

LINES = """
[[lines]]
name = "cloud"
policies = 40
sum_insured = {{ dist = "lognormal", median = 2e6, sigma = 0.4 }}
premium_rate = 0.02
frequency = {{ dist = "poisson", mean = {frequency} }}
severity = {{ dist = "lognormal", median = 1e5, sigma = 0.8 }}

[[lines]]
name = "saas"
policies = 25
sum_insured = 1e6
premium_rate = 0.02
frequency = {{ dist = "poisson", mean = {frequency} }}
severity = {{ dist = "lognormal", median = 5e4, sigma = 0.5 }}
"""

POOL = """
[pool]
name = "test pool"

[[pool.members]]
name = "lead"
role = "lead"
share = 1.0
capital = 1e12
"""


def scenario_text(catastrophes: str, trials: int = 100, frequency: float = 0.0, seed: int = 5) -> str:
    head = f'name = "table test"\n\n[simulation]\ntrials = {trials}\nseed = {seed}\n'
    return head + LINES.format(frequency=frequency) + textwrap.dedent(catastrophes) + POOL


def table_entry(file: str, kind: str, extra: str = "") -> str:
    return f'\n[[catastrophes]]\nname = "vendor"\nevent_table = "{file}"\ntable = "{kind}"\n{extra}\n'


def random_yelt(years: int, rng: np.random.Generator, days: bool = True) -> pd.DataFrame:
    """A YELT of ``years`` years: a Poisson(1.5) number of events a year, each on one or both lines."""
    rows = []
    event = 0
    for year in range(1, years + 1):
        for _ in range(rng.poisson(1.5)):
            event += 1
            day = int(rng.integers(1, 366))
            for line in rng.choice(["cloud", "saas"], size=int(rng.integers(1, 3)), replace=False):
                row = {"year": year, "event": event, "line": line, "loss": float(rng.lognormal(13, 1.2))}
                if days:
                    row["day"] = day
                rows.append(row)
    return pd.DataFrame(rows)


def build(path):
    scenario = load(path)
    return scenario, LossModel.from_scenario(scenario), build_exposure(scenario)


def chunks(scenario, model, exposure, sizes):
    first = 0
    out = []
    for size in sizes:
        out.append(simulate_chunk(scenario, model, exposure, first, size))
        first += size
    return out


def test_a_yelt_gives_each_trial_its_years_losses_exactly(tmp_path, write_scenario):
    years = 300
    table = random_yelt(years, np.random.default_rng(1))
    table.to_csv(tmp_path / "vendor.csv", index=False)
    path = write_scenario(scenario_text(table_entry("vendor.csv", "yelt", f"table_years = {years}"), trials=years))
    scenario, model, exposure = build(path)
    # sums insured far above any loss share: no limit binds
    chunk = simulate_chunk(scenario, model, exposure, 0, years)
    expected = np.zeros((years, 2))
    for (year, line), loss in table.groupby(["year", "line"])["loss"].sum().items():
        expected[year - 1, ["cloud", "saas"].index(line)] = loss
    assert np.allclose(chunk.line_loss, expected, rtol=1e-9, atol=0.0)
    assert np.all(chunk.capped_loss == 0.0)
    # one occurrence per event, in day order, each with every policy of its lines
    per_trial = np.diff(chunk.occ_offsets)
    assert np.array_equal(per_trial, table.groupby("year")["event"].nunique().reindex(range(1, years + 1),
                                                                                      fill_value=0).to_numpy())
    for t in range(years):
        days = chunk.occ_day[chunk.occ_offsets[t]:chunk.occ_offsets[t + 1]]
        assert np.all(np.diff(days) >= 0)
    assert np.all(chunk.occ_event == 0)
    sizes = np.diff(chunk.risk_offsets)
    year_events = table.groupby(["year", "event"])["line"].apply(
        lambda lines: sum(40 if line == "cloud" else 25 for line in lines))
    assert sorted(sizes) == sorted(year_events.to_numpy())


@pytest.mark.parametrize("kind", ["yelt", "elt"])
def test_table_losses_are_the_same_whatever_the_chunks_and_threads(tmp_path, write_scenario, kind):
    rng = np.random.default_rng(2)
    if kind == "yelt":
        table = random_yelt(50, rng, days=False)
        table["policies_hit"] = rng.integers(1, 30, size=len(table))
    else:
        table = elt_table()
    table.to_csv(tmp_path / "vendor.csv", index=False)
    path = write_scenario(scenario_text(table_entry("vendor.csv", kind) + PARAMETRIC, trials=400, frequency=0.05))
    scenario, model, exposure = build(path)
    whole = chunks(scenario, model, exposure, [400])[0]
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        pieces = chunks(scenario, model, exposure, [1, 130, 69, 200])
    finally:
        numba.set_num_threads(threads)
    for name in ("line_loss", "line_claims", "capped_loss"):
        assert np.array_equal(getattr(whole, name), np.concatenate([getattr(c, name) for c in pieces]))
    for name in ("occ_day", "occ_event", "risk_policy", "risk_line", "risk_loss"):
        assert np.array_equal(getattr(whole, name), np.concatenate([getattr(c, name) for c in pieces]))
    assert np.array_equal(np.diff(whole.occ_offsets), np.concatenate([np.diff(c.occ_offsets) for c in pieces]))
    assert np.array_equal(np.diff(whole.risk_offsets), np.concatenate([np.diff(c.risk_offsets) for c in pieces]))


PARAMETRIC = """
[[catastrophes]]
name = "outage"
rate = 0.3
lines = ["cloud"]
affected_share = { dist = "beta", mean = 0.2, sd = 0.1 }
damage_ratio = { dist = "beta", mean = 0.1, sd = 0.05 }
"""


def elt_table() -> pd.DataFrame:
    return pd.DataFrame({
        "event": [11, 11, 12, 13],
        "rate": [0.4, 0.4, 0.25, 0.8],
        "line": ["cloud", "saas", "cloud", "saas"],
        "mean_loss": [4e6, 1e6, 8e6, 5e5],
        "sd_loss": [2e6, 0.0, 3e6, 4e5],
        "max_loss": [2e7, 1e6, 3e7, 5e6],
    })


def test_mixing_a_table_leaves_the_parametric_catastrophe_and_claims_unchanged(tmp_path, write_scenario):
    table = random_yelt(30, np.random.default_rng(3))
    table.to_csv(tmp_path / "vendor.csv", index=False)
    alone = build(write_scenario(scenario_text(PARAMETRIC, trials=300, frequency=0.05), "alone.toml"))
    mixed = build(write_scenario(scenario_text(PARAMETRIC + table_entry("vendor.csv", "yelt"), trials=300,
                                               frequency=0.05), "mixed.toml"))
    a = simulate_chunk(*alone, 0, 300)
    b = simulate_chunk(*mixed, 0, 300)
    # the mixed chunk less its table occurrences (catastrophe 1) is the parametric chunk
    keep = b.occ_event != 1
    assert np.array_equal(b.occ_day[keep], a.occ_day)
    assert np.array_equal(b.occ_event[keep], a.occ_event)
    sizes = np.diff(b.risk_offsets)
    risk_keep = np.repeat(keep, sizes)
    assert np.array_equal(b.risk_loss[risk_keep], a.risk_loss)
    assert np.array_equal(b.risk_policy[risk_keep], a.risk_policy)
    table_loss = np.zeros_like(b.line_loss)
    trial_of_risk = np.repeat(np.repeat(np.arange(300), np.diff(b.occ_offsets)), sizes)
    np.add.at(table_loss, (trial_of_risk[~risk_keep], b.risk_line[~risk_keep]), b.risk_loss[~risk_keep])
    assert np.allclose(b.line_loss - table_loss, a.line_loss, rtol=1e-12, atol=1e-6)


def test_limits_cap_a_policys_part_and_the_cut_is_reported(tmp_path, write_scenario):
    table = pd.DataFrame({"year": [1, 2], "event": [1, 2], "line": ["saas", "saas"],
                          "loss": [5e6, 4e7], "policies_hit": [5, 25]})
    table.to_csv(tmp_path / "vendor.csv", index=False)
    text = scenario_text(table_entry("vendor.csv", "yelt"), trials=2).replace(
        'sum_insured = 1e6\n', 'sum_insured = 1e6\nlimit = 5e5\n')
    scenario, model, exposure = build(write_scenario(text))
    chunk = simulate_chunk(scenario, model, exposure, 0, 2)
    # five policies of 1e6 each get 1e6, capped at 5e5: 2.5e6 kept, 2.5e6 cut; 25 get 1.6e6 each, capped
    assert chunk.line_loss[:, 1] == pytest.approx([2.5e6, 25 * 5e5], rel=1e-12)
    assert chunk.capped_loss[:, 1] == pytest.approx([2.5e6, 4e7 - 25 * 5e5], rel=1e-12)
    assert np.array_equal(chunk.line_claims[:, 1], [5, 25])
    first_event = chunk.risk_policy[chunk.risk_offsets[0]:chunk.risk_offsets[1]]
    assert len(set(first_event)) == 5 and np.all((first_event >= 40) & (first_event < 65))


def test_an_elt_gives_each_event_its_rate_and_loss_moments(tmp_path, write_scenario):
    table = elt_table()
    table.to_csv(tmp_path / "vendor.csv", index=False)
    trials = 40_000
    scenario, model, exposure = build(write_scenario(scenario_text(table_entry("vendor.csv", "elt"), trials=trials)))
    chunk = simulate_chunk(scenario, model, exposure, 0, trials)
    assert np.all(chunk.capped_loss == 0.0)
    # each occurrence's loss by line: its risk losses' sum
    sizes = np.diff(chunk.risk_offsets)
    occurrence = np.repeat(np.arange(chunk.n_occurrences), sizes)
    by_line = np.zeros((chunk.n_occurrences, 2))
    np.add.at(by_line, (occurrence, chunk.risk_line), chunk.risk_loss)
    # events are told apart by the lines they touch and their losses: 11 hits both lines,
    # 12 only cloud, 13 only saas
    event_11 = (by_line[:, 0] > 0) & (by_line[:, 1] > 0)
    event_12 = (by_line[:, 0] > 0) & (by_line[:, 1] == 0)
    event_13 = (by_line[:, 0] == 0) & (by_line[:, 1] > 0)
    assert event_11.sum() + event_12.sum() + event_13.sum() == chunk.n_occurrences
    for mask, rate in ((event_11, 0.4), (event_12, 0.25), (event_13, 0.8)):
        count = mask.sum()
        assert abs(count / trials - rate) <= Z * math.sqrt(rate / trials)
    for mask, line, mean, sd, rate in ((event_11, 0, 4e6, 2e6, 0.4), (event_11, 1, 1e6, 0.0, 0.4),
                                       (event_12, 0, 8e6, 3e6, 0.25), (event_13, 1, 5e5, 4e5, 0.8)):
        losses = by_line[mask, line]
        n = len(losses)
        if sd == 0.0:
            assert np.allclose(losses, mean, rtol=1e-12)
        else:
            assert abs(losses.mean() - mean) <= Z * sd / math.sqrt(n)
            # the sd of the sample variance from the beta's fourth central moment
            fourth = np.mean((losses - losses.mean()) ** 4)
            variance_se = math.sqrt((fourth - losses.var() ** 2) / n)
            assert abs(losses.var(ddof=1) - sd * sd) <= Z * variance_se
            assert losses.max() <= table.loc[(table.line == ["cloud", "saas"][line]) &
                                             (table.mean_loss == mean), "max_loss"].iloc[0]
        # mean annual loss of the event on the line: rate x mean_loss
        annual = np.bincount(np.repeat(np.arange(trials), np.diff(chunk.occ_offsets))[mask], weights=losses,
                             minlength=trials)
        assert abs(annual.mean() - rate * mean) <= Z * annual.std(ddof=1) / math.sqrt(trials)


# ---------------------------------------------------------------- bad tables
GOOD_YELT = "year,event,line,loss,day,policies_hit\n1,1,cloud,1e6,10,5\n1,1,saas,2e5,10,3\n2,2,cloud,4e6,200,8\n"
GOOD_ELT = "event,rate,line,mean_loss,sd_loss,max_loss\n1,0.1,cloud,1e6,5e5,1e7\n2,0.2,saas,2e5,0,1e6\n"


@pytest.mark.parametrize("kind, text, expected", [
    ("yelt", "year,event,line\n1,1,cloud\n", "column loss is missing"),
    ("yelt", GOOD_YELT + "2,3,storage,1e6,5,1\n", "row 4 (line 5), column line: 'storage' is not a line"),
    ("yelt", GOOD_YELT + "2,3,cloud,-5,5,1\n", "row 4 (line 5), column loss: -5.0 is negative"),
    ("yelt", GOOD_YELT + "2,3,cloud,5,366,1\n", "row 4 (line 5), column day: 366 must be within [1, 365]"),
    ("yelt", GOOD_YELT + "2,3,cloud,5,0,1\n", "row 4 (line 5), column day: 0 must be within [1, 365]"),
    ("yelt", GOOD_YELT + "1,1,cloud,5,10,1\n", "row 4 (line 5), column line: 'cloud' repeats an earlier row's "
                                               "(year, event, line)"),
    ("yelt", GOOD_YELT + "1,1,robots,5,11,1\n", "column line: 'robots' is not a line"),
    ("yelt", GOOD_YELT.replace("1,1,saas,2e5,10,3", "1,1,saas,2e5,11,3"), "row 2 (line 3), column day: 11 "
                                                                          "differs from the day"),
    ("yelt", GOOD_YELT + "0,3,cloud,5,5,1\n", "row 4 (line 5), column year: 0 must be >= 1"),
    ("yelt", GOOD_YELT + "2.5,3,cloud,5,5,1\n", "row 4 (line 5), column year: 2.5 is not a whole number"),
    ("yelt", GOOD_YELT + "2,3,cloud,,5,1\n", "row 4 (line 5), column loss: an empty cell is not a finite number"),
    ("yelt", GOOD_YELT + "2,3,cloud,5,5,0\n", "row 4 (line 5), column policies_hit: 0 must be >= 1"),
    ("elt", GOOD_ELT + "3,-0.1,cloud,1e6,0,1e7\n", "row 3 (line 4), column rate: -0.1 is negative"),
    ("elt", GOOD_ELT + "3,0.1,cloud,1e6,5e6,1e7\n", "row 3 (line 4), column sd_loss: 5000000.0 is too large"),
    ("elt", GOOD_ELT + "3,0.1,cloud,2e7,0,1e7\n", "row 3 (line 4), column mean_loss: 20000000.0 is above max_loss"),
    ("elt", GOOD_ELT + "1,0.1,cloud,1e6,0,1e7\n", "row 3 (line 4), column line: 'cloud' repeats"),
    ("elt", GOOD_ELT + "3,0.1,cloud,1e6,0,0\n", "row 3 (line 4), column max_loss: 0.0 must be > 0"),
    ("elt", GOOD_ELT.replace("event,rate", "event,rates"), "column rate is missing"),
])
def test_a_bad_table_exits_2_naming_the_file_row_and_column_and_writes_nothing(tmp_path, write_scenario, capsys,
                                                                              kind, text, expected):
    from sim.cli import main

    (tmp_path / "vendor.csv").write_text(text, encoding="utf-8")
    path = write_scenario(scenario_text(table_entry("vendor.csv", kind)))
    out = tmp_path / "results"
    assert main(["run", str(path), "--out", str(out), "--no-progress", "--no-plots"]) == 2
    error = capsys.readouterr().err
    assert 'catastrophes[0].event_table = "vendor.csv"' in error and str(path) in error
    assert expected in error
    assert not out.exists()


@pytest.mark.parametrize("extra, expected", [
    ('rate = 0.1\n', "gives both event_table and rate"),
    ('table_years = 5\n', "table_years is for a YELT"),
])
def test_a_catastrophe_with_a_table_takes_no_parametric_key(tmp_path, write_scenario, extra, expected):
    from sim.scenario import validate

    (tmp_path / "vendor.csv").write_text(GOOD_ELT, encoding="utf-8")
    problems = validate(write_scenario(scenario_text(table_entry("vendor.csv", "elt", extra))))
    assert any(expected in problem for problem in problems), problems


def test_a_missing_file_or_a_wrong_suffix_is_a_problem(tmp_path, write_scenario):
    from sim.scenario import validate

    assert "no such file" in " ".join(validate(write_scenario(scenario_text(table_entry("absent.csv", "yelt")))))
    (tmp_path / "vendor.txt").write_text(GOOD_YELT, encoding="utf-8")
    assert ".csv or .parquet" in " ".join(validate(write_scenario(scenario_text(table_entry("vendor.txt", "yelt")))))


def test_parquet_tables_read_as_csv_ones_and_the_schema_knows_the_keys(tmp_path, write_scenario):
    import tomllib

    import jsonschema

    from sim.schema_json import scenario_schema

    (tmp_path / "vendor.csv").write_text(GOOD_YELT, encoding="utf-8")
    pd.read_csv(tmp_path / "vendor.csv").to_parquet(tmp_path / "vendor.parquet")
    from_csv = load(write_scenario(scenario_text(table_entry("vendor.csv", "yelt")), "a.toml"))
    from_parquet = load(write_scenario(scenario_text(table_entry("vendor.parquet", "yelt")), "b.toml"))
    a, b = from_csv.catastrophes[0].event_table, from_parquet.catastrophes[0].event_table
    for name in ("year_offsets", "event_id", "event_day", "row_offsets", "row_line", "row_loss", "row_policies"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert a.years == 2 and list(a.event_day) == [9.5, 199.5]
    validator = jsonschema.Draft202012Validator(scenario_schema())
    document = tomllib.loads(scenario_text(table_entry("vendor.csv", "yelt", "table_years = 10")))
    assert validator.is_valid(document)
    document["catastrophes"][0]["rate"] = 0.1
    assert not validator.is_valid(document)


def test_trials_beyond_a_yelts_years_are_noted(tmp_path, write_scenario):
    from sim.table_events import table_notes

    (tmp_path / "vendor.csv").write_text(GOOD_YELT, encoding="utf-8")
    scenario = load(write_scenario(scenario_text(table_entry("vendor.csv", "yelt", "table_years = 100"))))
    assert table_notes(scenario, 100) == []
    (note,) = table_notes(scenario, 101)
    assert "rests on 100 distinct years" in note


def test_the_example_with_a_yelt_gives_the_same_run_on_dask_and_in_chunks(tmp_path):
    """scenarios/ai_cyber_vendor_events.toml: a YELT and a parametric catastrophe on the full pool."""
    pytest.importorskip("dask.distributed")
    import sim
    from conftest import SCENARIOS

    path = SCENARIOS / "ai_cyber_vendor_events.toml"
    runs = [sim.run(path, trials=600, chunk_trials=600, progress=False),
            sim.run(path, trials=600, chunk_trials=97, progress=False),
            sim.run(path, trials=600, chunk_trials=150, workers=2, progress=False)]
    for other in runs[1:]:
        pd.testing.assert_frame_equal(runs[0].trials, other.trials, check_exact=True)
        pd.testing.assert_frame_equal(runs[0].line_losses, other.line_losses, check_exact=True)
    # the table's catastrophe loss is there: the YELT's years 1..600 on the two lines it touches
    table = pd.read_csv(SCENARIOS / "event_tables" / "ai_cyber_cloud_outage_yelt.csv")
    assert table["year"].between(1, 600).any()
    assert runs[0].line_losses["gross_loss"].sum() > table.loc[table["year"] <= 600, "loss"].sum()


def test_what_the_limits_cut_and_what_they_let_through_add_up_to_the_table_in_every_trial(tmp_path, write_scenario):
    """Conservation: with sums insured that vary and limits that bind, each trial's line loss
    plus its capped_loss is the table year's loss to the line."""
    years = 200
    rng = np.random.default_rng(4)
    table = random_yelt(years, rng)
    table["loss"] *= 20.0          # losses of tens of millions on lines of 1-2 million policies
    table["policies_hit"] = rng.integers(1, 40, size=len(table))
    table.to_csv(tmp_path / "vendor.csv", index=False)
    text = scenario_text(table_entry("vendor.csv", "yelt", f"table_years = {years}"), trials=years).replace(
        "median = 2e6, sigma = 0.4 }\n", "median = 2e6, sigma = 0.4 }\nlimit = 1.5e6\n")
    scenario, model, exposure = build(write_scenario(text))
    chunk = simulate_chunk(scenario, model, exposure, 0, years)
    expected = np.zeros((years, 2))
    for (year, line), loss in table.groupby(["year", "line"])["loss"].sum().items():
        expected[year - 1, ["cloud", "saas"].index(line)] = loss
    assert chunk.capped_loss.sum() > 0.1 * expected.sum()          # the limits do bind
    assert np.allclose(chunk.line_loss + chunk.capped_loss, expected, rtol=1e-9, atol=1e-6)
    assert np.all(chunk.risk_loss <= exposure.limit[chunk.risk_policy])


def test_a_bad_parquet_table_names_its_row(tmp_path, write_scenario):
    from sim.scenario import validate

    bad = pd.read_csv(io.StringIO(GOOD_YELT))
    bad.loc[2, "loss"] = -1.0
    bad.to_parquet(tmp_path / "vendor.parquet", index=False)
    problems = validate(write_scenario(scenario_text(table_entry("vendor.parquet", "yelt"))))
    assert any("row 3, column loss: -1.0 is negative" in problem for problem in problems), problems
