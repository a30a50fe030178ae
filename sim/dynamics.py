"""Multi-year dynamics (``years > 1``): a simpy calendar that carries every path from year to year.

One :class:`simpy.Environment` per chunk of paths; its clock counts quarters,
and the calendar's events (renewal, quarter ends, payment dates, recovery
dates, a reinsurer's default, year ends) are simpy events, ordered by time and
then by their kind (:mod:`sim.dynamics_calendar`). Every step acts on arrays of
all the chunk's paths at once (numpy; the heavy work is the numba engine and
allocator), never on one path at a time (:mod:`sim.dynamics_paths`)::

    renewal       (start of each year)  exits take effect, shares re-allocated, exposure grown,
                                        premium rates set ([pricing]: sim.repricing,
                                        sim.dynamics_premium); the year's occurrences (sim.engine) and their split
                                        (sim.pool.allocate_chunk, one call per set of active
                                        members); reinsurer defaults found
    default       (at that renewal)     a new default hits the earlier years' receivables
    quarter end   (each quarter)        premium earned, losses incurred on their days
    payment date  (each quarter)        claim payments due (payment_pattern); a ruined
                                        member pays only what its assets allow
    recovery date (each quarter)        recoveries received (recovery_delay_days after each payment)
    year end      (after the 4th)       the solvency ratio and the exits for the next renewal

Streams: year ``y`` of path ``i`` uses trial id ``i + (y - 1) * YEAR_STRIDE``
for every random draw, so year 1 is exactly the one-year engine and every
(path, year) has streams of its own; the path's true risk levels (parameter
risk, :mod:`sim.copula`) are keyed by ``i`` alone, the same in every year.

Accounting (every amount per path and member, full undiscounted reserving)
--------------------------------------------------------------------------
* The year's incurred figures are the one-year allocator's, per year: a
  loss hits capital when it occurs (the quarter of its occurrence day);
  premium, commission, expenses and the lead fee are earned evenly by quarter.
  Reinstatement premiums are due with the losses that trigger them.
* Timing within a year follows the pool's gross loss by occurrence day: the
  share of the year's gross loss in quarter ``q`` gives the share of every
  member's gross loss, ceded loss and reinstatement premium in ``q``. This is
  exact for proportional cover; for XL and stop loss it places the recovery
  with the year's losses rather than with the layer's own (documented
  approximation).
* Claims: ``payment_pattern[k]`` of a loss is paid on its occurrence day ``k``
  years later. Recoveries: each claim payment's recovery is received
  ``recovery_delay_days`` after it. Until then it is receivable.
* Reinsurers: capital is carried from year to year (premium received −
  commission − losses due); owing more than its capital in a year, or the
  yearly default draw, is a default, and a reinsurer that defaulted stays in
  default. A default in year ``y`` costs its cedants ``1 − recovery_rate``
  of that year's recoveries (as in one-year runs) and of every recovery of
  earlier years not received by the start of year ``y``; that late loss is in
  year ``y``'s ``default_loss`` of the member and the reinsurer (and out of
  the reinsurer's ``net_loss``), so per year still
  pool gross = Σ members' net + Σ reinsurers' net.
* A member whose capital is below zero when claims fall due pays the share
  ``(capital + outstanding) / outstanding`` of them (a liquidator's dividend),
  where ``outstanding`` is its gross claims incurred to date (occurred by the
  end of the quarter, as in capital) less those paid: an accident year's
  claims become outstanding quarter by quarter as they occur, not at renewal.
  The dividend falls as new losses occur and is constant through the run-off;
  the rest is ``member_default_loss``, borne by the policyholders, and, being
  a liability written off, it raises capital back towards zero. At a year end
  every quarter of the accident year is incurred, so ``outstanding_loss`` is
  the year's gross less what was paid. ``net_loss`` stays the documented
  incurred figure; ``capital_end`` = capital_start + net result +
  member_default_loss.
* Over the horizon, per path: Σ pool gross = Σ members' (``paid_loss`` +
  ``member_default_loss``) + members' net outstanding at the end
  (``outstanding_loss`` − ``recoverable``) + Σ reinsurers' ``paid_loss`` +
  reinsurers' ``outstanding_loss`` at the end.
* Solvency (year end): C-ROSS (:func:`sim.solvency.cross_minimum_capital`,
  through :mod:`sim.dynamics_capital`) with reserve risk on the member's net
  outstanding claims (split by capital class like the pool's gross premium),
  credit risk on its recoverables at the year end;
  catastrophe risk (and, regime ``var``, the whole minimum capital) is
  calibrated per year on :data:`CALIBRATION_TRIALS` fixed trials of the full
  pool, per unit of share, and scaled by each path's share: a cross-path
  statistic that must not depend on the chunking.
* Exits: when ``exit_below_solvency > 0``, a member whose ratio ends a year
  below it leaves at the next renewal, for good; its share goes ``pro_rata``
  to the members left, or to the ``lead`` (pro rata if the lead itself has
  left; then no lead fee is paid). A path with no member left ends: no new
  business, only the run-off of what was written. Exited members keep their
  run-off (claims, recoveries, capital) in the results; their run-off
  solvency ratios stay in ``trials.parquet`` (``active`` = 0) but are left out
  of the summary's ratio figures and the plots (:func:`sim.results.build_multi_year_results`).
"""
from __future__ import annotations


