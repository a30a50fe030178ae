"""``poolsim run --export ord|yelt`` and ``poolsim export ord|yelt RESULTS_DIR``: a run's
occurrences in other tools' formats, written into its results folder.

- ``ord``: ``ord/`` with ORD's ``ept.csv``, ``palt.csv``, ``plt.csv`` and
  ``summary_info.csv`` (:mod:`sim.ord`);
- ``yelt``: ``yelt.parquet``, the run's catastrophe occurrences as a year
  event loss table in the columns ``event_table`` reads (``year``, ``event``,
  ``line``, ``loss``, ``day``, ``policies_hit``, plus ``catastrophe``), so
  another scenario can take them as its catastrophe (``table = "yelt"``).

Both need each occurrence, which a results folder does not keep: the run is
made again (:mod:`sim.replay`), checked against the folder's trials, and only
then written, each file whole or not at all.
"""
from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from . import ord as ord_tables
from .event_tables import YEARS_METADATA_KEY
from .model import Scenario
from .replay import folder_scenario, occurrence_losses, parties_of, replay

KINDS = ("ord", "yelt")
YELT_FILE = "yelt.parquet"
YELT_COLUMNS = ("year", "event", "line", "loss", "day", "policies_hit", "catastrophe")


def export(folder: str | os.PathLike, kinds, scenario: Scenario | None = None) -> list[Path]:
    """Write the exports ``kinds`` (a subset of :data:`KINDS`) of the one-year results folder
    ``folder``; ``scenario`` is the run's (with its seed and trials), else read from the folder.
    Returns what was written."""
    folder = Path(folder)
    kinds = [kind for kind in KINDS if kind in set(kinds)]
    if scenario is None:
        scenario = folder_scenario(folder)
    n_trials = scenario.simulation.trials
    line_names = [line.name for line in scenario.lines]
    cat_names = np.array([cat.name for cat in scenario.catastrophes] or [""], dtype=object)
    parties = parties_of(scenario)
    summary_info = ord_tables.summaries(parties)
    plt_parts: list[pd.DataFrame] = []
    yelt_parts: list[pd.DataFrame] = []
    counted = [0]       # catastrophe occurrences numbered so far: EventIds run through the run

    def on_chunk(first, losses, arrays):
        trial, occurrence, by_line, hits = occurrence_losses(losses, len(line_names))
        event_id = counted[0] + 1 + np.arange(len(occurrence), dtype=np.int64)
        counted[0] += len(occurrence)
        day = losses.occ_day[occurrence]
        if "ord" in kinds:
            plt_parts.append(ord_tables.plt_rows(parties, summary_info, n_trials, first + trial, event_id, day,
                                                 by_line.sum(axis=1)))
        if "yelt" in kinds:
            row, line = np.nonzero(hits)
            yelt_parts.append(pd.DataFrame({
                "year": first + trial[row] + 1, "event": event_id[row],
                "line": pd.Categorical.from_codes(line, categories=line_names),
                "loss": by_line[row, line], "day": np.floor(day[row]).astype(np.int64) + 1,
                "policies_hit": hits[row, line],
                "catastrophe": cat_names[losses.occ_event[occurrence][row]].astype(str)}))

    replayed = replay(folder, scenario, on_chunk)
    written = []
    if "ord" in kinds:
        tables = {
            "ept.csv": ord_tables.ept(parties, replayed.arrays, summary_info),
            "palt.csv": ord_tables.palt(parties, replayed.arrays, summary_info),
            "plt.csv": ord_tables.sorted_plt(plt_parts),
            "summary_info.csv": summary_info,
        }
        written.append(_write_folder(folder / ord_tables.FOLDER, tables))
    if "yelt" in kinds:
        written.append(_write_yelt(folder / YELT_FILE, yelt_parts, n_trials, line_names))
    return written


def _write_folder(target: Path, tables: dict[str, pd.DataFrame]) -> Path:
    """Write ``tables`` as CSV files of a new folder ``target``, replacing an earlier one whole."""
    staging = target.parent / f".{target.name}.tmp-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        for name, table in tables.items():
            table.to_csv(staging / name, index=False)
        if target.exists():
            aside = target.parent / f".{target.name}.old-{secrets.token_hex(4)}"
            os.replace(target, aside)
            os.replace(staging, target)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _write_yelt(target: Path, parts: list[pd.DataFrame], n_trials: int, line_names: list[str]) -> Path:
    """yelt.parquet, with its number of years (the trials) in the file's metadata: a year with no
    occurrence has no row, and a scenario reading it back takes N from there."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if parts:
        frame = pd.concat(parts, ignore_index=True)
    else:
        frame = pd.DataFrame({"year": np.zeros(0, np.int64), "event": np.zeros(0, np.int64),
                              "line": pd.Categorical([], categories=line_names), "loss": np.zeros(0),
                              "day": np.zeros(0, np.int64), "policies_hit": np.zeros(0, np.int64),
                              "catastrophe": np.zeros(0, dtype=object)})
    table = pa.Table.from_pandas(frame[list(YELT_COLUMNS)], preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           YEARS_METADATA_KEY: str(n_trials).encode()})
    partial = target.parent / f".{target.name}.tmp-{secrets.token_hex(4)}"
    try:
        pq.write_table(table, partial)
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()
    return target
