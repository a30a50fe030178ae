"""Risk metrics against direct computations on small, hand-checked cases."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays as numpy_arrays

from sim import metrics, solvency
from sim.parties import PARTY_COLUMNS, Parties

from synthetic_results import make_run


def test_var_and_expected_shortfall_on_a_known_vector():
    # Losses 1..1000: the 99.5% quantile (smallest x with F(x) >= 0.995) is 995; the
    # expected shortfall is the mean of the worst 0.5% = 5 trials, 996..1000: 998.
    losses = np.random.default_rng(1).permutation(np.arange(1.0, 1001.0))
    assert metrics.value_at_risk(losses) == 995.0
    assert metrics.tail_value_at_risk(losses) == 998.0
    # Per column, and with ties: 4 trials, k = 0.02 of a trial: the largest alone.
    tied = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [5.0, 1.0]])
    assert metrics.value_at_risk(tied).tolist() == [5.0, 1.0]
    assert metrics.tail_value_at_risk(tied).tolist() == [5.0, 1.0]


def test_expected_shortfall_counts_a_fractional_trial_with_its_fraction():
    # 1,100 trials: k = 5.5; the five largest (1096..1100) and half of the sixth (1095).
    losses = np.random.default_rng(2).permutation(np.arange(1.0, 1101.0))
    expected = (1096 + 1097 + 1098 + 1099 + 1100 + 0.5 * 1095) / 5.5
    assert metrics.tail_value_at_risk(losses) == pytest.approx(expected, rel=1e-15)


def test_expected_shortfall_of_a_remote_layer_is_its_worst_half_per_cent_not_its_mean():
    """A 20m xs 10m layer that pays in 0.3% of 20,000 trials: 60 trials of which 40 pay the
    whole 20m and 20 pay 5m. Its VaR is 0, and the mean of the trials at or above the VaR is
    every trial, E[X] = 45,000. The worst 0.5% is 100 trials: 40 x 20m + 20 x 5m + 40 x 0,
    so the expected shortfall is 900m / 100 = 9m."""
    losses = np.zeros(20_000)
    losses[:40], losses[40:60] = 20e6, 5e6
    losses = np.random.default_rng(3).permutation(losses)
    assert metrics.value_at_risk(losses) == 0.0
    assert losses.mean() == 45_000.0
    assert metrics.tail_value_at_risk(losses) == pytest.approx(9e6, rel=1e-15)


def test_tail_weights_split_ties_at_the_boundary_and_sum_to_one():
    # 400 trials, k = 2: one trial of 10 (above), three tied at 4 share the one trial left.
    values = np.zeros(400)
    values[0], values[1:4] = 10.0, 4.0
    weights = metrics.tail_weights(values)
    assert weights[0] == 0.5 and np.allclose(weights[1:4], 1.0 / 6.0) and not weights[4:].any()
    assert weights.sum() == pytest.approx(1.0, rel=1e-15)
    assert weights @ values == pytest.approx(metrics.tail_value_at_risk(values), rel=1e-15) == 7.0


def test_batch_standard_error():
    values = np.arange(40.0)    # batches of 2: means 0.5, 2.5, ..., 38.5, sd = 2 * sd(0..19)
    expected = 2.0 * np.std(np.arange(20.0), ddof=1) / np.sqrt(20)
    assert metrics.batch_standard_error(values, np.mean) == pytest.approx(expected)
    assert np.isnan(metrics.batch_standard_error(np.arange(30.0), np.mean))   # too few trials


def test_a_tail_statistic_has_a_batch_standard_error_only_with_enough_trials_in_each_batch_tail():
    losses = np.random.default_rng(5).lognormal(size=20_000)
    # 20 batches of 1,000 trials: 5 beyond each batch's 99.5% quantile, the least allowed
    assert metrics.N_BATCHES * metrics.MIN_TAIL_TRIALS_PER_BATCH / 0.005 == 20_000
    assert metrics.batch_standard_error(losses, metrics.value_at_risk, tail_probability=0.005) > 0
    # one trial fewer, and a batch's 99.5% quantile is its largest or second largest loss
    assert np.isnan(metrics.batch_standard_error(losses[:19_999], metrics.value_at_risk, tail_probability=0.005))
    # a mean (the whole distribution) needs only two trials a batch
    assert metrics.batch_standard_error(losses[:40], np.mean) > 0


def small_parties(n_lines: int = 1) -> Parties:
    """pool, two members (70/30), one reinsurer."""
    return Parties(
        names=("pool", "Lead", "Follower", "Re"), kinds=("pool", "member", "member", "reinsurer"),
        roles=("", "lead", "follower", ""), share=np.array([1.0, 0.7, 0.3, 0.0]),
        capital_start=np.array([0.0, 100.0, 50.0, np.inf]),
        line_gross_premium=np.zeros((4, n_lines)), line_proportional_ceded_premium=np.zeros((4, n_lines)),
        line_nonproportional_premium=np.zeros((4, n_lines)))


def small_arrays(n_trials: int) -> dict[str, np.ndarray]:
    return {key: np.zeros((n_trials, 4)) for key in PARTY_COLUMNS}


def test_loss_ratios_combined_ratio_and_probabilities_by_hand():
    # Four trials. Lead: premium 100, ceded 20, reinstatement 0/0/0/10, commission 5,
    # expenses 25, lead fee +2; net losses 40, 60, 80, 100; gross losses 50, 80, 100, 150.
    parties = small_parties()
    arrays = small_arrays(4)
    lead = 1
    arrays["gross_premium"][:, lead] = 100.0
    arrays["ceded_premium"][:, lead] = 20.0
    arrays["reinstatement_premium"][:, lead] = [0.0, 0.0, 0.0, 10.0]
    arrays["commission"][:, lead] = 5.0
    arrays["expenses"][:, lead] = 25.0
    arrays["lead_fee"][:, lead] = 2.0
    arrays["gross_loss"][:, lead] = [50.0, 80.0, 100.0, 150.0]
    arrays["net_loss"][:, lead] = [40.0, 60.0, 80.0, 100.0]
    arrays["ceded_loss"][:, lead] = [10.0, 20.0, 20.0, 60.0]
    arrays["default_loss"][:, lead] = [0.0, 0.0, 0.0, 10.0]
    capital_end = np.full((4, 4), np.nan)
    capital_end[:, lead] = [30.0, 10.0, -5.0, -20.0]
    ratio = np.full((4, 4), np.nan)
    ratio[:, lead] = [1.5, 0.99, 1.0, -0.2]
    table = metrics.summary(parties, arrays, parties.capital_start, capital_end, ratio)
    row = table.set_index("party").loc["Lead"]
    # net premium = 100 − 20 − mean(0, 0, 0, 10) = 77.5
    assert row["net_premium"] == 77.5
    assert row["expected_gross_loss"] == 95.0 and row["expected_net_loss"] == 70.0
    assert row["gross_loss_ratio"] == 0.95
    assert row["net_loss_ratio"] == pytest.approx(70.0 / 77.5)
    # combined = (70 + 25 − 5 − 2) / 77.5
    assert row["combined_ratio"] == pytest.approx(88.0 / 77.5)
    assert row["prob_ruin"] == 0.5                      # −5 and −20 are below 0
    assert row["prob_ruin_se"] == pytest.approx(np.sqrt(0.25 / 4))
    assert row["prob_solvency_below_100"] == 0.5        # 0.99 and −0.2; exactly 1.0 is not below
    assert row["mean_solvency_ratio"] == pytest.approx((1.5 + 0.99 + 1.0 - 0.2) / 4)
    assert row["solvency_ratio_p01"] == -0.2
    assert row["expected_recovery"] == (10 + 20 + 20 + 50) / 4     # ceded − default
    assert row["expected_default_loss"] == 2.5
    assert row["mean_capital_end"] == pytest.approx(3.75)
    assert row["var_995_net_loss"] == 100.0 and row["tvar_995_net_loss"] == 100.0
    assert row["expected_net_loss_se"] == pytest.approx(np.std([40, 60, 80, 100], ddof=1) / 2)
    assert set(metrics.SUMMARY_COLUMNS) <= set(table.columns)


def test_ratios_to_a_net_premium_of_zero_or_less_are_left_blank():
    # Follower: premium 10, ceded 12 (reinsurance dearer than the premium): net premium −2.
    parties = small_parties()
    arrays = small_arrays(2)
    lead, follower = 1, 2
    arrays["gross_premium"][:, [lead, follower]] = [100.0, 10.0]
    arrays["ceded_premium"][:, [lead, follower]] = [20.0, 12.0]
    arrays["net_loss"][:, [lead, follower]] = [[40.0, 5.0], [60.0, 15.0]]
    arrays["gross_loss"][:] = arrays["net_loss"]
    ratio = np.ones((2, 4))
    table = metrics.summary(parties, arrays, parties.capital_start, np.ones((2, 4)), ratio).set_index("party")
    assert table.loc["Follower", "net_premium"] == -2.0
    assert np.isnan(table.loc["Follower", "net_loss_ratio"]) and np.isnan(table.loc["Follower", "combined_ratio"])
    assert table.loc["Follower", "gross_loss_ratio"] == 1.0          # on gross premium: still defined
    assert table.loc["Lead", "net_loss_ratio"] == pytest.approx(50.0 / 80.0)


def test_reinsurer_rows_use_owed_paid_and_commission_paid():
    parties = small_parties()
    arrays = small_arrays(2)
    re = 3
    arrays["gross_premium"][:, re] = 40.0
    arrays["commission"][:, re] = 10.0
    arrays["gross_loss"][:, re] = [10.0, 50.0]      # owed
    arrays["default_loss"][:, re] = [0.0, 25.0]
    arrays["net_loss"][:, re] = [10.0, 25.0]        # paid
    arrays["defaulted"][:, re] = [0.0, 1.0]
    table = metrics.summary(parties, arrays, parties.capital_start, np.full((2, 4), np.nan),
                            np.full((2, 4), np.nan)).set_index("party")
    row = table.loc["Re"]
    assert row["net_premium"] == 40.0
    assert row["combined_ratio"] == pytest.approx((17.5 + 10.0) / 40.0)
    assert row["expected_recovery"] == 17.5          # what it paid
    assert row["prob_default"] == 0.5
    assert np.isnan(row["prob_ruin"]) and np.isnan(row["mean_solvency_ratio"])   # unlimited capital


def test_ep_table_on_a_known_vector():
    # Pool AEP gross 1..1000 shuffled: the loss at return period T is the (1000 − 1000/T)-th value.
    parties = small_parties()
    arrays = small_arrays(1000)
    arrays["gross_loss"][:, 0] = np.random.default_rng(5).permutation(np.arange(1.0, 1001.0))
    table = metrics.ep_table(parties, arrays)
    curve = table[(table.party == "pool") & (table.basis == "gross") & (table.metric == "AEP")]
    expected = {2: 500.0, 5: 800.0, 10: 900.0, 20: 950.0, 50: 980.0, 100: 990.0, 200: 995.0,
                250: 996.0, 500: 998.0, 1000: 999.0}
    assert dict(zip(curve.return_period.astype(int), curve.loss)) == expected
    assert set(table.columns) == {"party", "basis", "metric", "return_period", "loss"}
    # the pool and 2 members: AEP and OEP, gross and net; the reinsurer: AEP only (its
    # recoveries are not tracked occurrence by occurrence, so it has no OEP of 0s)
    assert len(table) == (3 * 2 * 2 + 2) * len(metrics.RETURN_PERIODS)
    assert set(table[table.party == "Re"].metric) == {"AEP"}


@settings(max_examples=40, deadline=None)
@given(numpy_arrays(np.float64, (50, 4), elements=st.floats(0, 1e9, allow_nan=False)))
def test_ep_curves_never_fall_as_the_return_period_grows(values):
    parties = small_parties()
    arrays = small_arrays(50)
    for column in ("gross_loss", "net_loss", "max_occurrence_gross", "max_occurrence_net"):
        arrays[column] = values
    table = metrics.ep_table(parties, arrays)
    for _, group in table.groupby(["party", "basis", "metric"]):
        assert (np.diff(group.sort_values("return_period")["loss"].to_numpy()) >= 0).all()


def test_allocation_sums_to_the_pool_tvar():
    scenario, parties, arrays, line_loss, *_ = make_run(n_trials=3000)
    table = metrics.allocation(parties, arrays, line_loss, [line.name for line in scenario.lines])
    members = parties.indices("member")
    pool_net = arrays["net_loss"][:, members].sum(axis=1)
    net = table[table.basis == "net"]
    assert net.contribution.sum() == pytest.approx(metrics.tail_value_at_risk(pool_net), rel=1e-12)
    assert net.share_of_tvar.sum() == pytest.approx(1.0, rel=1e-12)
    # Direct: 3,000 trials, k = 15: each member's mean over the 15 worst pool trials.
    worst = np.argsort(pool_net)[::-1][:15]
    assert len(np.unique(pool_net[np.argsort(pool_net)[::-1][:16]])) == 16     # no tie at the boundary
    np.testing.assert_allclose(net.contribution, arrays["net_loss"][worst][:, members].mean(axis=0))
    gross = table[table.basis == "gross"]
    assert gross.contribution.sum() == pytest.approx(metrics.tail_value_at_risk(line_loss.sum(axis=1)),
                                                     rel=1e-12)
    assert list(gross.component) == ["ai_liability", "robot_property"]
    assert set(table.component_kind) == {"member", "line"}


def test_tables_worked_out_on_threads_are_the_same_to_the_bit():
    """summary and ep_table run their statistics side by side with ``threads``: each is
    computed as it is alone, so the tables are identical, and an error in one is raised."""
    scenario, parties, arrays, *_ = make_run(n_trials=1500)
    outcome = solvency.assess(scenario, parties, arrays)
    tables = [(metrics.summary(parties, arrays, outcome.capital_start, outcome.capital_end, outcome.solvency_ratio,
                               outcome.minimum_capital, threads=threads),
               metrics.ep_table(parties, arrays, threads=threads)) for threads in (1, 3)]
    for one_thread, three_threads in zip(*tables):
        pd.testing.assert_frame_equal(three_threads, one_thread, check_exact=True)

    def fails():
        raise ZeroDivisionError("in a task")
    with pytest.raises(ZeroDivisionError, match="in a task"):
        metrics.in_threads({"fine": lambda: 1, "fails": fails}, threads=2)
    assert metrics.in_threads({"a": lambda: 1, "b": lambda: 2}, threads=2) == {"a": 1, "b": 2}


def test_summary_means_equal_trial_means_and_every_contract_column_is_there():
    scenario, parties, arrays, *_ = make_run(n_trials=1500)
    outcome = solvency.assess(scenario, parties, arrays)
    table = metrics.summary(parties, arrays, outcome.capital_start, outcome.capital_end,
                            outcome.solvency_ratio, outcome.minimum_capital)
    assert list(table.columns[:3]) == ["party", "kind", "role"]
    assert set(metrics.SUMMARY_COLUMNS) <= set(table.columns)
    np.testing.assert_array_equal(table.expected_net_loss, arrays["net_loss"].mean(axis=0))
    np.testing.assert_array_equal(table.expected_gross_loss, arrays["gross_loss"].mean(axis=0))
    np.testing.assert_allclose(table.mean_capital_end[:4], outcome.capital_end[:, :4].mean(axis=0))
    # Pool net premium is the members' total; pool combined ratio combines theirs.
    members = parties.indices("member")
    assert table.net_premium[0] == pytest.approx(table.net_premium[members].sum())
    assert table.expected_lead_fee[0] == pytest.approx(0.0, abs=1e-6)
    for column in ("var_995_net_loss_se", "tvar_995_net_loss_se", "expected_net_loss_se", "prob_ruin_se"):
        assert column in table.columns
    # 1,500 trials are too few for the batch standard error of a 99.5% quantile (see batch_standard_error)
    assert table.loc[members, "var_995_net_loss_se"].isna().all()
    assert (table.loc[members, "expected_net_loss_se"] > 0).all()
    assert isinstance(table, pd.DataFrame)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3000), st.lists(st.floats(0.0, 1.0), min_size=1, max_size=5), st.integers(0, 2**31))
def test_empirical_quantiles_pick_the_same_value_as_numpy_inverted_cdf(n_trials, levels, seed):
    values = np.random.default_rng(seed).normal(size=(n_trials, 2)).round(1)     # with ties
    levels = np.array(levels + list(metrics.exceedance_levels(metrics.RETURN_PERIODS)))
    # row-major (columns copied out), column-major and one column (partitioned in place)
    for layout in (values, np.asfortranarray(values), values[:, :1]):
        np.testing.assert_array_equal(metrics.empirical_quantiles(layout, levels),
                                      np.quantile(layout, levels, axis=0, method="inverted_cdf"))


def test_allocation_with_ties_at_the_boundary_still_adds_up_to_the_expected_shortfall():
    """Two members whose parts differ across trials tied on the pool's total: the tied
    trials share the tail's last weight equally, and the parts add up to the total's
    expected shortfall (mean of the worst k trials)."""
    n = 1_000                                   # k = 5
    components = np.zeros((n, 2))
    components[0] = [9.0, 1.0]                  # total 10, above the boundary
    components[1:9] = [[1.0, 3.0], [3.0, 1.0]] * 4   # eight trials tied at 4: share 4 of the 5
    total = components.sum(axis=1)
    contributions, shortfall = metrics.co_tail_contributions(components, total)
    assert shortfall == pytest.approx((10 + 4 * 4) / 5, rel=1e-15)
    assert contributions.sum() == pytest.approx(shortfall, rel=1e-15)
    # the tied trials weigh (5 - 1) / 8 / 5 = 0.1 each: member 0 gets 9/5 + 0.1 * (4 * 1 + 4 * 3)
    assert contributions[0] == pytest.approx(9 / 5 + 0.1 * 16, rel=1e-15)


def test_a_column_alone_gives_the_whole_arrays_figures_to_the_bit():
    """A long run works its figures out one party's column at a time (sim.kept_columns): each
    estimator must give a column alone what NumPy gives it beside the other parties' columns,
    whose sums along axis 0 add the trials one after another (a lone column NumPy sums pairwise)."""
    from sim import estimators
    rng = np.random.default_rng(20261206)
    whole = rng.lognormal(0.0, 2.0, (40_001, 5))
    with_gaps = whole.copy()
    with_gaps[::13, 2] = np.nan
    with_gaps[:, 4] = np.nan
    with np.errstate(invalid="ignore"):
        nan_mean = np.nansum(with_gaps, axis=0) / np.sum(~np.isnan(with_gaps), axis=0)
    expected = {
        "mean": whole.mean(axis=0),
        "nan_mean": nan_mean,
        "shortfall sum": whole.sum(axis=0, where=whole > np.quantile(whole, 0.99, axis=0)),
        "sd of batch figures": np.std(whole[:20], axis=0, ddof=1),
    }
    for column in range(whole.shape[1]):
        alone, alone_with_gaps = np.ascontiguousarray(whole[:, column]), np.ascontiguousarray(with_gaps[:, column])
        assert estimators.trial_order_mean(alone) == expected["mean"][column]
        figure = estimators.nan_mean(alone_with_gaps)
        assert figure == expected["nan_mean"][column] or (np.isnan(figure) and column == 4)
        tail = alone > np.quantile(alone, 0.99)
        assert estimators.trial_order_sum(alone, where=tail) == expected["shortfall sum"][column]
        assert estimators._trial_order_std(alone[:20]) == expected["sd of batch figures"][column]
        for statistic, values, one in (
                (estimators.value_and_tail_at_risk, whole, alone),
                (estimators.mean_standard_error, with_gaps, alone_with_gaps),
                (lambda values: estimators.batch_standard_error(values, estimators.value_and_tail_at_risk),
                 whole, alone),
                (lambda values: estimators.batch_standard_error(values, lambda batch: estimators.nan_quantile(
                    batch, 0.01)), with_gaps, alone_with_gaps)):
            assert np.array_equal(statistic(one), statistic(values)[..., column], equal_nan=True)
    # Pairwise summation of a lone column rounds differently somewhere: the reason for trial order.
    assert any(whole[:, column].copy().mean() != expected["mean"][column] for column in range(whole.shape[1]))
