"""The loss engine (:mod:`sim.engine`) on small scenarios built from the dataclasses.

Statistical checks (4 SE; the SE of a variance from the fourth central moment):

- compound losses of one line, uncertainty 0, no catastrophes: yearly loss mean
  ``n E[N] E[X']`` and variance ``n (E[N] Var X' + Var N E[X']^2)`` for ``X'`` the per-claim
  loss after deductible and limit (``E[X']``, ``E[X'^2]`` by numerical integration), for
  lognormal / gamma / pareto / gpd severities and a beta damage ratio, times poisson / negbin /
  bernoulli frequencies;
- with ``uncertainty > 0``: the mean is unchanged and the variance grows by
  ``Var(level) (n E[N] E[X'])^2`` (poisson; the matching closed forms for negbin and bernoulli);
- claims per policy through the engine's geometric skipping;
- catastrophes: events per trial ~ Poisson(rate); policies hit per line and event loss (mean and
  variance, mixing over the affected share);

Structural checks: CSR offsets, per-event invariants (lines, no policy twice, losses sum),
days in [0, 365), sorted days, ``line_loss`` / ``line_claims`` against the risk losses.

Reproducibility: chunking, threads (subprocesses), seed, adding a catastrophe, exposure.
Exposure: sums insured against their distribution, premium, deductible and limit.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numba
import numpy as np
import pytest
from scipy import stats

import engine_cases as ec
from engine_cases import check, check_mean, check_variance, layer_moments
from sim.distributions import Distribution, make
from sim import engine
from sim.engine import LossModel, simulate_chunk
from sim.exposure import build_exposure
from sim.model import Dependence
from sim.occurrences import ATTRITIONAL

TESTS = Path(__file__).parent

# ---------------------------------------------------------------- compound losses of one line
SI = 8e5
SEVERITY_CASES = {
    # label: (severity, damage_ratio, deductible, limit)
    "lognormal": (make("lognormal", {"median": 1e5, "sigma": 1.0}), None, 2e4, 5e5),
    "gamma": (make("gamma", {"mean": 1e5, "sd": 8e4}), None, 1e4, 2e5),
    "pareto": (make("pareto", {"scale": 2e5, "shape": 4.5}), None, 1e4, 1e6),
    "gpd (limit = SI)": (make("gpd", {"scale": 1e5, "shape": 0.2, "threshold": 5e3}), None, 2e4, None),
    "beta damage ratio": (None, make("beta", {"mean": 0.1, "sd": 0.1}), 1e4, None),
}
FREQUENCY_CASES = {
    "poisson": make("poisson", {"mean": 0.05}),
    "negbin": make("negbin", {"mean": 0.05, "dispersion": 0.5}),
    "bernoulli": make("bernoulli", {"p": 0.05}),
}
POLICIES = 400
TRIALS = 20_000


def per_claim_moments(severity, damage_ratio, deductible, limit):
    """``E[X'], E[X'^2]`` of the loss per claim of a policy with sum insured ``SI``."""
    limit = SI if limit is None else limit
    if severity is not None:
        return layer_moments(severity, deductible, limit)
    return layer_moments(damage_ratio, deductible, limit, scale=SI)


@pytest.mark.parametrize("frequency", list(FREQUENCY_CASES))
@pytest.mark.parametrize("severity", list(SEVERITY_CASES))
def test_compound_mean_and_variance(severity, frequency):
    sev, ratio, deductible, limit = SEVERITY_CASES[severity]
    freq = FREQUENCY_CASES[frequency]
    scen = ec.scenario([ec.line(policies=POLICIES, sum_insured=SI, frequency=freq, severity=sev,
                                damage_ratio=ratio, deductible=deductible, limit=limit)],
                       seed=101 + list(SEVERITY_CASES).index(severity) * 7 + list(FREQUENCY_CASES).index(frequency))
    loss = ec.run(scen, 0, TRIALS).line_loss[:, 0]
    m1, m2 = per_claim_moments(sev, ratio, deductible, limit)
    en, vn = ec.frequency_moments(freq)
    label = f"{severity} x {frequency}"
    check_mean(label, loss, POLICIES * en * m1)
    check_variance(label, loss, POLICIES * (en * (m2 - m1 * m1) + vn * m1 * m1))


@pytest.mark.parametrize("frequency", list(FREQUENCY_CASES))
def test_uncertainty_keeps_the_mean_and_adds_variance(frequency):
    cv = 0.4
    sev, _, deductible, limit = SEVERITY_CASES["gamma"]
    freq = FREQUENCY_CASES[frequency]
    scen = ec.scenario([ec.line(policies=POLICIES, sum_insured=SI, frequency=freq, severity=sev,
                                deductible=deductible, limit=limit, uncertainty=cv)], seed=303)
    chunk = ec.run(scen, 0, TRIALS)
    loss = chunk.line_loss[:, 0]
    m1, m2 = layer_moments(sev, deductible, limit)
    m, n = freq.p0, POLICIES
    # the level's variance: cv^2, or for bernoulli that of the beta probability over p
    # (sim.copula: Beta(1/cv^2, (1 - p)/(p cv^2)), variance p (1 - p)/(a + b + 1))
    level_variance = cv * cv if frequency != "bernoulli" else (1.0 - m) * cv * cv / (1.0 + m * cv * cv)
    second_level = 1.0 + level_variance                           # E[L^2]
    base = n * (m * m2 + (freq.variance() - m) * m1 * m1)        # the variance at level 1
    if frequency == "poisson":
        within = n * m * m2                                       # E[Var(S | L)]
    elif frequency == "negbin":
        within = n * (m * m2 + m * m * second_level / freq.p1 * m1 * m1)
    else:   # bernoulli p L
        within = n * (m * m2 - m * m * second_level * m1 * m1)
    expected = within + level_variance * (n * m * m1) ** 2
    label = f"{frequency} with uncertainty {cv}"
    check_mean(label, loss, n * m * m1)
    check_variance(label, loss, expected)
    # the test can tell: the level-1 variance is rejected
    se = ec.variance_se(loss)
    print(f"{label}: level-1 variance {base:.6g} is {(loss.var(ddof=1) - base) / se:+.1f} SE away")
    assert abs(loss.var(ddof=1) - base) > 4 * se
    # the levels the engine used: mean 1, CV = uncertainty (for bernoulli, the beta's)
    check_mean(f"{label} level", chunk.risk_level[:, 0], 1.0)
    check_variance(f"{label} level", chunk.risk_level[:, 0], level_variance)


def test_bernoulli_uncertainty_keeps_the_mean_probability():
    # Issue 21, defect 6: p x level capped at 1 lost the mean (433.5 claims instead of 500 here).
    # The year's probability is Beta(a, b) with a = 1/u^2, b = (1 - p)/(p u^2): mean p, and
    # Var(p') = p (1 - p) / (a + b + 1). The line's claims N then have E[N] = n p and
    # Var(N) = n (p - E[p'^2]) + n^2 Var(p') (binomial given p', plus the spread of p').
    p, u, policies, trials = 0.5, 1.0, 1000, 4000
    scen = ec.scenario([ec.line(policies=policies, frequency=make("bernoulli", {"p": p}), uncertainty=u)],
                       seed=2121)
    claims = ec.run(scen, 0, trials).line_claims[:, 0]
    a, b = 1.0 / u ** 2, (1.0 - p) / (p * u ** 2)
    spread = p * (1.0 - p) / (a + b + 1.0)
    check_mean("bernoulli p 0.5 uncertainty 1 claims", claims, policies * p)
    check_variance("bernoulli p 0.5 uncertainty 1 claims", claims,
                   policies * (p - (spread + p * p)) + policies ** 2 * spread)


@pytest.mark.parametrize("frequency", list(FREQUENCY_CASES))
def test_claims_per_policy_through_the_engine(frequency):
    freq = {"poisson": make("poisson", {"mean": 0.4}),
            "negbin": make("negbin", {"mean": 0.4, "dispersion": 0.7}),
            "bernoulli": make("bernoulli", {"p": 0.3})}[frequency]
    policies, trials = 1000, 400
    scen = ec.scenario([ec.line(policies=policies, frequency=freq)], seed=404)
    chunk = ec.run(scen, 0, trials)
    trial = ec.occurrence_trial(chunk)[ec.risk_occurrence(chunk)]
    counts = np.bincount(trial * policies + chunk.risk_policy, minlength=trials * policies)
    en, vn = ec.frequency_moments(freq)
    check_mean(f"{frequency} claims per policy (engine)", counts, en)
    check_variance(f"{frequency} claims per policy (engine)", counts, vn)
    check(f"{frequency} share of policies with a claim (engine)", float(np.mean(counts > 0)),
          1.0 - {"poisson": stats.poisson(0.4).pmf(0), "negbin": stats.nbinom(0.7, 0.7 / 1.1).pmf(0),
                 "bernoulli": 0.7}[frequency],
          math.sqrt(0.25 / counts.size))
    # the last policy of the line can claim (no off-by-one at the end of the line)
    assert np.any(chunk.risk_policy == policies - 1) and np.any(chunk.risk_policy == 0)


def test_limit_defaults_to_the_sum_insured_in_the_engine():
    scen = ec.scenario([ec.line(policies=200, sum_insured=1e5, frequency=make("poisson", {"mean": 0.2}),
                                severity=make("lognormal", {"median": 1e5, "sigma": 1.0}))], seed=5)
    chunk = ec.run(scen, 0, 500)
    assert chunk.risk_loss.max() == 1e5
    assert np.mean(chunk.risk_loss == 1e5) > 0.3      # P(X > median) = 1/2
    dr = ec.scenario([ec.line(policies=200, sum_insured=1e5, frequency=make("poisson", {"mean": 0.2}),
                              severity=None, damage_ratio=make("uniform", {"low": 0.5, "high": 3.0}),
                              deductible=1e4)], seed=5)
    chunk = ec.run(dr, 0, 500)
    assert chunk.risk_loss.max() == 1e5 and chunk.risk_loss.min() >= 0.5e5 - 1e4


# ---------------------------------------------------------------- catastrophes
CAT_SI = {"a": 1e6, "b": 5e5, "c": 2e5}
CAT_POLICIES = {"a": 300, "b": 200, "c": 100}
CAT_DEDUCTIBLE = {"a": 1e4, "b": 5e4, "c": 0.0}


def cat_scenario(seed: int = 909, with_cats: bool = True, uncertainty: float = 0.0):
    lines = [ec.line(name, policies=CAT_POLICIES[name], sum_insured=CAT_SI[name],
                     frequency=make("poisson", {"mean": 0.02}), deductible=CAT_DEDUCTIBLE[name],
                     limit=None if name != "b" else 3e5, uncertainty=uncertainty)
             for name in ("a", "b", "c")]
    cats = [
        ec.catastrophe("quake", rate=1.5, lines=("a", "b"),
                       affected_share=make("beta", {"mean": 0.1, "sd": 0.05}),
                       damage_ratio=make("beta", {"mean": 0.3, "sd": 0.2})),
        ec.catastrophe("outage", rate=0.7, lines=("c", "b"),
                       affected_share=make("uniform", {"low": 0.2, "high": 0.6}),
                       damage_ratio=None, severity=make("gamma", {"mean": 1e5, "sd": 6e4})),
    ]
    return ec.scenario(lines, cats if with_cats else (), seed=seed)


@pytest.fixture(scope="module")
def cat_chunk():
    scen = cat_scenario()
    return scen, build_exposure(scen), ec.run(scen, 0, 20_000)


def _event_tables(chunk, n_lines=3):
    """Per catastrophe occurrence: its type, hits per line and loss."""
    events = np.flatnonzero(chunk.occ_event != ATTRITIONAL)
    occurrence = ec.risk_occurrence(chunk)
    hits = np.zeros((chunk.n_occurrences, n_lines), dtype=np.int64)
    np.add.at(hits, (occurrence, chunk.risk_line), 1)
    loss = np.bincount(occurrence, weights=chunk.risk_loss, minlength=chunk.n_occurrences)
    return events, hits[events], loss[events]


def _share_moments(dist: Distribution) -> tuple[float, float]:
    frozen = ec.scipy_distribution(dist)
    return float(frozen.mean()), float(frozen.moment(2))


def test_catastrophe_event_counts(cat_chunk):
    scen, _, chunk = cat_chunk
    trial = ec.occurrence_trial(chunk)
    for c, cat in enumerate(scen.catastrophes):
        per_trial = np.bincount(trial[chunk.occ_event == c], minlength=chunk.n_trials)
        check_mean(f"{cat.name} events per trial", per_trial, cat.rate)
        check_variance(f"{cat.name} events per trial", per_trial, cat.rate)
        check(f"{cat.name} P(no event)", float(np.mean(per_trial == 0)), math.exp(-cat.rate),
              math.sqrt(math.exp(-cat.rate) * (1 - math.exp(-cat.rate)) / chunk.n_trials))


def test_catastrophe_hits_and_event_losses(cat_chunk):
    scen, _, chunk = cat_chunk
    events, hits, loss = _event_tables(chunk)
    kinds = chunk.occ_event[events]
    for c, cat in enumerate(scen.catastrophes):
        mine = kinds == c
        s1, s2 = _share_moments(cat.affected_share)
        total_mean, within, mixing = 0.0, 0.0, 0.0
        for j, line in enumerate(scen.lines):
            n = line.policies
            if line.name not in cat.lines:
                assert np.all(hits[mine, j] == 0), f"{cat.name} hit line {line.name}"
                continue
            check_mean(f"{cat.name} policies hit on {line.name}", hits[mine, j], s1 * n)
            check_variance(f"{cat.name} policies hit on {line.name}", hits[mine, j],
                           n * (s1 - s2) + n * n * (s2 - s1 * s1))
            limit = line.sum_insured.p0 if line.limit is None else line.limit
            if cat.severity is not None:
                m1, m2 = layer_moments(cat.severity, line.deductible, limit)
            else:
                m1, m2 = layer_moments(cat.damage_ratio, line.deductible, limit, scale=line.sum_insured.p0)
            total_mean += n * m1
            within += n * (s1 * m2 - s2 * m1 * m1)     # E[Var(loss | share)], per policy Bernoulli(share) x X'
        mixing = (s2 - s1 * s1) * total_mean ** 2     # Var(E[loss | share])
        check_mean(f"{cat.name} event loss", loss[mine], s1 * total_mean)
        check_variance(f"{cat.name} event loss", loss[mine], within + mixing)


def test_attritional_losses_unaffected_by_catastrophes_statistically(cat_chunk):
    scen, _, chunk = cat_chunk
    attritional = chunk.occ_event[ec.risk_occurrence(chunk)] == ATTRITIONAL
    trial = ec.occurrence_trial(chunk)[ec.risk_occurrence(chunk)]
    line = scen.lines[0]
    mine = attritional & (chunk.risk_line == 0)
    per_trial = np.bincount(trial[mine], weights=chunk.risk_loss[mine], minlength=chunk.n_trials)
    m1, _ = layer_moments(line.severity, line.deductible, line.sum_insured.p0)
    check_mean("line a attritional loss", per_trial, line.policies * 0.02 * m1)


def test_chunk_structure(cat_chunk):
    scen, exposure, chunk = cat_chunk
    n_occ, n_risk = chunk.n_occurrences, chunk.n_risk_losses
    # CSR offsets
    assert chunk.occ_offsets[0] == 0 and chunk.occ_offsets[-1] == n_occ
    assert np.all(np.diff(chunk.occ_offsets) >= 0)
    assert chunk.risk_offsets[0] == 0 and chunk.risk_offsets[-1] == n_risk
    assert np.all(np.diff(chunk.risk_offsets) >= 0)
    assert len(chunk.risk_offsets) == n_occ + 1
    assert len(chunk.risk_policy) == len(chunk.risk_line) == n_risk
    sizes = np.diff(chunk.risk_offsets)
    # attritional occurrences are single claims
    attritional = chunk.occ_event == ATTRITIONAL
    assert np.all(sizes[attritional] == 1)
    assert set(np.unique(chunk.occ_event)) <= {ATTRITIONAL, 0, 1}
    # every risk loss is a policy of its line
    assert np.all(exposure.line[chunk.risk_policy] == chunk.risk_line)
    # losses within [0, limit]
    assert np.all(chunk.risk_loss >= 0.0)
    assert np.all(chunk.risk_loss <= exposure.limit[chunk.risk_policy])
    # days in [0, 365), sorted within each trial
    assert np.all((chunk.occ_day >= 0.0) & (chunk.occ_day < 365.0))
    trial = ec.occurrence_trial(chunk)
    same_trial = trial[1:] == trial[:-1]
    assert np.all(np.diff(chunk.occ_day)[same_trial] >= 0.0)
    # catastrophe events: lines of the event type, no policy twice
    occurrence = ec.risk_occurrence(chunk)
    event = chunk.occ_event[occurrence]
    for c, cat in enumerate(scen.catastrophes):
        allowed = [scen.line_index(name) for name in cat.lines]
        assert np.all(np.isin(chunk.risk_line[event == c], allowed))
    cat_risks = event != ATTRITIONAL
    pairs = occurrence[cat_risks].astype(np.int64) * exposure.n_policies + chunk.risk_policy[cat_risks]
    assert len(np.unique(pairs)) == len(pairs), "a policy hit twice within one event"
    # line_loss / line_claims are the risk losses by trial and line
    risk_trial = trial[occurrence]
    key = risk_trial * exposure.n_lines + chunk.risk_line
    size = chunk.n_trials * exposure.n_lines
    np.testing.assert_allclose(chunk.line_loss.ravel(), np.bincount(key, chunk.risk_loss, size), rtol=1e-12)
    np.testing.assert_array_equal(chunk.line_claims.ravel(), np.bincount(key, minlength=size))
    np.testing.assert_allclose(chunk.trial_loss(), np.bincount(risk_trial, chunk.risk_loss, chunk.n_trials),
                               rtol=1e-12)


def test_days_uniform_over_the_year(cat_chunk):
    _, _, chunk = cat_chunk
    for label, mask in (("attritional", chunk.occ_event == ATTRITIONAL), ("catastrophe", chunk.occ_event >= 0)):
        ks = stats.kstest(chunk.occ_day[mask] / 365.0, "uniform")
        print(f"{label} days: n {mask.sum()} KS {ks.statistic:.4g} p {ks.pvalue:.3g}")
        assert ks.pvalue > 1e-4


def test_empty_and_zero_rate_cases():
    scen = ec.scenario([ec.line(frequency=make("poisson", {"mean": 0.0}))],
                       [ec.catastrophe(rate=0.0)], seed=1)
    chunk = ec.run(scen, 0, 50)
    assert chunk.n_occurrences == 0 and chunk.n_risk_losses == 0
    assert np.all(chunk.occ_offsets == 0) and np.array_equal(chunk.risk_offsets, [0])
    assert np.all(chunk.line_loss == 0.0)


# ---------------------------------------------------------------- reproducibility
def full_scenario(seed: int = 2024, with_extra_cat: bool = False):
    scen = cat_scenario(seed=seed, uncertainty=0.3)
    lines = list(scen.lines)
    lines[0] = replace(lines[0], sum_insured=make("lognormal", {"median": 1e6, "sigma": 0.5}),
                       frequency=make("negbin", {"mean": 0.05, "dispersion": 1.0}))
    lines[2] = replace(lines[2], frequency=make("bernoulli", {"p": 0.1}))
    cats = list(scen.catastrophes)
    if with_extra_cat:
        cats.append(ec.catastrophe("flood", rate=2.0, lines=("a", "c")))
    return replace(scen, lines=tuple(lines), catastrophes=tuple(cats),
                   dependence=Dependence(copula="t", df=4.0, correlation=(("a", "b", 0.6), ("b", "c", 0.3))))


def assert_chunks_equal(a, b):
    for name, value in ec.chunk_arrays(a).items():
        other = getattr(b, name)
        assert value.dtype == other.dtype, name
        np.testing.assert_array_equal(value, other, err_msg=name, strict=True)


def test_chunking_does_not_change_results():
    scen = full_scenario()
    model, exposure = LossModel.from_scenario(scen), build_exposure(scen)
    whole = simulate_chunk(scen, model, exposure, 0, 600)
    halves = ec.concat_chunks(simulate_chunk(scen, model, exposure, 0, 300),
                              simulate_chunk(scen, model, exposure, 300, 300))
    assert_chunks_equal(whole, halves)
    uneven = ec.concat_chunks(simulate_chunk(scen, model, exposure, 0, 17),
                              simulate_chunk(scen, model, exposure, 17, 583))
    assert_chunks_equal(whole, uneven)
    # a chunk that starts later reproduces the same trials
    late = simulate_chunk(scen, model, exposure, 450, 150)
    assert np.array_equal(late.line_loss, whole.line_loss[450:])
    assert whole.n_risk_losses > 1000 and np.any(whole.occ_event >= 0)


@pytest.mark.parametrize("squeeze", ["scratch", "region", "both"])
def test_trials_without_room_give_the_same_results(monkeypatch, squeeze):
    """The first pass writes each trial into an over-sized region; a trial too big for its
    scratch or its region is counted, then simulated straight into place by the second pass.
    Squeezing the room sends most trials (catastrophe trials first) down those paths: the
    chunk must not change, bit for bit."""
    scen = cat_scenario()
    model, exposure = LossModel.from_scenario(scen), build_exposure(scen)
    roomy = simulate_chunk(scen, model, exposure, 0, 300)
    mean_occ, mean_risk = engine.expected_sizes(scen, exposure)
    redone = []
    second_pass = engine._second_pass

    def spy(*args):
        redone.append(int((args[6] < 0).sum()))    # region_occ_start: -1 for a trial without room
        return second_pass(*args)

    monkeypatch.setattr(engine, "_second_pass", spy)
    if squeeze in ("scratch", "both"):      # room for about a typical trial's claims
        monkeypatch.setattr(engine, "_trial_room", lambda mean: int(1.2 * mean))
    if squeeze in ("region", "both"):       # room for a fraction of a work item's trials
        monkeypatch.setattr(engine, "REGION_ROOM", 0.3)
    squeezed = simulate_chunk(scen, model, exposure, 0, 300)
    assert 30 < redone[0] < 300, redone      # many trials took the second path, not all
    assert_chunks_equal(roomy, squeezed)
    assert squeezed.n_risk_losses > 300 * 0.8 * mean_risk and np.any(squeezed.occ_event >= 0)


@pytest.mark.parametrize("squeeze", ["none", "scratch", "output", "both"])
def test_one_work_item_writes_trials_in_place_with_the_same_results(monkeypatch, squeeze):
    """On one thread the engine writes each trial straight into its place (no regions), growing
    the scratch for a trial too big for it and the output when it runs out of room. Whatever
    the room, the chunk equals the one simulated in parallel work items, bit for bit."""
    scen = cat_scenario()
    model, exposure = LossModel.from_scenario(scen), build_exposure(scen)
    monkeypatch.setattr(engine, "_in_place", lambda n_trials: False)
    parallel = simulate_chunk(scen, model, exposure, 0, 300)
    calls = []
    serial_pass = engine._serial_pass

    def spy(*args):
        calls.append(args[7])                   # the trial the call starts from
        return serial_pass(*args)

    monkeypatch.setattr(engine, "_in_place", lambda n_trials: True)
    monkeypatch.setattr(engine, "_serial_pass", spy)
    if squeeze in ("scratch", "both"):      # room for about a typical trial's claims
        monkeypatch.setattr(engine, "_trial_room", lambda mean: int(1.2 * mean))
    if squeeze in ("output", "both"):       # room for a tenth of the trials
        monkeypatch.setattr(engine, "REGION_ROOM", 0.1)
    serial = simulate_chunk(scen, model, exposure, 0, 300)
    assert_chunks_equal(parallel, serial)
    if squeeze in ("output", "both"):
        assert len(calls) > 1 and calls[0] == 0 and calls == sorted(calls), calls
    else:
        assert calls == [0]


def test_one_thread_or_one_work_item_runs_in_place(monkeypatch):
    monkeypatch.setattr(numba, "get_num_threads", lambda: 1)
    assert engine._in_place(10_000)
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    assert not engine._in_place(engine.TRIALS_PER_BLOCK + 1)
    assert engine._in_place(engine.TRIALS_PER_BLOCK)


THREAD_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    import numba
    import numpy as np
    import engine_cases as ec
    from test_engine import full_scenario
    assert numba.config.NUMBA_NUM_THREADS == {threads}, numba.config.NUMBA_NUM_THREADS
    chunk = ec.run(full_scenario(), 0, 400)
    np.savez({out!r}, **ec.chunk_arrays(chunk))
""")


