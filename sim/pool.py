"""The pool allocator: gross losses of a chunk -> money of every party in every trial.

Data flow for one chunk. The first three steps run in one numba kernel,
trial by trial (:func:`_programmes_kernel`); the rest is NumPy on per-trial
arrays, with Python loops over treaties and members only::

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

import math
from dataclasses import dataclass

import numpy as np

from . import regulation
from .jit import jit, parallel_jit, prange, unowned
from .model import Scenario, Treaty
from .occurrences import DAYS_IN_YEAR, Exposure, LossChunk
from .parties import PARTY_COLUMNS, TREATY_COLUMNS, Parties
from .party_arrays import PartyArrays
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
    line_subject_premium : float64 (n_lines,)
        ``subject_premium`` by line.
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
    line_subject_premium: np.ndarray
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

    Each treaty works on what the treaties before it leave: on premium and
    losses net of them, and a surplus sets its lines against the part of each
    sum insured still retained (after a 50% quota share, half of it).

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
            ceded_fraction = tr.surplus_fraction(sum_insured * retained, treaty.retention, treaty.surplus_lines)
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
            line_subject_premium=np.bincount(exposure.line, weights=subject, minlength=n_lines),
            ceded_premium=ceded_premium, line_ceded_premium=line_ceded, commission=commission))
    return tuple(placed), retained


def place_programmes(scenario: Scenario, exposure: Exposure) -> Programmes:
    """Place the pool's joint programme and every member's own programme.

    A member's programme works on its share of the pool: its premium per
    policy is ``share * premium`` still retained by the pool, and its surplus
    lines are set against ``share * sum_insured`` still retained by the pool
    (what it actually holds of each risk).
    """
    pool, pool_retained = _place(scenario, exposure, scenario.pool.reinsurance, POOL,
                                 exposure.premium, exposure.sum_insured)
    members, member_retained = [], []
    for m, member in enumerate(scenario.pool.members):
        placed, retained = _place(scenario, exposure, member.reinsurance, m,
                                  member.share * exposure.premium * pool_retained,
                                  member.share * exposure.sum_insured * pool_retained)
        members.append(placed)
        member_retained.append(retained)
    member_retained = (np.array(member_retained) if member_retained
                       else np.empty((0, exposure.n_policies)))
    return Programmes(pool=pool, members=tuple(members), pool_retained=pool_retained,
                      member_retained=member_retained)


# A layer counts as exhausted when its recoveries reach its capacity to this relative rounding.
EXHAUSTED_TOLERANCE = 1e-12


def annual_capacity(placed: PlacedTreaty) -> float | None:
    """The most a treaty can pay in a year (``inf`` if unlimited); ``None`` for proportional treaties.

    An XL layer: its aggregate limit, already at most (reinstatements + 1) × limit
    (:func:`sim.scenario.build_treaty`). A stop loss: its limit (a loss ratio) times
    its subject premium.
    """
    treaty = placed.treaty
    if placed.proportional:
        return None
    if treaty.type == "stop_loss":
        return treaty.limit * placed.subject_premium if placed.subject_premium > 0 else math.inf
    return treaty.aggregate_limit


def treaty_labels(scenario: Scenario) -> list[tuple[str, str, str]]:
    """``(cedant, treaty name, type)`` of every treaty in :func:`placed_in_order` order;
    the cedant is ``"pool"`` or the member's name."""
    labels = [("pool", treaty.name, treaty.type) for treaty in scenario.pool.reinsurance]
    for member in scenario.pool.members:
        labels += [(member.name, treaty.name, treaty.type) for treaty in member.reinsurance]
    return labels


def placed_in_order(programmes: Programmes) -> list[PlacedTreaty]:
    """Every placed treaty: the pool's programme in order, then each member's own in member order."""
    return list(programmes.pool) + [placed for own in programmes.members for placed in own]


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
    nonproportional = np.zeros((n_parties, n_lines))
    member_rows = slice(1, 1 + n_members)
    reinsurer_rows = slice(1 + n_members, n_parties)
    line_gross[member_rows] = shares[:, None] * line_premium[None, :]
    for placed in placed_in_order(programmes):
        portion = _portions(placed, shares)
        if placed.proportional:
            line_proportional[member_rows] += portion[:, None] * placed.line_ceded_premium[None, :]
            line_gross[reinsurer_rows] += placed.panel[:, None] * placed.line_ceded_premium[None, :]
        else:
            subject = placed.line_subject_premium
            spread = subject / subject.sum() if subject.sum() > 0 else placed.covered_line / placed.covered_line.sum()
            nonproportional[member_rows] += np.outer(portion * placed.ceded_premium, spread)
            weights = np.where(placed.covered_line, line_premium, 0.0)
            if weights.sum() > 0:
                line_gross[reinsurer_rows] += (placed.panel[:, None] * placed.ceded_premium
                                               * (weights / weights.sum())[None, :])
    line_gross[0] = line_gross[member_rows].sum(axis=0)
    line_proportional[0] = line_proportional[member_rows].sum(axis=0)
    nonproportional[0] = nonproportional[member_rows].sum(axis=0)

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
        line_nonproportional_premium=nonproportional,
    )


