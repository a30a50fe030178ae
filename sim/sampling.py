"""Numba samplers for the scenario's distributions, drawn from a per-trial stream.

A distribution arrives as the float64 row ``(code, p0, p1, p2, cap)`` of
:meth:`sim.distributions.Distribution.as_array`; codes and canonical
parameters are documented in :mod:`sim.distributions`.

Every sampler here is exact (rejection methods accept with exactly the target
density) and reads only :func:`sim.rng.next_uint64` / :func:`sim.rng.uniform`
of the stream it is given, so draws stay reproducible per (seed, stream,
trial, key) whatever the threads or chunks.
"""
import math

import numpy as np

from . import distributions as d
from .jit import jit
from .rng import next_uint64, uniform

# ---------------------------------------------------------------- ziggurat tables
# Marsaglia and Tsang (2000), "The ziggurat method for generating random
# variables", J. Stat. Softw. 5(8), with 256 layers and 52-bit abscissae as in
# NumPy's Generator.standard_normal. Numba freezes these module-level arrays
# into the compiled code as constants.
_ZIG_LAYERS = 256
_ZIG_R = 3.6541528853610087963519472518    # right edge of the base layer
_ZIG_SCALE = float(2 ** 52)


def _ziggurat_tables():
    """``(k, w, f)``: acceptance thresholds, abscissa scales and densities of the 256 layers.

    Layer ``i >= 1`` is the rectangle ``[0, x_i] x [f(x_i), f(x_{i-1})]`` with
    ``x_0 = 0`` at the top and ``x_255 = r``; layer 0 is the base strip of
    width ``v / f(r)`` (it includes the tail beyond ``r``). All layers have the
    same area ``v``. A 52-bit integer ``j`` maps to ``x = j * w[i]``; ``j < k[i]``
    means ``x < x_{i-1}``, i.e. inside the density for sure.
    """
    f_of = lambda x: math.exp(-0.5 * x * x)     # unnormalised normal density
    r = _ZIG_R
    v = r * f_of(r) + math.sqrt(math.pi / 2.0) * math.erfc(r / math.sqrt(2.0))   # area of each layer
    k = np.zeros(_ZIG_LAYERS, dtype=np.uint64)
    w = np.zeros(_ZIG_LAYERS, dtype=np.float64)
    f = np.zeros(_ZIG_LAYERS, dtype=np.float64)
    q = v / f_of(r)
    k[0] = np.uint64(int((r / q) * _ZIG_SCALE))
    k[1] = 0
    w[0] = q / _ZIG_SCALE
    w[-1] = r / _ZIG_SCALE
    f[0] = 1.0
    f[-1] = f_of(r)
    x_outer = r
    for i in range(_ZIG_LAYERS - 2, 0, -1):
        x = math.sqrt(-2.0 * math.log(v / x_outer + f_of(x_outer)))
        k[i + 1] = np.uint64(int((x / x_outer) * _ZIG_SCALE))   # truncation only sends a few more draws to the exact test
        x_outer = x
        f[i] = f_of(x)
        w[i] = x / _ZIG_SCALE
    return k, w, f


_ZIG_K, _ZIG_W, _ZIG_F = _ziggurat_tables()
_ZIG_K_SIGNED = _ZIG_K.astype(np.int64)    # thresholds < 2**52: compared with the int64 abscissa
_ZIG_INV_R = 1.0 / _ZIG_R
_LOW8 = np.uint64(0xFF)
_LOW52 = np.uint64((1 << 52) - 1)


@jit
def standard_normal(state):
    """Standard normal by the ziggurat of Marsaglia and Tsang (2000), 256 layers.

    One 64-bit draw gives the layer (8 bits), the sign (1 bit) and the
    abscissa (52 bits); about 99% of calls return after that single draw and
    a table comparison. The rest take the exact wedge test against the
    density, or, in the base layer, Marsaglia's (1964) exact tail method.
    """
    while True:
        bits = next_uint64(state)
        i = int(bits & _LOW8)
        # The sign as +-1.0 times x rather than a branch: the branch is a coin flip that the
        # CPU mispredicts half the time, which made the sampler almost twice as slow. The
        # 52-bit abscissa goes through int64, whose conversion to float is one instruction.
        sign = 1.0 - 2.0 * float(np.int64((bits >> np.uint64(8)) & np.uint64(1)))
        j = np.int64((bits >> np.uint64(9)) & _LOW52)
        x = float(j) * _ZIG_W[i]
        if j < _ZIG_K_SIGNED[i]:   # strictly inside the density: accept
            return sign * x
        if i == 0:                 # base layer beyond r: sample the tail exactly
            while True:
                xx = -math.log(uniform(state)) * _ZIG_INV_R
                yy = -math.log(uniform(state))
                if yy + yy > xx * xx:
                    return sign * (_ZIG_R + xx)
        # wedge: accept (x, y) with y uniform over the layer's height iff under the density
        if _ZIG_F[i] + (_ZIG_F[i - 1] - _ZIG_F[i]) * uniform(state) < math.exp(-0.5 * x * x):
            return sign * x


