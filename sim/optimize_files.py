"""An optimisation folder's file names, and the record that marks it.

Here, below :mod:`sim.optimize_output` (which writes the folder) and
:mod:`sim.report_optimize` (which reads it for the report), so that neither imports the other
for them.
"""
from __future__ import annotations

import os
from pathlib import Path

OPTIMIZE_RECORD = "optimize.json"      # marks a folder as an optimisation folder
CANDIDATES_FILE = "candidates.csv"
FRONTIER_PLOT = "frontier.png"
BEST_SCENARIO = "best.toml"


def is_optimisation_folder(folder: str | os.PathLike) -> bool:
    return (Path(folder) / OPTIMIZE_RECORD).is_file()
