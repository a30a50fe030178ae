"""Capital at the end of the year and the C-ROSS / VaR minimum capital, against hand computations."""
import math

import numpy as np
import pytest

from sim import regulation, solvency
from sim.model import CAPITAL_CLASSES

from synthetic_results import make_run

PROPERTY, LIABILITY = CAPITAL_CLASSES.index("property"), CAPITAL_CLASSES.index("liability")


def test_combined_ratio_term_matches_the_published_scalar_rule_on_every_band_edge():
    grid = np.array([-1.0, 0.0, 0.9, 0.95, 0.9500001, 0.97, 1.0, 1.0000001, 1.03, 1.05, 1.0500001, 1.2, 5.0])
    expected = [regulation.combined_ratio_adjustment(value) for value in grid]
    assert solvency.combined_ratio_term(grid).tolist() == expected
    # No meaningful combined ratio (no net premium): the worst band.
    assert solvency.combined_ratio_term(np.array([np.nan])).tolist() == [0.10]


def test_nonproportional_term_bands():
    # ratios 2%, 2.5% (inclusive lower edge), 4.9%, 5% and 10% of a retained premium of 100
    premium = np.array([2.0, 2.5, 4.9, 5.0, 10.0])
    term = solvency.nonproportional_term(np.repeat(premium[:, None], 4, axis=1), np.full((5, 4), 100.0))
    assert term[:, LIABILITY].tolist() == [0.0, -0.018, -0.018, -0.047, -0.047]
    assert term[:, PROPERTY].tolist() == [0.0, -0.012, -0.012, -0.035, -0.035]
    assert term[:, CAPITAL_CLASSES.index("special")].tolist() == [0.0, -0.023, -0.023, -0.062, -0.062]
    # Nothing retained: no relief rather than a division by zero.
    assert solvency.nonproportional_term(np.ones((1, 4)), np.zeros((1, 4))).tolist() == [[0.0] * 4]


def test_nonproportional_relief_is_per_capital_class():
    """A cat XL bought on property (premium 6% of property's retained 100) relieves property
    (>= 5%: -0.035) and not liability (no cession there: 0). One overall ratio, 6 / 200 = 3%,
    gave both the 2.5-5% band: property -0.012 and liability -0.018."""
    retained = np.zeros((1, 4))
    retained[0, PROPERTY], retained[0, LIABILITY] = 100.0, 100.0
    bought = np.zeros((1, 4))
    bought[0, PROPERTY] = 6.0
    term = solvency.nonproportional_term(bought, retained)
    assert term[0, PROPERTY] == -0.035 and term[0, LIABILITY] == 0.0


def test_credit_factor_of_a_domestic_reinsurer_by_its_own_solvency_ratio():
    # C-ROSS II (docs/calibration.md): >= 200% 0.008; 150-200% 0.013; 100-150% 0.047; below, the bands stop
    factor = regulation.credit_factor
    assert [factor(None, 0.0, ratio) for ratio in (3.0, 2.0, 1.99, 1.5, 1.2, 1.0)] == \
        [0.008, 0.008, 0.013, 0.013, 0.047, 0.047]
    assert factor(None, 0.0, 0.99) == regulation.CREDIT_FACTOR_UNRATED
    assert factor("A", 0.0005, 2.5) == 0.008       # the ratio, not the rating, sets the factor
    assert factor("A", 0.0005, None) == 0.087


def test_credit_factor_by_rating_or_by_default_probability():
    # C-ROSS II (docs/calibration.md), rated offshore reinsurers: AA 0.046, A 0.087, BBB 0.167
    assert [regulation.credit_factor(r) for r in ("AA", "A", "BBB")] == [0.046, 0.087, 0.167]
    # no rating: the band its default probability falls in (Solvency II: AA 0.01%, A 0.05%)
    assert regulation.credit_factor(None, 0.0001) == 0.046      # the AA figure
    assert regulation.credit_factor(None, 0.0003) == 0.087      # worse than AA: A
    assert regulation.credit_factor(None, 0.0005) == 0.087
    assert regulation.credit_factor(None, 0.01) == regulation.CREDIT_FACTOR_UNRATED   # BB: below BBB
    # neither: unrated, the worst published factor; a rating wins over a probability
    assert regulation.credit_factor(None) == regulation.CREDIT_FACTOR_UNRATED == 0.167
    assert regulation.credit_factor("A", 0.0001) == 0.087


