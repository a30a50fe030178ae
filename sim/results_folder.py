"""A results folder on disk: its files' names, whether a folder may be replaced, and the atomic swap.

A run's folder is written into a temporary sibling, ``.<name>.tmp-<pid>-XXXX``
(:func:`staging_folder`), and swapped into place only when complete
(:func:`swap_into_place`): the earlier folder is renamed aside, the new one
renamed in, the old one deleted. A run that is killed outright leaves its
temporary folder behind (nothing can run then); the next run into the same
place removes it (:func:`remove_abandoned_staging`). Used by runs, comparisons
and optimisations alike (their marker file and listing of their own files differ).
"""
from __future__ import annotations

import json
import math
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .errors import UsageError

RUN_RECORD = "run.json"     # the file that marks a folder as a results folder
SCENARIO_FILE = "scenario.toml"
REPORT_FILE = "report.html"
PRICING_FILE = "pricing.csv"     # multi-year runs with [pricing] only (sim.repricing.pricing_table)
FILES = ("summary.csv", "trials.parquet", "line_losses.parquet", "ep.csv", "allocation.csv", "treaties.csv",
         RUN_RECORD, SCENARIO_FILE, REPORT_FILE, PRICING_FILE)
PARTIAL_REPORT = f".{REPORT_FILE}.tmp"     # what a report's writing interrupted leaves (sim.report.write_html)
PLOTS_FOLDER = "plots"
SMALL_TABLES = ("summary", "ep", "allocation", "treaties")
# What `poolsim export` (sim.exports, sim.ord) adds to a results folder.
EXPORT_FILES = ("yelt.parquet",)
EXPORT_FOLDER = "ord"
EXPORT_FOLDER_FILES = ("ept.csv", "palt.csv", "plt.csv", "summary_info.csv")   # Results attributes written as <name>.csv


def existing_folder(folder: str | os.PathLike) -> Path:
    """``folder`` as a Path, a UsageError unless it is an existing folder (to read results from)."""
    folder = Path(folder)
    if not folder.exists():
        raise UsageError(f"{folder}: no such results folder (write one with poolsim run)")
    if not folder.is_dir():
        raise UsageError(f"{folder}: is a file, not a folder; give a folder written by poolsim run or "
                         "poolsim compare")
    return folder


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_replaceable(folder: str | os.PathLike, marker: str = RUN_RECORD,
                      what: str = "results folder", foreign: Callable[[Path], list[str]] | None = None) -> None:
    """Raise UsageError unless a new folder may be swapped in at ``folder``.

    Writing replaces the whole folder, so ``folder`` must not exist yet, or be
    an empty folder, or be a folder poolsim wrote (it holds ``marker``) and
    nothing else: ``foreign(folder)`` (default :func:`foreign_files`, for a
    results folder) lists what poolsim did not write there. A user's own
    folder given to ``--out`` by mistake, or a memo saved into an earlier
    results folder, is refused, not deleted.
    Cheap: the runner calls it before simulating, so a bad ``--out`` costs no
    simulation, and :func:`swap_into_place` calls it again at the last moment.
    """
    folder = Path(folder)
    _check_no_file_on_the_way(folder)
    if _is_current_folder_or_above(folder):
        raise UsageError(f"--out {folder}: is the current folder or one above it, which poolsim cannot "
                         f"replace; choose a sub-folder such as results/<name>")
    if not os.path.lexists(folder):
        return
    if not folder.is_dir():
        raise UsageError(f"--out {folder}: exists and is not a folder; choose another --out")
    if not any(folder.iterdir()):
        return
    if not (folder / marker).is_file():
        raise UsageError(f"--out {folder}: the folder is not empty and has no {marker}, so it is not a poolsim "
                         f"{what}, and writing would delete it; choose a new or empty folder")
    others = (foreign or foreign_files)(folder)
    if others:
        shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        raise UsageError(f"--out {folder}: this earlier poolsim {what} also holds what poolsim did not write "
                         f"({shown}), which writing would delete; move it out, or choose another --out")


def foreign_files(folder: Path) -> list[str]:
    """What a results folder holds that poolsim does not write there: the names, sorted,
    ``name/`` for a folder (:func:`listed`)."""
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name in FILES + (PARTIAL_REPORT,) and entry.is_file():
            continue
        if entry.name in EXPORT_FILES and entry.is_file():     # poolsim export, or run --export (sim.exports)
            continue
        if entry.name == EXPORT_FOLDER and entry.is_dir():
            found += [f"{EXPORT_FOLDER}/{listed(table)}" for table in sorted(entry.iterdir())
                      if table.name not in EXPORT_FOLDER_FILES]
            continue
        if entry.name == PLOTS_FOLDER and entry.is_dir():
            found += [f"{PLOTS_FOLDER}/{listed(plot)}" for plot in sorted(entry.iterdir()) if not is_plot_file(plot)]
            continue
        found.append(listed(entry))
    return found