# ---------------------------------------------------------------------------
# Every programme, trial by trial
# ---------------------------------------------------------------------------

# Treaty kinds as the kernel knows them.
QUOTA_SHARE, SURPLUS, PER_RISK_XL, CAT_XL, STOP_LOSS = range(5)
_KIND = {"quota_share": QUOTA_SHARE, "surplus": SURPLUS, "per_risk_xl": PER_RISK_XL, "cat_xl": CAT_XL,
         "stop_loss": STOP_LOSS}
N_TERMS = 7     # the longest kernel argument list, an XL layer's (sim.treaties.xl_terms)


def _treaty_arrays(placed_treaties: list[PlacedTreaty], n_policies: int) -> tuple[np.ndarray, ...]:
    """``(cedant, kind, terms, fractions)`` of the placed treaties, in order, for the kernel.

    ``terms`` (n, N_TERMS) holds each treaty's kernel arguments: a quota share's
    cession; an XL layer's :func:`sim.treaties.xl_terms`; a stop loss's
    :func:`sim.treaties.stop_loss_terms`. ``fractions`` (n, n_policies) holds a
    surplus's ceded fraction per policy (no columns when there is no surplus).
    """
    n = len(placed_treaties)
    cedant = np.array([placed.cedant for placed in placed_treaties], dtype=np.int64)
    kind = np.array([_KIND[placed.treaty.type] for placed in placed_treaties], dtype=np.int64)
    terms = np.zeros((n, N_TERMS))
    any_surplus = any(placed.treaty.type == "surplus" for placed in placed_treaties)
    fractions = np.zeros((n, n_policies if any_surplus else 0))
    for i, placed in enumerate(placed_treaties):
        treaty = placed.treaty
        if treaty.type == "quota_share":
            terms[i, 0] = treaty.cession
        elif treaty.type == "surplus":
            fractions[i] = placed.ceded_fraction
        elif treaty.type in ("per_risk_xl", "cat_xl"):
            terms[i] = tr.xl_terms(treaty.retention, treaty.limit, treaty.reinstatements,
                                   treaty.reinstatement_premium, treaty.layer_premium(),
                                   treaty.aggregate_deductible, treaty.aggregate_limit,
                                   treaty.reinstatement_basis == "amount_and_time")
        else:
            terms[i, :2] = tr.stop_loss_terms(treaty.attachment, treaty.limit, placed.subject_premium)
    return cedant, kind, terms, fractions


@jit
def _treaty_trial(t, kind, terms, fraction, occ_offsets, risk_offsets, occ_day, occ_event, risk_policy,
                  covered, net, ceded):
    """One treaty on trial ``t`` of ``net``, which it leaves net of the treaty: what the
    :mod:`sim.treaties` kernel with ``retain=`` does for that trial (``ceded`` may be None:
    see :func:`sim.treaties._cede`). Returns the trial's
    ``(reinstatement premium, ceded, catastrophe ceded)``; the premium is 0 for treaties
    without reinstatements."""
    premium = 0.0
    if kind == QUOTA_SHARE:
        total, cat_total = tr._quota_share_trial(t, occ_offsets, risk_offsets, covered, net, terms[0], ceded,
                                                 True, occ_event)
    elif kind == SURPLUS:
        total, cat_total = tr._surplus_trial(t, occ_offsets, risk_offsets, covered, net, risk_policy, fraction,
                                             ceded, True, occ_event)
    elif kind == PER_RISK_XL or kind == CAT_XL:
        premium, total, cat_total = tr._excess_of_loss_trial(
            kind == CAT_XL, t, occ_offsets, risk_offsets, occ_day, covered, net, terms[0], terms[1], terms[2],
            terms[3], terms[4], terms[5], terms[6] != 0.0, ceded, True, occ_event)
    else:
        total, cat_total = tr._stop_loss_trial(t, occ_offsets, risk_offsets, covered, net, terms[0], terms[1],
                                               ceded, True, occ_event)
    return premium, total, cat_total


