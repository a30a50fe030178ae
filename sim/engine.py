"""The loss engine: every trial's attritional claims and catastrophe events, as an occurrence table.

For a chunk of trials the engine makes two passes over the same per-trial
streams (see :mod:`sim.rng`):

1. **count**: replay only the *counts* stream (which policies claim, how
   often, how many catastrophe events, which policies each event hits) to
   size every trial's slice;
2. **fill**: replay it again, now also drawing from the *amounts* stream
   (claim sizes and days), simulate each trial into per-block scratch and
   copy its occurrences to its slice in day order.

A prefix sum between the passes turns counts into CSR offsets
(:class:`sim.occurrences.LossChunk`). Nothing here knows about pools or
treaties, so two pool structures run on one seed see identical gross losses.

Streams are keyed by line (attritional claims) and by catastrophe type, so
adding a catastrophe to a scenario leaves the attritional losses unchanged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .copula import risk_levels
from .jit import jit, parallel_jit, prange
from .model import Scenario
from .occurrences import ATTRITIONAL, DAYS_IN_YEAR, Exposure, LossChunk
from .rng import STREAM_AMOUNTS, STREAM_COUNTS, seed_state, uniform
from .sampling import (claim_probability, log_miss, next_hit_log, poisson, positive_claim_count_given, sample,
                       zero_claim_probability)

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


@jit
def _record_claim(amounts, damage, is_ratio, policy, line, sum_insured, deductible, limit,
                  r, risk_policy, risk_line, risk_loss, line_loss, line_claims):
    """Draw one policy's loss from one claim and record it as risk loss ``r``.

    Ground-up from ``damage`` (money, or a share of the sum insured when
    ``is_ratio``), then the policy's deductible and limit.
    """
    ground_up = sample(amounts, damage)
    if is_ratio:
        ground_up *= sum_insured[policy]
    loss = min(max(ground_up - deductible[policy], 0.0), limit[policy])
    risk_policy[r] = policy
    risk_line[r] = line
    risk_loss[r] = loss
    line_loss[line] += loss
    line_claims[line] += 1


@jit
def _simulate_trial(seed, trial, levels, model_arrays, exposure_arrays, fill,
                    occ_day, occ_event, occ_size, risk_policy, risk_line, risk_loss,
                    occ_start, risk_start, line_loss, line_claims):
    """Count (``fill`` False) or write (``fill`` True) one trial's occurrences, unsorted.

    Returns ``(n_occurrences, n_risk_losses)`` of the trial. In fill mode the
    occurrences go to ``occ_*[occ_start:]`` with their number of risk losses
    in ``occ_size``, and the risk losses to ``risk_*[risk_start:]``.
    """
    (line_frequency, line_damage, line_damage_is_ratio, cat_rate, cat_share, cat_damage,
     cat_damage_is_ratio, cat_line_offsets, cat_lines) = model_arrays
    line_start, sum_insured, deductible, limit = exposure_arrays
    counts = np.empty(4, dtype=np.uint64)
    amounts = np.empty(4, dtype=np.uint64)
    n_occ = 0
    n_risk = 0
    for j in range(line_frequency.shape[0]):
        seed_state(counts, seed, STREAM_COUNTS, trial, j)
        if fill:
            seed_state(amounts, seed, STREAM_AMOUNTS, trial, j)
        log_q = log_miss(claim_probability(line_frequency[j], levels[j]))   # once per line, not per hit
        p_zero = zero_claim_probability(line_frequency[j], levels[j])
        end = line_start[j + 1]
        policy = next_hit_log(counts, line_start[j] - 1, log_q)
        while policy < end:
            n_claims = positive_claim_count_given(counts, line_frequency[j], levels[j], p_zero)
            if fill:
                for _ in range(n_claims):
                    _record_claim(amounts, line_damage[j], line_damage_is_ratio[j], policy, j,
                                  sum_insured, deductible, limit, risk_start + n_risk,
                                  risk_policy, risk_line, risk_loss, line_loss, line_claims)
                    o = occ_start + n_occ
                    occ_day[o] = DAYS_IN_YEAR * uniform(amounts)
                    occ_event[o] = ATTRITIONAL
                    occ_size[o] = 1
                    n_occ += 1
                    n_risk += 1
            else:
                n_occ += n_claims
                n_risk += n_claims
            policy = next_hit_log(counts, policy, log_q)
    for c in range(cat_rate.shape[0]):
        seed_state(counts, seed, STREAM_COUNTS, trial, CATASTROPHE_KEY + c)
        if fill:
            seed_state(amounts, seed, STREAM_AMOUNTS, trial, CATASTROPHE_KEY + c)
        for _ in range(poisson(counts, cat_rate[c])):
            share = min(max(sample(counts, cat_share[c]), 0.0), 1.0)
            log_q = log_miss(share)   # once per event, not per hit
            hits = 0
            for k in range(cat_line_offsets[c], cat_line_offsets[c + 1]):
                j = cat_lines[k]
                end = line_start[j + 1]
                policy = next_hit_log(counts, line_start[j] - 1, log_q)
                while policy < end:
                    if fill:
                        _record_claim(amounts, cat_damage[c], cat_damage_is_ratio[c], policy, j,
                                      sum_insured, deductible, limit, risk_start + n_risk + hits,
                                      risk_policy, risk_line, risk_loss, line_loss, line_claims)
                    hits += 1
                    policy = next_hit_log(counts, policy, log_q)
            if fill:
                o = occ_start + n_occ
                occ_day[o] = DAYS_IN_YEAR * uniform(amounts)
                occ_event[o] = c
                occ_size[o] = hits
            n_occ += 1
            n_risk += hits
    return n_occ, n_risk


@parallel_jit
def _count(seed, first_trial, levels, model_arrays, exposure_arrays, n_occ, n_risk):
    empty_f = np.empty(0, dtype=np.float64)
    empty_i = np.empty(0, dtype=np.int64)
    for t in prange(levels.shape[0]):
        n_occ[t], n_risk[t] = _simulate_trial(
            seed, first_trial + t, levels[t], model_arrays, exposure_arrays, False,
            empty_f, empty_i, empty_i, empty_i, empty_i, empty_f, 0, 0, empty_f, empty_i)


@jit
def _day_order(days, order, bucket, bucket_start):
    """Write into ``order[:n]`` the indices that sort ``days`` (all in [0, DAYS_IN_YEAR)), ties kept in order.

    A bucket sort with one bucket per occurrence: days are uniform over the
    year, so buckets hold about one element and the sort is linear, where a
    comparison sort was a large share of the engine's time. ``order`` and
    ``bucket`` (length >= n) and ``bucket_start`` (>= n + 1) are the caller's
    scratch, so nothing is allocated per trial.
    """
    n = days.shape[0]
    scale = n / DAYS_IN_YEAR
    bucket_start[:n + 1] = 0
    for k in range(n):
        b = min(int(days[k] * scale), n - 1)
        bucket[k] = b           # kept: the scatter below needs it again
        bucket_start[b + 1] += 1
    for b in range(n):
        bucket_start[b + 1] += bucket_start[b]
    for k in range(n):          # stable scatter; bucket_start[b] ends as the end of bucket b
        b = bucket[k]
        order[bucket_start[b]] = k
        bucket_start[b] += 1
    begin = 0
    for b in range(n):          # insertion sort inside each (tiny) bucket; stable
        end = bucket_start[b]
        for i in range(begin + 1, end):
            current = order[i]
            j = i - 1
            while j >= begin and days[order[j]] > days[current]:
                order[j + 1] = order[j]
                j -= 1
            order[j + 1] = current
        begin = end


@jit
def _write_by_day(n, o0, r0, day, event, size, policy, line, loss, order, bucket, bucket_start, risk_start,
                  occ_day, occ_event, risk_offsets, risk_policy, risk_line, risk_loss):
    """Copy one trial's occurrences from the scratch arrays (``day`` ... ``loss``, as
    :func:`_simulate_trial` wrote them at offset 0) to its slices ``occ_*[o0:]`` and
    ``risk_*[r0:]``, ordered by day, and set their risk offsets.

    ``order``, ``bucket``, ``bucket_start`` and ``risk_start`` are more scratch (length
    >= n, ``bucket_start`` n + 1).
    """
    _day_order(day[:n], order, bucket, bucket_start)
    position = 0
    for k in range(n):
        risk_start[k] = position
        position += size[k]
    position = r0
    for k in range(n):
        source = order[k]
        occ_day[o0 + k] = day[source]
        occ_event[o0 + k] = event[source]
        risk_offsets[o0 + k] = position
        start = risk_start[source]
        for q in range(size[source]):
            risk_policy[position + q] = policy[start + q]
            risk_line[position + q] = line[start + q]
            risk_loss[position + q] = loss[start + q]
        position += size[source]


# Trials per parallel work item of the fill pass. Each item allocates its
# scratch once, sized to its largest trial, instead of ~10 arrays per trial.
# Output does not depend on it: each trial writes only its own slices.
TRIALS_PER_BLOCK = 64


@parallel_jit
def _fill(seed, first_trial, levels, model_arrays, exposure_arrays, occ_offsets, trial_risk_offsets,
          occ_day, occ_event, risk_offsets, risk_policy, risk_line, risk_loss,
          line_loss, line_claims):
    n_trials = levels.shape[0]
    n_blocks = (n_trials + TRIALS_PER_BLOCK - 1) // TRIALS_PER_BLOCK
    for block in prange(n_blocks):
        t0 = block * TRIALS_PER_BLOCK
        t1 = min(t0 + TRIALS_PER_BLOCK, n_trials)
        max_occ = 0
        max_risk = 0
        for t in range(t0, t1):
            max_occ = max(max_occ, occ_offsets[t + 1] - occ_offsets[t])
            max_risk = max(max_risk, trial_risk_offsets[t + 1] - trial_risk_offsets[t])
        # A trial is simulated unsorted into these, then written to its slices in day order.
        day = np.empty(max_occ, dtype=np.float64)
        event = np.empty(max_occ, dtype=np.int64)
        size = np.empty(max_occ, dtype=np.int64)
        policy = np.empty(max_risk, dtype=np.int64)
        line = np.empty(max_risk, dtype=np.int64)
        loss = np.empty(max_risk, dtype=np.float64)
        order = np.empty(max_occ, dtype=np.int64)
        bucket = np.empty(max_occ, dtype=np.int64)
        bucket_start = np.empty(max_occ + 1, dtype=np.int64)
        risk_start = np.empty(max_occ, dtype=np.int64)
        for t in range(t0, t1):
            n, _ = _simulate_trial(seed, first_trial + t, levels[t], model_arrays, exposure_arrays, True,
                                   day, event, size, policy, line, loss, 0, 0, line_loss[t], line_claims[t])
            _write_by_day(n, occ_offsets[t], trial_risk_offsets[t], day, event, size, policy, line, loss,
                          order, bucket, bucket_start, risk_start,
                          occ_day, occ_event, risk_offsets, risk_policy, risk_line, risk_loss)


def _offsets(counts: np.ndarray) -> np.ndarray:
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def simulate_chunk(scenario: Scenario, model: LossModel, exposure: Exposure,
                   first_trial: int, n_trials: int) -> LossChunk:
    """Gross losses of trials ``first_trial .. first_trial + n_trials - 1``.

    Trial ``i``'s losses depend only on the scenario's loss sections, its seed
    and ``i``: never on the chunk it is simulated in, nor on the thread.
    """
    seed = np.uint64(scenario.simulation.seed)
    levels = risk_levels(scenario, first_trial, n_trials)
    model_arrays = (model.line_frequency, model.line_damage, model.line_damage_is_ratio, model.cat_rate,
                    model.cat_share, model.cat_damage, model.cat_damage_is_ratio,
                    model.cat_line_offsets, model.cat_lines)
    exposure_arrays = (exposure.line_start, exposure.sum_insured, exposure.deductible, exposure.limit)
    first = np.uint64(first_trial)

    n_occ = np.empty(n_trials, dtype=np.int64)
    n_risk = np.empty(n_trials, dtype=np.int64)
    _count(seed, first, levels, model_arrays, exposure_arrays, n_occ, n_risk)
    occ_offsets = _offsets(n_occ)
    trial_risk_offsets = _offsets(n_risk)

    total_occ, total_risk = int(occ_offsets[-1]), int(trial_risk_offsets[-1])
    occ_day = np.empty(total_occ, dtype=np.float64)
    occ_event = np.empty(total_occ, dtype=np.int64)
    risk_offsets = np.empty(total_occ + 1, dtype=np.int64)
    risk_offsets[total_occ] = total_risk
    risk_policy = np.empty(total_risk, dtype=np.int64)
    risk_line = np.empty(total_risk, dtype=np.int64)
    risk_loss = np.empty(total_risk, dtype=np.float64)
    n_lines = exposure.n_lines
    line_loss = np.zeros((n_trials, n_lines), dtype=np.float64)
    line_claims = np.zeros((n_trials, n_lines), dtype=np.int64)
    _fill(seed, first, levels, model_arrays, exposure_arrays, occ_offsets, trial_risk_offsets,
          occ_day, occ_event, risk_offsets, risk_policy, risk_line, risk_loss,
          line_loss, line_claims)
    return LossChunk(first_trial=first_trial, occ_offsets=occ_offsets, occ_day=occ_day, occ_event=occ_event,
                     risk_offsets=risk_offsets, risk_policy=risk_policy, risk_line=risk_line,
                     risk_loss=risk_loss, line_loss=line_loss, line_claims=line_claims, risk_level=levels)


def expected_risk_losses(scenario: Scenario, exposure: Exposure) -> float:
    """Expected number of risk losses per trial (attritional claims + policies hit), for chunk sizing."""
    total = 0.0
    for j, line in enumerate(scenario.lines):
        total += line.frequency.mean() * (exposure.line_start[j + 1] - exposure.line_start[j])
    for cat in scenario.catastrophes:
        share = cat.affected_share.mean()
        policies = sum(exposure.line_start[scenario.line_index(n) + 1] - exposure.line_start[scenario.line_index(n)]
                       for n in cat.lines)
        total += cat.rate * (1.0 if math.isnan(share) else share) * policies
    return float(total)
