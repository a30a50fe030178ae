"""``poolsim optimize --workers N | --scheduler ADDRESS``: each round's candidates on Dask workers.

A round's candidates (the Sobol start, then each refinement round) depend only
on the rounds before, so they are evaluated side by side, one Dask task each.
Every worker simulates the same gross losses once (they are a pure function of
the scenario, its seed and its trials), keeps them with its evaluator for the
tasks that follow, and applies each candidate as the local search would: the
figures, and so ``candidates.csv``, are the same as in one process.
"""
from __future__ import annotations

import contextlib

from .distributed import dask_client
from .optimize_evaluate import Evaluation, Evaluator


def _evaluate_task(payload, settings: dict[str, float], threads: int) -> Evaluation:
    import numba
    from dask.distributed import get_worker

    scenario, source, resolved = payload
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    worker = get_worker()
    key = (scenario.sha256, scenario.simulation.trials, scenario.simulation.seed, source)
    kept = getattr(worker, "poolsim_evaluator", None)
    if kept is None or kept[0] != key:
        # The worker's own evaluator: its gross losses are simulated once, for all its tasks.
        kept = (key, Evaluator(scenario, source, threads=threads, progress=False, resolved=resolved))
        worker.poolsim_evaluator = kept
    return kept[1].evaluate(settings)


@contextlib.contextmanager
def on_dask(evaluator: Evaluator, *, workers: int | None = None, scheduler: str | None = None):
    """A function that evaluates a list of candidate settings on Dask, in order; the cluster
    (a local one of ``workers`` processes, or the one at ``scheduler``) is closed on leaving."""
    with dask_client(workers, scheduler) as (client, threads):
        payload = (evaluator.scenario, evaluator.source, (evaluator.data, evaluator.origins, evaluator.replaced))
        [shared] = client.scatter([payload], broadcast=True)

        def evaluate_many(settings_list: list[dict[str, float]]) -> list[Evaluation]:
            futures = [client.submit(_evaluate_task, shared, settings, threads, pure=False)
                       for settings in settings_list]
            return client.gather(futures)

        yield evaluate_many
