"""A repriced year's premiums (``[pricing]``, :mod:`sim.repricing`): what a path's premium rates
change in its money.

The one-year allocator (:func:`sim.pool.allocate_chunk`) places every programme on
the written premium, once for all the paths of one structure. A path whose line
``j`` is charged ``rate_j = f_j × premium_rate_j`` has every policy premium of the
line times ``f_j``; this module moves the premium side of the allocation to that,
path by path and line by line. Exact, because each of these is linear in the
line premiums:

* gross premium, expenses and the lead fee (shares of gross premium);
* a proportional treaty's ceded premium and commission (a fixed share of each
  policy's premium: the cession, or a surplus's share of the sum insured);
* a stop loss's deposit premium (``rate`` × its subject premium).

An XL layer's premium (rate on line × limit, or ``premium``) does not depend on
the rates and stays. A stop loss keeps the attachment and limit in money it was
placed with on the written premium (its recoveries are the allocator's): the
one approximation, documented in docs/results.md (pricing.csv). The reinsurers' default
test sees the repriced premium: :func:`reinsurer_premium_kept` goes into the capital
the allocator is given.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .model import Scenario
from .occurrences import Exposure
from .pool import POOL, place_programmes, placed_in_order


@dataclass(frozen=True)
class RepricedPremium:
    """One structure's premium-side changes on its paths (``rows``) at factors ``f`` (rows, n_lines).

    ``treaty_ceded`` and ``treaty_commission`` (rows, n_treaties) are in the structure's
    :func:`sim.pool.placed_in_order` order; ``member_*`` are (rows, n_members) and
    ``reinsurer_*`` (rows, n_reinsurers); ``line_*`` (rows, n_members, n_lines) are the
    members' premiums by line at the new rates, for C-ROSS premium risk.
    """

    pool_gross: np.ndarray
    member_gross: np.ndarray
    member_ceded: np.ndarray
    member_commission: np.ndarray
    member_expenses: np.ndarray
    member_lead_fee: np.ndarray
    reinsurer_premium: np.ndarray
    reinsurer_commission: np.ndarray
    treaty_ceded: np.ndarray
    treaty_commission: np.ndarray
    line_gross: np.ndarray
    line_proportional: np.ndarray
    line_nonproportional: np.ndarray


def _portion(cedant: int, shares: np.ndarray) -> np.ndarray:
    """Each member's part of a treaty's money: the pool share, or 1 for the member's own."""
    if cedant == POOL:
        return shares
    portion = np.zeros_like(shares)
    portion[cedant] = 1.0
    return portion


