"""Treaty kernels: against the plain-Python reference, hand-computed cases and published values."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import treaties as tr
from tests import naive

INF = math.inf


# ---------------------------------------------------------------------------
# Building occurrence tables
# ---------------------------------------------------------------------------

def table(trials):
    """CSR arrays from ``[[(day, [risk losses]), ...] per trial]``; occurrences sorted by day."""
    occ_offsets, risk_offsets, days, losses = [0], [0], [], []
    for occurrences in trials:
        for day, risk_losses in sorted(occurrences, key=lambda o: o[0]):
            days.append(day)
            losses.extend(risk_losses)
            risk_offsets.append(len(losses))
        occ_offsets.append(len(days))
    return (np.array(occ_offsets, dtype=np.int64), np.array(risk_offsets, dtype=np.int64),
            np.array(days, dtype=np.float64), np.array(losses, dtype=np.float64))


def random_table(rng, n_trials, retention, limit, max_occurrences=5, max_risks=4):
    """Random trials whose losses hit the edge cases: 0, the retention, retention + limit."""
    edges = [0.0, retention, retention + limit if limit < INF else retention]
    trials = []
    for _ in range(n_trials):
        occurrences = []
        for _ in range(rng.integers(0, max_occurrences + 1)):
            n_risks = rng.integers(1, max_risks + 1)
            risk_losses = [float(rng.choice(edges)) if rng.random() < 0.3
                           else float(rng.exponential(1.5 * retention + 1.0)) for _ in range(n_risks)]
            occurrences.append((float(rng.integers(0, 365)), risk_losses))
        trials.append(occurrences)
    return table(trials)


def xl(per_occurrence, occ, risk, day, net, covered=None, **terms):
    covered = np.ones(len(net), dtype=np.bool_) if covered is None else covered
    return tr.excess_of_loss(per_occurrence, occ, risk, day, covered, net, **terms)


# ---------------------------------------------------------------------------
# Kernels equal the reference
# ---------------------------------------------------------------------------

XL_TERMS = [
    dict(retention=10.0, limit=20.0),
    dict(retention=10.0, limit=20.0, reinstatements=1, layer_premium=5.0),
    dict(retention=10.0, limit=20.0, reinstatements=2, reinstatement_premium=1.5, layer_premium=5.0,
         pro_rata_time=True),
    dict(retention=10.0, limit=20.0, reinstatements=1, aggregate_deductible=15.0, aggregate_limit=25.0,
         layer_premium=3.0),
    dict(retention=0.0, limit=INF, reinstatements=0, layer_premium=3.0),
    dict(retention=5.0, limit=INF, reinstatements=3, aggregate_deductible=7.0, layer_premium=3.0),
    dict(retention=5.0, limit=8.0, reinstatements=1_000_000, layer_premium=2.0, pro_rata_time=True),
    dict(retention=0.0, limit=0.0, reinstatements=1),
]


@pytest.mark.parametrize("per_occurrence", [False, True], ids=["per_risk", "cat"])
@pytest.mark.parametrize("terms", XL_TERMS)
@pytest.mark.parametrize("seed", range(4))
def test_xl_kernel_equals_reference(per_occurrence, terms, seed):
    rng = np.random.default_rng(seed)
    occ, risk, day, net = random_table(rng, 40, terms["retention"] or 5.0, terms["limit"])
    covered = rng.random(len(net)) < 0.8
    ceded, premium = xl(per_occurrence, occ, risk, day, net, covered, **terms)
    expected_ceded, expected_premium = naive.excess_of_loss(
        per_occurrence, occ, risk, day, covered, net, **terms)
    np.testing.assert_allclose(ceded, expected_ceded, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(premium, expected_premium, rtol=1e-12, atol=1e-9)
    assert np.all(ceded >= 0) and np.all(ceded <= net)
    assert np.all(ceded[~covered] == 0)


@pytest.mark.parametrize("seed", range(4))
def test_proportional_and_stop_loss_kernels_equal_reference(seed):
    rng = np.random.default_rng(seed)
    occ, risk, day, net = random_table(rng, 50, 10.0, 20.0)
    covered = rng.random(len(net)) < 0.7
    n_policies = 30
    risk_policy = rng.integers(0, n_policies, len(net))
    sum_insured = rng.choice([0.0, 5.0, 10.0, 30.0, 50.0, 100.0], n_policies)

    ceded = tr.quota_share(occ, risk, covered, net, 0.3)
    np.testing.assert_allclose(ceded, naive.quota_share(occ, risk, covered, net, 0.3), rtol=1e-15)

    fraction = tr.surplus_fraction(sum_insured, 10.0, 3.0)
    np.testing.assert_allclose(fraction, naive.surplus_fraction(sum_insured, 10.0, 3.0), rtol=1e-15)
    ceded = tr.surplus(occ, risk, covered, net, risk_policy, fraction)
    np.testing.assert_allclose(
        ceded, naive.surplus(occ, risk, covered, net, risk_policy, sum_insured, 10.0, 3.0), rtol=1e-15)

    for attachment, limit in [(0.8, 0.5), (0.0, INF), (2.0, 0.0), (0.5, INF)]:
        ceded = tr.stop_loss(occ, risk, covered, net, attachment=attachment, limit=limit,
                             subject_premium=40.0)
        expected = naive.stop_loss(occ, risk, covered, net, attachment, limit, 40.0)
        np.testing.assert_allclose(ceded, expected, rtol=1e-12, atol=1e-9)
        assert np.all(ceded >= 0) and np.all(ceded <= net)


trial_strategy = st.lists(
    st.lists(st.tuples(st.integers(0, 364),
                       st.lists(st.sampled_from([0.0, 10.0, 30.0, 5.0, 17.5, 1e6]) | st.floats(0, 100),
                                min_size=1, max_size=3)),
             max_size=4),
    min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(trials=trial_strategy, per_occurrence=st.booleans(),
       retention=st.sampled_from([0.0, 10.0, 25.0]), limit=st.sampled_from([0.0, 20.0, INF]),
       reinstatements=st.integers(0, 3), aggregate_deductible=st.sampled_from([0.0, 15.0]),
       aggregate_limit=st.sampled_from([INF, 30.0, 0.0]), pro_rata_time=st.booleans())
def test_xl_property(trials, per_occurrence, retention, limit, reinstatements, aggregate_deductible,
                     aggregate_limit, pro_rata_time):
    occ, risk, day, net = table(trials)
    terms = dict(retention=retention, limit=limit, reinstatements=reinstatements, layer_premium=7.0,
                 aggregate_deductible=aggregate_deductible, aggregate_limit=aggregate_limit,
                 pro_rata_time=pro_rata_time)
    ceded, premium = xl(per_occurrence, occ, risk, day, net, **terms)
    expected_ceded, expected_premium = naive.excess_of_loss(
        per_occurrence, occ, risk, day, np.ones(len(net), bool), net, **terms)
    np.testing.assert_allclose(ceded, expected_ceded, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(premium, expected_premium, rtol=1e-12, atol=1e-9)
    assert np.all(ceded >= 0) and np.all(ceded <= net)
    assert np.all(np.isfinite(premium)) and np.all(premium >= 0)


def test_retain_subtracts_and_sums_by_trial():
    occ, risk, day, net = table([[(1, [5.0, 5.0]), (3, [10.0])], [], [(2, [7.0])]])
    event = np.array([0, -1, -1], dtype=np.int64)
    ceded = np.array([1.0, 2.0, 4.0, 7.0])
    by_trial, cat_by_trial = np.empty(3), np.empty(3)
    tr.retain(occ, risk, event, ceded, net, by_trial, cat_by_trial)
    np.testing.assert_array_equal(net, [4.0, 3.0, 6.0, 0.0])
    np.testing.assert_array_equal(by_trial, [7.0, 0.0, 7.0])
    np.testing.assert_array_equal(cat_by_trial, [3.0, 0.0, 0.0])


TREATY_CALLS = {
    "quota_share": lambda occ, risk, day, covered, net, policy, **kw: tr.quota_share(
        occ, risk, covered, net, 0.35, **kw),
    "surplus": lambda occ, risk, day, covered, net, policy, **kw: tr.surplus(
        occ, risk, covered, net, policy, np.linspace(0.0, 0.9, 10), **kw),
    "per_risk_xl": lambda occ, risk, day, covered, net, policy, **kw: tr.excess_of_loss(
        False, occ, risk, day, covered, net, retention=8.0, limit=20.0, reinstatements=1, layer_premium=5.0,
        aggregate_limit=50.0, **kw),
    "cat_xl": lambda occ, risk, day, covered, net, policy, **kw: tr.excess_of_loss(
        True, occ, risk, day, covered, net, retention=15.0, limit=30.0, reinstatements=2, layer_premium=4.0,
        aggregate_deductible=5.0, pro_rata_time=True, **kw),
    "stop_loss": lambda occ, risk, day, covered, net, policy, **kw: tr.stop_loss(
        occ, risk, covered, net, attachment=0.8, limit=0.5, subject_premium=40.0, **kw),
}


@pytest.mark.parametrize("kind", sorted(TREATY_CALLS))
def test_a_kernel_that_retains_equals_the_kernel_then_retain(kind):
    """``retain=`` has the kernel take the ceded loss off ``net`` and sum it by trial as it
    goes (sim.pool uses it): the same numbers, bit for bit, as :func:`retain` after it."""
    rng = np.random.default_rng(41)
    occ, risk, day, losses = random_table(rng, 300, 10.0, 20.0, max_occurrences=6, max_risks=5)
    covered = rng.random(len(losses)) < 0.8
    policy = rng.integers(0, 10, len(losses))
    event = np.where(rng.random(len(day)) < 0.3, 1, -1).astype(np.int64)
    call = TREATY_CALLS[kind]

    net = losses.copy()
    ceded = call(occ, risk, day, covered, net, policy, ceded=np.empty(len(net)))
    ceded = ceded[0] if isinstance(ceded, tuple) else ceded
    assert np.array_equal(net, losses)                  # without retain=, net is left alone
    by_trial, cat_by_trial = np.empty(300), np.empty(300)
    tr.retain(occ, risk, event, ceded, net, by_trial, cat_by_trial)

    net_in_kernel = losses.copy()
    by_trial_in_kernel, cat_by_trial_in_kernel = np.full(300, np.nan), np.full(300, np.nan)
    ceded_in_kernel = call(occ, risk, day, covered, net_in_kernel, policy, ceded=np.empty(len(net)),
                           retain=(event, by_trial_in_kernel, cat_by_trial_in_kernel))
    ceded_in_kernel = ceded_in_kernel[0] if isinstance(ceded_in_kernel, tuple) else ceded_in_kernel
    np.testing.assert_array_equal(ceded_in_kernel, ceded, strict=True)
    np.testing.assert_array_equal(net_in_kernel, net, strict=True)
    np.testing.assert_array_equal(by_trial_in_kernel, by_trial, strict=True)
    np.testing.assert_array_equal(cat_by_trial_in_kernel, cat_by_trial, strict=True)
    assert by_trial.sum() > 0 and cat_by_trial.sum() > 0     # the case cedes, on events too
    with pytest.raises(ValueError, match="retain needs"):
        call(occ, risk, day, covered, losses.copy(), policy, retain=(event[:-1], by_trial, cat_by_trial))


def _xl_kernel_terms(*terms):
    from sim.pool_kernel import KernelTerms

    retention, limit, deductible, aggregate, reinstatable, rate, pro_rata = tr.xl_terms(*terms)
    return KernelTerms(retention=retention, limit=limit, aggregate_deductible=deductible, aggregate_limit=aggregate,
                       reinstatable=reinstatable, reinstatement_rate=rate, pro_rata_time=float(pro_rata))


def _pool_terms(kind):
    """sim.pool_kernel._treaty_trial's (kind, terms), as in TREATY_CALLS."""
    from sim.pool_kernel import KernelTerms

    attachment, limit = tr.stop_loss_terms(0.8, 0.5, 40.0)
    return {
        "quota_share": (0, KernelTerms(cession=0.35)),
        "surplus": (1, KernelTerms()),
        "per_risk_xl": (2, _xl_kernel_terms(8.0, 20.0, 1, 1.0, 5.0, 0.0, 50.0)),
        "cat_xl": (3, _xl_kernel_terms(15.0, 30.0, 2, 1.0, 4.0, 5.0, INF, True)),
        "stop_loss": (4, KernelTerms(attachment=attachment, limit=limit)),
    }[kind]


