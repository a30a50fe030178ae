"""What two cores of this machine give: the scaling ceiling for any code, poolsim or not.

    python bench/bench_cores.py [--rounds 5] [--memory]

Times a loop that only computes in registers (a xorshift generator and an
``exp``: no memory traffic, no locks, nothing shared; or, with ``--memory``,
one that streams over a 256 MB array, as the passes over a chunk's risk
losses do) in one process alone, then in two processes started at the same
moment, round after round. On a
machine with two real cores the pair runs as fast as the single process, and
two workers do twice the work: 2.0x. If the two vCPUs share a physical core
or a busy host, each runs slower when both are busy, and the printed ratio is
the most that 2 threads (or 2 Dask workers) can gain over 1 here, whatever the
code. It is the evidence behind issue #7's "2 threads >= 1.7x 1 thread".
"""
from __future__ import annotations

import argparse
import math
import subprocess
import sys
import time

import numpy as np

ITERATIONS = 200_000_000
MEMORY_ITERATIONS = 1_600_000_000    # 50 passes over the array: about as long as the other loop


def _work(memory: bool):
    """The timed loop, compiled: it takes the number of iterations."""
    from numba import njit

    if memory:
        values = np.ones(32_000_000)     # 256 MB: far more than the caches

        @njit(cache=False)
        def stream(values, n):
            total = 0.0
            for _ in range(n // len(values)):
                for i in range(len(values)):
                    values[i] = values[i] * 1.0000001
                    total += values[i]
            return total

        stream(values, len(values))
        return lambda n: stream(values, n)

    @njit(cache=False)
    def loop(n):
        x = np.uint64(88172645463325252)
        total = 0.0
        for _ in range(n):
            x ^= x << np.uint64(13)
            x ^= x >> np.uint64(7)
            x ^= x << np.uint64(17)
            total += math.exp(float(x >> np.uint64(11)) * 1.1102230246251565e-16 - 0.5)
        return total

    loop(10)
    return loop


def _child(start_at: float, memory: bool) -> None:
    loop = _work(memory)
    while time.time() < start_at:
        time.sleep(0.0005)
    begin = time.perf_counter()
    loop(MEMORY_ITERATIONS if memory else ITERATIONS)
    print(time.perf_counter() - begin, flush=True)


def _processes(count: int, memory: bool) -> list[float]:
    """Seconds of each of ``count`` processes running the loop at the same moment."""
    start_at = time.time() + 4.0      # after every process has compiled its loop
    flags = ["--memory"] if memory else []
    children = [subprocess.Popen([sys.executable, __file__, "--child", repr(start_at), *flags],
                                 stdout=subprocess.PIPE, text=True) for _ in range(count)]
    return [float(child.communicate()[0]) for child in children]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--memory", action="store_true", help="stream over a 256 MB array instead")
    parser.add_argument("--child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        _child(args.child, args.memory)
        return 0
    kind = "a loop streaming over a 256 MB array" if args.memory else "a register-only loop"
    print(f"{MEMORY_ITERATIONS if args.memory else ITERATIONS:,} iterations of {kind}; "
          "one process alone, then two at once")
    print(f"{'round':>5s} {'alone s':>8s} {'pair s':>15s} {'2 vs 1':>7s}")
    ratios = []
    for round_number in range(1, args.rounds + 1):
        alone = _processes(1, args.memory)[0]
        pair = _processes(2, args.memory)
        ratio = 2 * alone / max(pair)       # work done by two, per unit of time, against one
        ratios.append(ratio)
        print(f"{round_number:5d} {alone:8.2f} {pair[0]:7.2f} {pair[1]:7.2f} {ratio:6.2f}x")
    ratios.sort()
    print(f"\ntwo processes against one: median {ratios[len(ratios) // 2]:.2f}x, best {ratios[-1]:.2f}x "
          "(2.00x on two real cores; issue #7 asks 2 threads >= 1.7x 1 thread)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
