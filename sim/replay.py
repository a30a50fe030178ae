"""A results folder's run simulated again, chunk by chunk, for what the folder does not keep.

A results folder keeps each trial's yearly amounts, not its occurrences: the
exports (:mod:`sim.ord`, :mod:`sim.yelt_export`) need each catastrophe
occurrence and each party's largest occurrence. As every trial's draws
depend only on the seed, the trial and the scenario, the run can be made
again from its scenario, seed and number of trials, and gives the same
trials to the bit; :func:`replay` checks that it does, against the folder's
``trials.parquet``, before anything is written.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .chunks import chunk_ranges, default_chunk_trials, prepare, with_overrides
from .engine import simulate_chunk
from .errors import UsageError
from .model import Scenario
from .occurrences import LossChunk
from .pool import allocate_chunk
from .results import Results
from .results_folder import RUN_RECORD, SCENARIO_FILE
from .scenario import check

# The per-party arrays an export keeps from each chunk, (n_trials, n_parties) each.
KEPT_COLUMNS = ("gross_loss", "net_loss", "max_occurrence_gross", "max_occurrence_net")


@dataclass
class Replayed:
    """A run made again: its scenario, parties, and the kept per-party arrays of every trial."""

    scenario: Scenario
    parties: object                       # sim.parties.Parties
    arrays: dict[str, np.ndarray]         # KEPT_COLUMNS -> (n_trials, n_parties)


def folder_scenario(folder: Path) -> Scenario:
    """The scenario of the results folder ``folder``, with the run's seed and trials.

    Read from the folder's ``scenario.toml``; when that fails (an event table's
    path is relative to the scenario's own folder), from the run's
    ``scenario_file``, if it still has the run's ``sha256``.
    """
    record_path = folder / RUN_RECORD
    if not record_path.is_file():
        raise UsageError(f"{folder}: not a results folder (it has no {RUN_RECORD}); give a folder written by "
                         f"poolsim run")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    if int(record.get("years", 1)) != 1:
        raise UsageError(f"{folder}: a multi-year run ({record.get('years')} years); the exports are of one-year "
                         f"runs")
    tried = []
    for path in (folder / SCENARIO_FILE, Path(record.get("scenario_file") or "")):
        if not path.name or not path.is_file():
            continue
        scenario, problems = check(path)
        if scenario is None:
            tried.append(f"{path}: {problems[0]}")
            continue
        if scenario.sha256 != record.get("sha256"):
            tried.append(f"{path}: has changed since the run (sha256 {scenario.sha256[:12]}..., the run's "
                         f"{str(record.get('sha256'))[:12]}...)")
            continue
        return with_overrides(scenario, trials=int(record["trials"]), seed=int(record["seed"]))
    raise UsageError(f"{folder}: cannot make the run again from its scenario: " + "; ".join(tried or ["none found"]))


def replay_chunks(scenario: Scenario, chunk_trials: int | None = None) -> Iterator[tuple[int, LossChunk, dict]]:
    """``(first_trial, gross losses, per-party arrays)`` of each chunk of the run, in order."""
    prepared = prepare(scenario)
    chunk_trials = chunk_trials or default_chunk_trials(prepared)
    for first, count in chunk_ranges(scenario.simulation.trials, chunk_trials):
        losses = simulate_chunk(scenario, prepared.model, prepared.exposure, first, count)
        arrays = allocate_chunk(scenario, prepared.exposure, prepared.parties, losses, scenario.simulation.seed)
        yield first, losses, arrays


def parties_of(scenario: Scenario):
    """The run's parties (sim.parties.Parties), as the runner builds them."""
    return prepare(scenario).parties


def check_same_run(folder: Path, replayed: Replayed) -> None:
    """UsageError unless the replayed trials' gross and net losses are the folder's, to the bit."""
    results = Results.read(folder)
    for column in ("gross_loss", "net_loss"):
        saved = results.party_matrix(column)
        if saved.shape != replayed.arrays[column].shape or not np.array_equal(saved, replayed.arrays[column]):
            raise UsageError(f"{folder}: making the run again does not give its trials.parquet {column} (a "
                             f"different poolsim version, or a changed event table?); run the scenario again "
                             f"with --export instead")


def occurrence_losses(chunk: LossChunk, n_lines: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The catastrophe occurrences of ``chunk`` and their losses by line.

    Returns ``(trial, occurrence, loss, hits)``: ``trial`` and ``occurrence``
    (chunk-local trial and occurrence index) int64 ``(n_cat,)``; ``loss`` float64 and
    ``hits`` int64 ``(n_cat, n_lines)``, the sum of the occurrence's risk losses by line
    and their number.
    """
    cats = np.flatnonzero(chunk.occ_event >= 0)
    trial = np.repeat(np.arange(chunk.n_trials), np.diff(chunk.occ_offsets))[cats]
    sizes = np.diff(chunk.risk_offsets)
    of_risk = np.repeat(np.arange(chunk.n_occurrences), sizes)
    position = np.full(chunk.n_occurrences, -1, dtype=np.int64)
    position[cats] = np.arange(len(cats))
    where = position[of_risk]
    kept = where >= 0
    loss = np.zeros((len(cats), n_lines))
    hits = np.zeros((len(cats), n_lines), dtype=np.int64)
    np.add.at(loss, (where[kept], chunk.risk_line[kept]), chunk.risk_loss[kept])
    np.add.at(hits, (where[kept], chunk.risk_line[kept]), 1)
    return trial, cats, loss, hits


def replay(folder: Path | None, scenario: Scenario, on_chunk=None) -> Replayed:
    """Make the run again, calling ``on_chunk(first_trial, losses, arrays)`` on each chunk, and
    (for a folder) check it gives the folder's trials. Raises ScenarioError or UsageError."""
    n_trials = scenario.simulation.trials
    kept: dict[str, np.ndarray] = {}
    for first, losses, arrays in replay_chunks(scenario):
        if not kept:
            kept = {name: np.empty((n_trials, arrays[name].shape[1])) for name in KEPT_COLUMNS}
        for name in KEPT_COLUMNS:
            kept[name][first:first + losses.n_trials] = arrays[name]
        if on_chunk is not None:
            on_chunk(first, losses, arrays)
    parties = parties_of(scenario)
    replayed = Replayed(scenario, parties, kept)
    if folder is not None:
        check_same_run(folder, replayed)
    return replayed

