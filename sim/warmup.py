"""A cold start on two cores: the pool's kernels compile in a second process while this one
compiles the engine's.

Numba compiles on one core, and a first run compiles the engine's kernels and
then the pool's, one after the other. With an empty kernel cache,
:func:`pool_kernels_compiled_aside` starts a process that runs the pool's
allocation (:func:`sim.pool.allocate_chunk`) on a one-trial chunk of the same
scenario: that compiles its kernels, for the same argument types, into the
shared cache, where this process finds them when it reaches the pool. If it
gets there first it compiles them itself, as it would have anyway; the
figures never depend on it.
"""
from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import numpy as np


def one_trial_chunk(n_lines: int, n_catastrophes: int):
    """A :class:`sim.occurrences.LossChunk` of one trial: an attritional claim on policy 0 of
    line 0, and an event of catastrophe 0 when there is one. Its arrays have the engine's
    dtypes, so the pool's kernels compile for the argument types of a real run."""
    from .occurrences import ATTRITIONAL, LossChunk

    events = [ATTRITIONAL] + ([0] if n_catastrophes else [])
    n = len(events)
    return LossChunk(first_trial=0, occ_offsets=np.array([0, n], dtype=np.int64),
                     occ_day=np.linspace(10.0, 20.0, n), occ_event=np.array(events, dtype=np.int64),
                     risk_offsets=np.arange(n + 1, dtype=np.int64), risk_policy=np.zeros(n, dtype=np.int64),
                     risk_line=np.zeros(n, dtype=np.int64), risk_loss=np.full(n, 1000.0),
                     line_loss=np.zeros((1, n_lines)), line_claims=np.zeros((1, n_lines), dtype=np.int64),
                     risk_level=np.ones((1, n_lines)))


def compile_pool_kernels(scenario_file: str) -> None:
    """Compile (into the kernel cache) the pool's kernels for a one-year run of ``scenario_file``."""
    from .pool import allocate_chunk
    from .runner import prepare
    from .scenario import load

    scenario = load(scenario_file)
    prepared = prepare(scenario)
    chunk = one_trial_chunk(len(scenario.lines), len(scenario.catastrophes))
    chunk.line_loss[0, 0] = chunk.risk_loss.sum()
    allocate_chunk(scenario, prepared.exposure, prepared.parties, chunk, scenario.simulation.seed)


@contextlib.contextmanager
def pool_kernels_compiled_aside(scenario_file, one_year: bool):
    """While the body runs, compile the pool's kernels for ``scenario_file`` in another process,
    when the kernel cache is cold and the run is a local one-year run (``one_year``). The
    process is stopped, if still running, when the body ends."""
    from .kernels.jit import cache_is_warm

    process = None
    if one_year and not cache_is_warm():
        # run from the folder holding this package, so that `-m` finds this copy of it
        process = subprocess.Popen([sys.executable, "-m", "sim.warmup", str(Path(scenario_file).resolve())],
                                   cwd=Path(__file__).resolve().parent.parent, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        if process is not None:
            if process.poll() is None:
                process.terminate()
            process.wait()


if __name__ == "__main__":
    compile_pool_kernels(sys.argv[1])