def test_retained_premium_by_class_sums_lines_of_each_class():
    gross = np.array([[100.0, 50.0, 20.0]])
    proportional = np.array([[30.0, 10.0, 5.0]])
    retained = solvency.retained_premium_by_class(gross, proportional, ["liability", "property", "liability"])
    assert retained[0, LIABILITY] == 85.0 and retained[0, PROPERTY] == 40.0
    assert retained.sum() == 125.0


def test_cross_minimum_capital_worked_example():
    # One member, two capital classes, two trials (money in CNY m).
    #
    # Retained premium: property 50 gross − 10 QS = 40; liability 100 − 30 = 70; total 110.
    # Non-proportional premium 1.2 on property (3%) and 2.8 on liability (4%): the 2.5-5% band
    #   in each class, property −0.012, liability −0.018.
    # Trial 1: combined ratio 90%  -> −0.05.   Trial 2: 110% -> +0.10.
    #
    # Trial 1: K property = −0.05 − 0.012 = −0.062, K liability = −0.05 − 0.018 = −0.068
    #   PR property  = 40 × 0.391 × 0.938 = 14.67032
    #   PR liability = 70 × 0.203 × 0.932 = 13.24372
    #   PR² = 14.67032² + 13.24372² + 2 × 0.35 × 14.67032 × 13.24372
    #       = 215.218289 + 175.396119 + 136.002727 = 526.617136 -> PR = 22.948140
    # Cat: cat loss after QS [0, 30], cat XL recovery [0, 12]; VaR 99.5% of two trials is the
    #   larger (inverted CDF: the 2nd of 2), the window of round(0.001 × 2) = 0 trials holds
    #   only that trial: Cat = 30 − 12 = 18 in both trials.
    #   Non-life² = 22.948140² + 0.5 × 22.948140 × 18 + 18² = 526.617136 + 206.533261 + 324
    #            = 1057.150397 -> 32.513849
    # Credit 0.5: company² = 32.513849² + 0.5² + 2 × 0.15 × 32.513849 × 0.5
    #            = 1057.150397 + 0.25 + 4.877077 = 1062.277474 -> 32.592598
    # MC = 0.9 × 32.592598 + other 10 = 39.333339
    #
    # Trial 2: K property = 0.10 − 0.012 = 0.088, K liability = 0.10 − 0.018 = 0.082
    #   PR property  = 40 × 0.391 × 1.088 = 17.01632
    #   PR liability = 70 × 0.203 × 1.082 = 15.37522
    #   PR² = 289.555146 + 236.397390 + 183.140765 = 709.093301 -> PR = 26.628806
    #   Non-life² = 709.093301 + 0.5 × 26.628806 × 18 + 324 = 1272.752553 -> 35.675658
    # Credit 2.0: company² = 1272.752553 + 4 + 2 × 0.15 × 35.675658 × 2 = 1298.157948 -> 36.029959
    # MC = 0.9 × 36.029959 + 10 = 42.426963
    retained = np.zeros((1, 4))
    retained[0, PROPERTY], retained[0, LIABILITY] = 40.0, 70.0
    by_class = np.zeros((1, 4))
    by_class[0, PROPERTY], by_class[0, LIABILITY] = 1.2, 2.8     # 3% and 4%: both the 2.5-5% band
    parts = solvency.cross_minimum_capital(
        retained_by_class=retained,
        nonproportional_by_class=by_class,
        combined=np.array([[0.90], [1.10]]),
        cat_loss=np.array([[0.0], [30.0]]),
        cat_recovery=np.array([[0.0], [12.0]]),
        credit_exposure=np.array([[0.5], [2.0]]),
        other_minimum_capital=np.array([10.0]),
    )
    assert parts.premium_reserve[:, 0] == pytest.approx([22.948140, 26.628806], abs=1e-6)
    assert parts.catastrophe.tolist() == [18.0]
    assert parts.non_life[:, 0] == pytest.approx([32.513849, 35.675658], abs=1e-6)
    assert parts.company[:, 0] == pytest.approx([32.592598, 36.029959], abs=1e-6)
    assert parts.total[:, 0] == pytest.approx([39.333339, 42.426963], abs=1e-6)


