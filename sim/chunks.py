"""One chunk of trials: the pure function that the runner and Dask workers both call.

A run is prepared once (:func:`prepare`) into a plan, :class:`OneYearPlan` or
:class:`MultiYearPlan`; both answer the same questions (the scenario, the
parties, the years, how large a chunk may be, whether chunks may run side by
side on threads) and simulate a chunk with :func:`simulate_chunk`. A chunk is a
pure function of the plan and its trial range (trial ``i``'s random numbers come
from its own counter-based stream), which is what lets threads, chunk sizes and
Dask workers all give the same numbers.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .dynamics import DynamicsPrepared, prepare_dynamics, simulate_paths
from .engine import LossModel, expected_risk_losses
from .engine import simulate_chunk as simulate_losses
from .errors import ScenarioError
from .exposure import build_exposure
from .model import Scenario
from .occurrences import Exposure
from .parties import Parties
from .party_arrays import PartyArrays, PathArrays
from .pool import allocate_chunk, parties as build_parties
from .scenario_values import SEED_RANGE

# About this many risk losses per chunk: big enough to keep both cores busy,
# small enough that a chunk's occurrence table stays well under 100 MB.
RISK_LOSSES_PER_CHUNK = 2_000_000
MIN_CHUNK_TRIALS, MAX_CHUNK_TRIALS = 1_000, 100_000
# numba threading layers that may run parallel kernels from several threads at once, so
# chunks side by side on threads (the workqueue layer would abort the process).
THREAD_SAFE_LAYERS = ("omp", "tbb")


@dataclass(frozen=True)
class Chunk:
    """What one chunk of trials produced.

    Attributes
    ----------
    first_trial : the chunk's first trial number
    arrays : PartyArrays ``(n_trials, n_parties)`` / ``(n_trials, n_treaties)``, or
        PathArrays with a year axis ``(n_trials, n_years, ...)`` for a multi-year run
    line_loss : float64 ``(n_trials, n_lines)`` gross loss by line (``(n_trials, n_years, n_lines)``)
    line_claims : int64, the same shape: policy losses by line
    capped_loss : float64, the same shape: what policy limits cut from event-table losses
    """

    first_trial: int
    arrays: PartyArrays
    line_loss: np.ndarray
    line_claims: np.ndarray
    capped_loss: np.ndarray

    @property
    def n_trials(self) -> int:
        return len(self.line_loss)


@dataclass(frozen=True)
class OneYearPlan:
    """Everything a one-year chunk needs besides its trial range; cheap to send to a Dask worker."""

    scenario: Scenario
    exposure: Exposure
    model: LossModel
    parties: Parties

    years = 1
    # Chunks may run side by side, one numba thread each (see sim.runner): the one-year
    # kernels are safe to call from several threads at once.
    side_by_side = True

    @property
    def sizing_exposure(self) -> Exposure:
        """The exposure a chunk's size is reckoned on."""
        return self.exposure

    def simulate(self, first_trial: int, n_trials: int, out: PartyArrays | None = None) -> Chunk:
        losses = simulate_losses(self.scenario, self.model, self.exposure, first_trial, n_trials)
        arrays = allocate_chunk(self.scenario, self.exposure, self.parties, losses, self.scenario.simulation.seed,
                                out=out)
        return Chunk(first_trial, arrays, losses.line_loss, losses.line_claims, losses.capped_loss)


@dataclass(frozen=True)
class MultiYearPlan:
    """A multi-year run's plan: :class:`sim.dynamics.DynamicsPrepared` behind the plan's interface."""

    prepared: DynamicsPrepared

    side_by_side = False

    @property
    def scenario(self) -> Scenario:
        return self.prepared.scenario

    @property
    def parties(self) -> Parties:
        return self.prepared.parties

    @property
    def years(self) -> int:
        return self.prepared.years

    @property
    def sizing_exposure(self) -> Exposure:
        """The largest (last) year's exposure."""
        return self.prepared.exposures[-1]

    def simulate(self, first_trial: int, n_trials: int, out=None) -> Chunk:
        arrays, line_loss, line_claims, capped_loss = simulate_paths(self.prepared, first_trial, n_trials)
        return Chunk(first_trial, PathArrays.from_mapping(arrays), line_loss, line_claims, capped_loss)


Plan = OneYearPlan | MultiYearPlan


def prepare(scenario: Scenario, progress: bool = False) -> Plan:
    """The plan of a run of ``scenario``: one-year or multi-year by ``simulation.years``."""
    if scenario.simulation.years == 1:
        exposure = build_exposure(scenario)
        return OneYearPlan(scenario, exposure, LossModel.from_scenario(scenario), build_parties(scenario, exposure))
    return MultiYearPlan(prepare_dynamics(scenario, progress=progress))


def simulate_chunk(plan: Plan, first_trial: int, n_trials: int, out: PartyArrays | None = None) -> Chunk:
    """Gross losses and their split among the parties for trials ``first_trial ..
    first_trial + n_trials - 1``; a one-year plan writes into ``out`` when given."""
    return plan.simulate(first_trial, n_trials, out)


def chunk_ranges(n_trials: int, chunk_trials: int) -> list[tuple[int, int]]:
    """``(first_trial, n_trials)`` of each chunk, in order."""
    return [(first, min(chunk_trials, n_trials - first)) for first in range(0, n_trials, chunk_trials)]


def default_chunk_trials(plan: Plan, chunks_at_once: int = 1) -> int:
    """Trials per chunk: about ``RISK_LOSSES_PER_CHUNK`` risk losses shared by the
    ``chunks_at_once`` chunks in memory together."""
    per_trial = max(expected_risk_losses(plan.scenario, plan.sizing_exposure), 1.0)
    return int(np.clip(RISK_LOSSES_PER_CHUNK / chunks_at_once / per_trial, MIN_CHUNK_TRIALS, MAX_CHUNK_TRIALS))


def with_overrides(scenario: Scenario, trials: int | None = None, seed: int | None = None) -> Scenario:
    """``scenario`` with ``simulation.trials`` and ``simulation.seed`` replaced where given
    (``--trials``, ``--seed``); ScenarioError for a value out of range."""
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
