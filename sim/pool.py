"""The pool allocator: gross losses of a chunk -> money of every party in every trial.

Data flow for one chunk (every arrow is numba over all trials of the chunk; the
Python loops run over treaties and members only)::

    risk_loss (100% pool)
      -> the pool's joint programme, treaty by treaty (each inures to the next)
      -> pool net x member share -> the member's own programme
      -> per treaty and trial: ceded loss, reinstatement premium
      -> panels: what each reinsurer owes; defaults; shortfalls back to the cedants
      -> PARTY_COLUMNS, each (n_trials, n_parties)

Premiums of proportional treaties and deposit premiums of XL / stop loss are
fixed by the exposure, so :func:`place_programmes` works them out once per
call from the policies; only losses, recoveries and reinstatement premiums vary
by trial.

Who pays what for a pool treaty: members by pool share. A reinsurer's
shortfall after a default goes back to each cedant member in proportion to
what it owed that member, so money is conserved in every trial::

    pool gross = sum of members' net + sum of reinsurers' paid
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import regulation
from .jit import parallel_jit, prange
from .model import Scenario, Treaty
from .occurrences import Exposure, LossChunk
from .parties import PARTY_COLUMNS, Parties
from .rng import STREAM_DEFAULT, uniform_table
from . import treaties as tr

POOL = -1   # cedant of a treaty of the pool's joint programme; members are 0 .. n_members-1
PROPORTIONAL = ("quota_share", "surplus")


@dataclass(frozen=True)
class PlacedTreaty:
    """A treaty as placed for one cedant, with its premiums in money (fixed per scenario).

    Attributes
    ----------
    cedant : int
        ``POOL`` (-1) or the member's index.
    covered_line : bool (n_lines,)
    panel : float64 (n_reinsurers,)
        Each reinsurer's share of the treaty.
    ceded_fraction : float64 (n_policies,) or None
        Surplus only: the share of each policy's loss and premium ceded.
    subject_premium : float
        The cedant's covered premium still retained after its earlier proportional treaties.
    ceded_premium : float
        Proportional: premium ceded; XL and stop loss: deposit premium.
    line_ceded_premium : float64 (n_lines,)
        Proportional ceded premium by line (zeros for XL and stop loss).
    commission : float
        Paid by the reinsurers to the cedant.
    """

    treaty: Treaty
    cedant: int
    covered_line: np.ndarray
    panel: np.ndarray
    ceded_fraction: np.ndarray | None
    subject_premium: float
    ceded_premium: float
    line_ceded_premium: np.ndarray
    commission: float

    @property
    def proportional(self) -> bool:
        return self.treaty.type in PROPORTIONAL


@dataclass(frozen=True)
class Programmes:
    """Every placed treaty, and the share of each policy left after proportional cover.

    ``pool_retained`` (n_policies,) is the pool's; ``member_retained`` (n_members, n_policies)
    is each member's own, on top of the pool's.
    """

    pool: tuple[PlacedTreaty, ...]
    members: tuple[tuple[PlacedTreaty, ...], ...]
    pool_retained: np.ndarray
    member_retained: np.ndarray


# ---------------------------------------------------------------------------
# Placing the programmes (premiums, fixed per scenario)
# ---------------------------------------------------------------------------

def _covered_line(scenario: Scenario, treaty: Treaty) -> np.ndarray:
    covered = np.zeros(len(scenario.lines), dtype=np.bool_)
    if treaty.lines is None:
        covered[:] = True
    else:
        for name in treaty.lines:
            covered[scenario.line_index(name)] = True
    return covered


def _panel(scenario: Scenario, treaty: Treaty) -> np.ndarray:
    panel = np.zeros(len(scenario.reinsurers), dtype=np.float64)
    names = [reinsurer.name for reinsurer in scenario.reinsurers]
    for name, share in treaty.panel:
        if name not in names:
            raise ValueError(f"treaty panel names reinsurer {name!r}, which is not among "
                             f"the scenario's reinsurers {names}")
        panel[names.index(name)] += share
    return panel


def _place(scenario: Scenario, exposure: Exposure, treaties: tuple[Treaty, ...], cedant: int,
           premium: np.ndarray, sum_insured: np.ndarray) -> tuple[tuple[PlacedTreaty, ...], np.ndarray]:
    """Place one cedant's programme on its ``premium`` and ``sum_insured`` per policy (n_policies,).

    Returns the placed treaties and the share of each policy the cedant keeps
    after its proportional treaties, ``(n_policies,)``.
    """
    n_lines = exposure.n_lines
    retained = np.ones(exposure.n_policies, dtype=np.float64)
    placed = []
    for treaty in treaties:
        covered_line = _covered_line(scenario, treaty)
        covered = covered_line[exposure.line]
        subject = np.where(covered, premium * retained, 0.0)     # (n_policies,)
        subject_premium = float(subject.sum())
        ceded_fraction = None
        line_ceded = np.zeros(n_lines)
        if treaty.type == "quota_share":
            policy_fraction = np.where(covered, treaty.cession, 0.0)
        elif treaty.type == "surplus":
            ceded_fraction = tr.surplus_fraction(sum_insured, treaty.retention, treaty.surplus_lines)
            policy_fraction = np.where(covered, ceded_fraction, 0.0)
        if treaty.type in PROPORTIONAL:
            policy_ceded = policy_fraction * subject
            line_ceded = np.bincount(exposure.line, weights=policy_ceded, minlength=n_lines)
            ceded_premium = float(policy_ceded.sum())
            commission = treaty.commission * ceded_premium
            retained = retained * (1.0 - policy_fraction)
        elif treaty.type in ("per_risk_xl", "cat_xl"):
            ceded_premium, commission = treaty.layer_premium(), 0.0
        elif treaty.type == "stop_loss":
            ceded_premium, commission = treaty.rate * subject_premium, 0.0
        else:
            raise ValueError(f"unknown treaty type {treaty.type!r}; allowed: quota_share, surplus, "
                             "per_risk_xl, cat_xl, stop_loss")
        placed.append(PlacedTreaty(
            treaty=treaty, cedant=cedant, covered_line=covered_line, panel=_panel(scenario, treaty),
            ceded_fraction=ceded_fraction, subject_premium=subject_premium,
            ceded_premium=ceded_premium, line_ceded_premium=line_ceded, commission=commission))
    return tuple(placed), retained


def place_programmes(scenario: Scenario, exposure: Exposure) -> Programmes:
    """Place the pool's joint programme and every member's own programme.

    A member's programme works on its share of the pool: its premium per
    policy is ``share * premium`` still retained by the pool, and its surplus
    lines are set against ``share * sum_insured`` (what it actually holds of
    each risk).
    """
    pool, pool_retained = _place(scenario, exposure, scenario.pool.reinsurance, POOL,
                                 exposure.premium, exposure.sum_insured)
    members, member_retained = [], []
    for m, member in enumerate(scenario.pool.members):
        placed, retained = _place(scenario, exposure, member.reinsurance, m,
                                  member.share * exposure.premium * pool_retained,
                                  member.share * exposure.sum_insured)
        members.append(placed)
        member_retained.append(retained)
    member_retained = (np.array(member_retained) if member_retained
                       else np.empty((0, exposure.n_policies)))
    return Programmes(pool=pool, members=tuple(members), pool_retained=pool_retained,
                      member_retained=member_retained)


def _portions(placed: PlacedTreaty, shares: np.ndarray) -> np.ndarray:
    """Each member's part of a treaty's money, ``(n_members,)``: pool share, or 1 for its own."""
    if placed.cedant == POOL:
        return shares
    portion = np.zeros_like(shares)
    portion[placed.cedant] = 1.0
    return portion


# ---------------------------------------------------------------------------
# Static party facts
# ---------------------------------------------------------------------------

def parties(scenario: Scenario, exposure: Exposure) -> Parties:
    """The parties (pool, members, reinsurers) and their fixed premiums and capital.

    Reinsurers' ``line_gross_premium`` is the premium they receive: their panel
    share of proportional premium by line, plus of deposit premiums spread over
    the treaty's covered lines pro rata to the pool's gross premium there. The
    pool row holds the sums over members, as in the per-trial columns.
    """
    members = scenario.pool.members
    reinsurers = scenario.reinsurers
    n_members, n_reinsurers = len(members), len(reinsurers)
    n_parties = 1 + n_members + n_reinsurers
    n_lines = exposure.n_lines
    programmes = place_programmes(scenario, exposure)
    shares = np.array([member.share for member in members], dtype=np.float64)
    line_premium = exposure.line_premium()

    line_gross = np.zeros((n_parties, n_lines))
    line_proportional = np.zeros((n_parties, n_lines))
    nonproportional = np.zeros(n_parties)
    member_rows = slice(1, 1 + n_members)
    reinsurer_rows = slice(1 + n_members, n_parties)
    line_gross[member_rows] = shares[:, None] * line_premium[None, :]
    for placed in programmes.pool + tuple(p for own in programmes.members for p in own):
        portion = _portions(placed, shares)
        if placed.proportional:
            line_proportional[member_rows] += portion[:, None] * placed.line_ceded_premium[None, :]
            line_gross[reinsurer_rows] += placed.panel[:, None] * placed.line_ceded_premium[None, :]
        else:
            nonproportional[member_rows] += portion * placed.ceded_premium
            weights = np.where(placed.covered_line, line_premium, 0.0)
            if weights.sum() > 0:
                line_gross[reinsurer_rows] += (placed.panel[:, None] * placed.ceded_premium
                                               * (weights / weights.sum())[None, :])
    line_gross[0] = line_gross[member_rows].sum(axis=0)
    line_proportional[0] = line_proportional[member_rows].sum(axis=0)
    nonproportional[0] = nonproportional[member_rows].sum()

    capital = np.array([sum(member.capital for member in members)]
                       + [member.capital for member in members]
                       + [reinsurer.capital for reinsurer in reinsurers], dtype=np.float64)
    return Parties(
        names=("pool",) + tuple(m.name for m in members) + tuple(r.name for r in reinsurers),
        kinds=("pool",) + ("member",) * n_members + ("reinsurer",) * n_reinsurers,
        roles=("",) + tuple(m.role for m in members) + ("",) * n_reinsurers,
        share=np.concatenate([[1.0], shares, np.zeros(n_reinsurers)]),
        capital_start=capital,
        line_gross_premium=line_gross,
        line_proportional_ceded_premium=line_proportional,
        nonproportional_premium=nonproportional,
    )


# ---------------------------------------------------------------------------
# Kernels for the per-occurrence facts of a party
# ---------------------------------------------------------------------------

@parallel_jit
def _occurrence_totals(occ_offsets, risk_offsets, values, occ_total, trial_total, trial_max):
    """Add ``values`` (n_risk,) by occurrence into ``occ_total`` (n_occ,);
    write their trial sum and largest occurrence, ``trial_total`` and ``trial_max`` (n_trials,)."""
    n_trials = len(occ_offsets) - 1
    for t in prange(n_trials):
        total = 0.0
        largest = 0.0
        for k in range(occ_offsets[t], occ_offsets[t + 1]):
            occurrence = 0.0
            for r in range(risk_offsets[k], risk_offsets[k + 1]):
                occurrence += values[r]
            occ_total[k] += occurrence
            total += occurrence
            largest = max(largest, occurrence)
        trial_total[t] = total
        trial_max[t] = largest


@parallel_jit
def _members_occurrence_totals(occ_offsets, risk_offsets, pool_net, shares, own_index, own_total,
                               occ_net_total, trial_max):
    """Every member's occurrence net loss in one pass; add them, in member order, to ``occ_net_total``.

    A member ``m`` with ``own_index[m] < 0`` has no programme of its own: its
    occurrence is ``shares[m]`` times the pool's net occurrence, which is
    summed once for all of them; the others' occurrence totals are given in
    ``own_total[own_index[m]]`` (n_own, n_occ). ``trial_max`` (n_trials,
    n_members) gets each member's largest occurrence.
    """
    n_trials = len(occ_offsets) - 1
    n_members = len(shares)
    for t in prange(n_trials):
        for m in range(n_members):
            trial_max[t, m] = 0.0
        for k in range(occ_offsets[t], occ_offsets[t + 1]):
            pool_occurrence = 0.0
            for r in range(risk_offsets[k], risk_offsets[k + 1]):
                pool_occurrence += pool_net[r]
            for m in range(n_members):
                if own_index[m] >= 0:
                    occurrence = own_total[own_index[m], k]
                else:
                    occurrence = shares[m] * pool_occurrence
                occ_net_total[k] += occurrence
                trial_max[t, m] = max(trial_max[t, m], occurrence)


@parallel_jit
def _largest_occurrence(occ_offsets, occ_values, trial_max):
    """Largest of ``occ_values`` (n_occ,) in each trial (0 without occurrences), ``(n_trials,)``."""
    n_trials = len(occ_offsets) - 1
    for t in prange(n_trials):
        largest = 0.0
        for k in range(occ_offsets[t], occ_offsets[t + 1]):
            largest = max(largest, occ_values[k])
        trial_max[t] = largest


@parallel_jit
def _catastrophe_loss(occ_offsets, risk_offsets, occ_event, risk_loss, risk_policy, retained, scale, out):
    """Catastrophe-event loss per trial, ``scale * risk_loss * retained[policy]`` summed over risk
    losses of events (``occ_event >= 0``): the loss net of proportional cover. ``out`` (n_trials,)."""
    n_trials = len(occ_offsets) - 1
    for t in prange(n_trials):
        total = 0.0
        for k in range(occ_offsets[t], occ_offsets[t + 1]):
            if occ_event[k] < 0:
                continue
            for r in range(risk_offsets[k], risk_offsets[k + 1]):
                total += risk_loss[r] * retained[risk_policy[r]]
        out[t] = scale * total


@parallel_jit
def _scaled(values, scale, out):
    for r in prange(len(values)):
        out[r] = scale * values[r]


# ---------------------------------------------------------------------------
# Applying a programme to a chunk
# ---------------------------------------------------------------------------

@dataclass
class _Outcome:
    """One placed treaty's per-trial results, each ``(n_trials,)``."""

    placed: PlacedTreaty
    ceded: np.ndarray
    cat_ceded: np.ndarray
    reinstatement_premium: np.ndarray


