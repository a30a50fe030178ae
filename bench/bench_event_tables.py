"""Benchmark event loss tables: loading a big YELT, and the engine on table catastrophes against
the same losses from parametric ones.

    python bench/bench_event_tables.py                    # 1,000,000-row YELT; engine on 100,000 trials
    python bench/bench_event_tables.py --rows 200000 --trials 20000 --repeat 1

1. **Load**: a YELT of ``--rows`` rows (years of a Poisson(2) number of events,
   each on 1 to 3 of the scenario's 6 lines) written as CSV and as Parquet,
   then read, checked and packed as ``poolsim run`` does
   (:func:`sim.scenario.load` and :meth:`sim.engine.LossModel.from_scenario`).
2. **Engine**: ``bench/bench_scenario.toml`` with its 4 parametric
   catastrophes, against the same scenario whose catastrophes are one YELT of
   the parametric run's own catastrophe occurrences (``--trials`` years,
   ``policies_hit`` as simulated). Both runs then have the same risk losses,
   trial for trial: only how the catastrophe losses are made differs. Times
   :func:`sim.engine.simulate_chunk` over the runner's default chunks, on 1 and
   2 numba threads, after an untimed warm-up, with the allocator settings
   ``sim.run`` uses during the chunks (:func:`sim.memory.keep_freed_memory`);
   each row ``--repeat`` times, rows taking turns, keeping each row's fastest.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sim.engine import LossModel, expected_risk_losses, simulate_chunk  # noqa: E402
from sim.event_tables import read_event_table  # noqa: E402
from sim.exposure import build_exposure  # noqa: E402
from sim.model import Catastrophe  # noqa: E402
from sim.replay import occurrence_losses  # noqa: E402
from sim.runner import RISK_LOSSES_PER_CHUNK, chunk_ranges  # noqa: E402
from sim.scenario import load  # noqa: E402


def synthetic_yelt(rows: int, line_names: list[str], seed: int = 1) -> pd.DataFrame:
    """About ``rows`` rows: years of Poisson(2) events, each on 1 to 3 distinct lines."""
    rng = np.random.default_rng(seed)
    events = rows // 2
    lines_per_event = rng.integers(1, 4, size=events)
    event = np.repeat(np.arange(1, events + 1), lines_per_event)
    year_of_event = np.sort(rng.integers(1, max(events // 2, 1) + 1, size=events))
    # distinct lines within an event: the event's offset into a shuffled order of the lines
    start = rng.integers(0, len(line_names), size=events)
    within = np.arange(len(event)) - np.repeat(np.cumsum(lines_per_event) - lines_per_event, lines_per_event)
    line = (np.repeat(start, lines_per_event) + within) % len(line_names)
    return pd.DataFrame({
        "year": year_of_event[event - 1], "event": event, "line": np.array(line_names)[line],
        "loss": rng.lognormal(15, 1.5, size=len(event)).round(2),
        "day": np.repeat(rng.integers(1, 366, size=events), lines_per_event),
        "policies_hit": rng.integers(1, 200, size=len(event)),
    })


def time_load(rows: int, scratch: Path) -> list[tuple[str, int, float, float]]:
    base = (HERE / "bench_scenario.toml").read_text(encoding="utf-8")
    scenario = load(HERE / "bench_scenario.toml")
    table = synthetic_yelt(rows, [line.name for line in scenario.lines])
    table.to_csv(scratch / "big.csv", index=False)
    table.to_parquet(scratch / "big.parquet", index=False)
    # the benchmark scenario with its catastrophes replaced by the table (arrays of tables are replaced whole)
    head = base.split("[[catastrophes]]")[0]
    rest = base[base.index("[pool]"):]
    results = []
    for suffix in ("csv", "parquet"):
        text = (head + f'[[catastrophes]]\nname = "big"\nevent_table = "big.{suffix}"\ntable = "yelt"\n\n' + rest)
        path = scratch / f"big_{suffix}.toml"
        path.write_text(text, encoding="utf-8")
        started = time.perf_counter()
        loaded = load(path)
        read = time.perf_counter() - started
        LossModel.from_scenario(loaded)
        results.append((suffix, len(table), read, time.perf_counter() - started))
    return results


def yelt_of_run(scenario, model, exposure, trials: int, chunk: int) -> pd.DataFrame:
    """The run's catastrophe occurrences as a YELT (as ``poolsim run --export yelt`` writes)."""
    parts = []
    counted = 0
    names = [line.name for line in scenario.lines]
    for first, count in chunk_ranges(trials, chunk):
        losses = simulate_chunk(scenario, model, exposure, first, count)
        trial, occurrence, by_line, hits = occurrence_losses(losses, len(names))
        row, line = np.nonzero(hits)
        parts.append(pd.DataFrame({
            "year": first + trial[row] + 1, "event": counted + 1 + row, "line": np.array(names)[line],
            "loss": by_line[row, line], "day": np.floor(losses.occ_day[occurrence][row]).astype(int) + 1,
            "policies_hit": hits[row, line]}))
        counted += len(occurrence)
    return pd.concat(parts, ignore_index=True)


