"""The speed floor of the benchmark scenario: what its random draws alone cost.

    python bench/bench_floor.py

A risk loss of the engine needs at least its exact severity draw and the draw
that found its policy. This script counts, on the engine's own output, how many
risk losses of each severity law a trial has; times each law's batch sampler
(``sim.kernels.sampling.next_many``, with the scenario's parameters and its mean batch
size) and the hits (``sim.kernels.claims``: a Poisson number of points, each on a
uniform policy, a policy's first point its hit) on one thread; and adds them
up. Everything else the engine does (days, the sort by day, writing the
occurrence table) is left out, so the figure is a ceiling that no
implementation of this model with these samplers can pass on this machine:

    ceiling (risk losses/s, 2 threads) = 2 x risk losses per trial / floor per trial

It is the evidence behind the closing notes of issues #3 and #7: at 40 M risk
losses per second on 2 cores, a risk loss may cost 50 ns of one core in all.

For comparison it also times the geometric skips the engine used before the
tenth session (one logarithm a hit, visiting the policies in order).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench_engine import SCENARIO, load_scenario  # noqa: E402


def law_counts(scenario, model, exposure, trials: int) -> list[tuple[str, np.ndarray, float, float]]:
    """``(label, law row, risk losses per trial, mean batch size)`` of every line and catastrophe."""
    from sim.engine import simulate_chunk
    from sim.occurrences import ATTRITIONAL
    chunk = simulate_chunk(scenario, model, exposure, 0, trials)
    per_occurrence = np.diff(chunk.risk_offsets)
    event = np.repeat(chunk.occ_event, per_occurrence)
    rows = []
    for j, line in enumerate(scenario.lines):
        claims = np.count_nonzero((event == ATTRITIONAL) & (chunk.risk_line == j))
        # the engine draws a line's claims in one batch per trial
        rows.append((f"line {line.name}", model.line_damage[j], claims / trials, max(claims / trials, 1.0)))
    for c, cat in enumerate(scenario.catastrophes):
        hits = np.count_nonzero(event == c)
        events = np.count_nonzero(chunk.occ_event == c)
        # ... and an event's hits on one line in one batch
        batch = hits / max(events * len(cat.lines), 1)
        rows.append((f"cat {cat.name}", model.cat_damage[c], hits / trials, max(batch, 1.0)))
    return rows


def time_law(row: np.ndarray, batch: int, draws: int) -> float:
    """CPU nanoseconds per draw of ``next_many`` for this law in batches of ``batch``."""
    import numba

    from sim.kernels.rng import seeded
    from sim.kernels.sampling import next_many

    @numba.njit
    def loop(code, a, b, c, cap, batch, repeats):
        state = seeded(1, 2, 3, 4)
        out = np.empty(batch)
        total = 0.0
        for _ in range(repeats):
            state = next_many(state, code, a, b, c, cap, out, 0, batch)
            total += out[0]
        return total

    args = (int(row[0]), row[1], row[2], row[3], row[4], batch)
    loop(*args, 10)
    repeats = max(draws // batch, 1)
    best = min(_cpu_seconds(loop, *args, repeats) for _ in range(5))
    return best / (repeats * batch) * 1e9


def time_skip(probability: float, draws: int) -> float:
    """CPU nanoseconds per hit of a geometric skip (``floor(log(u) / log(1 - p))``) at this hit
    probability: the engine's way to find hits before the tenth session, kept for comparison."""
    import math

    import numba

    from sim.kernels.rng import next_uniform, seeded

    @numba.njit
    def loop(log_q, hits):
        state = seeded(1, 2, 3, 4)
        index = -1
        total = 0
        for _ in range(hits):
            u, state = next_uniform(state)
            index += 1 + int(math.floor(math.log(u) / log_q))
            total += index
        return total

    log_q = math.log1p(-probability)
    loop(log_q, 10)
    return min(_cpu_seconds(loop, log_q, draws) for _ in range(5)) / draws * 1e9


def time_allocation(probability: float, policies: int, draws: int) -> float:
    """CPU nanoseconds per hit of the engine's hits (:mod:`sim.kernels.claims`): Poisson points on uniform policies."""
    import math

    import numba

    from sim.kernels.rng import next_below
    from sim.kernels.rng import seeded
    from sim.kernels.sampling import next_poisson

    @numba.njit
    def loop(mean, policies, batches):
        state = seeded(1, 2, 3, 4)
        stamp = np.full(policies, -1, dtype=np.int64)
        total = 0
        hits = 0
        for batch in range(batches):
            points, state = next_poisson(state, mean)
            for _ in range(points):
                policy, state = next_below(state, policies)
                if stamp[policy] != batch:      # a policy's first point is its hit
                    stamp[policy] = batch
                    total += policy
                    hits += 1
        return hits

    mean = policies * -math.log1p(-probability)
    loop(mean, policies, 10)
    batches = max(int(draws / (policies * probability)), 1)
    hits = loop(mean, policies, batches)
    return min(_cpu_seconds(loop, mean, policies, batches) for _ in range(5)) / hits * 1e9


def _cpu_seconds(function, *args) -> float:
    start = time.process_time()
    function(*args)
    return time.process_time() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5_000, help="trials counted for the mix (default 5,000)")
    parser.add_argument("--draws", type=int, default=2_000_000, help="draws timed per law (default 2,000,000)")
    args = parser.parse_args(argv)

    import numba
    numba.set_num_threads(1)
    from sim.runner import prepare
    scenario = load_scenario(SCENARIO)
    prepared = prepare(scenario)
    rows = law_counts(scenario, prepared.model, prepared.exposure, args.trials)
    risk_per_trial = sum(count for _, _, count, _ in rows)
    hit_ns = time_allocation(0.012, 6_000, args.draws)      # the scenario's largest bernoulli line
    skip_ns = time_skip(0.012, args.draws)

    print(f"scenario: {SCENARIO.name}: {risk_per_trial:.1f} risk losses a trial; 1 thread, CPU time, best of 5")
    print(f"{'severity of':34s} {'per trial':>10s} {'batch':>6s} {'ns/draw':>8s} {'ns/trial':>9s}")
    floor = 0.0
    for label, row, count, batch in rows:
        ns = time_law(row, int(round(batch)), args.draws)
        floor += count * ns
        print(f"{label:34s} {count:10.1f} {batch:6.1f} {ns:8.1f} {count * ns:9.0f}")
    print(f"{'finding the policy, every risk loss':34s} {risk_per_trial:10.1f} {'':6s} {hit_ns:8.1f} "
          f"{risk_per_trial * hit_ns:9.0f}")
    floor += risk_per_trial * hit_ns
    per_risk = floor / risk_per_trial
    ceiling = 2 * 1e9 / per_risk
    print(f"\nfloor: {floor / 1e3:.1f} us a trial, {per_risk:.1f} ns a risk loss (draws alone)")
    print(f"ceiling on 2 cores with perfect scaling and nothing else to do: {ceiling / 1e6:.1f} M risk losses/s"
          f"  (issue #3's goal: 40 M/s)")
    with_skips = per_risk - hit_ns + skip_ns
    print(f"with geometric skips instead ({skip_ns:.1f} ns a hit): floor {with_skips:.1f} ns a risk loss, "
          f"ceiling {2e3 / with_skips:.1f} M/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
