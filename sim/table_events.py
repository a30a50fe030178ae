"""Catastrophes from event loss tables, added to a chunk of the engine's trials.

The engine (:mod:`sim.engine`) simulates the attritional claims and the
parametric catastrophes; a table catastrophe has no parametric draws there (its
rate is 0). This module then adds the tables' occurrences to each trial of the
chunk, in two passes of small kernels (:mod:`sim.kernels.tables`):

1. **count**: each trial's table occurrences and risk losses (an ELT draws its
   occurrences; a YELT's year is fixed by the trial), which give the new CSR
   offsets of the chunk;
2. **draw and merge**: each trial's occurrences are drawn again, the same, from
   the trial's own streams, and merged by day with the engine's occurrences
   straight into their place.

Both passes run on ``numba.get_num_threads()`` threads, each taking a
contiguous range of trials; a trial's draws depend only on the seed, the trial
and the catastrophe, so the chunk is the same whatever the threads, chunks or
Dask workers.

**An occurrence's loss to a line** (a YELT row's ``loss``, an ELT row's beta
draw) is spread over ``policies_hit`` policies of the line, chosen at random
(every policy when the table has no such column), in proportion to their sums
insured; each policy's part is capped at its limit, and what the caps cut is
kept in ``capped_loss``. The policies' deductibles are not applied: a table's
losses are taken as the policies' losses before limits.
"""
from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

from .event_tables import ALL_POLICIES, EventTable, beta_parameters
from .kernels.tables import add_tables, count_tables
from .model import Scenario
from .occurrences import Exposure, LossChunk


@dataclass(frozen=True, eq=False)
class PackedTables:
    """The scenario's event tables, concatenated into the arrays :mod:`sim.kernels.tables` takes.

    ``n_tables`` tables; events and rows are numbered globally (table ``k``'s events are
    ``event_start[k]:event_start[k + 1]``). The YELTs' year offsets are global event indices.
    """

    catastrophe: np.ndarray      # int64 (n_tables,), its position among the scenario's catastrophes
    is_elt: np.ndarray           # bool (n_tables,)
    years: np.ndarray            # int64 (n_tables,), a YELT's N; 0 for an ELT
    year_start: np.ndarray       # int64 (n_tables,), where table k's year offsets start in year_offsets
    year_offsets: np.ndarray     # int64, each table's (years + 1) offsets, global event indices
    event_start: np.ndarray      # int64 (n_tables + 1,)
    total_rate: np.ndarray       # float64 (n_tables,), an ELT's occurrences a year
    cumulative_rate: np.ndarray  # float64 (n_events,), running sum of the rates within each table
    event_day: np.ndarray        # float64 (n_events,), NaN: drawn
    row_offsets: np.ndarray      # int64 (n_events + 1,), global rows
    row_line: np.ndarray         # int64 (n_rows,)
    row_loss: np.ndarray         # float64 (n_rows,), a YELT's loss, an ELT's mean
    row_alpha: np.ndarray        # float64 (n_rows,), the beta's parameters; 0: the loss is row_loss
    row_beta: np.ndarray
    row_max: np.ndarray
    row_policies: np.ndarray     # int64 (n_rows,), or ALL_POLICIES

    def event_hits(self, exposure: Exposure) -> np.ndarray:
        """Risk losses of one occurrence of each event on ``exposure``, int64 ``(n_events,)``."""
        line_policies = np.diff(exposure.line_start)[self.row_line]
        hits = np.where(self.row_policies == ALL_POLICIES, line_policies,
                        np.minimum(self.row_policies, line_policies))
        per_event = np.zeros(len(self.event_day), dtype=np.int64)
        np.add.at(per_event, np.repeat(np.arange(len(self.event_day)), np.diff(self.row_offsets)), hits)
        return per_event

    def kernel_arrays(self, exposure: Exposure) -> tuple:
        """The tuple :func:`sim.kernels.tables.draw_table_trial` unpacks."""
        return (self.catastrophe, self.is_elt, self.years, self.year_start, self.year_offsets, self.event_start,
                self.total_rate, self.cumulative_rate, self.event_day, self.event_hits(exposure),
                self.row_offsets, self.row_line, self.row_loss, self.row_alpha, self.row_beta, self.row_max,
                self.row_policies)


