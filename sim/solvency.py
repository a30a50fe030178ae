"""Capital at the end of the year, minimum capital and the solvency ratio of every party.

Pure functions on arrays; :func:`assess` wires them to a scenario. Arrays are
float64 with the party layout of :mod:`sim.parties` (``(n_trials, n_parties)``)
unless a docstring says ``n_members``: then only the members' columns, in
member order. Capital classes are in the order of
:data:`sim.model.CAPITAL_CLASSES` (property, liability, special, other).

Capital at the end of the year
------------------------------
* member: capital_start + gross premium − ceded premium − reinstatement premium
  + commission − expenses + lead fee − net loss (the lead fee is negative for
  followers);
* reinsurer with finite capital: capital + premium received − commission paid
  − losses paid; NaN where its capital is unlimited;
* pool: the sum over members (so is its capital at the start).

Minimum capital, regime ``c-ross`` (docs/calibration.md, C-ROSS II)
-------------------------------------------------------------------
Per member and trial:

1. Premium risk per capital class: retained premium of the class
   (line gross premium − line proportional ceded premium, summed over the
   lines of the class) × RF0 × (1 + K), K clipped to [−0.25, 0.25], where
   K = combined-ratio term (the member's combined ratio *in that trial*,
   see :func:`sim.metrics.combined_ratio`; one ratio for all classes because
   the member's net loss is not split by line) + non-proportional cession term
   of the class (the member's XL and stop-loss premium spent on the class over
   the class's retained premium: a treaty's premium is spread over the lines
   it covers pro rata to their subject premium).
   A trial with no positive net premium takes the worst combined-ratio term.
2. Reserve risk: net outstanding claims × RF0 reserve, no K (the K terms
   published in the rules are for premium risk). Zero in one-year runs.
3. Premium with reserve within a class (correlation 0.5), then across classes
   with :data:`sim.regulation.CLASS_CORRELATION`.
4. Catastrophe risk: see :func:`catastrophe_risk`.
5. Non-life = √(PR² + 0.5·PR·Cat + Cat²); credit = the member's
   ``credit_exposure`` (recoverables already weighted by their credit factors);
   market = 0; company = √(v M vᵀ) with v = (non-life, market, credit).
6. × TECHNOLOGY_FACTOR (0.9), + ``other_minimum_capital`` (the member's
   business outside the pool, not technology business of the pool).

Minimum capital, regime ``var`` (Solvency II style)
---------------------------------------------------
The member's 99.5% VaR over trials of the loss of its net result,
−(capital_end − capital_start), floored at :data:`MINIMUM_CAPITAL_FLOOR`, plus
``other_minimum_capital``. One figure per member, the same in every trial. A
member with a share of 0 holds no risk of the pool: its pool part is 0, not the
floor, so without ``other_minimum_capital`` it has no ratio (as under C-ROSS).

Ratios
------
Comprehensive solvency ratio = capital_end / minimum capital. The pool's ratio
is Σ members' capital_end / Σ members' minimum capital in the trial: the ratio
of the members taken together, with no diversification credit between them
(each member is supervised on its own). Reinsurers: NaN.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import regulation
from .metrics import (VAR_LEVEL, combined_ratio, empirical_quantiles, net_premium,
                      order_statistic_index, party_net_result, safe_divide, trial_order_mean)
from .model import CAPITAL_CLASSES, Scenario
from .parties import Parties

# Half-width of the window of trials (as a share of all trials, on each side of
# the VaR's rank) whose cat XL recoveries are averaged for the catastrophe risk.
CAT_WINDOW = 0.001
# A member that cannot lose money at the 99.5% level still needs a denominator:
# one unit of currency, negligible beside any real capital.
MINIMUM_CAPITAL_FLOOR = 1.0

# Trials per block of assess's trial-by-trial C-ROSS arithmetic (bounds its temporaries).
ASSESS_BLOCK_TRIALS = 65_536

# Upper bounds (inclusive) of the combined-ratio bands and the K term of each band,
# the last band being "above 105%". Terms come from the published scalar rule.
COMBINED_RATIO_BOUNDS = (0.95, 1.00, 1.05)
COMBINED_RATIO_TERMS = tuple(regulation.combined_ratio_adjustment(bound) for bound in COMBINED_RATIO_BOUNDS) \
    + (regulation.combined_ratio_adjustment(np.inf),)
# Non-proportional cession bands: [2.5%, 5%) and >= 5% of retained premium.
NONPROPORTIONAL_BOUNDS = (0.025, 0.05)


@dataclass(frozen=True)
class SolvencyOutcome:
    """Capital and solvency of every party. Arrays ``(n_trials, n_parties)`` unless noted."""

    capital_start: np.ndarray      # (n_parties,) pool = Σ members, inf where unlimited
    net_result: np.ndarray         # result of the year; capital_end − capital_start where finite
    capital_end: np.ndarray        # NaN where capital is unlimited
    minimum_capital: np.ndarray    # NaN for reinsurers; pool = Σ members
    solvency_ratio: np.ndarray     # NaN for reinsurers; pool = Σ capital_end / Σ minimum capital


@dataclass(frozen=True)
class MinimumCapitalParts:
    """C-ROSS minimum capital of each member and its parts, ``(n_trials, n_members)``."""

    premium_reserve: np.ndarray    # premium and reserve risk, classes aggregated
    catastrophe: np.ndarray        # (n_members,) the same in every trial
    non_life: np.ndarray
    credit: np.ndarray
    company: np.ndarray            # before the technology factor
    total: np.ndarray              # company × 0.9 + other minimum capital


# --------------------------------------------------------------------------- capital
def party_capital_start(parties: Parties) -> np.ndarray:
    """Capital at the start, ``(n_parties,)``: the pool's is the members' sum."""
    capital = np.asarray(parties.capital_start, dtype=np.float64).copy()
    members = parties.indices("member")
    capital[parties.indices("pool")] = capital[members].sum()
    return capital


def capital_end(capital_start: np.ndarray, net_result: np.ndarray) -> np.ndarray:
    """``capital_start + net_result``, NaN where the capital is unlimited.

    Parameters
    ----------
    capital_start : (n_parties,)
    net_result : (n_trials, n_parties)
    """
    capital_start = np.asarray(capital_start, dtype=np.float64)
    finite = np.isfinite(capital_start)
    # In place: one (n_trials, n_parties) array, not a sum and then a selection of it.
    end = np.add(np.where(finite, capital_start, 0.0), net_result)
    end[..., ~finite] = np.nan
    return end


# --------------------------------------------------------------------------- C-ROSS pieces
def class_matrix(line_classes) -> np.ndarray:
    """One-hot ``(n_lines, n_classes)`` matrix mapping lines to capital classes."""
    matrix = np.zeros((len(line_classes), len(CAPITAL_CLASSES)))
    for line, name in enumerate(line_classes):
        matrix[line, CAPITAL_CLASSES.index(name)] = 1.0
    return matrix


def class_correlation_matrix() -> np.ndarray:
    """``(n_classes, n_classes)`` correlation of premium-and-reserve risk across classes."""
    n = len(CAPITAL_CLASSES)
    matrix = np.eye(n)
    for i, a in enumerate(CAPITAL_CLASSES):
        for j, b in enumerate(CAPITAL_CLASSES):
            if i != j:
                matrix[i, j] = regulation.CLASS_CORRELATION.get(frozenset((a, b)), 0.0)
    return matrix


def retained_premium_by_class(line_gross_premium: np.ndarray, line_proportional_ceded_premium: np.ndarray,
                              line_classes) -> np.ndarray:
    """Retained premium per capital class.

    Parameters
    ----------
    line_gross_premium, line_proportional_ceded_premium : (n_members, n_lines)
    line_classes : (n_lines,) capital class names

    Returns
    -------
    (n_members, n_classes)
    """
    retained = np.asarray(line_gross_premium) - np.asarray(line_proportional_ceded_premium)
    return retained @ class_matrix(line_classes)


def combined_ratio_band(combined: np.ndarray) -> np.ndarray:
    """Band index 0..3 of :data:`COMBINED_RATIO_TERMS`; NaN falls in the worst band."""
    band = np.searchsorted(np.asarray(COMBINED_RATIO_BOUNDS), combined, side="left")
    return np.where(np.isnan(combined), len(COMBINED_RATIO_BOUNDS), band)


def combined_ratio_term(combined: np.ndarray) -> np.ndarray:
    """Vectorised :func:`sim.regulation.combined_ratio_adjustment`; any shape."""
    return np.asarray(COMBINED_RATIO_TERMS)[combined_ratio_band(np.asarray(combined, dtype=np.float64))]


def nonproportional_term(nonproportional_by_class: np.ndarray, retained_by_class: np.ndarray) -> np.ndarray:
    """K term for non-proportional cession, per member and capital class.

    Each class takes its own ratio, the XL and stop-loss premium paid for the
    class over the class's retained premium: a cat XL bought on property lines
    relieves property, not liability.

    Parameters
    ----------
    nonproportional_by_class : (n_members, n_classes) XL and stop-loss premiums paid, by class
        (a treaty's premium spread over the lines it covers pro rata to their subject premium)
    retained_by_class : (n_members, n_classes) retained premium

    Returns
    -------
    (n_members, n_classes); 0 where the class's retained premium is not positive.
    """
    retained = np.asarray(retained_by_class, dtype=np.float64)
    ratio = safe_divide(nonproportional_by_class, np.where(retained > 0, retained, 0.0))
    band = np.searchsorted(np.asarray(NONPROPORTIONAL_BOUNDS), np.nan_to_num(ratio, nan=0.0), side="right")
    table = np.array([[0.0, *regulation.NON_PROPORTIONAL_ADJUSTMENT[name]] for name in CAPITAL_CLASSES])
    return table[np.arange(len(CAPITAL_CLASSES))[None, :], band]     # class c of member m: table[c, band[m, c]]


def premium_reserve_risk_by_band(retained_by_class: np.ndarray, nonproportional: np.ndarray,
                                 outstanding_reserves: np.ndarray | None = None) -> np.ndarray:
    """Premium-and-reserve risk of each member for each combined-ratio band.

    The combined-ratio term is the only part of K that changes from trial to
    trial and it takes four values, so the risk is computed once per band and
    looked up per trial (no ``(n_trials, n_members, n_classes)`` array).

    Parameters
    ----------
    retained_by_class : (n_members, n_classes), or (n_trials, n_members, n_classes)
        when the premium differs by trial (multi-year runs that reprice)
    nonproportional : (n_members, n_classes) non-proportional K term, or with a trial axis
    outstanding_reserves : (n_members, n_classes) net outstanding claims, default 0, or
        (n_trials, n_members, n_classes) (multi-year runs: each path's own)

    Returns
    -------
    (n_bands, n_members), or (n_bands, n_trials, n_members) when any input has a trial axis
    """
    premium_factor = np.array([regulation.RF0[name][0] for name in CAPITAL_CLASSES])
    reserve_factor = np.array([regulation.RF0[name][1] for name in CAPITAL_CLASSES])
    reserve = (np.zeros_like(retained_by_class) if outstanding_reserves is None
               else np.asarray(outstanding_reserves, dtype=np.float64)) * reserve_factor
    correlation = class_correlation_matrix()
    rho = regulation.PREMIUM_RESERVE_CORRELATION
    by_band = []
    for term in COMBINED_RATIO_TERMS:
        k = np.clip(term + nonproportional, *regulation.K_BOUNDS)
        premium = retained_by_class * premium_factor * (1.0 + k)
        per_class = np.sqrt(premium**2 + 2.0 * rho * premium * reserve + reserve**2)
        by_band.append(np.sqrt(np.einsum("...i,ij,...j->...", per_class, correlation, per_class)))
    return np.stack(by_band)


def catastrophe_risk(cat_loss: np.ndarray, cat_recovery: np.ndarray, level: float = VAR_LEVEL,
                     window: float = CAT_WINDOW, n_members: int | None = None) -> np.ndarray:
    """C-ROSS catastrophe risk: VaR of the cat loss less the cat XL recovery at that loss.

    Estimator: VaR is the empirical ``level`` quantile (``inverted_cdf``) of the
    catastrophe loss after proportional cover. The recovery "at that loss" is
    the mean cat XL recovery of the trials whose cat loss ranks within
    ``round(window · n_trials)`` places of the VaR's rank (ties broken arbitrarily) (the VaR's own trial
    alone for small runs); with the default 0.1% that is the trials between
    about the 99.4% and 99.6% quantiles. The result is floored at 0.

    Parameters
    ----------
    cat_loss, cat_recovery : (n_trials, n_members)
    n_members : how many members the pool has, when these are only some of them: the mean
        recovery is then summed as it is beside the others (NumPy sums a lone column
        pairwise, a column of several in trial order: :mod:`sim.estimators`)

    Returns
    -------
    (n_members,)
    """
    cat_loss = np.asarray(cat_loss, dtype=np.float64)
    cat_recovery = np.asarray(cat_recovery, dtype=np.float64)
    n_trials = cat_loss.shape[0]
    rank = int(order_statistic_index(n_trials, level))     # the VaR's rank, as in np.quantile
    half_width = int(round(window * n_trials))
    low, high = max(rank - half_width, 0), min(rank + half_width, n_trials - 1)
    # After partitioning at `low` and `high`, positions low..high hold exactly the trials
    # ranked low..high (and position `rank` the VaR): no full sort needed.
    order = np.argpartition(cat_loss, sorted({low, rank, high}), axis=0)
    var = np.take_along_axis(cat_loss, order[rank:rank + 1], axis=0)[0]
    near = np.take_along_axis(cat_recovery, order[low:high + 1], axis=0)
    recovery = near.mean(axis=0) if (n_members or cat_loss.shape[1]) == 1 else trial_order_mean(near)
    return np.maximum(var - recovery, 0.0)


def non_life_risk(premium_reserve: np.ndarray, catastrophe: np.ndarray) -> np.ndarray:
    """√(PR² + 2ρ·PR·Cat + Cat²), ρ = 0.25; any broadcastable shapes."""
    rho = regulation.PREMIUM_RESERVE_CAT_CORRELATION
    return np.sqrt(premium_reserve**2 + 2.0 * rho * premium_reserve * catastrophe + catastrophe**2)


def company_risk(non_life: np.ndarray, market: np.ndarray | float, credit: np.ndarray) -> np.ndarray:
    """√(v M vᵀ) with v = (non-life, market, credit); any broadcastable shapes."""
    return np.sqrt(non_life**2 + market**2 + credit**2
                   + 2.0 * regulation.NON_LIFE_MARKET * non_life * market
                   + 2.0 * regulation.NON_LIFE_CREDIT * non_life * credit
                   + 2.0 * regulation.MARKET_CREDIT * market * credit)


def cross_minimum_capital(retained_by_class: np.ndarray, nonproportional_by_class: np.ndarray,
                          combined: np.ndarray, cat_loss: np.ndarray, cat_recovery: np.ndarray,
                          credit_exposure: np.ndarray, other_minimum_capital: np.ndarray,
                          outstanding_reserves: np.ndarray | None = None,
                          market_risk: float = 0.0,
                          catastrophe: np.ndarray | None = None) -> MinimumCapitalParts:
    """C-ROSS II minimum capital of each member in each trial.

    Parameters
    ----------
    retained_by_class : (n_members, n_classes), or (n_trials, n_members, n_classes)
    nonproportional_by_class : (n_members, n_classes) XL and stop-loss premiums paid, by class,
        or (n_trials, n_members, n_classes)
    combined : (n_trials, n_members) the member's combined ratio in each trial
    cat_loss, cat_recovery : (n_trials, n_members) catastrophe loss after
        proportional cover, and cat XL recoveries
    credit_exposure : (n_trials, n_members) recoverables × credit factor
    other_minimum_capital : (n_members,)
    outstanding_reserves : (n_members, n_classes), or (n_trials, n_members, n_classes),
        optional (multi-year runs: each path's net outstanding claims)
    market_risk : market-risk minimum capital (0: the pool holds no assets here)
    catastrophe : (n_members,), optional
        :func:`catastrophe_risk` of the whole run, when these are only some of its
        trials (``cat_loss`` and ``cat_recovery`` are then not used)
    """
    retained_by_class = np.asarray(retained_by_class, dtype=np.float64)
    nonproportional = nonproportional_term(nonproportional_by_class, retained_by_class)
    by_band = premium_reserve_risk_by_band(retained_by_class, nonproportional, outstanding_reserves)
    band = combined_ratio_band(np.asarray(combined, dtype=np.float64))
    if by_band.ndim == 3:       # a trial axis: each trial's own risk in its band
        premium_reserve = np.take_along_axis(by_band, band[None], axis=0)[0]
    else:
        premium_reserve = np.take_along_axis(by_band, band, axis=0)
    if catastrophe is None:
        catastrophe = catastrophe_risk(cat_loss, cat_recovery)
    non_life = non_life_risk(premium_reserve, catastrophe)
    credit = np.asarray(credit_exposure, dtype=np.float64)
    company = company_risk(non_life, market_risk, credit)
    total = company * regulation.TECHNOLOGY_FACTOR + np.asarray(other_minimum_capital, dtype=np.float64)
    return MinimumCapitalParts(premium_reserve, catastrophe, non_life, credit, company, total)


def var_minimum_capital(net_result: np.ndarray, other_minimum_capital: np.ndarray,
                        level: float = VAR_LEVEL, holds_risk: np.ndarray | None = None) -> np.ndarray:
    """Solvency II style minimum capital: VaR of −net result, floored, + other minimum capital.

    The floor (:data:`MINIMUM_CAPITAL_FLOOR`) is for a member that holds risk but
    cannot lose money at ``level``. A member that holds none (a share of 0) needs
    no capital for the pool: 0, not the floor, which made its ratio its capital
    over one unit of currency (200,000,000% for a capital of 2m).

    Parameters
    ----------
    net_result : (n_trials, n_members)
    other_minimum_capital : (n_members,)
    holds_risk : (n_members,) bool, optional; default: a net result other than 0 in some trial

    Returns
    -------
    (n_members,)
    """
    net_result = np.asarray(net_result, dtype=np.float64)
    var = empirical_quantiles(-net_result, level)
    if holds_risk is None:
        holds_risk = np.any(net_result != 0.0, axis=0)
    pool_part = np.where(np.asarray(holds_risk, dtype=bool), np.maximum(var, MINIMUM_CAPITAL_FLOOR), 0.0)
    return pool_part + np.asarray(other_minimum_capital, dtype=np.float64)


def solvency_ratio(capital: np.ndarray, minimum_capital: np.ndarray) -> np.ndarray:
    """capital / minimum capital; NaN (not applicable) where the minimum capital is 0.

    A member that holds no risk (a share of 0, or an exited member whose claims
    are all paid, without ``other_minimum_capital``) has no minimum capital, and
    no ratio: an infinite one would make every mean over the trials infinite.
    The summary's means and probabilities leave such trials out.
    """
    capital = np.asarray(capital, dtype=np.float64)
    minimum_capital = np.asarray(minimum_capital, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(minimum_capital > 0.0, capital / minimum_capital, np.nan)


def going_concern_ratio(solvency_ratio: np.ndarray, active: np.ndarray) -> np.ndarray:
    """The solvency ratio where the party writes business (``active``), NaN in its run-off.

    A member that has left the pool (or a pool whose members have all left) keeps
    only a run-off: its minimum capital is reserve risk on what is still to be
    paid, which shrinks towards zero while its capital stays, so its ratio grows
    without bound (28,091% five years on) and says nothing of the member as a
    going concern. Multi-year statistics, tables and plots of the ratio leave
    those path-years out; ``trials.parquet`` keeps them, with ``active`` = 0.

    Parameters
    ----------
    solvency_ratio : (n_trials, n_years, n_parties) or any shape
    active : the same shape; > 0 where the party writes business that year
    """
    return np.where(np.asarray(active) > 0, np.asarray(solvency_ratio, dtype=np.float64), np.nan)


def lowest_ratio(solvency_ratio: np.ndarray) -> np.ndarray:
    """Each path's lowest year-end ratio over its years with a ratio, NaN where it has none.

    Parameters
    ----------
    solvency_ratio : (n_trials, n_years, ...) with NaN where not applicable
        (e.g. :func:`going_concern_ratio`)

    Returns
    -------
    (n_trials, ...)
    """
    ratio = np.asarray(solvency_ratio, dtype=np.float64)
    missing = np.isnan(ratio)
    lowest = np.where(missing, np.inf, ratio).min(axis=1)
    return np.where(missing.all(axis=1), np.nan, lowest)


# --------------------------------------------------------------------------- wiring
def assess(scenario: Scenario, parties: Parties, arrays: dict[str, np.ndarray],
           outstanding_reserves: np.ndarray | None = None) -> SolvencyOutcome:
    """Capital, minimum capital and solvency ratio of every party in every trial.

    Parameters
    ----------
    scenario : the run's scenario (regime, line capital classes, other minimum capital)
    parties : Parties
    arrays : dict of (n_trials, n_parties), every key of ``PARTY_COLUMNS``
    outstanding_reserves : (n_members, n_classes) net outstanding claims, optional
    """
    member_columns = parties.columns("member")     # views: ten copies were 0.4 GB at 1,000,000 trials
    member_arrays = {key: arrays[key][:, member_columns] for key in (
        "net_loss", "expenses", "commission", "lead_fee", "gross_premium", "ceded_premium",
        "reinstatement_premium", "cat_loss_after_proportional", "cat_xl_recovery", "credit_exposure")}

    def combined_of(rows: slice) -> np.ndarray:
        block = {key: values[rows] for key, values in member_arrays.items()}
        member_net_premium = net_premium(block["gross_premium"], block["ceded_premium"],
                                         block["reinstatement_premium"])
        combined = combined_ratio(block["net_loss"], block["expenses"], block["commission"],
                                  block["lead_fee"], member_net_premium)
        # A trial with no positive net premium has no meaningful combined ratio: worst band.
        return np.where(member_net_premium > 0.0, combined, np.nan)

    return outcome(scenario, parties, party_net_result(parties, arrays), combined_of,
                   member_arrays["cat_loss_after_proportional"], member_arrays["cat_xl_recovery"],
                   member_arrays["credit_exposure"], outstanding_reserves)


def members_run_wide_capital(scenario: Scenario, parties: Parties,
                             member_column: Callable[[str, int], np.ndarray]) -> np.ndarray:
    """The part of each member's minimum capital that needs every trial of the run, ``(n_members,)``:
    its C-ROSS catastrophe risk (:func:`catastrophe_risk`), or under the ``var`` regime its whole
    minimum capital (:func:`var_minimum_capital`).

    ``member_column(name, i)`` gives member ``i``'s ``(n_trials,)`` column of ``net_result``,
    ``cat_loss_after_proportional`` or ``cat_xl_recovery``: a member at a time, the figures
    those of the members' whole arrays (:mod:`sim.estimators` sums in trial order).
    """
    members = parties.indices("member")
    if scenario.solvency.regime == "var":
        other = _other_minimum_capital(scenario, parties)
        holds_risk = np.asarray(parties.share, dtype=np.float64)[members] > 0.0
        return np.array([var_minimum_capital(member_column("net_result", i)[:, None], other[i:i + 1],
                                             holds_risk=holds_risk[i:i + 1])[0] for i in range(len(members))])
    return np.array([catastrophe_risk(member_column("cat_loss_after_proportional", i)[:, None],
                                      member_column("cat_xl_recovery", i)[:, None], n_members=len(members))[0]
                     for i in range(len(members))])


def minimum_capital_rows(scenario: Scenario, parties: Parties, run_wide: np.ndarray, combined: np.ndarray,
                         cat_loss: np.ndarray, cat_recovery: np.ndarray, credit_exposure: np.ndarray,
                         outstanding_reserves: np.ndarray | None = None) -> np.ndarray:
    """Every party's minimum capital in some trials, ``(n_rows, n_parties)``: NaN for reinsurers,
    the pool's the members' sum.

    ``run_wide`` is :func:`members_run_wide_capital`; ``combined`` the members' combined ratios
    in these trials (NaN for the worst band, or any value in the same band), ``cat_loss``,
    ``cat_recovery`` and ``credit_exposure`` their catastrophe and credit columns, each
    ``(n_rows, n_members)`` (not used under the ``var`` regime).
    """
    members, pool = parties.indices("member"), parties.indices("pool")
    n_rows = len(combined)
    minimum = np.full((n_rows, parties.n_parties), np.nan)
    if scenario.solvency.regime == "var":
        minimum[:, members] = np.broadcast_to(run_wide, (n_rows, len(members)))
    else:
        line_classes = [line.capital_class for line in scenario.lines]
        retained = retained_premium_by_class(parties.line_gross_premium[members],
                                             parties.line_proportional_ceded_premium[members], line_classes)
        nonproportional_premium = parties.line_nonproportional_premium[members] @ class_matrix(line_classes)
        minimum[:, members] = cross_minimum_capital(
            retained, nonproportional_premium, combined, cat_loss, cat_recovery, credit_exposure,
            _other_minimum_capital(scenario, parties), outstanding_reserves, catastrophe=run_wide).total
    minimum[:, pool] = minimum[:, members].sum(axis=1, keepdims=True)
    return minimum


def ratio_rows(parties: Parties, capital: np.ndarray, minimum: np.ndarray) -> np.ndarray:
    """Every party's solvency ratio, ``(n_rows, n_parties)``, from its capital at the end and its
    minimum capital: NaN for reinsurers."""
    ratio = np.full_like(capital, np.nan)
    # A party's column at a time: the same elementwise figures, without copies of the
    # members' columns and their temporaries (several hundred MB at 10,000,000 trials).
    for party in list(parties.indices("member")) + list(parties.indices("pool")):
        ratio[:, party] = solvency_ratio(capital[:, party], minimum[:, party])
    return ratio


def outcome(scenario: Scenario, parties: Parties, result: np.ndarray, combined_of,
            cat_loss_after_proportional: np.ndarray, cat_xl_recovery: np.ndarray, credit_exposure: np.ndarray,
            outstanding_reserves: np.ndarray | None = None) -> SolvencyOutcome:
    """:class:`SolvencyOutcome` of the net results ``result`` (n_trials, n_parties).

    Under C-ROSS the members' minimum capital takes ``combined_of(rows)``, the members'
    combined ratios of the trials ``rows`` (a slice; (n_rows, n_members), NaN for the worst
    band, or any value in the same band), and the members' catastrophe and credit columns,
    each (n_trials, n_members). It runs on blocks of trials: only the catastrophe risk needs
    every trial at once, and the blocks' dozen temporaries were 0.6 GB at 1,000,000 trials.
    """
    members = parties.indices("member")
    by_name = {"net_result": result[:, members], "cat_loss_after_proportional": cat_loss_after_proportional,
               "cat_xl_recovery": cat_xl_recovery}
    run_wide = members_run_wide_capital(scenario, parties, lambda name, i: by_name[name][:, i])
    start = party_capital_start(parties)
    end = capital_end(start, result)
    minimum = np.empty_like(result)
    for first in range(0, result.shape[0], ASSESS_BLOCK_TRIALS):
        rows = slice(first, first + ASSESS_BLOCK_TRIALS)
        minimum[rows] = minimum_capital_rows(scenario, parties, run_wide, combined_of(rows),
                                             cat_loss_after_proportional[rows], cat_xl_recovery[rows],
                                             credit_exposure[rows], outstanding_reserves)
    return SolvencyOutcome(start, result, end, minimum, ratio_rows(parties, end, minimum))


def _other_minimum_capital(scenario: Scenario, parties: Parties) -> np.ndarray:
    """Each member's ``other_minimum_capital``, ``(n_members,)``."""
    by_name = {member.name: member for member in scenario.pool.members}
    return np.array([by_name[parties.names[i]].other_minimum_capital for i in parties.indices("member")],
                    dtype=np.float64)
