"""The pool's kernel: every treaty of every programme on every trial, trial by trial (numba).

:func:`programmes_kernel` takes each trial's risk losses through the pool's
programme, each member's share of the pool's net and its own programme, and the
members' occurrence totals, while they are in the CPU's cache. Each placed
treaty reaches it as a row of named terms (:class:`KernelTerms`, read in the
kernel by the column names below) and a kind.
"""
from __future__ import annotations

from dataclasses import astuple, dataclass, fields

import numpy as np

from .jit import jit, parallel_jit, prange, unowned
from . import treaties as tr

POOL = -1   # cedant of a treaty of the pool's joint programme; members are 0 .. n_members-1

# Treaty kinds as the kernel knows them.
QUOTA_SHARE, SURPLUS, PER_RISK_XL, CAT_XL, STOP_LOSS = range(5)
_KIND = {"quota_share": QUOTA_SHARE, "surplus": SURPLUS, "per_risk_xl": PER_RISK_XL, "cat_xl": CAT_XL,
         "stop_loss": STOP_LOSS}


@dataclass(frozen=True)
class KernelTerms:
    """One placed treaty's terms as the kernel reads them: money, not ratios.

    A treaty uses the fields of its kind, the others stay 0: a quota share its
    ``cession``; an XL layer (per risk or cat) ``retention``, ``limit``,
    ``aggregate_deductible``, ``aggregate_limit``, ``reinstatable`` (the layer's
    capacity that reinstatements restore), ``reinstatement_rate`` (premium per unit
    reinstated) and ``pro_rata_time`` (1.0 when reinstatement premium is pro rata
    to the time left too; see :func:`sim.treaties.xl_terms`); a stop loss its
    ``attachment`` and ``limit`` in money (:func:`sim.treaties.stop_loss_terms`).
    A surplus has none: its ceded fraction is per policy.
    """

    cession: float = 0.0
    retention: float = 0.0
    limit: float = 0.0
    aggregate_deductible: float = 0.0
    aggregate_limit: float = 0.0
    reinstatable: float = 0.0
    reinstatement_rate: float = 0.0
    pro_rata_time: float = 0.0
    attachment: float = 0.0

    @classmethod
    def of(cls, placed) -> "KernelTerms":
        """The terms of a :class:`sim.programmes.PlacedTreaty`."""
        treaty = placed.treaty
        if treaty.type == "quota_share":
            return cls(cession=treaty.cession)
        if treaty.type in ("per_risk_xl", "cat_xl"):
            retention, limit, deductible, aggregate, reinstatable, rate, pro_rata = tr.xl_terms(
                treaty.retention, treaty.limit, treaty.reinstatements, treaty.reinstatement_premium,
                treaty.layer_premium(), treaty.aggregate_deductible, treaty.aggregate_limit,
                treaty.reinstatement_basis == "amount_and_time")
            return cls(retention=retention, limit=limit, aggregate_deductible=deductible,
                       aggregate_limit=aggregate, reinstatable=reinstatable, reinstatement_rate=rate,
                       pro_rata_time=float(pro_rata))
        if treaty.type == "stop_loss":
            attachment, limit = tr.stop_loss_terms(treaty.attachment, treaty.limit, placed.subject_premium)
            return cls(attachment=attachment, limit=limit)
        return cls()        # surplus

    def row(self) -> np.ndarray:
        """The terms as one float64 row of the kernel's ``terms`` array, in :data:`TERM_FIELDS` order."""
        return np.array(astuple(self), dtype=np.float64)


TERM_FIELDS = tuple(field.name for field in fields(KernelTerms))
# The kernel's names for the columns of a ``terms`` row (numba reads them as constants).
(CESSION, RETENTION, LIMIT, AGGREGATE_DEDUCTIBLE, AGGREGATE_LIMIT, REINSTATABLE, REINSTATEMENT_RATE,
 PRO_RATA_TIME, ATTACHMENT) = range(len(TERM_FIELDS))
assert TERM_FIELDS[PRO_RATA_TIME] == "pro_rata_time" and TERM_FIELDS[ATTACHMENT] == "attachment"


def treaty_arrays(placed_treaties, n_policies: int) -> tuple[np.ndarray, ...]:
    """``(cedant, kind, terms, fractions)`` of the placed treaties (:class:`sim.programmes.PlacedTreaty`),
    in order, for the kernel.

    ``terms`` (n, len(TERM_FIELDS)) holds each treaty's :class:`KernelTerms` row.
    ``fractions`` (n, n_policies) holds a surplus's ceded fraction per policy (no
    columns when there is no surplus).
    """
    n = len(placed_treaties)
    cedant = np.array([placed.cedant for placed in placed_treaties], dtype=np.int64)
    kind = np.array([_KIND[placed.treaty.type] for placed in placed_treaties], dtype=np.int64)
    terms = np.array([KernelTerms.of(placed).row() for placed in placed_treaties]).reshape(n, len(TERM_FIELDS))
    any_surplus = any(placed.treaty.type == "surplus" for placed in placed_treaties)
    fractions = np.zeros((n, n_policies if any_surplus else 0))
    for i, placed in enumerate(placed_treaties):
        if placed.treaty.type == "surplus":
            fractions[i] = placed.ceded_fraction
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
        total, cat_total = tr._quota_share_trial(t, occ_offsets, risk_offsets, covered, net, terms[CESSION],
                                                 ceded, True, occ_event)
    elif kind == SURPLUS:
        total, cat_total = tr._surplus_trial(t, occ_offsets, risk_offsets, covered, net, risk_policy, fraction,
                                             ceded, True, occ_event)
    elif kind == PER_RISK_XL or kind == CAT_XL:
        premium, total, cat_total = tr._excess_of_loss_trial(
            kind == CAT_XL, t, occ_offsets, risk_offsets, occ_day, covered, net, terms[RETENTION], terms[LIMIT],
            terms[AGGREGATE_DEDUCTIBLE], terms[AGGREGATE_LIMIT], terms[REINSTATABLE], terms[REINSTATEMENT_RATE],
            terms[PRO_RATA_TIME] != 0.0, ceded, True, occ_event)
    else:
        total, cat_total = tr._stop_loss_trial(t, occ_offsets, risk_offsets, covered, net, terms[ATTACHMENT],
                                               terms[LIMIT], ceded, True, occ_event)
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
def programmes_kernel(occ_offsets, risk_offsets, occ_day, occ_event, risk_policy, risk_line, risk_loss,
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
    :func:`treaty_arrays`) covers the lines ``line_sets[cover[i]]`` (n_sets,
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
