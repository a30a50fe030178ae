"""Catastrophes from event loss tables, in a trial: their occurrences (:func:`count_table_trial`,
:func:`draw_table_trial`) and their merge into the trial's other occurrences (:func:`merge_trial`).

:mod:`sim.table_events` packs the scenario's tables into the arrays these take
and explains the scheme; :mod:`sim.event_tables` reads the tables.

Streams are those of the catastrophe's position ``c`` among the scenario's
catastrophes (``CATASTROPHE_KEY + c``), which a parametric catastrophe would
use; a table catastrophe has no parametric draws, so none is shared. Per
trial and table:

- counts stream: an ELT's number of occurrences (Poisson with the table's
  total rate), then which event each is (event ``e`` with probability
  ``rate_e / total``: so each event occurs Poisson(``rate_e``) times,
  independently of the others), then, occurrence by occurrence and row by
  row, which policies it hits. A YELT draws only the policies.
- amounts stream: occurrence by occurrence, each row's loss (ELT: a beta on
  [0, ``max_loss``]; YELT: none), then the day when the table gives none.

The counts of a trial (:func:`count_table_trial`) need only the counts
stream's first draws, as the occurrence choices come before the policy choices.
"""
import math

import numpy as np

from .codes import DAYS_IN_YEAR
from .jit import jit
from .rng import STREAM_AMOUNTS, STREAM_COUNTS, next_below, next_uniform, seeded
from .sampling import gamma_terms, next_beta, next_poisson
from .trial import CATASTROPHE_KEY, order_by_day


@jit
def _elt_occurrences(counts, total_rate, cumulative_rate, first_event, n_events, chosen):
    """An ELT's occurrences in a trial, from its counts stream: their number, and the (global)
    event of each in ``chosen[:n]`` (room for them is the caller's: ``chosen`` grows when short).
    Returns ``(n, chosen, counts)``."""
    n, counts = next_poisson(counts, total_rate)
    if chosen.shape[0] < n:
        chosen = np.empty(max(n, 2 * chosen.shape[0]), dtype=np.int64)
    for i in range(n):
        u, counts = next_uniform(counts)
        target = u * total_rate
        # the first event whose cumulative rate exceeds the target (binary search)
        low, high = 0, n_events - 1
        while low < high:
            middle = (low + high) // 2
            if cumulative_rate[first_event + middle] > target:
                high = middle
            else:
                low = middle + 1
        chosen[i] = first_event + low
    return n, chosen, counts


@jit
def count_table_trial(seed, trial, tables, n_events_out, n_hits_out, t):
    """Add to ``n_events_out[t]`` and ``n_hits_out[t]`` the occurrences and risk losses the tables
    give trial ``trial``, replaying only the first draws of each ELT's counts stream."""
    (tab_cat, tab_is_elt, tab_years, tab_year_start, year_offsets, tab_event_start, tab_total_rate,
     cumulative_rate, event_day, event_hits, row_offsets, row_line, row_loss, row_alpha, row_beta, row_max,
     row_policies) = tables
    chosen = np.empty(16, dtype=np.int64)
    for k in range(tab_cat.shape[0]):
        if tab_is_elt[k]:
            counts = seeded(seed, STREAM_COUNTS, trial, CATASTROPHE_KEY + tab_cat[k])
            n, chosen, counts = _elt_occurrences(counts, tab_total_rate[k], cumulative_rate, tab_event_start[k],
                                                 tab_event_start[k + 1] - tab_event_start[k], chosen)
            n_events_out[t] += n
            for i in range(n):
                n_hits_out[t] += event_hits[chosen[i]]
        else:
            if tab_years[k] == 0:
                continue
            y = tab_year_start[k] + trial % tab_years[k]
            for e in range(year_offsets[y], year_offsets[y + 1]):
                n_events_out[t] += 1
                n_hits_out[t] += event_hits[e]


@jit
def _choose_policies(counts, k, first_policy, n_policies, out, h, stamp, mark):
    """``k`` distinct policies of ``first_policy .. first_policy + n_policies - 1``, uniformly at
    random, into ``out[h:h + k]``: Floyd's algorithm (Bentley and Floyd 1987, "A sample of
    brilliance", CACM 30(9)), exactly ``k`` draws whatever ``k``. ``stamp[p] == mark`` marks the
    chosen. Every policy when ``k >= n_policies``, without a draw. Returns the counts stream."""
    if k >= n_policies:
        for i in range(n_policies):
            out[h + i] = first_policy + i
        return counts
    for j in range(n_policies - k, n_policies):
        pick, counts = next_below(counts, j + 1)
        policy = first_policy + pick
        if stamp[policy] == mark:
            policy = first_policy + j
        stamp[policy] = mark
        out[h] = policy
        h += 1
    return counts


