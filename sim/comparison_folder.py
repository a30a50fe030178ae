"""A comparison folder's own files, and how it names its structures (for sim.compare and sim.report).

Kept apart from :mod:`sim.compare`, which runs the scenarios, so that the report
can tell a comparison folder without importing the runs.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from .results import Results
from .results_folder import PARTIAL_REPORT, REPORT_FILE, RUN_RECORD, foreign_files, is_plot_file, listed

COMPARISON_RECORD = "comparison.json"     # the file that marks a folder as a comparison folder
COMPARISON_TABLE = "comparison.csv"


def foreign_to_comparison(folder: Path) -> list[str]:
    """What a comparison folder holds that poolsim does not write there (see
    :func:`sim.results.foreign_files`): besides its table, record and plots, only
    results folders, with nothing foreign in them."""
    found = []
    for entry in sorted(folder.iterdir()):
        if is_plot_file(entry) or (entry.is_file() and entry.name in (COMPARISON_TABLE, COMPARISON_RECORD,
                                                                        REPORT_FILE, PARTIAL_REPORT)):
            continue
        if entry.is_dir() and (entry / RUN_RECORD).is_file():
            found += [f"{entry.name}/{name}" for name in foreign_files(entry)]
            continue
        found.append(listed(entry))
    return found


def is_comparison_folder(folder: str | os.PathLike) -> bool:
    return (Path(folder) / COMPARISON_RECORD).is_file()


def structure_labels(runs: Sequence[Results], stems: Sequence[str]) -> list[str]:
    """What names each structure in the plots and the printed comparison: its scenario's name,
    or its folder's (``stems``) where two scenarios share a name."""
    names = [results.name for results in runs]
    return [name if names.count(name) == 1 else stem for name, stem in zip(names, stems)]
