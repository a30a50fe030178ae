"""Multi-year dynamics (``years > 1``): a simpy calendar that carries every path from year to year.

One :class:`simpy.Environment` per chunk of paths; its clock counts quarters.
Two processes make the pool's calendar, and every step acts on arrays of all
the chunk's paths at once (numpy; the heavy work is the numba engine and
allocator), never on one path at a time::

    renewal   (start of each year)  exits take effect, shares re-allocated, exposure grown;
                                    the year's occurrences (sim.engine) and their split
                                    (sim.pool.allocate_chunk, one call per set of active
                                    members); reinsurer defaults hit earlier receivables
    quarter   (each quarter)        premium earned, losses incurred on their days,
                                    claim payments due (payment_pattern), recoveries
                                    received (recovery_delay_days after each payment),
                                    a ruined member pays only what its assets allow;
                                    quarter-end capital check; at year end the
                                    solvency ratio and the exits for the next renewal

Streams: year ``y`` of path ``i`` uses trial id ``i + (y - 1) * YEAR_STRIDE``
for every random draw, so year 1 is exactly the one-year engine and every
(path, year) has streams of its own.

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
* Solvency (year end): C-ROSS with reserve risk on the member's net
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

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import simpy

from . import regulation, solvency
from .engine import LossModel, expected_risk_losses
from .engine import simulate_chunk as simulate_losses
from .exposure import build_exposure
from .jit import parallel_jit, prange
from .metrics import combined_ratio, empirical_quantiles, net_premium, party_net_result
from .model import CAPITAL_CLASSES, Scenario
from .occurrences import DAYS_IN_YEAR, Exposure, LossChunk, subset_chunk
from .parties import PARTY_COLUMNS, TREATY_COLUMNS, Parties
from .pool import allocate_chunk, parties as build_parties, treaty_labels
from .rng import STREAM_DEFAULT, uniform_table

YEAR_STRIDE = 2 ** 40            # trial id of path i in year y: i + (y - 1) * YEAR_STRIDE
QUARTERS = 4
DAYS_IN_QUARTER = DAYS_IN_YEAR / QUARTERS
CALIBRATION_TRIALS = 10_000      # fixed trials per year for the cross-path parts of minimum capital

# Per path, year and party, beyond PARTY_COLUMNS (see the module docstring).
DYNAMIC_COLUMNS = (
    "share", "active", "capital_start", "capital_end", "minimum_capital", "solvency_ratio",
    "paid_loss", "outstanding_loss", "recoverable", "member_default_loss",
)


# --------------------------------------------------------------------------- preparation
@dataclass(frozen=True)
class DynamicsPrepared:
    """Everything a chunk of paths needs besides its range; cheap to send to a Dask worker."""

    scenario: Scenario
    model: LossModel
    exposures: tuple[Exposure, ...]          # one per year, grown
    parties: Parties                         # year 1, every member at its scenario share
    minimum_per_share: np.ndarray            # (n_years, n_members) cat risk (c-ross) or VaR (var) per unit share

    @property
    def exposure(self) -> Exposure:
        return self.exposures[0]

    @property
    def years(self) -> int:
        return self.scenario.simulation.years


def grown_exposure(scenario: Scenario, year: int) -> Exposure:
    """The policies of ``year`` (1-based): each line's count times (1 + growth)^(year − 1)."""
    growth = (1.0 + scenario.dynamics.exposure_growth) ** (year - 1)
    return build_exposure(scenario, policy_scale=np.full(len(scenario.lines), growth))


def pattern_shares(scenario: Scenario, active: np.ndarray) -> np.ndarray:
    """Members' shares when only ``active`` (bool, (n_members,)) remain; exited members 0.

    ``pro_rata``: scenario shares renormalised over the members left. ``lead``:
    the lead takes every exited member's share (pro rata if the lead has left).
    """
    members = scenario.pool.members
    base = np.array([m.share for m in members], dtype=np.float64)
    if not active.any():
        return np.zeros_like(base)
    is_lead = np.array([m.role == "lead" for m in members])
    if scenario.dynamics.reallocation == "lead" and active[is_lead].all():
        shares = np.where(active, base, 0.0)
        shares[is_lead] += base[~active].sum()
        return shares
    return np.where(active, base, 0.0) / base[active].sum()


