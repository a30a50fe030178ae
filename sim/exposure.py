"""The exposure set: every insured policy with its sum insured, premium, deductible and limit.

Sums insured given as a distribution are sampled once per scenario, from the
scenario's seed and the line's position, so every trial (and every chunk,
thread or Dask worker) sees the same portfolio.
"""
from __future__ import annotations

import numpy as np

from .jit import jit
from .model import Scenario
from .occurrences import Exposure
from .rng import STREAM_EXPOSURE, seed_state
from .sampling import sample


@jit
def _sample_sums_insured(seed, line_index, dist, out):
    state = np.empty(4, dtype=np.uint64)
    seed_state(state, seed, STREAM_EXPOSURE, 0, line_index)
    for i in range(out.shape[0]):
        out[i] = sample(state, dist)


def build_exposure(scenario: Scenario, policy_scale: np.ndarray | None = None) -> Exposure:
    """Arrays of every policy of every line, lines in scenario order.

    ``policy_scale`` (n_lines,) multiplies the number of policies (used by the
    multi-year dynamics for exposure growth); the first policies of a grown
    line keep their sums insured.
    """
    seed = np.uint64(scenario.simulation.seed)
    counts = [line.policies for line in scenario.lines]
    if policy_scale is not None:
        counts = [int(round(n * s)) for n, s in zip(counts, policy_scale)]
    line_start = np.zeros(len(counts) + 1, dtype=np.int64)
    line_start[1:] = np.cumsum(counts)
    n = int(line_start[-1])
    line_of_policy = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    sum_insured = np.empty(n, dtype=np.float64)
    deductible = np.empty(n, dtype=np.float64)
    limit = np.empty(n, dtype=np.float64)
    premium = np.empty(n, dtype=np.float64)
    for j, line in enumerate(scenario.lines):
        block = slice(line_start[j], line_start[j + 1])
        _sample_sums_insured(seed, j, line.sum_insured.as_array(), sum_insured[block])
        deductible[block] = line.deductible
        limit[block] = sum_insured[block] if line.limit is None else line.limit
        premium[block] = line.premium_rate * sum_insured[block]
    return Exposure(line=line_of_policy, sum_insured=sum_insured, premium=premium,
                    deductible=deductible, limit=limit, line_start=line_start)
