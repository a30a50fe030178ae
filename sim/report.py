"""``report.html``: one self-contained page that tells a run's or a comparison's story.

A results folder, and a comparison folder, get a ``report.html`` that opens
from an e-mail attachment: images inline (base64 PNG), styles inline, no
script and no network request, and print CSS for A4. ``poolsim report DIR``
writes it again from the folder's saved tables (:func:`write_report`).

How it is built:

* the figures are :mod:`sim.plots`' (the PNGs of ``plots/`` themselves when
  they were just drawn, else drawn again by the same functions) and
  :mod:`sim.structure_figure`'s picture of the structure, read from the
  folder's ``scenario.toml``;
* the page is a Jinja2 template of ``sim/templates/`` (``run.html``,
  ``comparison.html``, both extending ``base.html``), filled with a context
  that :mod:`sim.report_run` and :mod:`sim.report_compare` build from the
  tables; every number is formatted there (:mod:`sim.report_format`), so the
  templates only place text.

By concept:

* :mod:`sim.report_page`      what every page shares: templates, inline images, the structure picture
* :mod:`sim.report_format`    numbers as the pages print them
* :mod:`sim.report_run`       a results folder's page (``run.html``)
* :mod:`sim.report_compare`   a comparison folder's page (``comparison.html``)
* :mod:`sim.report_optimize`  an optimisation folder's page (``optimisation.html``)
* this module                 :func:`write_report`: any of the three folders' pages again
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from . import plots
from .errors import UsageError
from .report_compare import compared_cell, comparison_context, structure_terms, write_comparison_report
from .report_page import REPORT_FILE
from .results_folder import existing_folder
from .report_run import member_verdicts, pool_verdicts, run_context, write_run_report

__all__ = ["REPORT_FILE", "compared_cell", "comparison_context", "member_verdicts", "pool_verdicts", "run_context",
           "structure_terms", "write_comparison_report", "write_report", "write_run_report"]


def write_report(folder: str | os.PathLike) -> list[Path]:
    """Write ``report.html`` of a results or comparison folder again from its saved tables
    (a comparison's runs too); return the pages written. The plots are drawn again, not taken
    from ``plots/``, so the page shows what the tables hold now.

    Raises UsageError when ``folder`` is neither.
    """
    from .compare_files import COMPARISON_RECORD, is_comparison_folder, structure_labels
    from .results import RUN_RECORD, Results

    folder = existing_folder(folder)
    if is_comparison_folder(folder):
        try:
            record = json.loads((folder / COMPARISON_RECORD).read_text(encoding="utf-8"))
            stems = [entry["folder"] for entry in record["scenarios"]]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise UsageError(f"{folder / COMPARISON_RECORD}: is not the record of a comparison ({error}); "
                             f"run poolsim compare again") from None
        runs = [Results.read(folder / stem) for stem in stems]
        with plots.legible_text():
            written = [write_run_report(results, folder / stem) for results, stem in zip(runs, stems)]
        return written + [write_comparison_report(runs, structure_labels(runs, stems), folder, record,
                                                  reuse_plots=False)]
    if (folder / RUN_RECORD).is_file():
        results = Results.read(folder)
        with plots.legible_text():
            return [write_run_report(results, folder)]
    from .optimize_files import OPTIMIZE_RECORD, is_optimisation_folder
    from .report_optimize import write_optimisation_report

    if is_optimisation_folder(folder):
        with plots.legible_text():
            return [write_optimisation_report(folder)]
    raise UsageError(f"{folder}: not a results folder (it has no {RUN_RECORD}, {COMPARISON_RECORD} or "
                     f"{OPTIMIZE_RECORD}); give a folder written by poolsim run, compare or optimize")
