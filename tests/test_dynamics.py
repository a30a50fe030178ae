"""Multi-year dynamics (sim.dynamics): money over the horizon, payments, exits, reinsurer defaults, growth."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.dynamics import YEAR_STRIDE, pattern_shares, prepare_dynamics, simulate_paths
from sim.occurrences import subset_chunk
from sim.parties import PARTY_COLUMNS
from sim.scenario import load

# Every policy has exactly one claim of CNY 1m a year (less no deductible): the
# pool's gross loss is 200 x 1m = 200m every year, its premium 200 x 0.5m = 100m.
DETERMINISTIC = """
name = "deterministic pool"
[simulation]
trials = {trials}
seed = 11
years = {years}

[[lines]]
name = "robots"
policies = 200
sum_insured = 1e7
premium_rate = 0.05
frequency = {{ dist = "bernoulli", p = 1.0 }}
severity = 1e6
capital_class = "liability"

[pool]
name = "pool"

[[pool.members]]
name = "Lead"
role = "lead"
share = 0.5
capital = 1e10

[[pool.members]]
name = "Big Follower"
role = "follower"
share = 0.3
capital = 1e10

[[pool.members]]
name = "Thin Follower"
role = "follower"
share = 0.2
capital = {thin_capital}
{extra}
[dynamics]
exposure_growth = {growth}
payment_pattern = [0.6, 0.3, 0.1]
recovery_delay_days = {delay}
exit_below_solvency = {exit}
reallocation = "{reallocation}"
"""
GROSS = 200 * 1e6
PREMIUM = 200 * 0.05 * 1e7

QUOTA_SHARE = """
[[pool.reinsurance]]
type = "quota_share"
cession = 0.5
panel = {{ "Fragile Re" = 1.0 }}

