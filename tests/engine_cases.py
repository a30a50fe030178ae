"""Small scenarios for the loss-engine tests, built directly from the :mod:`sim.model` dataclasses.

Also the closed forms and Monte Carlo standard errors the statistical tests
compare against:

- :func:`layer_moments` gives ``E[X']`` and ``E[X'^2]`` of the per-claim loss
  ``X' = min(max(s*X - d, 0), l)`` (``X`` capped at its ``max``) by numerical
  integration of the survival function of the matching :mod:`scipy.stats`
  distribution, written here independently of :mod:`sim.kernels.sampling`;
- :func:`mean_se` and :func:`variance_se` are the standard errors of a sample
  mean and of a sample variance (the latter from the fourth central moment);
- :func:`check` asserts ``|estimate - expected| <= 4 SE`` and prints the
  figures (visible with ``pytest -s``).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import integrate, stats

from sim.distributions import Distribution, make
from sim.engine import LossModel, simulate_chunk
from sim.kernels.trial import _line_frequency_terms
from sim.exposure import build_exposure
from sim.kernels.jit import jit
from sim.model import Catastrophe, Dependence, Line, Member, Pool, Scenario, Simulation
from sim.occurrences import LossChunk
from sim.kernels.rng import seed_state, uniform
from sim.kernels.claims import next_claim_points, next_hit_points, place_claims, place_hits
from sim.kernels.rng import state_tuple
from sim.kernels.sampling import poisson, sample

Z = 4.0   # tolerance in standard errors

POOL = Pool(name="test pool", members=(Member(name="lead", role="lead", share=1.0, capital=1e12),))


# ---------------------------------------------------------------- scenarios
def line(name: str = "a", policies: int = 500, sum_insured: Distribution | float = 1e6,
         frequency: Distribution | None = None, severity: Distribution | None = None,
         damage_ratio: Distribution | None = None, deductible: float = 0.0,
         limit: float | None = None, uncertainty: float = 0.0, premium_rate: float = 0.01) -> Line:
    if not isinstance(sum_insured, Distribution):
        sum_insured = Distribution.constant(sum_insured)
    if frequency is None:
        frequency = make("poisson", {"mean": 0.02})
    if severity is None and damage_ratio is None:
        severity = make("lognormal", {"median": 1e5, "sigma": 0.8})
    return Line(name=name, policies=policies, sum_insured=sum_insured, premium_rate=premium_rate,
                frequency=frequency, severity=severity, damage_ratio=damage_ratio,
                deductible=deductible, limit=limit, uncertainty=uncertainty)


def catastrophe(name: str = "cat", rate: float = 1.0, lines: tuple[str, ...] = ("a",),
                affected_share: Distribution | None = None, damage_ratio: Distribution | None = None,
                severity: Distribution | None = None) -> Catastrophe:
    if affected_share is None:
        affected_share = make("beta", {"mean": 0.1, "sd": 0.05})
    if damage_ratio is None and severity is None:
        damage_ratio = make("beta", {"mean": 0.3, "sd": 0.2})
    return Catastrophe(name=name, rate=rate, lines=tuple(lines), affected_share=affected_share,
                       damage_ratio=damage_ratio, severity=severity)


def scenario(lines, catastrophes=(), dependence: Dependence | None = None, seed: int = 20240601,
             trials: int = 1000) -> Scenario:
    return Scenario(name="engine test", simulation=Simulation(trials=trials, seed=seed),
                    lines=tuple(lines), pool=POOL, catastrophes=tuple(catastrophes),
                    dependence=dependence or Dependence())


def run(scen: Scenario, first_trial: int = 0, n_trials: int | None = None) -> LossChunk:
    """Simulate trials ``first_trial .. first_trial + n_trials - 1`` of ``scen``."""
    n = scen.simulation.trials if n_trials is None else n_trials
    return simulate_chunk(scen, LossModel.from_scenario(scen), build_exposure(scen), first_trial, n)


def concat_chunks(a: LossChunk, b: LossChunk) -> LossChunk:
    """Two consecutive chunks as one (offsets shifted)."""
    return LossChunk(
        first_trial=a.first_trial,
        occ_offsets=np.concatenate([a.occ_offsets[:-1], b.occ_offsets + a.occ_offsets[-1]]),
        occ_day=np.concatenate([a.occ_day, b.occ_day]),
        occ_event=np.concatenate([a.occ_event, b.occ_event]),
        risk_offsets=np.concatenate([a.risk_offsets[:-1], b.risk_offsets + a.risk_offsets[-1]]),
        risk_policy=np.concatenate([a.risk_policy, b.risk_policy]),
        risk_line=np.concatenate([a.risk_line, b.risk_line]),
        risk_loss=np.concatenate([a.risk_loss, b.risk_loss]),
        line_loss=np.concatenate([a.line_loss, b.line_loss]),
        line_claims=np.concatenate([a.line_claims, b.line_claims]),
        risk_level=np.concatenate([a.risk_level, b.risk_level]),
    )


CHUNK_FIELDS = ("occ_offsets", "occ_day", "occ_event", "risk_offsets", "risk_policy", "risk_line",
                "risk_loss", "line_loss", "line_claims", "risk_level")


def chunk_arrays(chunk: LossChunk) -> dict[str, np.ndarray]:
    return {name: getattr(chunk, name) for name in CHUNK_FIELDS}


def occurrence_trial(chunk: LossChunk) -> np.ndarray:
    """Local trial index of every occurrence."""
    return np.repeat(np.arange(chunk.n_trials), np.diff(chunk.occ_offsets))


def risk_occurrence(chunk: LossChunk) -> np.ndarray:
    """Occurrence index of every risk loss."""
    return np.repeat(np.arange(chunk.n_occurrences), np.diff(chunk.risk_offsets))


# ---------------------------------------------------------------- closed forms
def scipy_distribution(dist: Distribution):
    """The :mod:`scipy.stats` frozen distribution of a canonical severity-type :class:`Distribution`
    (uncapped). Written from the contract's definitions, not from the samplers."""
    k, a, b, c = dist.kind, dist.p0, dist.p1, dist.p2
    if k == "lognormal":
        return stats.lognorm(s=b, scale=math.exp(a))
    if k == "gamma":
        return stats.gamma(a, scale=b)
    if k == "pareto":                       # Lomax: P(X > x) = (1 + x/scale)^-shape
        return stats.lomax(b, scale=a)
    if k == "gpd":
        return stats.genpareto(b, loc=c, scale=a)
    if k == "beta":
        return stats.beta(a, b)
    if k == "uniform":
        return stats.uniform(loc=a, scale=b - a)
    raise ValueError(k)


