"""Numba samplers for the scenario's distributions, drawn from a per-trial stream.

A distribution arrives as the float64 row ``(code, p0, p1, p2, cap)`` of
:meth:`sim.distributions.Distribution.as_array`; codes and canonical
parameters are documented in :mod:`sim.distributions`.

Every sampler here is exact (rejection methods accept with exactly the target
density) and reads only :func:`sim.kernels.rng.next_bits` / :func:`sim.kernels.rng.next_uniform`
of the stream it is given, so draws stay reproducible per (seed, stream,
trial, key) whatever the threads or chunks.

Each sampler is written once, on the state tuple (``x, s = next_normal(s)``,
see :mod:`sim.kernels.rng` for why); the array-state function of the same law
(``standard_normal(state)``) loads the tuple, calls it and stores it back,
so both give the same draws.
"""
import math

import numpy as np

from . import codes as d
from .jit import inlined_jit, jit
from .rng import next_bits, next_uniform, state_tuple, store_state

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


@inlined_jit
def next_normal(s):
    """Standard normal by the ziggurat of Marsaglia and Tsang (2000), 256 layers: ``(x, s)``.

    One 64-bit draw gives the layer (8 bits), the sign (1 bit) and the
    abscissa (52 bits); about 99% of calls return after that single draw and
    a table comparison. The rest take the exact wedge test against the
    density, or, in the base layer, Marsaglia's (1964) exact tail method.
    """
    while True:
        bits, s = next_bits(s)
        i = int(bits & _LOW8)
        # The sign as +-1.0 times x rather than a branch: the branch is a coin flip that the
        # CPU mispredicts half the time, which made the sampler almost twice as slow. The
        # 52-bit abscissa goes through int64, whose conversion to float is one instruction.
        sign = 1.0 - 2.0 * float(np.int64((bits >> np.uint64(8)) & np.uint64(1)))
        j = np.int64((bits >> np.uint64(9)) & _LOW52)
        x = float(j) * _ZIG_W[i]
        if j < _ZIG_K_SIGNED[i]:   # strictly inside the density: accept
            return sign * x, s
        if i == 0:                 # base layer beyond r: sample the tail exactly
            while True:
                u, s = next_uniform(s)
                xx = -math.log(u) * _ZIG_INV_R
                u, s = next_uniform(s)
                yy = -math.log(u)
                if yy + yy > xx * xx:
                    return sign * (_ZIG_R + xx), s
        # wedge: accept (x, y) with y uniform over the layer's height iff under the density
        u, s = next_uniform(s)
        if _ZIG_F[i] + (_ZIG_F[i - 1] - _ZIG_F[i]) * u < math.exp(-0.5 * x * x):
            return sign * x, s


@jit
def standard_normal(state):
    """:func:`next_normal` on a state array."""
    x, s = next_normal(state_tuple(state))
    store_state(state, s)
    return x


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


@inlined_jit
def next_exponential(s):
    """Standard exponential by the ziggurat of Marsaglia and Tsang (2000), 256 layers: ``(x, s)``.

    Exact, and about 99% of calls cost one 64-bit draw and a table comparison,
    where ``-log(uniform)`` costs a logarithm every time. One draw gives the
    layer (low 8 bits) and a 52-bit abscissa (high bits). The base layer's
    tail beyond r is r plus a fresh exponential (memorylessness), drawn by
    ``-log(uniform)``: about 0.05% of calls.
    """
    while True:
        bits, s = next_bits(s)
        i = int(bits & _LOW8)
        j = np.int64(bits >> _SHIFT12)      # int64 converts to float in one instruction
        x = float(j) * _ZIGE_W[i]
        if j < _ZIGE_K_SIGNED[i]:
            return x, s
        u, s = next_uniform(s)
        if i == 0:
            return _ZIGE_R - math.log(u), s
        if _ZIGE_F[i] + (_ZIGE_F[i - 1] - _ZIGE_F[i]) * u < math.exp(-x):
            return x, s


@jit
def standard_exponential(state):
    """:func:`next_exponential` on a state array."""
    x, s = next_exponential(state_tuple(state))
    store_state(state, s)
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


@inlined_jit
def _next_gamma_core(s, third, c):
    """Marsaglia and Tsang's rejection loop for a gamma of shape ``third + 1/3 >= 1``: ``(g, s)``."""
    while True:
        x, s = next_normal(s)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u, s = next_uniform(s)
        x2 = x * x
        if u < 1.0 - 0.0331 * x2 * x2:
            return third * v, s
        if math.log(u) < 0.5 * x2 + third - third * v + third * math.log(v):
            return third * v, s