def _apply(placed: PlacedTreaty, chunk: LossChunk, covered: np.ndarray, net: np.ndarray,
           ceded: np.ndarray) -> _Outcome:
    """Run one treaty on ``net`` (n_risk,), in place; ``ceded`` (n_risk,) is scratch."""
    treaty = placed.treaty
    occ, risk = chunk.occ_offsets, chunk.risk_offsets
    n_trials = chunk.n_trials
    reinstatement_premium = np.zeros(n_trials)
    ceded_by_trial = np.empty(n_trials)
    cat_ceded_by_trial = np.empty(n_trials)
    # the kernel takes the ceded loss off ``net`` and sums it by trial as it goes
    retain = (chunk.occ_event, ceded_by_trial, cat_ceded_by_trial)
    if treaty.type == "quota_share":
        tr.quota_share(occ, risk, covered, net, treaty.cession, ceded=ceded, retain=retain)
    elif treaty.type == "surplus":
        tr.surplus(occ, risk, covered, net, chunk.risk_policy, placed.ceded_fraction, ceded=ceded, retain=retain)
    elif treaty.type in ("per_risk_xl", "cat_xl"):
        _, reinstatement_premium = tr.excess_of_loss(
            treaty.type == "cat_xl", occ, risk, chunk.occ_day, covered, net,
            retention=treaty.retention, limit=treaty.limit, reinstatements=treaty.reinstatements,
            reinstatement_premium=treaty.reinstatement_premium, layer_premium=treaty.layer_premium(),
            aggregate_deductible=treaty.aggregate_deductible, aggregate_limit=treaty.aggregate_limit,
            pro_rata_time=treaty.reinstatement_basis == "amount_and_time", ceded=ceded, retain=retain)
    else:  # stop_loss
        tr.stop_loss(occ, risk, covered, net, attachment=treaty.attachment, limit=treaty.limit,
                     subject_premium=placed.subject_premium, ceded=ceded, retain=retain)
    return _Outcome(placed, ceded_by_trial, cat_ceded_by_trial, reinstatement_premium)