[[reinsurers]]
name = "Fragile Re"
recovery_rate = 0.4
capital = {reinsurer_capital}
"""


def deterministic(write_scenario, trials=8, years=4, thin_capital=1e10, growth=0.0, delay=0.0, exit=0.0,
                  reallocation="pro_rata", extra=""):
    text = DETERMINISTIC.format(trials=trials, years=years, thin_capital=thin_capital, growth=growth, delay=delay,
                                exit=exit, reallocation=reallocation, extra=extra)
    return load(write_scenario(text))


def paths(scenario, trials=None):
    prepared = prepare_dynamics(scenario)
    arrays, line_loss, *_ = simulate_paths(prepared, 0, trials or scenario.simulation.trials)
    return prepared.parties, arrays, line_loss


def column(parties, name):
    return list(parties.names).index(name)


# --------------------------------------------------------------------------- payment pattern
def test_paid_to_date_follows_the_payment_pattern_exactly(write_scenario):
    scenario = deterministic(write_scenario, years=4)
    parties, arrays, _ = paths(scenario)
    lead = column(parties, "Lead")
    share = 0.5 * GROSS
    # Accident years of equal size: paid in year y is sum over the open accident years.
    expected_paid = share * np.array([0.6, 0.9, 1.0, 1.0])
    expected_outstanding = share * np.array([0.4, 0.5, 0.5, 0.5])
    np.testing.assert_allclose(arrays["paid_loss"][:, :, lead], np.broadcast_to(expected_paid, (8, 4)), rtol=1e-12)
    np.testing.assert_allclose(arrays["outstanding_loss"][:, :, lead],
                               np.broadcast_to(expected_outstanding, (8, 4)), rtol=1e-12)
    # Paid to date of the whole portfolio after three years: every year-1 claim, 90% of year 2's, 60% of year 3's.
    assert np.allclose(arrays["paid_loss"][:, :3, lead].sum(axis=1), share * (1.0 + 0.9 + 0.6), rtol=1e-12)


# --------------------------------------------------------------------------- money over the horizon
def assert_money_conserved(parties, arrays):
    members, reinsurers = parties.indices("member"), parties.indices("reinsurer")
    # Every year: the contract's identity.
    pool_gross = arrays["gross_loss"][:, :, 0]
    yearly = arrays["net_loss"][:, :, members].sum(axis=2) + arrays["net_loss"][:, :, reinsurers].sum(axis=2)
    np.testing.assert_allclose(yearly, pool_gross, rtol=1e-9, atol=1e-3)
    # Over the horizon: paid, defaulted (members' shortfalls) and still outstanding, separated.
    member_paid = arrays["paid_loss"][:, :, members].sum(axis=(1, 2))
    member_shortfall = arrays["member_default_loss"][:, :, members].sum(axis=(1, 2))
    member_outstanding = (arrays["outstanding_loss"][:, -1, members] - arrays["recoverable"][:, -1, members]).sum(axis=1)
    reinsurer_paid = arrays["paid_loss"][:, :, reinsurers].sum(axis=(1, 2))
    reinsurer_outstanding = arrays["outstanding_loss"][:, -1, reinsurers].sum(axis=1)
    total = member_paid + member_shortfall + member_outstanding + reinsurer_paid + reinsurer_outstanding
    np.testing.assert_allclose(total, pool_gross.sum(axis=1), rtol=1e-9, atol=1e-3)
    # Capital moves by the year's result plus the claims a ruined member could not pay.
    result = (arrays["gross_premium"] - arrays["ceded_premium"] - arrays["reinstatement_premium"]
              + arrays["commission"] - arrays["expenses"] + arrays["lead_fee"] - arrays["net_loss"])
    np.testing.assert_allclose(arrays["capital_end"][:, :, members],
                               (arrays["capital_start"] + result + arrays["member_default_loss"])[:, :, members],
                               rtol=1e-9, atol=1e-3)
    np.testing.assert_allclose(arrays["capital_start"][:, 1:, members], arrays["capital_end"][:, :-1, members],
                               rtol=0, atol=0)


def test_money_is_conserved_over_the_horizon_with_defaults_ruin_and_exits(write_scenario):
    # Thin follower is ruined in year 1 (defaults on its claims) and leaves; the reinsurer
    # runs out of capital; recoveries arrive a quarter late.
    scenario = deterministic(write_scenario, trials=16, years=5, thin_capital=2e6, delay=90.0, exit=1.0,
                             growth=0.1, extra=QUOTA_SHARE.format(reinsurer_capital=1.2e8))
    parties, arrays, line_loss = paths(scenario)
    assert_money_conserved(parties, arrays)
    thin = column(parties, "Thin Follower")
    assert arrays["member_default_loss"][:, :, thin].sum() > 0           # the ruin shortfall is reported
    assert (arrays["default_loss"][:, :, parties.indices("reinsurer")] > 0).any()
    np.testing.assert_allclose(line_loss.sum(axis=2), arrays["gross_loss"][:, :, 0], rtol=1e-12)


def test_money_is_conserved_on_the_example_scenario():
    scenario = load(sim.__path__[0] + "/../scenarios/ai_cyber_five_years.toml")
    parties, arrays, _ = paths(scenario, trials=300)
    assert_money_conserved(parties, arrays)


def test_a_ruined_member_pays_a_constant_dividend_and_ends_its_run_off_at_zero(write_scenario):
    # No business after year 1 for anyone (thin capital, everybody leaves), so the run-off is visible.
    scenario = deterministic(write_scenario, trials=4, years=4, thin_capital=2e6, exit=1.0)
    parties, arrays, _ = paths(scenario)
    thin = column(parties, "Thin Follower")
    assert (arrays["active"][:, 1:, thin] == 0).all()
    due = 0.2 * GROSS * np.array([0.6, 0.3, 0.1])         # its year-1 claims, paid over three years
    shortfall = arrays["member_default_loss"][:, :3, thin]
    paid = arrays["paid_loss"][:, :3, thin]
    np.testing.assert_allclose(paid + shortfall, np.broadcast_to(due, (4, 3)), rtol=1e-12)
    dividend = paid / (paid + shortfall)
    # Ruined during year 1 (its losses hit capital as they occur, and its claims become outstanding
    # so): while losses keep occurring its dividend falls, so year 1's payments are at a higher
    # dividend than the run-off's, where no loss occurs any more and every payment is at the same one.
    assert (dividend[:, 0] > dividend[:, 1]).all() and (dividend[:, 1] < 1.0).all()
    np.testing.assert_allclose(dividend[:, 2], dividend[:, 1], rtol=1e-9)
    np.testing.assert_allclose(arrays["capital_end"][:, 2, thin], 0.0, atol=1e-3)  # run-off over: nothing left


# Two policies, each with exactly one claim of 2m a year on a random day; the Thin member's half
# of a claim (1m) is far beyond its capital and premium, so its first claim ruins it.
TWO_CLAIMS = """
name = "two claims a year"
[simulation]
trials = 64
seed = 5
years = 2

[[lines]]
name = "robots"
policies = 2
sum_insured = 1e7
premium_rate = 0.01
frequency = { dist = "bernoulli", p = 1.0 }
severity = 2e6

[pool]
name = "pool"

[[pool.members]]
name = "Lead"
role = "lead"
share = 0.5
capital = 1e10

[[pool.members]]
name = "Thin"
role = "follower"
share = 0.5
capital = 2e5

