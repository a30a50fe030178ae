"""treaties.csv: what each treaty costs, against closed forms and against a comparison."""
from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from sim.compare import compare

# Mata (2000): Poisson(10) claims a year, Lomax(shape 3, scale 10) severities, a 10 xs 10 layer
# per risk with (in effect) no aggregate limit. P(a claim reaches the layer) = (1 + 10/10)^-3 =
# 1/8, so P(the layer pays in a year) = 1 - exp(-10/8); its expected loss per claim is
# the integral of (1 + x/10)^-3 from 10 to 20 = 5 (1/4 - 1/9) = 25/36, per year 10 x 25/36.
MATA = """
name = "Mata layer"
[simulation]
trials = {trials}
seed = 2000

[[lines]]
name = "risks"
policies = 1
sum_insured = 1e12
premium_rate = 1e-10
frequency = {{ dist = "poisson", mean = 10 }}
severity = {{ dist = "pareto", scale = 10, shape = 3 }}

[pool]
name = "one cedant"

[[pool.members]]
name = "Cedant"
role = "lead"
share = 1.0
capital = 1e6

[[pool.reinsurance]]
type = "per_risk_xl"
retention = 10
limit = 10
reinstatements = 1000
reinstatement_premium = 0
premium = 0
panel = {{ "Re" = 1.0 }}

[[reinsurers]]
name = "Re"
"""


def test_a_layers_chance_of_attaching_and_expected_loss_match_mata(write_scenario):
    trials = 20_000
    results = sim.run(write_scenario(MATA.format(trials=trials)), plots=False, progress=False)
    row = results.treaties.iloc[0]
    assert (row["cedant"], row["treaty"], row["type"]) == ("pool", "per_risk_xl #1", "per_risk_xl")
    attach = 1.0 - math.exp(-1.25)
    assert abs(row["prob_attach"] - attach) < 4 * math.sqrt(attach * (1 - attach) / trials)
    assert abs(row["expected_ceded_loss"] - 10 * 25 / 36) < 4 * row["expected_ceded_loss_se"]
    assert row["prob_exhaust"] == 0.0 and row["cost"] == pytest.approx(-row["expected_ceded_loss"], rel=1e-15)


def test_treaties_add_up_to_the_recoveries_of_the_members(tiny_scenario_path):
    """Every treaty's recoveries due = what the members got back + what defaults took from them."""
    results = sim.run(tiny_scenario_path, trials=2_000, plots=False, progress=False)
    treaties, summary = results.treaties, results.summary.set_index("party")
    assert list(treaties["treaty"]) == ["quota_share #1", "per_risk_xl #2", "cat_xl #3", "stop_loss #1"]
    assert list(treaties["cedant"]) == ["pool"] * 3 + ["Follower P&C"]
    pool = summary.loc["pool"]
    assert treaties["expected_ceded_loss"].sum() == pytest.approx(
        pool["expected_recovery"] + pool["expected_default_loss"], rel=1e-12)
    assert treaties["expected_default_loss"].sum() == pytest.approx(pool["expected_default_loss"], rel=1e-12)
    premium = treaties["ceded_premium"].sum() + treaties["reinstatement_premium"].sum()
    reinsurers = summary[summary["kind"] == "reinsurer"]
    assert premium == pytest.approx(reinsurers["gross_premium"].sum(), rel=1e-12)
    # a proportional treaty has no capacity to exhaust; the cat XL's is 2 x 10m
    assert math.isnan(treaties.loc[0, "prob_exhaust"]) and 0 <= treaties.loc[2, "prob_exhaust"] <= 1


LAST_LAYER = """
[[pool.reinsurance]]
type = "cat_xl"
retention = 2e6
limit = 20e6
reinstatements = 1
reinstatement_basis = "amount_and_time"
rate_on_line = 0.08
panel = { "China Re" = 0.7, "Swiss Re" = 0.3 }
"""


def test_the_cost_of_the_last_treaty_is_what_buying_it_takes_from_the_members(tiny_scenario_text, write_scenario,
                                                                             tmp_path):
    """Without member programmes, the last treaty of the pool's programme inures to nothing:
    its cost is the fall in the members' total expected net result when it is added, on the
    same losses, to floating-point accuracy (defaults included: both reinsurers may default)."""
    text = tiny_scenario_text.replace('''
[[pool.members.reinsurance]]
type = "stop_loss"
attachment = 1.1
limit = 0.5
rate = 0.04
panel = { "Swiss Re" = 1.0 }
''', "").replace('default_probability = 0.0001', 'default_probability = 0.05')
    text = text.replace('rating = "A"', 'default_probability = 0.03')
    without = write_scenario(text, "without.toml")
    with_layer = write_scenario(text.replace("[[reinsurers]]", LAST_LAYER + "\n[[reinsurers]]", 1), "with.toml")
    result = compare([without, with_layer], out=tmp_path / "cmp", trials=3_000, progress=False)
    before, after = result.runs

    def members_result(results):
        summary = results.summary
        return summary.loc[summary["kind"] == "member", "expected_net_result"].sum()

    last = after.treaties.iloc[-1]
    assert last["treaty"] == "cat_xl #4" and last["expected_default_loss"] > 0
    assert last["cost"] == pytest.approx(members_result(before) - members_result(after), rel=1e-9)
    # and the earlier treaties cost what they cost without it
    np.testing.assert_allclose(after.treaties["cost"].iloc[:-1], before.treaties["cost"], rtol=1e-12)


def test_treaties_csv_is_written_and_read_back(tiny_scenario_path, tmp_path):
    results = sim.run(tiny_scenario_path, trials=300, out=tmp_path / "run", plots=False, progress=False)
    from sim.results import Results
    again = Results.read(tmp_path / "run")
    assert list(again.treaties.columns) == list(results.treaties.columns)
    np.testing.assert_allclose(again.treaties["cost"], results.treaties["cost"], rtol=1e-15)


def test_a_multi_year_run_has_a_row_per_treaty_and_year(tiny_scenario_text, write_scenario):
    text = tiny_scenario_text.replace("years = 1", "years = 3")
    results = sim.run(write_scenario(text), trials=200, plots=False, progress=False)
    treaties = results.treaties
    assert len(treaties) == 4 * 3 and treaties["year"].tolist() == [1] * 4 + [2] * 4 + [3] * 4
    first_year = treaties[treaties["year"] == 1]
    pool_year_one = results.summary[(results.summary["year"] == 1) & (results.summary["party"] == "pool")].iloc[0]
    assert first_year["expected_ceded_loss"].sum() == pytest.approx(pool_year_one["expected_ceded_loss"], rel=1e-12)
