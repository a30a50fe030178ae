"""The loss engine: every trial's attritional claims and catastrophe events, as an occurrence table.

For a chunk of trials the engine simulates each trial once, from its own
streams (see :mod:`sim.rng`), in two passes:

1. **simulate**: each parallel work item (``TRIALS_PER_BLOCK`` trials) draws
   its trials in turn (:func:`_draw_trial`: catastrophe events, then claims
   and their amounts, into scratch) and writes them in day order
   (:func:`_place_trial`) into its own region of an over-sized buffer, as
   the trials' sizes are not known before they are drawn;
2. **gather**: a prefix sum of the sizes gives the CSR offsets
   (:class:`sim.occurrences.LossChunk`), and each trial is copied from its
   region to its place.

The regions leave room for 25% more than the expected size; a trial that
does not fit (say, a rare event hitting thousands of policies) is only
counted in the first pass, by replaying its counts stream
(:func:`_count_trial`), and simulated straight into place in the second, with
the same draws. Either way its losses are the same, bit for bit.

On one thread (a run on 2 threads gives each chunk one) there is no need
for regions: :func:`_serial_pass` writes each trial straight into its place,
in output arrays with a quarter to spare that double when full, and the
chunk's arrays are views of their filled part. That saves the copy, and the
regions' memory, and gives the same chunk.

Nothing here knows about pools or treaties, so two pool structures run on
one seed see identical gross losses.

Streams are keyed by line (attritional claims), by catastrophe type, and
``ORDER_KEY`` for the attritional days, which depend only on the number of
attritional claims; so adding a catastrophe to a scenario leaves the
attritional losses and days unchanged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from . import distributions as d
from .claims import next_claim_points, next_hit_points, place_claims, place_hits
from .copula import risk_levels
from .jit import jit, parallel_jit, prange, unowned
from .model import Scenario
from .occurrences import ATTRITIONAL, DAYS_IN_YEAR, Exposure, LossChunk
from .rng import STREAM_AMOUNTS, STREAM_COUNTS, next_below, next_uniform, seeded
from .sampling import next_exponential, next_many, next_poisson, next_sample

CATASTROPHE_KEY = 1 << 20    # stream keys of catastrophe types start here; lines use their index


@dataclass(frozen=True)
class LossModel:
    """A scenario's loss sections as the arrays the kernels take."""

    line_frequency: np.ndarray       # (n_lines, 5) distribution rows
    line_damage: np.ndarray          # (n_lines, 5) severity (money) or damage ratio
    line_damage_is_ratio: np.ndarray  # (n_lines,) bool
    cat_rate: np.ndarray             # (n_cats,)
    cat_share: np.ndarray            # (n_cats, 5) affected share of each listed line
    cat_damage: np.ndarray           # (n_cats, 5)
    cat_damage_is_ratio: np.ndarray  # (n_cats,) bool
    cat_line_offsets: np.ndarray     # (n_cats + 1,) CSR into cat_lines
    cat_lines: np.ndarray            # line indices hit by each catastrophe type

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> "LossModel":
        lines, cats = scenario.lines, scenario.catastrophes
        cat_lines = [[scenario.line_index(name) for name in cat.lines] for cat in cats]
        return cls(
            line_frequency=np.array([line.frequency.as_array() for line in lines]).reshape(-1, 5),
            line_damage=np.array([(line.severity or line.damage_ratio).as_array() for line in lines]).reshape(-1, 5),
            line_damage_is_ratio=np.array([line.severity is None for line in lines], dtype=np.bool_),
            cat_rate=np.array([cat.rate for cat in cats], dtype=np.float64),
            cat_share=np.array([cat.affected_share.as_array() for cat in cats]).reshape(-1, 5),
            cat_damage=np.array([(cat.severity or cat.damage_ratio).as_array() for cat in cats]).reshape(-1, 5),
            cat_damage_is_ratio=np.array([cat.severity is None for cat in cats], dtype=np.bool_),
            cat_line_offsets=np.concatenate([[0], np.cumsum([len(c) for c in cat_lines])]).astype(np.int64),
            cat_lines=np.array([j for c in cat_lines for j in c], dtype=np.int64),
        )


# Stream key, in the amounts stream, of a trial's attritional days and their order (see _place_trial).
ORDER_KEY = 1 << 21
# The last float64 day before the year's end.
LAST_DAY = math.nextafter(DAYS_IN_YEAR, 0.0)


@jit
def _line_frequency_terms(line_frequency, j, level):
    """Line ``j``'s claim-count terms at its risk level, worked out once per line and trial:
    ``(code, mean, dispersion, cap)``, ``mean`` being the probability (at most 1) for bernoulli.
    The count and fill passes both take them from here, so they replay the same draws."""
    row = line_frequency[j]
    code = int(row[0])
    mean = row[1] * level
    if code == d.BERNOULLI:
        mean = min(mean, 1.0)     # p x level is a beta probability (sim.copula); min only guards rounding
    return code, mean, row[2], row[4]