[dynamics]
payment_pattern = [0.6, 0.3, 0.1]
"""


def test_a_ruined_member_pays_its_dividend_on_the_claims_incurred_to_date(write_scenario):
    # The liquidator's dividend is (capital + outstanding) / outstanding with outstanding the claims
    # incurred to date less those paid, as capital holds the losses incurred to date. Thin has
    # capital C = 200k, earns e = 25k of premium a quarter (its half of 2 x 1e7 x 1%, over four
    # quarters) and bears l = 1m of each claim; 60% of a claim is paid in its quarter, the rest later.
    # With its first claim in quarter a, A = C + (a + 1) e are its assets then (before any loss):
    # * both claims in quarter a: capital A - 2l, outstanding 2l, so it pays A / 2l of 1.2 l;
    # * the second in a later quarter b: it pays A / l of 0.6 l in quarter a, leaving capital
    #   0.4 (A - l) and outstanding 0.4 l; in quarter b capital 0.4 (A - l) + (b - a) e - l and
    #   outstanding 1.4 l, so it pays (0.4 A + (b - a) e) / 1.4 l of 0.6 l.
    #   (Booking the whole year at renewal made the first dividend (A + l) / 2l: 0.61 for 0.225.)
    from sim.dynamics import DAYS_IN_QUARTER
    from sim.engine import LossModel, simulate_chunk
    from sim.exposure import build_exposure
    scenario = load(write_scenario(TWO_CLAIMS))
    capital, earned, loss = 2e5, 0.5 * 2 * 1e7 * 0.01 / 4, 0.5 * 2e6
    # The quarters of each path's two claims, read from year 1's occurrences (trial ids 0..63).
    chunk = simulate_chunk(scenario, LossModel.from_scenario(scenario), build_exposure(scenario), 0, 64)
    np.testing.assert_array_equal(np.diff(chunk.occ_offsets), 2)             # one occurrence per claim
    np.testing.assert_array_equal(chunk.risk_loss, 2e6)
    quarters = np.minimum(chunk.occ_day // DAYS_IN_QUARTER, 3).astype(int).reshape(64, 2)
    a, b = quarters.min(axis=1), quarters.max(axis=1)
    assets = capital + (a + 1) * earned
    first = np.where(a == b, assets / (2 * loss), assets / loss)
    second = np.where(a == b, 0.0, (0.4 * assets + (b - a) * earned) / (1.4 * loss))
    expected_paid = np.where(a == b, 1.2 * loss * first, 0.6 * loss * (first + second))
    assert (a < b).sum() >= 20 and (a == b).sum() >= 3                        # both cases are tested

    parties, arrays, _ = paths(scenario)
    thin = column(parties, "Thin")
    np.testing.assert_allclose(arrays["paid_loss"][:, 0, thin], expected_paid, rtol=1e-9)
    np.testing.assert_allclose(arrays["member_default_loss"][:, 0, thin], 1.2 * loss - expected_paid, rtol=1e-9)
    np.testing.assert_allclose(arrays["capital_end"][:, 0, thin],
                               capital + 4 * earned - 2 * loss + 1.2 * loss - expected_paid, rtol=1e-9)
    # At the year end both claims are incurred: 40% of them is outstanding, ruin or not.
    np.testing.assert_allclose(arrays["outstanding_loss"][:, 0, thin], 0.8 * loss, rtol=1e-9)
    assert_money_conserved(parties, arrays)


# --------------------------------------------------------------------------- exits and re-allocation
@pytest.mark.parametrize("reallocation, expected", [
    ("pro_rata", {"Lead": 0.5 / 0.8, "Big Follower": 0.3 / 0.8, "Thin Follower": 0.0}),
    ("lead", {"Lead": 0.7, "Big Follower": 0.3, "Thin Follower": 0.0}),
])
def test_a_thin_follower_that_breaches_in_year_one_leaves_at_year_two(write_scenario, reallocation, expected):
    scenario = deterministic(write_scenario, years=3, thin_capital=3e7, exit=1.2, reallocation=reallocation)
    parties, arrays, _ = paths(scenario)
    thin = column(parties, "Thin Follower")
    assert (arrays["solvency_ratio"][:, 0, thin] < 1.2).all()
    assert (arrays["active"][:, 0, thin] == 1).all() and (arrays["active"][:, 1:, thin] == 0).all()
    for name, share in expected.items():
        m = column(parties, name)
        assert arrays["share"][:, 0, m] == pytest.approx({"Lead": 0.5, "Big Follower": 0.3,
                                                          "Thin Follower": 0.2}[name])
        np.testing.assert_allclose(arrays["share"][:, 1:, m], share, rtol=1e-12)
        np.testing.assert_allclose(arrays["gross_loss"][:, 1, m], share * GROSS, rtol=1e-12)
        np.testing.assert_allclose(arrays["gross_premium"][:, 1, m], share * PREMIUM, rtol=1e-12)
    assert (arrays["active"][:, :, 0] == 1).all()      # the pool goes on


def test_under_the_var_regime_a_member_that_left_needs_no_capital_for_the_pool(write_scenario):
    # Regime var over several years (no test had it): a member's minimum capital is its share of
    # the pool's 99.5% loss, the same on every path here (every year loses GROSS - PREMIUM = 100m).
    # Thin (20%, capital 30m) needs 20m, ends year 1 at 10m (a ratio of 0.5) and leaves; in its
    # run-off it needs none (var has no reserve risk): no ratio, not its capital over the
    # one-unit floor that a writing member's need has.
    scenario = deterministic(write_scenario, years=3, thin_capital=3e7, exit=1.2,
                             extra='\n[solvency]\nregime = "var"\n')
    parties, arrays, _ = paths(scenario)
    thin, lead = column(parties, "Thin Follower"), column(parties, "Lead")
    np.testing.assert_allclose(arrays["minimum_capital"][:, 0, thin], 0.2 * (GROSS - PREMIUM), rtol=1e-12)
    np.testing.assert_allclose(arrays["solvency_ratio"][:, 0, thin], 1e7 / 2e7, rtol=1e-12)
    assert (arrays["active"][:, 1:, thin] == 0).all()
    assert (arrays["minimum_capital"][:, 1:, thin] == 0.0).all()
    assert np.isnan(arrays["solvency_ratio"][:, 1:, thin]).all()
    # the members left take its share (pro rata): the lead 0.5 / 0.8 of the pool's 100m loss
    np.testing.assert_allclose(arrays["minimum_capital"][:, 1:, lead], 0.5 / 0.8 * (GROSS - PREMIUM), rtol=1e-12)


def test_shares_of_the_members_left_sum_to_one():
    scenario = load(sim.__path__[0] + "/../tests/data/tiny.toml")
    for active in ([True, False], [False, True], [True, True]):
        assert pattern_shares(scenario, np.array(active)).sum() == pytest.approx(1.0)
    assert pattern_shares(scenario, np.array([False, False])).sum() == 0.0


def test_a_pool_with_no_member_left_ends_the_path(write_scenario):
    scenario = deterministic(write_scenario, years=3, thin_capital=3e7, exit=1e9)   # every member breaches
    parties, arrays, line_loss = paths(scenario)
    assert (arrays["active"][:, 0, 0] == 1).all() and (arrays["active"][:, 1:, 0] == 0).all()
    assert (arrays["gross_loss"][:, 1:, 0] == 0).all() and (arrays["gross_premium"][:, 1:] == 0).all()
    assert (line_loss[:, 1:] == 0).all()
    assert (arrays["paid_loss"][:, 1, 1:4] > 0).all()     # the run-off of year 1 goes on


def test_a_run_off_that_has_ended_leaves_exactly_nothing_and_no_solvency_ratio(write_scenario):
    # Every member leaves after year 1. Its claims are paid over three years (0.6, 0.3, 0.1) and
    # the reinsurer's recoveries 90 days after each payment, the last in year 4.
    scenario = deterministic(write_scenario, years=4, thin_capital=3e7, exit=1e9, delay=90.0,
                             extra=QUOTA_SHARE.format(reinsurer_capital=1e12))
    parties, arrays, _ = paths(scenario)
    members = parties.indices("member")
    assert (arrays["active"][:, 1:, members] == 0).all()
    assert (arrays["outstanding_loss"][:, 1, members] > 0).all()
    # Nothing left, not rounding dust: dust of 1e-10 gave a minimum capital of 1e-10 and ratios of 1e16.
    assert (arrays["outstanding_loss"][:, 2:, members] == 0.0).all()
    assert (arrays["recoverable"][:, 3, members] == 0.0).all()
    assert (arrays["minimum_capital"][:, 2:, members] == 0.0).all()
    assert np.isnan(arrays["solvency_ratio"][:, 2:, :4]).all()       # members and the pool: not applicable
    assert not np.isinf(arrays["solvency_ratio"]).any()
    assert_money_conserved(parties, arrays)


# --------------------------------------------------------------------------- reinsurer capital carried
def test_a_reinsurer_weakened_in_year_one_defaults_in_year_two(write_scenario):
    # QS 50%: it owes 100m a year and receives 50m; with 90m of capital it pays year 1 in full
    # (140m of assets) and ends it with 40m. Year 2: 40m + 50m of premium < 100m owed, a default.
    # Its assets are then 40m + 50m + the 40m it holds for year 1's recoveries not yet paid (40%
    # of year 1's claims are unpaid), against 100m + 40m of claims: it pays 13/14 of every claim
    # and ends at zero; the cedants lose the other 10m.
    scenario = deterministic(write_scenario, years=3, extra=QUOTA_SHARE.format(reinsurer_capital=9e7))
    parties, arrays, _ = paths(scenario)
    re = column(parties, "Fragile Re")
    members = parties.indices("member")
    owed = 0.5 * GROSS
    assert (arrays["defaulted"][:, 0, re] == 0).all() and (arrays["default_loss"][:, 0, members] == 0).all()
    np.testing.assert_allclose(arrays["capital_end"][:, 0, re], 9e7 + 0.5 * PREMIUM - owed, rtol=1e-12)
    receivable = arrays["recoverable"][:, 0, members].sum(axis=1)
    np.testing.assert_allclose(receivable, 0.4 * owed, rtol=1e-12)
    cedants_default = arrays["default_loss"][:, :, members].sum(axis=2)
    assert (arrays["defaulted"][:, 1, re] == 1).all()
    np.testing.assert_allclose(cedants_default[:, 1], (owed + receivable) / 14, rtol=1e-12)
    np.testing.assert_allclose(cedants_default[:, 1], 1e7, rtol=1e-12)
    np.testing.assert_allclose(arrays["default_loss"][:, 1, re], cedants_default[:, 1], rtol=1e-12)
    np.testing.assert_allclose(arrays["capital_end"][:, 1:, re], 0.0, atol=1e-3)
    # Year 3: still in default, and off the panel: no premium, nothing owed, the pool keeps it all.
    assert (arrays["defaulted"][:, 2, re] == 1).all()
    assert not arrays["gross_premium"][:, 2, re].any() and not arrays["gross_loss"][:, 2, re].any()
    assert not arrays["ceded_loss"][:, 2, members].any() and not cedants_default[:, 2].any()
    assert_money_conserved(parties, arrays)


def test_a_reinsurers_horizon_default_probability_is_of_default_in_any_year(write_scenario):
    # as above: in default from year 2 on, in every path; the mean of the yearly flags is 2/3
    scenario = deterministic(write_scenario, years=3, extra=QUOTA_SHARE.format(reinsurer_capital=9e7))
    results = sim.run(scenario, plots=False, progress=False)
    rows = results.summary[results.summary["party"] == "Fragile Re"]
    assert rows.loc[rows["year"].isna(), "prob_default"].tolist() == [1.0]       # "ever", as prob_ruin
    assert rows.dropna(subset=["year"])["prob_default"].tolist() == [0.0, 1.0, 1.0]


def test_a_panel_left_by_a_defaulted_reinsurer_goes_to_the_others_pro_rata():
    from sim.dynamics import pattern_scenario
    scenario = load(sim.__path__[0] + "/../scenarios/ai_cyber_pool.toml")
    names = [r.name for r in scenario.reinsurers]
    defaulted = np.array([name == names[0] for name in names])
    active = np.ones(len(scenario.pool.members), dtype=bool)
    changed = pattern_scenario(scenario, active, defaulted)
    for before, after in zip(scenario.pool.reinsurance, changed.pool.reinsurance):
        kept = {name: share for name, share in before.panel if name != names[0]}
        assert dict(after.panel) == pytest.approx({name: share / sum(kept.values()) for name, share in kept.items()})
    # A treaty placed only with reinsurers in default is dropped: its cedant keeps the risk.
    everyone = pattern_scenario(scenario, active, np.ones(len(names), dtype=bool))
    assert everyone.pool.reinsurance == ()


@pytest.mark.parametrize("domestic_ratio, factor", [(None, 0.167), (2.5, 0.008)])
def test_credit_risk_is_on_the_recoverables_at_the_year_end(write_scenario, monkeypatch, domestic_ratio, factor):
    # QS 50% with an unrated reinsurer (C-ROSS factor 0.167), or a domestic one at 250% (0.008).
    # Claims are paid 60/30/10 over three years, so at a year end the recoverables are half of
    # what is still unpaid (40% of this year's claims, 10% of last year's), not the year's ceded loss.
    from sim import solvency as solvency_module
    extra = QUOTA_SHARE.format(reinsurer_capital=1e12)
    if domestic_ratio is not None:
        extra = extra.replace('name = "Fragile Re"\n', f'name = "Fragile Re"\ndomestic_solvency_ratio = {domestic_ratio}\n')
    scenario = deterministic(write_scenario, years=3, extra=extra)
    used = []
    company_risk = solvency_module.company_risk
    monkeypatch.setattr(solvency_module, "company_risk",
                        lambda non_life, market, credit: used.append(np.array(credit)) or company_risk(non_life, market,
                                                                                                      credit))
    parties, arrays, _ = paths(scenario)
    members = parties.indices("member")
    shares = np.array([0.5, 0.3, 0.2])
    recoverable = arrays["recoverable"][:, :, members]
    np.testing.assert_allclose(recoverable[:, 0], np.tile(0.5 * 0.4 * GROSS * shares, (8, 1)), rtol=1e-12)
    np.testing.assert_allclose(recoverable[:, 1], np.tile(0.5 * 0.5 * GROSS * shares, (8, 1)), rtol=1e-12)
    assert len(used) == 3                         # one pattern of shares: one call a year
    for year in range(3):
        np.testing.assert_allclose(used[year], factor * recoverable[:, year], rtol=1e-12)


def test_a_reinsurer_exhausted_in_year_one_pays_its_assets_and_leaves_the_panel(write_scenario):
    # 40m of capital + 50m of premium against 100m owed: it pays 90m, in cash as the claims are
    # paid (60%, 30%, 10%), ends at zero and receives nothing more.
    scenario = deterministic(write_scenario, years=3, extra=QUOTA_SHARE.format(reinsurer_capital=4e7))
    parties, arrays, _ = paths(scenario)
    re = column(parties, "Fragile Re")
    members = parties.indices("member")
    assert (arrays["defaulted"][:, :, re] == 1).all()
    np.testing.assert_allclose(arrays["net_loss"][:, :, re], np.broadcast_to([9e7, 0.0, 0.0], (8, 3)), atol=1e-3)
    np.testing.assert_allclose(arrays["default_loss"][:, 0, members].sum(axis=1), 1e7, rtol=1e-12)
    np.testing.assert_allclose(arrays["paid_loss"][:, :, re],
                               np.broadcast_to(9e7 * np.array([0.6, 0.3, 0.1]), (8, 3)), rtol=1e-12)
    np.testing.assert_allclose(arrays["capital_end"][:, :, re], 0.0, atol=1e-3)
    assert not arrays["gross_premium"][:, 1:, re].any()
    assert_money_conserved(parties, arrays)


# --------------------------------------------------------------------------- growth, streams, one year
def test_exposure_growth_compounds_the_gross_premium(write_scenario):
    scenario = deterministic(write_scenario, years=5, growth=0.2)
    _, arrays, _ = paths(scenario)
    premium = arrays["gross_premium"][0, :, 0]
    np.testing.assert_allclose(premium / premium[0], 1.2 ** np.arange(5), rtol=2e-3)   # policies are whole


def test_year_one_is_the_one_year_engine():
    path = sim.__path__[0] + "/../scenarios/ai_cyber_five_years.toml"
    scenario = load(path)
    multi = sim.run(scenario, trials=400, progress=False, plots=False)
    one_year = dataclasses.replace(scenario, simulation=dataclasses.replace(scenario.simulation, years=1))
    single = sim.run(one_year, trials=400, progress=False, plots=False)
    one = multi.trials[multi.trials["year"] == 1].reset_index(drop=True)
    for key in ("gross_loss", "ceded_loss", "default_loss", "net_loss", "gross_premium", "ceded_premium",
                "reinstatement_premium", "commission"):
        np.testing.assert_array_equal(one[key].to_numpy(), single.trials[key].to_numpy())


def test_chunking_does_not_change_multi_year_results():
    path = sim.__path__[0] + "/../scenarios/ai_cyber_five_years.toml"
    a = sim.run(path, trials=300, chunk_trials=300, progress=False)
    b = sim.run(path, trials=300, chunk_trials=70, progress=False)
    pd.testing.assert_frame_equal(a.trials, b.trials)
    pd.testing.assert_frame_equal(a.summary, b.summary)


def test_subset_chunk_keeps_each_trials_occurrences(write_scenario):
    from sim.engine import LossModel, simulate_chunk
    from sim.exposure import build_exposure
    scenario = load(sim.__path__[0] + "/../tests/data/tiny.toml")
    exposure = build_exposure(scenario)
    chunk = simulate_chunk(scenario, LossModel.from_scenario(scenario), exposure, YEAR_STRIDE, 50)
    rows = np.array([0, 3, 4, 17, 49])
    sub = subset_chunk(chunk, rows)
    for i, t in enumerate(rows):
        a, b = chunk.occ_offsets[t], chunk.occ_offsets[t + 1]
        c, d = sub.occ_offsets[i], sub.occ_offsets[i + 1]
        np.testing.assert_array_equal(chunk.occ_day[a:b], sub.occ_day[c:d])
        np.testing.assert_array_equal(chunk.risk_loss[chunk.risk_offsets[a]:chunk.risk_offsets[b]],
                                      sub.risk_loss[sub.risk_offsets[c]:sub.risk_offsets[d]])
    np.testing.assert_array_equal(sub.line_loss, chunk.line_loss[rows])


def test_multi_year_results_folder_passes_the_results_checks(tmp_path):
    import results_checks
    path = Path(__file__).parent.parent / "scenarios" / "ai_cyber_five_years.toml"
    results = sim.run(path, trials=400, out=tmp_path / "five", progress=False)
    results_checks.assert_valid(tmp_path / "five")
    assert results_checks.undocumented(tmp_path / "five") == []      # every column is in docs/results.md
    for name in ("solvency_fan.png", "capital_fan.png", "exits.png"):
        assert (tmp_path / "five" / "plots" / name).exists()
    trials = results.trials
    assert sorted(trials["year"].unique()) == [1, 2, 3, 4, 5]
    assert len(trials) == 400 * 5 * len(results.party_names)
    assert set(results.summary["year"].dropna()) == {1, 2, 3, 4, 5}
    again = sim.Results.read(tmp_path / "five") if hasattr(sim, "Results") else None
    if again is not None:
        assert again.party_names == results.party_names


# --------------------------------------------------------------------------- solvency over the horizon
# A small member with thin capital in a growing, volatile pool: it breaches 120% at some year end
# in many paths, not all, and leaves; its run-off ratio then runs to thousands of per cent.
EXITING_MEMBER = """
name = "a small member that leaves"
[simulation]
trials = 400
seed = 3
years = 3

