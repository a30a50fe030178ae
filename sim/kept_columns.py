"""What a one-year run keeps of its chunks for summary.csv, ep.csv, allocation.csv and treaties.csv.

The tables of every trial (trials.parquet, line_losses.parquet) are streamed to
disk chunk by chunk (:mod:`sim.table_stream`); the statistics need far less.
What they need of every trial is kept in a :class:`~sim.column_store.ColumnStore`,
on disk in a run (in the staging folder, removed before the folder is swapped in),
a column per party, member, treaty or line, float64 unless noted:

* per party: the columns behind quantiles, expected shortfalls, EP curves, standard
  errors and the allocation — ``ceded_loss``, ``default_loss``, ``net_loss``,
  ``max_occurrence_net`` and the year's ``net_result``; and ``gross_loss`` and
  ``max_occurrence_gross``, of which only the pool's and the reinsurers' columns are
  kept: a member's is its share of the pool's, as :func:`sim.pool.allocate_chunk`
  works it out (``np.outer(pool, shares)``), and is worked out again, to the same
  bits, when asked for;
* per member: what the C-ROSS minimum capital needs trial by trial (the credit
  exposure; the band of the combined ratio, int8) and for its catastrophe part, a
  quantile of the run (the catastrophe loss and the cat XL recovery);
* ``treaty_ceded_loss`` per treaty and ``line_loss`` per line;
* once the tables are worked out, each party's capital at the end, minimum capital
  and solvency ratio (:data:`SOLVENCY_COLUMNS`), for trials.parquet;
* only summed: every column of which the tables take no more than the mean (premiums,
  commission, expenses, lead fee, defaults, the treaties' other columns).

The EP curves, the solvency and the summary are then worked out a party's column (or a
block of trials) at a time, so memory holds a few columns, not every party's: 80 MB a
column at 10,000,000 trials. The allocation takes the members' net losses and the line
losses whole, the treaty table the treaties' ceded losses.
Every sum over the trials is in trial order (:mod:`sim.estimators`): the same
floating-point additions, in the same order, as NumPy's ``mean(axis=0)`` of the whole
``(n_trials, n)`` array (row after row), and the running sums add chunks the same way, so
every figure is the same to the bit as when every column of every trial was kept in
memory. Kept means float64: a float32 copy would change the quantiles and the sums.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import metrics, solvency
from .column_store import ColumnStore
from .model import Scenario
from .parties import Parties
from .party_arrays import PartyArrays

# Kept for every trial, (n_trials, n_parties).
WHOLE_PARTY_COLUMNS = ("gross_loss", "ceded_loss", "default_loss", "net_loss",
                       "max_occurrence_gross", "max_occurrence_net")
# Of these, the members' columns are their shares of the pool's: kept as the pool's and the reinsurers'.
SHARED_PARTY_COLUMNS = ("gross_loss", "max_occurrence_gross")
# A combined ratio in each C-ROSS band (solvency.combined_ratio_band): the band is all the minimum
# capital takes of it, so a member's band is kept (int8) and given back as its band's ratio.
BAND_RATIOS = np.array(solvency.COMBINED_RATIO_BOUNDS + (np.nan,))
assert np.array_equal(solvency.combined_ratio_band(BAND_RATIOS), np.arange(len(BAND_RATIOS)))
# The members' columns behind their C-ROSS minimum capital (with their combined ratio's band), in
# the order solvency.minimum_capital_rows takes them.
MEMBER_COLUMNS = ("cat_loss_after_proportional", "cat_xl_recovery", "credit_exposure")
# What KeptColumns.solvency adds, (n_trials, n_parties).
SOLVENCY_COLUMNS = ("capital_end", "minimum_capital", "solvency_ratio")
# Summed for the tables, and kept for every trial only for the report (KeptColumns' for_report).
REPORT_COLUMNS = ("gross_premium", "ceded_premium", "reinstatement_premium")
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
    """The whole-run columns of a one-year run that the statistics need, in a
    :class:`~sim.column_store.ColumnStore` (on disk in a long run), filled chunk by chunk (in
    any order: each chunk writes its own rows), and the running sums of the rest (added in
    trial order: :meth:`add_in_order`). Every table is then worked out a party's (a member's,
    a treaty's, a block of trials') column at a time.

    ``folder``: where the store keeps its files (None: in memory). ``for_report``: keep the
    premium columns of every trial too (:data:`REPORT_COLUMNS`), which the loss-ratio plot
    draws: from here a party's column is one read, from trials.parquet a pass over every
    party's.
    """

    def __init__(self, scenario: Scenario, parties: Parties, n_trials: int, n_treaties: int,
                 folder: Path | None = None, for_report: bool = False):
        n_parties, n_lines = parties.n_parties, len(scenario.lines)
        self.scenario, self.parties, self.n_trials = scenario, parties, n_trials
        self.members = members = parties.columns("member")
        self.shares = np.asarray(parties.share, dtype=np.float64)[members]
        self.reinsurers = parties.columns("reinsurer")
        # A shared column's store columns: the pool's, then the reinsurers'.
        self.shared_parties = [0] + list(range(self.reinsurers.start, self.reinsurers.stop))
        self.store = store = ColumnStore(n_trials, folder)
        self.report_columns = REPORT_COLUMNS if for_report else ()
        for name in WHOLE_PARTY_COLUMNS + ("net_result",) + self.report_columns:
            store.create(name, len(self.shared_parties) if name in SHARED_PARTY_COLUMNS else n_parties)
        for name in MEMBER_COLUMNS:
            store.create(name, members.stop - members.start)
        store.create("band", members.stop - members.start, dtype=np.int8)
        store.create("treaty_ceded_loss", n_treaties)
        store.create("line_loss", n_lines)
        self.sums = {name: RunningSum(n_parties) for name in SUMMED_PARTY_COLUMNS}
        self.sums.update({name: RunningSum(n_treaties) for name in SUMMED_TREATY_COLUMNS})
        self.capital_start = solvency.party_capital_start(parties)

    @property
    def n_bytes_at_most(self) -> int:
        """The most the kept columns take, with :meth:`solvency`'s (on disk, or in memory)."""
        return self.store.n_bytes + len(SOLVENCY_COLUMNS) * self.parties.n_parties * self.n_trials * 8

    def add(self, first_trial: int, arrays: PartyArrays, line_loss: np.ndarray, net_result: np.ndarray) -> None:
        """Write a chunk's kept columns at its rows (chunks in any order, even at once)."""
        members, store = self.members, self.store
        for name in WHOLE_PARTY_COLUMNS:
            if name in SHARED_PARTY_COLUMNS:
                pool = arrays[name][:, 0]
                if not np.array_equal(arrays[name][:, members], np.outer(pool, self.shares)):
                    raise RuntimeError(f"the members' {name} is no longer their shares of the pool's: "
                                       "sim.kept_columns must keep it whole")
                store.write(name, first_trial, arrays[name][:, self.shared_parties])
            else:
                store.write(name, first_trial, arrays[name])
        store.write("net_result", first_trial, net_result)
        for name in self.report_columns:
            store.write(name, first_trial, arrays[name])
        for name in MEMBER_COLUMNS:
            store.write(name, first_trial, arrays[name][:, members])
        store.write("band", first_trial, solvency.combined_ratio_band(member_combined_ratio(arrays, members)))
        store.write("treaty_ceded_loss", first_trial, arrays["treaty_ceded_loss"])
        store.write("line_loss", first_trial, line_loss)

    def add_in_order(self, arrays: PartyArrays) -> None:
        """Add a chunk to the running sums; chunks must come in trial order."""
        for name, running in self.sums.items():
            values = arrays[name]
            running.add(np.nan_to_num(values) if name == "treaty_exhausted" else values)

    def party_column(self, name: str, party: int) -> np.ndarray:
        """Party ``party``'s column of a kept party column for the statistics: of a summed one, its
        mean, ``(1,)``; of the others its :meth:`trial_column`."""
        if name in self.sums:
            return self.sums[name].mean(self.n_trials)[0, party:party + 1]
        return self.trial_column(name, party)

    def trial_column(self, name: str, party: int) -> np.ndarray:
        """Party ``party``'s ``(n_trials,)`` column of a kept party column (a member's of a shared
        one: the pool's times its share, the same product as ``np.outer``'s), or of
        :data:`SOLVENCY_COLUMNS` once :meth:`solvency` has run, a new array."""
        if name not in SHARED_PARTY_COLUMNS:
            return self.store.column(name, party)
        if self.members.start <= party < self.members.stop:
            return self.store.column(name, 0) * self.shares[party - self.members.start]
        return self.store.column(name, self.shared_parties.index(party))

    def whole(self, name: str, columns=None) -> np.ndarray:
        """A kept array whole, ``(n_trials, n_columns)`` (of ``columns`` only, when given)."""
        return self.store.rows(name, columns=columns)

    def release(self, *names: str) -> None:
        """Drop kept columns no table still to be built needs."""
        self.store.drop(*names)

    def close(self) -> None:
        """Remove the kept columns."""
        self.store.close()

    def treaty_columns(self) -> dict[str, np.ndarray]:
        """The columns for :func:`sim.costs.treaty_table`: ceded loss whole, the rest as mean rows
        (``treaty_exhausted``'s the share of trials exhausted, NaN taken as 0, as the table does)."""
        columns = {name: self.sums[name].mean(self.n_trials) for name in SUMMED_TREATY_COLUMNS}
        columns["treaty_ceded_loss"] = self.whole("treaty_ceded_loss")
        return columns

    def solvency(self) -> None:
        """Capital at the end, minimum capital and solvency ratio of every party in every trial,
        kept as :data:`SOLVENCY_COLUMNS`: what :func:`sim.solvency.assess` gives from every column,
        from the kept ones (the members' combined ratios as their C-ROSS bands), a member's column
        or a block of trials at a time."""
        store, members = self.store, range(self.members.start, self.members.stop)
        run_wide = solvency.members_run_wide_capital(
            self.scenario, self.parties,
            lambda name, i: store.column(name, members[i]) if name == "net_result" else store.column(name, i))
        for name in SOLVENCY_COLUMNS:
            store.create(name, self.parties.n_parties)
        for first in range(0, self.n_trials, solvency.ASSESS_BLOCK_TRIALS):
            rows = slice(first, min(first + solvency.ASSESS_BLOCK_TRIALS, self.n_trials))
            minimum = solvency.minimum_capital_rows(
                self.scenario, self.parties, run_wide, BAND_RATIOS[store.rows("band", rows)],
                *(store.rows(name, rows) for name in MEMBER_COLUMNS))
            end = solvency.capital_end(self.capital_start, store.rows("net_result", rows))
            store.write("capital_end", first, end)
            store.write("minimum_capital", first, minimum)
            store.write("solvency_ratio", first, solvency.ratio_rows(self.parties, end, minimum))
        store.drop(*MEMBER_COLUMNS, "band")


