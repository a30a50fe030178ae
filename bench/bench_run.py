"""Benchmark a whole run, ``sim.runner.run``: engine + pool + metrics + results written to a temp dir.

    python bench/bench_run.py                  # 100,000 trials; scaling check at 10,000 vs 100,000
    python bench/bench_run.py --full           # 1,000,000 trials; scaling at 100,000 vs 1,000,000
    python bench/bench_run.py --trials 20000 --numpy-trials 10000

Rows, each in its own subprocess (so peak memory, ``ru_maxrss``, is per run):

* ``run`` in-process with 1 and 2 numba threads;
* ``run`` on a local Dask cluster with ``workers=2`` when dask and
  ``sim/distributed.py`` are present (skipped, and said so, otherwise);
* the NumPy full model of ``bench/numpy_model.py``: losses + the pool
  programme + reinsurer defaults per party (no metrics, no files: that only
  flatters NumPy);
* the scaling check: 2 threads at ``--trials / 10`` against ``--trials``.

Each subprocess first makes a small warm-up run (numba compile or cache load,
imports, first write) that is not timed. Plots are off unless ``--plots``.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_engine import (SCENARIO, default_chunk_trials, faster, load_scenario, peak_memory_mb,  # noqa: E402
                          repeat_note, run_subprocess)

WARMUP_TRIALS = 2_000


def one_run(trials: int, threads: int | None, workers: int | None, plots: bool) -> dict:
    from sim.runner import run

    folder = Path(tempfile.mkdtemp(prefix="poolsim-bench-"))
    try:
        run(SCENARIO, trials=WARMUP_TRIALS, threads=threads, out=folder / "warmup", plots=plots,
            progress=False, workers=workers)
        started = time.perf_counter()
        cpu_started = time.process_time()
        results = run(SCENARIO, trials=trials, threads=threads, out=folder / "run", plots=plots,
                      progress=False, workers=workers)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        risk_losses = int(results.line_losses["claims"].sum())
        written_mb = sum(p.stat().st_size for p in (folder / "run").rglob("*") if p.is_file()) / 2**20
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"seconds": seconds, "cpu_seconds": cpu, "trials": trials, "risk_losses": risk_losses,
            "peak_mb": peak_memory_mb(), "written_mb": written_mb}


def one_numpy_full(trials: int) -> dict:
    from numpy_model import NumpyLossModel, NumpyProgramme, chunk_rng
    from sim.exposure import build_exposure
    from sim.memory import keep_freed_memory

    keep_freed_memory()        # the same allocator settings as sim.run's

    scenario = load_scenario()
    exposure = build_exposure(scenario)      # the same portfolio as the engine's (setup, not timed)
    model = NumpyLossModel(scenario, exposure)
    programme = NumpyProgramme(scenario, exposure)
    chunk = default_chunk_trials(scenario, exposure)
    seed = scenario.simulation.seed
    warm = model.simulate(chunk_rng(seed, 2**32 - 1), 200)
    programme.apply(warm, chunk_rng(seed + 1, 2**32 - 1))

    started = time.perf_counter()
    cpu_started = time.process_time()
    net_loss = None
    risk_losses = 0
    conservation = 0.0
    for first in range(0, trials, chunk):
        n = min(chunk, trials - first)
        losses = model.simulate(chunk_rng(seed, first), n)
        money = programme.apply(losses, chunk_rng(seed + 1, first))
        if net_loss is None:
            net_loss = np.empty((trials, money["net_loss"].shape[1]))
        net_loss[first:first + n] = money["net_loss"]
        risk_losses += losses.n_risk_losses
        conservation = max(conservation, float(np.max(np.abs(
            money["gross_loss"][:, 0] - money["net_loss"][:, 1:].sum(axis=1)))))
    # The headline tail metrics per party, as the runner's summary has them.
    var = np.quantile(net_loss, 0.995, axis=0)
    tvar = np.array([col[col >= v].mean() for col, v in zip(net_loss.T, var)])
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return {"seconds": seconds, "cpu_seconds": cpu, "trials": trials, "risk_losses": risk_losses,
            "peak_mb": peak_memory_mb(), "conservation_error": conservation,
            "pool_tvar_995": float(tvar[0])}


def check_programme(trials: int = 5_000) -> float:
    """Largest difference, relative to the largest amount, between the NumPy programme and
    ``sim.pool.allocate_chunk`` on the engine's own losses (ceded loss and reinstatement
    premium of the pool and members, before defaults, which use different random numbers)."""
    from numpy_model import NumpyChunk, NumpyProgramme
    from sim.engine import LossModel, simulate_chunk
    from sim.exposure import build_exposure
    from sim.pool import allocate_chunk, parties

    scenario = load_scenario()
    exposure = build_exposure(scenario)
    chunk = simulate_chunk(scenario, LossModel.from_scenario(scenario), exposure, 0, trials)
    flat = NumpyChunk(
        line_loss=chunk.line_loss, line_claims=chunk.line_claims,
        occ_trial=np.repeat(np.arange(chunk.n_trials), np.diff(chunk.occ_offsets)),
        occ_day=chunk.occ_day, occ_event=chunk.occ_event,
        risk_occ=np.repeat(np.arange(chunk.n_occurrences), np.diff(chunk.risk_offsets)),
        risk_line=chunk.risk_line, risk_policy=chunk.risk_policy, risk_loss=chunk.risk_loss)
    ours = NumpyProgramme(scenario, exposure).apply(flat, np.random.default_rng(0))
    theirs = allocate_chunk(scenario, exposure, parties(scenario, exposure), chunk, scenario.simulation.seed)
    members = 1 + len(scenario.pool.members)
    worst = 0.0
    for name in ("gross_loss", "ceded_loss", "reinstatement_premium"):
        scale = max(np.abs(theirs[name][:, :members]).max(), 1.0)
        worst = max(worst, float(np.abs(ours[name][:, :members] - theirs[name][:, :members]).max() / scale))
    return worst


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=None, help="default 100,000 (1,000,000 with --full)")
    parser.add_argument("--full", action="store_true", help="1,000,000 trials")
    parser.add_argument("--numpy-trials", type=int, default=None,
                        help="trials for the NumPy full model (default: --trials / 4, at most 100,000); "
                             "its time is extrapolated per trial")
    parser.add_argument("--plots", action="store_true", help="also draw the plots in each run")
    parser.add_argument("--no-scaling", action="store_true", help="skip the 1/10 trials run")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run every row this many times, the rows taking turns, and keep each row's "
                             "fastest (the steadiest figure on a shared machine)")
    parser.add_argument("--one", choices=["run", "numpy"], help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    trials = args.trials or (1_000_000 if args.full else 100_000)

    if args.one == "run":
        print(json.dumps(one_run(trials, args.threads, args.workers, args.plots)))
        return 0
    if args.one == "numpy":
        print(json.dumps(one_numpy_full(trials)))
        return 0

    scenario = load_scenario()
    print(f"scenario: {SCENARIO.name}: {scenario.name}; {os.cpu_count()} CPUs")
    print(f"  timed: sim.runner.run(..., out=<temp dir>, plots={args.plots}) after an untimed "
          f"{WARMUP_TRIALS:,}-trial warm-up run in the same process; each row in its own process"
          + repeat_note(args.repeat) + "\n")
    script = Path(__file__)
    plots = ["--plots"] if args.plots else []
    numpy_trials = args.numpy_trials or min(max(trials // 4, 1), 100_000)

    def run_arguments(extra, n):
        return ["--one", "run", "--trials", str(n), *extra, *plots]

    # (label, subprocess arguments, or a reason the row is skipped)
    configurations = [("run, 1 thread", run_arguments(["--threads", "1"], trials)),
                      ("run, 2 threads", run_arguments(["--threads", "2"], trials))]
    if importlib.util.find_spec("dask") is None or importlib.util.find_spec("distributed") is None:
        configurations.append(("run, dask workers=2", "dask[distributed] is not installed"))
    elif not (HERE.parent / "sim" / "distributed.py").exists():
        configurations.append(("run, dask workers=2", "sim/distributed.py does not exist yet"))
    else:
        configurations.append(("run, dask workers=2", run_arguments(["--workers", "2"], trials)))
    configurations.append(("numpy full model", ["--one", "numpy", "--trials", str(min(numpy_trials, trials))]))
    if not args.no_scaling and trials >= 20:
        configurations.append(("run, 2 threads, 1/10", run_arguments(["--threads", "2"], trials // 10)))

    best: dict[str, dict] = {}
    for _ in range(max(args.repeat, 1)):
        for label, arguments in configurations:
            if isinstance(arguments, str):
                best[label] = {"skipped": arguments}
                continue
            best[label] = faster(best.get(label), run_subprocess(script, arguments))
    rows = [(label, best[label]) for label, _ in configurations]
    two = best["run, 2 threads"]
    numpy_row = best["numpy full model"]
    small = best.get("run, 2 threads, 1/10")

    numpy_rate = (numpy_row["trials"] / numpy_row["seconds"]) if "seconds" in numpy_row else None
    header = (f"{'configuration':<28} {'trials':>9} {'seconds':>9} {'trials/s':>10} {'risk losses/s':>14} "
              f"{'vs NumPy':>9} {'cpu s':>8} {'peak MB':>8}")
    print(header)
    print("-" * len(header))
    for label, row in rows:
        if "skipped" in row or "error" in row:
            print(f"{label:<28}  {'SKIPPED: ' + row['skipped'] if 'skipped' in row else 'FAILED: ' + row['error']}")
            continue
        rate = row["trials"] / row["seconds"]
        shown_trials, shown_seconds, cpu = row["trials"], row["seconds"], row["cpu_seconds"]
        if label.startswith("numpy") and row["trials"] < trials:
            label += " (extrap.*)"
            shown_seconds *= trials / row["trials"]
            cpu *= trials / row["trials"]
            shown_trials = trials
        speedup = f"{rate / numpy_rate:>8.1f}x" if numpy_rate else f"{'-':>9}"
        print(f"{label:<28} {shown_trials:>9,} {shown_seconds:>9.2f} {rate:>10,.0f} "
              f"{row['risk_losses'] / row['seconds'] / 1e6:>12.2f} M {speedup} {cpu:>8.2f} {row['peak_mb']:>8.0f}")
    if "seconds" in numpy_row and numpy_row["trials"] < trials:
        print(f"* NumPy ran {numpy_row['trials']:,} trials in {numpy_row['seconds']:.2f} s; its seconds are "
              f"extrapolated per trial to {trials:,} (rates are measured).")
    print("cpu s: this process's CPU time (Dask workers' time is not in it); speed-up on wall-clock trials/s")

    one = dict(rows).get("run, 1 thread", {})
    if "seconds" in one and "seconds" in two:
        print(f"\n2 threads vs 1 thread: {one['seconds'] / two['seconds']:.2f}x  (goal >= 1.7x)")
    if small and "seconds" in small and "seconds" in two:
        ratio = two["seconds"] / small["seconds"]
        print(f"linear scaling: {trials:,} trials took {ratio:.2f}x the time of {trials // 10:,} "
              f"(10.0 is linear; well below 10 means fixed costs dominate the small run)")
    if "conservation_error" in numpy_row:
        print(f"NumPy model: money conserved to {numpy_row['conservation_error']:.2e} per trial; "
              f"pool TVaR 99.5% net {numpy_row['pool_tvar_995']:.4e}")
    print(f"NumPy programme vs sim.pool.allocate_chunk on the engine's losses (5,000 trials): largest "
          f"relative difference {check_programme():.1e}")
    print("\ngoals (full run): >= 20 M risk losses/s end to end, >= 5x NumPy, 2 threads >= 1.7x 1 thread, "
          "linear in trials, < 2 GB at 1 M trials")
    return 0


if __name__ == "__main__":
    sys.exit(main())