def table_catastrophes(scenario: Scenario) -> list[tuple[int, EventTable]]:
    """``(position, table)`` of each catastrophe given by an event table."""
    return [(c, cat.event_table) for c, cat in enumerate(scenario.catastrophes) if cat.event_table is not None]


def pack_tables(scenario: Scenario) -> PackedTables | None:
    """The scenario's event tables as one :class:`PackedTables`; None when it has none."""
    entries = table_catastrophes(scenario)
    if not entries:
        return None
    event_base = np.cumsum([0] + [table.n_events for _, table in entries])
    row_base = np.cumsum([0] + [table.n_rows for _, table in entries])
    year_parts, year_start, cumulative = [], [], []
    start = 0
    for (_, table), base in zip(entries, event_base):
        year_start.append(start)
        year_parts.append(table.year_offsets + base)
        start += len(table.year_offsets)
        cumulative.append(np.cumsum(table.event_rate))
    alpha, beta = [], []
    for _, table in entries:
        if table.kind == "elt":
            a, b = beta_parameters(table.row_loss, table.row_sd, table.row_max)
        else:
            a = b = np.zeros(table.n_rows)
        alpha.append(a)
        beta.append(b)

    def joined(values, dtype):
        return np.concatenate(values).astype(dtype) if values else np.zeros(0, dtype=dtype)

    return PackedTables(
        catastrophe=np.array([c for c, _ in entries], dtype=np.int64),
        is_elt=np.array([table.kind == "elt" for _, table in entries], dtype=np.bool_),
        years=np.array([table.years for _, table in entries], dtype=np.int64),
        year_start=np.array(year_start, dtype=np.int64),
        year_offsets=joined(year_parts, np.int64),
        event_start=event_base.astype(np.int64),
        total_rate=np.array([table.event_rate.sum() if table.kind == "elt" else 0.0 for _, table in entries]),
        cumulative_rate=joined(cumulative, np.float64),
        event_day=joined([table.event_day for _, table in entries], np.float64),
        row_offsets=np.append(joined([table.row_offsets[:-1] + base for (_, table), base in zip(entries, row_base)],
                                     np.int64), row_base[-1]).astype(np.int64),
        row_line=joined([table.row_line for _, table in entries], np.int64),
        row_loss=joined([table.row_loss for _, table in entries], np.float64),
        row_alpha=joined(alpha, np.float64),
        row_beta=joined(beta, np.float64),
        row_max=joined([table.row_max for _, table in entries], np.float64),
        row_policies=joined([table.row_policies for _, table in entries], np.int64),
    )


def _row_hits(table: EventTable, exposure: Exposure) -> np.ndarray:
    """Policies each row of ``table`` hits on ``exposure``, int64 ``(n_rows,)``."""
    line_policies = np.diff(exposure.line_start)[table.row_line]
    return np.where(table.row_policies == ALL_POLICIES, line_policies, np.minimum(table.row_policies, line_policies))


def expected_table_sizes(scenario: Scenario, exposure: Exposure) -> tuple[float, float]:
    """Expected ``(occurrences, risk losses)`` a trial from the scenario's tables, for chunk sizing."""
    events = risk = 0.0
    for _, table in table_catastrophes(scenario):
        rows = _row_hits(table, exposure).astype(np.float64)
        if table.kind == "elt":
            per_row_rate = np.repeat(table.event_rate, np.diff(table.row_offsets))
            events += float(table.event_rate.sum())
            risk += float((per_row_rate * rows).sum())
        elif table.years > 0:
            events += table.n_events / table.years
            risk += float(rows.sum()) / table.years
    return events, risk