@pytest.mark.parametrize("kind", sorted(TREATY_CALLS))
def test_the_pool_kernel_that_records_no_ceded_loss_leaves_the_same_net_and_sums(kind):
    """sim.pool_kernel runs each treaty with ``ceded=None``: nothing recorded per risk loss, and
    losses a treaty leaves alone skipped. The net and the sums must be those of the
    recording kernel, bit for bit, trial by trial."""
    from sim import pool_kernel as pool

    rng = np.random.default_rng(43)
    occ, risk, day, losses = random_table(rng, 300, 10.0, 20.0, max_occurrences=6, max_risks=5)
    covered = rng.random(len(losses)) < 0.8
    policy = rng.integers(0, 10, len(losses))
    event = np.where(rng.random(len(day)) < 0.3, 1, -1).astype(np.int64)
    code, kernel_terms = _pool_terms(kind)
    terms = kernel_terms.row()
    fraction = np.linspace(0.0, 0.9, 10)
    assert code == pool._KIND[kind]

    recorded_net, unrecorded_net, ceded = losses.copy(), losses.copy(), np.full(len(losses), np.nan)
    ceding_trials = 0
    for t in range(300):
        recorded = pool._treaty_trial(t, code, terms, fraction, occ, risk, day, event, policy, covered,
                                      recorded_net, ceded)
        unrecorded = pool._treaty_trial(t, code, terms, fraction, occ, risk, day, event, policy, covered,
                                        unrecorded_net, None)
        assert np.array_equal(np.array(recorded), np.array(unrecorded)), t
        ceding_trials += recorded[1] > 0
    np.testing.assert_array_equal(unrecorded_net, recorded_net, strict=True)
    np.testing.assert_array_equal(recorded_net, losses - ceded, strict=True)
    assert 0 < ceding_trials < 300 or kind in ("quota_share", "surplus")    # both paths taken


