"""The lines' risk levels, joined by an independent, Gaussian or t copula.

A line's claim frequency is multiplied by two levels, each a gamma with mean 1:

* the **true level** (parameter risk), with coefficient of variation
  ``parameter_uncertainty``: the line's true claim rate, which nobody knows
  (there is no loss history for AI liability). It is drawn once per path, from
  the path's own stream (``STREAM_PARAMETER``, keyed by the path), and kept
  for every year of the path; a one-year trial is a path of one year.
* the **yearly level**, with coefficient of variation ``uncertainty``: the
  year's swing around the true level, drawn afresh each year from the
  (path, year)'s stream (``STREAM_COPULA``).

The frequency's multiplier is their product ``θ · s``: with ``θ`` and ``s``
independent, its mean stays 1 and its squared coefficient of variation is
``(1 + p²)(1 + u²) − 1`` (``p`` and ``u`` the two CVs). Over the years of a
path, the yearly levels are independent and the true level is shared, so a
line's losses in two years of a path are correlated exactly when ``p > 0``.

The copula joins each level across lines, with the same correlations, copula
and degrees of freedom, but its own draws: the true levels of two correlated
lines are correlated (robots run the same models as the AI products: if AI
liability's true rate was underestimated, so probably was robot liability's),
and so are their yearly swings (a bad year for one is a bad year for the
other). The two levels of one line are independent: the year's swing does
not depend on how far the true rate is from the prior.

A bernoulli line's level scales a probability, which cannot pass 1: a gamma
level capped there would lower the mean (p = 0.5 with uncertainty 1 gave 433
claims in 1,000 policies, not 500). Its year's probability is instead
``p' ~ Beta(a, b)`` with ``a = 1/u**2`` and ``b = (1 - p)/(p u**2)``
(``u`` the uncertainty), and its level is ``p'/p``: the mean stays exactly
``p``, and ``p'`` never passes 1. ``a`` is the gamma level's shape, so for a
small ``p`` the law of ``p'`` tends to ``p`` times the gamma level of the
other lines; its coefficient of variation is ``u sqrt((1 - p)/(1 + p u**2))``,
a little below ``u``. The copula's uniform goes through the beta's quantile,
so the line keeps its place in the dependence. A bernoulli line's true level
is the same beta law with ``u`` its ``parameter_uncertainty``; it takes one of
the two levels only (a product of two could pass probability 1: the scenario
reader refuses both).

The numba kernel draws, per trial (or path), ``n_lines`` standard normals and
one chi-square from its own stream; the transforms to uniforms and gamma
quantiles are elementwise, so results do not depend on the chunking either.
"""
from __future__ import annotations

import functools

import numpy as np
from scipy import special

from .kernels.copula import _draw_normals
from .kernels.rng import STREAM_COPULA, STREAM_PARAMETER, YEAR_STRIDE
from .model import Scenario


def correlation_matrix(scenario: Scenario) -> np.ndarray:
    """The lines' correlation matrix, shape ``(n_lines, n_lines)``; unlisted pairs are 0."""
    n = len(scenario.lines)
    matrix = np.eye(n)
    for a, b, rho in scenario.dependence.correlation:
        i, j = scenario.line_index(a), scenario.line_index(b)
        matrix[i, j] = matrix[j, i] = rho
    return matrix


def _cholesky(matrix: np.ndarray) -> np.ndarray:
    """Cholesky factor that tolerates a positive semi-definite matrix (validated upstream)."""
    try:
        return np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(matrix)
        return vectors * np.sqrt(np.clip(values, 0.0, None))


# The gamma quantile (scipy's gammaincinv) costs about a microsecond a call, more than the
# whole rest of a trial's copula, so each line's map from the copula's score to its risk level
# is tabulated once on a fine grid and interpolated. The grid is in normal score z for the
# Gaussian and independent copulas, and in asinh(x) of the t score x, whose tails are wide;
# both maps are smooth, so linear interpolation is accurate to better than 1e-6 relative
# (tests/test_copula.py checks it against the exact quantile).
_NORMAL_GRID = np.linspace(-10.0, 10.0, 10_001)
_T_GRID = np.linspace(-np.arcsinh(1e7), np.arcsinh(1e7), 20_001)


@functools.lru_cache(maxsize=64)
def _level_table(uncertainty: float, is_t: bool, df: float, probability: float | None = None) -> np.ndarray:
    """The risk level at each grid score: the gamma level's quantile, or for a bernoulli line of
    ``probability`` the beta probability's quantile over ``probability`` (see the module notes)."""
    shape = 1.0 / uncertainty ** 2
    scores = np.sinh(_T_GRID) if is_t else _NORMAL_GRID

    def cdf(x):
        return special.stdtr(df, x) if is_t else special.ndtr(x)

    # The upper half works from the upper tail: ndtr(z) is exactly 1.0 beyond z = 8.3, and
    # gammaincinv(shape, 1.0) is inf, which would make an infinite risk level.
    lower_tail, upper_tail = cdf(np.minimum(scores, 0.0)), cdf(-np.maximum(scores, 0.0))
    if probability is not None:
        other = shape * (1.0 - probability) / probability
        lower = special.betaincinv(shape, other, lower_tail)
        upper = special.betainccinv(shape, other, upper_tail)
        return np.where(scores < 0.0, lower, upper) / probability
    lower = special.gammaincinv(shape, lower_tail)
    upper = special.gammainccinv(shape, upper_tail)
    return np.where(scores < 0.0, lower, upper) / shape


