"""When a multi-year year's losses happen: each path's gross loss by quarter of occurrence, and by
quarter of occurrence plus the recovery delay (:mod:`sim.dynamics`)."""
from __future__ import annotations

import numpy as np

from .jit import parallel_jit, prange
from .occurrences import DAYS_IN_YEAR, LossChunk

QUARTERS = 4
DAYS_IN_QUARTER = DAYS_IN_YEAR / QUARTERS


@parallel_jit
def _quarter_profiles(occ_offsets, risk_offsets, occ_day, risk_loss, delay_days, occurred, received):
    """Fill ``occurred`` (n_trials, 4) and ``received`` (n_trials, n_delay_quarters); see quarter_profiles."""
    n_trials = len(occ_offsets) - 1
    width = received.shape[1]
    for t in prange(n_trials):
        total = 0.0
        for k in range(occ_offsets[t], occ_offsets[t + 1]):
            amount = 0.0
            for r in range(risk_offsets[k], risk_offsets[k + 1]):
                amount += risk_loss[r]
            # Days are >= 0, so int() of the quotient is its floor (and much faster than //).
            day = min(occ_day[k], DAYS_IN_YEAR)
            occurred[t, min(int(day / DAYS_IN_QUARTER), QUARTERS - 1)] += amount
            received[t, min(int((day + delay_days) / DAYS_IN_QUARTER), width - 1)] += amount
            total += amount
        if total > 0.0:
            for q in range(QUARTERS):
                occurred[t, q] /= total
            for j in range(width):
                received[t, j] /= total
        else:       # no loss: an even spread, as four losses in mid-quarter
            for q in range(QUARTERS):
                occurred[t, q] = 1.0 / QUARTERS
                day = (q + 0.5) * DAYS_IN_QUARTER
                received[t, min(int((day + delay_days) / DAYS_IN_QUARTER), width - 1)] += 1.0 / QUARTERS


def quarter_profiles(chunk: LossChunk, delay_days: float, n_delay_quarters: int):
    """Share of each path's gross loss by quarter of occurrence, and by quarter of occurrence + delay.

    Returns ``(occurred, received)``: ``(n_trials, 4)`` and ``(n_trials, n_delay_quarters)``;
    rows sum to 1 (an even spread where the path has no loss).
    """
    occurred = np.zeros((chunk.n_trials, QUARTERS))
    received = np.zeros((chunk.n_trials, n_delay_quarters))
    _quarter_profiles(chunk.occ_offsets, chunk.risk_offsets, chunk.occ_day, chunk.risk_loss,
                      float(delay_days), occurred, received)
    return occurred, received
