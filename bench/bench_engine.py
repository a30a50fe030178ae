"""Benchmark the loss engine (numba, 1 and 2 threads) against the same model in plain NumPy.

    python bench/bench_engine.py                       # 200,000 trials, NumPy on 50,000
    python bench/bench_engine.py --trials 20000 --numpy-trials 10000
    python bench/bench_engine.py --profile             # also time the engine's passes

Each configuration runs in its own subprocess, so its peak memory
(``ru_maxrss``) is its own. In each, numba kernels are warmed up first on a
small chunk (compile or cache load excluded from the timing, and reported);
then ``sim.engine.simulate_chunk`` runs over chunks of the runner's default
chunk size. NumPy runs on ``--numpy-trials`` (fewer, when it is slow) and its
time is extrapolated per trial to ``--trials``; the table says so.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "bench_scenario.toml"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


# ---------------------------------------------------------------------------
# Shared helpers (bench_run.py imports these)
# ---------------------------------------------------------------------------

def load_scenario(path: Path = SCENARIO):
    """The benchmark scenario, through the project's own loader."""
    from sim.scenario import load
    return load(path)


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, MB (ru_maxrss is KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def default_chunk_trials(scenario, exposure) -> int:
    """The runner's default chunk size (about RISK_LOSSES_PER_CHUNK risk losses a chunk)."""
    from sim import runner
    from sim.engine import expected_risk_losses
    per_trial = max(expected_risk_losses(scenario, exposure), 1.0)
    return int(np.clip(runner.RISK_LOSSES_PER_CHUNK / per_trial, runner.MIN_CHUNK_TRIALS, runner.MAX_CHUNK_TRIALS))


def run_subprocess(script: Path, args: list[str]) -> dict:
    """Run ``script --one ...`` in a fresh interpreter; return the JSON it prints last."""
    completed = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                               env={**os.environ, "PYTHONPATH": str(HERE.parent)})
    if completed.returncode != 0:
        return {"error": (completed.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def faster(kept: dict | None, row: dict) -> dict:
    """Of two runs of one configuration, the one to keep: the faster; a failed run only if both failed."""
    if kept is None or "error" in kept or ("error" not in row and row["seconds"] < kept["seconds"]):
        return row
    return kept


def repeat_note(repeat: int) -> str:
    """What the table header says of ``--repeat``."""
    return f"; best of {repeat} runs per row, the rows taking turns" if repeat > 1 else ""


class Moments:
    """Running sums of the yearly gross loss per line, for the mean and its standard error."""

    def __init__(self, n_lines: int):
        self.n = 0
        self.total = np.zeros(n_lines)
        self.square = np.zeros(n_lines)

    def add(self, line_loss: np.ndarray) -> None:
        self.n += line_loss.shape[0]
        self.total += line_loss.sum(axis=0)
        self.square += (line_loss ** 2).sum(axis=0)

    def as_dict(self) -> dict:
        mean = self.total / self.n
        variance = np.maximum(self.square / self.n - mean ** 2, 0.0) * self.n / max(self.n - 1, 1)
        return {"n": self.n, "mean": mean.tolist(), "se": np.sqrt(variance / self.n).tolist()}


def agreement_table(names, engine: dict, numpy_: dict, limit: float = 4.0) -> tuple[str, bool]:
    """Per line: both means, their difference in combined standard errors, pass if |z| < limit."""
    rows = [f"{'line':<22} {'engine mean':>14} {'numpy mean':>14} {'diff / se':>9}  ok"]
    ok_all = True
    for name, m1, s1, m2, s2 in zip(names, engine["mean"], engine["se"], numpy_["mean"], numpy_["se"]):
        z = (m1 - m2) / np.hypot(s1, s2)
        ok = abs(z) < limit
        ok_all &= ok
        rows.append(f"{name:<22} {m1:>14.4e} {m2:>14.4e} {z:>9.2f}  {'yes' if ok else 'NO'}")
    return "\n".join(rows), ok_all


# ---------------------------------------------------------------------------
# One configuration (runs in the subprocess)
# ---------------------------------------------------------------------------

def one_numba(trials: int, threads: int, profile: bool, at_once: bool = False) -> dict:
    """The engine on ``threads`` numba threads; with ``at_once``, as the runner works
    (``sim.runner._chunks_in_process``): ``threads`` chunks of 1/threads the size at once,
    each on one numba thread."""
    import numba

    from sim.engine import LossModel, simulate_chunk
    from sim.exposure import build_exposure
    from sim.memory import keep_freed_memory

    keep_freed_memory()        # as sim.run does; the NumPy row gets the same allocator
    numba.set_num_threads(threads)
    scenario = load_scenario()
    exposure = build_exposure(scenario)
    model = LossModel.from_scenario(scenario)
    chunk = default_chunk_trials(scenario, exposure)

    started = time.perf_counter()           # compile or load from numba's cache: not timed below
    simulate_chunk(scenario, model, exposure, 0, min(chunk, 1000))
    warmup = time.perf_counter() - started

    if at_once:
        if numba.threading_layer() not in ("omp", "tbb"):
            return {"error": f"chunks at once need numba's omp or tbb threading layer, not {numba.threading_layer()}"}
        chunk = max(chunk // threads, 1)
    ranges = [(first, min(chunk, trials - first)) for first in range(0, trials, chunk)]

    def one_chunk(trial_range):
        numba.set_num_threads(1 if at_once else threads)      # numba's thread count is per Python thread
        return simulate_chunk(scenario, model, exposure, *trial_range)

    moments = Moments(len(scenario.lines))
    risk_losses = 0
    cpu_started = time.process_time()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads if at_once else 1) as pool:
        for losses in pool.map(one_chunk, ranges):
            risk_losses += losses.n_risk_losses
            moments.add(losses.line_loss)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    result = {"implementation": "numba, chunks at once" if at_once else "numba engine", "threads": threads,
              "trials": trials, "seconds": seconds,
              "cpu_seconds": cpu,
              "risk_losses": risk_losses, "warmup_seconds": warmup, "chunk_trials": chunk,
              "peak_mb": peak_memory_mb(), "moments": moments.as_dict()}
    if profile:
        result["profile"] = profile_engine(scenario, model, exposure, chunk, min(trials, 4 * chunk))
    return result


def profile_engine(scenario, model, exposure, chunk: int, trials: int) -> dict:
    """Seconds in each phase of ``simulate_chunk`` over ``trials`` trials: risk levels (copula,
    scipy), the first pass (``sim.engine._first_pass``: every draw, written to regions), the
    second pass (``_second_pass``: trials moved to their places) and the whole call; allocation
    and offsets are the rest. The phases are timed by wrapping the engine's functions."""
    from sim import engine

    phases = {"risk_levels": 0.0, "first_pass": 0.0, "second_pass": 0.0, "whole": 0.0}

    def timed(name, function):
        def wrapper(*args):
            started = time.perf_counter()
            result = function(*args)
            phases[name] += time.perf_counter() - started
            return result
        return wrapper

    originals = {name: getattr(engine, name) for name in ("risk_levels", "_first_pass", "_second_pass")}
    for name, function in originals.items():
        setattr(engine, name, timed(name.lstrip("_"), function))
    try:
        for first in range(0, trials, chunk):
            started = time.perf_counter()
            engine.simulate_chunk(scenario, model, exposure, first, min(chunk, trials - first))
            phases["whole"] += time.perf_counter() - started
    finally:
        for name, function in originals.items():
            setattr(engine, name, function)
    phases["trials"] = trials
    return phases


def one_numpy(trials: int) -> dict:
    from numpy_model import NumpyLossModel, chunk_rng
    from sim.exposure import build_exposure
    from sim.memory import keep_freed_memory

    keep_freed_memory()        # the same allocator settings as the engine's row

    scenario = load_scenario()
    exposure = build_exposure(scenario)       # the same portfolio as the engine's (setup, not timed)
    model = NumpyLossModel(scenario, exposure)
    chunk = default_chunk_trials(scenario, exposure)
    seed = scenario.simulation.seed
    model.simulate(chunk_rng(seed, -1 % 2**32), 200)     # touch scipy / numpy code paths once

    moments = Moments(len(scenario.lines))
    risk_losses = 0
    cpu_started = time.process_time()
    started = time.perf_counter()
    for first in range(0, trials, chunk):
        losses = model.simulate(chunk_rng(seed, first), min(chunk, trials - first))
        risk_losses += losses.n_risk_losses
        moments.add(losses.line_loss)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return {"implementation": "numpy", "threads": 1, "trials": trials, "seconds": seconds, "cpu_seconds": cpu,
            "risk_losses": risk_losses, "warmup_seconds": 0.0, "chunk_trials": chunk,
            "peak_mb": peak_memory_mb(), "moments": moments.as_dict()}


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

def print_table(rows: list[dict], target_trials: int) -> None:
    numpy_row = next((r for r in rows if r["implementation"] == "numpy" and "error" not in r), None)
    numpy_rate = numpy_row["trials"] / numpy_row["seconds"] if numpy_row else None
    header = (f"{'implementation':<22} {'threads':>7} {'trials':>9} {'seconds':>9} {'trials/s':>10} "
              f"{'risk losses/s':>14} {'vs NumPy':>9} {'cpu s':>8} {'peak MB':>8} {'warm-up s':>9}")
    print(header)
    print("-" * len(header))
    for r in rows:
        if "error" in r:
            print(f"{r['implementation']:<22} {r.get('threads', ''):>7}  FAILED: {r['error']}")
            continue
        rate = r["trials"] / r["seconds"]
        label, trials, seconds = r["implementation"], r["trials"], r["seconds"]
        if r["implementation"] == "numpy" and trials < target_trials:
            label = "numpy (extrapolated*)"
            seconds = seconds * target_trials / trials
            trials = target_trials
        speedup = f"{rate / numpy_rate:>8.1f}x" if numpy_rate else f"{'-':>9}"
        print(f"{label:<22} {r['threads']:>7} {trials:>9,} {seconds:>9.2f} {rate:>10,.0f} "
              f"{r['risk_losses'] / r['seconds'] / 1e6:>12.2f} M {speedup} "
              f"{r['cpu_seconds'] * seconds / r['seconds']:>8.2f} {r['peak_mb']:>8.0f} "
              f"{r['warmup_seconds']:>9.2f}")
    print("cpu s: process CPU time summed over threads (less sensitive to a shared machine than wall "
          "seconds); speed-up is on wall-clock trials/s")
    if numpy_row and numpy_row["trials"] < target_trials:
        print(f"* NumPy ran {numpy_row['trials']:,} trials in {numpy_row['seconds']:.2f} s; its seconds are "
              f"extrapolated per trial to {target_trials:,} (rates are measured).")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200_000)
    parser.add_argument("--numpy-trials", type=int, default=50_000,
                        help="trials for the NumPy model (its time is extrapolated to --trials)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--profile", action="store_true",
                        help="also time the engine's phases (risk levels, first and second pass) on 2 threads")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run every row this many times, the rows taking turns, and keep each row's "
                             "fastest: on a machine shared with other work the best of several is the "
                             "steadiest figure")
    parser.add_argument("--one", choices=["numba", "numpy"], help=argparse.SUPPRESS)
    parser.add_argument("--at-once", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one == "numba":
        print(json.dumps(one_numba(args.trials, args.threads[0], args.profile, args.at_once)))
        return 0
    if args.one == "numpy":
        print(json.dumps(one_numpy(args.trials)))
        return 0

    import numba
    scenario = load_scenario()
    print(f"scenario: {SCENARIO.name}: {scenario.name}")
    print(f"  {sum(l.policies for l in scenario.lines):,} policies, {len(scenario.lines)} lines, "
          f"{len(scenario.catastrophes)} catastrophe types; numba {numba.__version__}, "
          f"{os.cpu_count()} CPUs, numba threads available {numba.config.NUMBA_NUM_THREADS}")
    print("  timed: sim.engine.simulate_chunk over default-size chunks (numba compile / cache load "
          "excluded, shown as warm-up); each row in its own process" + repeat_note(args.repeat) + "\n")
    numpy_trials = min(args.numpy_trials, args.trials)
    configurations = [
        (["--one", "numba", "--trials", str(args.trials), "--threads", str(threads),
          *(["--profile"] if args.profile and threads == max(args.threads) else [])],
         {"implementation": "numba engine", "threads": threads})
        for threads in args.threads]
    # What a run does with more than one thread: chunks side by side, one thread each.
    configurations += [(["--one", "numba", "--trials", str(args.trials), "--threads", str(threads), "--at-once"],
                        {"implementation": "numba, chunks at once", "threads": threads})
                       for threads in args.threads if threads > 1]
    configurations.append((["--one", "numpy", "--trials", str(numpy_trials)], {"implementation": "numpy"}))
    rows = [None] * len(configurations)
    for _ in range(max(args.repeat, 1)):
        for i, (arguments, labels) in enumerate(configurations):
            row = run_subprocess(Path(__file__), arguments)
            for key, value in labels.items():
                row.setdefault(key, value)
            rows[i] = faster(rows[i], row)
    print_table(rows, args.trials)

    good = [r for r in rows if "error" not in r]
    engine = next((r for r in good if r["implementation"] == "numba engine"), None)
    numpy_row = next((r for r in good if r["implementation"] == "numpy"), None)
    if engine and numpy_row:
        print(f"\nMean yearly gross loss per line, engine ({engine['trials']:,} trials, {engine['threads']} "
              f"thread(s)) vs NumPy ({numpy_row['trials']:,} trials): agree within 4 combined standard errors?")
        table, ok = agreement_table([l.name for l in scenario.lines], engine["moments"], numpy_row["moments"])
        print(table)
        print(f"agreement: {'PASS' if ok else 'FAIL'}")
        per_trial = engine["risk_losses"] / engine["trials"]
        print(f"\nrisk losses per trial: engine {per_trial:.1f}, "
              f"NumPy {numpy_row['risk_losses'] / numpy_row['trials']:.1f}")
    threads_rows = {r["threads"]: r for r in good if r["implementation"] == "numba engine"}
    at_once = {r["threads"]: r for r in good if r["implementation"] == "numba, chunks at once"}
    if 1 in threads_rows and 2 in threads_rows:
        print(f"2 threads vs 1: {threads_rows[1]['seconds'] / threads_rows[2]['seconds']:.2f}x"
              + (f"; 2 chunks at once vs 1 thread: {threads_rows[1]['seconds'] / at_once[2]['seconds']:.2f}x"
                 if 2 in at_once else ""))
    for r in good:
        if "profile" in r:
            p = r["profile"]
            parts = {"risk levels": p["risk_levels"], "first pass": p["first_pass"],
                     "second pass": p["second_pass"]}
            parts["allocation and offsets"] = p["whole"] - sum(parts.values())
            print(f"\nprofile ({p['trials']:,} trials, {r['threads']} threads): whole simulate_chunk "
                  f"{p['whole']:.2f} s = " + " + ".join(f"{name} {seconds:.2f} s ({seconds / p['whole']:.0%})"
                                                       for name, seconds in parts.items()))
    print("\ngoals (engine): >= 40 M risk losses/s on 2 cores, >= 5x NumPy, < 1.5 GB at 1 M trials")
    return 0


if __name__ == "__main__":
    sys.exit(main())
