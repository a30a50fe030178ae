"""What a one-year run keeps of its chunks for summary.csv, ep.csv, allocation.csv and treaties.csv.

The tables of every trial (trials.parquet, line_losses.parquet) are streamed to
disk chunk by chunk (:mod:`sim.table_stream`); the statistics need far less:

* kept whole, float64 ``(n_trials, n_parties)``: the columns behind quantiles, expected
  shortfalls, EP curves, standard errors and the allocation — ``ceded_loss``,
  ``default_loss``, ``net_loss``, ``max_occurrence_net`` and the year's ``net_result``;
  and ``gross_loss`` and ``max_occurrence_gross``, of which only the pool's and the
  reinsurers' columns are kept: a member's is its share of the pool's, as
  :func:`sim.pool.allocate_chunk` works it out (``np.outer(pool, shares)``), and is
  worked out again, to the same bits, when the tables are built;
* kept whole, float64 ``(n_trials, n_members)``: what the C-ROSS minimum capital needs
  trial by trial (the credit exposure; the band of the combined ratio, int8) and for
  its catastrophe part, a quantile of the run (the catastrophe loss and the cat XL
  recovery);
* kept whole: ``treaty_ceded_loss`` ``(n_trials, n_treaties)`` and the line losses
  ``(n_trials, n_lines)``;
* only summed: every column of which the tables take no more than the mean (premiums,
  commission, expenses, lead fee, defaults, the treaties' other columns).

The sums are the same floating-point additions, in the same order, as NumPy's
``mean(axis=0)`` of the whole ``(n_trials, n)`` array (row after row, which is
how NumPy reduces a row-major array along its first axis), so every figure is
the same to the bit as when every column of every trial was kept. Kept whole
means float64: a float32 copy would change the quantiles and the sums.
"""
from __future__ import annotations

import numpy as np

from . import metrics, solvency
from .model import Scenario
from .parties import Parties
from .party_arrays import PartyArrays

# Kept whole, (n_trials, n_parties).
WHOLE_PARTY_COLUMNS = ("gross_loss", "ceded_loss", "default_loss", "net_loss",
                       "max_occurrence_gross", "max_occurrence_net")
# Of these, the members' columns are their shares of the pool's: kept as the pool's and the reinsurers'.
SHARED_PARTY_COLUMNS = ("gross_loss", "max_occurrence_gross")
# A combined ratio in each C-ROSS band (solvency.combined_ratio_band): the band is all the minimum
# capital takes of it, so a member's band is kept (int8) and given back as its band's ratio.
BAND_RATIOS = np.array(solvency.COMBINED_RATIO_BOUNDS + (np.nan,))
assert np.array_equal(solvency.combined_ratio_band(BAND_RATIOS), np.arange(len(BAND_RATIOS)))
# Only their mean is used, (n_parties,).
SUMMED_PARTY_COLUMNS = ("gross_premium", "ceded_premium", "reinstatement_premium", "commission", "expenses",
                        "lead_fee", "defaulted")
SUMMED_TREATY_COLUMNS = ("treaty_reinstatement_premium", "treaty_default_loss", "treaty_ceded_premium",
                         "treaty_commission", "treaty_exhausted")


class RunningSum:
    """The sum along axis 0 of ``(n_rows, width)`` arrays that arrive in row order, added as
    ``np.add.reduce`` adds a row-major array's rows: the first row, then each next row added
    to the total. A single column (``width`` 1) NumPy sums pairwise instead: it is kept
    whole and summed at the end (one column of float64)."""

    def __init__(self, width: int):
        self.total: np.ndarray | None = None
        self.width = width
        self.single_column: list[np.ndarray] = []

    def add(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.float64)
        if len(rows) == 0:
            return
        if self.width == 1:
            self.single_column.append(rows.copy())
            return
        if self.total is not None:
            rows = np.concatenate([self.total[None, :], rows])
        self.total = np.add.reduce(rows, axis=0)

    def mean(self, n_rows: int) -> np.ndarray:
        """``total / n_rows`` as a ``(1, width)`` row: its ``mean(axis=0)`` is the row itself."""
        if self.single_column:
            return np.concatenate(self.single_column).mean(axis=0)[None, :]
        total = np.zeros(self.width) if self.total is None else self.total
        return np.true_divide(total, n_rows)[None, :]


