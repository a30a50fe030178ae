"""Benchmark a multi-year run: 5 years x 100,000 paths of scenarios/ai_cyber_five_years.toml.

    python bench/bench_dynamics.py                    # 100,000 paths, 2 threads, no plots
    python bench/bench_dynamics.py --trials 20000 --threads 1 --plots

Target (issue #6): at most 60 s on 2 cores. A small warm-up run first (numba
compile or cache load) is not timed. Prints wall seconds for the simulation
(``run_info["wall_seconds"]``: years, chunks, tables) and for the whole call
including writing the results folder, and peak memory.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SCENARIO = HERE.parent / "scenarios" / "ai_cyber_five_years.toml"
TARGET_SECONDS = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--plots", action="store_true")
    parser.add_argument("--scenario", default=str(SCENARIO))
    args = parser.parse_args()

    from sim.runner import run

    with tempfile.TemporaryDirectory(prefix="poolsim-bench-dynamics-") as folder:
        run(args.scenario, trials=1_000, threads=args.threads, out=Path(folder) / "warmup", plots=False,
            progress=False)
        started = time.perf_counter()
        results = run(args.scenario, trials=args.trials, threads=args.threads, out=Path(folder) / "run",
                      plots=args.plots, progress=False)
        total = time.perf_counter() - started
    years = results.run_info["years"]
    simulated = results.run_info["wall_seconds"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.scenario}: {args.trials:,} paths x {years} years, {args.threads} threads")
    print(f"  simulation + tables: {simulated:7.1f} s")
    print(f"  with the folder written{' and plots' if args.plots else ''}: {total:7.1f} s "
          f"(target {TARGET_SECONDS:.0f} s: {'met' if total <= TARGET_SECONDS else 'NOT met'})")
    print(f"  peak memory: {peak:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