@jit
def _count_trial(seed, trial, levels, model_arrays, exposure_arrays):
    """``(n_occurrences, n_risk_losses, occ_room, hit_room)`` of one trial, replaying only the
    counts stream: its sizes, and the scratch room :func:`_draw_trial` needs to draw it (more
    than its sizes: a line's or an event's points all take room before the repeats drop out).

    Makes exactly the counts-stream draws of :func:`_draw_trial`, in the same order,
    in scratch of its own: it runs only for the rare trial too big for the usual scratch.
    """
    (line_frequency, line_damage, line_damage_is_ratio, cat_rate, cat_share, cat_damage,
     cat_damage_is_ratio, cat_line_offsets, cat_lines) = model_arrays
    line_start = exposure_arrays[0]
    stamp = np.full(line_start[-1], -1, dtype=np.int64)
    tally = np.zeros(line_start[-1], dtype=np.int64)
    policies = np.empty(1024, dtype=np.int64)
    mark = 0
    n_events = 0
    n_hits = 0
    hit_room = 0
    for c in range(cat_rate.shape[0]):
        counts = seeded(seed, STREAM_COUNTS, trial, CATASTROPHE_KEY + c)
        n_cat_events, counts = next_poisson(counts, cat_rate[c])
        for _ in range(n_cat_events):
            share, counts = next_sample(counts, int(cat_share[c, 0]), cat_share[c, 1], cat_share[c, 2],
                                        cat_share[c, 3], cat_share[c, 4])
            for k in range(cat_line_offsets[c], cat_line_offsets[c + 1]):
                j = cat_lines[k]
                n_policies = line_start[j + 1] - line_start[j]
                points, counts = next_hit_points(counts, share, n_policies)
                hit_room = max(hit_room, n_hits + points)
                policies = _with_room(policies, points)
                mark += 1
                hits, counts = place_hits(counts, points, share, line_start[j], n_policies, policies, 0,
                                          stamp, mark)
                n_hits += hits
            n_events += 1
    n_claims = 0
    occ_room = n_events
    for j in range(line_frequency.shape[0]):
        counts = seeded(seed, STREAM_COUNTS, trial, j)
        code, mean, dispersion, cap = _line_frequency_terms(line_frequency, j, levels[j])
        n_policies = line_start[j + 1] - line_start[j]
        points, counts = next_claim_points(counts, code, mean, dispersion, n_policies)
        occ_room = max(occ_room, n_claims + points + n_events)
        policies = _with_room(policies, points)
        mark += 1
        claims, counts = place_claims(counts, points, code, mean, dispersion, cap, line_start[j], n_policies,
                                      policies, 0, stamp, tally, mark)
        n_claims += claims
    # one occurrence per event and per attritional claim
    return n_events + n_claims, n_hits + n_claims, occ_room, hit_room


@jit
def _with_room(values, n):
    """``values``, or a bigger empty array when it has fewer than ``n`` entries."""
    if values.shape[0] >= n:
        return values
    return np.empty(max(n, 2 * values.shape[0]), dtype=values.dtype)


@jit
def _insured_losses(policies, losses, start, stop, is_ratio, sum_insured, deductible, limit):
    """Turn ``losses[start:stop]``, the ground-up losses of ``policies[start:stop]`` (damage
    ratios when ``is_ratio``), into insured losses in place: times the sum insured for a ratio,
    less the policy's deductible, capped at its limit. Returns their sum, added in order."""
    total = 0.0
    for h in range(start, stop):
        policy = policies[h]
        ground_up = losses[h]
        if is_ratio:
            ground_up *= sum_insured[policy]
        loss = min(max(ground_up - deductible[policy], 0.0), limit[policy])
        losses[h] = loss
        total += loss
    return total


