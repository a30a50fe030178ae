"""Writing a run's results folder: its tables, record, plots and report, swapped in atomically.

This is the layer above :mod:`sim.results` (the tables), :mod:`sim.plots` and
:mod:`sim.report`: it draws the plots and writes the report of a run, so that
the results never draw. The folder is written into a temporary sibling and
swapped into place only when complete (:mod:`sim.results_folder`): on any
exception, KeyboardInterrupt included, the temporary folder is removed and an
earlier complete folder is left as it was.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

from . import plots as plotting
from . import report
from .results import Results
from .results_folder import (PLOTS_FOLDER, check_replaceable, staging_folder, swap_into_place, write_parquet,
                             write_record_and_tables)
from .table_stream import TABLE_FILES


NO_REPORT_NOTE = ("note: trials.parquet was not written (--tables), so neither the plots nor report.html, "
                  "which draw the trials' distributions, were made")


@contextlib.contextmanager
def staged(folder: Path) -> Iterator[Path]:
    """A new temporary sibling of ``folder`` to write into (:func:`sim.results_folder.staging_folder`);
    removed if the block raises. The block swaps it into place itself (:func:`swap_into_place`)."""
    staging = staging_folder(folder)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def draws_plots(results: Results, plots: bool) -> bool:
    """Whether the folder gets plots: asked for, and the trials table (which they draw) written."""
    return plots and results.has_table("trials")


def legible_if(plots: bool):
    """:func:`sim.plots.legible_text` when plots are drawn: hold it around the whole writing of a
    folder, threads included (its warning capture is process-wide)."""
    return plotting.legible_text() if plots else contextlib.nullcontext()


def finish_run_folder(results: Results, staging: Path, plots: bool = True) -> None:
    """Everything of a results folder but its per-trial tables: the CSV tables, run.json,
    scenario.toml, the plots (``plots``: see :func:`draws_plots`) and report.html, into
    ``staging``. Call it within :func:`legible_if` of the same ``plots``.

    The report draws the distributions of the trials: without trials.parquet (``--tables``)
    it is not written, and run.json's notes say so.
    """
    if not results.has_table("trials"):
        results.run_info.setdefault("notes", []).append(NO_REPORT_NOTE)
    write_record_and_tables(results, staging)
    if plots:
        plotting.draw_plots(results, staging / PLOTS_FOLDER)
    if results.has_table("trials"):
        # the plots just drawn go into the report as they are
        report.write_run_report(results, staging, plots_folder=staging / PLOTS_FOLDER if plots else None)


def write_run_folder(results: Results, folder: str | os.PathLike, plots: bool = True) -> Path:
    """Write the results folder of ``results``, whose tables are in memory, atomically; return its path.

    Raises UsageError, before writing anything, when ``folder`` is something else than a
    results folder or an empty folder (:func:`sim.results_folder.check_replaceable`).
    """
    folder = Path(folder)
    check_replaceable(folder)
    plots = draws_plots(results, plots)
    with staged(folder) as staging, legible_if(plots):
        # trials.parquet on a second thread, while the rest is written and the plots drawn: Arrow
        # encodes it with the GIL released. On an error, leaving the block waits for it first.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="poolsim-write") as writer:
            trials_written = None
            if results.has_table("trials"):
                trials_written = writer.submit(write_parquet, results.trials, staging / TABLE_FILES["trials"])
            if results.has_table("line_losses"):
                write_parquet(results.line_losses, staging / TABLE_FILES["line_losses"])
            finish_run_folder(results, staging, plots)
            if trials_written is not None:
                trials_written.result()
        swap_into_place(staging, folder)
    results.folder = folder
    return folder
