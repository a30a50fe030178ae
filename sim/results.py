"""The results of a run: its tables, in memory or read from its results folder.

:func:`sim.tables.build_results` makes :class:`Results` from a run's arrays;
:func:`sim.run_folder.write_run_folder` saves the folder (with its plots and
report) and :meth:`Results.read` loads it back. The per-trial tables of a
folder (trials.parquet, line_losses.parquet: a GB and more at millions of
trials) are read from it when first used, and then only the columns asked for
where that is enough (:meth:`Results.party_matrix`). Files (every column is
described in docs/results.md):

* ``summary.csv``          one row per party (:func:`sim.metrics.summary`)
* ``trials.parquet``       one row per trial, year and party
* ``line_losses.parquet``  one row per trial, year and line (``claims`` counts ground-up
                           policy losses, those below the deductible too)
* ``ep.csv``               AEP / OEP tables (:func:`sim.metrics.ep_table`)
* ``allocation.csv``       co-TVaR allocation (:func:`sim.metrics.allocation`)
* ``treaties.csv``         what each treaty costs its cedant (:func:`sim.costs.treaty_table`)
* ``run.json``             how the run was made, with every note the run printed (``notes``)
  and the per-trial tables written (``tables``)
* ``scenario.toml``        the scenario as run (:mod:`sim.scenario_text`), when it came from a file
* ``plots/*.png``          :mod:`sim.plots`
* ``report.html``          one self-contained page of all the above (:mod:`sim.report`)

Trial numbers are the 0-based trial indices of the random streams, so a trial
can be replayed; ``year`` is 1-based.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import costs
from .errors import UsageError
from .results_folder import (FILES, PARTIAL_REPORT, PLOTS_FOLDER, PRICING_FILE, REPORT_FILE, RUN_RECORD,  # noqa: F401 (re-exported)
                             SCENARIO_FILE, check_replaceable, current_umask, foreign_files, is_plot_file, json_safe,
                             listed, swap_into_place)
from .table_stream import LINE_COLUMNS, TABLE_FILES, TRIAL_COLUMNS  # noqa: F401 (re-exported)

_json_safe = json_safe      # the name sim.optimize_output imports

# The columns Results.read needs of each saved table: the contract's, which the plots use.
READ_COLUMNS = {
    "summary.csv": ("party", "kind", "role"),
    "trials.parquet": ("trial", "year", "party", "share", "gross_loss", "ceded_loss", "default_loss",
                       "net_loss", "gross_premium", "ceded_premium", "reinstatement_premium", "commission",
                       "capital_end", "solvency_ratio"),
    "ep.csv": ("party", "basis", "metric", "return_period", "loss"),
}
REWRITE_HINT = "run poolsim run again to write the folder anew"
# capped_loss came with event tables: an older folder's line_losses.parquet has none
_REQUIRED = {"trials": READ_COLUMNS["trials.parquet"],
             "line_losses": tuple(column for column in LINE_COLUMNS if column != "capped_loss")}


def package_version() -> str:
    """The installed poolsim version, or ``"unknown"`` when run from a bare checkout."""
    try:
        from importlib.metadata import version
        return version("poolsim")
    except Exception:       # not installed: the version is informative only
        return "unknown"


class Results:
    """Everything a run produced (see the module docstring for the files).

    ``summary``, ``ep``, ``allocation`` and ``treaties`` are DataFrames in memory.
    ``trials`` and ``line_losses`` are too when given; otherwise they are read from
    ``folder`` when first used (and are empty when the run did not write them:
    ``run_info["tables"]``).
    """

    def __init__(self, name: str, run_info: dict[str, Any], trials: pd.DataFrame | None = None,
                 line_losses: pd.DataFrame | None = None, summary: pd.DataFrame | None = None,
                 ep: pd.DataFrame | None = None, allocation: pd.DataFrame | None = None, currency: str = "CNY",
                 treaties: pd.DataFrame | None = None, folder: Path | None = None,
                 scenario_text: str | None = None, pricing: pd.DataFrame | None = None):
        self.name = name                    # scenario name
        self.run_info = run_info
        self._tables = {"trials": trials, "line_losses": line_losses}
        self.summary = summary
        self.ep = ep
        self.allocation = allocation
        self.currency = currency
        self.treaties = treaties if treaties is not None else pd.DataFrame(columns=costs.TREATY_TABLE_COLUMNS)
        self.folder = folder                # where it was written or read
        self.scenario_text = scenario_text  # scenario.toml: the scenario as run (sim.scenario_text)
        self.pricing = pricing              # pricing.csv: rates by line and year ([pricing] runs only)
        # trials.parquet columns a fresh one-year run still holds (sim.kept_columns.HeldColumns: a
        # party's column at a time, until closed): its plots and report take them from there
        # instead of reading the file
        self.held_columns = None

    def __repr__(self) -> str:
        return f"Results({self.name!r}, folder={self.folder!s})"

    # ------------------------------------------------------------------ per-trial tables
    @property
    def trials(self) -> pd.DataFrame:
        """trials.parquet: one row per trial, year and party."""
        return self._table("trials")

    @trials.setter
    def trials(self, frame: pd.DataFrame) -> None:
        self._tables["trials"] = frame

    @property
    def line_losses(self) -> pd.DataFrame:
        """line_losses.parquet: one row per trial, year and line."""
        return self._table("line_losses")

    @line_losses.setter
    def line_losses(self, frame: pd.DataFrame) -> None:
        self._tables["line_losses"] = frame

    def has_table(self, table: str) -> bool:
        """Whether the run wrote ``table`` (``"trials"`` or ``"line_losses"``)."""
        return table in self.run_info.get("tables", TABLE_FILES)    # folders before --tables have both

    def _written_by_stream(self) -> bool:
        """Whether trials.parquet is a one-year run's as the runner streams it: rows trial-major, parties
        in summary order (run.json has ``tables`` since then)."""
        return "tables" in self.run_info and self.years == 1 and self.folder is not None

    def _needs_trials(self) -> None:
        if not self.has_table("trials"):
            where = f"{self.folder}: " if self.folder is not None else ""
            raise UsageError(f"{where}the run did not write trials.parquet (--tables), which the plots and the "
                             f"report draw; run it again with the trials table")

    def _table(self, table: str) -> pd.DataFrame:
        frame = self._tables[table]
        if frame is None:
            frame = self._read_columns(table, None)
            self._tables[table] = frame
        return frame

    def _read_columns(self, table: str, columns: list[str] | None) -> pd.DataFrame:
        """``columns`` (all: None) of a per-trial table from the folder; empty if it was not written."""
        required = _REQUIRED[table]
        if not self.has_table(table) or self.folder is None:
            return pd.DataFrame(columns=list(columns or (TRIAL_COLUMNS if table == "trials" else LINE_COLUMNS)))
        return _read_table(self.folder / TABLE_FILES[table],
                           lambda path: pd.read_parquet(path, columns=columns),
                           [column for column in required if columns is None or column in columns])

    # ------------------------------------------------------------------ parties
    @property
    def _party_rows(self) -> pd.DataFrame:
        # A multi-year summary has a row per party and year: the first row of each party.
        return self.summary.drop_duplicates("party")

    @property
    def party_names(self) -> list[str]:
        return list(self._party_rows["party"])

    @property
    def party_kinds(self) -> list[str]:
        return list(self._party_rows["kind"])

    @property
    def years(self) -> int:
        if self._tables["trials"] is None and "years" in self.run_info:
            return int(self.run_info["years"])
        return int(self.trials["year"].max()) if len(self.trials) else 1

    @property
    def n_trials(self) -> int:
        """How many trials (simulated years, or paths of a multi-year run) the trials table holds."""
        if self._tables["trials"] is None and "trials" in self.run_info:
            return int(self.run_info["trials"])
        trial = self.trials["trial"].to_numpy()
        if np.all(trial[1:] >= trial[:-1]):     # the layout build_results writes: count the changes
            return int(np.count_nonzero(trial[1:] != trial[:-1])) + 1 if len(trial) else 0
        return len(pd.unique(trial))    # hashing: np.unique's sort took 0.9 s at 1,000,000 trials

    def names_of(self, kind: str) -> list[str]:
        """Names of the parties of one kind (pool | member | reinsurer), in party order."""
        return [name for name, k in zip(self.party_names, self.party_kinds) if k == kind]

    def party_matrix(self, column: str, year: int | None = None) -> np.ndarray:
        """One trials column as a ``(n_trials, n_parties)`` array in summary party order.

        ``year`` defaults to the last year. Rows are trials in ascending order.
        For the layout build_results writes (trial-major, parties in order) it is
        a read-only view of the table's column: no copy of a million-trial table. A table
        not read yet is not read whole: only this column and the rows' keys.
        """
        self._needs_trials()
        trials = self._tables["trials"]
        names = self.party_names
        if trials is None and self.held_columns is not None and column in self.held_columns and self.years == 1:
            matrix = np.stack([self.held_columns.party_column(column, party) for party in range(len(names))],
                              axis=1)
            matrix.flags.writeable = False
            return matrix
        if trials is None and self._written_by_stream():
            # The layout the run streamed (trial-major, parties in order, one year): the column alone.
            values = _read_file(self.folder / TABLE_FILES["trials"], lambda path: _float_column(path, column))
            matrix = values.reshape(-1, len(names))
            matrix.flags.writeable = False
            return matrix
        if trials is None:
            trials = self._read_columns("trials", list(dict.fromkeys(["trial", "year", "party", column])))
        n_parties = len(names)
        years = trials["year"].to_numpy()
        year = int(years.max()) if year is None else year
        rows = None if years.min() == years.max() else years == year

        def values_of(name: str) -> np.ndarray:
            values = trials[name].to_numpy()
            return values if rows is None else values[rows]

        party = trials["party"]
        if isinstance(party.dtype, pd.CategoricalDtype) and list(party.cat.categories) == names:
            codes = party.cat.codes.to_numpy()
        else:
            codes = pd.Categorical(party, categories=names).codes
        codes = codes if rows is None else codes[rows]
        values = values_of(column).astype(np.float64, copy=False)
        trial = values_of("trial")
        n_rows = len(values)
        if n_rows % n_parties == 0:
            in_order = (codes.reshape(-1, n_parties) == np.arange(n_parties)).all()
            if in_order and np.all(np.diff(trial[::n_parties]) > 0):
                matrix = values.reshape(-1, n_parties)
                matrix.flags.writeable = False      # a view of the trials table
                return matrix
        trial_numbers, trial_rows = np.unique(trial, return_inverse=True)
        matrix = np.full((len(trial_numbers), n_parties), np.nan)
        matrix[trial_rows, codes] = values
        return matrix

    def party_column(self, column: str, party: str) -> np.ndarray:
        """One trials column of one party, ``(n_trials,)``, trials in ascending order; the last
        year's of a multi-year run. A fresh run's held columns give it without the other parties'."""
        self._needs_trials()
        index = self.party_names.index(party)
        if self._tables["trials"] is None and self.years == 1:
            if self.held_columns is not None and column in self.held_columns:
                return self.held_columns.party_column(column, index)
            if self._written_by_stream():
                return _read_file(self.folder / TABLE_FILES["trials"],
                                  lambda path: _float_column(path, column, every=(len(self.party_names), index)))
        return np.array(self.party_matrix(column)[:, index])

    def drop_held_columns(self) -> None:
        """Forget the held columns (:attr:`held_columns`): from now on the tables come from the files."""
        if self.held_columns is not None:
            self.held_columns.close()
            self.held_columns = None

    def party_by_year(self, column: str, party: str) -> np.ndarray:
        """One trials column of one party as ``(n_trials, n_years)``, trials in ascending order."""
        self._needs_trials()
        trials = self._tables["trials"]
        if trials is None:
            trials = self._read_columns("trials", list(dict.fromkeys(["trial", "year", "party", column])))
        # rows of only the columns needed: a row selection copies every column taken
        table = trials.loc[trials["party"] == party, list(dict.fromkeys(["trial", "year", column]))]
        table = table.sort_values(["trial", "year"], kind="stable")
        return table[column].to_numpy(dtype=np.float64).reshape(-1, self.years)

    @classmethod
    def read(cls, folder: str | os.PathLike) -> "Results":
        """Load a results folder written by :func:`sim.run_folder.write_run_folder`.

        Raises UsageError naming the file when one is missing, cannot be read, or
        lacks the columns that the plots and the contract rely on. The per-trial
        tables are checked here (their schema) and read when first used.
        """
        folder = Path(folder)
        run_info = _read_file(folder / RUN_RECORD, lambda path: json.loads(path.read_text(encoding="utf-8")))
        if not isinstance(run_info, dict):
            raise UsageError(f"{folder / RUN_RECORD}: is not the record of a run (a JSON object); "
                             f"{REWRITE_HINT}")
        # Party names such as "NA" must stay strings; only empty fields are missing values.
        csv_options = dict(keep_default_na=False, na_values=[""])

        def read_csv(path: Path) -> pd.DataFrame:
            return pd.read_csv(path, **csv_options)

        summary = _read_table(folder / "summary.csv", read_csv, READ_COLUMNS["summary.csv"])
        summary["role"] = summary["role"].fillna("").astype(str)
        summary["party"] = summary["party"].astype(str)
        allocation_path = folder / "allocation.csv"
        # allocation.csv came after the first results folders: an older one has none
        allocation = (_read_table(allocation_path, read_csv, ()) if allocation_path.exists()
                      else pd.DataFrame(columns=["basis", "component_kind", "component", "contribution",
                                                 "share_of_tvar"]))
        treaties_path = folder / "treaties.csv"
        # treaties.csv came with version 2 of the results folder
        treaties = (_read_table(treaties_path, read_csv, ()) if treaties_path.exists()
                    else pd.DataFrame(columns=costs.TREATY_TABLE_COLUMNS))
        for table, file in TABLE_FILES.items():
            if table in run_info.get("tables", TABLE_FILES):
                _read_table(folder / file, lambda path: pd.DataFrame(columns=pq.read_schema(path).names),
                            _REQUIRED[table])
        return cls(
            name=str(run_info.get("scenario", folder.name)),
            treaties=treaties,
            run_info=run_info,
            summary=summary,
            ep=_read_table(folder / "ep.csv", read_csv, READ_COLUMNS["ep.csv"]),
            allocation=allocation,
            currency=str(run_info.get("currency", "CNY")),
            folder=folder,
            scenario_text=(folder / SCENARIO_FILE).read_text(encoding="utf-8")
            if (folder / SCENARIO_FILE).is_file() else None,
            # pricing.csv: only a multi-year run with [pricing] writes one
            pricing=(_read_table(folder / PRICING_FILE, read_csv, ("line", "year"))
                     if (folder / PRICING_FILE).is_file() else None),
        )


