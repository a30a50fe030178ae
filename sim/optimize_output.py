"""What ``poolsim optimize`` found (:class:`Optimisation`), and what it writes and prints: its folder, the
frontier plot, ``best.toml`` and the report.

The folder (``results/<stem>-optimize/`` by default) is written atomically,
like a results folder, and holds ``optimize.json`` (the search's record, which
marks the folder as poolsim's), ``candidates.csv``, ``frontier.png`` and, when
some candidate is feasible, ``best.toml``.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .optimize_files import BEST_SCENARIO, CANDIDATES_FILE, FRONTIER_PLOT, OPTIMIZE_RECORD
from .optimize_space import SHARE_COLUMN_PREFIX, setting_columns
from .results import (REPORT_FILE, _json_safe, check_replaceable, current_umask, is_plot_file, listed,
                      swap_into_place)

if TYPE_CHECKING:
    from .model import Scenario
    from .optimize_evaluate import Evaluation

FILES = (OPTIMIZE_RECORD, CANDIDATES_FILE, FRONTIER_PLOT, BEST_SCENARIO, REPORT_FILE)
WHAT = "optimisation folder"


@dataclasses.dataclass
class Optimisation:
    """What :func:`sim.optimize_search.optimize` found."""

    scenario: "Scenario"
    table: pd.DataFrame                   # candidates.csv
    evaluations: list["Evaluation"]       # row by row
    best: int | None                      # row of the best feasible candidate; None when none is feasible
    closest: int | None                   # when none is feasible: the row closest to feasible
    binding: list[str]                    # ... and the constraints it breaks
    run_info: dict
    source: Path
    folder: Path | None = None


def default_folder(scenario: str | os.PathLike) -> Path:
    """``results/<scenario file stem>-optimize/``"""
    return Path("results") / f"{Path(scenario).stem}-optimize"


def foreign_to_optimisation(folder: Path) -> list[str]:
    """What an optimisation folder holds that poolsim did not write there."""
    return [listed(entry) for entry in sorted(folder.iterdir())
            if not (entry.is_file() and (entry.name in FILES or is_plot_file(entry)))]


def check_folder(folder: str | os.PathLike) -> None:
    """UsageError unless ``folder`` is new, empty or an earlier optimisation folder."""
    check_replaceable(folder, OPTIMIZE_RECORD, WHAT, foreign_to_optimisation)


def write_folder(found: "Optimisation", folder: Path, plots: bool = True) -> Path:
    """Write the folder through a staging folder beside it, then swap it into place."""
    check_folder(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        os.chmod(staging, 0o777 & ~current_umask())
        found.table.to_csv(staging / CANDIDATES_FILE, index=False)
        if found.best is not None:
            (staging / BEST_SCENARIO).write_text(best_toml(found, folder), encoding="utf-8")
        if plots:
            from . import plots as plotting

            with plotting.legible_text():
                plotting.save_atomically(plot_frontier(found), staging / FRONTIER_PLOT)
        (staging / OPTIMIZE_RECORD).write_text(json.dumps(_json_safe(found.run_info), indent=2) + "\n")
        if plots:
            from .report_optimize import write_optimisation_report

            with plotting.legible_text():
                write_optimisation_report(staging)
        swap_into_place(staging, folder, OPTIMIZE_RECORD, WHAT, foreign_to_optimisation)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


# ---------------------------------------------------------------- best.toml
def best_toml(found: "Optimisation", folder: Path) -> str:
    """The best structure as a scenario file in ``folder``: ``base =`` the searched file (relative to
    ``folder``) and its whole ``[pool]`` table with only the varied keys (and priced premiums) changed.

    ``[pool]`` is restated whole because a table given in a file replaces its base's whole.
    """
    import tomli_w

    evaluation = found.evaluations[found.best]
    base = os.path.relpath(found.source.resolve(), folder.resolve())
    info = found.run_info
    header = (f"# The best structure poolsim optimize found for {found.source.name} (candidate {found.best} of "
              f"{info['candidates']}).\n"
              f"# Only the varied keys (and the premiums pricing set) differ from the base's [pool].\n"
              f"# Its figures again: poolsim run best.toml --trials {info['trials']} --seed {info['seed']}\n"
              f"# (the base's [optimize] table is inherited, and ignored by poolsim run)\n")
    return header + tomli_w.dumps({"base": base.replace(os.sep, "/"), "pool": _whole_numbers(evaluation.pool_table)})


def _whole_numbers(value):
    """``value`` with whole floats written as integers (8000000000 rather than 8000000000.0): the
    scenario reads either as the same number."""
    if isinstance(value, dict):
        return {key: _whole_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(item) for item in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


# ---------------------------------------------------------------- frontier.png
def plot_frontier(found: "Optimisation"):
    """Cost of reinsurance against the worst member's P(ratio < 100%), every candidate; beside it,
    against the worst member's 1% ratio quantile (which binds when no structure comes near 100%)."""
    from . import plots

    table, optimize = found.table, found.scenario.optimize
    figure = plots._new_figure(13.0, 5.8)
    left, right = figure.subplots(1, 2, sharey=True)
    scale, unit = plots.money_scale(float(np.nanmax(np.abs(table["cost"]))) or 1.0)
    cost = table["cost"] / scale
    feasible = table["feasible"].to_numpy(dtype=bool)
    best = found.best
    for axes, column, factor in ((left, "worst_prob_solvency_below_100", 100.0),
                                 (right, "worst_solvency_ratio_p01", 100.0)):
        x = table[column] * factor
        axes.scatter(x[~feasible], cost[~feasible], s=22, marker="x", color="0.55", label="infeasible")
        axes.scatter(x[feasible], cost[feasible], s=22, color="tab:blue", alpha=0.8, label="feasible")
        axes.scatter(x.iloc[0], cost.iloc[0], s=110, marker="D", facecolor="none", edgecolor="black",
                     linewidth=1.5, label="as written", zorder=5)
        if best is not None:
            axes.scatter(x.iloc[best], cost.iloc[best], s=260, marker="*", color="tab:red", edgecolor="black",
                         linewidth=0.6, label="best", zorder=6)
        axes.grid(True, alpha=0.3)
    frontier = table[table["on_frontier"]].sort_values(["worst_prob_solvency_below_100", "cost"])
    left.step(frontier["worst_prob_solvency_below_100"] * 100.0, frontier["cost"] / scale, where="post",
              color="tab:orange", linewidth=1.5, marker="o", markersize=4, zorder=4,
              label="frontier: nothing both cheaper and safer")
    if optimize.max_prob_solvency_below_100 is not None:
        left.axvline(optimize.max_prob_solvency_below_100 * 100.0, color="tab:red", linestyle="--", linewidth=1,
                     label=f"max_prob_solvency_below_100 = {optimize.max_prob_solvency_below_100:g}")
    if optimize.min_solvency_ratio_p01 is not None:
        right.axvline(optimize.min_solvency_ratio_p01 * 100.0, color="tab:red", linestyle="--", linewidth=1,
                      label=f"min_solvency_ratio_p01 = {optimize.min_solvency_ratio_p01:g}")
    left.set_xlabel("worst member's P(solvency ratio < 100%), %")
    right.set_xlabel("worst member's 1% quantile of the solvency ratio, % (right is safer)")
    left.set_ylabel(plots.money_label(found.scenario.currency, unit) + ": total cost of reinsurance")
    left.legend(fontsize=8, loc="best")
    right.legend(fontsize=8, loc="best")
    keys = ", ".join(vary.key for vary in optimize.vary)
    figure.suptitle(f"{found.scenario.name}: {len(table)} structures on the same {found.run_info['trials']:,} "
                    f"trials, varying {keys}", fontsize=10)
    return figure


