"""Cold and warm start of the command line: ``poolsim run`` with an empty kernel cache, then again.

Run from the repository root, inside the venv::

    python bench/bench_cold_start.py                        # ai_cyber_pool.toml, 2,000 trials
    python bench/bench_cold_start.py --repeat 3

Each cold run gets a fresh ``NUMBA_CACHE_DIR`` (a temporary folder, removed
after), so numba compiles every kernel the run uses; the warm run that follows
reuses that cache. Wall time and CPU time (user + system, of the command and
the processes it waited for: the second process that compiles the pool's
kernels, :mod:`sim.warmup`) are read from ``os.wait4``. On a machine that
other work is using, wall time is noisy and CPU time steadier: quote both,
with the load.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIO = HERE.parent / "scenarios" / "ai_cyber_pool.toml"


def timed(command: list[str], env: dict) -> tuple[float, float]:
    """``(wall s, CPU s)`` of ``command`` and the children it waited for."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=SCENARIO)
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    poolsim = [sys.executable, "-m", "sim", "run", str(args.scenario), "--trials", str(args.trials), "--no-progress"]
    print(f"poolsim run {args.scenario.name} --trials {args.trials:,} --no-progress; "
          f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"{'run':>4} {'cold wall s':>12} {'cold cpu s':>11} {'warm wall s':>12} {'warm cpu s':>11}")
    for run in range(1, args.repeat + 1):
        cache = Path(tempfile.mkdtemp(prefix="poolsim-cold-cache-"))
        out = Path(tempfile.mkdtemp(prefix="poolsim-cold-out-"))
        env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
        try:
            cold = timed([*poolsim, "--out", str(out / "cold")], env)
            warm = timed([*poolsim, "--out", str(out / "warm")], env)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
        print(f"{run:>4} {cold[0]:>12.1f} {cold[1]:>11.1f} {warm[0]:>12.1f} {warm[1]:>11.1f}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
