"""trials.parquet and line_losses.parquet, written chunk by chunk in trial order.

A one-year run hands each chunk's arrays to :class:`TableStream` as the chunk is
done, in trial order (the runner puts chunks that finish early aside until
those before them are in). ``line_losses.parquet`` gets a row group per chunk
at once. ``trials.parquet`` cannot: its ``minimum_capital`` and
``solvency_ratio`` rest on quantiles of the whole run (the C-ROSS catastrophe
risk, or the VaR of the net result). So its other columns go, chunk by chunk,
to an uncompressed Arrow file beside it (``.trials.arrow``), and
:meth:`TableStream.finish` reads that back one chunk at a time, adds the two
columns and writes the Parquet row groups. Memory stays that of a chunk or two.

The rows are the same as :func:`trial_rows` and :func:`line_rows` would give for
the whole run at once: trial-major, parties (or lines) in order.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .parties import Parties

# trials.parquet columns: the contract's, plus expenses, lead_fee and minimum_capital.
TRIAL_COLUMNS = (
    "trial", "year", "party", "share", "gross_loss", "ceded_loss", "default_loss", "net_loss",
    "gross_premium", "ceded_premium", "reinstatement_premium", "commission", "expenses", "lead_fee",
    "capital_end", "minimum_capital", "solvency_ratio",
)
# The trials.parquet columns that rest on the whole run, written last.
WHOLE_RUN_TRIAL_COLUMNS = ("minimum_capital", "solvency_ratio")
MONEY_COLUMNS = TRIAL_COLUMNS[4:14]
LINE_COLUMNS = ("trial", "year", "line", "claims", "gross_loss", "capped_loss")
TABLES = ("trials", "line_losses")      # the tables --tables chooses among
TABLE_FILES = {"trials": "trials.parquet", "line_losses": "line_losses.parquet"}
SPILL_FILE = ".trials.arrow"


def trial_rows(parties: Parties, arrays, capital_end: np.ndarray, minimum_capital: np.ndarray | None,
               solvency_ratio: np.ndarray | None, first_trial: int = 0, year: int = 1) -> pd.DataFrame:
    """trials.parquet rows of trials ``first_trial ..`` as a DataFrame, built column-wise.

    Rows are trial-major: the first trial's parties in party order, then the next trial's.

    Parameters
    ----------
    arrays : mapping of (n_trials, n_parties) float64, every name of ``MONEY_COLUMNS``
    capital_end, minimum_capital, solvency_ratio : (n_trials, n_parties); the last two may be
        None (left out: :class:`TableStream` adds them at the end)
    """
    n_trials, n_parties = arrays["net_loss"].shape
    codes = np.tile(np.arange(n_parties, dtype=np.int32), n_trials)
    columns: dict[str, Any] = {
        "trial": np.repeat(np.arange(first_trial, first_trial + n_trials, dtype=np.int64), n_parties),
        "year": np.full(n_trials * n_parties, year, dtype=np.int32),
        "party": pd.Categorical.from_codes(codes, categories=list(parties.names)),
        "share": np.tile(np.asarray(parties.share, dtype=np.float64), n_trials),
    }
    for key in MONEY_COLUMNS:
        columns[key] = np.ascontiguousarray(arrays[key], dtype=np.float64).ravel()
    columns["capital_end"] = np.ascontiguousarray(capital_end).ravel()
    names = list(TRIAL_COLUMNS)
    if minimum_capital is None:
        names = names[:-len(WHOLE_RUN_TRIAL_COLUMNS)]
    else:
        columns["minimum_capital"] = np.ascontiguousarray(minimum_capital).ravel()
        columns["solvency_ratio"] = np.ascontiguousarray(solvency_ratio).ravel()
    # copy=False: the amount columns stay views of the arrays (ravel of a C-contiguous array)
    return pd.DataFrame(columns, columns=names, copy=False)


def line_rows(line_names: Sequence[str], line_loss: np.ndarray, line_claims: np.ndarray, first_trial: int = 0,
              year: int = 1, capped_loss: np.ndarray | None = None) -> pd.DataFrame:
    """line_losses.parquet rows; ``line_loss``, ``line_claims`` and ``capped_loss`` (what policy
    limits cut from event-table losses; None: 0) are ``(n_trials, n_lines)``."""
    n_trials, n_lines = line_loss.shape
    if capped_loss is None:
        capped_loss = np.zeros_like(line_loss, dtype=np.float64)
    return pd.DataFrame({
        "trial": np.repeat(np.arange(first_trial, first_trial + n_trials, dtype=np.int64), n_lines),
        "year": np.full(n_trials * n_lines, year, dtype=np.int32),
        "line": pd.Categorical.from_codes(np.tile(np.arange(n_lines, dtype=np.int32), n_trials),
                                          categories=list(line_names)),
        "claims": np.ascontiguousarray(line_claims, dtype=np.int64).ravel(),
        "gross_loss": np.ascontiguousarray(line_loss, dtype=np.float64).ravel(),
        "capped_loss": np.ascontiguousarray(capped_loss, dtype=np.float64).ravel(),
    }, columns=list(LINE_COLUMNS), copy=False)


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def _float_column(values: np.ndarray) -> pa.Array:
    # from_pandas: NaN becomes null, as pandas' own conversion (DataFrame.to_parquet) does
    return pa.array(np.ascontiguousarray(values, dtype=np.float64).ravel(), from_pandas=True)


def _names_column(n_rows_per_name: int, names: Sequence[str], n_repeats: int) -> pa.DictionaryArray:
    """``names`` repeated ``n_repeats`` times as a dictionary column (int8 codes, as pandas' Categorical)."""
    codes = np.tile(np.arange(len(names), dtype=np.int8), n_repeats)
    return pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int8()), pa.array(list(names), type=pa.string()))


