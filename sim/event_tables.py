"""Event loss tables from catastrophe models, read and checked: a catastrophe's events as arrays.

A ``[[catastrophes]]`` entry may take its systemic events from a file instead
of ``rate``, ``affected_share`` and ``damage_ratio``:

- a **YELT** (year event loss table): ``year`` (1..N), ``event`` (an integer
  id), ``line`` (a line of the scenario), ``loss`` (the event's loss to that
  line), and optionally ``day`` (1-365) and ``policies_hit``. Trial ``t``
  takes the table's year ``(t mod N) + 1``;
- an **ELT** (event loss table): ``event``, ``rate`` (events per year),
  ``line``, ``mean_loss``, ``sd_loss``, ``max_loss``, and optionally
  ``policies_hit``. Each occurrence's loss is a beta on ``[0, max_loss]``
  with that mean and standard deviation.

Both are CSV or Parquet. :func:`read_event_table` checks every column of
every row and reports the file, the row and the column of each problem, so a
bad table stops the run before anything is written. :mod:`sim.table_events`
turns a table's events into occurrences of a trial.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KINDS = ("yelt", "elt")
REQUIRED = {
    "yelt": ("year", "event", "line", "loss"),
    "elt": ("event", "rate", "line", "mean_loss", "sd_loss", "max_loss"),
}
OPTIONAL = {"yelt": ("day", "policies_hit"), "elt": ("policies_hit",)}
SUFFIXES = (".csv", ".parquet")
# The key of a YELT's number of years in the metadata of a Parquet file poolsim wrote
# (sim.yelt_export): a year with no event has no row, so the largest year may fall short.
YEARS_METADATA_KEY = b"poolsim.years"
# Problems listed per table, then a count of the rest: a table of a million bad rows must not
# print a million lines.
MAX_PROBLEMS = 20
DAYS_IN_YEAR = 365
ALL_POLICIES = -1      # policies_hit of a row that spreads its loss over every policy of its line


@dataclass(frozen=True, eq=False)
class EventTable:
    """A catastrophe's events, grouped by event, as arrays the kernels take.

    An *event* is one catastrophe occurrence that may touch several lines (one
    row per line); cat XL sees it as one occurrence. Rows are sorted by event
    (YELT: by year, then event id).

    Attributes
    ----------
    kind : "yelt" or "elt"
    source : the file with the scenario and key that name it, for messages
    file : the file as the scenario names it
    sha256 : of the file's bytes
    years : YELT: N, the number of years the table stands for; ELT: 0
    year_offsets : int64 (years + 1,), YELT: the events of year ``y`` (1-based) are
        ``year_offsets[y - 1] : year_offsets[y]``; ELT: ``[0, n_events]``
    event_id : int64 (n_events,)
    event_day : float64 (n_events,), day of the year in [0, 365), or NaN: drawn for each occurrence
    event_rate : float64 (n_events,), ELT: occurrences a year; YELT: 0
    row_offsets : int64 (n_events + 1,), the rows of event ``e`` are ``row_offsets[e] : row_offsets[e + 1]``
    row_line : int64 (n_rows,), line index in the scenario
    row_loss : float64 (n_rows,), YELT: the loss; ELT: the mean loss
    row_sd : float64 (n_rows,), ELT: the loss's standard deviation; YELT: 0
    row_max : float64 (n_rows,), ELT: the largest loss; YELT: the loss
    row_policies : int64 (n_rows,), policies hit, or ``ALL_POLICIES``
    """

    kind: str
    source: str
    file: str
    sha256: str
    years: int
    year_offsets: np.ndarray
    event_id: np.ndarray
    event_day: np.ndarray
    event_rate: np.ndarray
    row_offsets: np.ndarray
    row_line: np.ndarray
    row_loss: np.ndarray
    row_sd: np.ndarray
    row_max: np.ndarray
    row_policies: np.ndarray

    @property
    def n_events(self) -> int:
        return len(self.event_id)

    @property
    def n_rows(self) -> int:
        return len(self.row_line)

    def line_indices(self) -> tuple[int, ...]:
        """The lines the table touches, in scenario order."""
        return tuple(int(j) for j in np.unique(self.row_line))

    def mean_events(self) -> float:
        """Expected occurrences a year."""
        if self.kind == "yelt":
            return self.n_events / self.years if self.years else 0.0
        return float(self.event_rate.sum())

    def mean_rows(self) -> float:
        """Expected (occurrence, line) rows a year."""
        if self.kind == "yelt":
            return self.n_rows / self.years if self.years else 0.0
        rows_per_event = np.diff(self.row_offsets)
        return float((self.event_rate * rows_per_event).sum())


class TableProblems:
    """The problems found in one table, each naming the file, the row and the column."""

    def __init__(self, display: str, is_csv: bool):
        self.display = display
        self.is_csv = is_csv
        self.messages: list[str] = []
        self.more = 0

    def add(self, message: str) -> None:
        if len(self.messages) < MAX_PROBLEMS:
            self.messages.append(f"{self.display}: {message}")
        else:
            self.more += 1

    def row(self, index: int) -> str:
        """Row ``index`` (0-based, header not counted) as the user finds it: 1-based, with the
        CSV file's line number (the header is line 1)."""
        return f"row {index + 1} (line {index + 2})" if self.is_csv else f"row {index + 1}"

    def at_rows(self, bad: np.ndarray, column: str, values, what: str) -> None:
        """One problem for the first row where ``bad`` is true, counting the others."""
        rows = np.flatnonzero(bad)
        if len(rows) == 0:
            return
        first = int(rows[0])
        others = f" (and {len(rows) - 1:,} more rows)" if len(rows) > 1 else ""
        self.add(f"{self.row(first)}, column {column}: {_shown(values[first])} {what}{others}")

    def all(self) -> list[str]:
        if self.more:
            return self.messages + [f"{self.display}: ... and {self.more} more problems"]
        return list(self.messages)