[[lines]]
name = "cyber"
policies = 400
sum_insured = {{ dist = "lognormal", median = 5e6, sigma = 0.7, max = 3e7 }}
premium_rate = 0.015
frequency = {{ dist = "negbin", mean = 0.08, dispersion = 1.0 }}
severity = {{ dist = "gpd", scale = 6e5, shape = 0.5 }}
uncertainty = 0.5
capital_class = "liability"

[[catastrophes]]
name = "outage"
rate = 0.3
lines = ["cyber"]
affected_share = {{ dist = "beta", mean = 0.15, sd = 0.1 }}
damage_ratio = {{ dist = "beta", mean = 0.2, sd = 0.15 }}

[pool]
name = "pool"

[[pool.members]]
name = "Lead"
role = "lead"
share = 0.5
capital = {lead}

[[pool.members]]
name = "Mid"
role = "follower"
share = 0.3
capital = {mid}

[[pool.members]]
name = "Tiny"
role = "follower"
share = 0.2
capital = {tiny}

[dynamics]
exposure_growth = 0.3
payment_pattern = [0.4, 0.3, 0.2, 0.1]
exit_below_solvency = {exit}
reallocation = "lead"
"""


def horizon_run(tmp_path_factory, name, **capital):
    path = tmp_path_factory.mktemp(name) / "scenario.toml"
    path.write_text(EXITING_MEMBER.format(**capital), encoding="utf-8")
    return sim.run(path, plots=False, progress=False)


@pytest.fixture(scope="module")
def exiting_member(tmp_path_factory):
    return horizon_run(tmp_path_factory, "exiting", lead=4e8, mid=2e8, tiny=6e7, exit=1.2)


@pytest.fixture(scope="module")
def everyone_below_in_year_one(tmp_path_factory):
    return horizon_run(tmp_path_factory, "weak", lead=6e7, mid=3e7, tiny=1.2e7, exit=1.5)


def ratios_by_path(results, party):
    """(n_paths, n_years) solvency ratio and active flag of one party, straight from trials.parquet's rows."""
    rows = results.trials[results.trials["party"] == party].sort_values(["trial", "year"])
    shape = (-1, results.years)
    return (rows["solvency_ratio"].to_numpy(dtype=float).reshape(shape),
            rows["active"].to_numpy(dtype=bool).reshape(shape))