class KeptColumns:
    """The full-run arrays of a one-year run that the statistics need, filled chunk by chunk
    (in any order: each chunk writes its own rows), and the running sums of the rest
    (added in trial order: :meth:`add_in_order`)."""

    def __init__(self, scenario: Scenario, parties: Parties, n_trials: int, n_treaties: int):
        n_parties, n_lines = parties.n_parties, len(scenario.lines)
        self.scenario, self.parties, self.n_trials = scenario, parties, n_trials
        self.members = members = parties.columns("member")
        n_members = members.stop - members.start
        self.shares = np.asarray(parties.share, dtype=np.float64)[members]
        self.reinsurers = parties.columns("reinsurer")
        n_reinsurers = self.reinsurers.stop - self.reinsurers.start
        self.whole = {name: np.empty((n_trials, n_parties))
                      for name in WHOLE_PARTY_COLUMNS + ("net_result",) if name not in SHARED_PARTY_COLUMNS}
        self.pool_column = {name: np.empty(n_trials) for name in SHARED_PARTY_COLUMNS}
        self.reinsurer_columns = {name: np.empty((n_trials, n_reinsurers)) for name in SHARED_PARTY_COLUMNS}
        self.member = {name: np.empty((n_trials, n_members)) for name in (
            "credit_exposure", "cat_loss_after_proportional", "cat_xl_recovery")}
        self.member["band"] = np.empty((n_trials, n_members), dtype=np.int8)
        self.treaty_ceded_loss = np.empty((n_trials, n_treaties))
        self.line_loss = np.empty((n_trials, n_lines))
        self.sums = {name: RunningSum(n_parties) for name in SUMMED_PARTY_COLUMNS}
        self.sums.update({name: RunningSum(n_treaties) for name in SUMMED_TREATY_COLUMNS})

    def add(self, first_trial: int, arrays: PartyArrays, line_loss: np.ndarray, net_result: np.ndarray) -> None:
        """Copy a chunk's kept columns into its rows (chunks in any order, even at once)."""
        rows = slice(first_trial, first_trial + arrays.n_trials)
        members = self.members
        for name in WHOLE_PARTY_COLUMNS:
            if name in SHARED_PARTY_COLUMNS:
                pool = arrays[name][:, 0]
                if not np.array_equal(arrays[name][:, members], np.outer(pool, self.shares)):
                    raise RuntimeError(f"the members' {name} is no longer their shares of the pool's: "
                                       "sim.kept_columns must keep it whole")
                self.pool_column[name][rows] = pool
                self.reinsurer_columns[name][rows] = arrays[name][:, self.reinsurers]
            else:
                self.whole[name][rows] = arrays[name]
        self.whole["net_result"][rows] = net_result
        for name in ("credit_exposure", "cat_loss_after_proportional", "cat_xl_recovery"):
            self.member[name][rows] = arrays[name][:, members]
        self.member["band"][rows] = solvency.combined_ratio_band(member_combined_ratio(arrays, members))
        self.treaty_ceded_loss[rows] = arrays["treaty_ceded_loss"]
        self.line_loss[rows] = line_loss

    def add_in_order(self, arrays: PartyArrays) -> None:
        """Add a chunk to the running sums; chunks must come in trial order."""
        for name, running in self.sums.items():
            values = arrays[name]
            running.add(np.nan_to_num(values) if name == "treaty_exhausted" else values)

    def _shared_whole(self, name: str) -> np.ndarray:
        """A column of :data:`SHARED_PARTY_COLUMNS` whole, ``(n_trials, n_parties)``: the pool's, the
        members' shares of it (the same product as sim.pool's), the reinsurers'."""
        pool = self.pool_column.pop(name)
        whole = np.zeros((self.n_trials, self.parties.n_parties))
        whole[:, 0] = pool
        whole[:, self.members] = np.outer(pool, self.shares)
        whole[:, self.reinsurers] = self.reinsurer_columns.pop(name)
        return whole

    def party_column(self, name: str, party: int) -> np.ndarray:
        """Party ``party``'s ``(n_trials,)`` column of a kept party column, without building the
        whole ``(n_trials, n_parties)`` array of a shared one (a member's: the pool's times its
        share, the same product as ``np.outer``'s)."""
        if name in self.whole:
            return self.whole[name][:, party]
        if party == 0:
            return self.pool_column[name]
        if self.members.start <= party < self.members.stop:
            return self.pool_column[name] * self.shares[party - self.members.start]
        return self.reinsurer_columns[name][:, party - self.reinsurers.start]

    def release(self, *names: str) -> None:
        """Drop whole party columns no table still to be built needs (72 MB each at 1,000,000 trials
        of 9 parties)."""
        for name in names:
            self.whole.pop(name, None)
            self.pool_column.pop(name, None)
            self.reinsurer_columns.pop(name, None)

    def release_member_columns(self) -> None:
        """Drop the members' C-ROSS columns once the solvency is worked out."""
        self.member.clear()

    def release_line_and_treaty_columns(self) -> None:
        """Drop the line losses and the treaties' ceded losses once the allocation and the
        treaty table are built."""
        self.line_loss = self.treaty_ceded_loss = None

    def party_columns(self) -> dict[str, np.ndarray]:
        """The columns for :func:`sim.metrics.summary` and :func:`sim.metrics.ep_table`: the kept
        ones whole, the summed ones as ``(1, n_parties)`` rows of their means (the summary takes
        no more than ``mean(axis=0)`` of those)."""
        for name in SHARED_PARTY_COLUMNS:
            if name not in self.whole and name in self.pool_column:      # built once, when first asked for
                self.whole[name] = self._shared_whole(name)
        columns = {name: self.whole[name] for name in WHOLE_PARTY_COLUMNS if name in self.whole}
        columns.update({name: self.sums[name].mean(self.n_trials) for name in SUMMED_PARTY_COLUMNS})
        return columns

    def treaty_columns(self) -> dict[str, np.ndarray]:
        """The columns for :func:`sim.costs.treaty_table`: ceded loss whole, the rest as mean rows
        (``treaty_exhausted``'s the share of trials exhausted, NaN taken as 0, as the table does)."""
        columns = {name: self.sums[name].mean(self.n_trials) for name in SUMMED_TREATY_COLUMNS}
        columns["treaty_ceded_loss"] = self.treaty_ceded_loss
        return columns

    def solvency(self) -> solvency.SolvencyOutcome:
        """Capital, minimum capital and solvency ratio of every party in every trial: what
        :func:`sim.solvency.assess` gives from every column, from the kept ones (the members'
        combined ratios as their C-ROSS bands)."""
        kept = self.member
        return solvency.outcome(self.scenario, self.parties, self.whole["net_result"],
                                lambda rows: BAND_RATIOS[kept["band"][rows]],
                                kept["cat_loss_after_proportional"], kept["cat_xl_recovery"],
                                kept["credit_exposure"])


def member_combined_ratio(arrays: PartyArrays, members: slice) -> np.ndarray:
    """Each member's combined ratio in each trial, NaN without a positive net premium
    (the worst band), as :func:`sim.solvency.assess` works it out; ``(n_trials, n_members)``."""
    member_net_premium = metrics.net_premium(arrays["gross_premium"][:, members], arrays["ceded_premium"][:, members],
                                             arrays["reinstatement_premium"][:, members])
    combined = metrics.combined_ratio(arrays["net_loss"][:, members], arrays["expenses"][:, members],
                                      arrays["commission"][:, members], arrays["lead_fee"][:, members],
                                      member_net_premium)
    return np.where(member_net_premium > 0.0, combined, np.nan)
