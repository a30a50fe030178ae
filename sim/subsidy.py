"""Who pays the premium: the insureds, or the government through a premium subsidy.

A line's ``premium_subsidy`` is the share of its premium the government pays,
on a premium rate of at most ``subsidy_rate_cap``, in the first
``subsidy_years`` years of a path (:meth:`sim.model.Line.subsidy_fraction`). The
subsidy changes who pays the pool's premium, not how much the pool receives:
no money of the pool, its members or the reinsurers changes. The summary says
who paid: ``premium_paid_by_government`` and ``premium_paid_by_insureds`` of
the pool and of each member (its share), empty for reinsurers.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .model import Scenario
from .parties import Parties


def government_share(scenario: Scenario, parties: Parties, year: int = 1) -> float:
    """Share of the pool's gross premium the government pays in ``year``.

    Every member holds the same share of every line, and the exposure grows alike
    on every line, so one share serves the pool and each member.
    """
    line_premium = np.asarray(parties.line_gross_premium[parties.indices("pool")[0]], dtype=np.float64)
    total = line_premium.sum()
    if total <= 0.0:
        return 0.0
    subsidy = np.array([line.subsidy_fraction(year) for line in scenario.lines])
    return float(line_premium @ subsidy / total)


def add_premium_payers(summary: pd.DataFrame, scenario: Scenario, parties: Parties) -> pd.DataFrame:
    """``summary`` with ``premium_paid_by_government`` and ``premium_paid_by_insureds``.

    A one-year summary, or a multi-year one (its ``year`` rows take that year's
    share; the whole-horizon rows, whose money columns are means per path-year,
    the mean over the years of each party).
    """
    summary = summary.copy()
    is_writer = summary["kind"].isin(["pool", "member"]).to_numpy()
    if "year" in summary.columns and summary["year"].notna().any():
        years = summary["year"]
        share = np.array([government_share(scenario, parties, int(year)) if pd.notna(year) else np.nan
                          for year in years])
        government = share * summary["gross_premium"].to_numpy()
        by_party = pd.Series(government[years.notna().to_numpy()],
                             index=summary.loc[years.notna(), "party"]).groupby(level=0, sort=False).mean()
        horizon = years.isna().to_numpy()
        government[horizon] = by_party.reindex(summary.loc[horizon, "party"]).to_numpy()
    else:
        government = government_share(scenario, parties) * summary["gross_premium"].to_numpy()
    summary["premium_paid_by_government"] = np.where(is_writer, government, np.nan)
    summary["premium_paid_by_insureds"] = np.where(is_writer, summary["gross_premium"] - government, np.nan)
    return summary


def set_government_premium(summary: pd.DataFrame, government_by_year: np.ndarray,
                           party_names: list[str]) -> pd.DataFrame:
    """A multi-year ``summary`` whose premium payers are ``government_by_year`` ``(n_years,
    n_parties)``, the mean premium the government paid each party each year (a run that
    reprices, :func:`sim.repricing.government_premium_by_year`: the subsidy follows each path's
    rate up to the cap); the whole-horizon rows take the mean over the years, as in
    :func:`add_premium_payers`."""
    summary = summary.copy()
    is_writer = summary["kind"].isin(["pool", "member"]).to_numpy()
    column = {name: i for i, name in enumerate(party_names)}
    party = summary["party"].map(column).to_numpy()
    years = summary["year"]
    government = np.where(years.notna().to_numpy(),
                          government_by_year[np.where(years.notna(), years, 1).astype(int) - 1, party],
                          government_by_year.mean(axis=0)[party])
    summary["premium_paid_by_government"] = np.where(is_writer, government, np.nan)
    summary["premium_paid_by_insureds"] = np.where(is_writer, summary["gross_premium"] - government, np.nan)
    return summary