def horizon_row(results, party):
    summary = results.summary
    return summary[summary["year"].isna() & (summary["party"] == party)].iloc[0]


def test_horizon_probability_below_100_is_of_any_year_in_the_pool(exiting_member):
    results = exiting_member
    ratio, active = ratios_by_path(results, "Tiny")
    below_in_pool = (ratio < 1.0) & active
    # The case the test is about: some paths breach in an early year and not in the last.
    assert below_in_pool.any(axis=1).mean() > (below_in_pool[:, -1]).mean()
    for party in ("Lead", "Mid", "Tiny", "pool"):
        ratio, active = ratios_by_path(results, party)
        expected = ((ratio < 1.0) & active).any(axis=1).mean()
        assert horizon_row(results, party)["prob_solvency_below_100"] == pytest.approx(expected, abs=1e-12)
    # On the pool row: some member below 100% in some year it is in the pool.
    members = [ratios_by_path(results, name) for name in ("Lead", "Mid", "Tiny")]
    any_member = np.any([((r < 1.0) & a).any(axis=1) for r, a in members], axis=0).mean()
    assert horizon_row(results, "pool")["prob_any_member_below_100"] == pytest.approx(any_member, abs=1e-12)


def test_run_off_years_after_an_exit_are_left_out_of_the_ratio_statistics(exiting_member):
    results = exiting_member
    ratio, active = ratios_by_path(results, "Tiny")
    run_off = ~active & np.isfinite(ratio)
    # Tiny leaves in many paths, and its run-off ratio (reserve risk only) is huge: the figures to leave out.
    assert (~active[:, -1]).mean() > 0.2
    assert np.nanmax(np.where(run_off, ratio, np.nan)) > 10.0
    in_pool = np.where(active, ratio, np.nan)
    row = horizon_row(results, "Tiny")
    assert row["mean_solvency_ratio"] == pytest.approx(np.nanmean(in_pool), rel=1e-12)
    lowest = np.nanmin(in_pool, axis=1)
    assert row["solvency_ratio_p01"] == np.quantile(lowest, 0.01, method="inverted_cdf")
    # Year rows: the paths in which Tiny is in the pool that year; probabilities are shares of all paths.
    years = results.summary[results.summary["party"] == "Tiny"].dropna(subset=["year"]).set_index("year")
    for y in range(results.years):
        with np.errstate(all="ignore"):
            expected_mean = np.nanmean(in_pool[:, y]) if active[:, y].any() else np.nan
        assert years.loc[y + 1, "mean_solvency_ratio"] == pytest.approx(expected_mean, rel=1e-12, nan_ok=True)
        expected_below = (in_pool[:, y] < 1.0).mean() if active[:, y].any() else np.nan   # no ratio at all
        assert years.loc[y + 1, "prob_solvency_below_100"] == pytest.approx(expected_below, nan_ok=True)
    assert years["mean_solvency_ratio"].max() < 10.0
    # Money is left alone: capital at the end is the last year's, run-off included.
    tiny_capital = results.trials.loc[(results.trials["party"] == "Tiny") & (results.trials["year"] == results.years),
                                      "capital_end"].mean()
    assert row["mean_capital_end"] == pytest.approx(tiny_capital, rel=1e-12)