def test_threads_do_not_change_results(tmp_path):
    results = {}
    for threads in (1, 2):
        out = tmp_path / f"threads{threads}.npz"
        env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
        script = THREAD_SCRIPT.format(tests=str(TESTS), threads=threads, out=str(out))
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        results[threads] = dict(np.load(out))
    in_process = ec.chunk_arrays(ec.run(full_scenario(), 0, 400))
    for name in ec.CHUNK_FIELDS:
        np.testing.assert_array_equal(results[1][name], results[2][name], err_msg=name, strict=True)
        np.testing.assert_array_equal(results[1][name], in_process[name], err_msg=name, strict=True)


def test_seed_changes_results():
    a = ec.run(full_scenario(seed=1), 0, 200)
    b = ec.run(full_scenario(seed=2), 0, 200)
    assert not np.array_equal(a.line_loss, b.line_loss)
    assert not np.array_equal(a.risk_level, b.risk_level)
    assert not np.array_equal(build_exposure(full_scenario(seed=1)).sum_insured,
                              build_exposure(full_scenario(seed=2)).sum_insured)


def _attritional(chunk):
    """Per trial: the attritional claims as (day, policy, line, loss) in table order."""
    occurrence = ec.risk_occurrence(chunk)
    keep = chunk.occ_event[occurrence] == ATTRITIONAL
    trial = ec.occurrence_trial(chunk)[occurrence][keep]
    return (trial, chunk.occ_day[occurrence][keep], chunk.risk_policy[keep], chunk.risk_line[keep],
            chunk.risk_loss[keep])


