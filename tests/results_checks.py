"""The project's own checks of a results folder, for the tests that write one.

What every results folder must hold whatever the scenario (docs/results.md):
the files and their columns, money conserved in every trial and year, the
lines' losses adding up to the pool's, summary means equal to the trials'
means, EP curves that never fall as the return period grows, and a tail in
order (VaR <= expected shortfall <= the largest loss). Read back with plain
pandas, independently of ``sim.results``.

``problems(folder)`` lists what is wrong (empty when all is well);
``assert_valid(folder)`` fails a test with that list; ``undocumented(folder)``
lists the columns docs/results.md does not name.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

FILES = ("summary.csv", "trials.parquet", "line_losses.parquet", "ep.csv", "allocation.csv", "run.json")
SUMMARY_COLUMNS = (
    "party", "kind", "role", "share", "gross_premium", "net_premium", "expected_gross_loss",
    "expected_net_loss", "gross_loss_ratio", "net_loss_ratio", "combined_ratio", "var_995_net_loss",
    "tvar_995_net_loss", "capital_start", "mean_capital_end", "mean_solvency_ratio", "solvency_ratio_p01",
    "prob_solvency_below_100", "prob_ruin", "expected_recovery", "expected_default_loss",
)
TRIAL_COLUMNS = (
    "trial", "year", "party", "share", "gross_loss", "ceded_loss", "default_loss", "net_loss", "gross_premium",
    "ceded_premium", "reinstatement_premium", "commission", "capital_end", "solvency_ratio",
)
LINE_COLUMNS = ("trial", "year", "line", "claims", "gross_loss", "capped_loss")
EP_COLUMNS = ("party", "basis", "metric", "return_period", "loss")
ALLOCATION_COLUMNS = ("basis", "component_kind", "component", "contribution", "share_of_tvar")
RETURN_PERIODS = {2, 5, 10, 20, 50, 100, 200, 250, 500, 1000}
RUN_KEYS = ("scenario", "sha256", "seed", "trials", "years", "version", "wall_seconds", "threads")
PLOTS = ("solvency.png", "loss_ratio.png", "ep_curve.png")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RESULTS_DOC = Path(__file__).parent.parent / "docs" / "results.md"
RELATIVE_TOLERANCE = 1e-9     # sums of the same amounts in another order


def problems(folder: str | Path, plots: bool = True) -> list[str]:
    """Everything wrong with the results folder ``folder``; ``plots``: it must hold the plots."""
    folder = Path(folder)
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        return [f"missing {name}" for name in missing]
    summary = pd.read_csv(folder / "summary.csv", keep_default_na=False, na_values=[""])
    trials = pd.read_parquet(folder / "trials.parquet")
    lines = pd.read_parquet(folder / "line_losses.parquet")
    ep = pd.read_csv(folder / "ep.csv", keep_default_na=False, na_values=[""])
    allocation = pd.read_csv(folder / "allocation.csv", keep_default_na=False, na_values=[""])
    found = []
    for name, table, columns in (("summary.csv", summary, SUMMARY_COLUMNS), ("trials.parquet", trials, TRIAL_COLUMNS),
                                 ("line_losses.parquet", lines, LINE_COLUMNS), ("ep.csv", ep, EP_COLUMNS),
                                 ("allocation.csv", allocation, ALLOCATION_COLUMNS)):
        lacking = [column for column in columns if column not in table.columns]
        if lacking:
            found.append(f"{name} lacks the columns {lacking}")
    if found:
        return found
    trials["party"] = trials["party"].astype(str)
    kinds = dict(zip(summary["party"].astype(str), summary["kind"]))
    if kinds.get("pool") != "pool":
        found.append("summary.csv has no row with party 'pool' of kind 'pool'")
    found += _conservation(trials, lines, kinds)
    found += _summary_means(summary, trials)
    found += _tails(summary, trials)
    found += _ep_curves(ep)
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    found += [f"run.json lacks {key}" for key in RUN_KEYS if key not in run]
    if plots:
        for name in PLOTS:
            path = folder / "plots" / name
            if not path.is_file() or path.read_bytes()[:8] != PNG_SIGNATURE:
                found.append(f"plots/{name} is missing or not a PNG")
    return found


def assert_valid(folder: str | Path, plots: bool = True) -> None:
    found = problems(folder, plots)
    assert not found, f"{folder}: " + "; ".join(found)


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) <= RELATIVE_TOLERANCE * np.maximum(np.maximum(np.abs(a), np.abs(b)), 1.0)


def _conservation(trials: pd.DataFrame, lines: pd.DataFrame, kinds: dict[str, str]) -> list[str]:
    """Pool gross loss = members' net loss + reinsurers' net loss (what they paid), in every
    trial and year; and the lines' gross losses sum to the pool's."""
    keys = ["trial", "year"]
    kind = trials["party"].map(kinds)
    pool = trials[kind == "pool"].set_index(keys)["gross_loss"].sort_index()
    members = trials[kind == "member"].groupby(keys)["net_loss"].sum().reindex(pool.index, fill_value=0.0)
    reinsurers = trials[kind == "reinsurer"].groupby(keys)["net_loss"].sum().reindex(pool.index, fill_value=0.0)
    found = []
    held = (members + reinsurers).to_numpy()
    broken = ~_close(pool.to_numpy(), held)
    if broken.any():
        worst = np.max(np.abs(pool.to_numpy() - held))
        found.append(f"money is not conserved in {int(broken.sum())} of {len(pool)} trial-years (pool gross loss "
                     f"!= members' net loss + reinsurers' paid; worst difference {worst:.6g})")
    by_line = lines.groupby(keys)["gross_loss"].sum().reindex(pool.index, fill_value=0.0).to_numpy()
    if not _close(pool.to_numpy(), by_line).all():
        found.append("line_losses.parquet's gross_loss does not sum to the pool's gross_loss")
    return found


def _whole_run_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per party: a multi-year summary's whole-horizon rows (year empty)."""
    return summary[summary["year"].isna()] if "year" in summary.columns else summary