def test_reserve_risk_adds_within_a_class_with_correlation_one_half():
    # Liability only: premium 100 retained, no K terms in the 95-100% band, reserves 50.
    #   P = 100 × 0.203 = 20.3, R = 50 × 0.433 = 21.65
    #   √(20.3² + 20.3 × 21.65 + 21.65²) = √(412.09 + 439.495 + 468.7225) = √1320.3075 = 36.336035
    retained = np.zeros((1, 4))
    retained[0, LIABILITY] = 100.0
    reserves = np.zeros((1, 4))
    reserves[0, LIABILITY] = 50.0
    by_band = solvency.premium_reserve_risk_by_band(retained, np.zeros((1, 4)), reserves)
    assert by_band[1, 0] == pytest.approx(36.336035, abs=1e-6)


def test_catastrophe_risk_averages_recoveries_of_trials_near_the_var():
    # 1000 trials, cat loss 0..999 (shuffled). VaR 99.5% = the 995th smallest = 994.
    # Window round(0.001 × 1000) = 1 place each side: losses 993, 994, 995, whose
    # recoveries (10 % of the loss) average 99.4 -> Cat = 994 − 99.4 = 894.6.
    rng = np.random.default_rng(3)
    loss = rng.permutation(1000).astype(float)
    risk = solvency.catastrophe_risk(loss[:, None], 0.1 * loss[:, None])
    assert risk[0] == pytest.approx(894.6)
    # A recovery above the loss never makes the risk negative.
    assert solvency.catastrophe_risk(loss[:, None], 2.0 * loss[:, None])[0] == 0.0


def test_var_minimum_capital_is_the_995_quantile_of_the_loss_of_net_result():
    # Net results −1, −2, ..., −1000: losses 1..1000, VaR 99.5% = 995; + other 100.
    net_result = -np.arange(1.0, 1001.0)[:, None]
    assert solvency.var_minimum_capital(net_result, np.array([100.0])).tolist() == [1095.0]
    # A member that always gains: the floor, not zero.
    assert solvency.var_minimum_capital(np.ones((10, 1)), np.array([0.0])).tolist() == [
        solvency.MINIMUM_CAPITAL_FLOOR]


def test_capital_end_follows_the_cash_flows_of_each_kind_of_party():
    scenario, parties, arrays, *_ = make_run(n_trials=50)
    outcome = solvency.assess(scenario, parties, arrays)
    lead, china, swiss = 1, 4, 5
    expected_lead = (parties.capital_start[lead] + arrays["gross_premium"][:, lead] - arrays["ceded_premium"][:, lead]
                     - arrays["reinstatement_premium"][:, lead] + arrays["commission"][:, lead]
                     - arrays["expenses"][:, lead] + arrays["lead_fee"][:, lead] - arrays["net_loss"][:, lead])
    np.testing.assert_allclose(outcome.capital_end[:, lead], expected_lead, rtol=1e-14)
    expected_china = (4e8 + arrays["gross_premium"][:, china] - arrays["commission"][:, china]
                      - arrays["net_loss"][:, china])
    np.testing.assert_allclose(outcome.capital_end[:, china], expected_china, rtol=1e-14)
    assert np.isnan(outcome.capital_end[:, swiss]).all()          # unlimited capital
    members = parties.indices("member")
    np.testing.assert_allclose(outcome.capital_end[:, 0], outcome.capital_end[:, members].sum(axis=1))
    assert outcome.capital_start[0] == parties.capital_start[members].sum()