# ---------------------------------------------------------------------------
# Hand-computed cases (inline tables, as OpenQuake's reinsurance_test)
# ---------------------------------------------------------------------------

# losses of one trial (day, loss), one risk each | terms | ceded per loss | reinstatement premium
PER_RISK_CASES = [
    # the worked example of docs/calibration.md (Reinsurance): 5m xs 400k, premium 50k, loss 800k -> recovery 400k, RP 4k
    ([(10, 800e3)], dict(retention=400e3, limit=5e6, reinstatements=1, layer_premium=50e3),
     [400e3], 4e3),
    # exactly at the retention and at retention + limit
    ([(1, 400e3), (2, 5.4e6)], dict(retention=400e3, limit=5e6, reinstatements=1, layer_premium=50e3),
     [0.0, 5e6], 50e3),
    # 10 xs 10, one reinstatement: 20 of aggregate limit; the third loss finds it exhausted
    ([(1, 25.0), (2, 30.0), (3, 40.0)], dict(retention=10.0, limit=10.0, reinstatements=1, layer_premium=2.0),
     [10.0, 10.0, 0.0], 2.0),
    # reinstatement at 150%, pro rata as to time: day 73 leaves 292/365 = 0.8 of the year
    ([(73, 15.0)], dict(retention=10.0, limit=10.0, reinstatements=2, reinstatement_premium=1.5,
                        layer_premium=4.0, pro_rata_time=True),
     [5.0], 1.5 * 4.0 * 5.0 / 10.0 * 0.8),
    # aggregate deductible 8 and limit 12 on layer losses 5, 5, 10, 10 -> 0, 2, 10, 0; the
    # aggregate leaves only 12 - 10 = 2 of limit to reinstate, charged at 1/10
    ([(1, 15.0), (2, 15.0), (3, 20.0), (4, 20.0)],
     dict(retention=10.0, limit=10.0, reinstatements=5, aggregate_deductible=8.0, aggregate_limit=12.0,
          layer_premium=1.0),
     [0.0, 2.0, 10.0, 0.0], 0.2),
    # 10 xs 10, 2 reinstatements at premium 2, aggregate limit 15: recoveries 10, 5, 0; only
    # 15 - 10 = 5 of limit can be reinstated: 5 x 2/10 = 1
    ([(1, 20.0), (2, 20.0), (3, 20.0)],
     dict(retention=10.0, limit=10.0, reinstatements=2, aggregate_limit=15.0, layer_premium=2.0),
     [10.0, 5.0, 0.0], 1.0),
    # an aggregate limit below the limit: 8 recovered, nothing left to reinstate
    ([(1, 30.0)], dict(retention=10.0, limit=10.0, reinstatements=1, aggregate_limit=8.0, layer_premium=2.0),
     [8.0], 0.0),
    # unlimited layer: everything above the retention, no reinstatement premium
    ([(1, 1e12), (2, 3.0)], dict(retention=5.0, limit=INF, reinstatements=0, layer_premium=9.0),
     [1e12 - 5.0, 0.0], 0.0),
    # no reinstatements: the limit once, no premium
    ([(1, 50.0), (2, 50.0)], dict(retention=10.0, limit=10.0, layer_premium=9.0), [10.0, 0.0], 0.0),
]


