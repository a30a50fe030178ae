"""Peak resident memory and wall time of one-year runs with every table written.

    python bench/bench_memory.py                         # 1,000,000 trials of both scenarios
    python bench/bench_memory.py --trials 10000000 --scenarios benchmark
    python bench/bench_memory.py --trials 200000 --source /path/to/an/older/checkout

Each row is a ``sim.runner.run`` in its own fresh interpreter: a small warm-up run
(kernel cache load, imports, first write; not counted in the time), then the run
of ``--trials`` trials written to a temporary results folder (every table:
trials.parquet, line_losses.parquet, the CSVs, run.json, report.html; no plots,
which are drawing, not tables) on ``--threads`` numba threads. ``peak MB`` is
the process's ``ru_maxrss``: the largest resident memory it ever had, the
warm-up included. ``--source`` runs another checkout of poolsim instead of
this one (to measure an earlier version on the same machine in the same
session); its kernels compile into its own cache folder.

Scenarios: ``benchmark`` is bench/bench_scenario.toml (the pool, 5 members, 3
reinsurers: 9 parties; about 390 risk losses a trial); ``programme`` is
scenarios/first_set_equipment.toml (the pool, 6 members, 3 reinsurers: 10
parties).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCENARIOS = {
    "benchmark": ROOT / "bench" / "bench_scenario.toml",
    "programme": ROOT / "scenarios" / "first_set_equipment.toml",
}
WARMUP_TRIALS = 2_000


def one_run(scenario: str, trials: int, threads: int) -> dict:
    """The measured run, in this (fresh) interpreter."""
    from sim.runner import run

    folder = Path(tempfile.mkdtemp(prefix="poolsim-bench-memory-"))
    try:
        run(scenario, trials=WARMUP_TRIALS, threads=threads, out=folder / "warmup", plots=False, progress=False)
        started = time.perf_counter()
        cpu_started = time.process_time()
        run(scenario, trials=trials, threads=threads, out=folder / "run", plots=False, progress=False)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        written = {path.name: path.stat().st_size / 2**20 for path in (folder / "run").iterdir() if path.is_file()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "cpu_seconds": cpu, "trials": trials,
            "peak_mb": peak / 2**20 if sys.platform == "darwin" else peak / 1024,
            "trials_parquet_mb": written.get("trials.parquet", 0.0),
            "written_mb": sum(written.values())}


def measure(source: Path, scenario: str, trials: int, threads: int) -> dict:
    """``one_run`` in a fresh interpreter of the checkout at ``source``; the JSON it prints."""
    code = (f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import bench_memory; "
            f"print(json.dumps(bench_memory.one_run({scenario!r}, {trials}, {threads})))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=source,
                               env={**os.environ, "PYTHONPATH": str(source)})
    if completed.returncode != 0:
        return {"error": (completed.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--scenarios", nargs="+", choices=sorted(SCENARIOS), default=sorted(SCENARIOS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--source", type=Path, default=ROOT, help="the poolsim checkout to run (default: this one)")
    arguments = parser.parse_args()
    source = arguments.source.resolve()
    print(f"# {platform.node()}: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; poolsim from {source}; {arguments.threads} threads")
    print(f"{'scenario':<10} {'trials':>11} {'seconds':>8} {'cpu s':>8} {'peak MB':>8} {'trials.parquet MB':>18}")
    for scenario in arguments.scenarios:
        for trials in arguments.trials:
            row = measure(source, str(SCENARIOS[scenario]), trials, arguments.threads)
            if "error" in row:
                print(f"{scenario:<10} {trials:>11,} failed: {row['error']}", flush=True)
                continue
            print(f"{scenario:<10} {trials:>11,} {row['seconds']:>8.1f} {row['cpu_seconds']:>8.1f} "
                  f"{row['peak_mb']:>8.0f} {row['trials_parquet_mb']:>18.0f}", flush=True)


if __name__ == "__main__":
    main()