def pattern_scenario(scenario: Scenario, active: np.ndarray, defaulted: np.ndarray | None = None) -> Scenario:
    """The scenario with the members' shares of one set of active members, and without the
    reinsurers that have defaulted.

    Exited members keep their row with share 0 and no own reinsurance (they
    buy no cover for business they no longer write); without a lead, no lead fee.
    A reinsurer in default (``defaulted``, bool (n_reinsurers,)) leaves every
    panel: its share goes to the panel's other reinsurers pro rata, and a
    treaty with none left is dropped (its cedant keeps that risk).
    """
    shares = pattern_shares(scenario, active)
    gone = set() if defaulted is None else {r.name for r, out in zip(scenario.reinsurers, defaulted) if out}
    members = tuple(dataclasses.replace(member, share=float(share),
                                        reinsurance=_without(member.reinsurance, gone) if keep else ())
                    for member, share, keep in zip(scenario.pool.members, shares, active))
    lead_left = any(m.role == "lead" and not keep for m, keep in zip(scenario.pool.members, active))
    pool = dataclasses.replace(scenario.pool, members=members, reinsurance=_without(scenario.pool.reinsurance, gone),
                               lead_fee=0.0 if lead_left else scenario.pool.lead_fee)
    return dataclasses.replace(scenario, pool=pool)


def _without(programme: tuple, gone: set[str]) -> tuple:
    """``programme`` with the reinsurers ``gone`` taken off every panel (see :func:`pattern_scenario`)."""
    if not gone:
        return programme
    kept_treaties = []
    for treaty in programme:
        panel = [(name, share) for name, share in treaty.panel if name not in gone]
        remaining = sum(share for _, share in panel)
        if remaining > 0.0:
            whole = sum(share for _, share in treaty.panel)
            kept_treaties.append(dataclasses.replace(
                treaty, panel=tuple((name, share * whole / remaining) for name, share in panel)))
    return tuple(kept_treaties)


def prepare_dynamics(scenario: Scenario, progress: bool = False) -> DynamicsPrepared:
    """The grown exposures, year-1 parties and the per-year calibration (``progress``: a bar
    for the calibration, which takes a few seconds whatever the number of paths)."""
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
    return DynamicsPrepared(scenario, model, exposures, parties, per_share)


def expected_risk_losses_per_path_year(prepared: DynamicsPrepared) -> float:
    """Risk losses per path in the largest year, for chunk sizing."""
    return expected_risk_losses(prepared.scenario, prepared.exposures[-1])


# --------------------------------------------------------------------------- timing profiles
@parallel_jit
def _quarter_profiles(occ_offsets, risk_offsets, occ_day, risk_loss, delay_days, occurred, received):
    """Fill ``occurred`` (n_trials, 4) and ``received`` (n_trials, n_delay_quarters); see quarter_profiles."""
    n_trials = len(occ_offsets) - 1
    width = received.shape[1]
    for t in prange(n_trials):
        total = 0.0
        for k in range(occ_offsets[t], occ_offsets[t + 1]):
            amount = 0.0
            for r in range(risk_offsets[k], risk_offsets[k + 1]):
                amount += risk_loss[r]
            # Days are >= 0, so int() of the quotient is its floor (and much faster than //).
            day = min(occ_day[k], DAYS_IN_YEAR)
            occurred[t, min(int(day / DAYS_IN_QUARTER), QUARTERS - 1)] += amount
            received[t, min(int((day + delay_days) / DAYS_IN_QUARTER), width - 1)] += amount
            total += amount
        if total > 0.0:
            for q in range(QUARTERS):
                occurred[t, q] /= total
            for j in range(width):
                received[t, j] /= total
        else:       # no loss: an even spread, as four losses in mid-quarter
            for q in range(QUARTERS):
                occurred[t, q] = 1.0 / QUARTERS
                day = (q + 0.5) * DAYS_IN_QUARTER
                received[t, min(int((day + delay_days) / DAYS_IN_QUARTER), width - 1)] += 1.0 / QUARTERS