@pytest.mark.parametrize("losses, terms, expected_ceded, expected_premium", PER_RISK_CASES)
def test_per_risk_xl_hand_computed(losses, terms, expected_ceded, expected_premium):
    occ, risk, day, net = table([[(d, [x]) for d, x in losses]])
    ceded, premium = xl(False, occ, risk, day, net, **terms)
    np.testing.assert_allclose(ceded, expected_ceded, rtol=1e-14)
    np.testing.assert_allclose(premium, [expected_premium], rtol=1e-14, atol=1e-12)


def test_cat_xl_hand_computed():
    # an event hitting three risks (60 + 30 + 10 = 100), then an attritional claim of 50;
    # 40 xs 30 with one reinstatement at 100% of premium 8, aggregate limit 80
    occ, risk, day, net = table([[(100, [60.0, 30.0, 10.0]), (200, [50.0])]])
    covered = np.array([True, True, False, True])   # the 10 is on an uncovered line
    ceded, premium = xl(True, occ, risk, day, net, covered, retention=30.0, limit=40.0, reinstatements=1,
                        layer_premium=8.0)
    # event: x = 90 -> 40, given back pro rata 60:30; claim: 50 -> 20
    np.testing.assert_allclose(ceded, [40 * 60 / 90, 40 * 30 / 90, 0.0, 20.0], rtol=1e-14)
    # reinstated 40 (all the reinstatable limit) at 8/40 per unit; the claim reinstates nothing more
    np.testing.assert_allclose(premium, [8.0], rtol=1e-14)


