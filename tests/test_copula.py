"""The lines' yearly risk levels (:func:`sim.copula.risk_levels`) and their copula.

- marginals: gamma with mean 1 and CV = uncertainty (mean, variance within 4 SE; KS p > 1e-4) under
  every copula; uncertainty 0 gives exactly 1; a bernoulli line's p x level is Beta(1/u^2,
  (1 - p)/(p u^2)), mean p (issue 21, defect 6);
- Gaussian copula: Spearman's rho of two lines' levels ``6/pi asin(rho/2)`` and the Pearson
  correlation of their normal scores ``rho``;
- t copula: Kendall's tau ``2/pi asin(rho)``;
- tail dependence: ``P(U2 > 0.99 | U1 > 0.99)`` against the exact bivariate normal / t values
  (numerical integration), and the t (df 3) clearly above the Gaussian at the same rho;
- the independent copula and unlisted pairs: rank correlation ~ 0;
- a singular correlation matrix (rho = 1), chunk independence, the seed.

SEs of rank correlations: the spread over 20 equal batches / sqrt(20) (batch means).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

import engine_cases as ec
from engine_cases import check, check_mean, check_variance
from sim.copula import copula_uniforms, risk_levels
from sim.distributions import make
from sim.model import Dependence

N = 40_000
BATCHES = 20


def two_lines(copula: str, rho: float = 0.0, df: float = 4.0, uncertainty=(0.5, 0.3), seed: int = 4242,
              extra_line: bool = False):
    lines = [ec.line("a", uncertainty=uncertainty[0]), ec.line("b", uncertainty=uncertainty[1])]
    if extra_line:
        lines.append(ec.line("c", uncertainty=0.8))
    correlation = (("a", "b", rho),) if copula != "independent" or rho else ()
    return ec.scenario(lines, dependence=Dependence(copula=copula, df=df, correlation=correlation), seed=seed)


def batched(statistic, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The statistic on the whole sample and its batch-means standard error."""
    whole = float(statistic(x, y))
    parts = [float(statistic(a, b)) for a, b in zip(np.array_split(x, BATCHES), np.array_split(y, BATCHES))]
    return whole, ec.batch_se(np.array(parts))


def spearman(x, y):
    return stats.spearmanr(x, y).statistic


def kendall(x, y):
    return stats.kendalltau(x, y).statistic


# ---------------------------------------------------------------- marginals
@pytest.mark.parametrize("copula,rho", [("independent", 0.0), ("gaussian", 0.6), ("t", 0.6)])
@pytest.mark.parametrize("cv", [0.1, 0.5, 1.5])
def test_levels_have_mean_one_and_cv_uncertainty(copula, rho, cv):
    scen = two_lines(copula, rho, df=3.0, uncertainty=(cv, 0.3), seed=11)
    levels = risk_levels(scen, 0, N)[:, 0]
    assert np.all(levels > 0.0) and np.all(np.isfinite(levels))
    label = f"{copula} level cv {cv}"
    check_mean(label, levels, 1.0)
    check_variance(label, levels, cv * cv)
    ks = stats.kstest(levels, stats.gamma(1.0 / cv ** 2, scale=cv ** 2).cdf)
    print(f"{label}: KS {ks.statistic:.4g} p {ks.pvalue:.3g}")
    assert ks.pvalue > 1e-4