def _shown(value) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "an empty cell"
    return str(value)


def read_event_table(path: Path, display: str, kind: str, line_names: list[str],
                     years: int | None = None, given: str | None = None) -> tuple[EventTable | None, list[str]]:
    """Read and check the table at ``path``: ``(table, [])``, or ``(None, problems)``.

    Parameters
    ----------
    path : the file (resolved against the scenario's folder)
    display : how messages name it (the path as the scenario gives it, with the scenario)
    kind : "yelt" or "elt"
    line_names : the scenario's lines, in order
    years : a YELT's number of years N when the scenario gives it; else the file's
        metadata (:data:`YEARS_METADATA_KEY`), else its largest year
    given : the file as the scenario names it (default: ``path``)
    """
    problems = TableProblems(display, path.suffix.lower() == ".csv")
    frame, file_years, digest = _read_frame(path, problems)
    if frame is None:
        return None, problems.all()
    columns = [str(column) for column in frame.columns]
    frame.columns = columns
    missing = [column for column in REQUIRED[kind] if column not in columns]
    if missing:
        optional = ", ".join(OPTIONAL[kind])
        problems.add(f"column {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing; "
                     f"a{'n' if kind == 'elt' else ''} {kind.upper()} has the columns "
                     f"{', '.join(REQUIRED[kind])} (and optionally {optional}); the file has "
                     f"{', '.join(columns) or 'none'}")
        return None, problems.all()
    n_rows = len(frame)
    line = _line_codes(frame["line"], line_names, problems)
    event = _integers(frame, "event", problems, minimum=None)
    policies = (_integers(frame, "policies_hit", problems, minimum=1) if "policies_hit" in columns
                else np.full(n_rows, ALL_POLICIES, dtype=np.int64))
    if kind == "yelt":
        year = _integers(frame, "year", problems, minimum=1)
        if years is None:
            years = file_years
        if year is not None and years is not None:
            problems.at_rows(year > years, "year", frame["year"].to_numpy(),
                             f"is beyond the table's {years:,} years (table_years)")
        loss = _amounts(frame, "loss", problems)
        day = _integers(frame, "day", problems, minimum=1, maximum=DAYS_IN_YEAR) if "day" in columns else None
        parts = (line, event, policies, year, loss) + ((day,) if "day" in columns else ())
        if problems.messages or any(part is None for part in parts):
            return None, problems.all()
        if years is None:
            years = int(year.max()) if n_rows else 0
        table = _yelt(frame, problems, display, digest, years, year, event, line, loss, day, policies)
    else:
        rate = _amounts(frame, "rate", problems)
        mean = _amounts(frame, "mean_loss", problems)
        sd = _amounts(frame, "sd_loss", problems)
        largest = _amounts(frame, "max_loss", problems)
        if problems.messages or any(part is None for part in (line, event, policies, rate, mean, sd, largest)):
            return None, problems.all()
        _check_beta(frame, problems, mean, sd, largest)
        table = _elt(frame, problems, display, digest, event, line, rate, mean, sd, largest, policies)
    if problems.messages:
        return None, problems.all()
    return dataclasses.replace(table, file=given if given is not None else os.fspath(path)), []


