"""Compare pool and reinsurance structures: run each scenario on the same seed, side by side.

Scenarios with the same loss sections (lines, dependence, catastrophes,
simulation) see identical gross losses on the same seed (common random
numbers), so differences in net results come from the structures alone.
:func:`compare` checks that by comparing the pool's gross loss in every trial
and says so.

The comparison folder (``results/compare-<stems>/`` by default) holds:

* ``<stem>/``           each scenario's full results folder
* ``comparison.csv``    one row per scenario and party: scenario, scenario_file,
                        gross_losses_identical_to_first, party, kind, role and the
                        summary metrics
* ``comparison.json``   seed, trials, the scenarios and which share the first's gross losses
* ``compare_solvency.png``, ``compare_net_ep.png`` (and ``compare_pricing.png`` when a run reprices)
* ``report.html``       the structures side by side on one page (:mod:`sim.report`)

It is written atomically, like a results folder; an existing folder is
replaced only when it is an earlier comparison folder or empty.
:func:`redraw_plots` draws its plots again from the saved tables.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from . import plots
from .compare_files import (COMPARISON_RECORD, COMPARISON_TABLE, foreign_to_comparison, structure_labels,
                            unique_stems)
from .report_compare import write_comparison_report
from .results import PLOTS_FOLDER, Results, check_replaceable, current_umask, swap_into_place

RESULTS_ROOT = Path("results")


@dataclass
class Comparison:
    """What :func:`compare` produced."""

    folder: Path
    table: pd.DataFrame                    # comparison.csv
    runs: list[Results]
    gross_losses_identical: list[bool]     # per scenario: same pool gross loss as the first in every trial


def default_folder(paths: Sequence[str | os.PathLike]) -> Path:
    """``results/compare-<stem1>-<stem2>...``"""
    return RESULTS_ROOT / ("compare-" + "-".join(Path(path).stem for path in paths))


def output_folder(paths: Sequence[str | os.PathLike], out: str | os.PathLike | None = None) -> Path:
    """The comparison folder, ``out`` or the default; raise UsageError when it may not be replaced."""
    folder = Path(out) if out is not None else default_folder(paths)
    check_replaceable(folder, COMPARISON_RECORD, "comparison folder", foreign_to_comparison)
    return folder




def pool_gross_loss(results: Results) -> np.ndarray:
    """The pool's gross loss ordered by (trial, year), ``(n_trials * n_years,)``."""
    return results.party_by_year("gross_loss", results.names_of("pool")[0]).ravel()


def same_gross_losses(first: Results, other: Results) -> bool:
    """True when both runs have the same pool gross loss in every trial and year (exactly)."""
    a, b = pool_gross_loss(first), pool_gross_loss(other)
    return a.shape == b.shape and bool(np.array_equal(a, b))


def comparison_table(runs: Sequence[Results], files: Sequence[str], identical: Sequence[bool]) -> pd.DataFrame:
    """comparison.csv: the summaries stacked, one row per scenario and party."""
    frames = []
    for results, file, same in zip(runs, files, identical):
        frame = results.summary.copy()
        frame.insert(0, "gross_losses_identical_to_first", same)
        frame.insert(0, "scenario_file", file)
        frame.insert(0, "scenario", results.name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def compare(paths: Sequence[str | os.PathLike], out: str | os.PathLike | None = None, trials: int | None = None,
            seed: int | None = None, threads: int | None = None, progress: bool = True) -> Comparison:
    """Run each scenario on the same seed and write the comparison folder.

    Parameters
    ----------
    paths : scenario files, at least one
    out : the comparison folder; default ``results/compare-<stems joined by ->``
    trials : trials of every run (default: each scenario's own)
    seed : seed of every run (default: the first scenario's)
    threads : passed to :func:`sim.runner.run`
    progress : show the runner's progress
    """
    from . import runner      # imported late: the runner imports results, which this module also uses

    paths = [Path(path) for path in paths]
    if not paths:
        raise ValueError("compare needs at least one scenario file")
    folder = output_folder(paths, out)      # checked before minutes of simulation
    stems = unique_stems(paths)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        os.chmod(staging, 0o777 & ~current_umask())
        runs: list[Results] = []
        for path, stem in zip(paths, stems):
            results = runner.run(path, trials=trials, seed=seed, out=staging / stem, threads=threads,
                                 plots=True, progress=progress)
            if seed is None:
                seed = int(results.run_info["seed"])     # the first scenario's seed, for all
            runs.append(results)
        identical = [same_gross_losses(runs[0], results) for results in runs]
        for path, results, same in zip(paths[1:], runs[1:], identical[1:]):
            if same:
                print(f"{path}: same gross losses as {paths[0]} in every trial (shared loss sections); "
                      f"differences come from the structure alone")
            else:
                print(f"{path}: gross losses differ from {paths[0]} (different loss sections or trials)")
        table = comparison_table(runs, [str(path) for path in paths], identical)
        table.to_csv(staging / COMPARISON_TABLE, index=False)
        record = {
            "seed": seed,
            "trials": [int(results.run_info.get("trials", 0)) for results in runs],
            "scenarios": [{"file": str(path), "folder": stem, "scenario": results.name,
                           "gross_losses_identical_to_first": same}
                          for path, stem, results, same in zip(paths, stems, runs, identical)],
        }
        (staging / COMPARISON_RECORD).write_text(json.dumps(record, indent=2) + "\n")
        write_comparison_plots(runs, stems, staging)
        write_comparison_report(runs, structure_labels(runs, stems), staging, record)
        swap_into_place(staging, folder, COMPARISON_RECORD, "comparison folder", foreign_to_comparison)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for results, stem in zip(runs, stems):
        results.folder = folder / stem
    return Comparison(folder, table, runs, identical)


def write_comparison_plots(runs: Sequence[Results], stems: Sequence[str], folder: Path) -> list[Path]:
    """compare_solvency.png and compare_net_ep.png in ``folder``, and compare_pricing.png when
    some run reprices (``[pricing]``)."""
    labels = structure_labels(runs, stems)
    with plots.legible_text():
        written = [plots.save_atomically(plots.plot_compare_solvency(runs, labels), folder / "compare_solvency.png"),
                   plots.save_atomically(plots.plot_compare_net_ep(runs, labels), folder / "compare_net_ep.png")]
        if any(results.pricing is not None for results in runs):
            written.append(plots.save_atomically(plots.plot_compare_pricing(runs, labels),
                                                 folder / plots.COMPARE_PRICING_PLOT))
    return written


def redraw_plots(folder: str | os.PathLike) -> list[Path]:
    """Draw every plot of a comparison folder again from its saved tables: each run's, then the comparison's."""
    folder = Path(folder)
    record = json.loads((folder / COMPARISON_RECORD).read_text())
    stems = [entry["folder"] for entry in record["scenarios"]]
    runs = [Results.read(folder / stem) for stem in stems]
    written = []
    for results, stem in zip(runs, stems):
        written += plots.write_plots(results, folder / stem / PLOTS_FOLDER)
    return written + write_comparison_plots(runs, stems, folder)
