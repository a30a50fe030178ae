"""``poolsim optimize``: search shares and treaty terms for the cheapest structure that keeps every member solvent.

The Python API::

    import sim
    found = sim.optimize("scenarios/ai_cyber_optimize.toml", trials=20_000)
    found.table            # candidates.csv
    found.best             # its row index, None when no candidate is feasible

Each candidate is evaluated by :class:`sim.optimize_evaluate.Evaluator`: on gross losses
simulated once, its varied XL and stop-loss layers priced when the table gives ``pricing``.

Search
------
Candidate 0 is the structure as written (premiums as written). Then half the
budget goes to scrambled Sobol points (:class:`scipy.stats.qmc.Sobol`, seeded
from the run's seed, so a search is reproducible) over the whole space, and
the rest to rounds of Sobol points in boxes around the best candidates so far
(the three best feasible ones, or the three closest to feasible), each round's
box half as wide as the last. The figures are Monte Carlo estimates that move
in steps (a probability moves by 1/trials), so a gradient method would stall on
their flat steps; a space-filling search needs no gradient.

Only one-year scenarios are searched; a multi-year scenario is refused (exit 2).
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import model
from .errors import ScenarioError, UsageError
from .optimize_evaluate import Evaluation, Evaluator
from .optimize_output import Optimisation
from .optimize_space import dimension, point_settings, setting_columns

INITIAL_SHARE = 0.5          # of the budget after candidate 0: the space-filling start
CENTRES = 3                  # boxes of each refinement round
FIRST_HALF_WIDTH = 0.25      # of the first round's boxes, in unit-cube coordinates; halved every round
POINTS_PER_ROUND = 12
# Sobol streams of the start and of each round, drawn from the run's seed.
START_STREAM = 0
# ---------------------------------------------------------------- feasibility and the frontier
def score(evaluation: Evaluation, objective: str) -> float:
    """What the search minimises: the cost, or minus the members' net result."""
    return evaluation.cost if objective == "cost" else -evaluation.members_net_result


def objective_value(evaluation: Evaluation, objective: str) -> float:
    return evaluation.cost if objective == "cost" else evaluation.members_net_result


def violations(evaluation: Evaluation, optimize: model.Optimize, n_trials: int) -> dict[str, float]:
    """Each constraint the candidate breaks, with by how much relative to its bound (0 when kept).

    A probability bound of 0 is measured against one trial's worth (1 / n_trials).
    """
    found = {}
    if optimize.max_prob_solvency_below_100 is not None:
        bound = optimize.max_prob_solvency_below_100
        worst = evaluation.worst_prob_solvency_below_100
        excess = math.inf if math.isnan(worst) else worst - bound
        found["max_prob_solvency_below_100"] = max(excess, 0.0) / max(bound, 1.0 / n_trials)
    if optimize.min_solvency_ratio_p01 is not None:
        bound = optimize.min_solvency_ratio_p01
        worst = evaluation.worst_solvency_ratio_p01
        shortfall = math.inf if math.isnan(worst) else bound - worst
        found["min_solvency_ratio_p01"] = max(shortfall, 0.0) / max(abs(bound), 0.01)
    return found


def is_feasible(evaluation: Evaluation, optimize: model.Optimize, n_trials: int) -> bool:
    return all(value == 0.0 for value in violations(evaluation, optimize, n_trials).values())


def non_dominated(cost: np.ndarray, risk: np.ndarray) -> np.ndarray:
    """Which points no other point beats on both: lower or equal cost and risk, one of them lower.

    Parameters
    ----------
    cost, risk : float64 (n,); a NaN risk counts as the worst

    Returns
    -------
    bool (n,); identical points are on the frontier together when none beats them.
    """
    cost = np.asarray(cost, dtype=float)
    risk = np.where(np.isnan(risk), np.inf, np.asarray(risk, dtype=float))
    on = np.zeros(len(cost), dtype=bool)
    lowest_before = np.inf          # the lowest risk at any strictly lower cost
    for value in np.unique(cost):
        group = np.flatnonzero(cost == value)
        lowest = risk[group].min()
        if lowest < lowest_before:
            on[group[risk[group] == lowest]] = True
        lowest_before = min(lowest_before, lowest)
    return on


# ---------------------------------------------------------------- the search
def sobol_points(n: int, lower: np.ndarray, upper: np.ndarray, seed: int, stream: int) -> np.ndarray:
    """``n`` scrambled Sobol points in the box [lower, upper], ``(n, d)``; the same for the same arguments."""
    from scipy.stats import qmc

    generator = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream,)))
    sampler = qmc.Sobol(len(lower), scramble=True, seed=generator)
    points = sampler.random_base2(max(0, math.ceil(math.log2(max(n, 1)))))[:n]
    return lower + points * (upper - lower)


