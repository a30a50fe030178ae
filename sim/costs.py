"""What each treaty costs its cedant: ``treaties.csv``, one row per treaty (and year).

Works on the per-trial treaty arrays of :data:`sim.parties.TREATY_COLUMNS`,
float64 ``(n_trials, n_treaties)`` (a year axis in between for multi-year
runs), with the treaties in :func:`sim.pool.treaty_labels` order, and returns a
DataFrame. Money is the cedant's: 100% of a treaty of the pool's programme,
the member's own for its own programme.

Definitions
-----------
* ``ceded_premium``, ``reinstatement_premium``, ``commission``: expected per
  year (the first and last are fixed by the exposure; reinstatement premium
  follows the losses).
* ``expected_ceded_loss``: the recoveries due; ``expected_default_loss``: the
  part of them lost because a reinsurer of the panel defaulted, so the cedant's
  expected recovery is their difference.
* ``prob_attach``: P(the treaty pays anything in the year); ``prob_exhaust``:
  P(its capacity for the year is used up), empty for proportional treaties.
* ``cost`` = ceded premium + reinstatement premium − commission − (expected
  ceded loss − expected default loss): the cedant's expected price of the
  protection. For the last treaty of a programme (none inures after it) it is
  exactly the fall in the cedant's expected result when the treaty is bought.
* ``ceded_loss_ratio`` = expected ceded loss / (ceded + reinstatement premium).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .metrics import mean_standard_error, safe_divide
from .pool import PROPORTIONAL

TREATY_TABLE_COLUMNS = (
    "cedant", "treaty", "type", "ceded_premium", "reinstatement_premium", "commission",
    "expected_ceded_loss", "expected_ceded_loss_se", "expected_default_loss", "prob_attach", "prob_exhaust",
    "cost", "ceded_loss_ratio",
)


def treaty_table(labels: Sequence[tuple[str, str, str]], arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per treaty: the columns of :data:`TREATY_TABLE_COLUMNS` (see the module docstring).

    Parameters
    ----------
    labels : ``(cedant, treaty, type)`` of each treaty, in the arrays' order
    arrays : each name of :data:`sim.parties.TREATY_COLUMNS` to ``(n_trials, n_treaties)``
    """
    ceded = arrays["treaty_ceded_loss"]
    ceded_premium = arrays["treaty_ceded_premium"].mean(axis=0)
    reinstatement_premium = arrays["treaty_reinstatement_premium"].mean(axis=0)
    commission = arrays["treaty_commission"].mean(axis=0)
    expected_ceded = ceded.mean(axis=0)
    expected_default = arrays["treaty_default_loss"].mean(axis=0)
    exhausted = arrays["treaty_exhausted"]
    proportional = np.array([kind in PROPORTIONAL for _, _, kind in labels], dtype=bool)
    table = pd.DataFrame({
        "cedant": [cedant for cedant, _, _ in labels],
        "treaty": [name for _, name, _ in labels],
        "type": [kind for _, _, kind in labels],
        "ceded_premium": ceded_premium,
        "reinstatement_premium": reinstatement_premium,
        "commission": commission,
        "expected_ceded_loss": expected_ceded,
        "expected_ceded_loss_se": mean_standard_error(ceded),
        "expected_default_loss": expected_default,
        "prob_attach": (ceded > 0.0).mean(axis=0),
        "prob_exhaust": np.where(proportional, np.nan, np.nan_to_num(exhausted).mean(axis=0)),
        "cost": ceded_premium + reinstatement_premium - commission - (expected_ceded - expected_default),
        "ceded_loss_ratio": safe_divide(expected_ceded, ceded_premium + reinstatement_premium),
    })
    return table.loc[:, list(TREATY_TABLE_COLUMNS)]


def multi_year_treaty_table(labels: Sequence[tuple[str, str, str]], arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    """:func:`treaty_table` per year, with a ``year`` column (1-based) after ``type``.

    ``arrays`` are ``(n_trials, n_years, n_treaties)``. A treaty absent from a path in
    a year (its cedant has left, or its panel has defaulted) counts as paying and
    costing nothing there.
    """
    n_years = arrays["treaty_ceded_loss"].shape[1]
    frames = []
    for year in range(n_years):
        frame = treaty_table(labels, {name: values[:, year] for name, values in arrays.items()})
        frame.insert(3, "year", year + 1)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=TREATY_TABLE_COLUMNS)
