"""Whole-run columns of a one-year run, kept on disk a column at a time.

A run of 10,000,000 trials of 9 parties has 720 MB in each per-party column of every
trial: the handful the statistics need would not fit in a few GB of memory. A
:class:`ColumnStore` keeps each named array in its own file, column-major: party
``j``'s trials one after another, so that one party's column (80 MB at 10,000,000
trials), or a block of trials of every column, is one read. Chunks write their rows at
their own place, in any order, from any thread (``os.pwrite``). Reads go into fresh
NumPy arrays (``os.preadv``), not through a memory map: the operating system's file
cache holds the rest, and does not count as the process's memory.

Without a folder the store keeps its arrays in memory, the same layout
(:func:`sim.tables.build_results`, whose arrays are in memory anyway).
"""
from __future__ import annotations

import os
import shutil
import weakref
from pathlib import Path

import numpy as np

# The largest read the kernel takes at once (Linux: 0x7ffff000 bytes).
_LARGEST_READ = 1 << 30


class ColumnStore:
    """Named ``(n_trials, n_columns)`` arrays, stored a column at a time.

    Parameters
    ----------
    n_trials : the run's trials (each array's rows)
    folder : where the files go (created; removed by :meth:`close`), or None to keep the
        arrays in memory
    """

    def __init__(self, n_trials: int, folder: Path | None = None):
        self.n_trials = n_trials
        self.folder = None if folder is None else Path(folder)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=False)
        self.shapes: dict[str, tuple[int, np.dtype]] = {}
        self.files: dict[str, int] = {}
        self.arrays: dict[str, np.ndarray] = {}
        # A store dropped without close() (an error on the way) still closes its files: a removed
        # file's space comes back only when no descriptor holds it.
        weakref.finalize(self, _close_files, self.files)

    def create(self, name: str, n_columns: int, dtype=np.float64) -> None:
        """An array of ``n_columns`` columns, its values to be written."""
        dtype = np.dtype(dtype)
        self.shapes[name] = (n_columns, dtype)
        if self.folder is None:
            self.arrays[name] = np.empty((n_columns, self.n_trials), dtype=dtype)
        else:
            descriptor = os.open(self.folder / f"{name}.bin", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
            os.ftruncate(descriptor, n_columns * self.n_trials * dtype.itemsize)
            self.files[name] = descriptor

    @property
    def n_bytes(self) -> int:
        """What the arrays take when written (on disk, or in memory)."""
        return sum(n_columns * self.n_trials * dtype.itemsize for n_columns, dtype in self.shapes.values())

    def __contains__(self, name: str) -> bool:
        return name in self.shapes

    def n_columns(self, name: str) -> int:
        return self.shapes[name][0]

    def write(self, name: str, first_trial: int, block: np.ndarray) -> None:
        """The rows ``first_trial, …`` of ``name``: ``block`` ``(n_rows, n_columns)``."""
        n_columns, dtype = self.shapes[name]
        block = np.asarray(block, dtype=dtype).reshape(len(block), n_columns)
        if not 0 <= first_trial <= first_trial + len(block) <= self.n_trials:
            raise IndexError(f"rows {first_trial}..{first_trial + len(block)} of {name} are outside its "
                             f"{self.n_trials} trials")
        for column in range(n_columns):
            values = np.ascontiguousarray(block[:, column])
            if self.folder is None:
                self.arrays[name][column, first_trial:first_trial + len(values)] = values
            else:
                offset = (column * self.n_trials + first_trial) * dtype.itemsize
                _write_all(self.files[name], memoryview(values).cast("B"), offset)

    def column(self, name: str, column: int, rows: slice = slice(None)) -> np.ndarray:
        """Column ``column`` of ``name`` for the trials ``rows`` (a slice of step 1), a new array."""
        n_columns, dtype = self.shapes[name]
        if not 0 <= column < n_columns:
            raise IndexError(f"{name} has {n_columns} columns, not a column {column}")
        first, stop = _bounds(rows, self.n_trials)
        if self.folder is None:
            return self.arrays[name][column, first:stop].copy()
        values = np.empty(stop - first, dtype=dtype)
        _read_all(self.files[name], memoryview(values).cast("B"), (column * self.n_trials + first) * dtype.itemsize)
        return values

    def rows(self, name: str, rows: slice = slice(None), columns=None) -> np.ndarray:
        """The trials ``rows`` of ``name``, ``(n_rows, n_columns)`` row-major (of ``columns``, a
        sequence of column numbers, when given)."""
        n_columns, dtype = self.shapes[name]
        columns = range(n_columns) if columns is None else list(columns)
        first, stop = _bounds(rows, self.n_trials)
        out = np.empty((stop - first, len(columns)), dtype=dtype)
        for at, column in enumerate(columns):
            out[:, at] = self.column(name, column, rows)
        return out

    def drop(self, *names: str) -> None:
        """Forget arrays no longer needed (their files emptied)."""
        for name in names:
            if name not in self.shapes:
                continue
            del self.shapes[name]
            self.arrays.pop(name, None)
            descriptor = self.files.pop(name, None)
            if descriptor is not None:
                os.close(descriptor)
                (self.folder / f"{name}.bin").unlink(missing_ok=True)

    def close(self) -> None:
        """Forget every array and remove the folder."""
        self.drop(*list(self.shapes))
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def _bounds(rows: slice, n_trials: int) -> tuple[int, int]:
    first, stop, step = rows.indices(n_trials)
    if step != 1:
        raise ValueError(f"a kept column is read in runs of trials, not every {step}th")
    return first, max(stop, first)


def _close_files(files: dict[str, int]) -> None:
    for descriptor in files.values():
        os.close(descriptor)
    files.clear()


def _write_all(descriptor: int, data: memoryview, offset: int) -> None:
    while len(data):
        written = os.pwrite(descriptor, data[:_LARGEST_READ], offset)
        data, offset = data[written:], offset + written


def _read_all(descriptor: int, buffer: memoryview, offset: int) -> None:
    while len(buffer):
        read = os.preadv(descriptor, [buffer[:_LARGEST_READ]], offset)
        if read == 0:
            raise OSError(f"a kept column ends early, at byte {offset} (was its file changed during the run?)")
        buffer, offset = buffer[read:], offset + read
