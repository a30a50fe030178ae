"""One candidate structure's figures, on gross losses simulated once.

Identical losses
----------------
The gross losses are simulated once (:func:`sim.engine.simulate_chunk`, chunk
by chunk as a run does) and kept. Each candidate structure is the scenario
file with the varied keys changed, read again like any file; it is applied
to the same loss chunks with :func:`sim.pool.allocate_chunk`, and its figures
are worked out as a run's are (:func:`sim.solvency.assess`, then the operations
of :func:`sim.metrics.summary` for the columns it needs, :func:`sim.costs.treaty_table`). Differences
between candidates are due to the structure alone, and ``poolsim run
best.toml`` with the same trials and seed gives the best candidate's figures.

Pricing
-------
With ``pricing = { loading = L }``, an XL or stop-loss layer whose terms vary
is priced so that what the cedant pays for it, deposit premium plus expected
reinstatement premium, is (1 + L) times its expected ceded loss in the same
simulation. Recoveries do not depend on the premium, and reinstatement premiums
are proportional to it, so one allocation gives both expectations and a
second, at that premium, is exact. An XL's premium is written as ``premium``
(money), a stop loss's as ``rate`` (of its subject premium).
"""
from __future__ import annotations

import copy
import dataclasses
import math
from pathlib import Path

import numpy as np

from . import model
from .errors import UsageError
from .optimize_space import apply_settings, premium_key, priced_treaties, written_settings

# The search keeps every trial's gross losses: about 40 bytes a risk loss (measured: 331 MiB for the
# 8.5 million risk losses of 20,000 trials of the AI and cyber pool), at most this many bytes.
KEPT_BYTES_PER_RISK_LOSS = 40
MAX_KEPT_BYTES = 4 * 2**30


@dataclasses.dataclass
class Evaluation:
    """One candidate structure's figures on the shared losses."""

    settings: dict[str, float]
    premiums: dict[str, float]           # priced premium terms, by key
    cost: float                          # sum of treaties.csv `cost`
    members_net_result: float            # sum of the members' expected_net_result
    member_prob_below_100: np.ndarray    # (n_members,)
    member_ratio_p01: np.ndarray         # (n_members,)
    pool_expected_gross_loss: float
    pool_table: dict                     # the raw [pool] table of this structure

    @property
    def worst_prob_solvency_below_100(self) -> float:
        values = self.member_prob_below_100
        return float(np.nanmax(values)) if np.isfinite(values).any() else math.nan

    @property
    def worst_solvency_ratio_p01(self) -> float:
        values = self.member_ratio_p01
        return float(np.nanmin(values)) if np.isfinite(values).any() else math.nan


