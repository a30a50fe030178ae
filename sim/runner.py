"""One simulation run, end to end: scenario -> chunks of trials -> per-party arrays -> results.

This is the Python API behind ``poolsim run``::

    import sim
    results = sim.run("scenarios/ai_cyber_pool.toml", trials=20_000)
    results.summary

Trials are simulated in chunks so memory stays bounded; each chunk's work
(:func:`simulate_chunk`) is a pure function of the scenario and the chunk's
trial range, which is what lets threads, chunk sizes and Dask workers all
give the same numbers.
"""
from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

from . import __version__
from .engine import LossModel, expected_risk_losses
from .engine import simulate_chunk as simulate_losses
from .dynamics import DynamicsPrepared, prepare_dynamics, simulate_paths
from .errors import ScenarioError, UsageError
from .exposure import build_exposure
from .memory import keep_freed_memory, release_freed_memory
from .model import Scenario
from .occurrences import Exposure
from .dynamics import DYNAMIC_COLUMNS
from .parties import PARTY_COLUMNS, TREATY_COLUMNS, Parties
from .pool import allocate_chunk, parties as build_parties, treaty_labels
from .scenario import SEED_RANGE
from .table_events import table_notes

# About this many risk losses per chunk: big enough to keep both cores busy,
# small enough that a chunk's occurrence table stays well under 100 MB.
RISK_LOSSES_PER_CHUNK = 2_000_000
MIN_CHUNK_TRIALS, MAX_CHUNK_TRIALS = 1_000, 100_000
# Seconds of simulation after which run() reports its later stages on stderr.
STAGE_MESSAGES_AFTER = 2.0
# Below this many one-year trials, run() notes that the minimum capital is uncertain: its
# catastrophe part (C-ROSS) or the whole of it (VaR) is a 99.5% quantile of the run's own
# trials, which then rests on fewer than 100 trials beyond it.
FEW_TRIALS_FOR_SOLVENCY = 20_000


@dataclasses.dataclass(frozen=True)
class Prepared:
    """Everything a chunk needs besides its trial range; cheap to send to a Dask worker."""

    scenario: Scenario
    exposure: Exposure
    model: LossModel
    parties: Parties


def prepare(scenario: Scenario) -> Prepared:
    exposure = build_exposure(scenario)
    return Prepared(scenario, exposure, LossModel.from_scenario(scenario), build_parties(scenario, exposure))


def simulate_chunk(prepared, first_trial: int, n_trials: int, out: dict[str, np.ndarray] | None = None):
    """Gross losses and their split among the parties for one range of trials.

    Returns ``(arrays, line_loss, line_claims, capped_loss)``: ``arrays`` maps each of
    :data:`sim.parties.PARTY_COLUMNS` to float64 ``(n_trials, n_parties)``,
    written into ``out`` when given (one-year runs). A multi-year ``prepared``
    (:class:`sim.dynamics.DynamicsPrepared`) gives
    :func:`sim.dynamics.simulate_paths`' arrays, with a year axis.
    """
    if isinstance(prepared, DynamicsPrepared):
        return simulate_paths(prepared, first_trial, n_trials)
    scenario = prepared.scenario
    losses = simulate_losses(scenario, prepared.model, prepared.exposure, first_trial, n_trials)
    arrays = allocate_chunk(scenario, prepared.exposure, prepared.parties, losses, scenario.simulation.seed,
                            out=out)
    return arrays, losses.line_loss, losses.line_claims, losses.capped_loss


def chunk_ranges(n_trials: int, chunk_trials: int) -> list[tuple[int, int]]:
    """``(first_trial, n_trials)`` of each chunk, in order."""
    return [(first, min(chunk_trials, n_trials - first)) for first in range(0, n_trials, chunk_trials)]


def default_chunk_trials(prepared, chunks_at_once: int = 1) -> int:
    """Trials per chunk: about ``RISK_LOSSES_PER_CHUNK`` risk losses shared by the
    ``chunks_at_once`` chunks in memory together (see :func:`_chunks_in_process`)."""
    # Multi-year: sized on the largest (last) year's exposure.
    exposure = prepared.exposures[-1] if isinstance(prepared, DynamicsPrepared) else prepared.exposure
    per_trial = max(expected_risk_losses(prepared.scenario, exposure), 1.0)
    return int(np.clip(RISK_LOSSES_PER_CHUNK / chunks_at_once / per_trial, MIN_CHUNK_TRIALS, MAX_CHUNK_TRIALS))


