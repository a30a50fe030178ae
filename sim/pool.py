"""The pool allocator: gross losses of a chunk -> money of every party in every trial.

Data flow for one chunk. The first three steps run in one numba kernel,
trial by trial (:func:`sim.pool_kernel.programmes_kernel`); the rest is NumPy on per-trial
arrays, with Python loops over treaties and members only::

    risk_loss (100% pool)
      -> the pool's joint programme, treaty by treaty (each inures to the next)
      -> pool net x member share -> the member's own programme
      -> per treaty and trial: ceded loss, reinstatement premium
      -> panels: what each reinsurer owes; defaults; shortfalls back to the cedants
      -> PARTY_COLUMNS, each (n_trials, n_parties)

The programmes are placed by :mod:`sim.programmes` (their premiums are fixed
by the exposure) and run through :mod:`sim.pool_kernel`; this module turns the
kernel's sums into every party's money (:func:`allocate_chunk`).

Who pays what for a pool treaty: members by pool share. A reinsurer's
shortfall after a default goes back to each cedant member in proportion to
what it owed that member, so money is conserved in every trial::

    pool gross = sum of members' net + sum of reinsurers' paid
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import regulation
from .model import Scenario
from .occurrences import DAYS_IN_YEAR, Exposure, LossChunk
from .parties import PARTY_COLUMNS, TREATY_COLUMNS, Parties
from .party_arrays import PartyArrays
from .pool_kernel import POOL, programmes_kernel, treaty_arrays
from .programmes import (EXHAUSTED_TOLERANCE, PROPORTIONAL, PlacedTreaty, Programmes,  # noqa: F401 (re-exported)
                         _portions, annual_capacity, parties, place_programmes, placed_in_order, treaty_labels)
from .rng import STREAM_DEFAULT, uniform_table

def year_end_receivable_share(chunk: LossChunk, scenario: Scenario) -> np.ndarray:
    """Share of each trial's recoveries still to be received at the year end, ``(n_trials,)``.

    The timing of the ``[dynamics]`` table, as a multi-year run books its first
    year: ``payment_pattern[0]`` of each loss is paid within its year, and its
    recovery is received ``recovery_delay_days`` after the loss's day, or is
    still receivable when that falls after the year end; the later years'
    payments are all receivable. Losses are weighted by their gross amount
    (a trial without loss: four equal losses in mid-quarter). With the defaults
    (all paid in the year, no delay) nothing is receivable.
    """
    dynamics = scenario.dynamics
    paid_in_year = dynamics.payment_pattern[0]
    delay = float(dynamics.recovery_delay_days)
    n_trials = chunk.n_trials
    quarter = DAYS_IN_YEAR / 4
    even_spread = np.mean([(q + 0.5) * quarter + delay < DAYS_IN_YEAR for q in range(4)])
    if chunk.n_occurrences == 0:
        received = np.full(n_trials, even_spread)
    else:
        risk_occurrence = np.repeat(np.arange(chunk.n_occurrences), np.diff(chunk.risk_offsets))
        amount = np.bincount(risk_occurrence, weights=chunk.risk_loss, minlength=chunk.n_occurrences)
        in_year = np.minimum(chunk.occ_day, DAYS_IN_YEAR) + delay < DAYS_IN_YEAR
        trial = np.repeat(np.arange(n_trials), np.diff(chunk.occ_offsets))
        total = np.bincount(trial, weights=amount, minlength=n_trials)
        early = np.bincount(trial, weights=np.where(in_year, amount, 0.0), minlength=n_trials)
        received = np.where(total > 0.0, early / np.where(total > 0.0, total, 1.0), even_spread)
    return 1.0 - paid_in_year * received


def reinsurer_payments(owed: np.ndarray, earlier_owed: np.ndarray, capital: np.ndarray,
                       premium_kept: np.ndarray, drawn: np.ndarray,
                       recovery_rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of its claims each reinsurer pays, and whether it defaulted, ``(n_trials, n_reinsurers)`` each.

    A reinsurer's assets are its capital plus the premium it received this year
    less the commission it paid (``premium_kept``), plus what it holds against
    the claims of earlier years still owed (``earlier_owed``; capital is net of
    them). It defaults:

    * **by its capital** when this year's claims ``owed`` exceed ``capital +
      premium_kept``: it pays out all its assets, every claim (this year's and
      the earlier ones) in the same proportion, and ends with nothing;
    * **by a draw** (``drawn``: its default probability, for reasons outside
      the pool): it pays ``recovery_rate`` of every claim, but never more than
      its assets.

    So a defaulted reinsurer never pays more than it has, and never ends below
    zero; ``recovery_rate`` only matters for a drawn default. Capital ``inf``
    (unlimited) never defaults by its capital; ``-inf`` (already in default, in
    multi-year runs) pays nothing more.

    Parameters
    ----------
    owed, earlier_owed, premium_kept, drawn : (n_trials, n_reinsurers)
    capital : (n_trials, n_reinsurers) or (1, n_reinsurers)
    recovery_rate : (n_reinsurers,)
    """
    claims = owed + earlier_owed
    assets = np.maximum(capital + premium_kept + earlier_owed, 0.0)      # 0 for capital -inf
    breach = owed > capital + premium_kept
    with np.errstate(divide="ignore", invalid="ignore"):
        affordable = np.where(claims > 0.0, np.minimum(assets / claims, 1.0), 1.0)
    paid_share = np.where(drawn, np.minimum(recovery_rate[None, :], affordable),
                          np.where(breach, affordable, 1.0))
    return paid_share, drawn | breach