def member_combined_ratio(arrays: PartyArrays, members: slice) -> np.ndarray:
    """Each member's combined ratio in each trial, NaN without a positive net premium
    (the worst band), as :func:`sim.solvency.assess` works it out; ``(n_trials, n_members)``."""
    member_net_premium = metrics.net_premium(arrays["gross_premium"][:, members], arrays["ceded_premium"][:, members],
                                             arrays["reinstatement_premium"][:, members])
    combined = metrics.combined_ratio(arrays["net_loss"][:, members], arrays["expenses"][:, members],
                                      arrays["commission"][:, members], arrays["lead_fee"][:, members],
                                      member_net_premium)
    return np.where(member_net_premium > 0.0, combined, np.nan)


# Where a run's KeptColumns keep their files, in its staging folder (removed before it is swapped in).
KEPT_FOLDER = ".kept-columns"
# The trials.parquet columns a fresh run's plots and report take from its kept columns.
HELD_COLUMNS = ("gross_loss", "ceded_loss", "default_loss", "net_loss", "solvency_ratio") + REPORT_COLUMNS


class HeldColumns:
    """Some trials.parquet columns of a fresh one-year run, a party at a time from its kept
    columns (:attr:`sim.results.Results.held_columns`), until :meth:`close`."""

    def __init__(self, kept: KeptColumns, names) -> None:
        self.kept, self.names = kept, frozenset(names)

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def party_column(self, name: str, party: int) -> np.ndarray:
        """Party ``party``'s ``(n_trials,)`` column, a new array."""
        return self.kept.trial_column(name, party)

    def close(self) -> None:
        self.kept.close()