@jit
def _occurrence_totals_trial(t, occ_offsets, risk_offsets, values, occ_total, copy):
    """Trial ``t``'s ``(total, largest occurrence)`` of ``values`` (n_risk,); when ``occ_total``
    (n_occ,) is not empty, each occurrence's sum is written to it; when ``copy`` (n_risk,) is not
    empty, the trial's ``values`` are copied to it on the way."""
    total = 0.0
    largest = 0.0
    copying = copy.shape[0] > 0
    for k in range(occ_offsets[t], occ_offsets[t + 1]):
        occurrence = 0.0
        for r in range(risk_offsets[k], risk_offsets[k + 1]):
            occurrence += values[r]
            if copying:
                copy[r] = values[r]
        if occ_total.shape[0] > 0:
            occ_total[k] = occurrence
        total += occurrence
        largest = max(largest, occurrence)
    return total, largest


@jit
def _members_occurrence_trial(t, occ_offsets, risk_offsets, pool_net, shares, own_index, own_total, trial_max):
    """Every member's occurrence net loss in trial ``t``, and their sum in member order.

    A member ``m`` with ``own_index[m] < 0`` has no programme of its own: its
    occurrence is ``shares[m]`` times the pool's net occurrence, which is
    summed once for all of them; the others' occurrence totals are given in
    ``own_total[own_index[m]]`` (n_own, n_occ). ``trial_max`` (n_trials,
    n_members) gets each member's largest occurrence. Returns the largest of
    the members' summed occurrences: the pool's largest net occurrence.

    Member by member over the trial's occurrences, not occurrence by
    occurrence over the members: the inner loops then run over arrays with
    no branch. Each occurrence's sum still adds the members in their order.
    """
    first, stop = occ_offsets[t], occ_offsets[t + 1]
    pool_occurrence = np.empty(stop - first)
    summed = np.zeros(stop - first)
    pool_largest = 0.0
    for k in range(first, stop):
        occurrence = 0.0
        for r in range(risk_offsets[k], risk_offsets[k + 1]):
            occurrence += pool_net[r]
        pool_occurrence[k - first] = occurrence
        pool_largest = max(pool_largest, occurrence)
    for m in range(len(shares)):
        own = own_index[m]
        if own >= 0:
            member_largest = 0.0
            for k in range(first, stop):
                occurrence = own_total[own, k]
                member_largest = max(member_largest, occurrence)
                summed[k - first] += occurrence
            trial_max[t, m] = member_largest
        else:
            share = shares[m]
            for i in range(stop - first):
                summed[i] += share * pool_occurrence[i]
            # The largest of share * occurrence is share * the largest occurrence, exactly:
            # shares are >= 0 and rounding a product is monotone in its factor.
            trial_max[t, m] = share * pool_largest
    largest = 0.0
    for i in range(stop - first):
        largest = max(largest, summed[i])
    return largest


@jit
def _catastrophe_loss_trial(t, occ_offsets, risk_offsets, occ_event, risk_loss, risk_policy, retained, scale):
    """Catastrophe-event loss of trial ``t``, ``scale * risk_loss * retained[policy]`` summed over
    risk losses of events (``occ_event >= 0``): the loss net of proportional cover."""
    total = 0.0
    for k in range(occ_offsets[t], occ_offsets[t + 1]):
        if occ_event[k] < 0:
            continue
        for r in range(risk_offsets[k], risk_offsets[k + 1]):
            total += risk_loss[r] * retained[risk_policy[r]]
    return scale * total