@pytest.mark.parametrize("copula", ["gaussian", "t"])
@pytest.mark.parametrize("p,cv", [(0.5, 1.0), (0.05, 0.4), (0.9, 0.5)])
def test_bernoulli_level_is_a_beta_probability_over_p(copula, p, cv):
    # issue 21, defect 6: p x level must keep the mean p and stay within [0, 1]
    lines = [ec.line("a", frequency=make("bernoulli", {"p": p}), uncertainty=cv), ec.line("b", uncertainty=0.3)]
    scen = ec.scenario(lines, dependence=Dependence(copula=copula, df=3.0, correlation=(("a", "b", 0.6),)),
                       seed=13)
    probability = p * risk_levels(scen, 0, N)[:, 0]
    assert np.all((probability >= 0.0) & (probability <= 1.0))
    a, b = 1.0 / cv ** 2, (1.0 - p) / (p * cv ** 2)
    label = f"{copula} bernoulli p {p} cv {cv} probability"
    check_mean(label, probability, p)
    check_variance(label, probability, p * (1.0 - p) / (a + b + 1.0))
    ks = stats.kstest(probability, stats.beta(a, b).cdf)
    print(f"{label}: KS {ks.statistic:.4g} p {ks.pvalue:.3g}")
    assert ks.pvalue > 1e-4


def test_certain_bernoulli_keeps_level_one():
    lines = [ec.line("a", frequency=make("bernoulli", {"p": 1.0}), uncertainty=0.5)]
    assert np.all(risk_levels(ec.scenario(lines), 0, 1000) == 1.0)


def test_no_uncertainty_gives_level_one():
    scen = two_lines("gaussian", 0.5, uncertainty=(0.0, 0.4))
    levels = risk_levels(scen, 0, 1000)
    assert np.all(levels[:, 0] == 1.0)
    assert np.std(levels[:, 1]) > 0.3


@pytest.mark.parametrize("copula", ["independent", "gaussian", "t"])
def test_copula_uniforms_are_uniform(copula):
    u = copula_uniforms(two_lines(copula, 0.5, df=3.0, seed=12), 0, N)
    assert np.all((u > 0.0) & (u < 1.0))
    for j in range(2):
        ks = stats.kstest(u[:, j], "uniform")
        print(f"{copula} uniforms line {j}: KS {ks.statistic:.4g} p {ks.pvalue:.3g}")
        assert ks.pvalue > 1e-4


# ---------------------------------------------------------------- dependence
@pytest.mark.parametrize("rho", [0.3, 0.7, -0.5])
def test_gaussian_spearman(rho):
    levels = risk_levels(two_lines("gaussian", rho, seed=21), 0, N)
    estimate, se = batched(spearman, levels[:, 0], levels[:, 1])
    check(f"gaussian rho {rho} Spearman", estimate, 6.0 / math.pi * math.asin(rho / 2.0), se)
    # normal scores of the uniforms behind the levels have Pearson correlation rho, SE (1 - rho^2)/sqrt(n)
    scores = special.ndtri(copula_uniforms(two_lines("gaussian", rho, seed=21), 0, N))
    r = float(np.corrcoef(scores[:, 0], scores[:, 1])[0, 1])
    check(f"gaussian rho {rho} normal-score correlation", r, rho, (1.0 - rho * rho) / math.sqrt(N))


@pytest.mark.parametrize("rho,df", [(0.6, 4.0), (0.3, 3.0), (-0.4, 10.0)])
def test_t_kendall(rho, df):
    levels = risk_levels(two_lines("t", rho, df=df, seed=22), 0, N)
    estimate, se = batched(kendall, levels[:, 0], levels[:, 1])
    check(f"t df {df} rho {rho} Kendall", estimate, 2.0 / math.pi * math.asin(rho), se)


def _normal_joint_upper(a: float, rho: float) -> float:
    """P(Z1 > a, Z2 > a) for standard normals with correlation rho."""
    s = math.sqrt(1.0 - rho * rho)
    return integrate.quad(lambda z: stats.norm.pdf(z) * special.ndtr((rho * z - a) / s), a, np.inf,
                          epsabs=0.0, epsrel=1e-9)[0]


def _t_joint_upper(a: float, rho: float, df: float) -> float:
    """P(T1 > a, T2 > a) for a bivariate t: (Z1, Z2) / sqrt(W / df), W ~ chi-square(df)."""
    chi = stats.chi2(df)
    return integrate.quad(lambda w: chi.pdf(w) * _normal_joint_upper(a * math.sqrt(w / df), rho), 0.0, np.inf,
                          epsabs=0.0, epsrel=1e-8, limit=200)[0]