def test_adding_a_catastrophe_leaves_attritional_claims_unchanged():
    base = ec.run(full_scenario(), 0, 300)
    more = ec.run(full_scenario(with_extra_cat=True), 0, 300)
    assert np.sum(more.occ_event == 2) > 0
    for name, x, y in zip(("trial", "day", "policy", "line", "loss"), _attritional(base), _attritional(more)):
        np.testing.assert_array_equal(x, y, err_msg=name, strict=True)
    np.testing.assert_array_equal(base.risk_level, more.risk_level)
    # the existing catastrophe types' events are unchanged too
    for c in (0, 1):
        np.testing.assert_array_equal(base.occ_day[base.occ_event == c], more.occ_day[more.occ_event == c])


def test_exposure_is_the_same_for_every_chunk_and_run():
    scen = full_scenario()
    first = build_exposure(scen)
    again = build_exposure(replace(scen, simulation=replace(scen.simulation, trials=123)))
    for name in ("line", "sum_insured", "premium", "deductible", "limit", "line_start"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name), err_msg=name)
    # a grown portfolio keeps its first policies' sums insured
    grown = build_exposure(scen, policy_scale=np.array([1.5, 1.0, 2.0]))
    for j in range(3):
        old = first.sum_insured[first.line_start[j]:first.line_start[j + 1]]
        new = grown.sum_insured[grown.line_start[j]:grown.line_start[j + 1]]
        np.testing.assert_array_equal(new[:len(old)], old)