def allocate_chunk(scenario: Scenario, exposure: Exposure, parties: Parties, chunk: LossChunk,
                   seed: int, reinsurer_capital: np.ndarray | None = None,
                   default_draws: np.ndarray | None = None,
                   collectible: np.ndarray | None = None,
                   out: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
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
    out : dict of float64 (n_trials, n_parties), optional
        Where to write the result, one array per name in ``PARTY_COLUMNS``
        (overwritten): the runner passes its full-run arrays' rows for the
        chunk, which saves allocating and then copying them.

    Returns
    -------
    dict
        One float64 ``(n_trials, n_parties)`` array per name in ``PARTY_COLUMNS``.
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
        for name in PARTY_COLUMNS:
            if out[name].shape != (n_trials, parties.n_parties):
                raise ValueError(f"out[{name!r}] has shape {out[name].shape}; "
                                 f"need {(n_trials, parties.n_parties)}")
            out[name].fill(0.0)
    member_cols = np.arange(1, 1 + n_members)
    reinsurer_cols = np.arange(1 + n_members, parties.n_parties)

    coverage: dict[tuple[str, ...] | None, np.ndarray] = {}

    def covered(placed: PlacedTreaty) -> np.ndarray:
        key = placed.treaty.lines
        if key not in coverage:
            coverage[key] = placed.covered_line[chunk.risk_line]
        return coverage[key]

    # The pool: gross, then its joint programme on 100% of the losses.
    scratch = np.empty(chunk.n_risk_losses)
    occ_total = np.zeros(n_occ)
    pool_gross = np.empty(n_trials)
    pool_max_gross = np.empty(n_trials)
    _occurrence_totals(chunk.occ_offsets, chunk.risk_offsets, chunk.risk_loss,
                       occ_total, pool_gross, pool_max_gross)
    pool_net = chunk.risk_loss.copy()
    outcomes = [_apply(placed, chunk, covered(placed), pool_net, scratch) for placed in programmes.pool]

    # Each member: its share of the pool's net, then its own programme. A member with no
    # programme of its own needs no copy of the losses: one pass below does them all.
    occ_net_total = np.zeros(n_occ)
    member_net = np.empty(chunk.n_risk_losses)
    own_index = np.full(n_members, -1, dtype=np.int64)
    own_members = [m for m in range(n_members) if programmes.members[m]]
    own_index[own_members] = np.arange(len(own_members))
    own_total = np.zeros((len(own_members), n_occ))
    trial_total = np.empty(n_trials)
    trial_max = np.empty(n_trials)
    cat_loss = np.empty(n_trials)
    pool_cat_loss = None     # the pool's, for the members with no own programme (scaled by share)
    for m, member in enumerate(members):
        if programmes.members[m]:
            _scaled(pool_net, member.share, member_net)
            for placed in programmes.members[m]:
                outcomes.append(_apply(placed, chunk, covered(placed), member_net, scratch))
            _occurrence_totals(chunk.occ_offsets, chunk.risk_offsets, member_net,
                               own_total[own_index[m]], trial_total, trial_max)
            _catastrophe_loss(chunk.occ_offsets, chunk.risk_offsets, chunk.occ_event, chunk.risk_loss,
                              chunk.risk_policy, programmes.pool_retained * programmes.member_retained[m],
                              member.share, cat_loss)
            out["cat_loss_after_proportional"][:, 1 + m] = cat_loss
        elif member.share != 0.0:     # a member that left the pool (share 0) holds nothing
            if pool_cat_loss is None:
                pool_cat_loss = np.empty(n_trials)
                _catastrophe_loss(chunk.occ_offsets, chunk.risk_offsets, chunk.occ_event, chunk.risk_loss,
                                  chunk.risk_policy, programmes.pool_retained * programmes.member_retained[m],
                                  1.0, pool_cat_loss)
            out["cat_loss_after_proportional"][:, 1 + m] = member.share * pool_cat_loss
    member_max = np.empty((n_trials, n_members))
    _members_occurrence_totals(chunk.occ_offsets, chunk.risk_offsets, pool_net, shares, own_index, own_total,
                               occ_net_total, member_max)
    out["max_occurrence_net"][:, 1:1 + n_members] = member_max

    # What each reinsurer owes and receives; each member's recoveries and premiums.
    credit = np.array([regulation.credit_factor(r.rating) for r in reinsurers], dtype=np.float64)
    owed = np.zeros((n_trials, n_reinsurers))
    if collectible is not None:
        collectible[...] = 0.0
    for outcome in outcomes:
        placed = outcome.placed
        portion = _portions(placed, shares)
        for column, per_trial in (("ceded_loss", outcome.ceded),
                                  ("reinstatement_premium", outcome.reinstatement_premium),
                                  ("ceded_premium", placed.ceded_premium),
                                  ("commission", placed.commission),
                                  ("credit_exposure", outcome.ceded * (placed.panel @ credit))):
            out[column][:, member_cols] += np.multiply.outer(per_trial, portion)
        if placed.treaty.type == "cat_xl":
            out["cat_xl_recovery"][:, member_cols] += np.outer(outcome.cat_ceded, portion)
        owed += np.outer(outcome.ceded, placed.panel)
        if collectible is not None:
            collectible += (outcome.ceded[:, None, None] * portion[None, :, None]) * placed.panel[None, None, :]
        out["gross_premium"][:, reinsurer_cols] += np.outer(
            placed.ceded_premium + outcome.reinstatement_premium, placed.panel)
        out["commission"][:, reinsurer_cols] += placed.commission * placed.panel[None, :]

    # Defaults: a draw below the default probability, or owing more than its capital.
    draws = (uniform_table(seed, STREAM_DEFAULT, chunk.first_trial, n_trials, n_reinsurers)
             if default_draws is None else default_draws)
    default_probability = np.array([r.default_probability for r in reinsurers], dtype=np.float64)
    capital = (np.array([r.capital for r in reinsurers], dtype=np.float64)[None, :]
               if reinsurer_capital is None else reinsurer_capital)
    recovery_rate = np.array([r.recovery_rate for r in reinsurers], dtype=np.float64)
    defaulted = (draws < default_probability[None, :]) | (owed > capital)
    unpaid_share = np.where(defaulted, 1.0 - recovery_rate[None, :], 0.0)   # (n_trials, n_reinsurers)
    if collectible is not None:
        collectible *= 1.0 - unpaid_share[:, None, :]
    unpaid = owed * unpaid_share
    out["gross_loss"][:, reinsurer_cols] = owed
    out["default_loss"][:, reinsurer_cols] = unpaid
    out["net_loss"][:, reinsurer_cols] = owed - unpaid
    out["defaulted"][:, reinsurer_cols] = defaulted
    for outcome in outcomes:
        shortfall = outcome.ceded * (unpaid_share @ outcome.placed.panel)
        out["default_loss"][:, member_cols] += np.outer(shortfall, _portions(outcome.placed, shares))

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

    # The pool row: its own gross figures, the sums over members for the rest.
    for name in PARTY_COLUMNS:
        out[name][:, 0] = out[name][:, member_cols].sum(axis=1)
    out["gross_loss"][:, 0] = pool_gross
    out["gross_premium"][:, 0] = gross_premium
    out["max_occurrence_gross"][:, 0] = pool_max_gross
    _largest_occurrence(chunk.occ_offsets, occ_net_total, trial_max)
    out["max_occurrence_net"][:, 0] = trial_max
    out["defaulted"][:, 0] = 0.0
    return out
