"""Counter-based random streams: every draw depends only on (seed, stream, trial, key).

Each (seed, stream, trial, key) tuple is hashed with SplitMix64 into the state
of its own xoshiro256** generator. A trial's draws therefore never depend on
which thread, chunk or Dask worker runs it, nor on how many trials run, and
the separate ``stream`` ids keep, say, reinsurer defaults from shifting the
gross losses. ``key`` separates sub-streams within a trial (a line, a
catastrophe type, a reinsurer).

A generator's state comes in two forms, with the same draws:

- a ``(4,)`` uint64 array that the caller allocates (one per trial inside a
  ``prange`` loop), so no generator is ever shared between threads; and
- a tuple of four uint64, which the ``next_*`` functions take and return
  with the draw: ``bits, s = next_bits(s)``. The hot loops use it. Numba
  cannot tell that a float64 output array and the uint64 state array never
  overlap, so after every store to the output it reloads the state from
  memory, and each draw then waits on the one before it through memory;
  held in a tuple the state stays in registers. A beta draw (five 64-bit
  draws) took half the time this way, with the same values.

:func:`state_tuple` and :func:`store_state` move between the two.
"""
import numpy as np

from .jit import inlined_jit, jit, parallel_jit, prange

# Stream ids: one purpose each. Never reuse or renumber: seeded results depend on them.
STREAM_EXPOSURE = 1      # sums insured, once per scenario
STREAM_COPULA = 2        # lines' yearly risk levels
STREAM_COUNTS = 3        # claim counts, which policies claim, catastrophe events and hits
STREAM_AMOUNTS = 4       # claim amounts and days
STREAM_DEFAULT = 5       # reinsurer defaults
STREAM_PARAMETER = 6     # lines' true risk levels (parameter risk), once per path

# Trial ids of multi-year runs: year y (1-based) of path i is trial i + (y - 1) * YEAR_STRIDE, so
# every (path, year) has streams of its own, and year 1 is the one-year trial i. A path's own
# draws (its true risk levels, STREAM_PARAMETER) are keyed by i = trial mod YEAR_STRIDE.
YEAR_STRIDE = 2 ** 40

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


@inlined_jit
def seeded(seed, stream, trial, key):
    """The state tuple of the stream (seed, stream, trial, key)."""
    h = splitmix64(np.uint64(seed))
    h = splitmix64(h ^ np.uint64(stream))
    h = splitmix64(h ^ np.uint64(trial))
    h = splitmix64(h ^ np.uint64(key))
    s0 = splitmix64(h)
    s1 = splitmix64(s0 + np.uint64(1))
    s2 = splitmix64(s1 + np.uint64(2))
    s3 = splitmix64(s2 + np.uint64(3))
    if s0 == 0 and s1 == 0 and s2 == 0 and s3 == 0:  # the one bad state
        s0 = _GOLDEN
    return s0, s1, s2, s3


@inlined_jit
def state_tuple(state):
    """The state array's four words as a tuple."""
    return state[0], state[1], state[2], state[3]


@inlined_jit
def store_state(state, s):
    """Write the state tuple ``s`` back to the state array."""
    state[0] = s[0]
    state[1] = s[1]
    state[2] = s[2]
    state[3] = s[3]


@jit
def seed_state(state, seed, stream, trial, key):
    """Fill ``state`` (uint64 ``(4,)``) for the stream (seed, stream, trial, key)."""
    store_state(state, seeded(seed, stream, trial, key))


@inlined_jit
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@inlined_jit
def next_bits(s):
    """xoshiro256** on the state tuple ``s``: ``(the next 64 random bits, the new state)``."""
    s0, s1, s2, s3 = s
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, (s0, s1, s2, s3)


@inlined_jit
def next_uniform(s):
    """:func:`uniform` on the state tuple ``s``: ``(u, the new state)``."""
    bits, s = next_bits(s)
    return (float(bits >> np.uint64(12)) + 0.5) * _TO_UNIT, s


@inlined_jit
def next_below(s, n):
    """A uniform integer in ``[0, n)``, ``1 <= n < 2**32``, and the new state tuple: Lemire's
    (2019) multiply-shift with rejection ("Fast random integer generation in an interval",
    ACM TOMS 29(1)), exact."""
    bits, s = next_bits(s)
    m = (bits >> np.uint64(32)) * np.uint64(n)
    low = m & np.uint64(0xFFFFFFFF)
    if low < np.uint64(n):
        threshold = np.uint64((1 << 32) % n)    # 2**32 mod n: the low values that would bias the result
        while low < threshold:
            bits, s = next_bits(s)
            m = (bits >> np.uint64(32)) * np.uint64(n)
            low = m & np.uint64(0xFFFFFFFF)
    return int(m >> np.uint64(32)), s


@jit
def next_uint64(state):
    """xoshiro256**: the next 64 random bits."""
    bits, s = next_bits(state_tuple(state))
    store_state(state, s)
    return bits


@jit
def uniform(state):
    """A uniform draw in the open interval (0, 1): never 0, so logs are safe, and never 1.

    52 random bits plus one half: (k + 0.5) * 2**-52 is exact in float64 for every k,
    so the largest value is 1 - 2**-53 (53 bits would round up to 1.0).
    """
    u, s = next_uniform(state_tuple(state))
    store_state(state, s)
    return u


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
