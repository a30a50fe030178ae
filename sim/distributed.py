"""Scale-out: the chunks of a run as Dask tasks, on a local cluster or a running scheduler.

Each chunk is a pure function of (scenario, trial range) — trial i's random
numbers come from its own counter-based stream — so a chunk computed on any
worker, or computed twice because a worker died, gives the same arrays as in
process. Dask re-runs the tasks of a lost worker by itself. The client takes
the chunks in trial order, a few at a time (:data:`CHUNKS_AHEAD_PER_WORKER`), so
it never holds more than those: the tables are streamed as they come.
"""
from __future__ import annotations

import contextlib
import logging
import os

from .chunks import simulate_chunk
from .errors import UsageError
from .memory import keep_freed_memory

# Seconds to wait for a scheduler: Dask's default, 30 s, is long to wait for a
# typo in an address; a reachable scheduler, even across a network, answers in far less.
SCHEDULER_CONNECT_SECONDS = 10
# Chunks submitted ahead of the one the client waits for, per worker: enough to keep every
# worker busy while the client writes, few enough that the finished ones waiting their turn
# stay a few chunks' memory.
CHUNKS_AHEAD_PER_WORKER = 2


def _chunk_task(plan, first_trial: int, n_trials: int, threads: int):
    import numba

    keep_freed_memory()
    # Several worker processes share the machine: keep each to its share of the cores.
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    return simulate_chunk(plan, first_trial, n_trials)


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None):
    """``(client, threads)``: a Dask client of a local cluster of ``workers`` processes, or of the
    scheduler at ``scheduler``, and the numba threads each worker's task may use (its share of the
    cores). The local cluster is closed on leaving; UsageError without Dask or with a bad argument."""
    try:
        from dask.distributed import Client
    except ImportError as error:   # the plain install does not need Dask
        # poolsim is installed from its source tree, not from a registry: name what pip can find
        raise UsageError("--workers and --scheduler need Dask: pip install 'dask[distributed]>=2024.1' "
                         "(or, in poolsim's source folder, pip install '.[dask]')") from error
    cluster = None
    if scheduler is None:
        if workers < 1:
            raise UsageError(f"--workers = {workers} must be a whole number >= 1")
        cluster = local_cluster(workers)
        threads = max(1, (os.cpu_count() or 1) // workers)
    try:
        client = Client(cluster) if cluster is not None else connect(scheduler)
        with client:
            if scheduler is not None:
                n_workers = max(1, len(client.scheduler_info()["workers"]))
                threads = max(1, (os.cpu_count() or 1) // n_workers)
            yield client, threads
    except KeyboardInterrupt:
        # Closing the client and cluster mid-run makes Dask log errors about the tasks it drops
        # ("Couldn't gather keys"): the run is being stopped on purpose, so say nothing of them.
        logging.getLogger("distributed").setLevel(logging.CRITICAL)
        raise
    finally:
        if cluster is not None:
            cluster.close()


def run_chunks(plan, ranges, take, *, workers: int | None = None, scheduler: str | None = None,
               progress: bool = True) -> None:
    """Run every ``(first_trial, n_trials)`` range on Dask; call ``take(chunk)`` with each
    :class:`sim.chunks.Chunk` in trial order."""
    from collections import deque

    from tqdm import tqdm

    with dask_client(workers, scheduler) as (client, threads):
        shared = client.scatter(plan, broadcast=True)
        n_workers = max(1, len(client.scheduler_info()["workers"]))
        ahead = CHUNKS_AHEAD_PER_WORKER * n_workers
        total = sum(count for _, count in ranges)
        waiting = iter(ranges)
        pending = deque()

        def submit_next() -> None:
            for first, count in waiting:
                pending.append(client.submit(_chunk_task, shared, first, count, threads, pure=True))
                return

        for _ in range(ahead):
            submit_next()
        with tqdm(total=total, unit="trial", unit_scale=True, desc=f"{plan.scenario.name} (dask)",
                  delay=2.0, disable=not progress, leave=False) as bar:
            while pending:
                future = pending.popleft()
                chunk = future.result()
                future.release()
                submit_next()
                take(chunk)
                bar.update(chunk.n_trials)


def local_cluster(workers: int):
    """A Dask cluster of ``workers`` processes on this machine, whose workers ignore Ctrl-C (:func:`dask_setup`)."""
    from dask.distributed import LocalCluster

    # silence_logs: the workers' own log lines. At ERROR, a worker still printed a traceback
    # ("failed during get data ... Stream is closed") when Ctrl-C closed the cluster while it was
    # sending a chunk (1 run in 6). A chunk that fails raises in the parent, which reports it.
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                        silence_logs=logging.CRITICAL, preload=[__name__])


def dask_setup(worker) -> None:
    """Preload of the local cluster's workers: they ignore SIGINT.

    Ctrl-C in a terminal sends SIGINT to the whole foreground process group, the
    worker processes of ``--workers`` included; each then printed a KeyboardInterrupt
    traceback from its event loop above poolsim's "interrupted". Stopping the run is
    the parent's work: it closes the cluster, which stops its workers.
    """
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():     # signal handlers can only be set there
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def connect(scheduler: str):
    """A Dask client of the scheduler at ``scheduler``; UsageError when there is none to reach."""
    from dask.distributed import Client

    try:
        return Client(scheduler, timeout=SCHEDULER_CONNECT_SECONDS)
    except (OSError, ValueError) as error:      # ValueError: a malformed address
        raise UsageError(f"could not connect to the Dask scheduler at {scheduler}: {error}; "
                         f"check that it is running and the address is right (e.g. tcp://HOST:8786)") from None