def _bernoulli_probability(line) -> float | None:
    """A bernoulli line's probability, or None for the other frequencies (a gamma level)."""
    return line.frequency.p0 if line.frequency.kind == "bernoulli" else None


def copula_scores(scenario: Scenario, first_trial: int, n_trials: int, stream: int = STREAM_COPULA) -> np.ndarray:
    """The copula's correlated scores, shape ``(n_trials, n_lines)``, from ``stream`` of
    trials (or paths) ``first_trial ..``.

    Normal scores z for the independent and Gaussian copulas (uniform = ndtr(z)),
    t scores x for the t copula (uniform = stdtr(df, x)).
    """
    dependence = scenario.dependence
    n_lines = len(scenario.lines)
    is_t = dependence.copula == "t"
    normals = np.empty((n_trials, n_lines))
    chi_square = np.empty(n_trials)
    _draw_normals(np.uint64(scenario.simulation.seed), np.uint64(stream), np.uint64(first_trial), n_lines,
                  float(dependence.df) if is_t else 0.0, normals, chi_square)
    if dependence.copula == "independent":
        return normals
    correlated = normals @ _cholesky(correlation_matrix(scenario)).T
    if is_t:
        return correlated / np.sqrt(chi_square / dependence.df)[:, None]
    return correlated


def copula_uniforms(scenario: Scenario, first_trial: int, n_trials: int) -> np.ndarray:
    """Uniforms of the lines' copula (the yearly levels'), shape ``(n_trials, n_lines)``."""
    scores = copula_scores(scenario, first_trial, n_trials)
    if scenario.dependence.copula == "t":
        return special.stdtr(scenario.dependence.df, scores)
    return special.ndtr(scores)


def _levels_from_scores(scenario: Scenario, scores: np.ndarray, variations) -> np.ndarray:
    """Each line's gamma (or bernoulli: beta) level of mean 1 and CV ``variations[j]`` at the
    copula's ``scores`` ``(n, n_lines)``; 1 where the CV is 0."""
    is_t = scenario.dependence.copula == "t"
    grid = _T_GRID if is_t else _NORMAL_GRID
    levels = np.ones_like(scores)
    for j, (line, variation) in enumerate(zip(scenario.lines, variations)):
        probability = _bernoulli_probability(line)
        if probability in (0.0, 1.0):
            continue        # a certain bernoulli: no probability in between, the level stays 1
        if variation > 0.0:
            table = _level_table(variation, is_t, float(scenario.dependence.df), probability)
            levels[:, j] = np.interp(np.arcsinh(scores[:, j]) if is_t else scores[:, j], grid, table)
    return levels


def has_parameter_risk(scenario: Scenario) -> bool:
    """Whether any line has a true level other than 1."""
    return any(line.parameter_uncertainty > 0.0 for line in scenario.lines)


def parameter_levels(scenario: Scenario, first_path: int, n_paths: int) -> np.ndarray:
    """Each line's true level of paths ``first_path ..``, shape ``(n_paths, n_lines)``: a gamma
    of mean 1 and CV ``parameter_uncertainty`` (bernoulli: the beta probability over ``p``),
    from the path's own stream ``STREAM_PARAMETER``; all 1 without parameter risk."""
    if not has_parameter_risk(scenario):
        return np.ones((n_paths, len(scenario.lines)))
    scores = copula_scores(scenario, first_path, n_paths, STREAM_PARAMETER)
    return _levels_from_scores(scenario, scores, [line.parameter_uncertainty for line in scenario.lines])


def yearly_levels(scenario: Scenario, first_trial: int, n_trials: int) -> np.ndarray:
    """Each line's yearly level (the swing around the true level), shape ``(n_trials, n_lines)``:
    mean 1, a gamma with CV = uncertainty, or for a bernoulli line its beta probability over
    ``p`` (see the module notes)."""
    scores = copula_scores(scenario, first_trial, n_trials)
    return _levels_from_scores(scenario, scores, [line.uncertainty for line in scenario.lines])


def risk_levels(scenario: Scenario, first_trial: int, n_trials: int) -> np.ndarray:
    """Each line's frequency multiplier in trials ``first_trial ..``, shape ``(n_trials, n_lines)``:
    the yearly level times the true level of the trial's path (``trial mod YEAR_STRIDE``)."""
    levels = yearly_levels(scenario, first_trial, n_trials)
    if has_parameter_risk(scenario):
        first_path = first_trial % YEAR_STRIDE
        if first_path + n_trials > YEAR_STRIDE:
            raise ValueError(f"trials {first_trial} .. {first_trial + n_trials - 1} span two years of a path")
        levels *= parameter_levels(scenario, first_path, n_trials)
    return levels