@jit
def _spread(loss, out_policy, out_loss, h0, h1, sum_insured, limit):
    """Share ``loss`` among the policies ``out_policy[h0:h1]`` in proportion to their sums insured,
    each part capped at its policy's limit, into ``out_loss[h0:h1]``. Returns ``(insured, capped)``:
    the parts' sum after the caps, and what the caps cut (so ``insured + capped == loss`` up to
    rounding)."""
    total = 0.0
    for h in range(h0, h1):
        total += sum_insured[out_policy[h]]
    insured = 0.0
    capped = 0.0
    n = h1 - h0
    for h in range(h0, h1):
        policy = out_policy[h]
        part = loss * sum_insured[policy] / total if total > 0.0 else loss / n
        kept = min(part, limit[policy])
        out_loss[h] = kept
        insured += kept
        capped += part - kept
    return insured, capped


@jit
def draw_table_trial(seed, trial, tables, line_start, sum_insured, limit,
                     ev_day, ev_cat, ev_first, ev_size, hit_policy, hit_line, hit_loss, stamp, marks,
                     line_loss, line_claims, capped_loss):
    """Every table occurrence of trial ``trial`` into scratch (``ev_*`` the occurrences, ``hit_*``
    their risk losses, room from :func:`count_table_trial`), adding to the trial's ``line_loss``,
    ``line_claims`` and ``capped_loss`` (each ``(n_lines,)``). ``stamp`` and ``marks[0]`` are
    :func:`_choose_policies`' scratch. Returns the number of occurrences."""
    (tab_cat, tab_is_elt, tab_years, tab_year_start, year_offsets, tab_event_start, tab_total_rate,
     cumulative_rate, event_day, event_hits, row_offsets, row_line, row_loss, row_alpha, row_beta, row_max,
     row_policies) = tables
    chosen = np.empty(16, dtype=np.int64)
    n_out = 0
    h = 0
    for k in range(tab_cat.shape[0]):
        c = tab_cat[k]
        counts = seeded(seed, STREAM_COUNTS, trial, CATASTROPHE_KEY + c)
        amounts = seeded(seed, STREAM_AMOUNTS, trial, CATASTROPHE_KEY + c)
        if tab_is_elt[k]:
            n, chosen, counts = _elt_occurrences(counts, tab_total_rate[k], cumulative_rate, tab_event_start[k],
                                                 tab_event_start[k + 1] - tab_event_start[k], chosen)
        else:
            if tab_years[k] == 0:
                continue
            y = tab_year_start[k] + trial % tab_years[k]
            n = year_offsets[y + 1] - year_offsets[y]
            if chosen.shape[0] < n:
                chosen = np.empty(n, dtype=np.int64)
            for i in range(n):
                chosen[i] = year_offsets[y] + i
        for i in range(n):
            e = chosen[i]
            first = h
            for r in range(row_offsets[e], row_offsets[e + 1]):
                j = row_line[r]
                n_policies = line_start[j + 1] - line_start[j]
                loss = row_loss[r]
                if row_alpha[r] > 0.0:
                    a_boosted, a_third, a_c = gamma_terms(row_alpha[r])
                    b_boosted, b_third, b_c = gamma_terms(row_beta[r])
                    x, amounts = next_beta(amounts, row_alpha[r], row_beta[r], a_boosted, a_third, a_c,
                                           b_boosted, b_third, b_c)
                    loss = row_max[r] * x
                if n_policies == 0:       # a line grown to no policies: its loss is cut, and said so
                    capped_loss[j] += loss
                    continue
                k_hit = n_policies if row_policies[r] < 0 else min(row_policies[r], n_policies)
                marks[0] += 1
                counts = _choose_policies(counts, k_hit, line_start[j], n_policies, hit_policy, h, stamp, marks[0])
                insured, capped = _spread(loss, hit_policy, hit_loss, h, h + k_hit, sum_insured, limit)
                for q in range(h, h + k_hit):
                    hit_line[q] = j
                line_loss[j] += insured
                line_claims[j] += k_hit
                capped_loss[j] += capped
                h += k_hit
            day = event_day[e]
            if math.isnan(day):
                u, amounts = next_uniform(amounts)
                day = DAYS_IN_YEAR * u
            ev_day[n_out] = day
            ev_cat[n_out] = c
            ev_first[n_out] = first
            ev_size[n_out] = h - first
            n_out += 1
    return n_out


