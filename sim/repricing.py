"""Repricing as experience accrues (``[pricing]``, multi-year runs): Bühlmann credibility.

At each renewal after the first, a line's premium rate (premium per unit of
sum insured) on a path is set from the experience the insurer has observed on
that path so far::

    experience rate = observed losses / observed sum insured / target_loss_ratio
    credibility rate = Z · experience rate + (1 − Z) · prior rate,   Z = n / (n + k)
    rate = the credibility rate, within max_rate_change of last year's rate

* The **prior rate** is the line's ``premium_rate`` as written, the rate of
  year 1.
* **n** counts the exposure observed, in policy-years (one policy insured for
  one year): every year the book was written on the path, its policies (grown
  by ``exposure_growth``). The losses and sums insured are of the same years.
  Whoever writes the scenario's book observes all of it: the pool observes its
  members' experience together; a single insurer (a pool of one member, as in
  ``scenarios/ai_cyber_single_insurer.toml``) observes only its own book, and a
  smaller book means a smaller n. Years after the pool has ended on a path
  (every member left) add nothing.
* **k** (``credibility_k``, policy-years) is given, or derived from the prior's
  uncertainty as Bühlmann's ``k = EPV / VHM`` for the loss per policy-year:

  - the hypothetical mean of a line's loss per policy-year on a path is
    ``a·θ + c``: ``θ`` the path's true level (mean 1, CV ``parameter_uncertainty``
    = p, :mod:`sim.copula`), ``a`` the expected attritional loss per
    policy-year at level 1, ``c`` the expected catastrophe loss per
    policy-year (catastrophes do not scale with the level);
  - VHM, the variance of the hypothetical means, is ``(a·p)²`` (for a
    bernoulli line, ``Var(θ)`` of its beta law, ``p²(1 − q)/(1 + q p²)``);
  - EPV, the expected process variance per policy-year, is the mean square
    of a year's line loss about its hypothetical mean, ``E[(S − n_1 (a θ + c))²] / n_1``
    (``n_1`` the year-1 policies): the claims' own randomness, the yearly swing
    (``uncertainty``) and catastrophes.
  ``a``, ``c`` and the EPV are estimated on the 10,000 fixed calibration trials
  of year 1 (:data:`sim.dynamics.CALIBRATION_TRIALS`), whose true levels are
  known. For Poisson claims of a fixed amount x, no swing and no catastrophe
  this is the Poisson–gamma ``k = m x² / (m x p)² = 1 / (p² m)`` (``m`` the
  frequency), whose credibility estimate is the exact posterior mean. A year of
  ``n_1`` policies then has ``Z = VHM·n_1² / Var(S)``, the share of the year's
  loss variance that the true level explains. With ``p = 0`` the rate is known:
  k is infinite and Z = 0 (the rate stays the prior, capped moves aside).
* The **true rate** of a path, which the rate tries to learn, is the
  experience rate's expectation on that path, ``(a θ + c) / (sum insured per
  policy) / target_loss_ratio``: the rate that would give the target loss
  ratio on average given the path's true level.

A line whose ``premium_rate`` is 0 is not repriced (a premium of 0 has no
rate to scale). What a changed rate changes in the year's money is in
:mod:`sim.dynamics_premium`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import subsidy
from .copula import parameter_levels
from .model import Scenario
from .occurrences import ATTRITIONAL, Exposure, LossChunk

WITHIN = 0.10        # pricing.csv: the share of paths whose rate is within 10% of the true rate


@dataclass(frozen=True)
class PricingBasis:
    """What repricing needs of a run, per line (``(n_lines,)``) and year (``(n_years, n_lines)``)."""

    prior_rate: np.ndarray            # (n_lines,) premium_rate as written
    credibility_k: np.ndarray         # (n_lines,) policy-years; inf: never revised
    target_loss_ratio: float
    max_rate_change: float            # inf: no cap
    policies: np.ndarray              # (n_years, n_lines) policies written each year
    sum_insured: np.ndarray           # (n_years, n_lines) their total sum insured
    attritional_rate: np.ndarray      # (n_lines,) expected attritional loss per unit sum insured, level 1
    catastrophe_rate: np.ndarray      # (n_lines,) expected catastrophe loss per unit sum insured

    @property
    def n_years(self) -> int:
        return self.policies.shape[0]


def line_exposure(exposure: Exposure) -> tuple[np.ndarray, np.ndarray]:
    """``(policies, sum insured)`` of each line of ``exposure``, each ``(n_lines,)``."""
    policies = np.diff(exposure.line_start).astype(np.float64)
    sum_insured = np.bincount(exposure.line, weights=exposure.sum_insured, minlength=exposure.n_lines)
    return policies, sum_insured


def split_line_loss(chunk: LossChunk, n_lines: int) -> tuple[np.ndarray, np.ndarray]:
    """Each trial's ``(attritional, catastrophe)`` loss by line, each ``(n_trials, n_lines)``."""
    occurrence_of_risk = np.repeat(np.arange(chunk.n_occurrences), np.diff(chunk.risk_offsets))
    trial_of_occurrence = np.repeat(np.arange(chunk.n_trials), np.diff(chunk.occ_offsets))
    cell = trial_of_occurrence[occurrence_of_risk] * n_lines + chunk.risk_line
    is_attritional = chunk.occ_event[occurrence_of_risk] == ATTRITIONAL
    size = chunk.n_trials * n_lines
    attritional = np.bincount(cell, weights=np.where(is_attritional, chunk.risk_loss, 0.0), minlength=size)
    catastrophe = np.bincount(cell, weights=np.where(is_attritional, 0.0, chunk.risk_loss), minlength=size)
    return attritional.reshape(chunk.n_trials, n_lines), catastrophe.reshape(chunk.n_trials, n_lines)


