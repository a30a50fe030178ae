"""The pool allocator: conservation of money, hand-computed allocations, monotonicity, defaults."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import regulation
from sim.distributions import Distribution
from sim.model import Dynamics, Line, Member, Pool, Reinsurer, Scenario, Simulation, Treaty
from sim.occurrences import ATTRITIONAL, Exposure, LossChunk
from sim.parties import PARTY_COLUMNS, TREATY_COLUMNS
from sim.pool import allocate_chunk, parties, place_programmes

INF = math.inf
SEED = 7


# ---------------------------------------------------------------------------
# Building scenarios, exposures and chunks from small arrays
# ---------------------------------------------------------------------------

def make_line(name):
    return Line(name=name, policies=1, sum_insured=Distribution.constant(1.0), premium_rate=0.01,
                frequency=Distribution.constant(0.1), severity=Distribution.constant(1.0),
                damage_ratio=None)


def make_scenario(members, pool_treaties=(), reinsurers=(), lines=("a", "b"), lead_fee=0.0):
    return Scenario(name="test", simulation=Simulation(trials=1, seed=SEED),
                    lines=tuple(make_line(name) for name in lines),
                    pool=Pool(name="pool", members=tuple(members), lead_fee=lead_fee,
                              reinsurance=tuple(pool_treaties)),
                    reinsurers=tuple(reinsurers))


def make_exposure(line, sum_insured, premium, n_lines=2):
    line = np.asarray(line, dtype=np.int64)
    return Exposure(line=line, sum_insured=np.asarray(sum_insured, float), premium=np.asarray(premium, float),
                    deductible=np.zeros(len(line)), limit=np.asarray(sum_insured, float),
                    line_start=np.searchsorted(line, np.arange(n_lines + 1)).astype(np.int64))


def make_chunk(trials, exposure, first_trial=0):
    """``trials``: per trial a list of ``(day, event, [(policy, loss), ...])``; event -1 = attritional."""
    occ_offsets, risk_offsets, days, events, policies, losses = [0], [0], [], [], [], []
    for occurrences in trials:
        for day, event, risk_losses in sorted(occurrences, key=lambda o: o[0]):
            days.append(day)
            events.append(event)
            for policy, loss in risk_losses:
                policies.append(policy)
                losses.append(loss)
            risk_offsets.append(len(losses))
        occ_offsets.append(len(days))
    occ_offsets = np.array(occ_offsets, dtype=np.int64)
    risk_offsets = np.array(risk_offsets, dtype=np.int64)
    risk_policy = np.array(policies, dtype=np.int64)
    risk_line = exposure.line[risk_policy]
    risk_loss = np.array(losses, dtype=np.float64)
    n_trials, n_lines = len(trials), exposure.n_lines
    trial_of_risk = np.repeat(np.repeat(np.arange(n_trials), np.diff(occ_offsets)), np.diff(risk_offsets))
    line_loss = np.zeros((n_trials, n_lines))
    np.add.at(line_loss, (trial_of_risk, risk_line), risk_loss)
    line_claims = np.zeros((n_trials, n_lines), dtype=np.int64)
    np.add.at(line_claims, (trial_of_risk, risk_line), 1)
    return LossChunk(first_trial=first_trial, occ_offsets=occ_offsets, occ_day=np.array(days, float),
                     occ_event=np.array(events, dtype=np.int64), risk_offsets=risk_offsets,
                     risk_policy=risk_policy, risk_line=risk_line, risk_loss=risk_loss,
                     line_loss=line_loss, line_claims=line_claims, risk_level=np.ones((n_trials, n_lines)))


def random_trials(rng, n_trials, n_policies, scale=100.0):
    """Attritional claims and catastrophe events (several policies each), with some zero losses."""
    trials = []
    for _ in range(n_trials):
        occurrences = []
        for _ in range(rng.poisson(3)):
            occurrences.append((float(rng.uniform(0, 365)), ATTRITIONAL,
                                [(int(rng.integers(n_policies)), float(rng.exponential(scale)))]))
        for _ in range(rng.poisson(0.7)):
            hit = rng.choice(n_policies, size=min(n_policies, 1 + rng.poisson(3)), replace=False)
            occurrences.append((float(rng.uniform(0, 365)), int(rng.integers(2)),
                                [(int(p), float(rng.exponential(scale)) * (rng.random() > 0.1)) for p in hit]))
        trials.append(occurrences)
    return trials


def allocate(scenario, exposure, chunk, seed=SEED):
    return allocate_chunk(scenario, exposure, parties(scenario, exposure), chunk, seed)


# A programme using every treaty type, placed with three reinsurers.
def full_programme():
    return (
        Treaty(type="quota_share", panel=(("R1", 0.6), ("R2", 0.4)), cession=0.3, commission=0.3),
        Treaty(type="surplus", panel=(("R1", 1.0),), retention=60.0, surplus_lines=2.0, commission=0.25,
               lines=("a",)),
        Treaty(type="per_risk_xl", panel=(("R2", 1.0),), retention=80.0, limit=150.0, reinstatements=1,
               aggregate_limit=300.0, rate_on_line=0.1),
        Treaty(type="cat_xl", panel=(("R3", 0.5), ("R1", 0.5)), retention=150.0, limit=400.0,
               reinstatements=1, aggregate_limit=800.0, reinstatement_basis="amount_and_time", premium=40.0),
        Treaty(type="stop_loss", panel=(("R3", 1.0),), attachment=0.9, limit=0.5, rate=0.05),
    )


def full_scenario(default_probability=0.3, capital=INF):
    members = (
        Member("Lead", "lead", 0.5, capital=1e4, expense_ratio=0.2,
               reinsurance=(Treaty(type="quota_share", panel=(("R2", 1.0),), cession=0.2, commission=0.1),
                            Treaty(type="stop_loss", panel=(("R3", 1.0),), attachment=0.7, limit=INF,
                                   rate=0.1))),
        Member("F1", "follower", 0.3, capital=5e3, expense_ratio=0.25,
               reinsurance=(Treaty(type="cat_xl", panel=(("R1", 1.0),), retention=20.0, limit=100.0,
                                   reinstatements=2, premium=10.0),)),
        Member("F2", "follower", 0.2, capital=3e3,
               reinsurance=(Treaty(type="surplus", panel=(("R2", 1.0),), retention=20.0, surplus_lines=3.0),
                            Treaty(type="per_risk_xl", panel=(("R3", 1.0),), retention=10.0, limit=INF,
                                   rate_on_line=0.0, premium=5.0))),
    )
    reinsurers = (Reinsurer("R1", default_probability, 0.4, capital, "A"),
                  Reinsurer("R2", default_probability, 0.6, 500.0, "AA"),
                  Reinsurer("R3", default_probability, 0.0, capital, None))
    return make_scenario(members, full_programme(), reinsurers, lead_fee=0.015)


def full_exposure(rng, n_policies=40):
    line = np.sort(rng.integers(0, 2, n_policies))
    line[0], line[-1] = 0, 1
    sum_insured = rng.choice([50.0, 100.0, 200.0, 400.0], n_policies)
    return make_exposure(line, sum_insured, 0.05 * sum_insured)


# ---------------------------------------------------------------------------
# Conservation of money
# ---------------------------------------------------------------------------

def assert_conserved(scenario, out, rtol=1e-9):
    n_members = len(scenario.pool.members)
    members = slice(1, 1 + n_members)
    reinsurers = slice(1 + n_members, None)
    gross = out["gross_loss"][:, 0]
    kept = out["net_loss"][:, members].sum(axis=1) + out["net_loss"][:, reinsurers].sum(axis=1)
    np.testing.assert_allclose(kept, gross, rtol=rtol, atol=rtol * max(1.0, gross.max(initial=0.0)))
    # premiums: what the members pay is what the reinsurers receive
    paid = (out["ceded_premium"][:, members] + out["reinstatement_premium"][:, members]
            - out["commission"][:, members]).sum(axis=1)
    received = (out["gross_premium"][:, reinsurers] - out["commission"][:, reinsurers]).sum(axis=1)
    np.testing.assert_allclose(paid, received, rtol=rtol, atol=rtol)
    # recoveries due equal what the reinsurers owe; shortfalls equal what they did not pay
    np.testing.assert_allclose(out["ceded_loss"][:, members].sum(axis=1),
                               out["gross_loss"][:, reinsurers].sum(axis=1), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(out["default_loss"][:, members].sum(axis=1),
                               out["default_loss"][:, reinsurers].sum(axis=1), rtol=rtol, atol=rtol)
    np.testing.assert_array_equal(out["lead_fee"][:, 0], 0.0)      # exactly: not rounding dust
    np.testing.assert_allclose(out["lead_fee"][:, members].sum(axis=1), 0.0,
                               atol=rtol * max(1.0, out["gross_premium"][0, 0]))
    for name in ("ceded_loss", "default_loss", "net_loss", "ceded_premium", "commission"):
        assert np.all(out[name] >= -1e-9), name


def test_every_column_has_the_contract_shape():
    rng = np.random.default_rng(0)
    scenario, exposure = full_scenario(), full_exposure(rng)
    out = allocate(scenario, exposure, make_chunk(random_trials(rng, 30, exposure.n_policies), exposure))
    assert set(out) == set(PARTY_COLUMNS) | set(TREATY_COLUMNS)
    for name in PARTY_COLUMNS:
        assert out[name].shape == (30, 1 + 3 + 3) and out[name].dtype == np.float64, name
        assert np.all(np.isfinite(out[name])), name
    n_treaties = len(scenario.pool.reinsurance) + sum(len(m.reinsurance) for m in scenario.pool.members)
    proportional = [t.type in ("quota_share", "surplus")
                    for t in scenario.pool.reinsurance + tuple(t for m in scenario.pool.members for t in m.reinsurance)]
    for name in TREATY_COLUMNS:
        assert out[name].shape == (30, n_treaties), name
        finite = np.isfinite(out[name])
        if name == "treaty_exhausted":       # a proportional treaty has no capacity: NaN
            assert (finite == ~np.array(proportional)).all()
        else:
            assert finite.all(), name


def test_writing_into_given_arrays_overwrites_them_with_the_same_numbers():
    # The runner passes rows of its full-run arrays (holding the last run's numbers, or garbage).
    rng = np.random.default_rng(5)
    scenario, exposure = full_scenario(default_probability=0.3), full_exposure(rng)
    chunk = make_chunk(random_trials(rng, 40, exposure.n_policies), exposure)
    expected = allocate(scenario, exposure, chunk)
    full = {name: np.full((100, 7), np.nan) for name in PARTY_COLUMNS}
    rows = {name: values[30:70] for name, values in full.items()}
    written = allocate_chunk(scenario, exposure, parties(scenario, exposure), chunk, SEED, out=rows)
    for name in PARTY_COLUMNS:
        assert written[name] is rows[name]
        np.testing.assert_array_equal(full[name][30:70], expected[name], err_msg=name)
        assert np.isnan(full[name][:30]).all() and np.isnan(full[name][70:]).all(), name
    with pytest.raises(ValueError, match="shape"):
        allocate_chunk(scenario, exposure, parties(scenario, exposure), chunk, SEED,
                       out={name: values[:39] for name, values in full.items()})


def test_conservation_every_treaty_type_with_frequent_defaults():
    rng = np.random.default_rng(1)
    scenario, exposure = full_scenario(default_probability=0.3), full_exposure(rng)
    chunk = make_chunk(random_trials(rng, 500, exposure.n_policies), exposure)
    out = allocate(scenario, exposure, chunk)
    assert_conserved(scenario, out)
    defaulted = out["defaulted"][:, 4:]
    assert 0.2 < defaulted.mean() < 0.6            # defaults are frequent, and not universal
    assert out["default_loss"][:, 1:4].sum() > 0   # and they cost the members money
    assert out["ceded_loss"][:, 1:4].sum() > 0 and out["cat_xl_recovery"][:, 1:4].sum() > 0
    np.testing.assert_allclose(out["gross_loss"][:, 0], chunk.trial_loss(), rtol=1e-12)
    # the pool row holds the sums over the members
    for name in ("ceded_loss", "default_loss", "net_loss", "ceded_premium", "commission",
                 "reinstatement_premium", "expenses", "credit_exposure", "cat_xl_recovery"):
        np.testing.assert_allclose(out[name][:, 0], out[name][:, 1:4].sum(axis=1), rtol=1e-12, atol=1e-12)


def test_results_do_not_depend_on_chunking():
    rng = np.random.default_rng(2)
    scenario, exposure = full_scenario(default_probability=0.3), full_exposure(rng)
    trials = random_trials(rng, 60, exposure.n_policies)
    whole = allocate(scenario, exposure, make_chunk(trials, exposure))
    first = allocate(scenario, exposure, make_chunk(trials[:25], exposure, first_trial=0))
    second = allocate(scenario, exposure, make_chunk(trials[25:], exposure, first_trial=25))
    for name in PARTY_COLUMNS:
        np.testing.assert_array_equal(whole[name], np.concatenate([first[name], second[name]]), name)


treaty_strategy = st.one_of(
    st.builds(lambda c, k, lines: Treaty(type="quota_share", panel=(("R1", 0.5), ("R2", 0.5)), cession=c,
                                         commission=k, lines=lines),
              st.floats(0, 1), st.floats(0, 0.4), st.sampled_from([None, ("a",), ("b",)])),
    st.builds(lambda r, n: Treaty(type="surplus", panel=(("R2", 1.0),), retention=r, surplus_lines=n),
              st.sampled_from([0.0, 30.0, 100.0]), st.sampled_from([0.0, 1.0, 4.0])),
    st.builds(lambda cat, d, l, k, aad, aal, time: Treaty(
        type="cat_xl" if cat else "per_risk_xl", panel=(("R1", 1.0),), retention=d, limit=l, reinstatements=k,
        aggregate_deductible=aad, aggregate_limit=aal, premium=3.0,
        reinstatement_basis="amount_and_time" if time else "amount"),
        st.booleans(), st.sampled_from([0.0, 50.0, 120.0]), st.sampled_from([0.0, 60.0, INF]), st.integers(0, 2),
        st.sampled_from([0.0, 40.0]), st.sampled_from([INF, 100.0]), st.booleans()),
    st.builds(lambda a, b: Treaty(type="stop_loss", panel=(("R2", 0.7), ("R1", 0.3)), attachment=a,
                                  limit=b, rate=0.02),
              st.sampled_from([0.0, 0.5, 2.0]), st.sampled_from([0.0, 1.0, INF])),
)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n_members=st.integers(1, 4), n_trials=st.integers(1, 12),
       default_probability=st.sampled_from([0.0, 0.5, 1.0]), seed=st.integers(0, 2**32 - 1),
       pool_treaties=st.lists(treaty_strategy, max_size=4))
def test_conservation_property(data, n_members, n_trials, default_probability, seed, pool_treaties):
    rng = np.random.default_rng(seed)
    weights = rng.random(n_members) + 0.05
    shares = weights / weights.sum()
    members = tuple(
        Member(f"M{m}", "lead" if m == 0 else "follower", float(shares[m]), capital=1e3,
               expense_ratio=0.1, reinsurance=tuple(data.draw(st.lists(treaty_strategy, max_size=2))))
        for m in range(n_members))
    reinsurers = (Reinsurer("R1", default_probability, 0.3, data.draw(st.sampled_from([INF, 100.0]))),
                  Reinsurer("R2", default_probability, 0.0))
    scenario = make_scenario(members, pool_treaties, reinsurers, lead_fee=0.02)
    exposure = full_exposure(rng, n_policies=12)
    out = allocate(scenario, exposure, make_chunk(random_trials(rng, n_trials, 12), exposure), seed=seed)
    assert_conserved(scenario, out)
    members_ = slice(1, 1 + n_members)
    assert np.all(out["ceded_loss"][:, members_] <= out["gross_loss"][:, members_] * (1 + 1e-12) + 1e-9)
    assert np.all(out["max_occurrence_net"] <= out["max_occurrence_gross"] * (1 + 1e-12) + 1e-9)


# ---------------------------------------------------------------------------
# A hand-computed allocation
# ---------------------------------------------------------------------------

def test_hand_computed_allocation():
    # Two policies (SI 1000, premium 100 each, line a and b); members 60% lead, 40% follower, fee 1%.
    # Pool: QS 50% (commission 20%) with R1; cat XL 100 xs 50 on the pool's net, premium 10, R2.
    # Follower's own: stop loss attaching at 0% of its subject premium, limit 10%, rate 5%, with R1.
    exposure = make_exposure([0, 1], [1000.0, 1000.0], [100.0, 100.0])
    pool_treaties = (
        Treaty(type="quota_share", panel=(("R1", 1.0),), cession=0.5, commission=0.2),
        Treaty(type="cat_xl", panel=(("R2", 1.0),), retention=50.0, limit=100.0, premium=10.0),
    )
    members = (Member("Lead", "lead", 0.6, capital=1.0, expense_ratio=0.3),
               Member("Follower", "follower", 0.4, capital=1.0,
                      reinsurance=(Treaty(type="stop_loss", panel=(("R1", 1.0),), attachment=0.0, limit=0.1,
                                          rate=0.05),)))
    reinsurers = (Reinsurer("R1", 0.0, 0.5, 1e9, "A"), Reinsurer("R2", 1.0, 0.25, INF, "AA"))
    scenario = make_scenario(members, pool_treaties, reinsurers, lead_fee=0.01)
    # one trial: a catastrophe hitting both policies (200 + 100) on day 100, then a claim of 40
    chunk = make_chunk([[(100.0, 0, [(0, 200.0), (1, 100.0)]), (200.0, ATTRITIONAL, [(0, 40.0)])]], exposure)
    out = allocate(scenario, exposure, chunk)
    column = {name: out[name][0] for name in PARTY_COLUMNS}
    # pool: gross 340; QS cedes 170 (R1); cat XL on the event's net 150 -> 100 (R2), claim net 20 -> 0.
    # Pool net per risk: event 100*(50/150), 50*(50/150) = 33.33, 16.67; claim 20; total 70.
    # Follower: 40% of 70 = 28; stop loss subject premium = 40% of the pool's retained 100 = 40;
    # recovery min(28 - 0, 4) = 4, premium 5% of 40 = 2.
    # R2 defaults (probability 1) and pays 25% of 100: shortfall 75, members by share 45 / 30.
    lead, follower = 1, 2
    # columns: pool, Lead, Follower, R1, R2
    expected = {
        "gross_loss": [340.0, 204.0, 136.0, 174.0, 100.0],
        "ceded_loss": [274.0, 162.0, 112.0, 0.0, 0.0],
        "default_loss": [75.0, 45.0, 30.0, 0.0, 75.0],
        "net_loss": [141.0, 87.0, 54.0, 174.0, 25.0],
        "gross_premium": [200.0, 120.0, 80.0, 100.0 + 2.0, 10.0],
        "ceded_premium": [112.0, 66.0, 46.0, 0.0, 0.0],      # QS 100, cat 10 by share; SL 2
        "commission": [20.0, 12.0, 8.0, 20.0, 0.0],
        "expenses": [36.0, 36.0, 0.0, 0.0, 0.0],
        "lead_fee": [0.0, 0.8, -0.8, 0.0, 0.0],
        "max_occurrence_gross": [300.0, 180.0, 120.0, 0.0, 0.0],
        # the largest net occurrence, plus the year's default shortfall (at most the gross occurrence)
        "max_occurrence_net": [50.0 - 4.0 * 20.0 / 28.0 + 75.0, 30.0 + 45.0, 20.0 - 4.0 * 20.0 / 28.0 + 30.0,
                               0.0, 0.0],
        "cat_loss_after_proportional": [150.0, 90.0, 60.0, 0.0, 0.0],
        "cat_xl_recovery": [100.0, 60.0, 40.0, 0.0, 0.0],
        "defaulted": [0.0, 0.0, 0.0, 0.0, 1.0],
    }
    for name, values in expected.items():
        np.testing.assert_allclose(column[name], values, rtol=1e-12, atol=1e-12, err_msg=name)
    # Credit risk is on the recoveries still receivable at the year end: none with every claim
    # paid and recovered in its year (the default timing).
    assert not column["credit_exposure"].any()
    credit_a, credit_aa = regulation.credit_factor("A"), regulation.credit_factor("AA")
    # Half of each claim paid in its year, recoveries at once: half of what the reinsurers will
    # pay is receivable, R2's after its default (25 of 100).
    half = replace(scenario, dynamics=Dynamics(payment_pattern=(0.5, 0.5)))
    out = allocate(half, exposure, chunk)
    np.testing.assert_allclose(out["credit_exposure"][0, [lead, follower]],
                               [0.5 * 0.6 * (170 * credit_a + 25 * credit_aa),
                                0.5 * (0.4 * (170 * credit_a + 25 * credit_aa) + 4 * credit_a)], rtol=1e-12)
    # All paid in the year, recoveries 200 days after the loss: the event's (day 100, 300 of the
    # gross 340) arrive in the year, the claim's (day 200, 40) after it: 40/340 receivable.
    delayed = replace(scenario, dynamics=Dynamics(recovery_delay_days=200.0))
    out = allocate(delayed, exposure, chunk)
    np.testing.assert_allclose(out["credit_exposure"][0, [lead, follower]],
                               [40 / 340 * 0.6 * (170 * credit_a + 25 * credit_aa),
                                40 / 340 * (0.4 * (170 * credit_a + 25 * credit_aa) + 4 * credit_a)], rtol=1e-12)
    # R1 as a domestic reinsurer at 180% of its C-ROSS minimum: factor 0.013 on what it owes
    domestic = (replace(reinsurers[0], domestic_solvency_ratio=1.8), reinsurers[1])
    out = allocate(replace(make_scenario(members, pool_treaties, domestic, lead_fee=0.01),
                           dynamics=Dynamics(payment_pattern=(0.5, 0.5))), exposure, chunk)
    np.testing.assert_allclose(out["credit_exposure"][0, [lead, follower]],
                               [0.5 * 0.6 * (170 * 0.013 + 25 * credit_aa),
                                0.5 * (0.4 * (170 * 0.013 + 25 * credit_aa) + 4 * 0.013)], rtol=1e-12)


def test_parties():
    exposure = make_exposure([0, 0, 1], [100.0, 200.0, 400.0], [1.0, 2.0, 4.0])
    members = (Member("L", "lead", 0.75, capital=100.0,
                      reinsurance=(Treaty(type="per_risk_xl", panel=(("R", 1.0),), retention=1.0, limit=2.0,
                                          rate_on_line=0.5),)),
               Member("F", "follower", 0.25, capital=50.0))
    pool_treaties = (Treaty(type="quota_share", panel=(("R", 1.0),), cession=0.5, lines=("b",)),
                     Treaty(type="surplus", panel=(("R", 1.0),), retention=100.0, surplus_lines=1.0),
                     Treaty(type="stop_loss", panel=(("R", 1.0),), attachment=1.0, limit=1.0, rate=0.1))
    scenario = make_scenario(members, pool_treaties, (Reinsurer("R", capital=1e6),))
    p = parties(scenario, exposure)
    assert p.names == ("pool", "L", "F", "R")
    assert p.kinds == ("pool", "member", "member", "reinsurer")
    assert p.roles == ("", "lead", "follower", "")
    np.testing.assert_array_equal(p.share, [1.0, 0.75, 0.25, 0.0])
    np.testing.assert_array_equal(p.capital_start, [150.0, 100.0, 50.0, 1e6])
    np.testing.assert_allclose(p.line_gross_premium[:3], [[3.0, 4.0], [2.25, 3.0], [0.75, 1.0]])
    # QS (50%) on line b: 2. Surplus (retention 100, 1 line) on the sums insured the QS leaves:
    # policy 2 (line a) holds 200, cedes 100/200 of its 2; policy 3 (line b) holds 200 of its
    # 400, cedes 100/200 of the 2 the QS left
    pool_proportional = np.array([1.0, 2.0 + 1.0])
    np.testing.assert_allclose(p.line_proportional_ceded_premium[1:3],
                               [0.75 * pool_proportional, 0.25 * pool_proportional])
    # stop loss on the retained premium 7 - 4 = 3 at 10%; the lead's own XL: 0.5 * 2
    np.testing.assert_allclose(p.nonproportional_premium[1:3], [0.75 * 0.3 + 1.0, 0.25 * 0.3])
    np.testing.assert_allclose(p.nonproportional_premium[0], 0.3 + 1.0)
    # by line: each treaty's premium over its lines pro rata to their subject premium
    # (the stop loss's subject: line a 3 - 1, line b 4 - 3; the lead's XL, on all lines, on its
    # 75% of those: the same 2 : 1)
    np.testing.assert_allclose(p.line_nonproportional_premium[1:3],
                               [[(0.75 * 0.3 + 1.0) * 2 / 3, (0.75 * 0.3 + 1.0) / 3],
                                [0.25 * 0.3 * 2 / 3, 0.25 * 0.3 / 3]])
    np.testing.assert_allclose(p.line_gross_premium[3].sum(), 4.0 + 0.3 + 1.0)
    # columns(kind): the same parties as indices(kind), as a slice, so indexing gives a view
    table = np.arange(8.0).reshape(2, 4)
    for kind in ("pool", "member", "reinsurer"):
        np.testing.assert_array_equal(table[:, p.columns(kind)], table[:, p.indices(kind)])
    assert np.shares_memory(table[:, p.columns("member")], table)


def test_surplus_lines_are_set_against_the_sum_insured_still_held():
    # one policy: sum insured 400, premium 4. The pool cedes 50% by quota share, so each member
    # (share 0.5) holds 0.5 x 200 = 100 of the risk. L's surplus retains 100: it cedes nothing.
    # F's retains 50 with 1 line: it cedes (100 - 50) / 100 = half of what it holds.
    exposure = make_exposure([0], [400.0], [4.0])
    surplus = Treaty(type="surplus", panel=(("R", 1.0),), retention=100.0, surplus_lines=2.0)
    members = (Member("L", "lead", 0.5, capital=100.0, reinsurance=(surplus,)),
               Member("F", "follower", 0.5, capital=100.0,
                      reinsurance=(replace(surplus, retention=50.0, surplus_lines=1.0),)))
    pool_treaties = (Treaty(type="quota_share", panel=(("R", 1.0),), cession=0.5),)
    scenario = make_scenario(members, pool_treaties, (Reinsurer("R", capital=1e6),))
    programmes = place_programmes(scenario, exposure)
    np.testing.assert_array_equal(programmes.members[0][0].ceded_fraction, [0.0])
    np.testing.assert_array_equal(programmes.members[1][0].ceded_fraction, [0.5])
    # premium ceded: each member's half of the pool's 2, and F half of the 1 it keeps
    p = parties(scenario, exposure)
    np.testing.assert_allclose(p.line_proportional_ceded_premium[1:3, 0], [1.0, 1.5])
    # a pool surplus after the quota share: the pool holds 200; retention 150, 1 line -> 50/200
    pool_surplus = (*pool_treaties, replace(surplus, retention=150.0, surplus_lines=1.0))
    scenario = make_scenario(members[1:], pool_surplus, (Reinsurer("R", capital=1e6),))
    np.testing.assert_array_equal(place_programmes(scenario, exposure).pool[1].ceded_fraction, [0.25])


def test_a_surplus_kept_to_some_lines_cedes_nothing_on_the_others():
    # policies: line a and line b, sum insured 400, premium 4 each. Surplus retention 100, 3 lines,
    # covering line a only: a cedes (400 - 100) / 400 = 75%; b nothing. One claim of 100 on each.
    exposure = make_exposure([0, 1], [400.0, 400.0], [4.0, 4.0])
    surplus = Treaty(type="surplus", panel=(("R", 1.0),), retention=100.0, surplus_lines=3.0, lines=("a",))
    scenario = make_scenario((Member("L", "lead", 1.0, capital=1e3),), (surplus,), (Reinsurer("R", capital=1e6),))
    assert place_programmes(scenario, exposure).pool[0].ceded_fraction[0] == 0.75
    np.testing.assert_allclose(parties(scenario, exposure).line_proportional_ceded_premium[1], [3.0, 0.0])
    out = allocate(scenario, exposure, make_chunk([[(10.0, ATTRITIONAL, [(0, 100.0)]),
                                                    (20.0, ATTRITIONAL, [(1, 100.0)])]], exposure))
    assert out["ceded_loss"][0, 1] == 75.0 and out["net_loss"][0, 1] == 125.0


# ---------------------------------------------------------------------------
# Monotonicity and defaults
# ---------------------------------------------------------------------------

EXTRA_LAYERS = [
    Treaty(type="per_risk_xl", panel=(("R1", 1.0),), retention=30.0, limit=50.0, reinstatements=1),
    Treaty(type="cat_xl", panel=(("R2", 1.0),), retention=60.0, limit=INF),
    Treaty(type="cat_xl", panel=(("R2", 1.0),), retention=10.0, limit=40.0, aggregate_deductible=20.0,
           aggregate_limit=60.0),
    Treaty(type="stop_loss", panel=(("R3", 1.0),), attachment=0.5, limit=0.3),
    Treaty(type="quota_share", panel=(("R3", 1.0),), cession=0.25),
]


@pytest.mark.parametrize("layer", EXTRA_LAYERS, ids=lambda t: t.type)
def test_adding_a_layer_never_raises_a_members_net_loss(layer):
    """A layer added last, to the pool's programme or to a member's own, never raises a member's net.

    Last, not anywhere: cat XL and stop loss give their recovery back to the risk losses pro rata,
    so a layer inserted before them can move net loss from one risk loss to another, and a per-risk
    treaty after them (or an aggregate deductible) can then keep more. See
    test_a_layer_inserted_before_a_pro_rata_recovery_can_raise_a_later_per_risk_net.
    """
    rng = np.random.default_rng(3)
    base = full_scenario(default_probability=0.0, capital=INF)
    base = replace(base, reinsurers=tuple(replace(r, capital=INF) for r in base.reinsurers))
    exposure = full_exposure(rng)
    chunk = make_chunk(random_trials(rng, 300, exposure.n_policies), exposure)
    before = allocate(base, exposure, chunk)["net_loss"][:, 1:4]
    pool_more = replace(base.pool, reinsurance=base.pool.reinsurance + (layer,))
    after = allocate(replace(base, pool=pool_more), exposure, chunk)["net_loss"][:, 1:4]
    assert np.all(after <= before + 1e-9 * (1 + before)), "pool"
    assert np.any(after < before - 1e-6), "the layer should recover something"
    members = base.pool.members
    for m, member in enumerate(members):
        members_more = members[:m] + (replace(member, reinsurance=member.reinsurance + (layer,)),) + members[m + 1:]
        after = allocate(replace(base, pool=replace(base.pool, members=members_more)), exposure,
                         chunk)["net_loss"][:, 1:4]
        assert np.all(after <= before + 1e-9 * (1 + before)), member.name


def test_a_layer_inserted_before_a_pro_rata_recovery_can_raise_a_later_per_risk_net():
    # Why the monotonicity test adds layers last. One event hits two risks, 100 and 20. The pool has a
    # cat XL 1000 xs 40, given back pro rata; the member (100%) then keeps at most 10 per risk loss.
    #   without a first layer: the event's 120 keeps 40 -> nets 100*40/120, 20*40/120 = 33.33, 6.67
    #                          -> the member keeps 10 + 6.67 = 16.67
    #   with a per-risk 50 xs 50 first: 100 -> 50; the event's 70 keeps 40 -> nets 28.57, 11.43
    #                          -> the member keeps 10 + 10 = 20
    # The pool's net is no higher (40 either way), but the retention has moved to the small risk.
    exposure = make_exposure([0, 0], [1e3, 1e3], [1.0, 1.0])
    member_xl = Treaty(type="per_risk_xl", panel=(("R", 1.0),), retention=10.0, limit=INF)
    member = Member("M", "lead", 1.0, capital=1.0, reinsurance=(member_xl,))
    chunk = make_chunk([[(1.0, 0, [(0, 100.0), (1, 20.0)])]], exposure)

    def member_net(pool_treaties):
        out = allocate(make_scenario((member,), pool_treaties, (Reinsurer("R"),)), exposure, chunk)
        return out["net_loss"][0, 1]

    cat = Treaty(type="cat_xl", panel=(("R", 1.0),), retention=40.0, limit=1000.0)
    first = Treaty(type="per_risk_xl", panel=(("R", 1.0),), retention=50.0, limit=50.0)
    np.testing.assert_allclose(member_net((cat,)), 10.0 + 20.0 * 40.0 / 120.0, rtol=1e-12)
    np.testing.assert_allclose(member_net((first, cat)), 20.0, rtol=1e-12)


def test_certain_default_leaves_the_unrecovered_share_with_the_members():
    rng = np.random.default_rng(4)
    scenario = full_scenario()
    recovery_rate = 0.35
    scenario = replace(scenario, reinsurers=tuple(
        replace(r, default_probability=1.0, recovery_rate=recovery_rate, capital=INF)
        for r in scenario.reinsurers))
    exposure = full_exposure(rng)
    out = allocate(scenario, exposure, make_chunk(random_trials(rng, 200, exposure.n_policies), exposure))
    assert np.all(out["defaulted"][:, 4:] == 1.0)
    np.testing.assert_allclose(out["default_loss"][:, 1:4], (1 - recovery_rate) * out["ceded_loss"][:, 1:4],
                               rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(out["net_loss"][:, 4:], recovery_rate * out["gross_loss"][:, 4:], rtol=1e-12)
    assert_conserved(scenario, out)


def test_owing_more_than_capital_and_premium_is_a_default_that_pays_out_every_asset():
    rng = np.random.default_rng(5)
    scenario = full_scenario(default_probability=0.0)
    capital = 150.0
    scenario = replace(scenario, reinsurers=tuple(replace(r, capital=capital) for r in scenario.reinsurers))
    exposure = full_exposure(rng)
    out = allocate(scenario, exposure, make_chunk(random_trials(rng, 300, exposure.n_policies), exposure))
    owed = out["gross_loss"][:, 4:]
    assets = capital + out["gross_premium"][:, 4:] - out["commission"][:, 4:]
    np.testing.assert_array_equal(out["defaulted"][:, 4:], owed > assets)
    assert 0 < (owed > assets).mean() < 1
    np.testing.assert_allclose(out["net_loss"][:, 4:], np.minimum(owed, assets), rtol=1e-12)
    assert_conserved(scenario, out)


def one_layer(capital, recovery_rate, default_probability=0.0, loss=1.01e6):
    """One member, a cat XL 1bn xs 0 placed 100% with R at a premium of 1m; one loss."""
    layer = Treaty(type="cat_xl", panel=(("R", 1.0),), retention=0.0, limit=1e9, premium=1e6)
    scenario = make_scenario((Member("L", "lead", 1.0, capital=1e9),), (layer,),
                             (Reinsurer("R", default_probability, recovery_rate, capital, "A"),), lines=("a",))
    exposure = make_exposure([0], [1e9], [2e6], n_lines=1)
    out = allocate(scenario, exposure, make_chunk([[(10.0, 0, [(0, loss)])]], exposure))
    capital_end = capital + out["gross_premium"][0, 2] - out["commission"][0, 2] - out["net_loss"][0, 2]
    return out, capital_end


def test_a_reinsurer_whose_capital_and_premium_cover_its_claims_does_not_default():
    # capital 1m + premium 1m = 2m of assets against 1.01m owed: it pays in full and keeps 0.99m.
    out, capital_end = one_layer(capital=1e6, recovery_rate=0.0)
    assert out["defaulted"][0, 2] == 0.0
    assert out["net_loss"][0, 2] == 1.01e6 and out["default_loss"][0, 1] == 0.0
    assert capital_end == pytest.approx(0.99e6, rel=1e-12)


def test_a_reinsurer_that_owes_more_than_its_assets_pays_them_all_and_ends_at_zero():
    # capital 1m + premium 1m against 100m owed: it pays its 2m, whatever its recovery rate
    # (the old rule paid 0.9 x 100m = 90m and ended at -88m).
    out, capital_end = one_layer(capital=1e6, recovery_rate=0.9, loss=1e8)
    assert out["defaulted"][0, 2] == 1.0
    assert out["net_loss"][0, 2] == pytest.approx(2e6, rel=1e-12)
    assert out["default_loss"][0, 1] == pytest.approx(1e8 - 2e6, rel=1e-12)
    assert capital_end == pytest.approx(0.0, abs=1e-6)
    assert_conserved_one(out)


def test_a_drawn_default_pays_its_recovery_rate_but_never_more_than_its_assets():
    # Defaults for sure: 40% of 1.01m = 404k, within its 2m of assets.
    out, capital_end = one_layer(capital=1e6, recovery_rate=0.4, default_probability=1.0)
    assert out["net_loss"][0, 2] == pytest.approx(0.4 * 1.01e6, rel=1e-12)
    # 40% of 10m is 4m, more than its 2m: it pays 2m and ends at zero.
    out, capital_end = one_layer(capital=1e6, recovery_rate=0.4, default_probability=1.0, loss=1e7)
    assert out["net_loss"][0, 2] == pytest.approx(2e6, rel=1e-12)
    assert capital_end == pytest.approx(0.0, abs=1e-6)
    assert_conserved_one(out)


def assert_conserved_one(out):
    assert out["gross_loss"][0, 0] == pytest.approx(out["net_loss"][0, 1] + out["net_loss"][0, 2], rel=1e-12)


def test_net_oep_counts_the_recoveries_lost_to_a_default_as_the_net_aep_does():
    """Every trial has exactly one occurrence, so the largest occurrence's net loss is the
    year's net loss, defaults included, for the member and the pool alike."""
    rng = np.random.default_rng(8)
    scenario = full_scenario(default_probability=0.5)
    exposure = full_exposure(rng)
    trials = [[(float(rng.uniform(0, 365)), int(rng.integers(-1, 2)),
                [(int(p), float(rng.exponential(100.0))) for p in rng.choice(exposure.n_policies, 3, replace=False)])]
              for _ in range(200)]
    out = allocate(scenario, exposure, make_chunk(trials, exposure))
    assert (out["default_loss"][:, 1:4] > 0).mean() > 0.3
    np.testing.assert_allclose(out["max_occurrence_net"][:, :4], out["net_loss"][:, :4], rtol=1e-12, atol=1e-9)


def test_no_reinsurance_leaves_everything_with_the_members():
    rng = np.random.default_rng(6)
    members = (Member("L", "lead", 0.7, capital=1.0), Member("F", "follower", 0.3, capital=1.0))
    scenario = make_scenario(members)
    exposure = full_exposure(rng)
    chunk = make_chunk(random_trials(rng, 50, exposure.n_policies), exposure)
    out = allocate(scenario, exposure, chunk)
    assert out["gross_loss"].shape == (50, 3)
    np.testing.assert_allclose(out["net_loss"][:, 1:], np.outer(chunk.trial_loss(), [0.7, 0.3]), rtol=1e-12)
    np.testing.assert_allclose(out["max_occurrence_net"][:, 0], out["max_occurrence_gross"][:, 0], rtol=1e-12)
