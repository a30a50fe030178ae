"""``report.html`` of an optimisation folder: the frontier, and the best structure against the written one.

Built from the folder's saved files alone (``optimize.json``, ``candidates.csv``,
``frontier.png``, ``best.toml``), so ``poolsim report DIR`` writes it again as
``poolsim optimize`` first did. Self-contained like a run's report
(:mod:`sim.report`): the frontier PNG inline, no script, no request.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ScenarioError, UsageError
from .optimize_files import BEST_SCENARIO as BEST, CANDIDATES_FILE as CANDIDATES, FRONTIER_PLOT as FRONTIER
from .optimize_files import OPTIMIZE_RECORD as RECORD
from .report_page import REPORT_FILE, Image, png_uri, render, structure_image, write_html, written_at
from .report_format import format_percent, format_probability

# Columns of candidates.csv that are figures, not searched terms.
FIGURES = ("candidate", "objective", "cost", "members_net_result", "worst_prob_solvency_below_100",
           "worst_solvency_ratio_p01", "feasible", "on_frontier", "phase", "pool_expected_gross_loss")


def write_optimisation_report(folder: str | os.PathLike) -> Path:
    """Write ``folder/report.html`` from the optimisation folder's files; return its path."""
    folder = Path(folder)
    return write_html(render("optimisation.html", optimisation_context(folder)), folder / REPORT_FILE)


def _read(folder: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        table = pd.read_csv(folder / CANDIDATES)
    except (OSError, ValueError) as error:
        raise UsageError(f"{folder}: not a complete optimisation folder ({error}); run poolsim optimize "
                         "again") from None
    return record, table


def _money(value: float) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.0f}"


def _term(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.4g}" if abs(value) < 10 else f"{value:,.0f}"


def _terms(table: pd.DataFrame) -> list[str]:
    """The searched columns: the varied keys (shares as ``share:<member>``) and priced premiums."""
    return [column for column in table.columns
            if column not in FIGURES and not column.startswith(("prob_solvency_below_100:", "solvency_ratio_p01:"))]


def _members(table: pd.DataFrame) -> list[str]:
    prefix = "prob_solvency_below_100:"
    return [column[len(prefix):] for column in table.columns if column.startswith(prefix)]


def optimisation_context(folder: Path) -> dict[str, Any]:
    """Everything ``optimisation.html`` shows, formatted."""
    record, table = _read(folder)
    best, closest = record.get("best"), record.get("closest")
    shown = best if best is not None else closest
    label = "best" if best is not None else "closest"
    terms, members = _terms(table), _members(table)
    rows = [[column, _term(table.loc[0, column]), _term(table.loc[shown, column])] for column in terms]
    rows += [["total cost of reinsurance", _money(table.loc[0, "cost"]), _money(table.loc[shown, "cost"])],
             ["members' expected net result", _money(table.loc[0, "members_net_result"]),
              _money(table.loc[shown, "members_net_result"])]]
    for member in members:
        for column, what, show in (("prob_solvency_below_100", "P(ratio < 100%)", format_probability),
                                   ("solvency_ratio_p01", "solvency ratio, worst 1%", format_percent)):
            name = f"{column}:{member}"
            rows.append([f"{member}: {what}", show(table.loc[0, name]), show(table.loc[shown, name])])
    frontier = table[table["on_frontier"].astype(bool)].sort_values("cost")
    frontier_rows = [[str(int(row["candidate"])), _money(row["cost"]),
                      format_probability(row["worst_prob_solvency_below_100"]),
                      format_percent(row["worst_solvency_ratio_p01"]),
                      "yes" if bool(row["feasible"]) else "no"] + [_term(row[column]) for column in terms]
                     for _, row in frontier.iterrows()]
    n_feasible = int(table["feasible"].astype(bool).sum())
    if best is not None:
        saving = table.loc[0, "cost"] - table.loc[best, "cost"]
        verdict = (f"Of {len(table)} structures on the same {record.get('trials', 0):,} trials, {n_feasible} meet "
                   f"every constraint. The best, candidate {best}, costs {_money(table.loc[best, 'cost'])} a year "
                   f"in reinsurance against {_money(table.loc[0, 'cost'])} as written "
                   f"({'a saving of ' + _money(saving) if saving >= 0 else 'dearer by ' + _money(-saving)}); "
                   f"its worst member is below 100% in "
                   f"{format_probability(table.loc[best, 'worst_prob_solvency_below_100'])} of years, and at "
                   f"{format_percent(table.loc[best, 'worst_solvency_ratio_p01'])} in its worst 1%.")
    else:
        verdict = (f"None of the {len(table)} structures meets every constraint ("
                   f"{', '.join(record.get('binding', [])) or 'see candidates.csv'} binds); the closest is "
                   f"candidate {closest}. No best.toml was written.")
    images = []
    if (folder / FRONTIER).is_file():
        images.append(Image(png_uri((folder / FRONTIER).read_bytes()),
                            "Total cost of reinsurance against the worst member's risk, every candidate"))
    pictures = []
    written = _scenario(record.get("scenario_file"))
    for caption, scenario in (("As written", written), ("Best", _scenario(folder / BEST) if best is not None else None)):
        picture = structure_image(scenario) if scenario is not None else None
        if picture is not None:
            pictures.append((caption, picture))
    best_text = (folder / BEST).read_text(encoding="utf-8") if (folder / BEST).is_file() else None
    return {
        "title": f"{record.get('scenario', folder.name)}: the structure search",
        "written": written_at(),
        "currency": written.currency if written is not None else "the scenario's currency",
        "verdict": verdict, "found": best is not None,
        "comparison": {"header": ["", "as written (candidate 0)", f"{label} (candidate {shown})"], "rows": rows},
        "frontier": {"header": ["Candidate", "Cost of reinsurance", "Worst P(ratio < 100%)",
                                "Worst solvency ratio, worst 1%", "Feasible"] + terms, "rows": frontier_rows},
        "images": images, "pictures": pictures, "best_text": best_text,
        "record": [(key, json.dumps(value) if isinstance(value, (list, dict)) else str(value))
                   for key, value in record.items()],
    }


def _scenario(path) -> "Any":
    """The scenario at ``path`` (for its structure picture), or None when it cannot be read now."""
    if not path:
        return None
    from .scenario import load

    try:
        return load(path)
    except (ScenarioError, OSError):
        return None