def with_overrides(scenario: Scenario, trials: int | None = None, seed: int | None = None) -> Scenario:
    simulation = scenario.simulation
    if trials is not None:
        if trials < 1:
            raise ScenarioError([f"--trials = {trials} must be a whole number >= 1"])
        simulation = dataclasses.replace(simulation, trials=int(trials))
    if seed is not None:
        if not SEED_RANGE.accepts(seed):
            raise ScenarioError([f"--seed = {seed} must be {SEED_RANGE.text}"])
        simulation = dataclasses.replace(simulation, seed=int(seed))
    return dataclasses.replace(scenario, simulation=simulation)


def _load(scenario) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    from .scenario import load
    return load(scenario)


class _Collector:
    """Preallocated full-run arrays that chunks are copied into as they arrive."""

    def __init__(self, n_trials: int, n_parties: int, n_lines: int, years: int = 1, n_treaties: int = 0):
        # One-year runs keep their (n_trials, ...) arrays; multi-year ones add a year axis.
        self.years = years
        per_trial = () if years == 1 else (years,)
        names = PARTY_COLUMNS if years == 1 else PARTY_COLUMNS + DYNAMIC_COLUMNS
        self.arrays = {name: np.empty((n_trials, *per_trial, n_parties)) for name in names}
        self.arrays.update({name: np.empty((n_trials, *per_trial, n_treaties)) for name in TREATY_COLUMNS})
        self.line_loss = np.empty((n_trials, *per_trial, n_lines))
        self.line_claims = np.empty((n_trials, *per_trial, n_lines), dtype=np.int64)
        self.capped_loss = np.empty((n_trials, *per_trial, n_lines))

    def rows(self, first_trial: int, n_trials: int) -> dict[str, np.ndarray] | None:
        """Views of a one-year run's party arrays for these trials, for a chunk to write into."""
        if self.years != 1:
            return None
        rows = slice(first_trial, first_trial + n_trials)
        return {name: values[rows] for name, values in self.arrays.items()}

    def add(self, first_trial: int, result) -> None:
        arrays, line_loss, line_claims, capped_loss = result
        rows = slice(first_trial, first_trial + len(line_loss))
        for name in self.arrays:
            if not np.may_share_memory(self.arrays[name], arrays[name]):   # not written in place
                self.arrays[name][rows] = arrays[name]
        self.line_loss[rows] = line_loss
        self.line_claims[rows] = line_claims
        self.capped_loss[rows] = capped_loss


# numba threading layers that may run parallel kernels from several threads at once
# (the workqueue layer would abort the process).
_THREAD_SAFE_LAYERS = ("omp", "tbb")


def _chunks_in_process(prepared, ranges: list[tuple[int, int]], collector: _Collector):
    """Simulate ``ranges`` into ``collector``; yield each ``(first, count)`` as it is added, in order.

    With ``n`` numba threads and enough chunks, a one-year run works on ``n``
    chunks at once, each on one thread, rather than on one chunk with ``n``
    threads: each chunk also has serial NumPy work (the per-trial money
    after the treaty kernel, the risk levels, first touches of memory), which
    would otherwise leave the other cores idle, and the kernels lose a
    barrier per chunk. 2 cores: the chunk loop of 200,000 benchmark trials
    took 6.6 s this way against 8.1 s. The numbers are the same: each chunk
    is a pure function of its trial range, written to its own rows. The
    runner's default chunk is then ``1/n`` the size (:func:`default_chunk_trials`),
    so the chunks in memory together hold about what one chunk held.
    """
    import numba

    threads = numba.get_num_threads()
    ranges = list(ranges)
    rest = ranges
    if threads > 1 and isinstance(prepared, Prepared) and len(ranges) > threads:
        # the first chunk on all threads: it also starts numba's threading layer, which must be safe
        first, count = ranges[0]
        collector.add(first, simulate_chunk(prepared, first, count, collector.rows(first, count)))
        yield first, count
        rest = ranges[1:]
        if numba.threading_layer() in _THREAD_SAFE_LAYERS:
            yield from _chunks_on_threads(prepared, rest, collector, threads)
            return
    for first, count in rest:
        collector.add(first, simulate_chunk(prepared, first, count, collector.rows(first, count)))
        yield first, count


