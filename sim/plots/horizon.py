"""A run's values over its horizon, as the plots read them: one party's column year by year,
and the solvency ratio a run is judged on (a multi-year path's lowest while in the pool)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..results import Results


def horizon_solvency_ratio(results: "Results") -> np.ndarray:
    """``(n_trials, n_parties)``: every party's :func:`party_horizon_solvency_ratio`."""
    if results.years == 1:
        return results.party_matrix("solvency_ratio")
    return np.stack([party_horizon_solvency_ratio(results, name) for name in results.party_names], axis=1)


def party_horizon_solvency_ratio(results: "Results", party: str) -> np.ndarray:
    """``(n_trials,)``: the solvency ratio a run is judged on, of one party. A one-year run's
    year-end ratio; a multi-year run's lowest year-end ratio of each path over the years
    the party writes business.

    The last year alone would show a member that has left only by its run-off,
    or nothing once that is paid; the lowest ratio is what a regulator watches,
    and its P(<100%) is the horizon's ``prob_solvency_below_100``.
    """
    if results.years == 1:
        return results.party_column("solvency_ratio", party)
    from ..solvency import lowest_ratio
    return lowest_ratio(going_concern_year_matrix(results, party))


def year_matrix(results: "Results", column: str, party: str) -> np.ndarray:
    """``column`` of one party as ``(n_trials, n_years)``; inf counts as missing."""
    values = results.party_by_year(column, party)
    return np.where(np.isfinite(values), values, np.nan)


def going_concern_year_matrix(results: "Results", party: str) -> np.ndarray:
    """One party's year-end solvency ratio as ``(n_trials, n_years)``, NaN in the years it
    does not write business (its run-off after leaving the pool: not a going-concern ratio)."""
    from ..solvency import going_concern_ratio
    return going_concern_ratio(year_matrix(results, "solvency_ratio", party),
                               results.party_by_year("active", party))