import numpy as np

from . import solvency
from .dynamics_calendar import run_calendar
from .dynamics_membership import pattern_scenario, pattern_shares
from .dynamics_paths import DYNAMIC_COLUMNS, DynamicsPrepared, Paths
from .dynamics_timing import DAYS_IN_QUARTER, QUARTERS, quarter_profiles
from .engine import LossModel, expected_risk_losses
from .engine import simulate_chunk as simulate_losses
from .exposure import build_exposure
from .kernels.rng import YEAR_STRIDE
from .metrics import empirical_quantiles, party_net_result
from .model import Scenario
from .occurrences import Exposure
from .pool import allocate_chunk, parties as build_parties
from .repricing import pricing_basis

__all__ = ["CALIBRATION_TRIALS", "DAYS_IN_QUARTER", "DYNAMIC_COLUMNS", "DynamicsPrepared", "QUARTERS",
           "YEAR_STRIDE", "expected_risk_losses_per_path_year", "grown_exposure", "pattern_scenario",
           "pattern_shares", "prepare_dynamics", "quarter_profiles", "simulate_paths"]

CALIBRATION_TRIALS = 10_000      # fixed trials per year for the cross-path parts of minimum capital


# --------------------------------------------------------------------------- preparation
def grown_exposure(scenario: Scenario, year: int) -> Exposure:
    """The policies of ``year`` (1-based): each line's count times (1 + growth)^(year − 1)."""
    growth = (1.0 + scenario.dynamics.exposure_growth) ** (year - 1)
    return build_exposure(scenario, policy_scale=np.full(len(scenario.lines), growth))


def prepare_dynamics(scenario: Scenario, progress: bool = False) -> DynamicsPrepared:
    """The grown exposures, year-1 parties and the per-year calibration (``progress``: a bar
    for the calibration, which takes a few seconds whatever the number of paths); with
    ``[pricing]``, the repricing basis from year 1's calibration trials (:func:`sim.repricing.pricing_basis`)."""
    from tqdm import tqdm

    years = scenario.simulation.years
    model = LossModel.from_scenario(scenario)
    exposures = tuple(grown_exposure(scenario, year) for year in range(1, years + 1))
    parties = build_parties(scenario, exposures[0])
    members = parties.indices("member")
    shares = np.array([m.share for m in scenario.pool.members], dtype=np.float64)
    per_share = np.zeros((years, len(members)))
    calibration = tqdm(list(enumerate(exposures, start=1)), unit="year", delay=2.0, leave=False,
                       disable=not progress,
                       desc=f"calibrating minimum capital ({CALIBRATION_TRIALS:,} trials a year)")
    for year, exposure in calibration:
        year_parties = build_parties(scenario, exposure)
        losses = simulate_losses(scenario, model, exposure, (year - 1) * YEAR_STRIDE, CALIBRATION_TRIALS)
        arrays = allocate_chunk(scenario, exposure, year_parties, losses, scenario.simulation.seed)
        if scenario.solvency.regime == "var":
            result = party_net_result(year_parties, arrays)[:, members]
            figure = empirical_quantiles(-result, solvency.VAR_LEVEL)
        else:
            figure = solvency.catastrophe_risk(arrays["cat_loss_after_proportional"][:, members],
                                               arrays["cat_xl_recovery"][:, members])
        per_share[year - 1] = np.where(shares > 0, figure / np.where(shares > 0, shares, 1.0), 0.0)
        if year == 1 and scenario.pricing is not None:
            pricing = pricing_basis(scenario, exposures, losses)
    return DynamicsPrepared(scenario, model, exposures, parties, per_share,
                            pricing if scenario.pricing is not None else None)


def expected_risk_losses_per_path_year(prepared: DynamicsPrepared) -> float:
    """Risk losses per path in the largest year, for chunk sizing."""
    return expected_risk_losses(prepared.scenario, prepared.exposures[-1])


def simulate_paths(prepared: DynamicsPrepared, first_trial: int, n_trials: int):
    """Paths ``first_trial .. first_trial + n_trials - 1`` over every year of the horizon.

    Returns ``(arrays, line_loss, line_claims, capped_loss)``: ``arrays`` maps each name of
    ``PARTY_COLUMNS + DYNAMIC_COLUMNS`` to float64 ``(n_trials, n_years, n_parties)``;
    ``line_loss`` and ``capped_loss`` (what limits cut from event-table losses) float64 and
    ``line_claims`` int64 are ``(n_trials, n_years, n_lines)``.
    """
    paths = Paths(prepared, first_trial, n_trials)
    run_calendar(paths)
    return paths.out, paths.line_loss, paths.line_claims, paths.capped_loss