# ---------------------------------------------------------------- the printed report
def report(found: "Optimisation") -> str:
    """The best structure against the one written in the file, or why none is feasible."""
    optimize, table = found.scenario.optimize, found.table
    info = found.run_info
    lines = [f"{len(table)} candidates on the same {info['trials']:,} trials (seed {info['seed']}); "
             f"objective: {'lowest total cost of reinsurance' if optimize.objective == 'cost' else 'highest members net result'}"
             f"; {int(table['feasible'].sum())} feasible, {int(table['on_frontier'].sum())} on the frontier"]
    shown = found.best if found.best is not None else found.closest
    if found.best is None:
        lines.append("no candidate is feasible: " + "; ".join(_constraint_text(found, name) for name in found.binding)
                     + f". The closest is candidate {found.closest}; no best.toml written.")
    label = "best" if found.best is not None else "closest"
    rows = []
    columns = setting_columns(optimize, found.scenario.pool)
    for column in columns:
        rows.append((column, _setting(column, table.loc[0, column]), _setting(column, table.loc[shown, column])))
    for key in found.evaluations[shown].premiums:
        written = "as written" if key not in found.evaluations[0].premiums else ""
        rows.append((f"{key} (priced)", written, _setting(key, found.evaluations[shown].premiums[key])))
    rows.append(("total cost of reinsurance", f"{table.loc[0, 'cost']:,.0f}", f"{table.loc[shown, 'cost']:,.0f}"))
    rows.append(("members' expected net result", f"{table.loc[0, 'members_net_result']:,.0f}",
                 f"{table.loc[shown, 'members_net_result']:,.0f}"))
    for member in found.scenario.pool.members:
        for column, pattern, what in (("prob_solvency_below_100", "{:.2%}", "P(ratio < 100%)"),
                                      ("solvency_ratio_p01", "{:.1%}", "ratio, 1% quantile")):
            name = f"{column}:{member.name}"
            rows.append((f"{member.name}: {what}", _percent(table.loc[0, name], pattern),
                         _percent(table.loc[shown, name], pattern)))
    text = pd.DataFrame(rows, columns=["", "as written (candidate 0)", f"{label} (candidate {shown})"])
    lines.append(text.to_string(index=False))
    return "\n".join(lines)


def _constraint_text(found: "Optimisation", name: str) -> str:
    optimize, row = found.scenario.optimize, found.table.loc[found.closest]
    if name == "max_prob_solvency_below_100":
        return (f"max_prob_solvency_below_100 = {optimize.max_prob_solvency_below_100:g} binds (the closest "
                f"candidate's worst member is below 100% in {row['worst_prob_solvency_below_100']:.2%} of trials)")
    return (f"min_solvency_ratio_p01 = {optimize.min_solvency_ratio_p01:g} binds (the closest candidate's worst "
            f"1% ratio quantile is {row['worst_solvency_ratio_p01']:.1%})")


def _setting(column: str, value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if column.startswith(SHARE_COLUMN_PREFIX) or abs(value) < 10:
        return f"{value:.4g}"
    return f"{value:,.0f}"


def _percent(value: float, pattern: str) -> str:
    return "" if value != value else pattern.format(value)
