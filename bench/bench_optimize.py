"""Benchmark ``poolsim optimize``: 100 candidates x 20,000 trials of scenarios/ai_cyber_pool.toml.

    python bench/bench_optimize.py                       # 100 candidates, 20,000 trials, all cores
    python bench/bench_optimize.py --candidates 20 --trials 5000 --threads 1

The searched structure is the example's (scenarios/ai_cyber_optimize.toml): the
cat XL's retention and limit, each layer priced at 1.5 x its expected loss, so
every candidate but the first (the structure as written) is allocated twice.
Prints, and returns as JSON on the last line:

* the gross losses simulated once, seconds;
* the search, seconds, and seconds per candidate;
* one full ``poolsim run`` of the same scenario and trials (tables, no files),
  seconds, for what one candidate costs against a run.

A small warm-up (numba compile or cache load, imports) is made first and not timed.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
sys.path.insert(0, str(REPOSITORY))

SCENARIO = REPOSITORY / "scenarios" / "ai_cyber_pool.toml"
SEARCH = """
[optimize]
objective = "cost"
candidates = {candidates}
max_prob_solvency_below_100 = 0.005
min_solvency_ratio_p01 = 2.0
pricing = {{ loading = 0.5 }}

[[optimize.vary]]
key = "pool.reinsurance[1].retention"
min = 1e7
max = 4e8

[[optimize.vary]]
key = "pool.reinsurance[1].limit"
min = 5e7
max = 6e8
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--trials", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=None, help="numba threads (default: all cores)")
    arguments = parser.parse_args()

    import numba

    from sim.optimize_search import optimize
    from sim.runner import run

    with tempfile.TemporaryDirectory(prefix="poolsim-bench-optimize-") as folder:
        path = Path(folder) / "search.toml"
        path.write_text(f'base = "{SCENARIO.as_posix()}"\n' + SEARCH.format(candidates=arguments.candidates),
                        encoding="utf-8")
        optimize(path, trials=1_000, candidates=3, threads=arguments.threads, progress=False)   # warm-up
        run(SCENARIO, trials=1_000, threads=arguments.threads, progress=False)

        started, cpu_started = time.perf_counter(), time.process_time()
        found = optimize(path, trials=arguments.trials, threads=arguments.threads, progress=False)
        total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        started = time.perf_counter()
        run(SCENARIO, trials=arguments.trials, threads=arguments.threads, progress=False)
        full_run = time.perf_counter() - started

    info = found.run_info
    figures = {
        "candidates": info["candidates"], "trials": info["trials"], "threads": numba.get_num_threads(),
        "cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0],
        "total_seconds": round(total, 2), "cpu_seconds": round(cpu, 2), "gross_losses_seconds": round(info["loss_seconds"], 2),
        "search_seconds": round(info["search_seconds"], 2),
        "seconds_per_candidate": round(info["seconds_per_candidate"], 3),
        "full_run_seconds": round(full_run, 2),
        "candidate_vs_run": round(info["seconds_per_candidate"] / full_run, 3),
        "feasible": int(found.table["feasible"].sum()), "best": found.best,
    }
    print(f"{figures['candidates']} candidates x {figures['trials']:,} trials on {figures['threads']} threads "
          f"(load average {figures['load_average_1min']:.1f} on {figures['cpus']} cores): "
          f"{total:.1f} s in all ({cpu:.1f} s of CPU); gross losses once {figures['gross_losses_seconds']} s, "
          f"search {figures['search_seconds']} s, {figures['seconds_per_candidate']} s a candidate; "
          f"one full run {full_run:.1f} s, so a candidate costs {figures['candidate_vs_run']:.0%} of a run")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