@jit
def merge_trial(n_table, ev_day, ev_cat, ev_first, ev_size, ev_order, hit_policy, hit_line, hit_loss,
                o_in, o_in_end, occ_day, occ_event, risk_offsets, risk_policy, risk_line, risk_loss,
                o_out, r_out, new_day, new_event, new_offsets, new_policy, new_line, new_loss):
    """Write a trial's occurrences ``o_in:o_in_end`` of the engine's table (in day order) and its
    ``n_table`` table occurrences (in scratch) at ``new_*[o_out:]`` and ``new_*[r_out:]``, all in day
    order. A table occurrence goes after the others of its day or earlier (ties keep the
    engine's first), and the table's own in day order, ties in drawing order."""
    order_by_day(ev_day, ev_order, n_table)
    o = o_out
    r = r_out
    i = o_in
    for e in range(n_table + 1):
        # the engine's occurrences up to the next table occurrence's day, as one block
        day = ev_day[ev_order[e]] if e < n_table else math.inf
        i_end = i
        while i_end < o_in_end and occ_day[i_end] <= day:
            i_end += 1
        if i_end > i:
            n_occ = i_end - i
            q0 = risk_offsets[i]
            q1 = risk_offsets[i_end]
            shift = r - q0
            new_day[o:o + n_occ] = occ_day[i:i_end]
            new_event[o:o + n_occ] = occ_event[i:i_end]
            for k in range(n_occ):
                new_offsets[o + k] = risk_offsets[i + k] + shift
            new_policy[r:r + q1 - q0] = risk_policy[q0:q1]
            new_line[r:r + q1 - q0] = risk_line[q0:q1]
            new_loss[r:r + q1 - q0] = risk_loss[q0:q1]
            o += n_occ
            r += q1 - q0
            i = i_end
        if e < n_table:
            source = ev_order[e]
            new_offsets[o] = r
            new_day[o] = ev_day[source]
            new_event[o] = ev_cat[source]
            h0 = ev_first[source]
            size = ev_size[source]
            new_policy[r:r + size] = hit_policy[h0:h0 + size]
            new_line[r:r + size] = hit_line[h0:h0 + size]
            new_loss[r:r + size] = hit_loss[h0:h0 + size]
            r += size
            o += 1
    return o, r


@jit
def count_tables(seed, first_trial, t0, t1, tables, n_events_out, n_hits_out):
    """:func:`count_table_trial` for the chunk's trials ``t0 .. t1 - 1``."""
    for t in range(t0, t1):
        n_events_out[t] = 0
        n_hits_out[t] = 0
        count_table_trial(seed, first_trial + t, tables, n_events_out, n_hits_out, t)


@jit
def add_tables(seed, first_trial, t0, t1, tables, exposure_arrays, event_room, hit_room, chunk_in,
               new_occ_offsets, new_trial_risk_offsets, chunk_out, line_loss, line_claims, capped_loss):
    """Draw the tables' occurrences of the chunk's trials ``t0 .. t1 - 1`` and merge each trial's
    into its place in ``chunk_out``. ``chunk_in`` is the engine's ``(occ_offsets, occ_day,
    occ_event, risk_offsets, risk_policy, risk_line, risk_loss)``; ``chunk_out`` the last six,
    sized by the counts; ``new_*_offsets`` where each trial starts in them."""
    line_start, sum_insured, deductible, limit = exposure_arrays
    occ_offsets, occ_day, occ_event, risk_offsets, risk_policy, risk_line, risk_loss = chunk_in
    new_day, new_event, new_offsets, new_policy, new_line, new_loss = chunk_out
    ev_day = np.empty(event_room, dtype=np.float64)
    ev_cat = np.empty(event_room, dtype=np.int64)
    ev_first = np.empty(event_room, dtype=np.int64)
    ev_size = np.empty(event_room, dtype=np.int64)
    ev_order = np.empty(event_room, dtype=np.int64)
    hit_policy = np.empty(hit_room, dtype=np.int64)
    hit_line = np.empty(hit_room, dtype=np.int64)
    hit_loss = np.empty(hit_room, dtype=np.float64)
    stamp = np.full(line_start[-1], -1, dtype=np.int64)
    marks = np.zeros(1, dtype=np.int64)
    for t in range(t0, t1):
        n_table = draw_table_trial(seed, first_trial + t, tables, line_start, sum_insured, limit,
                                   ev_day, ev_cat, ev_first, ev_size, hit_policy, hit_line, hit_loss, stamp, marks,
                                   line_loss[t], line_claims[t], capped_loss[t])
        merge_trial(n_table, ev_day, ev_cat, ev_first, ev_size, ev_order, hit_policy, hit_line, hit_loss,
                    occ_offsets[t], occ_offsets[t + 1], occ_day, occ_event, risk_offsets, risk_policy,
                    risk_line, risk_loss, new_occ_offsets[t], new_trial_risk_offsets[t],
                    new_day, new_event, new_offsets, new_policy, new_line, new_loss)