def quarter_profiles(chunk: LossChunk, delay_days: float, n_delay_quarters: int):
    """Share of each path's gross loss by quarter of occurrence, and by quarter of occurrence + delay.

    Returns ``(occurred, received)``: ``(n_trials, 4)`` and ``(n_trials, n_delay_quarters)``;
    rows sum to 1 (an even spread where the path has no loss).
    """
    occurred = np.zeros((chunk.n_trials, QUARTERS))
    received = np.zeros((chunk.n_trials, n_delay_quarters))
    _quarter_profiles(chunk.occ_offsets, chunk.risk_offsets, chunk.occ_day, chunk.risk_loss,
                      float(delay_days), occurred, received)
    return occurred, received


# --------------------------------------------------------------------------- minimum capital
def _class_weights(scenario: Scenario, exposure: Exposure) -> np.ndarray:
    """(n_classes,) share of the pool's gross premium in each capital class (reserves are split so)."""
    premium = exposure.line_premium() @ solvency.class_matrix([line.capital_class for line in scenario.lines])
    return premium / premium.sum() if premium.sum() > 0 else np.full(len(CAPITAL_CLASSES), 1.0 / len(CAPITAL_CLASSES))


def minimum_capital(scenario: Scenario, parties: Parties, arrays: dict, rows: np.ndarray,
                    shares: np.ndarray, reserves: np.ndarray, per_share: np.ndarray,
                    class_weights: np.ndarray, credit_exposure: np.ndarray) -> np.ndarray:
    """Members' minimum capital of the paths ``rows`` that share one pattern, ``(n_rows, n_members)``.

    C-ROSS as :func:`sim.solvency.cross_minimum_capital`, but with each path's own
    net outstanding claims ``reserves`` (n_rows, n_members) for reserve risk, the
    catastrophe risk ``shares * per_share``, and credit risk on ``credit_exposure``
    (n_rows, n_members): the recoverables at the year end times their reinsurers'
    factors, where a one-year run takes the year's whole ceded loss.
    Regime ``var``: ``shares * per_share``.
    """
    members = parties.indices("member")
    other = np.array([m.other_minimum_capital for m in scenario.pool.members], dtype=np.float64)
    if scenario.solvency.regime == "var":
        return np.maximum(shares * per_share, solvency.MINIMUM_CAPITAL_FLOOR)[None, :] + other + 0.0 * reserves
    take = {key: arrays[key][rows][:, members] for key in (
        "net_loss", "expenses", "commission", "lead_fee", "gross_premium", "ceded_premium",
        "reinstatement_premium")}
    premium_kept = net_premium(take["gross_premium"], take["ceded_premium"], take["reinstatement_premium"])
    combined = combined_ratio(take["net_loss"], take["expenses"], take["commission"], take["lead_fee"],
                              premium_kept)
    combined = np.where(premium_kept > 0.0, combined, np.nan)
    line_classes = [line.capital_class for line in scenario.lines]
    retained = solvency.retained_premium_by_class(parties.line_gross_premium[members],
                                                  parties.line_proportional_ceded_premium[members], line_classes)
    nonproportional = solvency.nonproportional_term(
        parties.line_nonproportional_premium[members] @ solvency.class_matrix(line_classes), retained)
    premium_factor = np.array([regulation.RF0[name][0] for name in CAPITAL_CLASSES])
    reserve_factor = np.array([regulation.RF0[name][1] for name in CAPITAL_CLASSES])
    terms = np.asarray(solvency.COMBINED_RATIO_TERMS)
    k = np.clip(terms[:, None, None] + nonproportional[None], *regulation.K_BOUNDS)   # (bands, members, classes)
    premium_by_band = retained[None] * premium_factor * (1.0 + k)
    band = solvency.combined_ratio_band(combined)                                       # (rows, members)
    premium = premium_by_band[band, np.arange(len(members))[None, :]]                  # (rows, members, classes)
    reserve = np.maximum(reserves, 0.0)[:, :, None] * class_weights * reserve_factor
    rho = regulation.PREMIUM_RESERVE_CORRELATION
    per_class = np.sqrt(premium ** 2 + 2.0 * rho * premium * reserve + reserve ** 2)
    premium_reserve = np.sqrt(np.einsum("tmi,ij,tmj->tm", per_class, solvency.class_correlation_matrix(),
                                        per_class))
    non_life = solvency.non_life_risk(premium_reserve, (shares * per_share)[None, :])
    company = solvency.company_risk(non_life, 0.0, credit_exposure)
    return company * regulation.TECHNOLOGY_FACTOR + other