def search(evaluator: Evaluator, budget: int, progress: bool = True, evaluate_many=None):
    """Evaluate ``budget`` candidates: the written structure, a Sobol start, then refinement rounds.

    ``evaluate_many(list of settings)`` evaluates one round's candidates, in order (by default
    here, one after the other; :mod:`sim.optimize_dask` spreads them over Dask workers): the
    candidates of a round do not depend on each other, only on the rounds before.

    Returns ``(evaluations, phases)``, in the order evaluated.
    """
    from tqdm import tqdm

    optimize, pool = evaluator.optimize, evaluator.scenario.pool
    seed, n_trials = evaluator.scenario.simulation.seed, evaluator.n_trials
    d = dimension(optimize, pool)
    evaluations, phases, points = [], [], []
    with tqdm(total=budget, unit="candidate", desc="candidates", disable=not progress, leave=False) as bar:
        def evaluate_round(batch: list[np.ndarray], phase: str) -> None:
            settings = [point_settings(optimize, pool, point) for point in batch]
            found = (evaluate_many(settings) if evaluate_many is not None
                     else (evaluator.evaluate(one) for one in settings))
            for evaluation, point in zip(found, batch):
                evaluations.append(evaluation)
                phases.append(phase)
                points.append(point)
                bar.update(1)

        # as written: premiums as written too, so the file's own quote is the reference
        evaluations.append(evaluator.evaluate_written())
        phases.append("written")
        points.append(None)
        bar.update(1)
        left = budget - 1
        start = min(left, max(1, math.ceil(left * INITIAL_SHARE)))
        if start > 0:
            evaluate_round(list(sobol_points(start, np.zeros(d), np.ones(d), seed, START_STREAM)), "start")
        left -= start
        half_width, stream = FIRST_HALF_WIDTH, START_STREAM
        while left > 0:
            stream += 1
            centres = refinement_centres(evaluations, points, optimize, n_trials)
            count = min(left, POINTS_PER_ROUND)
            batch = []
            for index, centre in enumerate(centres):
                share = count // len(centres) + (index < count % len(centres))
                if share == 0:
                    continue
                lower, upper = np.clip(centre - half_width, 0, 1), np.clip(centre + half_width, 0, 1)
                batch += list(sobol_points(share, lower, upper, seed, stream * 64 + index))
            evaluate_round(batch, f"refine {stream}")
            left -= count
            half_width /= 2
    return evaluations, phases


def refinement_centres(evaluations, points, optimize: model.Optimize, n_trials: int) -> list[np.ndarray]:
    """The points of the best feasible candidates (or, while none is, of the closest to feasible)."""
    searched = [i for i, point in enumerate(points) if point is not None]
    feasible = [i for i in searched if is_feasible(evaluations[i], optimize, n_trials)]
    if feasible:
        ranked = sorted(feasible, key=lambda i: (score(evaluations[i], optimize.objective), i))
    else:
        ranked = sorted(searched, key=lambda i: (max(violations(evaluations[i], optimize, n_trials).values()), i))
    return [points[i] for i in ranked[:CENTRES]]


# ---------------------------------------------------------------- the API
def candidates_table(evaluations: list[Evaluation], phases: list[str], optimize: model.Optimize,
                     scenario: model.Scenario, n_trials: int) -> pd.DataFrame:
    """candidates.csv: the contract's columns, then the phase, priced premiums and each member's figures."""
    columns = setting_columns(optimize, scenario.pool)
    feasible = [is_feasible(evaluation, optimize, n_trials) for evaluation in evaluations]
    cost = np.array([evaluation.cost for evaluation in evaluations])
    risk = np.array([evaluation.worst_prob_solvency_below_100 for evaluation in evaluations])
    frontier = non_dominated(cost, risk)
    premium_columns = list(dict.fromkeys(key for evaluation in evaluations for key in evaluation.premiums))
    members = [member.name for member in scenario.pool.members]
    rows = []
    for index, (evaluation, phase) in enumerate(zip(evaluations, phases)):
        row = {"candidate": index}
        row.update({column: evaluation.settings[column] for column in columns})
        row.update({
            "objective": objective_value(evaluation, optimize.objective),
            "cost": evaluation.cost,
            "members_net_result": evaluation.members_net_result,
            "worst_prob_solvency_below_100": evaluation.worst_prob_solvency_below_100,
            "worst_solvency_ratio_p01": evaluation.worst_solvency_ratio_p01,
            "feasible": bool(feasible[index]),
            "on_frontier": bool(frontier[index]),
            "phase": phase,
        })
        row.update({key: evaluation.premiums.get(key, math.nan) for key in premium_columns})
        row["pool_expected_gross_loss"] = evaluation.pool_expected_gross_loss
        for name, probability, ratio in zip(members, evaluation.member_prob_below_100, evaluation.member_ratio_p01):
            row[f"prob_solvency_below_100:{name}"] = probability
            row[f"solvency_ratio_p01:{name}"] = ratio
        rows.append(row)
    return pd.DataFrame(rows)


