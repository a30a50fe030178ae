"""Repricing as experience accrues (``[pricing]``, sim.repricing and sim.dynamics_premium).

- the credibility rate path on a hand case (known losses, k given), capped and uncapped, and a year
  in which the book was not written (it adds no experience);
- a multi-year run on known losses: the rates, and every premium-side figure of the year at them
  (gross, ceded, commission, expenses, lead fee; reinsurers' premium; treaties.csv's columns),
  with capital moving by exactly the year's net result;
- without ``[pricing]`` the rates stay as written, to the bit;
- with parameter_uncertainty > 0 the mean |rate - true rate| falls year by year (paired over paths,
  each fall beyond 4 SE); the derived k is the Poisson-gamma 1 / (p^2 m) on a plain Poisson line;
- pricing.csv and pricing.png in a results folder, read back.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import results_checks
import sim
from sim.copula import parameter_levels
from sim.dynamics import prepare_dynamics, simulate_paths
from sim.repricing import PricingBasis, credibility_rates, true_rates
from sim.results import Results
from sim.scenario import loads

Z = 4.0


def hand_basis(cap: float = 0.25) -> PricingBasis:
    return PricingBasis(prior_rate=np.array([0.02]), credibility_k=np.array([1000.0]), target_loss_ratio=0.5,
                        max_rate_change=cap, policies=np.array([[1000.0], [1200.0], [1440.0], [1728.0]]),
                        sum_insured=np.array([[1e9], [1.2e9], [1.44e9], [1.728e9]]),
                        attritional_rate=np.array([0.01]), catastrophe_rate=np.array([0.0]))


def test_credibility_rate_path_equals_the_hand_computation():
    losses = np.array([[[2e7], [3e7], [1e7], [0.0]],      # path 0: written every year
                       [[2e7], [3e7], [1e7], [0.0]]])     # path 1: not written in year 1
    observed = np.array([[True, True, True, True], [False, True, True, True]])
    rates = credibility_rates(hand_basis(), losses, observed)[:, :, 0]
    # Path 0. Year 2: n = 1000, Z = 1/2, experience 2e7 / 1e9 / 0.5 = 0.04 -> 0.03, capped at 0.02 x 1.25.
    # Year 3: n = 2200, Z = 2200/3200 = 0.6875, experience 5e7 / 2.2e9 / 0.5 = 1/22 -> 0.0375,
    # capped at 0.025 x 1.25 = 0.03125. Year 4: n = 3640, Z = 3640/4640, experience 6e7 / 3.64e9 / 0.5
    # -> 0.0302..., within 0.03125 x 0.75 .. x 1.25.
    year4 = 3640 / 4640 * (6e7 / 3.64e9 / 0.5) + 1000 / 4640 * 0.02
    np.testing.assert_allclose(rates[0], [0.02, 0.025, 0.03125, year4], rtol=1e-14)
    # Path 1: year 1 unobserved. Year 2 has no experience: the prior. Year 3: n = 1200, Z = 1200/2200,
    # experience 3e7 / 1.2e9 / 0.5 = 0.05 -> 0.0363..., capped at 0.025. Year 4: n = 2640, Z = 2640/3640,
    # experience 4e7 / 2.64e9 / 0.5 -> 0.0274..., within 0.025 x 1.25.
    year4 = 2640 / 3640 * (4e7 / 2.64e9 / 0.5) + 1000 / 3640 * 0.02
    np.testing.assert_allclose(rates[1], [0.02, 0.02, 0.025, year4], rtol=1e-14)
    # No cap: year 2 of path 0 is the credibility rate itself.
    uncapped = credibility_rates(hand_basis(math.inf), losses, observed)[0, :, 0]
    np.testing.assert_allclose(uncapped[:3], [0.02, 0.03, 0.0375], rtol=1e-14)


# Every policy has one claim of CNY 1m a year: the line loses 200 x 1m = 2e8 on 200 x 1e7 = 2e9 of
# sum insured, a loss rate of 0.1; at target loss ratio 0.8 the experience rate is 0.125.
DETERMINISTIC = """
name = "repricing on known losses"
[simulation]
trials = 4
seed = 5
years = 4

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
lead_fee = 0.02

[[pool.members]]
name = "Lead"
role = "lead"
share = 0.6
capital = 1e10
expense_ratio = 0.2

[[pool.members]]
name = "Follower"
role = "follower"
share = 0.4
capital = 1e10
expense_ratio = 0.25

