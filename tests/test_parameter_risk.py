"""Parameter risk that persists: a line's true level (``parameter_uncertainty``), drawn once per path.

- across the paths, a line's gross loss in year 1 and in year 5 of a path is positively correlated
  with ``parameter_uncertainty`` > 0 and uncorrelated (within 4 SE) without it;
- a one-year run with ``parameter_uncertainty`` = u and ``uncertainty`` = 0 has the yearly loss CV of
  the mixture formula, within 4 SE (the CV's SE by the delta method);
- the true level is the same in every year of a path, independent of the chunking, a gamma of mean 1
  and CV u; the yearly and true levels multiply;
- a bernoulli line refuses both levels at once.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import engine_cases as ec
from sim.copula import parameter_levels, risk_levels, yearly_levels
from sim.distributions import make
from sim.kernels.rng import YEAR_STRIDE
from sim.model import Dependence
from sim.errors import ScenarioError
from sim.scenario import loads

Z = 4.0
PATHS = 6_000


def with_parameter_risk(scen, *values):
    lines = tuple(dataclasses.replace(line, parameter_uncertainty=value) for line, value in zip(scen.lines, values))
    return dataclasses.replace(scen, lines=lines)


def correlation_and_se(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Pearson's r and its large-sample SE under independence, 1/sqrt(n); for r != 0 the SE
    (1 - r^2)/sqrt(n) is smaller, so 1/sqrt(n) is the conservative choice for both tests."""
    return float(np.corrcoef(x, y)[0, 1]), 1.0 / math.sqrt(len(x))


def year_losses(scen, year: int) -> np.ndarray:
    """Line losses ``(PATHS, n_lines)`` of ``year`` of paths 0 .. PATHS - 1 (the trial ids of sim.dynamics)."""
    return ec.run(scen, (year - 1) * YEAR_STRIDE, PATHS).line_loss


def two_line_scenario(uncertainty: float = 0.3):
    lines = [ec.line("a", policies=400, uncertainty=uncertainty, frequency=make("poisson", {"mean": 0.1})),
             ec.line("b", policies=300, uncertainty=uncertainty, frequency=make("negbin", {"mean": 0.1,
                                                                                            "dispersion": 2.0}))]
    dependence = Dependence(copula="gaussian", correlation=(("a", "b", 0.5),))
    return ec.scenario(lines, dependence=dependence, seed=77, trials=PATHS)


@pytest.mark.parametrize("parameter", [0.0, 0.5])
def test_year_one_and_year_five_correlate_only_with_parameter_risk(parameter):
    scen = with_parameter_risk(two_line_scenario(), parameter, parameter)
    first, fifth = year_losses(scen, 1), year_losses(scen, 5)
    for j in range(2):
        r, se = correlation_and_se(first[:, j], fifth[:, j])
        print(f"line {j}, parameter_uncertainty {parameter}: corr(year 1, year 5) = {r:.4f} (SE {se:.4f})")
        if parameter == 0.0:
            assert abs(r) <= Z * se
        else:
            assert r > Z * se


def test_true_level_is_kept_for_every_year_and_chunking():
    scen = with_parameter_risk(two_line_scenario(0.0), 0.4, 0.7)
    whole = parameter_levels(scen, 0, 1000)
    parts = np.vstack([parameter_levels(scen, 0, 300), parameter_levels(scen, 300, 700)])
    assert np.array_equal(whole, parts)
    # uncertainty 0: the frequency multiplier is the true level alone, the same in every year
    for year in (1, 2, 5):
        assert np.array_equal(risk_levels(scen, (year - 1) * YEAR_STRIDE, 1000), whole)
    # the two levels multiply
    swinging = with_parameter_risk(two_line_scenario(0.3), 0.4, 0.7)
    first = 3 * YEAR_STRIDE + 10
    assert np.array_equal(risk_levels(swinging, first, 500),
                          yearly_levels(swinging, first, 500) * parameter_levels(swinging, 10, 500))
    # a path's true level does not depend on the yearly swing (its own stream)
    assert np.array_equal(parameter_levels(swinging, 0, 1000), whole)


def test_true_level_is_gamma_mean_one_cv_u():
    u = 0.6
    scen = with_parameter_risk(two_line_scenario(0.0), u, 0.0)
    levels = parameter_levels(scen, 0, 40_000)
    ec.check_mean("true level mean", levels[:, 0], 1.0)
    ec.check_variance("true level variance", levels[:, 0], u * u)
    assert np.all(levels[:, 1] == 1.0)


def cv_and_delta_se(x: np.ndarray) -> tuple[float, float]:
    """The sample CV s/m and its delta-method SE from the sample's central moments:
    Var(CV) ~ [s^4/m^4 + (mu4 - s^4)/(4 m^2 s^2) - mu3/m^3] / n."""
    n, m = len(x), float(x.mean())
    centred = x - m
    s2, mu3, mu4 = (float(np.mean(centred ** k)) for k in (2, 3, 4))
    variance = (s2 * s2 / m ** 4 + (mu4 - s2 * s2) / (4.0 * m * m * s2) - mu3 / m ** 3) / n
    return math.sqrt(s2) / m, math.sqrt(variance)


def test_one_year_loss_cv_is_the_mixture_formula():
    """Poisson(theta m P) claims of a lognormal severity X (no deductible, limit far above), theta a
    gamma of mean 1 and CV u: CV^2 of the year's loss = E[X^2]/E[X]^2 / (m P) + u^2, with
    E[X^2]/E[X]^2 = exp(sigma^2)."""
    u, m, policies, sigma = 0.5, 0.05, 2_000, 0.6
    line = ec.line("a", policies=policies, sum_insured=1e12, frequency=make("poisson", {"mean": m}),
                   severity=make("lognormal", {"median": 1e5, "sigma": sigma}))
    scen = with_parameter_risk(ec.scenario([line], seed=9, trials=60_000), u)
    loss = ec.run(scen).line_loss[:, 0]
    expected = math.sqrt(math.exp(sigma ** 2) / (m * policies) + u * u)
    cv, se = cv_and_delta_se(loss)
    print(f"loss CV {cv:.5f} (SE {se:.5f}), mixture formula {expected:.5f}")
    assert abs(cv - expected) <= Z * se
    # and the CV without parameter risk is the Poisson one: the test can tell them apart
    assert abs(math.sqrt(math.exp(sigma ** 2) / (m * policies)) - expected) > 10 * se


BERNOULLI_BOTH = """
name = "both levels"
[simulation]
trials = 10
seed = 1
[[lines]]
name = "a"
policies = 10
sum_insured = 1e6
premium_rate = 0.01
frequency = { dist = "bernoulli", p = 0.1 }
severity = 1e5
uncertainty = 0.3
parameter_uncertainty = 0.3
[pool]
name = "p"
[[pool.members]]
name = "lead"
role = "lead"
share = 1.0
capital = 1e9
"""


def test_bernoulli_line_refuses_both_levels():
    with pytest.raises(ScenarioError, match=r"lines\[0\].*bernoulli.*parameter_uncertainty"):
        loads(BERNOULLI_BOTH)
    scen = loads(BERNOULLI_BOTH.replace("uncertainty = 0.3\nparameter", "uncertainty = 0.0\nparameter"))
    assert scen.lines[0].parameter_uncertainty == 0.3