# Exponential ziggurat: same construction, for the density exp(-x) on [0, inf).
# r and the layer area v are Marsaglia and Tsang's (2000) values for 256 layers.
_ZIGE_R = 7.69711747013104972


def _exponential_ziggurat_tables():
    """``(k, w, f)`` of the 256-layer exponential ziggurat, laid out as :func:`_ziggurat_tables`."""
    r = _ZIGE_R
    v = r * math.exp(-r) + math.exp(-r)     # rectangle under f(r) plus the tail integral
    k = np.zeros(_ZIG_LAYERS, dtype=np.uint64)
    w = np.zeros(_ZIG_LAYERS, dtype=np.float64)
    f = np.zeros(_ZIG_LAYERS, dtype=np.float64)
    q = v / math.exp(-r)
    k[0] = np.uint64(int((r / q) * _ZIG_SCALE))
    k[1] = 0
    w[0] = q / _ZIG_SCALE
    w[-1] = r / _ZIG_SCALE
    f[0] = 1.0
    f[-1] = math.exp(-r)
    x_outer = r
    for i in range(_ZIG_LAYERS - 2, 0, -1):
        x = -math.log(v / x_outer + math.exp(-x_outer))
        k[i + 1] = np.uint64(int((x / x_outer) * _ZIG_SCALE))
        x_outer = x
        f[i] = math.exp(-x)
        w[i] = x / _ZIG_SCALE
    return k, w, f


_ZIGE_K, _ZIGE_W, _ZIGE_F = _exponential_ziggurat_tables()
_ZIGE_K_SIGNED = _ZIGE_K.astype(np.int64)
_SHIFT12 = np.uint64(12)


@jit
def standard_exponential(state):
    """Standard exponential by the ziggurat of Marsaglia and Tsang (2000), 256 layers.

    Exact, and about 99% of calls cost one 64-bit draw and a table comparison,
    where ``-log(uniform)`` costs a logarithm every time. One draw gives the
    layer (low 8 bits) and a 52-bit abscissa (high bits). The base layer's
    tail beyond r is r plus a fresh exponential (memorylessness), drawn by
    ``-log(uniform)``: about 0.05% of calls.
    """
    while True:
        bits = next_uint64(state)
        i = int(bits & _LOW8)
        j = np.int64(bits >> _SHIFT12)      # int64 converts to float in one instruction
        x = float(j) * _ZIGE_W[i]
        if j < _ZIGE_K_SIGNED[i]:
            return x
        if i == 0:
            return _ZIGE_R - math.log(uniform(state))
        if _ZIGE_F[i] + (_ZIGE_F[i - 1] - _ZIGE_F[i]) * uniform(state) < math.exp(-x):
            return x


@jit
def gamma_terms(shape):
    """``(boosted, third, c)``: the constants of :func:`standard_gamma` for ``shape``, which a
    batch works out once. ``boosted`` is ``shape < 1`` (then drawn at ``shape + 1`` and boosted)."""
    boosted = shape < 1.0
    if boosted:
        shape += 1.0
    third = shape - 1.0 / 3.0
    return boosted, third, 1.0 / math.sqrt(9.0 * third)


@jit(inline="always")
def gamma_core(state, third, c):
    """Marsaglia and Tsang's rejection loop for a gamma of shape ``third + 1/3 >= 1``."""
    while True:
        x = standard_normal(state)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = uniform(state)
        x2 = x * x
        if u < 1.0 - 0.0331 * x2 * x2:
            return third * v
        if math.log(u) < 0.5 * x2 + third - third * v + third * math.log(v):
            return third * v


@jit(inline="always")
def gamma_from_terms(state, shape, boosted, third, c):
    """A gamma of ``shape`` from its :func:`gamma_terms`: the boost's draw first, then the core's."""
    boost = 1.0
    if boosted:
        boost = math.exp(-standard_exponential(state) / shape)   # u ** (1/shape) with -log(u) ~ Exp(1)
    return gamma_core(state, third, c) * boost