@inlined_jit
def next_gamma(s, shape, boosted, third, c):
    """A gamma of ``shape`` from its :func:`gamma_terms`: ``(g, s)``. The boost's draw comes
    first, then the core's."""
    boost = 1.0
    if boosted:
        e, s = next_exponential(s)
        boost = math.exp(-e / shape)   # u ** (1/shape) with -log(u) ~ Exp(1)
    g, s = _next_gamma_core(s, third, c)
    return g * boost, s


@jit
def standard_gamma(state, shape):
    """Marsaglia and Tsang (2000), "A simple method for generating gamma variables",
    ACM TOMS 26(3), with their u**(1/shape) boost for shape < 1.

    The squeeze ``u < 1 - 0.0331 x**4`` (from the paper) accepts most draws
    without a logarithm; it lies below the exact acceptance bound.
    """
    boosted, third, c = gamma_terms(shape)
    g, s = next_gamma(state_tuple(state), shape, boosted, third, c)
    store_state(state, s)
    return g


# Below this mean, Poisson draws are by inversion (about mean + 1 steps); from it, by PTRS.
POISSON_INVERSION_BELOW = 10.0


@inlined_jit
def next_poisson(s, mean):
    """Poisson: by inversion for small means (events a year), by :func:`_next_poisson_ptrs`
    from ``POISSON_INVERSION_BELOW`` (claims of a whole line). Exact. ``(k, s)``."""
    if mean <= 0.0:
        return 0, s
    if mean >= POISSON_INVERSION_BELOW:
        return _next_poisson_ptrs(s, mean)
    u, s = next_uniform(s)
    probability = math.exp(-mean)
    cumulative = probability
    k = 0
    while u > cumulative and probability > 0.0:
        k += 1
        probability *= mean / k
        cumulative += probability
    return k, s


@jit
def _next_poisson_ptrs(s, mean):
    """Poisson for ``mean >= 10``: Hormann's (1993) transformed rejection with squeeze, PTRS
    ("The transformed rejection method for generating Poisson random variables", Insurance:
    Mathematics and Economics 12(1)), as NumPy's ``random_poisson_ptrs``. Exact, about 1.1
    tries whatever the mean. ``(k, s)``."""
    root = math.sqrt(mean)
    log_mean = math.log(mean)
    b = 0.931 + 2.53 * root
    a = -0.059 + 0.02483 * b
    inverse_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u, s = next_uniform(s)
        v, s = next_uniform(s)
        u -= 0.5
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + mean + 0.43)
        if us >= 0.07 and v <= v_r:
            return int(k), s
        if k < 0.0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + math.log(inverse_alpha) - math.log(a / (us * us) + b)
                <= -mean + k * log_mean - math.lgamma(k + 1.0)):
            return int(k), s


@jit
def poisson(state, mean):
    """:func:`next_poisson` on a state array."""
    k, s = next_poisson(state_tuple(state), mean)
    store_state(state, s)
    return k


# One sampler per severity law, on the state tuple: ``(x, s)`` before the cap. The law's
# constants come worked out (gamma_terms, the gpd's scale / shape), so that next_many works
# them out once a batch. next_sample and next_many both call these, and so give the same draws.
# ``-log(uniform)`` draws are ziggurat exponentials: same law, no logarithm.
@inlined_jit
def next_lognormal(s, mu, sigma):
    """ln X ~ Normal(mu, sigma)."""
    z, s = next_normal(s)
    return math.exp(mu + sigma * z), s


@inlined_jit
def next_scaled_gamma(s, shape, scale, boosted, third, c):
    """``scale`` times a gamma of ``shape`` (its :func:`gamma_terms` given)."""
    g, s = next_gamma(s, shape, boosted, third, c)
    return scale * g, s


@inlined_jit
def next_pareto(s, scale, shape):
    """Lomax: ``scale (u ** (-1/shape) - 1)``, without pow."""
    e, s = next_exponential(s)
    return scale * math.expm1(e / shape), s


@inlined_jit
def next_gpd(s, scale, shape, threshold, scale_over_shape):
    """Generalised Pareto above ``threshold``; ``scale_over_shape`` is ``scale / shape`` (unused at shape 0)."""
    e, s = next_exponential(s)
    if shape == 0.0:
        return threshold + scale * e, s
    return threshold + scale_over_shape * math.expm1(shape * e), s   # u ** (-shape) - 1, without pow


