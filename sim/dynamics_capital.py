"""Members' minimum capital at a multi-year year end (:mod:`sim.dynamics`), through
:func:`sim.solvency.cross_minimum_capital`: the one-year C-ROSS of the solvency module, with
each path's own net outstanding claims (reserve risk), premium (premium risk, when the pool
reprices) and recoverables (credit risk)."""
from __future__ import annotations

import numpy as np

from . import solvency
from .metrics import combined_ratio, net_premium
from .model import CAPITAL_CLASSES, Scenario
from .occurrences import Exposure
from .parties import Parties


def class_weights(scenario: Scenario, exposure: Exposure) -> np.ndarray:
    """(n_classes,) share of the pool's gross premium in each capital class (reserves are split so)."""
    premium = exposure.line_premium() @ solvency.class_matrix([line.capital_class for line in scenario.lines])
    return premium / premium.sum() if premium.sum() > 0 else np.full(len(CAPITAL_CLASSES), 1.0 / len(CAPITAL_CLASSES))


def _reserves_by_class(reserves: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(n_rows, n_members, n_classes) net outstanding claims, none below 0, split like the premium."""
    return np.maximum(reserves, 0.0)[:, :, None] * weights


def minimum_capital(scenario: Scenario, parties: Parties, arrays: dict, rows: np.ndarray,
                    shares: np.ndarray, reserves: np.ndarray, per_share: np.ndarray,
                    weights: np.ndarray, credit_exposure: np.ndarray,
                    line_premiums: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Members' minimum capital of the paths ``rows`` that share one pattern, ``(n_rows, n_members)``.

    C-ROSS as :func:`sim.solvency.cross_minimum_capital`, with each path's own net
    outstanding claims ``reserves`` (n_rows, n_members) for reserve risk, split by class
    with ``weights`` (n_classes,), the catastrophe risk ``shares * per_share`` (calibrated
    per year, see :func:`sim.dynamics.prepare_dynamics`), and credit risk on
    ``credit_exposure`` (n_rows, n_members): the recoverables at the year end times their
    reinsurers' factors, where a one-year run takes the year's whole ceded loss.
    ``line_premiums``: each path's ``(gross, proportional ceded, non-proportional)``
    premium by member and line, each (n_rows, n_members, n_lines), when the pool reprices
    (:mod:`sim.repricing`); default the written premiums of ``parties``.
    Regime ``var``: ``shares * per_share``, floored, plus the other minimum capital.
    """
    members = parties.indices("member")
    other = np.array([m.other_minimum_capital for m in scenario.pool.members], dtype=np.float64)
    if scenario.solvency.regime == "var":
        return np.maximum(shares * per_share, solvency.MINIMUM_CAPITAL_FLOOR)[None, :] + other + 0.0 * reserves
    take = {key: arrays[key][rows][:, members] for key in (
        "net_loss", "expenses", "commission", "lead_fee", "gross_premium", "ceded_premium",
        "reinstatement_premium")}
    premium_kept = net_premium(take["gross_premium"], take["ceded_premium"], take["reinstatement_premium"])
    combined = combined_ratio(take["net_loss"], take["expenses"], take["commission"], take["lead_fee"],
                              premium_kept)
    combined = np.where(premium_kept > 0.0, combined, np.nan)     # no premium kept: the worst band
    if line_premiums is None:
        gross, proportional, nonproportional = (parties.line_gross_premium[members],
                                                parties.line_proportional_ceded_premium[members],
                                                parties.line_nonproportional_premium[members])
    else:
        gross, proportional, nonproportional = line_premiums
    line_classes = [line.capital_class for line in scenario.lines]
    parts = solvency.cross_minimum_capital(
        solvency.retained_premium_by_class(gross, proportional, line_classes),
        nonproportional @ solvency.class_matrix(line_classes), combined, None, None, credit_exposure, other,
        outstanding_reserves=_reserves_by_class(reserves, weights), catastrophe=shares * per_share)
    return parts.total


def reserve_only_minimum(scenario: Scenario, net_outstanding: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """C-ROSS minimum capital of members with no business of the year (run-off: exited members,
    ended paths): reserve risk on ``net_outstanding`` (n_rows, n_members) alone, as
    :func:`sim.solvency.cross_minimum_capital` gives it with no premium, catastrophe or credit
    exposure; without the other minimum capital. Regime ``var``: 0."""
    if scenario.solvency.regime == "var":
        return np.zeros_like(net_outstanding)
    n_members = net_outstanding.shape[1]
    no_premium = np.zeros((n_members, len(CAPITAL_CLASSES)))
    parts = solvency.cross_minimum_capital(
        no_premium, no_premium, np.zeros_like(net_outstanding), None, None, np.zeros_like(net_outstanding),
        np.zeros(n_members), outstanding_reserves=_reserves_by_class(net_outstanding, weights),
        catastrophe=np.zeros(n_members))
    return parts.total