def test_t_copula_has_tail_dependence():
    q, rho, df, n = 0.99, 0.5, 3.0, 200_000
    results = {}
    for copula in ("gaussian", "t"):
        u = copula_uniforms(two_lines(copula, rho, df=df, seed=23), 0, n)
        levels = risk_levels(two_lines(copula, rho, df=df, seed=23), 0, n)
        # the levels are increasing in the uniforms: the same exceedances
        high = levels > np.quantile(levels, q, axis=0)
        exceed = u > q
        given = exceed[:, 0]
        p = float(np.mean(exceed[given, 1]))
        se = math.sqrt(p * (1.0 - p) / given.sum())
        if copula == "gaussian":
            exact = _normal_joint_upper(stats.norm.ppf(q), rho) / (1.0 - q)
        else:
            exact = _t_joint_upper(stats.t(df).ppf(q), rho, df) / (1.0 - q)
        check(f"{copula} rho {rho} P(U2 > {q} | U1 > {q})", p, exact, se)
        p_levels = float(np.mean(high[high[:, 0], 1]))
        print(f"{copula}: same from the levels' empirical 99th percentiles {p_levels:.4f}")
        results[copula] = (p, se)
    (pt, st), (pg, sg) = results["t"], results["gaussian"]
    gap = (pt - pg) / math.hypot(st, sg)
    print(f"t minus gaussian: {pt - pg:.4f}, {gap:.1f} SE")
    assert gap > 4.0


def test_independent_copula_rank_correlation_is_zero():
    levels = risk_levels(two_lines("independent", 0.0, seed=24, extra_line=True), 0, N)
    for i, j in ((0, 1), (0, 2), (1, 2)):
        estimate, se = batched(spearman, levels[:, i], levels[:, j])
        check(f"independent lines {i},{j} Spearman", estimate, 0.0, se)


@pytest.mark.parametrize("copula", ["gaussian", "t"])
def test_unlisted_pairs_are_uncorrelated(copula):
    levels = risk_levels(two_lines(copula, 0.7, df=4.0, seed=25, extra_line=True), 0, N)
    estimate, se = batched(spearman, levels[:, 0], levels[:, 2])
    if copula == "gaussian":
        check("gaussian unlisted pair Spearman", estimate, 0.0, se)
    else:
        # a t copula with zero correlation is uncorrelated but not independent: Kendall's tau is 0
        estimate, se = batched(kendall, levels[:, 0], levels[:, 2])
        check("t unlisted pair Kendall", estimate, 0.0, se)
    listed, se = batched(spearman, levels[:, 0], levels[:, 1])
    assert listed > 0.5


def test_perfect_correlation_uses_the_semidefinite_factor():
    levels = risk_levels(two_lines("gaussian", 1.0, uncertainty=(0.4, 0.4), seed=26), 0, 2000)
    np.testing.assert_allclose(levels[:, 0], levels[:, 1], rtol=1e-9)
    assert np.std(levels[:, 0]) > 0.3


# ---------------------------------------------------------------- reproducibility
@pytest.mark.parametrize("copula", ["independent", "gaussian", "t"])
def test_levels_chunk_independent_and_seeded(copula):
    scen = two_lines(copula, 0.5, df=5.0, seed=27)
    whole = risk_levels(scen, 0, 1000)
    np.testing.assert_array_equal(whole, np.concatenate([risk_levels(scen, 0, 313), risk_levels(scen, 313, 687)]))
    assert not np.array_equal(whole, risk_levels(two_lines(copula, 0.5, df=5.0, seed=28), 0, 1000))
    # the engine reports the same levels
    np.testing.assert_array_equal(ec.run(scen, 100, 50).risk_level, whole[100:150])