def _read_file(path: Path, read):
    """``read(path)``; a missing or unreadable file is a UsageError naming it."""
    try:
        return read(path)
    except FileNotFoundError:
        raise UsageError(f"{path}: is missing, so the results folder is incomplete; {REWRITE_HINT}") from None
    except (OSError, ValueError) as error:   # pandas, pyarrow and json report bad content as ValueError
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UsageError(f"{path}: cannot be read ({reason}); {REWRITE_HINT}") from None


def _float_column(path: Path, column: str, every: tuple[int, int] | None = None) -> np.ndarray:
    """One column of a Parquet file as float64, read row group by row group into one array;
    with ``every`` = ``(step, first)``, only the rows ``first, first + step, …`` (one party's of
    a table with ``step`` parties a trial).

    Through pandas, Arrow's memory pool kept about 2.4 times the column's size after the read
    (measured on 27,000,000 rows): at 10,000,000 trials of 9 parties, some 1.7 GB a column.
    """
    file = pq.ParquetFile(path)
    if column not in file.schema_arrow.names:
        raise UsageError(f"{path}: is not a table poolsim wrote: it has no column {column}; {REWRITE_HINT}")
    step, first = every or (1, 0)
    n_rows = file.metadata.num_rows
    values = np.empty(len(range(first, n_rows, step)), dtype=np.float64)
    at, row, part = 0, 0, None
    for group in range(file.num_row_groups):
        part = file.read_row_group(group, columns=[column]).column(0).to_numpy()
        taken = part[(first - row) % step::step]
        values[at:at + len(taken)] = taken
        at, row = at + len(taken), row + len(part)
    del part
    pa.default_memory_pool().release_unused()
    return values


def _read_table(path: Path, read, columns) -> pd.DataFrame:
    """A saved table, with at least ``columns``; UsageError naming the file otherwise."""
    table = _read_file(path, read)
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise UsageError(f"{path}: is not a table poolsim wrote: it has no column {', '.join(missing)}; "
                         f"{REWRITE_HINT}")
    return table