@dataclass
class _Outcome:
    """One placed treaty's per-trial results, each ``(n_trials,)``."""

    placed: PlacedTreaty
    ceded: np.ndarray
    cat_ceded: np.ndarray
    reinstatement_premium: np.ndarray


def allocate_chunk(scenario: Scenario, exposure: Exposure, parties: Parties, chunk: LossChunk,
                   seed: int, reinsurer_capital: np.ndarray | None = None,
                   default_draws: np.ndarray | None = None,
                   collectible: np.ndarray | None = None,
                   out: dict[str, np.ndarray] | None = None,
                   earlier_owed: np.ndarray | None = None,
                   paid_fraction: np.ndarray | None = None) -> PartyArrays:
    """Every party's money in every trial of ``chunk``.

    Parameters
    ----------
    scenario, exposure
        The scenario and its sampled policies.
    parties
        From :func:`parties` (gives the column order).
    chunk
        Gross losses of ``chunk.n_trials`` trials.
    seed
        The run's seed; reinsurer defaults use stream ``STREAM_DEFAULT`` of
        each trial, so they do not depend on the chunking.
    reinsurer_capital : float64 (n_trials, n_reinsurers), optional
        Each reinsurer's capital in each trial (multi-year runs carry it from
        year to year); owing more than it is a default. Default: the scenario's.
    default_draws : float64 (n_trials, n_reinsurers), optional
        The uniforms of the default test, for a chunk whose trials are not a
        contiguous range (multi-year runs). Default: stream ``STREAM_DEFAULT``.
    collectible : float64 (n_trials, n_members, n_reinsurers), optional output
        Filled with what each reinsurer will actually pay each member (owed
        less the part lost to its default).
    out : dict of float64 arrays, optional
        Where to write the result (overwritten): ``(n_trials, n_parties)`` for each
        name in ``PARTY_COLUMNS``, ``(n_trials, n_treaties)`` for each name in
        ``TREATY_COLUMNS`` (made here when missing): the runner passes its
        full-run arrays' rows for the chunk, which saves allocating and then
        copying them.
    earlier_owed : float64 (n_trials, n_reinsurers), optional
        What each reinsurer still owes from earlier years (multi-year runs): a
        default pays those claims and this year's in the same proportion
        (:func:`reinsurer_payments`). Default 0.
    paid_fraction : float64 (n_trials, n_reinsurers), optional output
        Filled with the share of what it owes that each reinsurer pays (1 without a default).

    Returns
    -------
    PartyArrays
        One float64 ``(n_trials, n_parties)`` array per name in ``PARTY_COLUMNS``, and
        one ``(n_trials, n_treaties)`` array per name in ``TREATY_COLUMNS``, treaties
        in :func:`placed_in_order` order (the arrays of ``out`` when given).
    """
    members, reinsurers = scenario.pool.members, scenario.reinsurers
    n_members, n_reinsurers = len(members), len(reinsurers)
    n_trials, n_occ = chunk.n_trials, chunk.n_occurrences
    if parties.n_parties != 1 + n_members + n_reinsurers:
        raise ValueError(f"parties has {parties.n_parties} entries; the scenario has "
                         f"1 + {n_members} members + {n_reinsurers} reinsurers")
    programmes = place_programmes(scenario, exposure)
    shares = np.array([member.share for member in members], dtype=np.float64)
    if out is None:
        out = {name: np.zeros((n_trials, parties.n_parties)) for name in PARTY_COLUMNS}
    else:
        out = dict(out)     # the caller's arrays, in a dict of our own: missing treaty arrays are added
        for name in PARTY_COLUMNS:
            if out[name].shape != (n_trials, parties.n_parties):
                raise ValueError(f"out[{name!r}] has shape {out[name].shape}; "
                                 f"need {(n_trials, parties.n_parties)}")
            out[name].fill(0.0)
    member_cols = np.arange(1, 1 + n_members)
    reinsurer_cols = np.arange(1 + n_members, parties.n_parties)

    # Every treaty in order (the pool's, then each member's own), and the lines it covers: one row
    # of covered_lines per distinct set, from which the kernel makes each trial's masks.
    placed_treaties = placed_in_order(programmes)
    for name in TREATY_COLUMNS:
        if out.get(name) is None or out[name].shape != (n_trials, len(placed_treaties)):
            out[name] = np.zeros((n_trials, len(placed_treaties)))
    cedant, kind, terms, fractions = treaty_arrays(placed_treaties, exposure.n_policies)
    first_of_set: dict[tuple[str, ...] | None, PlacedTreaty] = {}
    for placed in placed_treaties:
        first_of_set.setdefault(placed.treaty.lines, placed)
    line_sets = list(first_of_set)
    cover = np.array([line_sets.index(placed.treaty.lines) for placed in placed_treaties], dtype=np.int64)
    covered_lines = np.array([placed.covered_line for placed in first_of_set.values()],
                             dtype=np.bool_).reshape(len(line_sets), exposure.n_lines)

    # Members with a programme of their own get their own net; the others are shares of the pool's.
    own_members = [m for m in range(n_members) if programmes.members[m]]
    own_index = np.full(n_members, -1, dtype=np.int64)
    own_index[own_members] = np.arange(len(own_members))
    own_retained = np.array([programmes.pool_retained * programmes.member_retained[m] for m in own_members]
                            ).reshape(len(own_members), exposure.n_policies)
    shared = [m for m in range(n_members) if not programmes.members[m] and members[m].share != 0.0]
    # a member that left the pool (share 0) holds nothing
    pool_cat_retained = (programmes.pool_retained * programmes.member_retained[shared[0]] if shared
                         else np.empty(0))

    n_treaties = len(placed_treaties)
    ceded_by_trial = np.empty((n_treaties, n_trials))
    cat_ceded_by_trial = np.empty((n_treaties, n_trials))
    reinstatement_premium = np.empty((n_treaties, n_trials))
    pool_gross = np.empty(n_trials)
    pool_max_gross = np.empty(n_trials)
    own_total = np.empty((len(own_members), n_occ))
    member_max = np.empty((n_trials, n_members))
    own_cat_loss = np.empty((n_trials, len(own_members)))
    pool_cat_loss = np.empty(n_trials)
    pool_max_net = np.empty(n_trials)
    programmes_kernel(chunk.occ_offsets, chunk.risk_offsets, chunk.occ_day, chunk.occ_event, chunk.risk_policy,
                       chunk.risk_line, chunk.risk_loss, cedant, kind, terms, fractions, cover, covered_lines,
                       np.empty((len(line_sets), chunk.n_risk_losses), dtype=np.bool_),
                       shares, own_index, own_retained, pool_cat_retained,
                       np.empty(chunk.n_risk_losses), np.empty(chunk.n_risk_losses),
                       pool_gross, pool_max_gross, ceded_by_trial, cat_ceded_by_trial, reinstatement_premium,
                       own_total, member_max, own_cat_loss, pool_cat_loss, pool_max_net)
    outcomes = [_Outcome(placed, ceded_by_trial[i], cat_ceded_by_trial[i], reinstatement_premium[i])
                for i, placed in enumerate(placed_treaties)]
    for own, m in enumerate(own_members):
        out["cat_loss_after_proportional"][:, 1 + m] = own_cat_loss[:, own]
    for m in shared:
        out["cat_loss_after_proportional"][:, 1 + m] = members[m].share * pool_cat_loss
    out["max_occurrence_net"][:, 1:1 + n_members] = member_max

    # What each reinsurer owes and receives; each member's recoveries and premiums.
    credit = np.array([regulation.credit_factor(r.rating, r.default_probability, r.domestic_solvency_ratio)
                       for r in reinsurers], dtype=np.float64)
    owed = np.zeros((n_trials, n_reinsurers))
    if collectible is not None:
        collectible[...] = 0.0
    for outcome in outcomes:
        placed = outcome.placed
        portion = _portions(placed, shares)
        for column, per_trial in (("ceded_loss", outcome.ceded),
                                  ("reinstatement_premium", outcome.reinstatement_premium),
                                  ("ceded_premium", placed.ceded_premium),
                                  ("commission", placed.commission)):
            out[column][:, member_cols] += np.multiply.outer(per_trial, portion)
        if placed.treaty.type == "cat_xl":
            out["cat_xl_recovery"][:, member_cols] += np.outer(outcome.cat_ceded, portion)
        owed += np.outer(outcome.ceded, placed.panel)
        if collectible is not None:
            collectible += (outcome.ceded[:, None, None] * portion[None, :, None]) * placed.panel[None, None, :]
        out["gross_premium"][:, reinsurer_cols] += np.outer(
            placed.ceded_premium + outcome.reinstatement_premium, placed.panel)
        out["commission"][:, reinsurer_cols] += placed.commission * placed.panel[None, :]

    # Defaults: a draw below the default probability, or owing more than its assets.
    draws = (uniform_table(seed, STREAM_DEFAULT, chunk.first_trial, n_trials, n_reinsurers)
             if default_draws is None else default_draws)
    default_probability = np.array([r.default_probability for r in reinsurers], dtype=np.float64)
    capital = (np.array([r.capital for r in reinsurers], dtype=np.float64)[None, :]
               if reinsurer_capital is None else reinsurer_capital)
    recovery_rate = np.array([r.recovery_rate for r in reinsurers], dtype=np.float64)
    earlier = np.zeros((n_trials, n_reinsurers)) if earlier_owed is None else earlier_owed
    premium_kept = out["gross_premium"][:, reinsurer_cols] - out["commission"][:, reinsurer_cols]
    paid_share, defaulted = reinsurer_payments(owed, earlier, capital, premium_kept,
                                               draws < default_probability[None, :], recovery_rate)
    unpaid_share = 1.0 - paid_share                          # (n_trials, n_reinsurers)
    if paid_fraction is not None:
        paid_fraction[...] = paid_share
    if collectible is not None:
        collectible *= paid_share[:, None, :]
    unpaid = owed * unpaid_share
    out["gross_loss"][:, reinsurer_cols] = owed
    out["default_loss"][:, reinsurer_cols] = unpaid
    out["net_loss"][:, reinsurer_cols] = owed - unpaid
    out["defaulted"][:, reinsurer_cols] = defaulted
    # C-ROSS credit risk: on the recoveries still to be received at the year end, each at its
    # reinsurer's factor, after what a default already took (see year_end_receivable_share).
    credit_weighted = np.zeros((n_trials, n_members))
    for outcome in outcomes:
        weighted = outcome.ceded * ((paid_share * credit[None, :]) @ outcome.placed.panel)
        credit_weighted += np.outer(weighted, _portions(outcome.placed, shares))
    out["credit_exposure"][:, member_cols] = credit_weighted * year_end_receivable_share(chunk, scenario)[:, None]
    for i, outcome in enumerate(outcomes):
        shortfall = outcome.ceded * (unpaid_share @ outcome.placed.panel)
        out["default_loss"][:, member_cols] += np.outer(shortfall, _portions(outcome.placed, shares))
        out["treaty_ceded_loss"][:, i] = outcome.ceded
        out["treaty_reinstatement_premium"][:, i] = outcome.reinstatement_premium
        out["treaty_default_loss"][:, i] = shortfall
        out["treaty_ceded_premium"][:, i] = outcome.placed.ceded_premium
        out["treaty_commission"][:, i] = outcome.placed.commission
        capacity = annual_capacity(outcome.placed)
        out["treaty_exhausted"][:, i] = (np.nan if capacity is None
                                         else outcome.ceded >= capacity * (1.0 - EXHAUSTED_TOLERANCE))

    # Members' own figures.
    gross_premium = float(exposure.premium.sum())
    member_gross_premium = shares * gross_premium
    out["gross_loss"][:, member_cols] = np.outer(pool_gross, shares)
    out["net_loss"][:, member_cols] = (out["gross_loss"][:, member_cols] - out["ceded_loss"][:, member_cols]
                                       + out["default_loss"][:, member_cols])
    out["gross_premium"][:, member_cols] = member_gross_premium
    out["expenses"][:, member_cols] = np.array([m.expense_ratio for m in members]) * member_gross_premium
    is_lead = np.array([m.role == "lead" for m in members])
    fee = scenario.pool.lead_fee * member_gross_premium
    out["lead_fee"][:, member_cols] = np.where(is_lead, fee[~is_lead].sum(), -fee)
    out["max_occurrence_gross"][:, member_cols] = np.outer(pool_max_gross, shares)
    # The year's recoveries lost to defaults count in the net OEP as in the net AEP. Recoveries are
    # not followed occurrence by occurrence, so the largest occurrence takes the upper bound of
    # what it may have lost: the year's whole shortfall, but never more than the largest gross
    # occurrence. A year of one occurrence then has net OEP = net AEP exactly.
    out["max_occurrence_net"][:, member_cols] = np.minimum(
        out["max_occurrence_net"][:, member_cols] + out["default_loss"][:, member_cols],
        out["max_occurrence_gross"][:, member_cols])
    pool_max_net = np.minimum(pool_max_net + out["default_loss"][:, member_cols].sum(axis=1), pool_max_gross)

    # The pool row: its own gross figures, the sums over members for the rest.
    for name in PARTY_COLUMNS:
        out[name][:, 0] = out[name][:, member_cols].sum(axis=1)
    out["gross_loss"][:, 0] = pool_gross
    out["gross_premium"][:, 0] = gross_premium
    out["max_occurrence_gross"][:, 0] = pool_max_gross
    out["max_occurrence_net"][:, 0] = pool_max_net
    out["defaulted"][:, 0] = 0.0
    out["lead_fee"][:, 0] = 0.0     # paid from followers to the lead: the members' sum is 0 (less rounding)
    return PartyArrays.from_mapping(out)