def test_every_member_below_100_in_year_one_is_certain_over_the_horizon(everyone_below_in_year_one):
    results = everyone_below_in_year_one
    for party in ("Lead", "Mid", "Tiny", "pool"):
        ratio, active = ratios_by_path(results, party)
        assert ((ratio[:, 0] < 1.0) & active[:, 0]).all()
        assert horizon_row(results, party)["prob_solvency_below_100"] == 1.0
        assert horizon_row(results, party)["solvency_ratio_p01"] < 1.0
    # Everybody has left after year 1: the later years have no going-concern ratio at all.
    later = results.summary[results.summary["year"] > 1]
    assert later[["mean_solvency_ratio", "prob_solvency_below_100"]].isna().all().all()
    assert later.loc[later["party"] == "pool", "prob_any_member_below_100"].isna().all()


def test_multi_year_solvency_plots_show_the_years_in_the_pool(everyone_below_in_year_one, exiting_member):
    from sim import plots
    figure = plots.plot_solvency(everyone_below_in_year_one)
    notes = [text.get_text() for text in figure.axes[0].texts]
    assert notes == ["P(<100%) 100.00%"] * 4          # three members and the pool, none "no risk held"
    figure = plots.plot_solvency_fan(exiting_member)
    tiny = figure.axes[2]
    assert tiny.get_title() == "Tiny"
    highest = max(np.nanmax(np.asarray(line.get_ydata(), dtype=float)) for line in tiny.get_lines()
                  if line.get_label() == "median")
    assert highest < 1000.0                             # per cent: no run-off ratio of thousands
    assert tiny.get_ylim()[1] < 2000.0