@inlined_jit
def next_beta(s, alpha, beta, a_boosted, a_third, a_c, b_boosted, b_third, b_c):
    """A ratio of gammas, their :func:`gamma_terms` given. Cheng's (1978) BB/BC rejection
    samplers were tried: with the ziggurat normal they were no faster (~100-130 ns a draw both
    ways), so this stays."""
    g1, s = next_gamma(s, alpha, a_boosted, a_third, a_c)
    g2, s = next_gamma(s, beta, b_boosted, b_third, b_c)
    return g1 / (g1 + g2), s


@inlined_jit
def next_uniform_between(s, low, high):
    u, s = next_uniform(s)
    return low + (high - low) * u, s


@inlined_jit
def _gpd_ratio(scale, shape):
    """``scale / shape`` for :func:`next_gpd`, or 0 at shape 0 (where it is not used)."""
    return scale / shape if shape != 0.0 else 0.0


@inlined_jit
def next_sample(s, code, a, b, c, cap):
    """:func:`sample_params` on the state tuple: ``(x, s)``, one draw of the law ``code``."""
    if code == d.CONSTANT:
        x = a
    elif code == d.LOGNORMAL:
        x, s = next_lognormal(s, a, b)
    elif code == d.GAMMA:
        boosted, third, c_gamma = gamma_terms(a)
        x, s = next_scaled_gamma(s, a, b, boosted, third, c_gamma)
    elif code == d.PARETO:
        x, s = next_pareto(s, a, b)
    elif code == d.GPD:
        x, s = next_gpd(s, a, b, c, _gpd_ratio(a, b))
    elif code == d.BETA:
        a_boosted, a_third, a_c = gamma_terms(a)
        b_boosted, b_third, b_c = gamma_terms(b)
        x, s = next_beta(s, a, b, a_boosted, a_third, a_c, b_boosted, b_third, b_c)
    elif code == d.UNIFORM:
        x, s = next_uniform_between(s, a, b)
    else:
        x = np.nan
    return min(x, cap), s


@jit
def sample(state, dist):
    """One draw of a severity-type distribution ``dist = (code, p0, p1, p2, cap)``, capped at ``cap``."""
    return sample_params(state, int(dist[0]), dist[1], dist[2], dist[3], dist[4])


@jit
def sample_params(state, code, a, b, c, cap):
    """:func:`sample` with the row unpacked into scalars ``(code, a, b, c, cap)``."""
    x, s = next_sample(state_tuple(state), code, a, b, c, cap)
    store_state(state, s)
    return x


@jit
def sample_many(state, code, a, b, c, cap, out, start, stop):
    """:func:`next_many` on a state array."""
    store_state(state, next_many(state_tuple(state), code, a, b, c, cap, out, start, stop))


@jit
def next_many(s, code, a, b, c, cap, out, start, stop):
    """``out[start:stop]`` = successive draws of :func:`next_sample` with these arguments, from
    the state tuple ``s``: the same values, bit for bit, from the same samplers. Returns the new
    state.

    The law is chosen once for the batch rather than once per draw, and its
    constants worked out once: for the common severities the loop is then a
    sampler and an ``exp``, about twice the speed of :func:`next_sample` called
    per draw. tests/test_sampling.py holds the two to the same draws, law by law.
    """
    if code == d.LOGNORMAL:
        for i in range(start, stop):
            x, s = next_lognormal(s, a, b)
            out[i] = min(x, cap)
    elif code == d.GPD:
        ratio = _gpd_ratio(a, b)
        for i in range(start, stop):
            x, s = next_gpd(s, a, b, c, ratio)
            out[i] = min(x, cap)
    elif code == d.PARETO:
        for i in range(start, stop):
            x, s = next_pareto(s, a, b)
            out[i] = min(x, cap)
    elif code == d.GAMMA:
        boosted, third, c_gamma = gamma_terms(a)
        for i in range(start, stop):
            x, s = next_scaled_gamma(s, a, b, boosted, third, c_gamma)
            out[i] = min(x, cap)
    elif code == d.BETA:
        a_boosted, a_third, a_c = gamma_terms(a)
        b_boosted, b_third, b_c = gamma_terms(b)
        for i in range(start, stop):
            x, s = next_beta(s, a, b, a_boosted, a_third, a_c, b_boosted, b_third, b_c)
            out[i] = min(x, cap)
    else:
        for i in range(start, stop):
            out[i], s = next_sample(s, code, a, b, c, cap)
    return s
