"""The tables of a run from its arrays: summary.csv, ep.csv, allocation.csv, treaties.csv and run.json.

One-year runs: :func:`one_year_results` works from what the runner kept of the
chunks (:class:`sim.kept_columns.KeptColumns`), the per-trial tables having been
streamed to the folder (:mod:`sim.table_stream`). :func:`build_results` does the
same from a whole run's arrays in memory, with the per-trial tables in memory
too. Multi-year runs (:func:`build_multi_year_results`) keep every path-year in
memory and build every table from it.
"""
from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import costs, metrics, solvency, subsidy
from .event_tables import event_table_record
from .kept_columns import SOLVENCY_COLUMNS, KeptColumns
from .model import Scenario
from .parties import TREATY_COLUMNS, Parties
from .party_arrays import PartyArrays
from .pool import treaty_labels
from .results import Results, package_version
from .scenario_text import text_as_run
from .table_stream import TRIAL_COLUMNS, line_rows, trial_rows


# The most threads a one-year run's tables are worked out on (one_year_results).
MOST_TABLE_THREADS = 4


def run_record(scenario: Scenario, run_info: dict[str, Any]) -> dict[str, Any]:
    """run.json content: the runner's ``run_info`` with the contract's keys filled in.

    Keys: scenario (the scenario's name), sha256, seed, trials, years, version,
    wall_seconds, threads, currency, regime, notes (every note the run printed:
    the scenario's, and the runner's), finished (UTC, ISO 8601) (and whatever else
    the runner recorded, ``name`` included).
    """
    record = dict(run_info)
    record["scenario"] = record.get("scenario") or record.get("name") or scenario.name
    record.setdefault("sha256", scenario.sha256)
    record.setdefault("seed", scenario.simulation.seed)
    record.setdefault("trials", scenario.simulation.trials)
    record.setdefault("years", scenario.simulation.years)
    record.setdefault("version", package_version())
    record.setdefault("wall_seconds", None)
    record.setdefault("threads", None)
    record.setdefault("currency", scenario.currency)
    record.setdefault("regime", scenario.solvency.regime)
    record.setdefault("notes", list(scenario.notes))
    record.setdefault("event_tables", event_table_record(scenario))
    record.setdefault("finished", datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    return record


def check_party_names(parties: Parties) -> None:
    if len(set(parties.names)) != len(parties.names):
        repeated = sorted({name for name in parties.names if parties.names.count(name) > 1})
        raise ValueError(f"party names must be unique across the pool, members and reinsurers; "
                         f"repeated: {repeated}. Rename the member or the reinsurer.")


def one_year_results(scenario: Scenario, parties: Parties, kept: KeptColumns, run_info: dict[str, Any], *,
                     threads: int = 1) -> Results:
    """:class:`Results` of a one-year run without its per-trial tables, from what the runner kept
    of its chunks; the capital at the end, minimum capital and solvency ratio of every party in
    every trial (for trials.parquet) are then in ``kept`` too (:meth:`KeptColumns.solvency`).

    The EP curves, solvency and summary are worked out a party's column (or a block of trials)
    at a time (the allocation from the members' and the lines' losses together), the figures
    those of the whole arrays to the bit. ``threads``: the EP curves and the summary's
    statistics are worked out on this many threads, at most :data:`MOST_TABLE_THREADS`
    (the same numbers).
    """
    check_party_names(parties)
    line_names = [line.name for line in scenario.lines]
    # Each thread holds a few of a party's columns (0.5 GB at 10,000,000 trials): on a machine of
    # many cores, more threads would hold more memory for little more speed.
    threads = min(threads, MOST_TABLE_THREADS)
    ep = metrics.ep_table(parties, None, threads=threads, column_of=kept.party_column)
    kept.release("max_occurrence_gross", "max_occurrence_net")
    kept.solvency()
    members = kept.members
    allocation = metrics.member_and_line_allocation(
        parties, kept.whole("net_loss", columns=range(members.start, members.stop)), kept.whole("line_loss"),
        line_names)
    treaties = costs.treaty_table(treaty_labels(scenario), kept.treaty_columns())
    kept.release("line_loss", "treaty_ceded_loss")
    summary = metrics.summary_of_columns(parties, kept.party_column, kept.capital_start, kept.n_trials,
                                         threads=threads)
    summary = subsidy.add_premium_payers(summary, scenario, parties)
    return Results(name=scenario.name, run_info=run_record(scenario, run_info), summary=summary, ep=ep,
                   allocation=allocation, currency=scenario.currency, treaties=treaties,
                   scenario_text=text_as_run(scenario))


def build_results(scenario: Scenario, parties: Parties, arrays: Mapping[str, np.ndarray],
                  line_loss: np.ndarray, line_claims: np.ndarray, run_info: dict[str, Any], *,
                  threads: int = 1, capped_loss: np.ndarray | None = None) -> Results:
    """:class:`Results` of a one-year run from its whole arrays, every table in memory.

    Parameters
    ----------
    scenario : the scenario run
    parties : Parties (party 0 the pool, then members, then reinsurers)
    arrays : mapping of (n_trials, n_parties) float64 for every name of ``PARTY_COLUMNS`` and
        (n_trials, n_treaties) for every name of ``TREATY_COLUMNS`` (a :class:`PartyArrays`)
    line_loss : (n_trials, n_lines) float64 gross loss by line
    line_claims : (n_trials, n_lines) int64 policy losses by line
    run_info : name, sha256, seed, trials, years, version, wall_seconds, threads, ...
    capped_loss : (n_trials, n_lines) float64, what policy limits cut from event-table losses
        (None: 0)
    """
    arrays = PartyArrays.from_mapping(arrays)
    n_trials = arrays.n_trials
    kept = KeptColumns(scenario, parties, n_trials, arrays["treaty_ceded_loss"].shape[1])
    net_result = metrics.party_net_result(parties, arrays)
    kept.add(0, arrays, line_loss, net_result)
    kept.add_in_order(arrays)
    results = one_year_results(scenario, parties, kept, run_info, threads=threads)
    results.trials = trial_rows(parties, arrays, *(kept.whole(name) for name in SOLVENCY_COLUMNS))
    results.line_losses = line_rows([line.name for line in scenario.lines], line_loss, line_claims,
                                    capped_loss=capped_loss)
    results.run_info["tables"] = ["trials", "line_losses"]
    return results


# --------------------------------------------------------------------------- multi-year
# Extra trials.parquet columns of multi-year runs (sim.dynamics).
MULTI_YEAR_TRIAL_COLUMNS = ("active", "paid_loss", "outstanding_loss", "recoverable", "member_default_loss",
                            "capital_start")


def multi_year_trials_table(parties: Parties, arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    """trials.parquet of a multi-year run: rows by trial, then year, then party.

    ``arrays`` are ``(n_trials, n_years, n_parties)``; ``share`` is each member's share that year.
    """
    n_trials, n_years, n_parties = arrays["net_loss"].shape
    n_rows = n_trials * n_years * n_parties
    codes = np.tile(np.arange(n_parties, dtype=np.int32), n_trials * n_years)
    columns: dict[str, Any] = {
        "trial": np.repeat(np.arange(n_trials, dtype=np.int64), n_years * n_parties),
        "year": np.tile(np.repeat(np.arange(1, n_years + 1, dtype=np.int32), n_parties), n_trials),
        "party": pd.Categorical.from_codes(codes, categories=list(parties.names)),
    }
    for key in TRIAL_COLUMNS[3:] + MULTI_YEAR_TRIAL_COLUMNS:
        columns[key] = np.ascontiguousarray(arrays[key], dtype=np.float64).reshape(n_rows)
    columns["active"] = columns["active"].astype(np.bool_)
    return pd.DataFrame(columns, columns=list(TRIAL_COLUMNS + MULTI_YEAR_TRIAL_COLUMNS))


def _year_summary(parties: Parties, arrays: dict[str, np.ndarray], capital_start: np.ndarray,
                  capital_end: np.ndarray, ratio: np.ndarray, minimum: np.ndarray, share: np.ndarray,
                  extra: dict[str, np.ndarray]) -> pd.DataFrame:
    table = metrics.summary(dataclasses.replace(parties, share=share), arrays, capital_start, capital_end,
                            ratio, minimum)
    for key, values in extra.items():
        table[key] = values
    return table


def _dynamic_columns(flows: dict[str, np.ndarray], stocks: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The multi-year summary columns beyond the one-year ones, per party: the means of the
    year's flows (paid, defaulted) over ``flows`` and of the stocks at a year end
    (outstanding, recoverable, active) over ``stocks``."""
    return {
        "expected_paid_loss": flows["paid_loss"].mean(axis=0),
        "mean_outstanding_loss": stocks["outstanding_loss"].mean(axis=0),
        "mean_recoverable": stocks["recoverable"].mean(axis=0),
        "expected_member_default_loss": flows["member_default_loss"].mean(axis=0),
        "prob_active": stocks["active"].mean(axis=0),
    }


def build_multi_year_results(scenario: Scenario, parties: Parties, arrays: Mapping[str, np.ndarray],
                             line_loss: np.ndarray, line_claims: np.ndarray,
                             run_info: dict[str, Any], capped_loss: np.ndarray | None = None) -> Results:
    """:class:`Results` of a multi-year run (arrays ``(n_trials, n_years, n_parties)``).

    ``summary.csv`` holds, first, one row per party for the whole horizon (``year``
    empty): loss and premium figures over every path-year (the yearly averages;
    VaR/TVaR of the yearly net loss across path-years), capital at the horizon's
    end, ``prob_ruin`` = P(capital < 0 at some year end), ``prob_exit`` = P(the
    member has left by the end); then one row per party and year. ``ep.csv`` and
    ``allocation.csv`` use every path-year.

    Solvency ratios count only the years in which the party writes business
    (``active``; :func:`sim.solvency.going_concern_ratio`): a member's run-off
    after it has left the pool, and a pool whose members have all left, have a
    ratio of reserve risk alone that grows without bound, and are left out. On
    the horizon row:

    * ``prob_solvency_below_100`` = P(the ratio is below 100% at the end of at
      least one year of the path), "ever", as ``prob_ruin``; ``prob_default`` of a
      reinsurer = P(it is in default in at least one year of the path);
    * ``solvency_ratio_p01`` = the 1% quantile over paths of each path's lowest
      year-end ratio (so it is below 100% exactly when at least 1% of paths
      fall below 100% at some point);
    * ``mean_solvency_ratio`` = the mean over every path-year with a ratio (each
      year-end while in the pool counts once); its standard error is from batch
      means over paths, the years of a path being dependent.

    On a pool row, ``prob_any_member_below_100`` is then P(some member below 100%
    in some year it writes). On the year rows, each year's ratio statistics are
    over the paths in which the party writes business that year; the
    probabilities stay shares of all paths.
    """
    check_party_names(parties)
    n_trials, n_years, n_parties = arrays["net_loss"].shape
    line_names = [line.name for line in scenario.lines]

    def stacked(values: np.ndarray) -> np.ndarray:
        return values.reshape(n_trials * n_years, *values.shape[2:])

    ratio = solvency.going_concern_ratio(arrays["solvency_ratio"], arrays["active"])
    year_rows = []
    for y in range(n_years):
        year_arrays = {key: values[:, y] for key, values in arrays.items()}
        extra = _dynamic_columns(flows=year_arrays, stocks=year_arrays)
        table = _year_summary(parties, year_arrays, metrics.nan_mean(year_arrays["capital_start"]),
                              year_arrays["capital_end"], ratio[:, y],
                              year_arrays["minimum_capital"], year_arrays["share"].mean(axis=0), extra)
        table.insert(0, "year", y + 1)
        year_rows.append(table)

    all_years = {key: stacked(values) for key, values in arrays.items()}
    last = {key: values[:, -1] for key, values in arrays.items()}
    extra = _dynamic_columns(flows=all_years, stocks=last)
    # The lowest ratio of each path gives the "ever" probability and the tail quantile.
    horizon = metrics.summary(dataclasses.replace(parties, share=arrays["share"][:, 0].mean(axis=0)),
                              all_years, solvency.party_capital_start(parties), last["capital_end"],
                              solvency.lowest_ratio(ratio), last["minimum_capital"])
    horizon["mean_solvency_ratio"] = metrics.nan_mean(stacked(ratio))
    horizon["mean_solvency_ratio_se"] = metrics.batch_standard_error(
        ratio, lambda batch: metrics.nan_mean(batch.reshape(-1, n_parties)))
    for key, values in extra.items():
        horizon[key] = values
    ever_ruined = (arrays["capital_end"] < 0.0).any(axis=1)
    known = ~np.all(np.isnan(last["capital_end"]), axis=0)
    horizon["prob_ruin"] = np.where(known, ever_ruined.mean(axis=0), np.nan)
    is_reinsurer = np.array(parties.kinds) == "reinsurer"
    horizon["prob_default"] = np.where(is_reinsurer, (arrays["defaulted"] > 0.0).any(axis=1).mean(axis=0), np.nan)
    # The share of paths that left, counted directly: 1 - mean(active) would print 0.00039999999999995595.
    left = last["active"] == 0.0
    horizon["prob_exit"] = np.where(np.array(parties.kinds) == "member", left.mean(axis=0), np.nan)
    horizon["prob_pool_ended"] = np.where(np.array(parties.kinds) == "pool", left[:, 0].mean(), np.nan)
    horizon.insert(0, "year", pd.NA)
    summary = pd.concat([horizon] + year_rows, ignore_index=True)
    summary["year"] = summary["year"].astype("Int64")
    summary = subsidy.add_premium_payers(summary, scenario, parties)

    line_table = line_rows(line_names, stacked(line_loss), stacked(line_claims),
                           capped_loss=None if capped_loss is None else stacked(capped_loss))
    line_table["trial"] = np.repeat(np.arange(n_trials, dtype=np.int64), n_years * len(line_names))
    line_table["year"] = np.tile(np.repeat(np.arange(1, n_years + 1, dtype=np.int32), len(line_names)), n_trials)
    return Results(
        name=scenario.name,
        run_info={**run_record(scenario, run_info), "tables": ["trials", "line_losses"]},
        trials=multi_year_trials_table(parties, arrays),
        line_losses=line_table,
        summary=summary,
        ep=metrics.ep_table(parties, all_years),
        allocation=metrics.allocation(parties, all_years, stacked(line_loss), line_names),
        currency=scenario.currency,
        treaties=costs.multi_year_treaty_table(treaty_labels(scenario),
                                               {name: arrays[name] for name in TREATY_COLUMNS}),
        scenario_text=text_as_run(scenario),
    )