[[pool.reinsurance]]
type = "quota_share"
cession = 0.5
commission = 0.3
panel = {{ "Re" = 1.0 }}

[[pool.reinsurance]]
type = "stop_loss"
attachment = 5.0
limit = 1.0
rate = 0.01
panel = {{ "Re" = 1.0 }}

[[reinsurers]]
name = "Re"

[dynamics]
payment_pattern = [1.0]
{pricing}
"""
PRICING = """
[pricing]
credibility_k = 200
target_loss_ratio = 0.8
max_rate_change = 0.5
"""


def run_paths(scenario):
    prepared = prepare_dynamics(scenario)
    arrays, line_loss, *_ = simulate_paths(prepared, 0, scenario.simulation.trials)
    return prepared, arrays, line_loss


def test_a_multi_year_run_charges_the_credibility_rates_on_known_losses():
    prepared, arrays, line_loss = run_paths(loads(DETERMINISTIC.format(pricing=PRICING)))
    _, written, _ = run_paths(loads(DETERMINISTIC.format(pricing="")))
    # Year 2: n = 200, Z = 1/2 -> 0.0875, capped at 0.05 x 1.5 = 0.075. Year 3: n = 400, Z = 2/3 -> 0.1,
    # within 0.075 x 1.5. Year 4: n = 600, Z = 3/4 -> 0.10625.
    rates = np.array([0.05, 0.075, 0.1, 0.75 * 0.125 + 0.25 * 0.05])
    np.testing.assert_allclose(credibility_rates(prepared.pricing, line_loss,
                                                 arrays["active"][:, :, 0] > 0)[:, :, 0],
                               np.tile(rates, (4, 1)), rtol=1e-14)
    factor = (rates / 0.05)[None, :, None]
    gross = 2e9 * rates
    np.testing.assert_allclose(arrays["gross_premium"][:, :, 0], np.tile(gross, (4, 1)), rtol=1e-12)
    members, reinsurer = [1, 2], 3
    shares, expense_ratio = np.array([0.6, 0.4]), np.array([0.2, 0.25])
    member_gross = gross[None, :, None] * shares
    np.testing.assert_allclose(arrays["gross_premium"][:, :, members], np.broadcast_to(member_gross, (4, 4, 2)),
                               rtol=1e-12)
    np.testing.assert_allclose(arrays["expenses"][:, :, members],
                               np.broadcast_to(member_gross * expense_ratio, (4, 4, 2)), rtol=1e-12)
    fee = 0.02 * member_gross[..., 1]
    np.testing.assert_allclose(arrays["lead_fee"][:, :, 1], np.broadcast_to(fee, (4, 4)), rtol=1e-12)
    np.testing.assert_allclose(arrays["lead_fee"][:, :, 2], np.broadcast_to(-fee, (4, 4)), rtol=1e-12)
    # Quota share: half the premium, 30% commission back; the stop loss's premium is 1% of the other half.
    ceded = 0.5 * member_gross + 0.01 * 0.5 * member_gross
    np.testing.assert_allclose(arrays["ceded_premium"][:, :, members], np.broadcast_to(ceded, (4, 4, 2)),
                               rtol=1e-12)
    np.testing.assert_allclose(arrays["commission"][:, :, members],
                               np.broadcast_to(0.3 * 0.5 * member_gross, (4, 4, 2)), rtol=1e-12)
    np.testing.assert_allclose(arrays["gross_premium"][:, :, reinsurer],
                               np.tile(0.5 * gross + 0.005 * gross, (4, 1)), rtol=1e-12)
    np.testing.assert_allclose(arrays["treaty_ceded_premium"], np.tile(np.stack([0.5 * gross, 0.005 * gross], 1),
                                                                       (4, 1, 1)), rtol=1e-12)
    # Losses do not move; the premium side moves by the rate factor.
    np.testing.assert_array_equal(arrays["net_loss"], written["net_loss"])
    np.testing.assert_allclose(arrays["gross_premium"][:, :, :3], written["gross_premium"][:, :, :3] * factor,
                               rtol=1e-12)
    # Capital: start + net result (premium - ceded + commission - expenses + fee - net loss), year by year.
    result = (arrays["gross_premium"] - arrays["ceded_premium"] - arrays["reinstatement_premium"]
              + arrays["commission"] - arrays["expenses"] + arrays["lead_fee"] - arrays["net_loss"])
    np.testing.assert_allclose(arrays["capital_end"][:, :, members],
                               arrays["capital_start"][:, :, members] + result[:, :, members], rtol=1e-12)


def test_without_pricing_rates_stay_as_written():
    prepared, arrays, _ = run_paths(loads(DETERMINISTIC.format(pricing="")))
    assert prepared.pricing is None
    np.testing.assert_array_equal(arrays["gross_premium"][:, :, 0], np.full((4, 4), 2e9 * 0.05))


LEARNING = """
name = "learning a new line's rate"
[simulation]
trials = {trials}
seed = 31
years = 5

