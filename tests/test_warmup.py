"""sim.warmup: the pool's kernels compiled in a second process on a cold start."""
import subprocess
from pathlib import Path

import numba

import engine_cases as ec
from sim import warmup
from sim.occurrences import ATTRITIONAL


def test_the_one_trial_chunk_has_the_engine_chunks_argument_types():
    # the pool's kernels must compile for exactly the types a real run passes them
    scen = ec.scenario([ec.line("a"), ec.line("b")], [ec.catastrophe(lines=("a", "b"))])
    real = ec.run(scen, 0, 50)
    synthetic = warmup.one_trial_chunk(2, 1)
    for name in ec.CHUNK_FIELDS:
        assert numba.typeof(getattr(synthetic, name)) == numba.typeof(getattr(real, name)), name
    assert synthetic.n_trials == 1 and list(synthetic.occ_event) == [ATTRITIONAL, 0]
    assert list(warmup.one_trial_chunk(2, 0).occ_event) == [ATTRITIONAL]


def test_no_second_process_when_the_cache_is_warm_or_the_run_is_not_local(monkeypatch):
    started = []
    monkeypatch.setattr(subprocess, "Popen", lambda *args, **kwargs: started.append(args))
    monkeypatch.setattr("sim.kernels.jit.cache_is_warm", lambda: True)
    with warmup.pool_kernels_compiled_aside("any.toml", one_year=True):
        pass
    monkeypatch.setattr("sim.kernels.jit.cache_is_warm", lambda: False)
    with warmup.pool_kernels_compiled_aside("any.toml", one_year=False):
        pass
    assert started == []


def test_the_second_process_is_stopped_when_the_run_ends(monkeypatch):
    class Process:
        terminated = waited = False

        def poll(self):
            return None          # still compiling

        def terminate(self):
            self.terminated = True

        def wait(self):
            self.waited = True

    process = Process()
    monkeypatch.setattr(subprocess, "Popen", lambda *args, **kwargs: process)
    monkeypatch.setattr("sim.kernels.jit.cache_is_warm", lambda: False)
    try:
        with warmup.pool_kernels_compiled_aside("any.toml", one_year=True):
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert process.terminated and process.waited


def test_compile_pool_kernels_runs_the_pool_on_the_scenario():
    # every treaty type and a member's own programme: raises if the pool rejects the chunk
    warmup.compile_pool_kernels(str(Path(__file__).parent / "data" / "full_programme.toml"))