# --------------------------------------------------------------------------- the calendar
class _Paths:
    """The state of a chunk of paths, and the simpy processes that move it through the years."""

    def __init__(self, prepared: DynamicsPrepared, first_trial: int, n_trials: int):
        scenario = self.scenario = prepared.scenario
        self.prepared = prepared
        self.first_trial, self.n = first_trial, n_trials
        parties = prepared.parties
        self.members, self.reinsurers = parties.indices("member"), parties.indices("reinsurer")
        n_members, n_reinsurers = len(self.members), len(self.reinsurers)
        self.n_members, self.n_reinsurers, self.n_parties = n_members, n_reinsurers, parties.n_parties
        years = self.years = prepared.years
        dynamics = scenario.dynamics
        self.pattern = np.asarray(dynamics.payment_pattern, dtype=np.float64)
        self.delay = float(dynamics.recovery_delay_days)
        self.n_delay_quarters = QUARTERS + int(math.ceil(self.delay / DAYS_IN_QUARTER)) + 1
        self.recovery_rate = np.array([r.recovery_rate for r in scenario.reinsurers], dtype=np.float64)
        self.credit_factor = np.array([regulation.credit_factor(r.rating, r.default_probability,
                                                                r.domestic_solvency_ratio)
                                       for r in scenario.reinsurers], dtype=np.float64)
        self.class_weights = _class_weights(scenario, prepared.exposure)
        n = n_trials
        shape = (n, years, self.n_parties)
        self.out = {name: np.zeros(shape) for name in PARTY_COLUMNS + DYNAMIC_COLUMNS}
        labels = treaty_labels(scenario)
        self.treaty_index = {(cedant, name): i for i, (cedant, name, _) in enumerate(labels)}
        self.out.update({name: np.zeros((n, years, len(labels))) for name in TREATY_COLUMNS})
        n_lines = len(scenario.lines)
        self.line_loss = np.zeros((n, years, n_lines))
        self.line_claims = np.zeros((n, years, n_lines), dtype=np.int64)
        self.capped_loss = np.zeros((n, years, n_lines))
        # Carried state.
        self.active = np.ones((n, n_members), dtype=np.bool_)
        self.capital = np.broadcast_to(np.array([m.capital for m in scenario.pool.members]), (n, n_members)).copy()
        self.reinsurer_capital = np.broadcast_to(
            np.array([r.capital for r in scenario.reinsurers], dtype=np.float64), (n, n_reinsurers)).copy()
        self.reinsurer_defaulted = np.zeros((n, n_reinsurers), dtype=np.bool_)
        self.gross = np.zeros((n, years, n_members))             # members' gross loss by accident year
        self.occurred = np.zeros((n, years, QUARTERS))           # timing of each accident year's losses
        self.received_profile = np.zeros((n, years, self.n_delay_quarters))
        self.collectible = np.zeros((n, years, n_members, n_reinsurers))   # recoveries to receive, at full
        self.collectible_scale = np.ones((n, years, n_reinsurers))          # rr after a later default
        self.received_fraction = np.zeros((n, years))             # of each accident year's recoveries
        self.outstanding_by_year = np.zeros((n, years, n_members))  # gross outstanding claims by accident year
        self.outstanding = np.zeros((n, n_members))               # their sum
        self.year_arrays: dict | None = None
        self.late_default = np.zeros((n, n_members, n_reinsurers))

    # ----------------------------------------------------------------- renewal
    def renewal(self, env: simpy.Environment):
        for year in range(1, self.years + 1):
            self.renew(year)
            yield env.timeout(QUARTERS)

    def renew(self, year: int) -> None:
        prepared, scenario = self.prepared, self.scenario
        y = year - 1
        n, seed = self.n, scenario.simulation.seed
        first = self.first_trial + y * YEAR_STRIDE
        exposure = prepared.exposures[y]
        losses = simulate_losses(scenario, prepared.model, exposure, first, n)
        draws = uniform_table(seed, STREAM_DEFAULT, first, n, self.n_reinsurers)
        capital_in = np.where(self.reinsurer_defaulted, -np.inf, self.reinsurer_capital)
        # What each reinsurer still owes each member from earlier years: a default this year
        # pays those claims in the same proportion as this year's.
        remaining = np.zeros((n, self.n_members, self.n_reinsurers))
        for a in range(y):
            remaining += (self.collectible[:, a] * self.collectible_scale[:, a, None, :]
                          * (1.0 - self.received_fraction[:, a])[:, None, None])
        earlier_owed = remaining.sum(axis=1)
        paid_fraction = np.ones((n, self.n_reinsurers))
        arrays = {name: np.zeros((n, self.n_parties)) for name in PARTY_COLUMNS}
        treaty_arrays = {name: np.zeros((n, len(self.treaty_index))) for name in TREATY_COLUMNS}
        collectible = np.zeros((n, self.n_members, self.n_reinsurers))
        shares = np.zeros((n, self.n_members))
        # Paths with the same members in the pool and the same reinsurers in default share a structure.
        states, codes = np.unique(np.hstack([self.active, self.reinsurer_defaulted]), axis=0, return_inverse=True)
        codes = codes.reshape(-1)
        self.groups = []
        for code, state in enumerate(states):
            rows = np.flatnonzero(codes == code)
            active, defaulted = state[:self.n_members], state[self.n_members:]
            shares[rows] = pattern_shares(scenario, active)
            if not active.any():
                continue                       # the pool has ended on these paths: no new business
            pattern = pattern_scenario(scenario, active, defaulted)
            parties = build_parties(pattern, exposure)
            sub = losses if len(rows) == n else subset_chunk(losses, rows)
            part = np.zeros((len(rows), self.n_members, self.n_reinsurers))
            paid_part = np.ones((len(rows), self.n_reinsurers))
            result = allocate_chunk(pattern, exposure, parties, sub, seed, reinsurer_capital=capital_in[rows],
                                    default_draws=draws[rows], collectible=part, earlier_owed=earlier_owed[rows],
                                    paid_fraction=paid_part)
            for name in PARTY_COLUMNS:
                arrays[name][rows] = result[name]
            columns = [self.treaty_index[(cedant, name)] for cedant, name, _ in treaty_labels(pattern)]
            for name in TREATY_COLUMNS:
                treaty_arrays[name][np.ix_(rows, columns)] = result[name]
            collectible[rows] = part
            paid_fraction[rows] = paid_part
            self.line_loss[rows, y] = losses.line_loss[rows]
            self.line_claims[rows, y] = losses.line_claims[rows]
            self.capped_loss[rows, y] = losses.capped_loss[rows]
            self.groups.append((rows, pattern, parties, shares[rows[0]]))
        ended = ~self.active.any(axis=1)

        # Defaults: once in default, always (and off every panel from the next renewal). A new
        # default also costs the cedants the unpaid part of the earlier years' recoveries not yet
        # received, in the proportion it pays this year's.
        reinsurer_cols = 1 + self.n_members + np.arange(self.n_reinsurers)
        defaulted_now = (arrays["defaulted"][:, reinsurer_cols] > 0) | self.reinsurer_defaulted
        newly = defaulted_now & ~self.reinsurer_defaulted
        late = np.where(newly[:, None, :], remaining * (1.0 - paid_fraction[:, None, :]), 0.0)
        for a in range(y):
            self.collectible_scale[:, a] = np.where(newly, self.collectible_scale[:, a] * paid_fraction,
                                                    self.collectible_scale[:, a])
        self.reinsurer_defaulted = defaulted_now
        member_cols = 1 + np.arange(self.n_members)
        arrays["default_loss"][:, member_cols] += late.sum(axis=2)
        arrays["net_loss"][:, member_cols] += late.sum(axis=2)
        # as in the net AEP, with the bound of sim.pool.allocate_chunk
        arrays["max_occurrence_net"][:, member_cols] = np.minimum(
            arrays["max_occurrence_net"][:, member_cols] + late.sum(axis=2), arrays["max_occurrence_gross"][:, member_cols])
        arrays["default_loss"][:, reinsurer_cols] += late.sum(axis=1)
        arrays["net_loss"][:, reinsurer_cols] -= late.sum(axis=1)
        arrays["defaulted"][:, reinsurer_cols] = defaulted_now
        for name in ("default_loss", "net_loss"):
            arrays[name][:, 0] = arrays[name][:, member_cols].sum(axis=1)
        arrays["max_occurrence_net"][:, 0] = np.minimum(arrays["max_occurrence_net"][:, 0] + late.sum(axis=(1, 2)),
                                                        arrays["max_occurrence_gross"][:, 0])
        self.late_default = late
        for name in TREATY_COLUMNS:
            self.out[name][:, y] = treaty_arrays[name]

        # Book the accident year.
        occurred, received = quarter_profiles(losses, self.delay, self.n_delay_quarters)
        self.occurred[:, y], self.received_profile[:, y] = occurred, received
        # Its claims become outstanding quarter by quarter as they occur (see quarter), not here.
        self.gross[:, y] = arrays["gross_loss"][:, member_cols]
        self.collectible[:, y] = collectible
        self.year_arrays = arrays
        self.year_shares = shares
        # What the quarters book: premium side per quarter, losses spread by the occurrence profile.
        m = {key: arrays[key][:, member_cols] for key in (
            "gross_premium", "ceded_premium", "commission", "expenses", "lead_fee", "net_loss",
            "reinstatement_premium")}
        self.member_earned = (m["gross_premium"] - m["ceded_premium"] + m["commission"] - m["expenses"]
                              + m["lead_fee"]) / QUARTERS
        self.member_incurred = m["net_loss"] - late.sum(axis=2) + m["reinstatement_premium"]
        self.reinsurer_earned = (arrays["gross_premium"][:, reinsurer_cols]
                                 - arrays["commission"][:, reinsurer_cols]) / QUARTERS
        self.reinsurer_incurred = arrays["net_loss"][:, reinsurer_cols] + late.sum(axis=1)
        self.year_capital_start = self.capital.copy()
        self.year_reinsurer_capital_start = self.reinsurer_capital.copy()
        self.year_paid = np.zeros((n, self.n_members))
        self.year_received = np.zeros((n, self.n_members, self.n_reinsurers))
        self.year_shortfall = np.zeros((n, self.n_members))
        self.year_ended = ended

    # ----------------------------------------------------------------- quarters
    def quarters(self, env: simpy.Environment):
        for t in range(self.years * QUARTERS):
            self.quarter(t)
            yield env.timeout(1)

    def quarter(self, t: int) -> None:
        y, q = divmod(t, QUARTERS)
        profile = self.occurred[:, y, q][:, None]
        # Incurred: premium side evenly, losses (and their reinstatement premiums) on their days.
        self.capital += self.member_earned - self.member_incurred * profile
        self.reinsurer_capital += self.reinsurer_earned - self.reinsurer_incurred * profile
        if q == 0:      # a default found at renewal costs the cedants at once
            self.capital -= self.late_default.sum(axis=2)
            self.reinsurer_capital += self.late_default.sum(axis=1)
        # The same losses become liabilities: claims incurred to date, before any of this quarter's
        # payments. Booking the whole accident year at renewal would put losses that have not yet
        # occurred (and are not yet in capital) into the dividend below, overstating it mid-year.
        # The quarter's payments of them are pattern[0] <= 1 of this accrual, so it stays >= 0.
        self.outstanding_by_year[:, y] += self.gross[:, y] * profile
        self.outstanding = self.outstanding_by_year.sum(axis=1)

        # Claims due and recoveries received this quarter, every accident year so far.
        due = np.zeros((self.n, self.n_members))
        received = np.zeros((self.n, self.n_members, self.n_reinsurers))
        last_payment = len(self.pattern) * QUARTERS - 1
        last_receipt = (len(self.pattern) - 1) * QUARTERS + self.n_delay_quarters - 1
        for a in range(y + 1):
            relative = t - a * QUARTERS
            k, within = divmod(relative, QUARTERS)
            if k < len(self.pattern):
                due_of_year = self.gross[:, a] * (self.occurred[:, a, within] * self.pattern[k])[:, None]
                due += due_of_year
                self.outstanding_by_year[:, a] -= due_of_year
            if relative == last_payment:
                # All of the accident year is paid: exactly nothing is left of it. Subtracting the
                # payments one by one leaves rounding dust (~1e-10), whose minimum capital would
                # make a run-off member's solvency ratio ~1e16.
                self.outstanding_by_year[:, a] = 0.0
            share = np.zeros(self.n)
            for k, p in enumerate(self.pattern):
                j = relative - k * QUARTERS
                if 0 <= j < self.n_delay_quarters:
                    share += p * self.received_profile[:, a, j]
            if share.any():
                received += (self.collectible[:, a] * self.collectible_scale[:, a, None, :]) * share[:, None, None]
                self.received_fraction[:, a] += share
            if relative == last_receipt:
                self.received_fraction[:, a] = 1.0      # all received: the same rounding dust
        # A ruined member pays the liquidator's dividend (capital + outstanding) / outstanding, on the
        # claims incurred to date and not yet paid (self.outstanding is still from before the payments).
        with np.errstate(divide="ignore", invalid="ignore"):
            dividend = np.clip((self.capital + self.outstanding) / self.outstanding, 0.0, 1.0)
        dividend = np.where((self.capital < 0.0) & (self.outstanding > 0.0), dividend, 1.0)
        shortfall = due * (1.0 - dividend)
        self.capital += shortfall
        self.outstanding = self.outstanding_by_year.sum(axis=1)
        self.year_paid += due - shortfall
        self.year_shortfall += shortfall
        self.year_received += received
        if q == QUARTERS - 1:
            self.year_end(y)

    def year_end(self, y: int) -> None:
        arrays, out = self.year_arrays, self.out
        m_cols = 1 + np.arange(self.n_members)
        r_cols = 1 + self.n_members + np.arange(self.n_reinsurers)
        for name in PARTY_COLUMNS:
            out[name][:, y] = arrays[name]
        receivable = np.zeros((self.n, self.n_members, self.n_reinsurers))
        for a in range(y + 1):
            receivable += (self.collectible[:, a] * self.collectible_scale[:, a, None, :]
                           * (1.0 - self.received_fraction[:, a])[:, None, None])
        net_outstanding = self.outstanding - receivable.sum(axis=2)
        # C-ROSS credit risk is on the reinsurance assets at the valuation date: what is still
        # to be received (unpaid claims' recoveries and recoveries due), each reinsurer's at its factor.
        credit_exposure = receivable @ self.credit_factor
        members = self.scenario.pool.members
        other = np.array([m.other_minimum_capital for m in members], dtype=np.float64)
        # Run-off only (exited members, ended paths): reserve risk alone; writing members below.
        minimum = self._reserve_only_minimum(net_outstanding) + other
        for rows, pattern, parties, shares in self.groups:
            computed = minimum_capital(pattern, parties, arrays, rows, shares, net_outstanding[rows],
                                       self.prepared.minimum_per_share[y], self.class_weights,
                                       credit_exposure[rows])
            writing = shares > 0
            minimum[np.ix_(rows, np.flatnonzero(writing))] = computed[:, writing]
        ratio = solvency.solvency_ratio(self.capital, minimum)
        out["credit_exposure"][:, y, m_cols] = credit_exposure     # what the minimum capital used
        out["share"][:, y, m_cols] = self.year_shares
        out["share"][:, y, 0] = np.where(self.year_ended, 0.0, 1.0)
        out["active"][:, y, m_cols] = self.active
        out["active"][:, y, 0] = ~self.year_ended
        out["active"][:, y, r_cols] = ~self.reinsurer_defaulted
        out["capital_start"][:, y, m_cols] = self.year_capital_start
        out["capital_start"][:, y, r_cols] = self.year_reinsurer_capital_start
        out["capital_end"][:, y, m_cols] = self.capital
        finite = np.isfinite(self.reinsurer_capital)
        out["capital_end"][:, y, r_cols] = np.where(finite, self.reinsurer_capital, np.nan)
        out["capital_start"][:, y, r_cols] = np.where(finite, self.year_reinsurer_capital_start, np.inf)
        out["minimum_capital"][:, y, m_cols] = minimum
        out["minimum_capital"][:, y, r_cols] = np.nan
        out["solvency_ratio"][:, y, m_cols] = ratio
        out["solvency_ratio"][:, y, r_cols] = np.nan
        out["paid_loss"][:, y, m_cols] = self.year_paid - self.year_received.sum(axis=2)
        out["paid_loss"][:, y, r_cols] = self.year_received.sum(axis=1)
        out["outstanding_loss"][:, y, m_cols] = self.outstanding
        out["outstanding_loss"][:, y, r_cols] = receivable.sum(axis=1)
        out["recoverable"][:, y, m_cols] = receivable.sum(axis=2)
        out["member_default_loss"][:, y, m_cols] = self.year_shortfall
        for name in ("capital_start", "capital_end", "minimum_capital", "paid_loss", "outstanding_loss",
                     "recoverable", "member_default_loss"):
            out[name][:, y, 0] = out[name][:, y, m_cols].sum(axis=1)
        out["solvency_ratio"][:, y, 0] = solvency.solvency_ratio(out["capital_end"][:, y, 0],
                                                                  out["minimum_capital"][:, y, 0])
        # Exits take effect at the next renewal.
        threshold = self.scenario.dynamics.exit_below_solvency
        if threshold > 0:
            self.active &= ~(ratio < threshold)

    def _reserve_only_minimum(self, net_outstanding: np.ndarray) -> np.ndarray:
        """C-ROSS minimum capital of a member with no business of the year: reserve risk only."""
        if self.scenario.solvency.regime == "var":
            return np.zeros_like(net_outstanding)
        reserve_factor = np.array([regulation.RF0[name][1] for name in CAPITAL_CLASSES])
        reserve = net_outstanding.clip(0.0)[:, :, None] * self.class_weights * reserve_factor
        risk = np.sqrt(np.einsum("tmi,ij,tmj->tm", reserve, solvency.class_correlation_matrix(), reserve))
        return risk * regulation.TECHNOLOGY_FACTOR


def simulate_paths(prepared: DynamicsPrepared, first_trial: int, n_trials: int):
    """Paths ``first_trial .. first_trial + n_trials - 1`` over every year of the horizon.

    Returns ``(arrays, line_loss, line_claims, capped_loss)``: ``arrays`` maps each name of
    ``PARTY_COLUMNS + DYNAMIC_COLUMNS`` to float64 ``(n_trials, n_years, n_parties)``;
    ``line_loss`` and ``capped_loss`` (what limits cut from event-table losses) float64 and
    ``line_claims`` int64 are ``(n_trials, n_years, n_lines)``.
    """
    paths = _Paths(prepared, first_trial, n_trials)
    env = simpy.Environment()
    env.process(paths.renewal(env))     # created first: at a year's start it runs before the quarter
    env.process(paths.quarters(env))
    env.run()
    return paths.out, paths.line_loss, paths.line_claims, paths.capped_loss
