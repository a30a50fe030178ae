"""A comparison folder's names and own files: the record that marks it, its table, each compared
structure's sub-folder and label, and what in it poolsim did not write.

Here, below :mod:`sim.compare` (which runs the scenarios), so that what reads a comparison
folder (:mod:`sim.report`, the ``poolsim plot`` command) need not import what writes one.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, Sequence

from .results_folder import PARTIAL_REPORT, REPORT_FILE, RUN_RECORD, foreign_files, is_plot_file, listed


class Named(Protocol):
    """A compared run (:class:`sim.results.Results`): all a label needs is its scenario's name."""

    name: str


COMPARISON_RECORD = "comparison.json"     # the file that marks a folder as a comparison folder
COMPARISON_TABLE = "comparison.csv"


def foreign_to_comparison(folder: Path) -> list[str]:
    """What a comparison folder holds that poolsim does not write there (see
    :func:`sim.results_folder.foreign_files`): besides its table, record and plots, only
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


def unique_stems(paths: Sequence[str | os.PathLike]) -> list[str]:
    """Sub-folder names: the file stems, numbered when two files share a stem."""
    stems = [Path(path).stem for path in paths]
    return [stem if stems.count(stem) == 1 else f"{stem}-{i + 1}" for i, stem in enumerate(stems)]


def structure_labels(runs: Sequence[Named], stems: Sequence[str]) -> list[str]:
    """What names each structure in the plots and the printed comparison: its scenario's name,
    or its folder's (``stems``) where two scenarios share a name."""
    names = [results.name for results in runs]
    return [name if names.count(name) == 1 else stem for name, stem in zip(names, stems)]
