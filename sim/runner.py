"""One simulation run, end to end: scenario -> chunks of trials -> tables -> results folder.

This is the Python API behind ``poolsim run``::

    import sim
    results = sim.run("scenarios/ai_cyber_pool.toml", trials=20_000)
    results.summary

Trials are simulated in chunks (:mod:`sim.chunks`). A one-year run streams each
chunk's rows to trials.parquet and line_losses.parquet as the chunks come in,
in trial order (:mod:`sim.table_stream`), and keeps only what the statistics
need (:mod:`sim.kept_columns`): memory grows with the trials by that, not by
every column of every trial. A multi-year run keeps every path-year in memory.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from . import __version__
from .chunks import (MAX_CHUNK_TRIALS, MIN_CHUNK_TRIALS, RISK_LOSSES_PER_CHUNK,  # noqa: F401 (re-exported)
                     THREAD_SAFE_LAYERS, Chunk, OneYearPlan, Plan, chunk_ranges, default_chunk_trials, prepare,
                     simulate_chunk, with_overrides)
from .errors import ScenarioError, UsageError
from .kept_columns import HELD_COLUMNS, KEPT_FOLDER, HeldColumns, KeptColumns
from .memory import keep_freed_memory, release_freed_memory
from .metrics import party_net_result
from .model import Scenario
from .party_arrays import PathArrays
from .pool import treaty_labels
from .repricing import attach_pricing
from .results import Results
from .results_folder import check_replaceable, swap_into_place
from .run_folder import draws_plots, finish_run_folder, legible_if, staged
from .solvency import capital_end, party_capital_start
from .table_events import table_notes
from .table_stream import TABLE_FILES, TABLES, TableStream
from .tables import build_multi_year_results, one_year_results

# Seconds of simulation after which run() reports its later stages on stderr.
STAGE_MESSAGES_AFTER = 2.0
# Below this many one-year trials, run() notes that the minimum capital is uncertain: its
# catastrophe part (C-ROSS) or the whole of it (VaR) is a 99.5% quantile of the run's own
# trials, which then rests on fewer than 100 trials beyond it.
FEW_TRIALS_FOR_SOLVENCY = 20_000

Prepared = OneYearPlan      # the name before sim.chunks


def chosen_tables(tables: Sequence[str] | None) -> tuple[str, ...]:
    """The per-trial tables to write, in :data:`sim.table_stream.TABLES` order (None: all)."""
    if tables is None:
        return TABLES
    unknown = [name for name in tables if name not in TABLES]
    if unknown:
        raise UsageError(f"--tables: {', '.join(map(repr, unknown))} is not a table poolsim writes; "
                         f"choose among {', '.join(TABLES)} (or none)")
    return tuple(name for name in TABLES if name in tables)


def _load(scenario) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    from .scenario import load
    return load(scenario)


_THREAD_SAFE_LAYERS = THREAD_SAFE_LAYERS       # the name before sim.chunks


def _chunks_in_process(plan: Plan, ranges: list[tuple[int, int]]) -> Iterator[Chunk]:
    """Simulate ``ranges``; yield each chunk, in trial order.

    With ``n`` numba threads and enough chunks, a one-year run works on ``n``
    chunks at once, each on one thread, rather than on one chunk with ``n``
    threads: each chunk also has serial NumPy work (the per-trial money
    after the treaty kernel, the risk levels, first touches of memory), which
    would otherwise leave the other cores idle, and the kernels lose a
    barrier per chunk. 2 cores: the chunk loop of 200,000 benchmark trials
    took 6.6 s this way against 8.1 s. The numbers are the same: each chunk
    is a pure function of its trial range. The runner's default chunk is then
    ``1/n`` the size (:func:`sim.chunks.default_chunk_trials`), so the chunks in
    memory together hold about what one chunk held.
    """
    import numba

    threads = numba.get_num_threads()
    rest = list(ranges)
    if threads > 1 and plan.side_by_side and len(ranges) > threads:
        # the first chunk on all threads: it also starts numba's threading layer, which must be safe
        first, count = ranges[0]
        yield simulate_chunk(plan, first, count)
        rest = rest[1:]
        if numba.threading_layer() in _THREAD_SAFE_LAYERS:
            yield from _chunks_on_threads(plan, rest, threads)
            return
    for first, count in rest:
        yield simulate_chunk(plan, first, count)


def _chunks_on_threads(plan: Plan, ranges: list[tuple[int, int]], threads: int) -> Iterator[Chunk]:
    """:func:`_chunks_in_process` on ``threads`` Python threads, each running its chunks'
    kernels on one numba thread (numba's thread count is set per thread). At most
    ``2 × threads`` chunks are under way or waiting for their turn at once."""
    import numba
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    def work(chunk: tuple[int, int]) -> Chunk:
        numba.set_num_threads(1)
        return simulate_chunk(plan, *chunk)

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="poolsim-chunk") as pool:
        pending = deque()
        try:
            for chunk in ranges:
                pending.append(pool.submit(work, chunk))
                if len(pending) >= 2 * threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)    # no chunk left running after an error
            raise


class _PathCollector:
    """A multi-year run's full arrays ``(n_trials, n_years, ...)``, filled chunk by chunk."""

    def __init__(self, n_trials: int):
        self.n_trials = n_trials
        self.arrays: dict[str, np.ndarray] | None = None

    def add(self, chunk: Chunk) -> None:
        columns = dict(chunk.arrays.items()) | {"line_loss": chunk.line_loss, "line_claims": chunk.line_claims,
                                                "capped_loss": chunk.capped_loss}
        if self.arrays is None:
            self.arrays = {name: np.empty((self.n_trials, *values.shape[1:]), dtype=values.dtype)
                           for name, values in columns.items()}
        rows = slice(chunk.first_trial, chunk.first_trial + chunk.n_trials)
        for name, values in columns.items():
            self.arrays[name][rows] = values


def run(scenario, *, trials: int | None = None, seed: int | None = None, out=None,
        threads: int | None = None, workers: int | None = None, scheduler: str | None = None,
        chunk_trials: int | None = None, plots: bool = True, progress: bool = True,
        tables: Sequence[str] | None = None) -> Results:
    """Simulate a scenario (a path or a :class:`sim.model.Scenario`) and return its results.

    ``out`` is the results folder to write (atomically); ``None`` writes nothing and keeps
    every table in memory. An existing ``out`` must be an earlier results folder or empty
    (UsageError otherwise). ``workers`` runs on a local Dask cluster of that many processes,
    ``scheduler`` on a running one; the numbers are the same whichever way the run is made.
    ``tables`` names the per-trial tables to write (``"trials"``, ``"line_losses"``; default
    both): without trials.parquet, no plots are drawn.
    """
    import numba

    started = time.perf_counter()
    scenario = with_overrides(_load(scenario), trials, seed)
    tables = chosen_tables(tables)
    if out is not None:
        check_replaceable(out)      # a bad --out found now, not after minutes of simulation
    if threads is not None:
        if not 1 <= threads <= numba.config.NUMBA_NUM_THREADS:
            # a bad argument, not a bad scenario: the command line says so with its "poolsim:" prefix
            raise UsageError(f"--threads = {threads} must be within [1, {numba.config.NUMBA_NUM_THREADS}] "
                             "(the cores of this machine)")
        numba.set_num_threads(threads)
    if chunk_trials is not None and chunk_trials < 1:
        raise ScenarioError([f"--chunk-trials = {chunk_trials} must be a whole number >= 1"])

    plan = prepare(scenario, progress=progress)
    n_trials = scenario.simulation.trials
    # Whatever `progress` says: this is about the figures, not about how the run is going.
    # Every note the run prints is also kept in run.json ("notes"), for the report's run record.
    notes = list(scenario.notes) + table_notes(scenario, n_trials)
    for note in notes[len(scenario.notes):]:
        _stage(note)
    if plan.years == 1 and n_trials < FEW_TRIALS_FOR_SOLVENCY:
        notes.append(f"note: with {n_trials:,} trials the minimum capital, and so the solvency ratios, are "
                     f"uncertain beyond their standard errors: it rests on the 99.5% quantile of this run's own "
                     f"trials. Use {FEW_TRIALS_FOR_SOLVENCY:,} or more for solvency figures.")
        _stage(notes[-1])
    on_dask = workers is not None or scheduler is not None
    chunks_at_once = numba.get_num_threads() if not on_dask and plan.side_by_side else 1
    chunk_trials = chunk_trials or default_chunk_trials(plan, chunks_at_once)
    ranges = chunk_ranges(n_trials, chunk_trials)
    run_info = {
        "scenario": scenario.name,
        "scenario_file": str(scenario.source) if scenario.source else None,
        "sha256": scenario.sha256,
        "seed": scenario.simulation.seed,
        "trials": n_trials,
        "years": scenario.simulation.years,
        "version": __version__,
        "threads": numba.get_num_threads(),
        "workers": workers,
        "scheduler": scheduler,
        "chunk_trials": chunk_trials,
        "currency": scenario.currency,
        "notes": notes,
        "tables": list(tables),
    }

    def each_chunk(take: Callable[[Chunk], None]) -> None:
        """Every chunk to ``take``, in trial order, on Dask or in this process."""
        keep_freed_memory()         # for the chunks; given back, however they end, before the tables
        try:
            if on_dask:
                from .distributed import run_chunks
                run_chunks(plan, ranges, take, workers=workers, scheduler=scheduler, progress=progress)
                return
            from tqdm import tqdm
            with tqdm(total=n_trials, unit="trial", unit_scale=True, desc=scenario.name, delay=2.0,
                      disable=not progress, leave=False) as bar:
                for chunk in _chunks_in_process(plan, ranges):
                    take(chunk)
                    bar.update(chunk.n_trials)
        finally:
            release_freed_memory()

    def say(message: str) -> None:
        """``message`` on stderr in a long run (``{seconds}`` in it: the seconds so far). A long
        run's tables, files and plots take a while too (about 20 s at a million trials): say what
        is happening, as the progress bar did for the chunks."""
        seconds = time.perf_counter() - started
        if progress and seconds > STAGE_MESSAGES_AFTER:
            _stage(message.format(seconds=f"{seconds:.0f}"))

    # Without --out, the tables are written to a private temporary folder and read back.
    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="poolsim-run-")) / "run"
    plots = plots and out is not None
    results = None
    try:
        with staged(folder) as staging:
            if plan.years == 1:
                results = _one_year(plan, run_info, staging, tables, each_chunk, say)
            else:
                results = _multi_year(plan, run_info, staging, tables, each_chunk, say)
            # Simulation and tables; writing the rest of the folder is not counted.
            results.run_info["wall_seconds"] = time.perf_counter() - started
            draw = draws_plots(results, plots)
            if out is not None:
                say(f"writing {out}" + (" and drawing its plots" if draw else ""))
            with legible_if(draw):
                results.folder = staging
                finish_run_folder(results, staging, draw)
            results.drop_held_columns()     # the folder's files from now on
            swap_into_place(staging, folder)
        results.folder = folder
        if out is None:
            for table in tables:          # read now: the folder goes
                getattr(results, table)
            results.folder = None
    finally:
        if results is not None:         # after an error too: the kept columns' files closed
            results.drop_held_columns()
        if out is None:
            shutil.rmtree(folder.parent, ignore_errors=True)
    return results