def layer_moments(dist: Distribution, deductible: float = 0.0, limit: float = math.inf,
                  scale: float = 1.0) -> tuple[float, float]:
    """``(E[X'], E[X'^2])`` for ``X' = min(max(scale * min(X, cap) - deductible, 0), limit)``.

    ``E[X'] = int_0^limit S(d + y) dy`` and ``E[X'^2] = 2 int_0^limit y S(d + y) dy`` with ``S`` the
    survival function of ``scale * min(X, cap)`` (zero at and above ``scale * cap``).
    """
    if dist.kind == "constant":
        x = min(max(scale * min(dist.p0, dist.cap) - deductible, 0.0), limit)
        return x, x * x
    frozen = scipy_distribution(dist)
    top = scale * dist.cap                  # S = 0 from here on
    upper = min(limit, max(top - deductible, 0.0))
    if not math.isfinite(upper):
        # unlimited: S(d + y) is below 1e-15 past this point; the rest of the tail is negligible
        # for the distributions with a finite fourth moment that the tests use
        upper = scale * frozen.isf(1e-15) - deductible

    def survival(y):
        return frozen.sf((deductible + y) / scale)
    quantiles = scale * frozen.ppf([0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999]) - deductible
    breaks = sorted({float(p) for p in quantiles if 0.0 < p < upper}) or None
    m1 = integrate.quad(survival, 0.0, upper, limit=1000, points=breaks, epsabs=0.0, epsrel=1e-10)[0]
    m2 = 2.0 * integrate.quad(lambda y: y * survival(y), 0.0, upper, limit=1000, points=breaks,
                              epsabs=0.0, epsrel=1e-10)[0]
    return m1, m2


def frequency_moments(freq: Distribution) -> tuple[float, float]:
    """Mean and variance of the claims of one policy in a year (contract's definitions)."""
    if freq.kind == "poisson":
        return freq.p0, freq.p0
    if freq.kind == "negbin":
        return freq.p0, freq.p0 + freq.p0 ** 2 / freq.p1
    if freq.kind == "bernoulli":
        return freq.p0, freq.p0 * (1.0 - freq.p0)
    raise ValueError(freq.kind)


