"""The counter-based random streams of :mod:`sim.kernels.rng`.

- a plain-Python SplitMix64 / xoshiro256** reference reproduces the kernels bit for bit;
- uniforms lie in the open interval (0, 1), including at the extreme outputs of the generator;
- uniformity (chi-square and Kolmogorov-Smirnov, seeded, so a p-value threshold of 1e-4);
- independence of consecutive draws, of streams, keys, trials and seeds: correlations within
  4 SE (SE = 1/sqrt(n)) and a chi-square test of the pairs' joint histogram;
- determinism and chunk independence of :func:`sim.kernels.rng.uniform_table`.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from engine_cases import check, draw_uniforms
from sim.kernels import rng

SEED = 20240601
N = 100_000
MASK = (1 << 64) - 1


# ---------------------------------------------------------------- plain-Python reference
def ref_splitmix64(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def ref_seed_state(seed: int, stream: int, trial: int, key: int) -> list[int]:
    h = ref_splitmix64(seed)
    h = ref_splitmix64(h ^ stream)
    h = ref_splitmix64(h ^ trial)
    h = ref_splitmix64(h ^ key)
    state = []
    for i in range(4):
        h = ref_splitmix64((h + i) & MASK)
        state.append(h)
    return state


def rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & MASK


def ref_next(state: list[int]) -> int:
    result = (rotl((state[1] * 5) & MASK, 7) * 9) & MASK
    t = (state[1] << 17) & MASK
    state[2] ^= state[0]
    state[3] ^= state[1]
    state[1] ^= state[2]
    state[0] ^= state[3]
    state[2] ^= t
    state[3] = rotl(state[3], 45)
    return result


def test_splitmix64_known_value():
    # The first output of the reference SplitMix64 seeded with 0 (Vigna's splitmix64.c).
    assert int(rng.splitmix64(np.uint64(0))) == 0xE220A8397B1DCDAF == ref_splitmix64(0)


def test_xoshiro_known_value():
    # xoshiro256** from the state (1, 2, 3, 4): rotl(2 * 5, 7) * 9 = 11520, then the reference sequence.
    state = np.array([1, 2, 3, 4], dtype=np.uint64)
    reference = [1, 2, 3, 4]
    first = int(rng.next_uint64(state))
    assert first == 11520 == ref_next(reference)
    for _ in range(100):
        assert int(rng.next_uint64(state)) == ref_next(reference)


@pytest.mark.parametrize("args", [(0, 0, 0, 0), (SEED, 3, 17, 2), (2**63 + 5, 4, 10**9, (1 << 20) + 3)])
def test_kernels_match_reference(args):
    state = np.empty(4, dtype=np.uint64)
    rng.seed_state(state, *(np.uint64(a) for a in args))
    reference = ref_seed_state(*args)
    assert [int(s) for s in state] == reference
    for _ in range(50):
        bits = ref_next(reference)
        assert rng.uniform(state) == ((bits >> 12) + 0.5) * 2.0 ** -52


@pytest.mark.parametrize("args", [(0, 0, 0, 0), (SEED, 3, 17, 2), (2**63 + 5, 4, 10**9, (1 << 20) + 3)])
def test_state_tuple_functions_match_reference(args):
    """The hot loops' form of the generator (the state as a tuple) gives the reference draws too,
    and moving between the two forms loses nothing."""
    def as_uint64(s):     # numba hands the words to Python as ints; give them back typed
        return tuple(np.uint64(int(w) & MASK) for w in s)

    s = rng.seeded(*(np.uint64(a) for a in args))
    reference = ref_seed_state(*args)
    assert [int(w) & MASK for w in s] == reference
    state = np.empty(4, dtype=np.uint64)
    rng.store_state(state, as_uint64(s))
    assert [int(w) & MASK for w in rng.state_tuple(state)] == reference

    for _ in range(50):
        bits, s = rng.next_bits(as_uint64(s))
        assert int(bits) & MASK == ref_next(reference)
        u, s = rng.next_uniform(as_uint64(s))
        assert u == ((ref_next(reference) >> 12) + 0.5) * 2.0 ** -52
    assert [int(w) & MASK for w in s] == reference


# ---------------------------------------------------------------- range
def test_uniform_open_interval_at_extreme_outputs():
    """The smallest and the largest 64-bit outputs must still give a uniform strictly inside (0, 1).

    With 53 bits, ``(2^53 - 1 + 0.5) * 2^-53 = 1 - 2^-54`` is not a float64 and rounds to
    exactly 1.0; with 52 bits the largest value is ``1 - 2^-53``, which is.
    """
    # state[1] = 0 makes the next output 0; the smallest uniform is 2^-53, not 0.
    state = np.array([123, 0, 456, 789], dtype=np.uint64)
    assert rng.uniform(state) == 2.0 ** -53
    # choose state[1] so that rotl(s1 * 5, 7) * 9 = 2^64 - 1, the largest output
    a = (MASK * pow(9, -1, 1 << 64)) & MASK
    b = ((a >> 7) | (a << 57)) & MASK                 # rotr(a, 7)
    s1 = (b * pow(5, -1, 1 << 64)) & MASK
    state = np.array([123, s1, 456, 789], dtype=np.uint64)
    assert ref_next([123, s1, 456, 789]) == MASK
    u = rng.uniform(state)
    assert 0.5 < u < 1.0, f"uniform returned {u!r} for the largest output: not in the open interval (0, 1)"


def test_uniforms_in_open_unit_interval():
    u = draw_uniforms(SEED, rng.STREAM_AMOUNTS, 0, 0, 1_000_000)
    assert np.all(u > 0.0) and np.all(u < 1.0)
    table = rng.uniform_table(SEED, rng.STREAM_COUNTS, 0, 100_000, 3)
    assert np.all(table > 0.0) and np.all(table < 1.0)


# ---------------------------------------------------------------- uniformity
def _assert_uniform(label: str, u: np.ndarray, bins: int = 100) -> None:
    observed = np.histogram(u, bins=bins, range=(0.0, 1.0))[0]
    chi2 = stats.chisquare(observed)
    ks = stats.kstest(u, "uniform")
    print(f"{label}: n {len(u)}  chi-square {chi2.statistic:.1f} on {bins - 1} df p {chi2.pvalue:.3g}  "
          f"KS {ks.statistic:.4g} p {ks.pvalue:.3g}  mean {u.mean():.5f}")
    assert chi2.pvalue > 1e-4, label
    assert ks.pvalue > 1e-4, label
    check(f"{label} mean", float(u.mean()), 0.5, math.sqrt(1.0 / 12.0 / len(u)))


def test_uniformity_within_a_stream():
    _assert_uniform("one stream", draw_uniforms(SEED, rng.STREAM_AMOUNTS, 7, 0, N))


def test_uniformity_of_first_draws_across_trials_and_keys():
    # each trial and key reseeds: the first draws of consecutive trials / keys must be uniform too
    table = rng.uniform_table(SEED, rng.STREAM_COUNTS, 0, N, 2)
    _assert_uniform("first draw across trials", table[:, 0])
    keys = np.array([draw_uniforms(SEED, rng.STREAM_COUNTS, 5, k, 1)[0] for k in range(20_000)])
    _assert_uniform("first draw across keys", keys, bins=50)


def test_uniformity_across_seeds():
    firsts = rng.uniform_table(0, rng.STREAM_COUNTS, 0, 1, 1)
    seeds = np.array([rng.uniform_table(s, rng.STREAM_COUNTS, 0, 1, 1)[0, 0] for s in range(20_000)])
    assert seeds[0] == firsts[0, 0]
    _assert_uniform("first draw across seeds", seeds, bins=50)


# ---------------------------------------------------------------- independence
def _assert_independent(label: str, u: np.ndarray, v: np.ndarray) -> None:
    n = len(u)
    r = float(np.corrcoef(u, v)[0, 1])
    check(f"{label} correlation", r, 0.0, 1.0 / math.sqrt(n))
    # joint histogram: 10 x 10 cells, expected n/100 each (81 df for independence of uniforms)
    observed = np.histogram2d(u, v, bins=10, range=((0, 1), (0, 1)))[0].ravel()
    chi2 = stats.chisquare(observed)
    print(f"{label}: pairs chi-square {chi2.statistic:.1f} on 99 df p {chi2.pvalue:.3g}")
    assert chi2.pvalue > 1e-4, label


def test_consecutive_draws_independent():
    u = draw_uniforms(SEED, rng.STREAM_AMOUNTS, 3, 1, 2 * N)
    _assert_independent("lag 1", u[:-1], u[1:])
    _assert_independent("lag 2", u[:-2], u[2:])


def test_streams_independent():
    trials = rng.uniform_table(SEED, rng.STREAM_COUNTS, 0, N, 1)[:, 0]
    amounts = rng.uniform_table(SEED, rng.STREAM_AMOUNTS, 0, N, 1)[:, 0]
    _assert_independent("stream 3 vs stream 4", trials, amounts)
    copula = rng.uniform_table(SEED, rng.STREAM_COPULA, 0, N, 1)[:, 0]
    _assert_independent("stream 2 vs stream 3", copula, trials)


def test_keys_independent():
    table = rng.uniform_table(SEED, rng.STREAM_COUNTS, 0, N, 2)
    _assert_independent("key 0 vs key 1", table[:, 0], table[:, 1])


def test_adjacent_trials_and_seeds_independent():
    table = rng.uniform_table(SEED, rng.STREAM_COUNTS, 0, N + 1, 1)[:, 0]
    _assert_independent("trial t vs t + 1", table[:-1], table[1:])
    other = rng.uniform_table(SEED + 1, rng.STREAM_COUNTS, 0, N, 1)[:, 0]
    _assert_independent("seed vs seed + 1", table[:-1], other)


def test_catastrophe_key_independent_of_line_key():
    # the engine keys lines by their index and catastrophe types from 2^20 on
    line = np.array([draw_uniforms(SEED, rng.STREAM_COUNTS, t, 0, 1)[0] for t in range(20_000)])
    cat = np.array([draw_uniforms(SEED, rng.STREAM_COUNTS, t, 1 << 20, 1)[0] for t in range(20_000)])
    r = float(np.corrcoef(line, cat)[0, 1])
    check("line key 0 vs catastrophe key 2^20 correlation", r, 0.0, 1.0 / math.sqrt(len(line)))


# ---------------------------------------------------------------- determinism
def test_deterministic():
    a = draw_uniforms(SEED, 4, 11, 2, 1000)
    b = draw_uniforms(SEED, 4, 11, 2, 1000)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, draw_uniforms(SEED, 4, 12, 2, 1000))
    assert not np.array_equal(a, draw_uniforms(SEED, 4, 11, 3, 1000))
    assert not np.array_equal(a, draw_uniforms(SEED, 3, 11, 2, 1000))
    assert not np.array_equal(a, draw_uniforms(SEED + 1, 4, 11, 2, 1000))


def test_uniform_table_is_the_first_draw_and_chunk_independent():
    whole = rng.uniform_table(SEED, 3, 0, 2000, 4)
    parts = np.concatenate([rng.uniform_table(SEED, 3, 0, 700, 4), rng.uniform_table(SEED, 3, 700, 1300, 4)])
    np.testing.assert_array_equal(whole, parts)
    for t, k in [(0, 0), (699, 3), (700, 1), (1999, 2)]:
        assert whole[t, k] == draw_uniforms(SEED, 3, t, k, 1)[0]
