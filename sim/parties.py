"""Who holds the money: the pool, its members and the reinsurers, in one fixed order.

Party ``0`` is the pool as a whole, then the members in scenario order, then
the reinsurers in scenario order. Every per-party array has that last axis.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Per trial and party, as float64 arrays of shape (n_trials, n_parties); produced by
# sim.pool.allocate_chunk. The first ten are trials.parquet columns (docs/results.md).
#
# members:    gross_loss     share of the pool's gross loss
#             ceded_loss     recoveries due (pool programme share + own programme)
#             default_loss   recoveries not paid because a reinsurer defaulted
#             net_loss       gross - ceded + default
#             gross_premium  share of the pool's gross premium
#             ceded_premium  reinsurance premiums paid (proportional + non-proportional deposit)
#             reinstatement_premium  paid
#             commission     received
#             expenses       expense_ratio * gross_premium
#             lead_fee       received (lead, > 0) or paid (followers, < 0)
# reinsurers: gross_loss = owed, default_loss = not paid, net_loss = paid, ceded_loss = 0,
#             gross_premium = premiums received (ceded + reinstatement), commission = paid,
#             the rest 0
# pool:       gross_loss, gross_premium of the pool; the other columns are the sums over members
#
# Extra columns used by the metrics:
#   max_occurrence_gross / max_occurrence_net : largest single occurrence (OEP), gross / net
#   cat_loss_after_proportional : catastrophe-event loss net of proportional cover (C-ROSS cat risk)
#   cat_xl_recovery             : cat XL recoveries on catastrophe events (C-ROSS cat risk)
#   credit_exposure             : recoveries due, each weighted by its reinsurer's C-ROSS credit factor
#   defaulted                   : reinsurers: 1.0 if it defaulted in the trial, else 0.0
PARTY_COLUMNS = (
    "gross_loss", "ceded_loss", "default_loss", "net_loss",
    "gross_premium", "ceded_premium", "reinstatement_premium", "commission",
    "expenses", "lead_fee",
    "max_occurrence_gross", "max_occurrence_net",
    "cat_loss_after_proportional", "cat_xl_recovery", "credit_exposure", "defaulted",
)

# Per trial and treaty, float64 (n_trials, n_treaties), treaties in sim.pool.placed_in_order
# (the cedant's money: 100% for a treaty of the pool's programme):
#   treaty_ceded_loss             recoveries due under the treaty
#   treaty_reinstatement_premium  paid by the cedant
#   treaty_default_loss           the part of its recoveries the cedant lost to reinsurer defaults
#   treaty_ceded_premium          ceded (proportional) or deposit (XL, stop loss) premium paid
#   treaty_commission             received by the cedant
#   treaty_exhausted              1.0 when the treaty's capacity for the year is used up, 0.0 if not,
#                                 NaN for a proportional treaty (no capacity)
TREATY_COLUMNS = ("treaty_ceded_loss", "treaty_reinstatement_premium", "treaty_default_loss",
                  "treaty_ceded_premium", "treaty_commission", "treaty_exhausted")


@dataclass(frozen=True)
class Parties:
    """The static facts of every party; produced by :func:`sim.pool.parties`."""

    names: tuple[str, ...]
    kinds: tuple[str, ...]                  # "pool" | "member" | "reinsurer"
    roles: tuple[str, ...]                  # "lead" | "follower" | ""
    share: np.ndarray                       # (n_parties,) pool share; pool 1.0, reinsurers 0.0
    capital_start: np.ndarray               # (n_parties,) inf where unlimited
    line_gross_premium: np.ndarray          # (n_parties, n_lines)
    line_proportional_ceded_premium: np.ndarray   # (n_parties, n_lines) QS + surplus premium ceded
    line_nonproportional_premium: np.ndarray   # (n_parties, n_lines) XL and stop-loss deposit premiums paid,
    #                                         each treaty's over its lines pro rata to their subject premium

    @property
    def nonproportional_premium(self) -> np.ndarray:
        """(n_parties,) XL and stop-loss deposit premiums paid, all lines."""
        return self.line_nonproportional_premium.sum(axis=1)

    @property
    def n_parties(self) -> int:
        return len(self.names)

    def indices(self, kind: str) -> np.ndarray:
        return np.array([i for i, k in enumerate(self.kinds) if k == kind], dtype=np.int64)

    def columns(self, kind: str) -> slice:
        """The parties of ``kind`` as a slice of the party axis (the pool, then members, then
        reinsurers, each kind together): indexing with it gives views, not copies."""
        found = self.indices(kind)
        if len(found) == 0:
            return slice(0, 0)
        if not np.array_equal(found, np.arange(found[0], found[-1] + 1)):
            raise ValueError(f"the {kind} parties are not adjacent: {list(found)}")
        return slice(int(found[0]), int(found[-1]) + 1)
