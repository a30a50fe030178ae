"""One trial of the loss engine: its draws (:func:`_draw_trial`), its sizes alone
(:func:`_count_trial`), and its occurrences written in day order (:func:`_place_trial`).

Streams are keyed by line (attritional claims), by catastrophe type
(``CATASTROPHE_KEY + c``), and ``ORDER_KEY`` for the attritional days, which
depend only on the number of attritional claims; so adding a catastrophe to a
scenario leaves the attritional losses and days unchanged. See
:mod:`sim.engine` for how the trials of a chunk come together.
"""
import math

import numpy as np

from . import codes as d
from .claims import next_claim_points, next_hit_points, place_claims, place_hits
from .codes import ATTRITIONAL, DAYS_IN_YEAR
from .jit import jit
from .rng import STREAM_AMOUNTS, STREAM_COUNTS, next_below, next_uniform, seeded
from .sampling import next_exponential, next_many, next_poisson, next_sample

CATASTROPHE_KEY = 1 << 20    # stream keys of catastrophe types start here; lines use their index
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
    claim, or an event hits, comes from :mod:`sim.kernels.claims` (``stamp``, ``tally``
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
def order_by_day(day, order, n):
    """``order[:n]``: the events ``0 .. n - 1`` by ``day``, ties in drawing order (an insertion
    sort: a trial has few)."""
    for e in range(n):
        k = e
        while k > 0 and day[order[k - 1]] > day[e]:
            order[k] = order[k - 1]
            k -= 1
        order[k] = e


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
    inside-out Fisher-Yates shuffle, with :func:`sim.kernels.rng.next_below`): the same joint law
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
    order_by_day(ev_day, ev_order, n_events)

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