def test_solvency_ratios_of_members_pool_and_reinsurers():
    scenario, parties, arrays, *_ = make_run(n_trials=400)
    outcome = solvency.assess(scenario, parties, arrays)
    members = parties.indices("member")
    np.testing.assert_allclose(outcome.solvency_ratio[:, members],
                               outcome.capital_end[:, members] / outcome.minimum_capital[:, members])
    # Pool: Σ capital_end / Σ minimum capital, trial by trial.
    np.testing.assert_allclose(outcome.solvency_ratio[:, 0],
                               outcome.capital_end[:, members].sum(axis=1)
                               / outcome.minimum_capital[:, members].sum(axis=1))
    assert np.isnan(outcome.solvency_ratio[:, parties.indices("reinsurer")]).all()
    # The lead carries other minimum capital of 1e7 (technology factor does not apply to it).
    assert (outcome.minimum_capital[:, 1] > 1e7).all()


def test_a_party_without_minimum_capital_has_no_solvency_ratio():
    # A member holding no risk (share 0, or its run-off over) must not show an infinite ratio:
    # one such trial would make the mean over all trials infinite.
    ratio = solvency.solvency_ratio(np.array([5.0, 5.0, -1.0, 0.0]), np.array([2.0, 0.0, 0.0, 0.0]))
    assert ratio[0] == 2.5
    assert np.isnan(ratio[1:]).all()


def test_assess_wires_the_member_arrays_into_the_cross_formula():
    scenario, parties, arrays, *_ = make_run(n_trials=300)
    outcome = solvency.assess(scenario, parties, arrays)
    follower = 2
    share = parties.share[follower]
    # Retained: liability 0.7 × 1e8 × share, property 0.7 × 0.5e8 × share; the XL premium 5e6 × share
    # spread over the two pro rata, 2 : 1, is 4.76% of each class's retained: the 2.5-5% band.
    retained = np.zeros((1, 4))
    retained[0, LIABILITY], retained[0, PROPERTY] = 0.7e8 * share, 0.35e8 * share
    by_class = 5e6 * share * retained / retained.sum()
    net_premium = (arrays["gross_premium"] - arrays["ceded_premium"] - arrays["reinstatement_premium"])[:, follower]
    combined = (arrays["net_loss"] + arrays["expenses"] - arrays["commission"]
                - arrays["lead_fee"])[:, follower] / net_premium
    parts = solvency.cross_minimum_capital(
        retained, by_class, combined[:, None],
        arrays["cat_loss_after_proportional"][:, [follower]], arrays["cat_xl_recovery"][:, [follower]],
        arrays["credit_exposure"][:, [follower]], np.array([0.0]))
    np.testing.assert_allclose(outcome.minimum_capital[:, follower], parts.total[:, 0], rtol=1e-13)


def test_assess_in_blocks_of_trials_equals_assess_in_one(monkeypatch):
    # The C-ROSS arithmetic runs on blocks of trials; only the catastrophe risk needs them all.
    # A block size that leaves a short last block must give the same numbers, bit for bit.
    scenario, parties, arrays, *_ = make_run(n_trials=300)
    whole = solvency.assess(scenario, parties, arrays)
    monkeypatch.setattr(solvency, "ASSESS_BLOCK_TRIALS", 7)
    blocked = solvency.assess(scenario, parties, arrays)
    members = parties.indices("member")
    assert np.isfinite(whole.minimum_capital[:, members]).all()
    np.testing.assert_array_equal(blocked.minimum_capital, whole.minimum_capital)
    np.testing.assert_array_equal(blocked.solvency_ratio, whole.solvency_ratio)


def test_var_regime_gives_one_minimum_capital_per_member():
    scenario, parties, arrays, *_ = make_run(n_trials=1000, regime="var")
    outcome = solvency.assess(scenario, parties, arrays)
    members = parties.indices("member")
    result = outcome.capital_end[:, members] - outcome.capital_start[members]
    expected = np.quantile(-result, 0.995, axis=0, method="inverted_cdf") + np.array([1e7, 0.0, 0.0])
    np.testing.assert_allclose(outcome.minimum_capital[:, members], np.broadcast_to(expected, result.shape))
    assert math.isclose(outcome.minimum_capital[0, 0], expected.sum())