def _chunks_on_threads(prepared, ranges: list[tuple[int, int]], collector: _Collector, threads: int):
    """:func:`_chunks_in_process` on ``threads`` Python threads, each running its chunks'
    kernels on one numba thread (numba's thread count is set per thread)."""
    import numba
    from concurrent.futures import ThreadPoolExecutor

    def work(chunk: tuple[int, int]):
        numba.set_num_threads(1)
        first, count = chunk
        return simulate_chunk(prepared, first, count, collector.rows(first, count))

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="poolsim-chunk") as pool:
        try:
            for (first, count), result in zip(ranges, pool.map(work, ranges)):
                collector.add(first, result)
                yield first, count
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)    # no chunk left writing after an error
            raise


def run(scenario, *, trials: int | None = None, seed: int | None = None, out=None,
        threads: int | None = None, workers: int | None = None, scheduler: str | None = None,
        chunk_trials: int | None = None, plots: bool = True, progress: bool = True):
    """Simulate a scenario (a path or a :class:`sim.model.Scenario`) and return its results.

    ``out`` is the results folder to write (atomically); ``None`` writes nothing. An
    existing ``out`` must be an earlier results folder or empty (UsageError otherwise).
    ``workers`` runs on a local Dask cluster of that many processes, ``scheduler``
    on a running one; the numbers are the same whichever way the run is made.
    """
    import numba

    from .results import build_results, check_replaceable

    started = time.perf_counter()
    scenario = _load(scenario)
    scenario = with_overrides(scenario, trials, seed)
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

    years = scenario.simulation.years
    prepared = prepare(scenario) if years == 1 else prepare_dynamics(scenario, progress=progress)
    n_trials = scenario.simulation.trials
    # Whatever `progress` says: this is about the figures, not about how the run is going.
    # Every note the run prints is also kept in run.json ("notes"), for the report's run record.
    notes = list(scenario.notes) + table_notes(scenario, n_trials)
    for note in notes[len(scenario.notes):]:
        _stage(note)
    if years == 1 and n_trials < FEW_TRIALS_FOR_SOLVENCY:
        notes.append(f"note: with {n_trials:,} trials the minimum capital, and so the solvency ratios, are "
                     f"uncertain beyond their standard errors: it rests on the 99.5% quantile of this run's own "
                     f"trials. Use {FEW_TRIALS_FOR_SOLVENCY:,} or more for solvency figures.")
        _stage(notes[-1])
    local_one_year = workers is None and scheduler is None and isinstance(prepared, Prepared)
    chunk_trials = chunk_trials or default_chunk_trials(prepared, numba.get_num_threads() if local_one_year else 1)
    ranges = chunk_ranges(n_trials, chunk_trials)
    collector = _Collector(n_trials, prepared.parties.n_parties, len(scenario.lines), years,
                           len(treaty_labels(scenario)))

    keep_freed_memory()         # for the chunks; given back, however they end, before the tables
    try:
        if workers is not None or scheduler is not None:
            from .distributed import run_chunks
            run_chunks(prepared, ranges, collector.add, workers=workers, scheduler=scheduler,
                       progress=progress)
        else:
            from tqdm import tqdm
            with tqdm(total=n_trials, unit="trial", unit_scale=True, desc=scenario.name, delay=2.0,
                      disable=not progress, leave=False) as bar:
                for first, count in _chunks_in_process(prepared, ranges, collector):
                    bar.update(count)
    finally:
        release_freed_memory()
    # A long run's tables, files and plots take a while too (about 20 s at a million
    # trials): say what is happening, as the progress bar did for the chunks.
    say = progress and time.perf_counter() - started > STAGE_MESSAGES_AFTER
    if say:
        _stage(f"{n_trials:,} trials simulated in {time.perf_counter() - started:.0f} s; computing the tables")
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
    }
    if years == 1:
        results = build_results(scenario, prepared.parties, collector.arrays, collector.line_loss,
                                collector.line_claims, run_info, release_columns=True,
                                threads=numba.get_num_threads(), capped_loss=collector.capped_loss)
    else:
        from .results import build_multi_year_results
        results = build_multi_year_results(scenario, prepared.parties, collector.arrays, collector.line_loss,
                                           collector.line_claims, run_info, capped_loss=collector.capped_loss)
    # Simulation and tables; writing the folder is not counted.
    results.run_info["wall_seconds"] = time.perf_counter() - started
    if out is not None:
        if say:
            _stage(f"writing {out}" + (" and drawing its plots" if plots else ""))
        results.write(Path(out), plots=plots)
    return results


def _stage(message: str) -> None:
    print(f"poolsim: {message}", file=sys.stderr, flush=True)