@parallel_jit
def _programmes_kernel(occ_offsets, risk_offsets, occ_day, occ_event, risk_policy, risk_line, risk_loss,
                       cedant, kind, terms, fractions, cover, line_sets, covered,
                       shares, own_index, own_retained, pool_cat_retained,
                       pool_net, member_net,
                       pool_gross, pool_max_gross, ceded_by_trial, cat_ceded_by_trial, premium,
                       own_total, member_max, own_cat_loss, pool_cat_loss, pool_max_net):
    """The pool's programme and every member's own, on every trial, trial by trial.

    Each trial's risk losses go through all the steps while they are in the
    CPU's cache: its gross totals; the pool's treaties in order, on ``pool_net``;
    for each member with a programme of its own, its share of the pool's net in
    ``member_net`` and its treaties; the members' occurrence totals. Separate
    passes over the whole chunk, one per step, spent most of their time
    waiting for memory.

    Treaty ``i`` (``cedant``, ``kind``, ``terms``, ``fractions`` from
    :func:`_treaty_arrays`) covers the lines ``line_sets[cover[i]]`` (n_sets,
    n_lines) and writes its results by trial to ``ceded_by_trial[i]``,
    ``cat_ceded_by_trial[i]`` and ``premium[i]`` (each (n_treaties, n_trials)).
    ``own_index[m]`` is member ``m``'s row of ``own_total`` (n_own, n_occ),
    ``own_retained`` (n_own, n_policies) and ``own_cat_loss`` (n_trials,
    n_own), or -1 without a programme of its own; ``pool_cat_retained``
    (n_policies, or empty) gives ``pool_cat_loss`` for the members without.
    ``pool_net``, ``member_net`` (n_risk,), ``covered`` (n_sets, n_risk: each
    line set's mask, made trial by trial from ``risk_line``) and ``own_total``
    are scratch. No treaty's loss per risk loss is kept: only the nets and the sums.
    """
    n_trials = len(occ_offsets) - 1
    n_treaties = len(kind)
    n_members = len(shares)
    no_occurrences = np.empty(0, dtype=np.float64)
    no_copy = np.empty(0, dtype=np.float64)
    no_ceded = None      # only the nets and the sums are wanted (sim.treaties._cede)
    every_line = np.empty(line_sets.shape[0], dtype=np.bool_)
    for line_set in range(line_sets.shape[0]):
        every_line[line_set] = line_sets[line_set].all()
    for t in prange(n_trials):
        # views without reference counts for the per-trial calls (see sim.jit.unowned)
        occ_offsets_, risk_offsets_, occ_day_, occ_event_ = (unowned(occ_offsets), unowned(risk_offsets),
                                                             unowned(occ_day), unowned(occ_event))
        risk_policy_, risk_loss_, terms_, fractions_ = (unowned(risk_policy), unowned(risk_loss), unowned(terms),
                                                        unowned(fractions))
        covered_, pool_net_, member_net_ = unowned(covered), unowned(pool_net), unowned(member_net)
        own_total_, own_retained_, member_max_ = unowned(own_total), unowned(own_retained), unowned(member_max)
        first = risk_offsets_[occ_offsets_[t]]
        last = risk_offsets_[occ_offsets_[t + 1]]
        for line_set in range(line_sets.shape[0]):
            if every_line[line_set]:
                covered_[line_set, first:last] = True       # most treaties: a fill, no look-ups
            else:
                for r in range(first, last):
                    covered_[line_set, r] = line_sets[line_set, risk_line[r]]
        pool_gross[t], pool_max_gross[t] = _occurrence_totals_trial(t, occ_offsets_, risk_offsets_, risk_loss_,
                                                                     no_occurrences, pool_net_)
        for i in range(n_treaties):
            if cedant[i] == POOL:
                premium[i, t], ceded_by_trial[i, t], cat_ceded_by_trial[i, t] = _treaty_trial(
                    t, kind[i], terms_[i], fractions_[i], occ_offsets_, risk_offsets_, occ_day_, occ_event_,
                    risk_policy_, covered_[cover[i]], pool_net_, no_ceded)
        for m in range(n_members):
            own = own_index[m]
            if own < 0:
                continue
            for r in range(first, last):
                member_net_[r] = shares[m] * pool_net_[r]
            for i in range(n_treaties):
                if cedant[i] == m:
                    premium[i, t], ceded_by_trial[i, t], cat_ceded_by_trial[i, t] = _treaty_trial(
                        t, kind[i], terms_[i], fractions_[i], occ_offsets_, risk_offsets_, occ_day_, occ_event_,
                        risk_policy_, covered_[cover[i]], member_net_, no_ceded)
            _occurrence_totals_trial(t, occ_offsets_, risk_offsets_, member_net_, own_total_[own], no_copy)
            own_cat_loss[t, own] = _catastrophe_loss_trial(t, occ_offsets_, risk_offsets_, occ_event_, risk_loss_,
                                                           risk_policy_, own_retained_[own], shares[m])
        if pool_cat_retained.shape[0] > 0:
            pool_cat_loss[t] = _catastrophe_loss_trial(t, occ_offsets_, risk_offsets_, occ_event_, risk_loss_,
                                                       risk_policy_, unowned(pool_cat_retained), 1.0)
        pool_max_net[t] = _members_occurrence_trial(t, occ_offsets_, risk_offsets_, pool_net_, shares, own_index,
                                                    own_total_, member_max_)


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
    cedant, kind, terms, fractions = _treaty_arrays(placed_treaties, exposure.n_policies)
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
    _programmes_kernel(chunk.occ_offsets, chunk.risk_offsets, chunk.occ_day, chunk.occ_event, chunk.risk_policy,
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