def time_engine(scenario, model, exposure, trials: int, chunk: int, threads: int) -> tuple[float, float, int]:
    numba.set_num_threads(threads)
    risk = 0
    wall = time.perf_counter()
    cpu = time.process_time()
    for first, count in chunk_ranges(trials, chunk):
        risk += simulate_chunk(scenario, model, exposure, first, count).n_risk_losses
    return time.perf_counter() - wall, time.process_time() - cpu, risk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        print(f"load: a YELT of {arguments.rows:,} rows, read, checked and packed")
        print(f"{'file':>8} {'rows':>10} {'load s':>8} {'+ pack s':>9}")
        for suffix, rows, read, packed in time_load(arguments.rows, scratch):
            print(f"{suffix:>8} {rows:>10,} {read:>8.2f} {packed:>9.2f}")

        parametric = load(HERE / "bench_scenario.toml")
        exposure = build_exposure(parametric)
        model = LossModel.from_scenario(parametric)
        chunk = int(np.clip(RISK_LOSSES_PER_CHUNK / max(expected_risk_losses(parametric, exposure), 1.0),
                            1_000, 100_000))
        yelt = yelt_of_run(parametric, model, exposure, arguments.trials, chunk)
        yelt.to_parquet(scratch / "run.parquet", index=False)
        table, problems = read_event_table(scratch / "run.parquet", "run.parquet", "yelt",
                                           [line.name for line in parametric.lines], years=arguments.trials)
        assert not problems, problems
        names = tuple(line.name for line in parametric.lines)
        zero = parametric.catastrophes[0].affected_share.__class__("constant", 0.0)
        tabled = dataclasses.replace(parametric, catastrophes=(Catastrophe(
            name="run", rate=0.0, lines=names, affected_share=zero, damage_ratio=zero, severity=None,
            event_table=table),))
        tabled_model = LossModel.from_scenario(tabled)
        runs = {"parametric": (parametric, model), "YELT": (tabled, tabled_model)}
        from sim.memory import keep_freed_memory

        keep_freed_memory()        # as sim.run does during the chunks: freed arrays reused, not faulted in again
        for scenario, loss_model in runs.values():     # warm-up: compile or load the kernels
            simulate_chunk(scenario, loss_model, exposure, 0, 1_000)
        best: dict[tuple[str, int], tuple[float, float, int]] = {}
        for _ in range(arguments.repeat):
            for threads in (1, 2):
                for label, (scenario, loss_model) in runs.items():
                    result = time_engine(scenario, loss_model, exposure, arguments.trials, chunk, threads)
                    if (label, threads) not in best or result[0] < best[(label, threads)][0]:
                        best[(label, threads)] = result
        print(f"\nengine: {arguments.trials:,} trials of bench_scenario.toml, chunks of {chunk:,} trials; "
              f"YELT of {len(yelt):,} rows")
        print(f"{'catastrophes':>13} {'threads':>7} {'seconds':>8} {'cpu s':>7} {'risk losses':>12} "
              f"{'M risk/s':>9} {'vs parametric':>14}")
        for (label, threads), (wall, cpu, risk) in sorted(best.items(), key=lambda item: (item[0][1], item[0][0] != "parametric")):
            ratio = wall / best[("parametric", threads)][0]
            print(f"{label:>13} {threads:>7} {wall:>8.2f} {cpu:>7.2f} {risk:>12,} {risk / wall / 1e6:>9.2f} "
                  f"{ratio:>13.2f}x")


if __name__ == "__main__":
    main()