[[lines]]
name = "ai"
policies = 3000
sum_insured = 1e6
premium_rate = 0.01
frequency = {{ dist = "poisson", mean = 0.004 }}
severity = 1e6
parameter_uncertainty = {parameter}
uncertainty = {uncertainty}

[pool]
name = "pool"

[[pool.members]]
name = "Lead"
role = "lead"
share = 1.0
capital = 1e12

[pricing]
target_loss_ratio = 0.5
"""


def gaps(scenario):
    prepared, arrays, line_loss = run_paths(scenario)
    rates = credibility_rates(prepared.pricing, line_loss, arrays["active"][:, :, 0] > 0)
    truth = true_rates(prepared.pricing, parameter_levels(scenario, 0, scenario.simulation.trials))
    return prepared, np.abs(rates - truth[:, None, :])[:, :, 0]


def test_the_gap_to_the_true_rate_falls_year_by_year_with_parameter_risk():
    scenario = loads(LEARNING.format(trials=3000, parameter=0.5, uncertainty=0.2))
    _, gap = gaps(scenario)
    falls = gap[:, 1:] - gap[:, :-1]                 # paired over paths: (paths, 4)
    mean, se = falls.mean(axis=0), falls.std(axis=0, ddof=1) / math.sqrt(len(falls))
    print("mean |gap| by year", gap.mean(axis=0), "falls", mean, "SE", se)
    assert np.all(mean < -Z * se)


def test_derived_k_is_poisson_gamma_on_a_plain_poisson_line():
    # Poisson claims of a fixed 1m, no swing, no catastrophe: k = 1 / (p^2 m) policy-years.
    p, m = 0.5, 0.004
    prepared, _ = gaps(loads(LEARNING.format(trials=10, parameter=p, uncertainty=0.0)))
    expected = 1.0 / (p * p * m)
    # The EPV (m x^2 per policy-year) and a are estimated on 10,000 calibration trials of 12 claims
    # each: the relative SE of the EPV estimate is about 1/sqrt(10,000 x 12) plus a's; 3% is > 4 SE.
    assert prepared.pricing.credibility_k[0] == pytest.approx(expected, rel=0.03)
    # and without parameter risk the rate is known: k infinite, Z = 0, the rate stays the prior
    prepared, gap = gaps(loads(LEARNING.format(trials=10, parameter=0.0, uncertainty=0.3)))
    assert np.isinf(prepared.pricing.credibility_k[0])


def test_pricing_csv_and_plot_in_the_results_folder(tmp_path):
    scenario = loads(LEARNING.format(trials=400, parameter=0.5, uncertainty=0.2))
    results = sim.run(scenario, out=tmp_path / "out", progress=False)
    table = pd.read_csv(tmp_path / "out" / "pricing.csv")
    assert list(table["year"]) == [1, 2, 3, 4, 5]
    assert table.loc[0, "mean_rate"] == pytest.approx(0.01)
    assert table.loc[0, "mean_credibility"] == 0.0
    assert (tmp_path / "out" / "plots" / "pricing.png").is_file()
    assert results_checks.undocumented(tmp_path / "out") == []      # every column is in docs/results.md
    results_checks.assert_valid(tmp_path / "out")
    back = Results.read(tmp_path / "out")
    pd.testing.assert_frame_equal(back.pricing, results.pricing, check_dtype=False)


def test_the_subsidy_follows_the_rate_charged_up_to_its_cap():
    # Rates 0.05, 0.075, 0.1, 0.10625 (the known-losses case above); 80% paid on a rate of at most 0.06,
    # for three years: 0.8 x 0.05 x 2e9 = 8e7, then 0.8 x 0.06 x 2e9 = 9.6e7 twice, then nothing.
    text = DETERMINISTIC.format(pricing=PRICING).replace(
        'capital_class = "liability"', 'capital_class = "liability"\npremium_subsidy = 0.8\n'
                                       'subsidy_rate_cap = 0.06\nsubsidy_years = 3')
    results = sim.run(loads(text), progress=False)
    summary = results.summary
    pool = summary[(summary["party"] == "pool") & summary["year"].notna()].sort_values("year")
    np.testing.assert_allclose(pool["premium_paid_by_government"], [8e7, 9.6e7, 9.6e7, 0.0], rtol=1e-12)
    np.testing.assert_allclose(pool["premium_paid_by_insureds"],
                               2e9 * np.array([0.05, 0.075, 0.1, 0.10625]) - [8e7, 9.6e7, 9.6e7, 0.0], rtol=1e-12)
    lead = summary[(summary["party"] == "Lead") & summary["year"].notna()].sort_values("year")
    np.testing.assert_allclose(lead["premium_paid_by_government"], 0.6 * np.array([8e7, 9.6e7, 9.6e7, 0.0]),
                               rtol=1e-12)
    horizon = summary[(summary["party"] == "pool") & summary["year"].isna()]
    assert float(horizon["premium_paid_by_government"].iloc[0]) == pytest.approx(np.mean([8e7, 9.6e7, 9.6e7, 0.0]))


def test_repriced_results_do_not_depend_on_the_chunking():
    scenario = loads(LEARNING.format(trials=300, parameter=0.5, uncertainty=0.2))
    whole = sim.run(scenario, chunk_trials=300, progress=False)
    chunked = sim.run(scenario, chunk_trials=71, progress=False)
    pd.testing.assert_frame_equal(whole.pricing, chunked.pricing)
    pd.testing.assert_frame_equal(whole.trials, chunked.trials)


@pytest.mark.parametrize("key, value, message", [
    ("target_loss_ratio", "0.0", "pricing.target_loss_ratio = 0.0 must be a finite number > 0"),
    ("method", '"bayes"', "pricing.method"),
    ("credibility_k", "-5", "pricing.credibility_k = -5"),
    ("max_rate_change", "-0.1", "pricing.max_rate_change = -0.1"),
])
def test_bad_pricing_values_are_refused(key, value, message):
    from sim.errors import ScenarioError
    text = LEARNING.format(trials=10, parameter=0.5, uncertainty=0.0) + f"{key} = {value}\n"
    if key == "target_loss_ratio":
        text = text.replace("target_loss_ratio = 0.5\n", "")
    with pytest.raises(ScenarioError, match=message.replace(".", r"\.")):
        loads(text)


def test_pricing_in_a_one_year_run_is_a_note():
    scenario = loads(LEARNING.format(trials=10, parameter=0.5, uncertainty=0.0).replace("years = 5", "years = 1"))
    assert any("[pricing]" in note for note in scenario.notes)


_DUMP = ("import sys, sim; r = sim.run(sys.argv[1], chunk_trials=60, progress=False); "
         "r.trials.to_parquet(sys.argv[2]); r.pricing.to_csv(sys.argv[3], index=False)")


def test_repriced_results_do_not_depend_on_threads_or_dask(tmp_path):
    import os
    import subprocess
    import sys
    scenario_path = tmp_path / "learning.toml"
    scenario_path.write_text(LEARNING.format(trials=240, parameter=0.5, uncertainty=0.2), encoding="utf-8")
    frames = []
    for threads in (1, 2):
        trials, pricing = tmp_path / f"trials{threads}.parquet", tmp_path / f"pricing{threads}.csv"
        env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
        subprocess.run([sys.executable, "-c", _DUMP, str(scenario_path), str(trials), str(pricing)], check=True,
                       env=env)
        frames.append((pd.read_parquet(trials), pd.read_csv(pricing)))
    pd.testing.assert_frame_equal(frames[0][0], frames[1][0], check_exact=True)
    pd.testing.assert_frame_equal(frames[0][1], frames[1][1], check_exact=True)
    pytest.importorskip("dask.distributed")
    on_dask = sim.run(scenario_path, chunk_trials=60, workers=2, progress=False)
    pd.testing.assert_frame_equal(on_dask.trials.reset_index(drop=True), frames[0][0].reset_index(drop=True),
                                  check_exact=True, check_categorical=False, check_dtype=False)
    pd.testing.assert_frame_equal(on_dask.pricing, frames[0][1], check_exact=True)