def trial_batch(parties: Parties, arrays, capital_end: np.ndarray, first_trial: int, schema: pa.Schema,
                year: int = 1) -> pa.Table:
    """:func:`trial_rows` without its whole-run columns, built as Arrow columns directly (a pandas
    DataFrame per chunk cost more than the chunk's Parquet); ``schema`` is the spill's."""
    n_trials, n_parties = arrays["net_loss"].shape
    columns = [
        pa.array(np.repeat(np.arange(first_trial, first_trial + n_trials, dtype=np.int64), n_parties)),
        pa.array(np.full(n_trials * n_parties, year, dtype=np.int32)),
        _names_column(1, parties.names, n_trials),
        pa.array(np.tile(np.asarray(parties.share, dtype=np.float64), n_trials)),
    ]
    columns += [_float_column(arrays[key]) for key in MONEY_COLUMNS]
    columns.append(_float_column(capital_end))
    return pa.Table.from_arrays(columns, schema=schema)


def line_batch(line_names: Sequence[str], line_loss: np.ndarray, line_claims: np.ndarray, capped_loss: np.ndarray,
               first_trial: int, schema: pa.Schema, year: int = 1) -> pa.Table:
    """:func:`line_rows` as Arrow columns directly, with ``schema``."""
    n_trials, n_lines = line_loss.shape
    columns = [
        pa.array(np.repeat(np.arange(first_trial, first_trial + n_trials, dtype=np.int64), n_lines)),
        pa.array(np.full(n_trials * n_lines, year, dtype=np.int32)),
        _names_column(1, line_names, n_trials),
        pa.array(np.ascontiguousarray(line_claims, dtype=np.int64).ravel()),
        _float_column(line_loss),
        _float_column(capped_loss),
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def dictionary_columns(table: pa.Table) -> list[str]:
    """The name columns, the only ones Parquet should dictionary-encode.

    Parquet's default tries a dictionary for every column and gives up on float
    columns only once the dictionary is full, which tripled the time to write a
    million-row trials table and saved no space: amounts rarely repeat.
    """
    return [field.name for field in table.schema if pa.types.is_dictionary(field.type)]


class _ParquetRows:
    """One Parquet file written a row group at a time, with the first group's schema."""

    def __init__(self, path: Path):
        self.path = path
        self.writer: pq.ParquetWriter | None = None

    def write(self, table: pa.Table) -> None:
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, use_dictionary=dictionary_columns(table))
        self.writer.write_table(table.cast(self.writer.schema) if table.schema != self.writer.schema else table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class TableStream:
    """The per-trial tables of a one-year run, written into ``folder`` as chunks arrive in trial order.

    Parameters
    ----------
    folder : the results folder being written (the run's staging folder)
    parties, line_names : the parties and the lines of the run
    tables : the tables to write, names of :data:`TABLES`
    """

    def __init__(self, folder: Path, parties: Parties, line_names: Sequence[str], tables: Sequence[str]):
        self.folder, self.parties, self.line_names = Path(folder), parties, list(line_names)
        self.tables = tuple(tables)
        self.lines = _ParquetRows(self.folder / TABLE_FILES["line_losses"]) if "line_losses" in tables else None
        self.spill_path = self.folder / SPILL_FILE
        self.spill: pa.ipc.RecordBatchFileWriter | None = None
        self.spilled_rows: list[tuple[int, int]] = []       # (first trial, n_trials) of each spilled chunk
        self.schema: pa.Schema | None = None          # trials.parquet's
        self.spill_schema: pa.Schema | None = None
        self.line_schema: pa.Schema | None = None
        self.next_trial = 0

    def add(self, first_trial: int, arrays, capital_end: np.ndarray, line_loss: np.ndarray,
            line_claims: np.ndarray, capped_loss: np.ndarray) -> None:
        """The chunk of trials from ``first_trial``, which must be the next one."""
        if first_trial != self.next_trial:
            raise ValueError(f"chunk of trial {first_trial} came before trial {self.next_trial}'s")
        n_trials = len(line_loss)
        self.next_trial += n_trials
        if self.lines is not None:
            if self.line_schema is None:    # the schema pandas gives the rows (of the first trial here)
                self.line_schema = arrow_table(line_rows(self.line_names, line_loss[:1], line_claims[:1])).schema
            self.lines.write(line_batch(self.line_names, line_loss, line_claims, capped_loss, first_trial,
                                        self.line_schema))
        if "trials" in self.tables:
            if self.spill is None:
                # trials.parquet's schema: the one pandas gives the whole run's rows (one trial's here)
                first_row = {name: values[:1] for name, values in arrays.items()}
                whole_rows = trial_rows(self.parties, first_row, capital_end[:1], capital_end[:1], capital_end[:1])
                self.schema = arrow_table(whole_rows).schema
                self.spill_schema = arrow_table(whole_rows.iloc[:, :-len(WHOLE_RUN_TRIAL_COLUMNS)]).schema
                self.spill = pa.ipc.new_file(str(self.spill_path), self.spill_schema)
            self.spill.write_table(trial_batch(self.parties, arrays, capital_end, first_trial, self.spill_schema))
            self.spilled_rows.append((first_trial, n_trials))

    def finish(self, whole_run_rows: Callable[[str, slice], np.ndarray]) -> None:
        """Close line_losses.parquet; write trials.parquet from the spilled chunks and the
        whole-run columns, ``whole_run_rows(name, rows)`` giving the trials ``rows`` of a name of
        :data:`WHOLE_RUN_TRIAL_COLUMNS`, ``(n_rows, n_parties)``; remove the spill."""
        if self.lines is not None:
            self.lines.close()
        if self.spill is None:
            return
        self.spill.close()
        self.spill = None
        trials = _ParquetRows(self.folder / TABLE_FILES["trials"])
        try:
            # Read back batch by batch from an ordinary file (not memory-mapped): only a chunk in memory.
            with pa.OSFile(str(self.spill_path)) as source:
                reader = pa.ipc.open_file(source)
                index = 0
                for first, count in self.spilled_rows:
                    pieces = []
                    rows_left = count * self.parties.n_parties
                    while rows_left > 0:
                        batch = reader.get_batch(index)
                        index += 1
                        pieces.append(batch)
                        rows_left -= batch.num_rows
                    rows = slice(first, first + count)
                    columns = pa.Table.from_batches(pieces).columns + [
                        pa.array(np.ascontiguousarray(whole_run_rows(name, rows)).ravel())
                        for name in WHOLE_RUN_TRIAL_COLUMNS]
                    trials.write(pa.Table.from_arrays(columns, schema=self.schema))
        finally:
            trials.close()
            self.spill_path.unlink(missing_ok=True)

    def close(self) -> None:
        """Close every file (after an error: the staging folder is then removed)."""
        if self.lines is not None:
            self.lines.close()
        if self.spill is not None:
            self.spill.close()
            self.spill = None
