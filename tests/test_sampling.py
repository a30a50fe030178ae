"""The numba samplers of :mod:`sim.sampling` against closed forms.

- every severity-type distribution: sample mean and variance against ``Distribution.mean()`` /
  ``variance()`` (4 SE; the variance's SE from the fourth central moment), the closed forms
  against :mod:`scipy.stats`, and a Kolmogorov-Smirnov test against the scipy CDF (p > 1e-4,
  seeded);
- ``max`` caps draws: the capped mean/variance against numerical integration, and the mass at the
  cap against the survival function;
- claims per policy as the engine draws them (claim with ``claim_probability``, then the
  zero-truncated ``positive_claim_count``): mean, variance and the whole pmf against the
  poisson / negbin / bernoulli closed forms, at risk level 1 and 1.7;
- ``next_hit`` gaps are geometric; ``poisson`` (catastrophe counts) mean and variance;
- the count inversion at the largest uniform returns a count the model allows, and terminates;
- ``sample_many`` (the engine's batches) gives exactly the draws of ``sample`` one at a time.
"""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from engine_cases import (check, check_mean, check_variance, draw_gaps, draw_poisson, draw_policy_claims,
                          draw_severity, largest_output_state, layer_moments, scipy_distribution)
from sim.distributions import make
from sim.rng import seed_state
from sim.sampling import claim_probability, positive_claim_count, sample_many

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
    n = 400_000
    counts = draw_policy_claims(SEED, list(FREQUENCIES).index(label), freq.as_array(), level, n)
    mean = freq.p0 * level
    reference = count_pmf(kind, mean, freq.p1)
    assert claim_probability(freq.as_array(), level) == pytest.approx(reference.sf(0), rel=1e-12)
    check_mean(f"{label} level {level} claims", counts, reference.mean())
    check_variance(f"{label} level {level} claims", counts, reference.var())
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
    assert claim_probability(freq.as_array(), 3.0) == 1.0
    counts = draw_policy_claims(SEED, 9, freq.as_array(), 3.0, 1000)
    assert np.all(counts == 1)


def test_claim_count_max_caps_counts():
    freq = make("poisson", {"mean": 2.0, "max": 3})
    counts = draw_policy_claims(SEED, 10, freq.as_array(), 1.0, N)
    assert counts.max() == 3
    reference = stats.poisson(2.0)
    k = np.arange(3)
    capped_mean = float(np.sum(k * reference.pmf(k)) + 3 * reference.sf(2))
    capped_second = float(np.sum(k * k * reference.pmf(k)) + 9 * reference.sf(2))
    check_mean("poisson(2) capped at 3", counts, capped_mean)
    check_variance("poisson(2) capped at 3", counts, capped_second - capped_mean ** 2)


@pytest.mark.parametrize("kind,params", [
    ("poisson", {"mean": 0.02}),
    ("negbin", {"mean": 0.3, "dispersion": 2.0}),
])
def test_count_inversion_at_the_largest_uniform(kind, params):
    """The zero-truncated inversion must return a count the model allows even for the largest uniform.

    Currently fails: the target ``u * (1 - P(N=0))`` with ``u`` at (or rounding to) 1 is not reached
    by the rounded cumulative sum, so the loop runs until the pmf underflows to 0 and returns that
    index (99 claims for poisson(0.02), 369 for negbin(0.3, 2)).
    """
    freq = make(kind, params)
    reference = count_pmf(kind, freq.p0, freq.p1)
    most = int(np.argmax(reference.logsf(np.arange(1000)) < math.log(1e-30)))   # P(N > most) < 1e-30
    k = positive_claim_count(largest_output_state(), freq.as_array(), 1.0)
    assert 1 <= k <= most, f"{kind}{params}: {k} claims for one policy; P(N > {most}) < 1e-30"


def test_count_inversion_terminates_when_mean_exceeds_dispersion():
    """negbin with mean > dispersion: at the largest uniform the pmf recursion multiplies the smallest
    subnormal by ``(k + r)/(k + 1) * m/(r + m) > 1/2``, which rounds back to the smallest subnormal, so
    ``probability <= 0`` never holds and the loop never ends. Run in a subprocess with a timeout."""
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "from engine_cases import largest_output_state\n"
        "from sim.distributions import make\n"
        "from sim.sampling import positive_claim_count\n"
        "print(positive_claim_count(largest_output_state(), make('negbin', {'mean': 3.0, 'dispersion': 2.0}).as_array(), 1.0))\n"
    ) % str(Path(__file__).parent)
    try:
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("positive_claim_count(negbin mean 3, dispersion 2) at the largest uniform did not "
                    "return within 30 s (infinite loop at the smallest subnormal)")
    assert result.returncode == 0, result.stderr
    assert 1 <= int(result.stdout.split()[-1]) <= 200


# ---------------------------------------------------------------- next_hit and poisson
@pytest.mark.parametrize("probability", [0.005, 0.3])
def test_next_hit_gaps_are_geometric(probability):
    positions = draw_gaps(SEED, probability, N)
    gaps = np.diff(np.concatenate([[-1], positions])) - 1      # misses between hits
    q = 1.0 - probability
    check_mean(f"next_hit p={probability} gap", gaps, q / probability)
    check_variance(f"next_hit p={probability} gap", gaps, q / probability ** 2)
    # P(gap = 0) = p: the first index after a hit is hit with the claim probability
    check(f"next_hit p={probability} P(gap = 0)", float(np.mean(gaps == 0)), probability,
          math.sqrt(probability * q / N))


def test_next_hit_edges():
    assert np.array_equal(draw_gaps(SEED, 1.0, 5), np.arange(5))
    assert np.all(draw_gaps(SEED, 0.0, 3) >= 2 ** 62)


@pytest.mark.parametrize("mean", [0.1, 2.5, 40.0, 800.0])
def test_poisson_sampler(mean):
    x = draw_poisson(SEED, mean, N)
    assert x.min() >= 0
    check_mean(f"poisson({mean})", x, mean)
    check_variance(f"poisson({mean})", x, mean)