def _summary_means(summary: pd.DataFrame, trials: pd.DataFrame) -> list[str]:
    """expected_gross_loss and expected_net_loss are the means over the party's trial rows
    (over path-years in a multi-year run)."""
    found = []
    for _, row in _whole_run_rows(summary).iterrows():
        rows = trials[trials["party"] == str(row["party"])]
        for column, source in (("expected_gross_loss", "gross_loss"), ("expected_net_loss", "net_loss")):
            mean = rows[source].mean()
            if not _close(np.array([row[column]]), np.array([mean]))[0]:
                found.append(f"summary.csv {column} of {row['party']} ({row[column]:.6g}) is not the mean of "
                             f"its trials ({mean:.6g})")
    return found


def _tails(summary: pd.DataFrame, trials: pd.DataFrame) -> list[str]:
    """VaR <= expected shortfall <= the largest net loss, for every party; and in a one-year run
    the VaR is the 99.5% empirical quantile of the trials' net loss and the expected shortfall the
    mean of its worst 0.5%."""
    found = []
    one_year = int(trials["year"].max()) == 1
    for _, row in _whole_run_rows(summary).iterrows():
        losses = np.sort(trials.loc[trials["party"] == str(row["party"]), "net_loss"].to_numpy())
        var, shortfall = row["var_995_net_loss"], row["tvar_995_net_loss"]
        slack = RELATIVE_TOLERANCE * max(abs(losses[-1]), 1.0)
        if not var <= shortfall + slack:
            found.append(f"{row['party']}: tvar_995_net_loss {shortfall:.6g} is below var_995_net_loss {var:.6g}")
        if not shortfall <= losses[-1] + slack:
            found.append(f"{row['party']}: tvar_995_net_loss {shortfall:.6g} exceeds the largest net loss "
                         f"{losses[-1]:.6g}")
        # the smallest loss with at least 99.5% of the trials at or below it
        rank = int(np.ceil(0.995 * len(losses))) - 1
        if one_year and not _close(np.array([var]), losses[rank:rank + 1])[0]:
            found.append(f"{row['party']}: var_995_net_loss {var:.6g} is not the 99.5% quantile of its trials "
                         f"({losses[rank]:.6g})")
        # the expected shortfall, straight from its definition: the mean of the k = 0.005 n largest,
        # the next one weighted k - floor(k)
        largest_first = losses[::-1]
        k = 0.005 * len(losses)
        whole = int(np.floor(k + 1e-9))
        tail = largest_first[:whole].sum() + ((k - whole) * largest_first[whole] if whole < len(losses) else 0.0)
        if one_year and not _close(np.array([shortfall]), np.array([tail / k]))[0]:
            found.append(f"{row['party']}: tvar_995_net_loss {shortfall:.6g} is not the expected shortfall of its "
                         f"trials ({tail / k:.6g})")
    return found


def _ep_curves(ep: pd.DataFrame) -> list[str]:
    found = []
    periods = set(np.round(ep["return_period"]).astype(int))
    if not RETURN_PERIODS <= periods:
        found.append(f"ep.csv lacks the return periods {sorted(RETURN_PERIODS - periods)}")
    for key, curve in ep.groupby(["party", "basis", "metric"]):
        losses = curve.sort_values("return_period")["loss"].to_numpy()
        if (np.diff(losses) < -RELATIVE_TOLERANCE * np.maximum(np.abs(losses[1:]), 1.0)).any():
            found.append(f"ep.csv: the loss falls as the return period grows for {key}")
    return found


def undocumented(folder: str | Path) -> list[str]:
    """``file: column`` for every column of the folder's tables, and key of its run.json, that
    docs/results.md does not name (in backquotes)."""
    folder = Path(folder)
    named = set(re.findall(r"`([^`\s]+)`", RESULTS_DOC.read_text(encoding="utf-8")))
    found = []
    optional = tuple(name for name in ("pricing.csv",) if (folder / name).exists())    # [pricing] runs only
    for name in ("summary.csv", "ep.csv", "allocation.csv", "treaties.csv") + optional:
        columns = pd.read_csv(folder / name, nrows=0).columns
        found += [f"{name}: {column}" for column in columns if column not in named]
    for name in ("trials.parquet", "line_losses.parquet"):
        columns = pd.read_parquet(folder / name).columns
        found += [f"{name}: {column}" for column in columns if column not in named]
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    found += [f"run.json: {key}" for key in run if key not in named]
    return found