def test_compare_solvency_plot_shows_each_paths_lowest_ratio_in_the_pool(exiting_member, monkeypatch):
    from sim import plots
    from sim.plots import compare as compare_plots
    drawn = {}
    box_statistics = plots.box_statistics

    def recording(values, label):
        drawn[label] = np.asarray(values, dtype=float)
        return box_statistics(values, label)

    monkeypatch.setattr(compare_plots, "box_statistics", recording)
    figure = plots.plot_compare_solvency([exiting_member], ["exiting"])
    ratio, active = ratios_by_path(exiting_member, "Tiny")
    lowest_in_pool = np.nanmin(np.where(active, ratio, np.nan), axis=1) * 100.0
    # not the last year's ratio, which for a member that left is its run-off's
    assert not np.allclose(lowest_in_pool, ratio[:, -1] * 100.0, equal_nan=True)
    np.testing.assert_array_equal(drawn["Tiny"], lowest_in_pool)
    assert "lowest of each path" in figure.axes[0].get_xlabel()


def with_dynamics(scenario, years, pattern=(1.0,), delay=0.0):
    dynamics = dataclasses.replace(scenario.dynamics, payment_pattern=tuple(pattern), recovery_delay_days=delay,
                                   exit_below_solvency=0.0)
    return dataclasses.replace(scenario, dynamics=dynamics,
                               simulation=dataclasses.replace(scenario.simulation, years=years))


