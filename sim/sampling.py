"""Numba samplers for the scenario's distributions, drawn from a per-trial stream.

A distribution arrives as the float64 row ``(code, p0, p1, p2, cap)`` of
:meth:`sim.distributions.Distribution.as_array`; codes and canonical
parameters are documented in :mod:`sim.distributions`.
"""
import math

import numpy as np

from . import distributions as d
from .jit import jit
from .rng import uniform


@jit
def standard_normal(state):
    """Box-Muller; the second variate is dropped so each call uses exactly two uniforms."""
    u1 = uniform(state)
    u2 = uniform(state)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@jit
def standard_gamma(state, shape):
    """Marsaglia and Tsang (2000), with the u**(1/shape) boost for shape < 1."""
    boost = 1.0
    if shape < 1.0:
        boost = uniform(state) ** (1.0 / shape)
        shape += 1.0
    third = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * third)
    while True:
        x = standard_normal(state)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = uniform(state)
        if math.log(u) < 0.5 * x * x + third - third * v + third * math.log(v):
            return third * v * boost


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
    code = int(dist[0])
    a = dist[1]
    b = dist[2]
    if code == d.CONSTANT:
        x = a
    elif code == d.LOGNORMAL:
        x = math.exp(a + b * standard_normal(state))
    elif code == d.GAMMA:
        x = b * standard_gamma(state, a)
    elif code == d.PARETO:
        x = a * (uniform(state) ** (-1.0 / b) - 1.0)
    elif code == d.GPD:
        if b == 0.0:
            x = dist[3] - a * math.log(uniform(state))
        else:
            x = dist[3] + a / b * (uniform(state) ** (-b) - 1.0)
    elif code == d.BETA:
        g1 = standard_gamma(state, a)
        g2 = standard_gamma(state, b)
        x = g1 / (g1 + g2)
    elif code == d.UNIFORM:
        x = a + (b - a) * uniform(state)
    else:
        x = np.nan
    return min(x, dist[4])


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
def positive_claim_count(state, freq, level):
    """Number of claims of a policy given that it has at least one (zero-truncated inversion)."""
    code = int(freq[0])
    if code == d.BERNOULLI:
        return 1
    mean = freq[1] * level
    if code == d.POISSON:
        probability = math.exp(-mean)      # P(N = 0)
    else:
        dispersion = freq[2]
        probability = math.exp(-dispersion * math.log1p(mean / dispersion))
    target = uniform(state) * (1.0 - probability)
    cumulative = 0.0
    k = 0
    while True:
        if code == d.POISSON:
            probability *= mean / (k + 1)
        else:
            probability *= (k + freq[2]) / (k + 1) * (mean / (freq[2] + mean))
        k += 1
        cumulative += probability
        if cumulative >= target or probability <= 0.0:
            return min(k, int(min(freq[4], 2.0 ** 31)))


@jit
def next_hit(state, index, probability):
    """The next index after ``index`` hit when each index is hit independently with ``probability``.

    Geometric skipping: the work is proportional to the hits, not to the
    policies, so 20,000 policies with 0.5% claim probability cost 100 draws.
    May return a value past the caller's end; the caller stops there.
    """
    if probability >= 1.0:
        return index + 1
    if probability <= 0.0:
        return 2 ** 62
    gap = math.floor(math.log(uniform(state)) / math.log1p(-probability))
    if gap > 2.0 ** 62:
        return 2 ** 62
    return index + 1 + int(gap)