@jit
def _draw_trial(seed, trial, levels, model_arrays, exposure_arrays,
                ev_day, ev_cat, ev_size, ev_first, cat_policy, cat_line, cat_loss,
                claim_policy, ground, line_end, stamp, tally, marks, line_loss, line_claims):
    """Every draw of one trial from its counts and amounts streams, into scratch.

    Catastrophe events first (their hits in ``cat_*``, the events in ``ev_*``),
    then each line's attritional claims in simulation order (``claim_policy``,
    ``ground``; line ``j``'s end in ``line_end[j]``), with their insured losses
    and claim counts added to ``line_loss`` and ``line_claims``. Which policies
    claim, or an event hits, comes from :mod:`sim.claims` (``stamp``, ``tally``
    and the mark counter ``marks[0]`` are its scratch). The days and order of
    the attritional claims come after, from their own stream
    (:func:`_place_trial`), so the split changes no draw.

    Returns ``(n_events, n_hits, n_attritional)``, or ``(-1, -1, -1)`` as soon as
    a scratch array is too small; ``line_loss`` and ``line_claims`` are then
    partly added to, and the caller starts the trial again.
    """
    (line_frequency, line_damage, line_damage_is_ratio, cat_rate, cat_share, cat_damage,
     cat_damage_is_ratio, cat_line_offsets, cat_lines) = model_arrays
    line_start, sum_insured, deductible, limit = exposure_arrays
    occ_room = claim_policy.shape[0]
    hit_room = cat_policy.shape[0]

    # 1. catastrophe events: their hits follow the event's day, not yet known in order
    n_events = 0
    hits_total = 0
    for c in range(cat_rate.shape[0]):
        counts = seeded(seed, STREAM_COUNTS, trial, CATASTROPHE_KEY + c)
        amounts = seeded(seed, STREAM_AMOUNTS, trial, CATASTROPHE_KEY + c)
        share_code = int(cat_share[c, 0])
        code = int(cat_damage[c, 0])
        a, b, p2, cap = cat_damage[c, 1], cat_damage[c, 2], cat_damage[c, 3], cat_damage[c, 4]
        is_ratio = cat_damage_is_ratio[c]
        n_cat_events, counts = next_poisson(counts, cat_rate[c])
        for _ in range(n_cat_events):
            if n_events == occ_room:
                return -1, -1, -1
            share, counts = next_sample(counts, share_code, cat_share[c, 1], cat_share[c, 2], cat_share[c, 3],
                                        cat_share[c, 4])
            first = hits_total
            for k in range(cat_line_offsets[c], cat_line_offsets[c + 1]):
                j = cat_lines[k]
                n_policies = line_start[j + 1] - line_start[j]
                points, counts = next_hit_points(counts, share, n_policies)
                if hits_total + points > hit_room:
                    return -1, -1, -1
                line_first = hits_total
                marks[0] += 1
                hits_total, counts = place_hits(counts, points, share, line_start[j], n_policies, cat_policy,
                                                hits_total, stamp, marks[0])
                for h in range(line_first, hits_total):
                    cat_line[h] = j
                # the hits' ground-up losses in one batch: the same draws, in the same order
                amounts = next_many(amounts, code, a, b, p2, cap, cat_loss, line_first, hits_total)
                line_loss[j] += _insured_losses(cat_policy, cat_loss, line_first, hits_total, is_ratio,
                                                sum_insured, deductible, limit)
                line_claims[j] += hits_total - line_first
            u, amounts = next_uniform(amounts)
            ev_day[n_events] = DAYS_IN_YEAR * u
            ev_cat[n_events] = c
            ev_size[n_events] = hits_total - first
            ev_first[n_events] = first
            n_events += 1

    # 2. attritional claims, line by line. The line's rows are unpacked into scalars so the
    # per-claim loops take no array views.
    k = 0
    for j in range(line_frequency.shape[0]):
        counts = seeded(seed, STREAM_COUNTS, trial, j)
        amounts = seeded(seed, STREAM_AMOUNTS, trial, j)
        freq_code, mean, dispersion, freq_cap = _line_frequency_terms(line_frequency, j, levels[j])
        code = int(line_damage[j, 0])
        a, b, p2, cap = line_damage[j, 1], line_damage[j, 2], line_damage[j, 3], line_damage[j, 4]
        is_ratio = line_damage_is_ratio[j]
        n_policies = line_start[j + 1] - line_start[j]
        points, counts = next_claim_points(counts, freq_code, mean, dispersion, n_policies)
        if k + points + n_events > occ_room:
            return -1, -1, -1
        k0 = k
        marks[0] += 1
        k, counts = place_claims(counts, points, freq_code, mean, dispersion, freq_cap, line_start[j], n_policies,
                                 claim_policy, k, stamp, tally, marks[0])
        # the line's ground-up losses in one batch, claim by claim in the same order
        next_many(amounts, code, a, b, p2, cap, ground, k0, k)
        line_loss[j] += _insured_losses(claim_policy, ground, k0, k, is_ratio, sum_insured, deductible, limit)
        line_claims[j] += k - k0
        line_end[j] = k
    return n_events, hits_total, k