def _one_year(plan: OneYearPlan, run_info: dict, staging: Path, tables: Sequence[str], each_chunk,
              say) -> Results:
    """Stream a one-year run's chunks into ``staging``; its results, tables written."""
    import numba

    scenario, parties = plan.scenario, plan.parties
    n_trials = scenario.simulation.trials
    kept = KeptColumns(scenario, parties, n_trials, len(treaty_labels(scenario)), folder=staging / KEPT_FOLDER,
                       for_report="trials" in tables)
    stream = None
    start = party_capital_start(parties)

    def take(chunk: Chunk) -> None:
        net_result = party_net_result(parties, chunk.arrays)
        kept.add(chunk.first_trial, chunk.arrays, chunk.line_loss, net_result)
        kept.add_in_order(chunk.arrays)
        stream.add(chunk.first_trial, chunk.arrays, capital_end(start, net_result), chunk.line_loss,
                   chunk.line_claims, chunk.capped_loss)

    try:
        check_disk_space(kept, staging)
        stream = TableStream(staging, parties, [line.name for line in scenario.lines], tables)
        each_chunk(take)
        say(f"{n_trials:,} trials simulated in {{seconds}} s; computing the tables")
        results = one_year_results(scenario, parties, kept, run_info, threads=numba.get_num_threads())
        # Neither the capital at the end nor the net results go into trials.parquet from here.
        kept.release("net_result", "capital_end")
        if "trials" in tables:
            say("writing trials.parquet")
        stream.finish(lambda name, rows: kept.store.rows(name, rows))
    except BaseException:
        kept.close()
        raise
    finally:
        if stream is not None:
            stream.close()
    if kept.report_columns:
        # What the run holds anyway, for the plots and the report (the rest they read from the file).
        results.held_columns = HeldColumns(kept, HELD_COLUMNS)
    else:
        kept.close()
    return results