def best_row(evaluations: list[Evaluation], feasible: list[bool], objective: str) -> int | None:
    """The feasible candidate with the best objective (the first of equals), or None."""
    rows = [i for i, ok in enumerate(feasible) if ok]
    return min(rows, key=lambda i: (score(evaluations[i], objective), i)) if rows else None


def optimize(scenario: str | Path, *, out: str | Path | None = None, trials: int | None = None,
             seed: int | None = None, candidates: int | None = None, threads: int | None = None,
             workers: int | None = None, scheduler: str | None = None,
             progress: bool = True, plots: bool = True) -> Optimisation:
    """Search the ``[optimize]`` space of the scenario file ``scenario`` on identical gross losses.

    ``out`` is the folder to write (atomically: ``candidates.csv``, ``frontier.png``,
    ``best.toml`` when some candidate is feasible, ``optimize.json``); None writes nothing.
    ``trials``, ``seed`` and ``candidates`` override the file's. Raises ScenarioError for a
    bad file (no ``[optimize]``, a multi-year scenario) and UsageError for a bad argument.
    ``workers`` evaluates each round's candidates on a local Dask cluster of that many
    processes, ``scheduler`` on a running one (:mod:`sim.optimize_dask`); the figures are the same.
    """
    import numba

    from . import __version__
    from .memory import keep_freed_memory, release_freed_memory
    from .optimize_output import check_folder, write_folder
    from .chunks import with_overrides
    from .scenario import load

    started = time.perf_counter()
    source = Path(scenario)
    loaded = with_overrides(load(source), trials, seed)
    if loaded.optimize is None:
        raise ScenarioError([f"{source}: has no [optimize] table; poolsim optimize needs one, with at least one "
                             "[[optimize.vary]] key to search"])
    if loaded.simulation.years != 1:
        raise ScenarioError([f"{source}: simulation.years = {loaded.simulation.years}: poolsim optimize searches "
                             "one-year structures only; give it a one-year scenario (simulation.years = 1)"])
    if candidates is not None and candidates < 1:
        raise ScenarioError([f"--candidates = {candidates} must be a whole number >= 1"])
    budget = candidates if candidates is not None else loaded.optimize.candidates
    if out is not None:
        check_folder(out)
    if threads is not None:
        if not 1 <= threads <= numba.config.NUMBA_NUM_THREADS:
            raise UsageError(f"--threads = {threads} must be within [1, {numba.config.NUMBA_NUM_THREADS}] "
                             "(the cores of this machine)")
        numba.set_num_threads(threads)

    keep_freed_memory()         # every candidate allocates the same large arrays again: reuse the pages
    try:
        evaluator = Evaluator(loaded, source, threads=numba.get_num_threads(), progress=progress)
        simulated = time.perf_counter()
        if workers is None and scheduler is None:
            evaluations, phases = search(evaluator, budget, progress)
        else:
            from .optimize_dask import on_dask

            with on_dask(evaluator, workers=workers, scheduler=scheduler) as evaluate_many:
                evaluations, phases = search(evaluator, budget, progress, evaluate_many)
    finally:
        release_freed_memory()
    n_trials = loaded.simulation.trials
    table = candidates_table(evaluations, phases, loaded.optimize, loaded, n_trials)
    best = best_row(evaluations, list(table["feasible"]), loaded.optimize.objective)
    closest, binding = None, []
    if best is None:
        broken = [violations(evaluation, loaded.optimize, n_trials) for evaluation in evaluations]
        closest = min(range(len(evaluations)), key=lambda i: (max(broken[i].values()), i))
        binding = [name for name, value in broken[closest].items() if value > 0.0]
    finished = time.perf_counter()
    run_info = {
        "scenario": loaded.name, "scenario_file": str(source), "sha256": loaded.sha256,
        "seed": loaded.simulation.seed, "trials": n_trials, "candidates": len(evaluations),
        "objective": loaded.optimize.objective, "loading": loaded.optimize.loading,
        "max_prob_solvency_below_100": loaded.optimize.max_prob_solvency_below_100,
        "min_solvency_ratio_p01": loaded.optimize.min_solvency_ratio_p01,
        "vary": [{"key": vary.key, "min": vary.min, "max": vary.max} for vary in loaded.optimize.vary],
        "best": best, "closest": closest, "binding": binding, "version": __version__,
        "threads": numba.get_num_threads(), "workers": workers, "scheduler": scheduler,
        "chunks": len(evaluator.chunks),
        "loss_seconds": simulated - started, "search_seconds": finished - simulated,
        "seconds_per_candidate": (finished - simulated) / len(evaluations),
    }
    found = Optimisation(loaded, table, evaluations, best, closest, binding, run_info, source)
    if out is not None:
        found.folder = write_folder(found, Path(out), plots=plots)
    return found