@jit
def standard_gamma(state, shape):
    """Marsaglia and Tsang (2000), "A simple method for generating gamma variables",
    ACM TOMS 26(3), with their u**(1/shape) boost for shape < 1.

    The squeeze ``u < 1 - 0.0331 x**4`` (from the paper) accepts most draws
    without a logarithm; it lies below the exact acceptance bound.
    """
    boosted, third, c = gamma_terms(shape)
    return gamma_from_terms(state, shape, boosted, third, c)


@jit
def poisson(state, mean):
    """Poisson by inversion: means here are small (events a year, claims a policy)."""
    if mean <= 0.0:
        return 0
    if mean > 500.0:   # inversion would underflow exp(-mean); normal approximation is exact enough there
        return max(0, int(mean + math.sqrt(mean) * standard_normal(state) + 0.5))
    u = uniform(state)
    probability = math.exp(-mean)
    cumulative = probability
    k = 0
    while u > cumulative and probability > 0.0:
        k += 1
        probability *= mean / k
        cumulative += probability
    return k


@jit
def sample(state, dist):
    """One draw of a severity-type distribution ``dist = (code, p0, p1, p2, cap)``, capped at ``cap``."""
    return sample_params(state, int(dist[0]), dist[1], dist[2], dist[3], dist[4])


@jit
def sample_params(state, code, a, b, c, cap):
    """:func:`sample` with the row unpacked into scalars ``(code, a, b, c, cap)``.

    The engine unpacks each line's row once, so its per-claim loop takes no
    array views (each view is a struct with reference counting).
    ``-log(uniform)`` draws are ziggurat exponentials: same law, no logarithm.
    """
    if code == d.CONSTANT:
        x = a
    elif code == d.LOGNORMAL:
        x = math.exp(a + b * standard_normal(state))
    elif code == d.GAMMA:
        x = b * standard_gamma(state, a)
    elif code == d.PARETO:
        x = a * math.expm1(standard_exponential(state) / b)   # a (u ** (-1/b) - 1), without pow
    elif code == d.GPD:
        if b == 0.0:
            x = c + a * standard_exponential(state)
        else:
            x = c + a / b * math.expm1(b * standard_exponential(state))   # u ** (-b) - 1, without pow
    elif code == d.BETA:
        # Ratio of gammas. Cheng's (1978) BB/BC rejection samplers were tried: with the
        # ziggurat normal they were no faster (~100-130 ns a draw both ways), so keep this.
        g1 = standard_gamma(state, a)
        g2 = standard_gamma(state, b)
        x = g1 / (g1 + g2)
    elif code == d.UNIFORM:
        x = a + (b - a) * uniform(state)
    else:
        x = np.nan
    return min(x, cap)


@jit
def sample_many(state, code, a, b, c, cap, out, start, stop):
    """``out[start:stop]`` = successive draws of :func:`sample_params` with these arguments:
    the same values, bit for bit, from the same draws of ``state``.

    The law is chosen once for the batch rather than once per draw: for the
    common severities the loop is then a sampler and an ``exp``, which runs
    at about twice the speed of :func:`sample_params` called per draw. Their
    formulas repeat :func:`sample_params`' on purpose: shared as small
    functions (even inlined by numba), the engine lost most of the gain
    (best of 15 runs: 99 against 94 ns per risk loss). tests/test_sampling.py
    holds the two to the same draws, law by law.
    """
    if code == d.LOGNORMAL:
        for i in range(start, stop):
            out[i] = min(math.exp(a + b * standard_normal(state)), cap)
    elif code == d.GPD and b != 0.0:
        scale = a / b
        for i in range(start, stop):
            out[i] = min(c + scale * math.expm1(b * standard_exponential(state)), cap)
    elif code == d.PARETO:
        for i in range(start, stop):
            out[i] = min(a * math.expm1(standard_exponential(state) / b), cap)
    elif code == d.GAMMA:
        boosted, third, c_gamma = gamma_terms(a)
        for i in range(start, stop):
            out[i] = min(b * gamma_from_terms(state, a, boosted, third, c_gamma), cap)
    elif code == d.BETA:
        # a ratio of gammas, as sample_params draws it, with both gammas' constants worked out
        # once for the batch: 50-70 ns a draw instead of 90-110 (measured on this machine)
        a_boosted, a_third, a_c = gamma_terms(a)
        b_boosted, b_third, b_c = gamma_terms(b)
        for i in range(start, stop):
            g1 = gamma_from_terms(state, a, a_boosted, a_third, a_c)
            g2 = gamma_from_terms(state, b, b_boosted, b_third, b_c)
            out[i] = min(g1 / (g1 + g2), cap)
    else:
        for i in range(start, stop):
            out[i] = sample_params(state, code, a, b, c, cap)