def test_var_regime_member_with_share_zero_has_no_pool_minimum_capital():
    # A member holding no risk (net result 0 in every trial) needs no capital for the pool: its
    # minimum capital is its other minimum capital alone, not the one-unit floor (which gave a
    # ratio of its capital over 1: 200,000,000% for a capital of 2m).
    # Member 1: losses 1..1000, VaR 99.5% = 995. Member 2: nothing, no other MC -> 0.
    # Member 3: nothing, other 500 -> 500.
    net_result = np.zeros((1000, 3))
    net_result[:, 0] = -np.arange(1.0, 1001.0)
    minimum = solvency.var_minimum_capital(net_result, np.array([0.0, 0.0, 500.0]))
    assert minimum.tolist() == [995.0, 0.0, 500.0]
    # A member that holds risk but always gains keeps the floor.
    assert solvency.var_minimum_capital(np.ones((10, 1)), np.array([0.0]),
                                        holds_risk=np.array([True])).tolist() == [solvency.MINIMUM_CAPITAL_FLOOR]


def test_var_regime_assess_gives_a_member_with_share_zero_no_ratio():
    import dataclasses
    from sim.parties import PARTY_COLUMNS
    scenario, parties, arrays, *_ = make_run(n_trials=1000, regime="var")
    sleeper = 3                                      # the third member: now share 0, holds nothing
    arrays = {key: value.copy() for key, value in arrays.items()}
    for key in PARTY_COLUMNS:
        arrays[key][:, sleeper] = 0.0
    share = parties.share.copy()
    share[sleeper] = 0.0
    parties = dataclasses.replace(parties, share=share)
    outcome = solvency.assess(scenario, parties, arrays)
    assert (outcome.minimum_capital[:, sleeper] == 0.0).all()
    assert np.isnan(outcome.solvency_ratio[:, sleeper]).all()
    # The pool's minimum capital is the other members' alone.
    np.testing.assert_allclose(outcome.minimum_capital[:, 0], outcome.minimum_capital[:, [1, 2]].sum(axis=1))


@pytest.mark.parametrize("n_members", [1, 3])
def test_a_members_catastrophe_risk_alone_is_what_the_members_array_gave(n_members):
    """A long run works the C-ROSS catastrophe risk out a member at a time: it must be what
    NumPy gives on the members' whole array, whose mean over the window near the VaR is pairwise
    for a single member and in trial order for several (sim.estimators)."""
    from sim.estimators import order_statistic_index
    differs_from_trial_order = False
    for seed in range(5):
        rng = np.random.default_rng(seed)
        cat_loss = rng.lognormal(0.0, 1.5, (20_000, n_members))
        # Recoveries near the VaR that leave a small part of it: the mean's last bits show in the risk.
        recovery = rng.uniform(0.6, 0.9, (20_000, n_members)) * np.quantile(cat_loss, solvency.VAR_LEVEL, axis=0)
        rank = int(order_statistic_index(20_000, solvency.VAR_LEVEL))
        half_width = int(round(solvency.CAT_WINDOW * 20_000))
        order = np.argpartition(cat_loss, sorted({rank - half_width, rank, rank + half_width}), axis=0)
        near = np.take_along_axis(recovery, order[rank - half_width:rank + half_width + 1], axis=0)
        expected = np.maximum(np.take_along_axis(cat_loss, order[rank:rank + 1], axis=0)[0] - near.mean(axis=0),
                              0.0)
        for member in range(n_members):
            alone = solvency.catastrophe_risk(cat_loss[:, [member]], recovery[:, [member]], n_members=n_members)
            assert alone[0] == expected[member]
            column = np.ascontiguousarray(near[:, member])
            differs_from_trial_order |= column.mean() != np.add.accumulate(column)[-1] / len(column)
        np.testing.assert_array_equal(solvency.catastrophe_risk(cat_loss, recovery), expected, strict=True)
    # The two orders of summing do round differently here: the test can tell them apart.
    assert differs_from_trial_order
