"""The numba samplers of :mod:`sim.kernels.sampling` against closed forms.

- every severity-type distribution: sample mean and variance against ``Distribution.mean()`` /
  ``variance()`` (4 SE; the variance's SE from the fourth central moment), the closed forms
  against :mod:`scipy.stats`, and a Kolmogorov-Smirnov test against the scipy CDF (p > 1e-4,
  seeded);
- ``max`` caps draws: the capped mean/variance against numerical integration, and the mass at the
  cap against the survival function;
- claims per policy as the engine draws a line's claims (:mod:`sim.kernels.claims`): mean, variance and
  the whole pmf against the poisson / negbin / bernoulli closed forms, at risk level 1 and 1.7,
  and the variance of the line's total (no dependence between its policies);
- a catastrophe's hits (:mod:`sim.kernels.claims`): each policy hit with the share, at most once,
  independently of the others;
- ``poisson`` (catastrophe counts, and a line's claims by PTRS from mean 10): mean, variance and
  the whole pmf;
- ``sample_many`` (the engine's batches) gives exactly the draws of ``sample`` one at a time.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from engine_cases import (check, check_mean, check_variance, draw_hits, draw_poisson, draw_policy_claims,
                          draw_severity, layer_moments, scipy_distribution)
from sim.distributions import make
from sim.kernels.rng import seed_state
from sim.kernels.sampling import POISSON_INVERSION_BELOW, sample_many

SEED = 777
N = 200_000

SEVERITIES = {
    "lognormal": ("lognormal", {"median": 1e5, "sigma": 0.5}),
    "lognormal mean/sd": ("lognormal", {"mean": 2e5, "sd": 1e5}),
    "gamma": ("gamma", {"mean": 1e5, "sd": 5e4}),
    "gamma shape < 1": ("gamma", {"shape": 0.4, "scale": 3.0}),
    "pareto": ("pareto", {"scale": 3e5, "shape": 5.0}),
    "gpd": ("gpd", {"scale": 1e5, "shape": 0.15, "threshold": 2e4}),
    "gpd shape 0": ("gpd", {"scale": 5e4, "shape": 0.0}),
    "gpd shape < 0": ("gpd", {"scale": 5e4, "shape": -0.3, "threshold": 1e3}),
    "beta": ("beta", {"mean": 0.2, "sd": 0.1}),
    "beta U-shaped": ("beta", {"mean": 0.5, "sd": 0.4}),
    "uniform": ("uniform", {"low": 10.0, "high": 30.0}),
}


@pytest.mark.parametrize("label", list(SEVERITIES))
def test_severity_moments_and_distribution(label):
    kind, params = SEVERITIES[label]
    dist = make(kind, params)
    x = draw_severity(SEED, list(SEVERITIES).index(label), dist.as_array(), N)
    frozen = scipy_distribution(dist)
    # the closed forms of Distribution agree with scipy's (checks the canonical conversion)
    assert dist.mean() == pytest.approx(frozen.mean(), rel=1e-9)
    assert dist.variance() == pytest.approx(frozen.var(), rel=1e-9)
    check_mean(label, x, dist.mean())
    check_variance(label, x, dist.variance())
    ks = stats.kstest(x, frozen.cdf)
    print(f"{label}: KS {ks.statistic:.4g} p {ks.pvalue:.3g}")
    assert ks.pvalue > 1e-4
    if kind == "beta":   # a U-shaped beta's draws within 1e-16 of 0 or 1 round to the bounds
        assert np.all((x >= 0.0) & (x <= 1.0))
    if kind == "gpd":
        assert np.all(x >= dist.p2)


@pytest.mark.parametrize("label", list(SEVERITIES))
@pytest.mark.parametrize("capped", [False, True])
def test_sample_many_equals_sample_one_at_a_time(label, capped):
    # The engine draws each line's severities as one batch; seeded results must not change.
    kind, params = SEVERITIES[label]
    if capped:
        params = {**params, "max": float(make(kind, params).mean())}
    row = make(kind, params).as_array()
    one_at_a_time = draw_severity(SEED, 5, row, 2_000)
    state = np.empty(4, dtype=np.uint64)
    seed_state(state, SEED, 99, 0, 5)     # draw_severity's stream
    batch = np.full(2_010, np.nan)
    sample_many(state, int(row[0]), row[1], row[2], row[3], row[4], batch, 5, 2_005)
    assert np.array_equal(batch[5:2_005], one_at_a_time)
    assert np.isnan(batch[:5]).all() and np.isnan(batch[2_005:]).all()
    if capped:
        assert batch[5:2_005].max() == params["max"]


def test_parameterisations_agree():
    a = make("lognormal", {"median": 1e5, "sigma": 0.5})
    b = make("lognormal", {"mean": a.mean(), "sd": math.sqrt(a.variance())})
    assert (b.p0, b.p1) == pytest.approx((a.p0, a.p1), rel=1e-12)
    g = make("gamma", {"mean": 6.0, "sd": 3.0})
    assert (g.p0, g.p1) == pytest.approx((4.0, 1.5))
    beta = make("beta", {"mean": 0.2, "sd": 0.1})
    assert beta.mean() == pytest.approx(0.2) and beta.variance() == pytest.approx(0.01)


def test_constant():
    x = draw_severity(SEED, 50, make("uniform", {"low": 1.0, "high": 2.0}).as_array(), 10)
    assert np.all((x >= 1.0) & (x < 2.0))
    from sim.distributions import Distribution
    c = draw_severity(SEED, 51, Distribution.constant(7.5).as_array(), 1000)
    assert np.all(c == 7.5)
    capped = draw_severity(SEED, 52, Distribution("constant", 7.5, cap=5.0).as_array(), 10)
    assert np.all(capped == 5.0)


@pytest.mark.parametrize("kind,params,quantile", [
    ("lognormal", {"median": 1e5, "sigma": 1.5}, 0.9),
    ("pareto", {"scale": 1e5, "shape": 1.5}, 0.95),     # infinite variance uncapped, finite capped
    ("beta", {"mean": 0.3, "sd": 0.2}, 0.8),
])
def test_max_caps_draws(kind, params, quantile):
    uncapped = make(kind, params)
    cap = float(scipy_distribution(uncapped).ppf(quantile))
    dist = make(kind, {**params, "max": cap})
    assert dist.cap == cap
    x = draw_severity(SEED, 60, dist.as_array(), N)
    assert x.max() == cap
    at_cap = (x == cap).astype(np.float64)
    check(f"{kind} capped: share at the cap", float(at_cap.mean()), 1.0 - quantile,
          math.sqrt(quantile * (1.0 - quantile) / N))
    m1, m2 = layer_moments(dist)
    check_mean(f"{kind} capped at {cap:.4g}", x, m1)
    check_variance(f"{kind} capped at {cap:.4g}", x, m2 - m1 * m1)


# ---------------------------------------------------------------- claim counts per policy
FREQUENCIES = {
    "poisson": ("poisson", {"mean": 0.3}),
    "poisson small": ("poisson", {"mean": 0.02}),
    "negbin": ("negbin", {"mean": 0.3, "dispersion": 0.5}),
    "negbin dispersion > mean": ("negbin", {"mean": 0.05, "dispersion": 4.0}),
    "bernoulli": ("bernoulli", {"p": 0.2}),
}


def count_pmf(kind: str, mean: float, dispersion: float = 0.0):
    if kind == "poisson":
        return stats.poisson(mean)
    if kind == "negbin":
        return stats.nbinom(dispersion, dispersion / (dispersion + mean))
    return stats.bernoulli(mean)


@pytest.mark.parametrize("level", [1.0, 1.7])
@pytest.mark.parametrize("label", list(FREQUENCIES))
def test_claims_per_policy(label, level):
    kind, params = FREQUENCIES[label]
    freq = make(kind, params)
    policies, lines = 1000, 400
    by_line = draw_policy_claims(SEED, list(FREQUENCIES).index(label), freq.as_array(), level, policies, lines)
    counts = by_line.ravel()
    n = counts.size
    mean = freq.p0 * level
    reference = count_pmf(kind, mean, freq.p1)
    check_mean(f"{label} level {level} claims", counts, reference.mean())
    check_variance(f"{label} level {level} claims", counts, reference.var())
    # the policies of a line are independent: the line's total has policies x the variance
    check_variance(f"{label} level {level} line total", by_line.sum(axis=1), policies * reference.var())
    # the whole pmf: chi-square over 0, 1, ..., with the tail from the last cell of >= 5 expected on pooled
    top = int(reference.isf(5.0 / n))
    expected = np.append(reference.pmf(np.arange(top)), reference.sf(top - 1)) * n
    observed = np.append(np.bincount(np.minimum(counts, top), minlength=top + 1)[:top],
                         np.sum(counts >= top))
    chi2 = stats.chisquare(observed, expected)
    print(f"{label} level {level}: pmf chi-square {chi2.statistic:.1f} on {top} df p {chi2.pvalue:.3g}")
    assert chi2.pvalue > 1e-4


def test_bernoulli_probability_capped_at_one():
    freq = make("bernoulli", {"p": 0.4})
    counts = draw_policy_claims(SEED, 9, freq.as_array(), 3.0, 1000, 2)
    assert np.all(counts == 1)


def test_claim_count_max_caps_counts():
    freq = make("poisson", {"mean": 2.0, "max": 3})
    counts = draw_policy_claims(SEED, 10, freq.as_array(), 1.0, 1000, N // 1000).ravel()
    assert counts.max() == 3
    reference = stats.poisson(2.0)
    k = np.arange(3)
    capped_mean = float(np.sum(k * reference.pmf(k)) + 3 * reference.sf(2))
    capped_second = float(np.sum(k * k * reference.pmf(k)) + 9 * reference.sf(2))
    check_mean("poisson(2) capped at 3", counts, capped_mean)
    check_variance("poisson(2) capped at 3", counts, capped_second - capped_mean ** 2)


# ---------------------------------------------------------------- a catastrophe's hits, and poisson
@pytest.mark.parametrize("probability", [0.005, 0.3, 0.97])
def test_hits_are_independent_with_the_share(probability):
    policies = 200
    hits = draw_hits(SEED, probability, policies, N // policies)
    assert hits.max() <= 1                        # a policy is hit once at most
    check_mean(f"hits p={probability}", hits.ravel(), probability)
    # independent policies: the number hit is binomial(policies, p)
    check_variance(f"hits p={probability} per event", hits.sum(axis=1), policies * probability * (1 - probability))
    # every policy alike, the last one too
    per_policy = hits.mean(axis=0)
    assert abs(per_policy[-1] - probability) <= 4 * math.sqrt(probability * (1 - probability) / hits.shape[0])


def test_hit_edges():
    assert np.all(draw_hits(SEED, 1.0, 50, 3) == 1)
    assert np.all(draw_hits(SEED, 0.0, 50, 3) == 0)


@pytest.mark.parametrize("mean", [0.1, 2.5, 9.99, POISSON_INVERSION_BELOW, 40.0, 800.0, 1e6])
def test_poisson_sampler(mean):
    x = draw_poisson(SEED, mean, N)
    assert x.min() >= 0
    check_mean(f"poisson({mean})", x, mean)
    check_variance(f"poisson({mean})", x, mean)
    # the whole pmf (inversion below 10, PTRS from 10): chi-square over the cells with >= 5 expected
    reference = stats.poisson(mean)
    low, high = int(reference.ppf(5.0 / N)), int(reference.isf(5.0 / N))
    cells = np.arange(low, high + 1)
    expected = reference.pmf(cells) * N
    expected[0] += reference.cdf(low - 1) * N
    expected[-1] += reference.sf(high) * N
    observed = np.bincount(np.clip(x, low, high) - low, minlength=len(cells))
    chi2 = stats.chisquare(observed, expected * observed.sum() / expected.sum())
    print(f"poisson({mean}): pmf chi-square {chi2.statistic:.1f} on {len(cells) - 1} df p {chi2.pvalue:.3g}")
    assert chi2.pvalue > 1e-4