def _read_frame(path: Path, problems: TableProblems):
    """``(frame, years from the file's metadata or None, sha256)``, or Nones after a problem."""
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        problems.add(f"must be a .csv or .parquet file (it ends in {suffix or 'nothing'})")
        return None, None, None
    if not path.is_file():
        problems.add(f"no such file ({os.fspath(path)}); the path is relative to the scenario file")
        return None, None, None
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    years = None
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, skipinitialspace=True)
        else:
            import pyarrow.parquet as pq

            arrow = pq.read_table(path)
            metadata = arrow.schema.metadata or {}
            if YEARS_METADATA_KEY in metadata:
                years = int(metadata[YEARS_METADATA_KEY])
            frame = arrow.to_pandas()
    except Exception as error:  # noqa: BLE001 - any reader error is a bad file, reported as such
        problems.add(f"cannot be read as {suffix[1:]}: {error}")
        return None, None, None
    return frame, years, digest


def _line_codes(values, line_names: list[str], problems: TableProblems) -> np.ndarray | None:
    import pandas as pd

    text = values.astype("string").str.strip()
    codes = pd.Index(list(dict.fromkeys(line_names))).get_indexer(text.fillna("")).astype(np.int64)   # -1: not a line
    bad = codes < 0
    if bad.any():
        problems.at_rows(bad, "line", values.to_numpy(),
                         f"is not a line of the scenario (lines: {', '.join(line_names)})")
        return None
    return codes


def _numbers(frame, column: str) -> np.ndarray:
    import pandas as pd

    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _integers(frame, column: str, problems: TableProblems, minimum: int | None,
              maximum: int | None = None) -> np.ndarray | None:
    values = _numbers(frame, column)
    shown = frame[column].to_numpy()
    whole = np.isfinite(values) & (values == np.floor(values)) & (np.abs(values) < 2.0**53)
    problems.at_rows(~whole, column, shown, "is not a whole number")
    if not whole.all():
        return None
    if minimum is not None:
        within = f"within [{minimum}, {maximum}]" if maximum is not None else f">= {minimum}"
        bad = (values < minimum) | ((values > maximum) if maximum is not None else False)
        problems.at_rows(bad, column, shown, f"must be {within}")
        if bad.any():
            return None
    return values.astype(np.int64)


def _amounts(frame, column: str, problems: TableProblems) -> np.ndarray | None:
    values = _numbers(frame, column)
    shown = frame[column].to_numpy()
    problems.at_rows(~np.isfinite(values), column, shown, "is not a finite number")
    problems.at_rows(values < 0, column, shown, "is negative; it must be >= 0")
    if not (np.isfinite(values) & (values >= 0)).all():
        return None
    return values


def _check_beta(frame, problems: TableProblems, mean, sd, largest) -> None:
    """A beta on [0, max_loss] with mean m and sd s exists when 0 < m < max and
    s² < m (max − m); s = 0 means the constant m, which needs only m <= max."""
    problems.at_rows(largest <= 0, "max_loss", frame["max_loss"].to_numpy(), "must be > 0")
    problems.at_rows(mean > largest, "mean_loss", frame["mean_loss"].to_numpy(), "is above max_loss")
    variance_room = mean * (largest - mean)
    impossible = (sd > 0) & (sd * sd >= variance_room) & (largest > 0) & (mean <= largest)
    problems.at_rows(impossible, "sd_loss", frame["sd_loss"].to_numpy(),
                     "is too large for a beta on [0, max_loss] with that mean_loss: it must be below "
                     "sqrt(mean_loss × (max_loss − mean_loss)), or 0 for the mean itself")


def _duplicates(problems: TableProblems, keys: list[np.ndarray], names: str, column: str, shown) -> None:
    """A problem at the second of two rows with the same ``keys``."""
    order = np.lexsort(keys[::-1])
    same = np.ones(len(order) - 1, dtype=np.bool_) if len(order) > 1 else np.zeros(0, dtype=np.bool_)
    for key in keys:
        same &= key[order][1:] == key[order][:-1]
    if same.any():
        second = np.zeros(len(order), dtype=np.bool_)
        second[order[1:][same]] = True
        problems.at_rows(second, column, shown, f"repeats an earlier row's ({names}); each must appear once")