# ---------------------------------------------------------------- standard errors
def mean_se(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(x.std(ddof=1) / math.sqrt(len(x)))


def variance_se(x: np.ndarray) -> float:
    """Standard error of the sample variance: ``sqrt((mu4 - sigma^4 (n-3)/(n-1)) / n)``."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    centred = x - x.mean()
    m2 = float(np.mean(centred ** 2))
    m4 = float(np.mean(centred ** 4))
    return math.sqrt(max(m4 - m2 * m2 * (n - 3) / (n - 1), 0.0) / n)


def batch_se(values: np.ndarray) -> float:
    """Standard error of a full-sample statistic from the spread of its value on ``k`` equal batches."""
    values = np.asarray(values, dtype=np.float64)
    return float(values.std(ddof=1) / math.sqrt(len(values)))


def check(label: str, estimate: float, expected: float, se: float, z: float = Z) -> None:
    """Assert ``|estimate - expected| <= z * se``; print the figures for the report."""
    score = (estimate - expected) / se if se > 0 else (0.0 if estimate == expected else math.inf)
    print(f"{label}: estimate {estimate:.6g}  expected {expected:.6g}  SE {se:.3g}  z {score:+.2f}")
    assert se > 0 or estimate == expected, f"{label}: zero standard error"
    assert abs(estimate - expected) <= z * se, (
        f"{label}: estimate {estimate!r} vs expected {expected!r}, {score:+.2f} SE (tolerance {z} SE)")


def check_mean(label: str, x: np.ndarray, expected: float) -> None:
    x = np.asarray(x, dtype=np.float64)
    check(f"{label} mean", float(x.mean()), expected, mean_se(x))


def check_variance(label: str, x: np.ndarray, expected: float) -> None:
    x = np.asarray(x, dtype=np.float64)
    check(f"{label} variance", float(x.var(ddof=1)), expected, variance_se(x))


# ---------------------------------------------------------------- kernel drivers
@jit
def draw_severity(seed, key, dist, n):
    """``n`` draws of ``sample`` from the stream (seed, stream 99, trial 0, key)."""
    state = np.empty(4, dtype=np.uint64)
    seed_state(state, seed, 99, 0, key)
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        out[i] = sample(state, dist)
    return out


@jit
def draw_policy_claims(seed, key, freq, level, policies, lines):
    """Claim counts of ``lines`` lines of ``policies`` policies each, ``(lines, policies)``, drawn
    as the engine draws a line's claims (:mod:`sim.kernels.claims`, with the engine's frequency terms
    at risk level ``level``), each line from its own stream."""
    code, mean, dispersion, cap = _line_frequency_terms(freq.reshape(1, -1), 0, level)
    stamp = np.full(policies, -1, dtype=np.int64)
    tally = np.zeros(policies, dtype=np.int64)
    counts = np.zeros((lines, policies), dtype=np.int64)
    state = np.empty(4, dtype=np.uint64)
    for line in range(lines):
        seed_state(state, seed, 99, 1 + line, key)
        s = state_tuple(state)
        points, s = next_claim_points(s, code, mean, dispersion, policies)
        out = np.empty(points, dtype=np.int64)
        n_claims, s = place_claims(s, points, code, mean, dispersion, cap, 0, policies, out, 0, stamp, tally, line)
        for k in range(n_claims):
            counts[line, out[k]] += 1
    return counts


@jit
def draw_hits(seed, probability, policies, draws):
    """Which of ``policies`` policies each of ``draws`` events hits, ``(draws, policies)`` counts of
    hits, drawn as the engine draws a catastrophe's hits on a line (:mod:`sim.kernels.claims`)."""
    stamp = np.full(policies, -1, dtype=np.int64)
    hits = np.zeros((draws, policies), dtype=np.int64)
    state = np.empty(4, dtype=np.uint64)
    seed_state(state, seed, 99, 2, 0)
    s = state_tuple(state)
    for draw in range(draws):
        points, s = next_hit_points(s, probability, policies)
        out = np.empty(points, dtype=np.int64)
        n_hits, s = place_hits(s, points, probability, 0, policies, out, 0, stamp, draw)
        for k in range(n_hits):
            hits[draw, out[k]] += 1
    return hits


@jit
def draw_uniforms(seed, stream, trial, key, n):
    """The first ``n`` uniforms of the stream (seed, stream, trial, key)."""
    state = np.empty(4, dtype=np.uint64)
    seed_state(state, seed, stream, trial, key)
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        out[i] = uniform(state)
    return out


@jit
def draw_poisson(seed, mean, n):
    """``n`` draws of the catastrophe-count sampler ``sim.kernels.sampling.poisson``."""
    state = np.empty(4, dtype=np.uint64)
    seed_state(state, seed, 99, 3, 0)
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = poisson(state, mean)
    return out