def is_plot_file(path: Path) -> bool:
    """A PNG poolsim writes, or the temporary file of one that a killed run left (``.<name>.png.tmp``)."""
    return path.is_file() and (path.suffix == ".png" or path.name.endswith(".png.tmp"))


def listed(path: Path) -> str:
    """``path``'s name as a message lists it: ``name/`` for a folder."""
    return path.name + ("/" if path.is_dir() else "")


def _check_no_file_on_the_way(folder: Path) -> None:
    # Creating the folder would fail deep inside the writer with an obscure error.
    for ancestor in folder.absolute().parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                raise UsageError(f"--out {folder}: {ancestor} is a file, not a folder; choose another --out")
            return


def _is_current_folder_or_above(folder: Path) -> bool:
    # The swap renames the old folder aside: the current folder cannot be renamed
    # ("Device or resource busy"), and deleting one above it would delete the user's work.
    try:
        here = Path.cwd().resolve()
    except OSError:         # the current folder was deleted: nothing of it to protect
        return False
    target = folder.resolve()
    return target == here or target in here.parents


def swap_into_place(staging: Path, folder: Path, marker: str = RUN_RECORD, what: str = "results folder",
                    foreign: Callable[[Path], list[str]] | None = None) -> None:
    """Replace ``folder`` by the complete ``staging`` folder, keeping the old one until the end.

    ``folder`` is checked again here (:func:`check_replaceable`): it may have
    changed while the run was simulating.
    """
    check_replaceable(folder, marker, what, foreign)
    if not os.path.lexists(folder):
        os.replace(staging, folder)
        return
    aside = folder.parent / f".{folder.name}.old-{secrets.token_hex(4)}"
    os.replace(folder, aside)
    try:
        os.replace(staging, folder)
    except BaseException:
        os.replace(aside, folder)       # put the earlier complete folder back
        raise
    shutil.rmtree(aside, ignore_errors=True)


def json_safe(value):
    """run_info as JSON: numpy scalars to Python, paths to text, non-finite floats to text."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def staging_folder(folder: Path) -> Path:
    """A new private temporary sibling of ``folder`` to write it into, ``.<name>.tmp-<pid>-XXXX``,
    readable as ordinary results are; abandoned ones of earlier killed runs are removed first."""
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_staging(folder)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-{os.getpid()}-", dir=parent))
    # mkdtemp makes the folder private (0700); results are ordinary files.
    os.chmod(staging, 0o777 & ~current_umask())
    return staging


def remove_abandoned_staging(folder: Path) -> list[Path]:
    """Remove the temporary folders that runs into ``folder`` left when killed outright: those
    whose process (the pid in the name) is no longer running. Returns those removed."""
    removed = []
    prefix = f".{folder.name}.tmp-"
    if not folder.parent.is_dir():
        return removed
    for entry in folder.parent.iterdir():
        if not (entry.name.startswith(prefix) and entry.is_dir()):
            continue
        # ours only: <pid>-<random>; mkdtemp's random part has no "-" (an older version's, a comparison's)
        pid, separator, _ = entry.name[len(prefix):].partition("-")
        if separator and pid.isdigit() and not _process_running(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _process_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:      # another user's process: running
        return True
    return True


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` with dictionary encoding for its name columns only (see
    :func:`sim.table_stream.dictionary_columns`)."""
    names = [column for column in frame.columns if not pd.api.types.is_numeric_dtype(frame[column])]
    frame.to_parquet(path, index=False, use_dictionary=names)


def write_record_and_tables(results, folder: Path) -> None:
    """The small tables (CSV), run.json and scenario.toml of ``results`` (a :class:`sim.results.Results`)."""
    for name in SMALL_TABLES:
        getattr(results, name).to_csv(folder / f"{name}.csv", index=False)
    if results.pricing is not None:
        results.pricing.to_csv(folder / PRICING_FILE, index=False)
    (folder / RUN_RECORD).write_text(json.dumps(json_safe(results.run_info), indent=2) + "\n")
    if results.scenario_text is not None:
        (folder / SCENARIO_FILE).write_text(results.scenario_text, encoding="utf-8")
