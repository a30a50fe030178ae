"""Counter-based random streams: every draw depends only on (seed, stream, trial, key).

Each (seed, stream, trial, key) tuple is hashed with SplitMix64 into the state
of its own xoshiro256** generator. A trial's draws therefore never depend on
which thread, chunk or Dask worker runs it, nor on how many trials run, and
the separate ``stream`` ids keep, say, reinsurer defaults from shifting the
gross losses. ``key`` separates sub-streams within a trial (a line, a
catastrophe type, a reinsurer).

The state is a ``(4,)`` uint64 array that the caller allocates (one per trial
inside a ``prange`` loop), so no generator is ever shared between threads.
"""
import numpy as np

from .jit import jit, parallel_jit, prange

# Stream ids: one purpose each. Never reuse or renumber: seeded results depend on them.
STREAM_EXPOSURE = 1      # sums insured, once per scenario
STREAM_COPULA = 2        # lines' yearly risk levels
STREAM_COUNTS = 3        # claim counts, which policies claim, catastrophe events and hits
STREAM_AMOUNTS = 4       # claim amounts and days
STREAM_DEFAULT = 5       # reinsurer defaults

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 4503599627370496.0   # 2**-52


@jit
def splitmix64(x):
    """One SplitMix64 output for the input ``x`` (uint64)."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@jit
def seed_state(state, seed, stream, trial, key):
    """Fill ``state`` (uint64 ``(4,)``) for the stream (seed, stream, trial, key)."""
    h = splitmix64(np.uint64(seed))
    h = splitmix64(h ^ np.uint64(stream))
    h = splitmix64(h ^ np.uint64(trial))
    h = splitmix64(h ^ np.uint64(key))
    for i in range(4):
        h = splitmix64(h + np.uint64(i))
        state[i] = h
    if state[0] == 0 and state[1] == 0 and state[2] == 0 and state[3] == 0:  # the one bad state
        state[0] = _GOLDEN


@jit
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@jit
def next_uint64(state):
    """xoshiro256**: the next 64 random bits."""
    result = _rotl(state[1] * np.uint64(5), 7) * np.uint64(9)
    t = state[1] << np.uint64(17)
    state[2] ^= state[0]
    state[3] ^= state[1]
    state[1] ^= state[2]
    state[0] ^= state[3]
    state[2] ^= t
    state[3] = _rotl(state[3], 45)
    return result


@jit
def uniform(state):
    """A uniform draw in the open interval (0, 1): never 0, so logs are safe, and never 1.

    52 random bits plus one half: (k + 0.5) * 2**-52 is exact in float64 for every k,
    so the largest value is 1 - 2**-53 (53 bits would round up to 1.0).
    """
    return (float(next_uint64(state) >> np.uint64(12)) + 0.5) * _TO_UNIT


@parallel_jit
def _uniform_table(seed, stream, first_trial, n_trials, n_keys, out):
    for t in prange(n_trials):
        state = np.empty(4, dtype=np.uint64)
        for key in range(n_keys):
            seed_state(state, seed, stream, first_trial + t, key)
            out[t, key] = uniform(state)


def uniform_table(seed: int, stream: int, first_trial: int, n_trials: int, n_keys: int) -> np.ndarray:
    """One uniform per (trial, key): ``out[t, k]`` is the first draw of stream (seed, stream, first_trial + t, k).

    Returns float64 ``(n_trials, n_keys)``.
    """
    out = np.empty((n_trials, n_keys), dtype=np.float64)
    _uniform_table(np.uint64(seed), np.uint64(stream), np.uint64(first_trial), n_trials, n_keys, out)
    return out