@jit
def claim_probability(freq, level):
    """P(a policy has at least one claim in the year) at risk level ``level``."""
    code = int(freq[0])
    mean = freq[1] * level
    if code == d.POISSON:
        return -math.expm1(-mean)
    if code == d.NEGBIN:
        dispersion = freq[2]
        return -math.expm1(-dispersion * math.log1p(mean / dispersion))
    # bernoulli: the level scales the probability, which cannot pass 1
    return min(mean, 1.0)


@jit
def zero_claim_probability(freq, level):
    """P(N = 0) of a policy's claim count at risk level ``level`` (1 for bernoulli: unused there)."""
    code = int(freq[0])
    if code == d.BERNOULLI:
        return 1.0
    mean = freq[1] * level
    if code == d.POISSON:
        return math.exp(-mean)
    dispersion = freq[2]
    return math.exp(-dispersion * math.log1p(mean / dispersion))


@jit
def positive_claim_count(state, freq, level):
    """Number of claims of a policy given that it has at least one (zero-truncated inversion)."""
    return positive_claim_count_given(state, freq, level, zero_claim_probability(freq, level))


@jit
def positive_claim_count_given(state, freq, level, p_zero):
    """:func:`positive_claim_count` with ``p_zero = zero_claim_probability(freq, level)`` computed
    once by the caller. Draws and returns exactly what :func:`positive_claim_count` does."""
    return positive_claim_count_params(state, int(freq[0]), freq[1] * level, freq[2], freq[4], p_zero)


@jit
def positive_claim_count_params(state, code, mean, dispersion, cap, p_zero):
    """:func:`positive_claim_count_given` with scalars: the count's ``code``, its ``mean`` at the
    trial's risk level, negbin ``dispersion``, the row's ``cap`` and ``p_zero`` (the engine
    unpacks them once per line and trial)."""
    if code == d.BERNOULLI:
        return 1
    ratio = mean / (dispersion + mean)     # negbin pmf recursion factor, besides (k + r) / (k + 1)
    probability = p_zero
    target = uniform(state) * (1.0 - probability)
    cumulative = 0.0
    k = 0
    while True:
        if code == d.POISSON:
            probability *= mean / (k + 1)
        else:
            probability *= (k + dispersion) / (k + 1) * ratio
        k += 1
        previous = cumulative
        cumulative += probability
        # Stop once the sum no longer grows: for u near 1 the rounded target can exceed the
        # rounded total, and waiting for the pmf to underflow returned absurd counts (or, for
        # negbin with mean > dispersion, never ended at the smallest subnormal).
        if cumulative >= target or cumulative == previous:
            return min(k, int(min(cap, 2.0 ** 31)))


@jit
def log_miss(probability):
    """``log(1 - probability)``, the constant of :func:`next_hit_log`; 0 when ``probability <= 0``."""
    if probability <= 0.0:
        return 0.0
    if probability >= 1.0:
        return -math.inf
    return math.log1p(-probability)


@jit
def next_hit_log(state, index, log_miss_probability):
    """:func:`next_hit` with ``log1p(-probability)`` computed once by the caller (:func:`log_miss`).

    Draws exactly what :func:`next_hit` draws and returns the same index:
    a probability of 1 is ``-inf`` (every index), of 0 is ``0.0`` (none).
    """
    if log_miss_probability == -math.inf:
        return index + 1
    if log_miss_probability == 0.0:
        return 2 ** 62
    # log(u) rather than a ziggurat exponential: measured faster here, inlined in the engine's loops.
    gap = math.floor(math.log(uniform(state)) / log_miss_probability)
    if gap > 2.0 ** 62:
        return 2 ** 62
    return index + 1 + int(gap)


@jit
def next_hit(state, index, probability):
    """The next index after ``index`` hit when each index is hit independently with ``probability``.

    Geometric skipping: the work is proportional to the hits, not to the
    policies, so 20,000 policies with 0.5% claim probability cost 100 draws.
    May return a value past the caller's end; the caller stops there.
    """
    return next_hit_log(state, index, log_miss(probability))