# ---------------------------------------------------------------- exposure
@pytest.mark.parametrize("kind,params", [
    ("lognormal", {"median": 1e6, "sigma": 0.5}),
    ("gamma", {"mean": 2e6, "sd": 5e5}),
    ("uniform", {"low": 1e5, "high": 9e5, "max": 7e5}),
])
def test_sums_insured_follow_their_distribution(kind, params):
    dist = make(kind, params)
    policies = 20_000
    scen = ec.scenario([ec.line("x", policies=50, sum_insured=2e5),
                        ec.line("y", policies=policies, sum_insured=dist, premium_rate=0.015, deductible=3e3),
                        ec.line("z", policies=10, sum_insured=dist, limit=4e5)], seed=31)
    exposure = build_exposure(scen)
    block = slice(exposure.line_start[1], exposure.line_start[2])
    si = exposure.sum_insured[block]
    assert len(si) == policies and np.all(exposure.line[block] == 1)
    m1, m2 = layer_moments(dist)                    # capped moments (equal to the plain ones uncapped)
    check_mean(f"{kind} sums insured", si, m1)
    check_variance(f"{kind} sums insured", si, m2 - m1 * m1)
    assert np.all(si <= dist.cap)
    # premium = rate x SI, deductible, limit = SI unless given
    np.testing.assert_array_equal(exposure.premium[block], 0.015 * si)
    assert np.all(exposure.deductible[block] == 3e3)
    np.testing.assert_array_equal(exposure.limit[block], si)
    assert np.all(exposure.sum_insured[:50] == 2e5) and np.all(exposure.limit[:50] == 2e5)
    assert np.all(exposure.limit[exposure.line_start[2]:] == 4e5)
    np.testing.assert_allclose(exposure.line_premium(), [0.01 * 2e5 * 50, 0.015 * si.sum(),
                                                         0.01 * exposure.sum_insured[exposure.line_start[2]:].sum()])
    # two lines with the same distribution get different draws (keyed by line)
    assert not np.array_equal(exposure.sum_insured[exposure.line_start[2]:], si[:10])