def true_level_variance(scenario: Scenario) -> np.ndarray:
    """(n_lines,) the variance of each line's true level: p² (gamma), or the beta law's for bernoulli."""
    variance = []
    for line in scenario.lines:
        p = line.parameter_uncertainty
        if line.frequency.kind == "bernoulli":
            q = line.frequency.p0
            variance.append(0.0 if q in (0.0, 1.0) else p * p * (1.0 - q) / (1.0 + q * p * p))
        else:
            variance.append(p * p)
    return np.array(variance)


def pricing_basis(scenario: Scenario, exposures: tuple[Exposure, ...], calibration: LossChunk) -> PricingBasis:
    """The :class:`PricingBasis` of a multi-year run with ``[pricing]``: ``exposures`` one per
    year, ``calibration`` the year-1 calibration trials (ids 0 .., so paths 0 ..)."""
    pricing = scenario.pricing
    n_lines = len(scenario.lines)
    by_year = [line_exposure(exposure) for exposure in exposures]
    policies = np.array([p for p, _ in by_year]).reshape(-1, n_lines)
    sum_insured = np.array([s for _, s in by_year]).reshape(-1, n_lines)
    attritional, catastrophe = split_line_loss(calibration, n_lines)
    levels = parameter_levels(scenario, calibration.first_trial, calibration.n_trials)
    first_policies, first_sum_insured = policies[0], sum_insured[0]
    safe_sum_insured = np.where(first_sum_insured > 0, first_sum_insured, 1.0)
    attritional_rate = attritional.sum(axis=0) / levels.sum(axis=0) / safe_sum_insured
    catastrophe_rate = catastrophe.mean(axis=0) / safe_sum_insured
    if pricing.credibility_k is not None:
        k = np.full(n_lines, float(pricing.credibility_k))
    else:
        hypothetical = (levels * attritional_rate + catastrophe_rate) * first_sum_insured
        process = np.mean((attritional + catastrophe - hypothetical) ** 2, axis=0) / first_policies
        per_policy = attritional_rate * first_sum_insured / first_policies     # a, per policy-year
        between = true_level_variance(scenario) * per_policy ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.where(between > 0.0, process / between, np.inf)
    return PricingBasis(
        prior_rate=np.array([line.premium_rate for line in scenario.lines], dtype=np.float64),
        credibility_k=k, target_loss_ratio=float(pricing.target_loss_ratio),
        max_rate_change=float(pricing.max_rate_change), policies=policies, sum_insured=sum_insured,
        attritional_rate=attritional_rate, catastrophe_rate=catastrophe_rate)


def credibility(basis: PricingBasis, observed_policies: np.ndarray) -> np.ndarray:
    """Bühlmann's Z = n / (n + k) for ``observed_policies`` n, ``(n_paths, n_lines)``."""
    with np.errstate(invalid="ignore"):
        z = observed_policies / (observed_policies + basis.credibility_k)
    return np.where(np.isfinite(basis.credibility_k), z, 0.0)