@jit
def _place_trial(seed, trial, n_events, n_att, o0, r0, ev_day, ev_cat, ev_size, ev_first, ev_order,
                 cat_policy, cat_line, cat_loss, att_sum, position, dest,
                 claim_policy, ground, line_end,
                 occ_day, occ_event, risk_offsets, risk_policy, risk_line, risk_loss):
    """Write the trial that :func:`_draw_trial` left in scratch as ``n_events + n_att``
    occurrences at ``occ_*[o0:]`` and its risk losses at ``risk_*[r0:]``, in day order,
    without sorting them afterwards.

    Attritional claims are exchangeable in time: their days are iid uniform and
    independent of everything else. So instead of drawing a day per claim and
    sorting, the trial draws its attritional days already sorted, and gives the
    claims a uniformly random permutation of those slots (Durstenfeld's
    inside-out Fisher-Yates shuffle, with :func:`sim.rng.next_below`): the same joint law
    of (claim, day). The sorted days are Rényi's representation of uniform
    order statistics: with ``S_i`` the running sums of ``n_att + 1``
    exponentials, ``(S_1, ..., S_n) / S_{n+1}`` is distributed as ``n`` sorted
    uniforms (Devroye 1986, *Non-Uniform Random Variate Generation*, V.2.2),
    at one ziggurat exponential a day instead of a uniform and a bucket sort.
    Both come from the trial's own ``ORDER_KEY`` stream, which depends only on
    the number of attritional claims. The catastrophe events (each with its own
    day) are merged in by day; with the slots' positions then known, each
    attritional claim is written once, straight to its place.
    ``risk_offsets`` hold positions in ``risk_*``.
    """
    # 1. the attritional days' running sums, and the events in day order (few: insertion sort, stable)
    order = seeded(seed, STREAM_AMOUNTS, trial, ORDER_KEY)
    total = 0.0
    for i in range(n_att):
        gap, order = next_exponential(order)
        total += gap
        att_sum[i] = total
    gap, order = next_exponential(order)
    total += gap
    days_per_sum = DAYS_IN_YEAR / total if total > 0.0 else 0.0
    for e in range(n_events):
        k = e
        while k > 0 and ev_day[ev_order[k - 1]] > ev_day[e]:
            ev_order[k] = ev_order[k - 1]
            k -= 1
        ev_order[k] = e

    # 2. merge: every occurrence's slot; attritional slot i (i-th earliest) gets risk position[i].
    # An event goes before the claims of a later day, after those of the same day.
    o = o0
    r = r0
    e = 0
    for i in range(n_att + 1):
        # rounding could give the last day exactly DAYS_IN_YEAR: keep days within [0, 365)
        day = min(days_per_sum * att_sum[i], LAST_DAY) if i < n_att else math.inf
        while e < n_events and ev_day[ev_order[e]] < day:
            source = ev_order[e]
            occ_day[o] = ev_day[source]
            occ_event[o] = ev_cat[source]
            risk_offsets[o] = r
            h0 = ev_first[source]
            for q in range(ev_size[source]):
                risk_policy[r + q] = cat_policy[h0 + q]
                risk_line[r + q] = cat_line[h0 + q]
                risk_loss[r + q] = cat_loss[h0 + q]
            r += ev_size[source]
            o += 1
            e += 1
        if i < n_att:
            occ_day[o] = day
            occ_event[o] = ATTRITIONAL
            risk_offsets[o] = r
            position[i] = r
            r += 1
            o += 1

    # 3. claim k (in simulation order) goes to slot dest[k]: a uniform random permutation
    for k in range(n_att):
        swap, order = next_below(order, k + 1)
        dest[k] = dest[swap]
        dest[swap] = position[k]

    # 4. each attritional claim written once, to its slot
    q = 0
    for j in range(line_end.shape[0]):
        while q < line_end[j]:
            slot = dest[q]
            risk_policy[slot] = claim_policy[q]
            risk_line[slot] = j
            risk_loss[slot] = ground[q]
            q += 1


# Trials per parallel work item. Each item allocates its scratch once, not ~20 arrays per
# trial, and owns a region of the first pass's output. Output does not depend on it: each
# trial's draws come from its own streams.
TRIALS_PER_BLOCK = 64
# The first pass's room, as multiples of the expected size: for one trial's scratch, and for
# a work item's region (its trials' total, with the scratch room on top).
TRIAL_ROOM = 16
REGION_ROOM = 1.25


@jit
def _scratch(occ_room, hit_room, n_lines, n_policies):
    """One work item's scratch: room for ``occ_room`` occurrences and ``hit_room`` catastrophe hits,
    and :mod:`sim.claims`' ``stamp`` and ``tally`` over the ``n_policies`` policies."""
    return (np.empty(occ_room, dtype=np.float64), np.empty(occ_room, dtype=np.int64),      # ev_day, ev_cat
            np.empty(occ_room, dtype=np.int64), np.empty(occ_room, dtype=np.int64),        # ev_size, ev_first
            np.empty(occ_room, dtype=np.int64),                                            # ev_order
            np.empty(hit_room, dtype=np.int64), np.empty(hit_room, dtype=np.int64),        # cat_policy, cat_line
            np.empty(hit_room, dtype=np.float64),                                          # cat_loss
            np.empty(occ_room, dtype=np.float64), np.empty(occ_room, dtype=np.int64),      # att_sum, position
            np.empty(occ_room, dtype=np.int64),                                            # dest
            np.empty(occ_room, dtype=np.int64), np.empty(occ_room, dtype=np.float64),      # claim_policy, ground
            np.empty(n_lines, dtype=np.int64),                                             # line_end
            np.full(n_policies, -1, dtype=np.int64), np.empty(n_policies, dtype=np.int64),  # stamp, tally
            np.zeros(1, dtype=np.int64))                                                   # marks


@jit
def _unowned_scratch(scratch):
    """:func:`sim.jit.unowned` views of a work item's scratch; ``scratch`` must outlive them."""
    (ev_day, ev_cat, ev_size, ev_first, ev_order, cat_policy, cat_line, cat_loss,
     att_sum, position, dest, claim_policy, ground, line_end, stamp, tally, marks) = scratch
    return (unowned(ev_day), unowned(ev_cat),
            unowned(ev_size), unowned(ev_first), unowned(ev_order), unowned(cat_policy), unowned(cat_line),
            unowned(cat_loss), unowned(att_sum), unowned(position),
            unowned(dest), unowned(claim_policy), unowned(ground), unowned(line_end),
            unowned(stamp), unowned(tally), unowned(marks))


