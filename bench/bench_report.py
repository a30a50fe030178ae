"""Benchmark the report: what writing ``report.html`` adds to a 20,000-trial run.

    python bench/bench_report.py                 # 20,000 trials of the AI and cyber pool
    python bench/bench_report.py --trials 100000 --scenario bench/bench_scenario.toml

One run (not timed; the numba kernels compiled or loaded first by a small run)
writes its results folder with its plots. Then, each the median of
``--repeats``:

* ``report, plots just drawn``: :func:`sim.report.write_run_report` as a run
  calls it inside :meth:`sim.results.Results.write`, the plots' PNGs embedded
  as they are: this is what the report adds to a run;
* ``report, plots drawn again``: the same page with every figure drawn anew,
  as ``poolsim report DIR`` and ``poolsim run --no-plots`` do;
* ``poolsim report DIR``: :func:`sim.report.write_report`, with reading the
  folder's tables;
* ``results folder without the report`` for scale: ``Results.write`` with the
  report stubbed out.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

GOAL_SECONDS = 2.0


def median_seconds(action, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20_000)
    parser.add_argument("--scenario", default=str(HERE.parent / "scenarios" / "ai_cyber_pool.toml"))
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()

    from sim import report
    from sim.results import PLOTS_FOLDER
    from sim.run_folder import write_run_folder
    from sim.runner import run

    with tempfile.TemporaryDirectory(prefix="poolsim-bench-report-") as temporary:
        folder = Path(temporary)
        run(arguments.scenario, trials=2_000, out=folder / "warmup", progress=False)
        results = run(arguments.scenario, trials=arguments.trials, out=folder / "run", progress=False)
        run_folder = folder / "run"
        just_drawn = median_seconds(
            lambda: report.write_run_report(results, run_folder, plots_folder=run_folder / PLOTS_FOLDER),
            arguments.repeats)
        drawn_again = median_seconds(lambda: report.write_run_report(results, run_folder), arguments.repeats)
        command = median_seconds(lambda: report.write_report(run_folder), arguments.repeats)
        with mock.patch.object(report, "write_run_report"):
            without = median_seconds(lambda: write_run_folder(results, folder / "bare"), arguments.repeats)
        size_kb = (run_folder / report.REPORT_FILE).stat().st_size / 1024

    print(f"{Path(arguments.scenario).name}, {arguments.trials:,} trials; {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}; median of {arguments.repeats}")
    print("| what | seconds |\n|---|---|")
    print(f"| report, plots just drawn (what a run adds) | {just_drawn:.2f} |")
    print(f"| report, plots drawn again (--no-plots, poolsim report) | {drawn_again:.2f} |")
    print(f"| poolsim report DIR (tables read too) | {command:.2f} |")
    print(f"| results folder without the report, with plots | {without:.2f} |")
    print(f"report.html: {size_kb:,.0f} KB; goal: the report adds at most {GOAL_SECONDS:.0f} s to a 20,000-trial run: "
          + ("met" if just_drawn <= GOAL_SECONDS else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