class Evaluator:
    """Applies candidate structures to gross losses simulated once.

    Parameters
    ----------
    scenario : the scenario as loaded (with its trials and seed overrides)
    path : its file, whose raw tables the candidates are built from
    resolved : ``(data, origins, replaced)`` of :func:`sim.scenario.resolve`, when already read
    """

    def __init__(self, scenario: model.Scenario, path: str | Path, threads: int = 1, progress: bool = True,
                 resolved: tuple | None = None):
        from .engine import LossModel, expected_risk_losses
        from .engine import simulate_chunk as simulate_losses
        from .exposure import build_exposure
        from .chunks import chunk_ranges, default_chunk_trials, prepare
        from .scenario import resolve

        self.scenario = scenario
        self.optimize = scenario.optimize
        self.source = str(path)
        self.threads = threads
        # ``resolved``: the file's tables already read (a Dask worker may not see the file)
        data, self.origins, self.replaced = copy.deepcopy(resolved) if resolved is not None else resolve(path)
        data.pop("optimize", None)
        self.data = data
        self.exposure = build_exposure(scenario)
        loss_model = LossModel.from_scenario(scenario)
        self.n_trials = scenario.simulation.trials
        per_trial = KEPT_BYTES_PER_RISK_LOSS * max(expected_risk_losses(scenario, self.exposure), 1.0)
        if per_trial * self.n_trials > MAX_KEPT_BYTES:
            raise UsageError(f"trials = {self.n_trials:,}: poolsim optimize keeps every trial's gross losses in "
                             f"memory, about {per_trial * self.n_trials / 2**30:.1f} GB here, at most "
                             f"{MAX_KEPT_BYTES / 2**30:.0f} GB; use --trials {int(MAX_KEPT_BYTES // per_trial):,} "
                             "or fewer")
        ranges = chunk_ranges(self.n_trials, default_chunk_trials(prepare(scenario)))
        from tqdm import tqdm

        self.chunks = []
        with tqdm(total=self.n_trials, unit="trial", unit_scale=True, desc="gross losses", delay=2.0,
                  disable=not progress, leave=False) as bar:
            for first, count in ranges:
                self.chunks.append(simulate_losses(scenario, loss_model, self.exposure, first, count))
                bar.update(count)
        self.priced = priced_treaties(self.optimize, scenario.pool)
        self._buffers, self._buffers_shape = {}, None

    # ------------------------------------------------ structures
    def structure(self, pool_table: dict) -> model.Scenario:
        """The scenario with this raw ``[pool]`` table, read and checked as a file would be."""
        from .chunks import with_overrides
        from .scenario_reader import Reader

        data = dict(self.data, pool=pool_table)
        reader = Reader(self.source, self.origins, self.replaced)
        built = reader.scenario(data)
        if reader.problems:        # the bounds were checked with the file; a slip here is ours
            raise RuntimeError("a candidate structure is not a valid scenario: " + "; ".join(reader.problems))
        simulation = self.scenario.simulation
        return with_overrides(dataclasses.replace(built, source=self.source), simulation.trials, simulation.seed)

    def evaluate_written(self) -> Evaluation:
        """The structure as written in the file, premiums as written."""
        settings = written_settings(self.optimize, self.scenario.pool)
        return self.figures(self.structure(self.data["pool"]), settings, {}, self.data["pool"])

    def evaluate(self, settings: dict[str, float], price: bool = True) -> Evaluation:
        """The figures of the structure with ``settings``; its varied XL and stop-loss layers priced
        when ``price`` and the table gives ``pricing``."""
        pool = self.scenario.pool
        premiums = self.prices(settings) if price and self.priced else {}
        pool_table = apply_settings(self.data["pool"], self.optimize, pool, settings, premiums)
        return self.figures(self.structure(pool_table), settings, premiums, pool_table)

    def prices(self, settings: dict[str, float]) -> dict[str, float]:
        """Each priced layer's premium term, so that its deposit premium plus expected reinstatement
        premium is (1 + loading) x its expected ceded loss.

        One allocation at a provisional XL premium of 1 gives each layer's expected ceded loss
        and its reinstatement premium per unit of deposit premium: neither depends on the premium.
        """
        from .pool import place_programmes, placed_in_order

        pool = self.scenario.pool
        provisional = {premium_key(pool, member, position): 1.0 for member, position in self.priced
                       if _programme(pool, member)[position].type != "stop_loss"}
        scenario = self.structure(apply_settings(self.data["pool"], self.optimize, pool, settings, provisional))
        _, arrays = self.allocate(scenario)
        programmes = place_programmes(scenario, self.exposure)
        placed = placed_in_order(programmes)
        prices = {}
        for member, position in self.priced:
            index = treaty_index(scenario.pool, member, position)
            expected_ceded = float(arrays["treaty_ceded_loss"][:, index].mean())
            treaty = placed[index]
            price = (1.0 + self.optimize.loading) * expected_ceded
            if treaty.treaty.type == "stop_loss":
                subject = treaty.subject_premium
                prices[premium_key(pool, member, position)] = price / subject if subject > 0.0 else 0.0
            else:
                reinstatement_per_unit = float(arrays["treaty_reinstatement_premium"][:, index].mean())
                prices[premium_key(pool, member, position)] = price / (1.0 + reinstatement_per_unit)
        return prices

    def allocate(self, scenario: model.Scenario):
        """``(parties, arrays)``: every party's and treaty's money in every trial, as a run has them.

        With several numba threads, the chunks are allocated side by side, each on one thread, as
        the runner does (:func:`sim.runner._chunks_in_process`): each chunk has serial NumPy work
        besides its kernel. Each chunk writes its own rows, so the numbers are the same.
        """
        from .parties import PARTY_COLUMNS, TREATY_COLUMNS
        from .pool import allocate_chunk, parties as build_parties, treaty_labels

        parties = build_parties(scenario, self.exposure)
        n_treaties = len(treaty_labels(scenario))
        # The same arrays for every candidate (each is done with them before the next): fresh ones
        # cost the kernel page faults, about a fifth of the search's time.
        shape = (parties.n_parties, n_treaties)
        if self._buffers_shape != shape:
            self._buffers = {name: np.empty((self.n_trials, parties.n_parties)) for name in PARTY_COLUMNS}
            self._buffers.update({name: np.empty((self.n_trials, n_treaties)) for name in TREATY_COLUMNS})
            self._buffers_shape = shape
        arrays = self._buffers

        def work(chunk, one_thread: bool = False) -> None:
            if one_thread:
                import numba

                numba.set_num_threads(1)
            rows = slice(chunk.first_trial, chunk.first_trial + chunk.n_trials)
            out = {name: values[rows] for name, values in arrays.items()}
            written = allocate_chunk(scenario, self.exposure, parties, chunk, scenario.simulation.seed, out=out)
            for name, values in written.items():
                if not np.may_share_memory(arrays[name], values):
                    arrays[name][rows] = values

        if self.side_by_side():
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="poolsim-optimize") as pool:
                list(pool.map(lambda chunk: work(chunk, one_thread=True), self.chunks))
        else:
            for chunk in self.chunks:
                work(chunk)
        return parties, arrays

    def side_by_side(self) -> bool:
        """Whether chunks may run on threads of their own: numba's threading layer must allow
        parallel kernels from several threads at once (the loss simulation has started it)."""
        import numba

        from .chunks import THREAD_SAFE_LAYERS as _THREAD_SAFE_LAYERS

        if self.threads < 2 or len(self.chunks) < 2:
            return False
        try:
            return numba.threading_layer() in _THREAD_SAFE_LAYERS
        except ValueError:          # no parallel kernel has run yet
            return False

    def figures(self, scenario: model.Scenario, settings: dict[str, float], premiums: dict[str, float],
                pool_table: dict) -> Evaluation:
        """The candidate's figures, by the operations :func:`sim.metrics.summary` and
        :func:`sim.costs.treaty_table` use for those columns (so equal to a run's to the last bit),
        without the rest of the summary (its standard errors and tails), which a search does not need."""
        from . import costs, solvency
        from .metrics import SOLVENCY_LOW_LEVEL, nan_quantile
        from .pool import treaty_labels

        parties, arrays = self.allocate(scenario)
        outcome = solvency.assess(scenario, parties, arrays)
        members = parties.indices("member")
        ratio = outcome.solvency_ratio[:, members]
        has_ratio = ~np.all(np.isnan(ratio), axis=0)
        treaties = costs.treaty_table(treaty_labels(scenario), arrays)
        return Evaluation(
            settings=dict(settings), premiums=premiums, cost=float(treaties["cost"].sum()),
            members_net_result=float(outcome.net_result.mean(axis=0)[members].sum()),
            member_prob_below_100=np.where(has_ratio, (ratio < 1.0).mean(axis=0), np.nan),
            member_ratio_p01=nan_quantile(ratio, SOLVENCY_LOW_LEVEL),
            pool_expected_gross_loss=float(arrays["gross_loss"].mean(axis=0)[parties.indices("pool")[0]]),
            pool_table=pool_table)


def _programme(pool: model.Pool, member: int | None) -> tuple[model.Treaty, ...]:
    return pool.reinsurance if member is None else pool.members[member].reinsurance


def treaty_index(pool: model.Pool, member: int | None, position: int) -> int:
    """The column of a treaty in the per-treaty arrays (:func:`sim.pool.treaty_labels` order)."""
    if member is None:
        return position
    return len(pool.reinsurance) + sum(len(pool.members[m].reinsurance) for m in range(member)) + position