CACHE_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    import numpy as np
    import engine_cases as ec
    from test_engine import full_scenario
    scen = full_scenario()
    chunk = ec.run(scen, 0, 200)
    np.savez({out!r}, sum_insured=ec.build_exposure(scen).sum_insured, **ec.chunk_arrays(chunk))
""")


@pytest.mark.slow
def test_results_do_not_depend_on_the_numba_cache(tmp_path):
    """A run that compiles every kernel afresh (empty NUMBA_CACHE_DIR) equals this process's run.

    numba's ``cache=True`` invalidates a cached kernel only when *its own* source file changes, not
    when a kernel it calls (in another module) does: after an edit of ``sim/rng.py`` or
    ``sim/sampling.py``, ``copula._draw_normals`` and ``exposure._sample_sums_insured`` still run
    the old samplers from their cache, while a fresh machine or Dask worker compiles the new ones.
    """
    out = tmp_path / "fresh.npz"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    done = subprocess.run([sys.executable, "-c", CACHE_SCRIPT.format(tests=str(TESTS), out=str(out))],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    fresh = dict(np.load(out))
    scen = full_scenario()
    here = {"sum_insured": build_exposure(scen).sum_insured, **ec.chunk_arrays(ec.run(scen, 0, 200))}
    for name in ("sum_insured", "risk_level", *ec.CHUNK_FIELDS):
        np.testing.assert_array_equal(here[name], fresh[name], err_msg=f"{name}: cached kernels differ "
                                      "from freshly compiled ones (stale numba cache)", strict=True)
