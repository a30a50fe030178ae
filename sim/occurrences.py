"""The engine's output: an occurrence table for a chunk of trials, in CSR layout.

Two levels of offsets, as in ``scipy.sparse``::

    trial t (0 .. n_trials-1, local to the chunk)
      -> occurrences occ_offsets[t] : occ_offsets[t+1]      (sorted by day)
           -> risk losses risk_offsets[k] : risk_offsets[k+1]

An occurrence is either one attritional claim (one risk loss) or one
catastrophe event (every policy it hit: many risk losses). A risk loss is one
policy's loss in one occurrence, after the policy's deductible and limit.
Cat XL works on occurrences, per-risk XL and surplus on risk losses.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernels.codes import ATTRITIONAL, DAYS_IN_YEAR   # the occ_event of an attritional claim; days in [0, 365)


@dataclass(frozen=True)
class Exposure:
    """The insured policies, sampled once per scenario. Arrays of shape ``(n_policies,)``."""

    line: np.ndarray           # int64, line index of each policy
    sum_insured: np.ndarray    # float64
    premium: np.ndarray        # float64, premium_rate * sum_insured
    deductible: np.ndarray     # float64, per claim
    limit: np.ndarray          # float64, per claim
    line_start: np.ndarray     # int64 (n_lines + 1,): policies of line j are line_start[j]:line_start[j+1]

    @property
    def n_policies(self) -> int:
        return len(self.line)

    @property
    def n_lines(self) -> int:
        return len(self.line_start) - 1

    def line_premium(self) -> np.ndarray:
        """Gross premium of each line, shape ``(n_lines,)``."""
        return np.bincount(self.line, weights=self.premium, minlength=self.n_lines)


@dataclass(frozen=True)
class LossChunk:
    """Gross losses of trials ``first_trial .. first_trial + n_trials - 1``."""

    first_trial: int
    occ_offsets: np.ndarray    # int64 (n_trials + 1,)
    occ_day: np.ndarray        # float64 (n_occ,), day of the year in [0, 365)
    occ_event: np.ndarray      # int64 (n_occ,), catastrophe index, or ATTRITIONAL
    risk_offsets: np.ndarray   # int64 (n_occ + 1,)
    risk_policy: np.ndarray    # int64 (n_risk,), policy index into the Exposure arrays
    risk_line: np.ndarray      # int64 (n_risk,), line index
    risk_loss: np.ndarray      # float64 (n_risk,), gross loss after deductible and limit
    line_loss: np.ndarray      # float64 (n_trials, n_lines), sum of risk losses by line
    line_claims: np.ndarray    # int64 (n_trials, n_lines), number of risk losses by line
    risk_level: np.ndarray     # float64 (n_trials, n_lines), the lines' yearly risk multipliers
    # float64 (n_trials, n_lines): what policy limits cut from event-table losses (sim.table_events);
    # None in a chunk made by hand (then 0)
    capped_loss: np.ndarray | None = None

    @property
    def n_trials(self) -> int:
        return len(self.occ_offsets) - 1

    @property
    def n_occurrences(self) -> int:
        return len(self.occ_day)

    @property
    def n_risk_losses(self) -> int:
        return len(self.risk_loss)

    def trial_loss(self) -> np.ndarray:
        """Gross loss of each trial, shape ``(n_trials,)``."""
        return self.line_loss.sum(axis=1)


def _concatenated_ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, e) for s, e in zip(starts, ends)])`` without a Python loop."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + (np.arange(total, dtype=np.int64) - offsets)


def _offsets_of(lengths: np.ndarray) -> np.ndarray:
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


def subset_chunk(chunk: LossChunk, rows: np.ndarray) -> LossChunk:
    """The trials ``rows`` (chunk-local indices, ascending) of ``chunk`` as a chunk of their own.

    Used by the multi-year dynamics to run the pool machinery on the paths
    that share one set of members. ``first_trial`` keeps the chunk's; the
    trials are not contiguous, so callers pass their own default draws.
    """
    rows = np.asarray(rows, dtype=np.int64)
    occ = _concatenated_ranges(chunk.occ_offsets[rows], chunk.occ_offsets[rows + 1])
    risk = _concatenated_ranges(chunk.risk_offsets[occ], chunk.risk_offsets[occ + 1])
    return LossChunk(
        first_trial=chunk.first_trial,
        occ_offsets=_offsets_of(chunk.occ_offsets[rows + 1] - chunk.occ_offsets[rows]),
        occ_day=chunk.occ_day[occ], occ_event=chunk.occ_event[occ],
        risk_offsets=_offsets_of(chunk.risk_offsets[occ + 1] - chunk.risk_offsets[occ]),
        risk_policy=chunk.risk_policy[risk], risk_line=chunk.risk_line[risk], risk_loss=chunk.risk_loss[risk],
        line_loss=chunk.line_loss[rows], line_claims=chunk.line_claims[rows], risk_level=chunk.risk_level[rows],
        capped_loss=None if chunk.capped_loss is None else chunk.capped_loss[rows])