@jit
def _keep(scratch):
    """Nothing: called after a loop that uses :func:`_unowned_scratch` views, so that numba
    keeps ``scratch`` (their memory) alive until then."""
    return scratch[0].shape[0]


@jit
def _simulate_trial(seed, trial, levels, model_arrays, exposure_arrays, scratch, line_loss, line_claims):
    """:func:`_draw_trial` with a work item's scratch tuple: ``(n_events, n_hits, n_attritional)``."""
    (ev_day, ev_cat, ev_size, ev_first, ev_order, cat_policy, cat_line, cat_loss,
     att_sum, position, dest, claim_policy, ground, line_end, stamp, tally, marks) = scratch
    return _draw_trial(seed, trial, levels, model_arrays, exposure_arrays,
                       ev_day, ev_cat, ev_size, ev_first, cat_policy, cat_line, cat_loss,
                       claim_policy, ground, line_end, stamp, tally, marks, line_loss, line_claims)


@jit
def _place(seed, trial, n_events, n_att, o0, r0, scratch, out):
    """:func:`_place_trial` with a work item's scratch tuple and the six output arrays ``out``."""
    (ev_day, ev_cat, ev_size, ev_first, ev_order, cat_policy, cat_line, cat_loss,
     att_sum, position, dest, claim_policy, ground, line_end, stamp, tally, marks) = scratch
    occ_day, occ_event, risk_offsets, risk_policy, risk_line, risk_loss = out
    _place_trial(seed, trial, n_events, n_att, o0, r0, ev_day, ev_cat, ev_size, ev_first, ev_order,
                 cat_policy, cat_line, cat_loss, att_sum, position, dest,
                 claim_policy, ground, line_end, occ_day, occ_event, risk_offsets, risk_policy, risk_line, risk_loss)


@jit
def _unowned_inputs(model_arrays, exposure_arrays):
    """:func:`sim.jit.unowned` views of the kernels' model and exposure arrays."""
    (line_frequency, line_damage, line_damage_is_ratio, cat_rate, cat_share, cat_damage,
     cat_damage_is_ratio, cat_line_offsets, cat_lines) = model_arrays
    line_start, sum_insured, deductible, limit = exposure_arrays
    return ((unowned(line_frequency), unowned(line_damage), unowned(line_damage_is_ratio), unowned(cat_rate),
             unowned(cat_share), unowned(cat_damage), unowned(cat_damage_is_ratio), unowned(cat_line_offsets),
             unowned(cat_lines)),
            (unowned(line_start), unowned(sum_insured), unowned(deductible), unowned(limit)))


@jit
def _unowned_outputs(out):
    """:func:`sim.jit.unowned` views of the six output arrays."""
    occ_day, occ_event, risk_offsets, risk_policy, risk_line, risk_loss = out
    return (unowned(occ_day), unowned(occ_event), unowned(risk_offsets), unowned(risk_policy),
            unowned(risk_line), unowned(risk_loss))


@jit
def _block_views(owned_scratch, model_arrays, exposure_arrays, levels, line_loss, line_claims):
    """``(scratch, model_arrays, exposure_arrays, levels, line_loss, line_claims)`` as
    :func:`sim.jit.unowned` views, for a work item's per-trial calls; ``owned_scratch``
    (from :func:`_scratch`) must outlive them."""
    model, exposure = _unowned_inputs(model_arrays, exposure_arrays)
    return (_unowned_scratch(owned_scratch), model, exposure, unowned(levels), unowned(line_loss),
            unowned(line_claims))


@jit
def _block_trials(block, n_trials):
    """``(t0, t1)``: the trials (chunk-local) of work item ``block``."""
    t0 = block * TRIALS_PER_BLOCK
    return t0, min(t0 + TRIALS_PER_BLOCK, n_trials)