def test_year_one_minimum_capital_is_the_one_year_runs_under_the_default_timing(write_scenario):
    """C-ROSS credit risk has one definition: the recoveries still receivable at the year end.
    With every claim paid and recovered in its year (the [dynamics] defaults) there are none, in a
    one-year run as in year 1 of a multi-year one, and the minimum capitals agree (one-year runs
    used to charge it on the year's whole ceded loss)."""
    extra = QUOTA_SHARE.format(reinsurer_capital=1e12).replace('recovery_rate = 0.4', 'recovery_rate = 0.4\nrating = "BBB"')
    scenario = deterministic(write_scenario, years=2, extra=extra)
    one_year = sim.run(with_dynamics(scenario, 1), plots=False, progress=False).trials
    two_years = sim.run(with_dynamics(scenario, 2), plots=False, progress=False).trials
    year_one = two_years[two_years["year"] == 1].reset_index(drop=True)
    members = one_year["party"].isin(["Lead", "Big Follower", "Thin Follower"])
    assert (one_year.loc[members, "minimum_capital"] > 0).all()
    np.testing.assert_allclose(year_one.loc[members, "minimum_capital"], one_year.loc[members, "minimum_capital"],
                               rtol=1e-12)


@pytest.mark.parametrize("pattern, delay", [((0.6, 0.3, 0.1), 0.0), ((1.0,), 200.0)])
def test_one_year_credit_exposure_is_year_ones_receivables_under_any_timing(write_scenario, pattern, delay):
    from sim.runner import prepare, simulate_chunk
    extra = QUOTA_SHARE.format(reinsurer_capital=1e12)
    scenario = deterministic(write_scenario, years=2, extra=extra)
    single = simulate_chunk(prepare(with_dynamics(scenario, 1, pattern, delay)), 0, 8).arrays
    _, arrays, _ = paths(with_dynamics(scenario, 2, pattern, delay))
    assert single["credit_exposure"][:, 1:4].min() > 0
    np.testing.assert_allclose(single["credit_exposure"], arrays["credit_exposure"][:, 0], rtol=1e-12)