def table_notes(scenario: Scenario, n_trials: int) -> list[str]:
    """A note for each YELT with fewer years than the run has trials: its trials repeat its years."""
    notes = []
    for _, table in table_catastrophes(scenario):
        if table.kind == "yelt" and n_trials > table.years:
            notes.append(f"note: {table.source} holds {table.years:,} years for {n_trials:,} trials: trial t takes "
                         f"its year (t mod {table.years:,}) + 1, so the catastrophe tail rests on "
                         f"{table.years:,} distinct years, however many trials")
    return notes


def _trial_ranges(n_trials: int, parts: int) -> list[tuple[int, int]]:
    bounds = np.linspace(0, n_trials, parts + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _on_threads(kernel, n_trials: int, *arguments) -> None:
    """``kernel(t0, t1, ...)`` over contiguous trial ranges on ``numba.get_num_threads()`` threads
    (the kernels release the GIL)."""
    ranges = _trial_ranges(n_trials, numba.get_num_threads())
    if len(ranges) <= 1:
        for t0, t1 in ranges:
            kernel(t0, t1, *arguments)
        return
    with ThreadPoolExecutor(max_workers=len(ranges), thread_name_prefix="poolsim-tables") as pool:
        for done in [pool.submit(kernel, t0, t1, *arguments) for t0, t1 in ranges]:
            done.result()


def add_table_events(seed: np.uint64, tables: PackedTables, exposure: Exposure, chunk: LossChunk) -> LossChunk:
    """``chunk`` with the tables' occurrences of its trials merged in by day; its ``line_loss``
    and ``line_claims`` are added to in place, and ``capped_loss`` filled."""
    n_trials = chunk.n_trials
    first = np.uint64(chunk.first_trial)
    arrays = tables.kernel_arrays(exposure)
    n_events = np.zeros(n_trials, dtype=np.int64)
    n_hits = np.zeros(n_trials, dtype=np.int64)
    _on_threads(lambda t0, t1: count_tables(seed, first, t0, t1, arrays, n_events, n_hits), n_trials)

    occ_offsets = chunk.occ_offsets.copy()
    np.cumsum(n_events, out=occ_offsets[1:])
    occ_offsets += chunk.occ_offsets
    old_trial_risk = chunk.risk_offsets[chunk.occ_offsets]
    trial_risk = old_trial_risk.copy()
    trial_risk[0] = 0
    np.cumsum(n_hits, out=trial_risk[1:])
    trial_risk += old_trial_risk
    n_occ, n_risk = int(occ_offsets[-1]), int(trial_risk[-1])
    out = (np.empty(n_occ, dtype=np.float64), np.empty(n_occ, dtype=np.int64), np.empty(n_occ + 1, dtype=np.int64),
           np.empty(n_risk, dtype=np.int64), np.empty(n_risk, dtype=np.int64), np.empty(n_risk, dtype=np.float64))
    chunk_in = (chunk.occ_offsets, chunk.occ_day, chunk.occ_event, chunk.risk_offsets, chunk.risk_policy,
                chunk.risk_line, chunk.risk_loss)
    exposure_arrays = (exposure.line_start, exposure.sum_insured, exposure.deductible, exposure.limit)
    capped = np.zeros_like(chunk.line_loss)
    event_room = max(int(n_events.max(initial=0)), 1)
    hit_room = max(int(n_hits.max(initial=0)), 1)
    _on_threads(lambda t0, t1: add_tables(seed, first, t0, t1, arrays, exposure_arrays, event_room, hit_room,
                                          chunk_in, occ_offsets, trial_risk, out, chunk.line_loss,
                                          chunk.line_claims, capped), n_trials)
    day, event, risk_offsets, policy, line, loss = out
    risk_offsets[-1] = n_risk
    return dataclasses.replace(chunk, occ_offsets=occ_offsets, occ_day=day, occ_event=event,
                               risk_offsets=risk_offsets, risk_policy=policy, risk_line=line, risk_loss=loss,
                               capped_loss=capped)