def repriced_premium(pattern: Scenario, exposure: Exposure, factors: np.ndarray) -> RepricedPremium:
    """The premium side of ``pattern``'s allocation at ``factors`` (rows, n_lines) times the written rates."""
    members = pattern.pool.members
    shares = np.array([m.share for m in members], dtype=np.float64)
    line_premium = exposure.line_premium()
    n_rows, n_lines = factors.shape
    line_scaled = factors * line_premium                                       # (rows, lines)
    pool_gross = line_scaled.sum(axis=1)
    member_gross = np.outer(pool_gross, shares)
    fee = pattern.pool.lead_fee * member_gross
    is_lead = np.array([m.role == "lead" for m in members])
    lead_fee = np.where(is_lead, fee[:, ~is_lead].sum(axis=1, keepdims=True), -fee)
    placed = placed_in_order(place_programmes(pattern, exposure))
    n_members, n_reinsurers = len(members), len(pattern.reinsurers)
    member_ceded = np.zeros((n_rows, n_members))
    member_commission = np.zeros((n_rows, n_members))
    reinsurer_premium = np.zeros((n_rows, n_reinsurers))
    reinsurer_commission = np.zeros((n_rows, n_reinsurers))
    treaty_ceded = np.zeros((n_rows, len(placed)))
    treaty_commission = np.zeros((n_rows, len(placed)))
    line_proportional = np.zeros((n_rows, n_members, n_lines))
    line_nonproportional = np.zeros((n_rows, n_members, n_lines))
    for i, treaty in enumerate(placed):
        portion = _portion(treaty.cedant, shares)
        subject = factors * treaty.line_subject_premium                         # (rows, lines)
        if treaty.proportional:
            line_ceded = factors * treaty.line_ceded_premium
            ceded = line_ceded.sum(axis=1)
            commission = treaty.treaty.commission * ceded
            line_proportional += portion[None, :, None] * line_ceded[:, None, :]
        else:
            if treaty.treaty.type == "stop_loss":
                ceded = treaty.treaty.rate * subject.sum(axis=1)
            else:
                ceded = np.full(n_rows, treaty.ceded_premium)
            commission = np.zeros(n_rows)
            total = subject.sum(axis=1, keepdims=True)
            even = treaty.covered_line / max(treaty.covered_line.sum(), 1)
            spread = np.where(total > 0.0, subject / np.where(total > 0.0, total, 1.0), even[None, :])
            line_nonproportional += portion[None, :, None] * (ceded[:, None] * spread)[:, None, :]
        treaty_ceded[:, i], treaty_commission[:, i] = ceded, commission
        member_ceded += np.outer(ceded, portion)
        member_commission += np.outer(commission, portion)
        reinsurer_premium += np.outer(ceded, treaty.panel)
        reinsurer_commission += np.outer(commission, treaty.panel)
    return RepricedPremium(
        pool_gross=pool_gross, member_gross=member_gross, member_ceded=member_ceded,
        member_commission=member_commission,
        member_expenses=member_gross * np.array([m.expense_ratio for m in members]),
        member_lead_fee=lead_fee, reinsurer_premium=reinsurer_premium, reinsurer_commission=reinsurer_commission,
        treaty_ceded=treaty_ceded, treaty_commission=treaty_commission,
        line_gross=shares[None, :, None] * line_scaled[:, None, :], line_proportional=line_proportional,
        line_nonproportional=line_nonproportional)


def reinsurer_premium_kept(repriced: RepricedPremium, written: RepricedPremium) -> np.ndarray:
    """(rows, n_reinsurers) how much more premium less commission each reinsurer keeps at the new rates."""
    return ((repriced.reinsurer_premium - repriced.reinsurer_commission)
            - (written.reinsurer_premium - written.reinsurer_commission))


def apply_repriced_premium(result: Mapping[str, np.ndarray], repriced: RepricedPremium,
                           written: RepricedPremium) -> None:
    """Move ``result`` (the allocator's arrays of these rows, at the written rates) to the new
    rates, in place: each premium-side figure changes by its repriced less its written value."""
    n_members = repriced.member_gross.shape[1]
    member_cols = slice(1, 1 + n_members)
    reinsurer_cols = slice(1 + n_members, None)
    pool_gross = result["gross_premium"][:, 0] + (repriced.pool_gross - written.pool_gross)
    for column, new, old in (("gross_premium", repriced.member_gross, written.member_gross),
                             ("ceded_premium", repriced.member_ceded, written.member_ceded),
                             ("commission", repriced.member_commission, written.member_commission),
                             ("expenses", repriced.member_expenses, written.member_expenses),
                             ("lead_fee", repriced.member_lead_fee, written.member_lead_fee)):
        result[column][:, member_cols] += new - old
        result[column][:, 0] = result[column][:, member_cols].sum(axis=1)
    result["lead_fee"][:, 0] = 0.0
    result["gross_premium"][:, 0] = pool_gross
    result["gross_premium"][:, reinsurer_cols] += repriced.reinsurer_premium - written.reinsurer_premium
    result["commission"][:, reinsurer_cols] += repriced.reinsurer_commission - written.reinsurer_commission
    result["treaty_ceded_premium"][...] += repriced.treaty_ceded - written.treaty_ceded
    result["treaty_commission"][...] += repriced.treaty_commission - written.treaty_commission
