"""The loss engine: every trial's attritional claims and catastrophe events, as an occurrence table.

For a chunk of trials the engine simulates each trial once, from its own
streams (see :mod:`sim.kernels.rng`), in two passes of one kernel
(:func:`sim.kernels.passes._parallel_pass`, on ``numba.get_num_threads()``
Python threads, each taking every n-th work item):

1. **simulate**: each parallel work item (``TRIALS_PER_BLOCK`` trials) draws
   its trials in turn (:func:`sim.kernels.trial._draw_trial`: catastrophe
   events, then claims and their amounts, into scratch) and writes them in day
   order (:func:`sim.kernels.trial._place_trial`) into its own region of an
   over-sized buffer, as the trials' sizes are not known before they are drawn;
2. **gather**: a prefix sum of the sizes gives the CSR offsets
   (:class:`sim.occurrences.LossChunk`), and each trial is copied from its
   region to its place.

The regions leave room for 25% more than the expected size; a trial that
does not fit (say, a rare event hitting thousands of policies) is only
counted in the first pass, by replaying its counts stream
(:func:`sim.kernels.trial._count_trial`), and simulated straight into place in the second, with
the same draws. Either way its losses are the same, bit for bit.

On one thread (a run on 2 threads gives each chunk one) there is no need
for regions: :func:`sim.kernels.passes._serial_pass` writes each trial straight into its place,
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

from .copula import risk_levels
from .kernels.passes import TRIALS_PER_BLOCK, _parallel_pass, _serial_pass

from .model import Scenario
from .occurrences import Exposure, LossChunk
from .table_events import PackedTables, add_table_events, expected_table_sizes, pack_tables


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
    tables: PackedTables | None = None   # the catastrophes given by event tables (rate 0 above)

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
            tables=pack_tables(scenario),
        )


# Stream key, in the amounts stream, of a trial's attritional days and their order (see _place_trial).

# The first pass's room, as multiples of the expected size: for one trial's scratch, and for
# a work item's region (its trials' total, with the scratch room on top).
TRIAL_ROOM = 16
REGION_ROOM = 1.25


def _on_threads(gather, *arguments):
    """:func:`sim.kernels.passes._parallel_pass` on ``numba.get_num_threads()`` threads, each
    taking every n-th work item; the kernel releases the GIL."""
    threads = numba.get_num_threads()
    if threads == 1:
        _parallel_pass(gather, 0, 1, *arguments)
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="poolsim-engine") as pool:
        for done in [pool.submit(_parallel_pass, gather, first, threads, *arguments) for first in range(threads)]:
            done.result()


_NO_OFFSETS = np.zeros(0, dtype=np.int64)


def _first_pass(seed, first_trial, levels, model_arrays, exposure_arrays, occ_room, hit_room,
                region_occ, region_risk, region, region_occ_start, region_risk_start,
                n_occ, n_risk, occ_need, hit_need, line_loss, line_claims):
    """The first pass of :func:`_parallel_pass`: every trial once, into its work item's region."""
    _on_threads(False, seed, first_trial, levels, model_arrays, exposure_arrays, occ_room, hit_room,
                   region_occ, region_risk, region, region_occ_start, region_risk_start, n_occ, n_risk,
                   occ_need, hit_need, _NO_OFFSETS, _NO_OFFSETS, region, line_loss, line_claims)


def _second_pass(seed, first_trial, levels, model_arrays, exposure_arrays, region, region_occ_start,
                 region_risk_start, occ_need, hit_need, occ_offsets, trial_risk_offsets, out, line_loss,
                 line_claims):
    """The second pass of :func:`_parallel_pass`: each trial to its place in ``out``."""
    _on_threads(True, seed, first_trial, levels, model_arrays, exposure_arrays, 0, 0, 0, 0, region,
                   region_occ_start, region_risk_start, occ_need, occ_need, occ_need, hit_need, occ_offsets,
                   trial_risk_offsets, out, line_loss, line_claims)


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
    chunk = LossChunk(first_trial=first_trial, occ_offsets=occ_offsets, occ_day=occ_day, occ_event=occ_event,
                      risk_offsets=risk_offsets, risk_policy=risk_policy, risk_line=risk_line,
                      risk_loss=risk_loss, line_loss=line_loss, line_claims=line_claims, risk_level=levels,
                      capped_loss=np.zeros_like(line_loss))
    if model.tables is not None:
        chunk = add_table_events(seed, model.tables, exposure, chunk)
    return chunk


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
    """Expected ``(occurrences, risk losses)`` of a trial at risk level 1 that the engine's kernels
    draw: attritional claims plus parametric catastrophe events, and attritional claims plus
    policies hit (event tables' are added after, :mod:`sim.table_events`)."""
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
    """Expected number of risk losses per trial (attritional claims + policies hit, event tables'
    included), for chunk sizing."""
    return expected_sizes(scenario, exposure)[1] + expected_table_sizes(scenario, exposure)[1]
