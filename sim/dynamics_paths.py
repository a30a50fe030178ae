"""The state of a chunk of multi-year paths and what each calendar step does to it
(:mod:`sim.dynamics` has the model, :mod:`sim.dynamics_calendar` the order of the steps)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import regulation, solvency
from .dynamics_capital import class_weights, minimum_capital, reserve_only_minimum
from .dynamics_membership import pattern_scenario, pattern_shares
from .dynamics_premium import apply_repriced_premium, reinsurer_premium_kept, repriced_premium
from .dynamics_timing import DAYS_IN_QUARTER, QUARTERS, quarter_profiles
from .engine import LossModel
from .engine import simulate_chunk as simulate_losses
from .kernels.rng import YEAR_STRIDE
from .model import Scenario
from .occurrences import Exposure, subset_chunk
from .parties import PARTY_COLUMNS, TREATY_COLUMNS, Parties
from .pool import allocate_chunk, parties as build_parties, treaty_labels
from .repricing import PricingBasis, rate_for_year
from .rng import STREAM_DEFAULT, uniform_table


# Per path, year and party, beyond PARTY_COLUMNS (see the sim.dynamics docstring).
DYNAMIC_COLUMNS = (
    "share", "active", "capital_start", "capital_end", "minimum_capital", "solvency_ratio",
    "paid_loss", "outstanding_loss", "recoverable", "member_default_loss",
)


@dataclass(frozen=True)
class DynamicsPrepared:
    """Everything a chunk of paths needs besides its range; cheap to send to a Dask worker."""

    scenario: Scenario
    model: LossModel
    exposures: tuple[Exposure, ...]          # one per year, grown
    parties: Parties                         # year 1, every member at its scenario share
    minimum_per_share: np.ndarray            # (n_years, n_members) cat risk (c-ross) or VaR (var) per unit share
    pricing: PricingBasis | None = None      # [pricing]: what repricing needs (sim.repricing); None: rates as written

    @property
    def exposure(self) -> Exposure:
        return self.exposures[0]

    @property
    def years(self) -> int:
        return self.scenario.simulation.years


class Paths:
    """The state of a chunk of paths, and the steps of the calendar (:mod:`sim.dynamics_calendar`)
    that move it through the years."""

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
        self.class_weights = class_weights(scenario, prepared.exposure)
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
        self.pricing = prepared.pricing
        if self.pricing is not None:   # each path's premium rate of each line, by year
            self.rates = np.zeros((n, years, n_lines))

    # ----------------------------------------------------------------- renewal
    def renew(self, year: int) -> np.ndarray | None:
        """The renewal of ``year`` (1-based): the year's structure on each path, its losses and
        their split. Returns what reinsurers that defaulted now still owed from earlier years
        and will not pay, ``(n, n_members, n_reinsurers)``, or None when no reinsurer defaulted
        now on any path (see :meth:`book_default`)."""
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
        factors = self.reprice(y)
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
            capital_rows, line_premiums = capital_in[rows], None
            if factors is not None:
                # The allocator works at the written rates; the reinsurers' default test must see
                # the premium they keep at the path's rates (sim.dynamics_premium).
                repriced = repriced_premium(pattern, exposure, factors[rows])
                written = repriced_premium(pattern, exposure, np.ones_like(factors[rows]))
                capital_rows = capital_rows + reinsurer_premium_kept(repriced, written)
                line_premiums = (repriced.line_gross, repriced.line_proportional, repriced.line_nonproportional)
            result = allocate_chunk(pattern, exposure, parties, sub, seed, reinsurer_capital=capital_rows,
                                    default_draws=draws[rows], collectible=part, earlier_owed=earlier_owed[rows],
                                    paid_fraction=paid_part)
            if factors is not None:
                apply_repriced_premium(result, repriced, written)
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
            self.groups.append((rows, pattern, parties, shares[rows[0]], line_premiums))
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
        return late if newly.any() else None

    def reprice(self, y: int) -> np.ndarray | None:
        """With ``[pricing]``, set year ``y``'s (0-based) rates from the experience of the years
        before it on each path (the years the pool wrote business) and return them over the
        written rates, ``(n, n_lines)`` (1 for a line written at rate 0); else None."""
        if self.pricing is None:
            return None
        observed = self.out["active"][:, :, 0] > 0.0          # set at each year end: years < y are known
        previous = self.rates[:, y - 1] if y > 0 else self.pricing.prior_rate[None, :]
        self.rates[:, y] = rate_for_year(self.pricing, y, self.line_loss, observed, previous)
        prior = self.pricing.prior_rate
        return np.where(prior > 0.0, self.rates[:, y] / np.where(prior > 0.0, prior, 1.0), 1.0)

    def book_default(self, late: np.ndarray) -> None:
        """A default found at renewal costs the cedants at once: the unpaid part of the earlier
        years' recoveries still to come (``late``, (n, n_members, n_reinsurers))."""
        self.capital -= late.sum(axis=2)
        self.reinsurer_capital += late.sum(axis=1)

    # ----------------------------------------------------------------- quarters
    def book_quarter(self, t: int) -> None:
        """The end of quarter ``t`` of the horizon: its premium earned and its losses incurred."""
        y, q = divmod(t, QUARTERS)
        profile = self.occurred[:, y, q][:, None]
        # Incurred: premium side evenly, losses (and their reinstatement premiums) on their days.
        self.capital += self.member_earned - self.member_incurred * profile
        self.reinsurer_capital += self.reinsurer_earned - self.reinsurer_incurred * profile
        # The same losses become liabilities: claims incurred to date, before any of this quarter's
        # payments. Booking the whole accident year at renewal would put losses that have not yet
        # occurred (and are not yet in capital) into the dividend below, overstating it mid-year.
        # The quarter's payments of them are pattern[0] <= 1 of this accrual, so it stays >= 0.
        self.outstanding_by_year[:, y] += self.gross[:, y] * profile
        self.outstanding = self.outstanding_by_year.sum(axis=1)

    def pay_claims(self, t: int) -> None:
        """The claims due in quarter ``t``, every accident year so far; a ruined member pays the
        liquidator's dividend."""
        y = t // QUARTERS
        due = np.zeros((self.n, self.n_members))
        last_payment = len(self.pattern) * QUARTERS - 1
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

    def receive_recoveries(self, t: int) -> None:
        """The recoveries received in quarter ``t``: ``recovery_delay_days`` after each payment."""
        y = t // QUARTERS
        received = np.zeros((self.n, self.n_members, self.n_reinsurers))
        last_receipt = (len(self.pattern) - 1) * QUARTERS + self.n_delay_quarters - 1
        for a in range(y + 1):
            relative = t - a * QUARTERS
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
        self.year_received += received

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
        minimum = np.zeros((self.n, self.n_members))
        writes = np.zeros((self.n, self.n_members), dtype=np.bool_)
        for rows, pattern, parties, shares, line_premiums in self.groups:
            computed = minimum_capital(pattern, parties, arrays, rows, shares, net_outstanding[rows],
                                       self.prepared.minimum_per_share[y], self.class_weights,
                                       credit_exposure[rows], line_premiums)
            writing = shares > 0
            minimum[np.ix_(rows, np.flatnonzero(writing))] = computed[:, writing]
            writes[np.ix_(rows, np.flatnonzero(writing))] = True
        if not writes.all():
            # Run-off only (exited members, ended paths): reserve risk alone.
            run_off = reserve_only_minimum(self.scenario, net_outstanding, self.class_weights) + other
            minimum = np.where(writes, minimum, run_off)
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