def test_stop_loss_hand_computed():
    # subject premium 100, attachment 110%, limit 50%: losses 80 + 60 = 140 -> 30, pro rata
    occ, risk, day, net = table([[(1, [80.0]), (2, [60.0])], [(5, [500.0])], [(9, [100.0])]])
    covered = np.ones(4, bool)
    ceded = tr.stop_loss(occ, risk, covered, net, attachment=1.1, limit=0.5, subject_premium=100.0)
    np.testing.assert_allclose(ceded, [30 * 80 / 140, 30 * 60 / 140, 50.0, 0.0], rtol=1e-14)


def test_surplus_fraction_hand_computed():
    # retention 10, 4 lines (capacity 40): SI 5 -> 0; 30 -> 20/30; 50 -> 40/50; 100 -> 40/100; 0 -> 0
    np.testing.assert_allclose(tr.surplus_fraction([5.0, 30.0, 50.0, 100.0, 0.0], 10.0, 4.0),
                               [0.0, 2 / 3, 0.8, 0.4, 0.0], rtol=1e-15)


def test_layer_terms():
    assert tr.layer_terms(5e6, 1, 1.0, 50e3, INF) == (10e6, 5e6, 50e3 / 5e6)
    assert tr.layer_terms(INF, 0, 1.0, 50e3, INF) == (INF, 0.0, 0.0)      # no 0 * inf = nan
    assert tr.layer_terms(10.0, 3, 1.0, 1.0, 25.0) == (25.0, 15.0, 0.1)    # 25 - 10 left to reinstate
    assert tr.layer_terms(10.0, 3, 1.0, 1.0, 8.0) == (8.0, 0.0, 0.1)
    assert tr.layer_terms(10.0, 2, 1.0, 1.0, INF) == (30.0, 20.0, 0.1)