@parallel_jit
def _first_pass(seed, first_trial, levels, model_arrays, exposure_arrays, occ_room, hit_room,
                region_occ, region_risk, region, region_occ_start, region_risk_start,
                n_occ, n_risk, occ_need, hit_need, line_loss, line_claims):
    """Simulate every trial once, into its work item's region of ``region`` (the six output
    arrays, ``region_occ`` occurrences and ``region_risk`` risk losses a work item).

    Records each trial's sizes in ``n_occ`` and ``n_risk`` and where it went
    (``region_occ_start``, ``region_risk_start``). A trial that outgrows the
    scratch (``occ_room``, ``hit_room``) or its item's region gets start -1,
    zero line totals, the scratch room it needs in ``occ_need`` and
    ``hit_need``, and is simulated again by :func:`_second_pass`; one that
    outgrows the scratch has its sizes and needs counted by :func:`_count_trial`.
    """
    n_trials = levels.shape[0]
    n_lines = line_loss.shape[1]
    for block in prange((n_trials + TRIALS_PER_BLOCK - 1) // TRIALS_PER_BLOCK):
        t0, t1 = _block_trials(block, n_trials)
        owned_scratch = _scratch(occ_room, hit_room, n_lines, exposure_arrays[0][-1])
        # views without reference counts for the per-trial calls (see sim.jit.unowned)
        scratch, model, exposure, block_levels, block_loss, block_claims = _block_views(
            owned_scratch, model_arrays, exposure_arrays, levels, line_loss, line_claims)
        block_region = _unowned_outputs(region)
        o = block * region_occ
        r = block * region_risk
        o_end = o + region_occ
        r_end = r + region_risk
        for t in range(t0, t1):
            trial = first_trial + t
            n_events, n_hits, n_att = _simulate_trial(seed, trial, block_levels[t], model, exposure,
                                                      scratch, block_loss[t], block_claims[t])
            region_occ_start[t] = -1
            region_risk_start[t] = -1
            occ_need[t] = occ_room
            hit_need[t] = hit_room
            if n_att < 0:
                n_occ[t], n_risk[t], occ_need[t], hit_need[t] = _count_trial(seed, trial, block_levels[t], model,
                                                                             exposure)
            else:
                n_occ[t] = n_events + n_att
                n_risk[t] = n_hits + n_att
                if o + n_occ[t] <= o_end and r + n_risk[t] <= r_end:
                    _place(seed, trial, n_events, n_att, o, r, scratch, block_region)
                    region_occ_start[t] = o
                    region_risk_start[t] = r
                    o += n_occ[t]
                    r += n_risk[t]
            if region_occ_start[t] < 0:
                line_loss[t, :] = 0.0
                line_claims[t, :] = 0
        _keep(owned_scratch)


@parallel_jit
def _second_pass(seed, first_trial, levels, model_arrays, exposure_arrays, region, region_occ_start,
                 region_risk_start, occ_need, hit_need, occ_offsets, trial_risk_offsets, out, line_loss,
                 line_claims):
    """Move each trial from its region to its place in ``out`` (the six output arrays, CSR by
    ``occ_offsets`` and ``trial_risk_offsets``), and simulate there the trials that had no room,
    in scratch of the room they need (``occ_need``, ``hit_need``)."""
    region_day, region_event, region_offsets, region_policy, region_line, region_loss = region
    occ_day, occ_event, risk_offsets, risk_policy, risk_line, risk_loss = out
    n_trials = levels.shape[0]
    n_lines = line_loss.shape[1]
    for block in prange((n_trials + TRIALS_PER_BLOCK - 1) // TRIALS_PER_BLOCK):
        t0, t1 = _block_trials(block, n_trials)
        occ_room = 0
        risk_room = 0
        for t in range(t0, t1):
            if region_occ_start[t] < 0:
                occ_room = max(occ_room, occ_need[t])
                risk_room = max(risk_room, hit_need[t])
        owned_scratch = _scratch(occ_room, risk_room, n_lines, exposure_arrays[0][-1])
        scratch, model, exposure, block_levels, block_loss, block_claims = _block_views(
            owned_scratch, model_arrays, exposure_arrays, levels, line_loss, line_claims)
        block_out = _unowned_outputs(out)
        for t in range(t0, t1):
            o0 = occ_offsets[t]
            r0 = trial_risk_offsets[t]
            start = region_occ_start[t]
            if start >= 0:
                shift = r0 - region_risk_start[t]
                for i in range(occ_offsets[t + 1] - o0):
                    occ_day[o0 + i] = region_day[start + i]
                    occ_event[o0 + i] = region_event[start + i]
                    risk_offsets[o0 + i] = region_offsets[start + i] + shift
                risk_start = region_risk_start[t]
                for i in range(trial_risk_offsets[t + 1] - r0):
                    risk_policy[r0 + i] = region_policy[risk_start + i]
                    risk_line[r0 + i] = region_line[risk_start + i]
                    risk_loss[r0 + i] = region_loss[risk_start + i]
            else:
                trial = first_trial + t
                n_events, n_hits, n_att = _simulate_trial(seed, trial, block_levels[t], model, exposure,
                                                          scratch, block_loss[t], block_claims[t])
                _place(seed, trial, n_events, n_att, o0, r0, scratch, block_out)
        _keep(owned_scratch)


@jit
def _serial_pass(seed, first_trial, levels, model_arrays, exposure_arrays, occ_room, hit_room, start,
                 out, occ_offsets, trial_risk_offsets, line_loss, line_claims):
    """Simulate trials ``start ..`` one after another, each straight into its place in ``out``
    (the six output arrays), and fill in the CSR offsets as it goes.

    For one thread: there is then no region to copy from. A trial too big for the
    scratch is counted, given scratch of its size and drawn again. Returns the
    first trial that found no room left in ``out`` (its line totals zeroed, for
    the caller to give ``out`` more room and call again from there), or the
    number of trials when all are done.
    """
    n_trials = levels.shape[0]
    n_lines = line_loss.shape[1]
    occ_capacity = out[0].shape[0]
    risk_capacity = out[3].shape[0]
    owned_scratch = _scratch(occ_room, hit_room, n_lines, exposure_arrays[0][-1])
    scratch, model, exposure, trial_levels, trial_loss, trial_claims = _block_views(
        owned_scratch, model_arrays, exposure_arrays, levels, line_loss, line_claims)
    views = _unowned_outputs(out)
    for t in range(start, n_trials):
        trial = first_trial + t
        n_events, n_hits, n_att = _simulate_trial(seed, trial, trial_levels[t], model, exposure,
                                                  scratch, trial_loss[t], trial_claims[t])
        if n_att < 0:
            line_loss[t, :] = 0.0
            line_claims[t, :] = 0
            occ_need, hit_need = _count_trial(seed, trial, trial_levels[t], model, exposure)[2:]
            occ_room = max(occ_room, occ_need)
            hit_room = max(hit_room, hit_need)
            owned_scratch = _scratch(occ_room, hit_room, n_lines, exposure_arrays[0][-1])
            scratch = _unowned_scratch(owned_scratch)
            n_events, n_hits, n_att = _simulate_trial(seed, trial, trial_levels[t], model, exposure,
                                                      scratch, trial_loss[t], trial_claims[t])
        o_end = occ_offsets[t] + n_events + n_att
        r_end = trial_risk_offsets[t] + n_hits + n_att
        if o_end > occ_capacity or r_end > risk_capacity:
            line_loss[t, :] = 0.0
            line_claims[t, :] = 0
            _keep(owned_scratch)
            return t
        _place(seed, trial, n_events, n_att, occ_offsets[t], trial_risk_offsets[t], scratch, views)
        occ_offsets[t + 1] = o_end
        trial_risk_offsets[t + 1] = r_end
    _keep(owned_scratch)
    return n_trials


def _in_place(n_trials: int) -> bool:
    """Whether to simulate a chunk as one work item, each trial straight into its place:
    on one thread (a run on 2 threads gives each chunk one), or for a chunk that is one
    work item anyway. Either way gives the same chunk."""
    return numba.get_num_threads() == 1 or n_trials <= TRIALS_PER_BLOCK


def _simulate_serially(seed, first, levels, model_arrays, exposure_arrays, occ_room, hit_room,
                       mean_occ, mean_risk, line_loss, line_claims):
    """``(out, occ_offsets, trial_risk_offsets)`` from :func:`_serial_pass`, with ``out``
    doubled whenever it runs out of room; ``out`` holds views of the filled part."""
    n_trials = levels.shape[0]
    occ_offsets = np.zeros(n_trials + 1, dtype=np.int64)
    trial_risk_offsets = np.zeros(n_trials + 1, dtype=np.int64)
    out = _output_arrays(int(REGION_ROOM * n_trials * mean_occ) + occ_room,
                         int(REGION_ROOM * n_trials * mean_risk) + hit_room)
    done = 0
    while True:
        done = _serial_pass(seed, first, levels, model_arrays, exposure_arrays, occ_room, hit_room, done,
                            out, occ_offsets, trial_risk_offsets, line_loss, line_claims)
        n_occ, n_risk = int(occ_offsets[done]), int(trial_risk_offsets[done])
        if done == n_trials:
            filled = (n_occ, n_occ, n_occ + 1, n_risk, n_risk, n_risk)
            return tuple(values[:n] for values, n in zip(out, filled)), occ_offsets, trial_risk_offsets
        bigger = _output_arrays(2 * out[0].shape[0], 2 * out[3].shape[0])
        for old, new, filled in zip(out, bigger, (n_occ, n_occ, n_occ, n_risk, n_risk, n_risk)):
            new[:filled] = old[:filled]
        out = bigger


def _offsets(counts: np.ndarray) -> np.ndarray:
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def _simulate_in_parallel(seed, first, levels, model_arrays, exposure_arrays, occ_room, hit_room,
                          mean_occ, mean_risk, line_loss, line_claims):
    """``(out, occ_offsets, trial_risk_offsets)`` from :func:`_first_pass` and :func:`_second_pass`."""
    n_trials = levels.shape[0]
    block_trials = min(TRIALS_PER_BLOCK, n_trials)
    region_occ = int(REGION_ROOM * block_trials * mean_occ) + occ_room
    region_risk = int(REGION_ROOM * block_trials * mean_risk) + hit_room
    n_blocks = (n_trials + TRIALS_PER_BLOCK - 1) // TRIALS_PER_BLOCK
    region = _output_arrays(n_blocks * region_occ, n_blocks * region_risk)
    region_occ_start = np.empty(n_trials, dtype=np.int64)
    region_risk_start = np.empty(n_trials, dtype=np.int64)
    n_occ = np.empty(n_trials, dtype=np.int64)
    n_risk = np.empty(n_trials, dtype=np.int64)
    occ_need = np.empty(n_trials, dtype=np.int64)
    hit_need = np.empty(n_trials, dtype=np.int64)
    _first_pass(seed, first, levels, model_arrays, exposure_arrays, occ_room, hit_room, region_occ, region_risk,
                region, region_occ_start, region_risk_start, n_occ, n_risk, occ_need, hit_need, line_loss,
                line_claims)
    occ_offsets = _offsets(n_occ)
    trial_risk_offsets = _offsets(n_risk)
    out = _output_arrays(int(occ_offsets[-1]), int(trial_risk_offsets[-1]))
    _second_pass(seed, first, levels, model_arrays, exposure_arrays, region, region_occ_start, region_risk_start,
                 occ_need, hit_need, occ_offsets, trial_risk_offsets, out, line_loss, line_claims)
    return out, occ_offsets, trial_risk_offsets


def kernel_arrays(model: LossModel, exposure: Exposure) -> tuple[tuple, tuple]:
    """``(model_arrays, exposure_arrays)`` in the order :func:`_count_trial` and :func:`_draw_trial` unpack them."""
    return ((model.line_frequency, model.line_damage, model.line_damage_is_ratio, model.cat_rate,
             model.cat_share, model.cat_damage, model.cat_damage_is_ratio, model.cat_line_offsets, model.cat_lines),
            (exposure.line_start, exposure.sum_insured, exposure.deductible, exposure.limit))


def simulate_chunk(scenario: Scenario, model: LossModel, exposure: Exposure,
                   first_trial: int, n_trials: int) -> LossChunk:
    """Gross losses of trials ``first_trial .. first_trial + n_trials - 1``.

    Trial ``i``'s losses depend only on the scenario's loss sections, its seed
    and ``i``: never on the chunk it is simulated in, nor on the thread.
    """
    seed = np.uint64(scenario.simulation.seed)
    levels = risk_levels(scenario, first_trial, n_trials)
    model_arrays, exposure_arrays = kernel_arrays(model, exposure)
    first = np.uint64(first_trial)
    n_lines = exposure.n_lines

    # Room for a typical trial many times over, and for a work item's trials with a margin:
    # only trials that outgrow them (a rare large event) are simulated a second time.
    mean_occ, mean_risk = expected_sizes(scenario, exposure)
    occ_room, hit_room = _trial_room(mean_occ), _trial_room(mean_risk)
    line_loss = np.zeros((n_trials, n_lines), dtype=np.float64)
    line_claims = np.zeros((n_trials, n_lines), dtype=np.int64)
    simulate = _simulate_serially if _in_place(n_trials) else _simulate_in_parallel
    out, occ_offsets, trial_risk_offsets = simulate(seed, first, levels, model_arrays, exposure_arrays, occ_room,
                                                    hit_room, mean_occ, mean_risk, line_loss, line_claims)
    occ_day, occ_event, risk_offsets, risk_policy, risk_line, risk_loss = out
    risk_offsets[-1] = trial_risk_offsets[-1]
    return LossChunk(first_trial=first_trial, occ_offsets=occ_offsets, occ_day=occ_day, occ_event=occ_event,
                     risk_offsets=risk_offsets, risk_policy=risk_policy, risk_line=risk_line,
                     risk_loss=risk_loss, line_loss=line_loss, line_claims=line_claims, risk_level=levels)


def _trial_room(mean: float) -> int:
    """Scratch room for one trial of ``mean`` expected entries: ``TRIAL_ROOM`` times that,
    but not much more than twice it for scenarios with very large trials."""
    return int(min(TRIAL_ROOM * mean, 2.0 * mean + 65_536)) + 1024


def _output_arrays(n_occ: int, n_risk: int) -> tuple:
    """``(occ_day, occ_event, risk_offsets, risk_policy, risk_line, risk_loss)`` with room for
    ``n_occ`` occurrences (``risk_offsets`` has one more entry) and ``n_risk`` risk losses."""
    return (np.empty(n_occ, dtype=np.float64), np.empty(n_occ, dtype=np.int64),
            np.empty(n_occ + 1, dtype=np.int64), np.empty(n_risk, dtype=np.int64),
            np.empty(n_risk, dtype=np.int64), np.empty(n_risk, dtype=np.float64))


def expected_sizes(scenario: Scenario, exposure: Exposure) -> tuple[float, float]:
    """Expected ``(occurrences, risk losses)`` of a trial at risk level 1: attritional claims
    plus catastrophe events, and attritional claims plus policies hit."""
    def policies(name):
        j = scenario.line_index(name)
        return exposure.line_start[j + 1] - exposure.line_start[j]

    attritional = sum(line.frequency.mean() * policies(line.name) for line in scenario.lines)
    events = hits = 0.0
    for cat in scenario.catastrophes:
        share = cat.affected_share.mean()
        events += cat.rate
        hits += cat.rate * (1.0 if math.isnan(share) else share) * sum(policies(name) for name in cat.lines)
    return float(attritional + events), float(attritional + hits)


def expected_risk_losses(scenario: Scenario, exposure: Exposure) -> float:
    """Expected number of risk losses per trial (attritional claims + policies hit), for chunk sizing."""
    return expected_sizes(scenario, exposure)[1]