def _event_groups(keys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(order, starts)``: the rows sorted by ``keys`` (the last key is the line), and the
    positions in ``order`` where each event's rows start."""
    order = np.lexsort(keys[::-1])
    new = np.ones(len(order), dtype=np.bool_)
    if len(order) > 1:
        new[1:] = False
        for key in keys[:-1]:
            new[1:] |= key[order][1:] != key[order][:-1]
    return order, np.flatnonzero(new)


def _same_within_events(problems: TableProblems, order, starts, values, column: str, shown, what: str) -> None:
    """A problem at a row whose ``values`` differ from its event's first row."""
    if len(order) == 0:
        return
    group = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(order))))
    sorted_values = values[order]
    first = sorted_values[starts][group]
    differs = ~((sorted_values == first) | (np.isnan(sorted_values) & np.isnan(first)))
    bad = np.zeros(len(order), dtype=np.bool_)
    bad[order[differs]] = True
    problems.at_rows(bad, column, shown, what)


def _yelt(frame, problems, display, digest, years, year, event, line, loss, day, policies) -> EventTable:
    _duplicates(problems, [year, event, line], "year, event, line", "line", frame["line"].to_numpy())
    order, starts = _event_groups([year, event, line])
    event_day = np.full(len(starts), np.nan)
    if day is not None:
        days = day.astype(np.float64)
        _same_within_events(problems, order, starts, days, "day", frame["day"].to_numpy(),
                            "differs from the day of the event's first row in that year; an event has one day")
        # the middle of the given day, in the engine's [0, 365) days
        event_day = days[order][starts] - 0.5
    event_year = year[order][starts]
    year_offsets = np.searchsorted(event_year, np.arange(1, years + 2), side="left").astype(np.int64)
    n_rows = len(order)
    return EventTable(
        kind="yelt", source=display, file="", sha256=digest, years=int(years), year_offsets=year_offsets,
        event_id=event[order][starts], event_day=event_day, event_rate=np.zeros(len(starts)),
        row_offsets=np.append(starts, n_rows).astype(np.int64), row_line=line[order],
        row_loss=loss[order], row_sd=np.zeros(n_rows), row_max=loss[order], row_policies=policies[order])


def _elt(frame, problems, display, digest, event, line, rate, mean, sd, largest, policies) -> EventTable:
    _duplicates(problems, [event, line], "event, line", "line", frame["line"].to_numpy())
    order, starts = _event_groups([event, line])
    _same_within_events(problems, order, starts, rate, "rate", frame["rate"].to_numpy(),
                        "differs from the rate of the event's first row; an event has one rate")
    n_rows = len(order)
    return EventTable(
        kind="elt", source=display, file="", sha256=digest, years=0,
        year_offsets=np.array([0, len(starts)], dtype=np.int64),
        event_id=event[order][starts], event_day=np.full(len(starts), np.nan), event_rate=rate[order][starts],
        row_offsets=np.append(starts, n_rows).astype(np.int64), row_line=line[order],
        row_loss=mean[order], row_sd=sd[order], row_max=largest[order], row_policies=policies[order])


def event_table_record(scenario) -> dict[str, dict]:
    """run.json's ``event_tables``: for each catastrophe given by an event table, its file (as the
    scenario names it), kind, years and the sha256 of its bytes (the scenario's own sha256
    covers the file's name, not its content)."""
    return {cat.name: {"file": cat.event_table.file,
                       "table": cat.event_table.kind, "years": cat.event_table.years or None,
                       "sha256": cat.event_table.sha256}
            for cat in scenario.catastrophes if cat.event_table is not None}


def beta_parameters(mean: np.ndarray, sd: np.ndarray, largest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(alpha, beta)`` of the beta on [0, largest] with this mean and sd (method of moments);
    0 where the loss is a constant (sd 0, or a mean of 0 or of the largest loss)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(largest > 0, mean / largest, 0.0)
        variance = np.where(largest > 0, (sd / largest) ** 2, 0.0)
        common = ratio * (1.0 - ratio) / variance - 1.0
        alpha = ratio * common
        beta = (1.0 - ratio) * common
    constant = (sd <= 0) | (ratio <= 0) | (ratio >= 1)
    return np.where(constant, 0.0, alpha), np.where(constant, 0.0, beta)