def test_mismatched_arrays_are_refused():
    occ, risk, day, net = table([[(1, [1.0, 2.0])]])
    with pytest.raises(ValueError, match="one per risk loss"):
        tr.quota_share(occ, risk, np.ones(3, bool), net, 0.5)


# ---------------------------------------------------------------------------
# Published layer expected losses, within 4 Monte Carlo standard errors
# ---------------------------------------------------------------------------

def compound_poisson_table(rng, n_trials, frequency, severities):
    """One attritional occurrence per claim; ``severities(n)`` draws n claim amounts."""
    counts = rng.poisson(frequency, n_trials)
    occ_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    n_claims = int(occ_offsets[-1])
    risk_offsets = np.arange(n_claims + 1, dtype=np.int64)
    return occ_offsets, risk_offsets, np.zeros(n_claims), severities(n_claims)


def layer_loss_by_trial(occ, risk, day, losses, **terms):
    ceded, _ = xl(False, occ, risk, day, losses, **terms)
    by_trial, cat_by_trial = np.empty(len(occ) - 1), np.empty(len(occ) - 1)
    tr.retain(occ, risk, np.full(len(day), -1, np.int64), ceded, losses.copy(), by_trial, cat_by_trial)
    return by_trial


def assert_within_standard_errors(sample, published, n_se=4.0):
    mean = sample.mean()
    standard_error = sample.std(ddof=1) / math.sqrt(len(sample))
    assert abs(mean - published) < n_se * standard_error, (mean, published, standard_error)
    return mean, standard_error


# Mata (2000), ASTIN Bulletin 30(2): Poisson(10) claims, Pareto (Lomax) shape 3 scale 10
MATA = [
    # retention, limit, reinstatements, aggregate limit, expected loss to the layer
    (10.0, 10.0, 1, 20.0, 6.6128),
    (20.0, 10.0, 1, 20.0, 2.4103),
    (10.0, 20.0, 1, 40.0, 9.2173),
    (10.0, 10.0, 10**9, INF, 6.9444),
    (20.0, 10.0, 10**9, INF, 2.4305),
    (10.0, 20.0, 10**9, INF, 9.3749),
]


def test_mata_2000_layer_expected_losses():
    rng = np.random.default_rng(2000)
    occ, risk, day, losses = compound_poisson_table(
        rng, 1_000_000, 10.0, lambda n: 10.0 * rng.pareto(3.0, n))   # numpy's pareto is Lomax, scale 1
    for retention, limit, reinstatements, aggregate_limit, published in MATA:
        by_trial = layer_loss_by_trial(occ, risk, day, losses, retention=retention, limit=limit,
                                       reinstatements=reinstatements, aggregate_limit=aggregate_limit)
        assert_within_standard_errors(by_trial, published)


# Parodi (2014), Pricing in General Insurance: lognormal ground-up (mean 84,541.68, sd 177,728.3),
# Poisson(3.573929); layer 1,000,000 xs 10,000 with unlimited reinstatements
PARODI = [
    (dict(), 256_355.21),
    (dict(aggregate_deductible=50_000.0, aggregate_limit=1_000_000.0), 206_363.0),
]


def test_parodi_2014_layer_expected_losses():
    mean, sd = 84_541.68, 177_728.3
    sigma = math.sqrt(math.log(1.0 + (sd / mean) ** 2))
    mu = math.log(mean) - sigma**2 / 2
    rng = np.random.default_rng(2014)
    occ, risk, day, losses = compound_poisson_table(
        rng, 1_000_000, 3.573929, lambda n: rng.lognormal(mu, sigma, n))
    for terms, published in PARODI:
        by_trial = layer_loss_by_trial(occ, risk, day, losses, retention=10_000.0, limit=1_000_000.0,
                                       reinstatements=10**9, **terms)
        assert_within_standard_errors(by_trial, published)