def check_disk_space(kept: KeptColumns, staging: Path) -> None:
    """A UsageError before the run when the disk of ``staging`` has no room for the kept columns
    (the per-trial tables need more: their size is known only once written)."""
    needed, free = kept.n_bytes_at_most, shutil.disk_usage(staging).free
    if needed > free:
        raise UsageError(f"a run of {kept.n_trials:,} trials keeps {_size(needed)} of columns on disk "
                         f"beside its results folder while it runs, and more for trials.parquet, but "
                         f"{staging.parent} has {_size(free)} free: free some space, or run fewer "
                         "trials, or write the results elsewhere (--out)")


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:.1f} GB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.0f} MB"


def _multi_year(plan, run_info: dict, staging: Path, tables: Sequence[str], each_chunk, say) -> Results:
    """A multi-year run: every path-year in memory, then its tables, written to ``staging``."""
    from .results_folder import write_parquet

    collector = _PathCollector(plan.scenario.simulation.trials)
    each_chunk(collector.add)
    arrays = collector.arrays
    say(f"{plan.scenario.simulation.trials:,} trials simulated in {{seconds}} s; computing the tables")
    results = build_multi_year_results(plan.scenario, plan.parties, PathArrays.from_mapping(arrays),
                                       arrays["line_loss"], arrays["line_claims"], run_info,
                                       capped_loss=arrays["capped_loss"])
    if plan.prepared.pricing is not None:      # [pricing]: the rates the run charged, against the true ones
        attach_pricing(results, plan.scenario, plan.prepared.pricing, arrays["line_loss"], arrays)
    results.run_info["tables"] = list(tables)
    for table in tables:
        write_parquet(getattr(results, table), staging / TABLE_FILES[table])
    for table in TABLE_FILES:
        if table not in tables:
            setattr(results, table, None)
    return results


def _stage(message: str) -> None:
    print(f"poolsim: {message}", file=sys.stderr, flush=True)