def rate_for_year(basis: PricingBasis, year: int, line_loss: np.ndarray, observed: np.ndarray,
                  previous_rate: np.ndarray) -> np.ndarray:
    """The premium rates of ``year`` (0-based), ``(n_paths, n_lines)``.

    Parameters
    ----------
    line_loss : (n_paths, >= year, n_lines) each year's loss of each line; years before ``year`` are read
    observed : (n_paths, >= year) bool, whether the book was written that year on the path
    previous_rate : (n_paths, n_lines) the rates of ``year - 1``
    """
    prior = np.broadcast_to(basis.prior_rate, previous_rate.shape)
    if year == 0:
        return prior.copy()
    seen = observed[:, :year, None]
    losses = np.where(seen, line_loss[:, :year], 0.0).sum(axis=1)
    policies = np.where(seen, basis.policies[None, :year], 0.0).sum(axis=1)
    sum_insured = np.where(seen, basis.sum_insured[None, :year], 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        experience = np.where(sum_insured > 0.0, losses / sum_insured / basis.target_loss_ratio, prior)
    z = credibility(basis, policies)
    rate = z * experience + (1.0 - z) * prior
    change = basis.max_rate_change
    if np.isfinite(change):
        rate = np.clip(rate, previous_rate * (1.0 - change), previous_rate * (1.0 + change))
    return np.where(prior > 0.0, rate, 0.0)


def credibility_rates(basis: PricingBasis, line_loss: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Every year's rates, ``(n_paths, n_years, n_lines)``, from the whole horizon's ``line_loss``
    ``(n_paths, n_years, n_lines)`` and ``observed`` ``(n_paths, n_years)``: the rates the run
    charged (:func:`rate_for_year`, year by year)."""
    n_paths, n_years, n_lines = line_loss.shape
    rates = np.empty((n_paths, n_years, n_lines))
    previous = np.broadcast_to(basis.prior_rate, (n_paths, n_lines))
    for year in range(n_years):
        rates[:, year] = previous = rate_for_year(basis, year, line_loss, observed, previous)
    return rates


def true_rates(basis: PricingBasis, levels: np.ndarray) -> np.ndarray:
    """Each path's true rate of each line, ``(n_paths, n_lines)``, for true ``levels`` ``(n_paths, n_lines)``."""
    return (levels * basis.attritional_rate + basis.catastrophe_rate) / basis.target_loss_ratio


PRICING_COLUMNS = ("line", "year", "prior_rate", "credibility_k", "mean_credibility", "mean_rate",
                   "rate_p05", "rate_p95", "mean_true_rate", "mean_abs_gap", "mean_relative_gap",
                   "share_within_10pct")


def pricing_table(scenario: Scenario, basis: PricingBasis, line_loss: np.ndarray,
                  observed: np.ndarray) -> pd.DataFrame:
    """``pricing.csv``: one row per line and year, over the run's paths (docs/results.md).

    ``line_loss`` ``(n_paths, n_years, n_lines)`` and ``observed`` ``(n_paths, n_years)``
    (the pool wrote business on the path that year) give back the rates the run charged.
    """
    n_paths, n_years, n_lines = line_loss.shape
    rates = credibility_rates(basis, line_loss, observed)
    truth = true_rates(basis, parameter_levels(scenario, 0, n_paths))          # (n_paths, n_lines)
    rows = []
    for j, line in enumerate(scenario.lines):
        for y in range(n_years):
            seen = np.where(observed[:, :y], basis.policies[None, :y, j], 0.0).sum(axis=1)
            rate = rates[:, y, j]
            gap = np.abs(rate - truth[:, j])
            with np.errstate(divide="ignore", invalid="ignore"):
                relative = np.where(truth[:, j] > 0.0, gap / truth[:, j], np.nan)
            rows.append({
                "line": line.name, "year": y + 1, "prior_rate": basis.prior_rate[j],
                "credibility_k": basis.credibility_k[j],
                "mean_credibility": float(credibility(basis, seen[:, None] * np.ones(n_lines))[:, j].mean()),
                "mean_rate": float(rate.mean()),
                "rate_p05": float(np.quantile(rate, 0.05)), "rate_p95": float(np.quantile(rate, 0.95)),
                "mean_true_rate": float(truth[:, j].mean()), "mean_abs_gap": float(gap.mean()),
                "mean_relative_gap": float(np.nanmean(relative)) if np.isfinite(relative).any() else np.nan,
                "share_within_10pct": float(np.mean(relative <= WITHIN)),
            })
    return pd.DataFrame(rows, columns=list(PRICING_COLUMNS))


def government_premium_by_year(scenario: Scenario, basis: PricingBasis, rates: np.ndarray,
                               share: np.ndarray) -> np.ndarray:
    """The mean premium the government pays each party each year, ``(n_years, n_parties)``.

    A line's subsidy is ``premium_subsidy`` of its premium at a rate of at most
    ``subsidy_rate_cap``, in its first ``subsidy_years``: on a path charged ``rate``,
    ``premium_subsidy × min(rate, cap) × sum insured``; each party pays its ``share``
    ``(n_paths, n_years, n_parties)`` of the pool's (the pool row: 1 while it writes).
    """
    n_paths, n_years, n_lines = rates.shape
    government = np.zeros((n_paths, n_years))
    for j, line in enumerate(scenario.lines):
        if line.premium_subsidy <= 0.0:
            continue
        for y in range(n_years):
            if line.subsidy_years is not None and y + 1 > line.subsidy_years:
                continue
            government[:, y] += (line.premium_subsidy * np.minimum(rates[:, y, j], line.subsidy_rate_cap)
                                 * basis.sum_insured[y, j])
    return (government[:, :, None] * share).mean(axis=0)


def attach_pricing(results, scenario: Scenario, basis: PricingBasis, line_loss: np.ndarray,
                   arrays: dict[str, np.ndarray]):
    """``results`` of a multi-year run with ``[pricing]``, with ``pricing.csv`` and the premium
    the government paid at the rates charged; ``line_loss`` ``(n_paths, n_years, n_lines)`` and
    ``arrays`` (the run's, with ``active`` and ``share``) give them back."""
    observed = arrays["active"][:, :, 0] > 0.0
    results.pricing = pricing_table(scenario, basis, line_loss, observed)
    if any(line.premium_subsidy > 0.0 for line in scenario.lines):
        rates = credibility_rates(basis, line_loss, observed)
        government = government_premium_by_year(scenario, basis, rates, arrays["share"])
        results.summary = subsidy.set_government_premium(results.summary, government, results.party_names)
    return results
