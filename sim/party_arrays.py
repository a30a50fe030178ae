"""The per-trial arrays a chunk hands on: every party's and every treaty's money, typed.

:class:`PartyArrays` is what :func:`sim.pool.allocate_chunk` returns for a one-year
chunk; :class:`PathArrays` adds what :func:`sim.dynamics.simulate_paths` tracks from
year to year. Their fields are the names of :data:`sim.parties.PARTY_COLUMNS`,
:data:`sim.parties.TREATY_COLUMNS` and :data:`DYNAMIC_FIELDS`, each documented below
with its shape. Both are also read-only mappings from those names to the arrays,
because the metrics take any mapping of columns (``arrays["net_loss"]``).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .parties import PARTY_COLUMNS, TREATY_COLUMNS


class _Columns(Mapping):
    """Mapping access to a dataclass's array fields, by field name."""

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._names():
            raise KeyError(name)
        return getattr(self, name)

    def __iter__(self):
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    @classmethod
    def _names(cls) -> tuple[str, ...]:
        return tuple(field.name for field in dataclasses.fields(cls))

    @classmethod
    def from_mapping(cls, columns: Mapping[str, np.ndarray]):
        """The container of ``columns``' arrays for this class's fields (extra names are ignored)."""
        return cls(**{name: columns[name] for name in cls._names()})

    def rows(self, first: int, stop: int):
        """The same container over rows ``first:stop`` of every array (views)."""
        return type(self)(**{name: getattr(self, name)[first:stop] for name in self._names()})

    __eq__ = object.__eq__         # arrays do not compare to one truth value
    __hash__ = object.__hash__


@dataclass(eq=False)
class PartyArrays(_Columns):
    """Every party's and treaty's money in each trial of a chunk.

    Party arrays are float64 ``(n_trials, n_parties)``, parties in :class:`sim.parties.Parties`
    order (the pool, the members, the reinsurers); treaty arrays are float64
    ``(n_trials, n_treaties)``, treaties in :func:`sim.pool.placed_in_order` order. A
    multi-year run has a year axis before the last: ``(n_trials, n_years, ...)``.

    For a member: ``gross_loss`` its share of the pool's gross loss; ``ceded_loss`` the
    recoveries due to it (its share of the pool's programme and its own); ``default_loss``
    the recoveries not paid because a reinsurer defaulted; ``net_loss`` = gross − ceded +
    default; ``gross_premium`` its share of the pool's premium; ``ceded_premium`` the
    reinsurance premiums it pays (proportional ceded and XL / stop-loss deposit);
    ``reinstatement_premium`` paid; ``commission`` received; ``expenses`` expense ratio ×
    gross premium; ``lead_fee`` received (the lead, > 0) or paid (followers, < 0).
    For a reinsurer: ``gross_loss`` what it owes, ``default_loss`` what it does not pay,
    ``net_loss`` what it pays, ``gross_premium`` the premiums it receives (ceded and
    reinstatement), ``commission`` what it pays, the rest 0. The pool's row: its own gross
    loss and gross premium, the sums over members for the rest.
    """

    gross_loss: np.ndarray
    ceded_loss: np.ndarray
    default_loss: np.ndarray
    net_loss: np.ndarray
    gross_premium: np.ndarray
    ceded_premium: np.ndarray
    reinstatement_premium: np.ndarray
    commission: np.ndarray
    expenses: np.ndarray
    lead_fee: np.ndarray
    max_occurrence_gross: np.ndarray        # the largest single occurrence, gross (OEP)
    max_occurrence_net: np.ndarray          # the largest single occurrence, net of all cover (OEP)
    cat_loss_after_proportional: np.ndarray  # catastrophe-event loss net of proportional cover (C-ROSS)
    cat_xl_recovery: np.ndarray             # cat XL recoveries on catastrophe events (C-ROSS)
    credit_exposure: np.ndarray             # recoveries due, each × its reinsurer's C-ROSS credit factor
    defaulted: np.ndarray                   # reinsurers: 1.0 if it defaulted in the trial, else 0.0
    treaty_ceded_loss: np.ndarray           # recoveries due under the treaty
    treaty_reinstatement_premium: np.ndarray  # paid by the cedant
    treaty_default_loss: np.ndarray         # the part of its recoveries the cedant lost to defaults
    treaty_ceded_premium: np.ndarray        # ceded (proportional) or deposit (XL, stop loss) premium
    treaty_commission: np.ndarray           # received by the cedant
    treaty_exhausted: np.ndarray            # 1.0 capacity used up, 0.0 not, NaN proportional

    @property
    def n_trials(self) -> int:
        return self.net_loss.shape[0]


# The fields a multi-year path adds, per path, year and party (sim.dynamics.DYNAMIC_COLUMNS).
DYNAMIC_FIELDS = (
    "share", "active", "capital_start", "capital_end", "minimum_capital", "solvency_ratio",
    "paid_loss", "outstanding_loss", "recoverable", "member_default_loss",
)


@dataclass(eq=False)
class PathArrays(PartyArrays):
    """:class:`PartyArrays` of multi-year paths, ``(n_trials, n_years, ...)``, and what the
    years carry, float64 ``(n_trials, n_years, n_parties)`` (see :mod:`sim.dynamics`)."""

    share: np.ndarray                # each member's pool share that year
    active: np.ndarray               # 1.0 while the party writes business, else 0.0
    capital_start: np.ndarray        # capital at the year's start
    capital_end: np.ndarray          # capital at the year's end
    minimum_capital: np.ndarray      # at the year's end
    solvency_ratio: np.ndarray       # capital_end / minimum_capital
    paid_loss: np.ndarray            # claims paid in the year
    outstanding_loss: np.ndarray     # claims still to pay at the year's end
    recoverable: np.ndarray          # recoveries still to receive at the year's end
    member_default_loss: np.ndarray  # what a defaulting member left the others


assert PartyArrays._names() == PARTY_COLUMNS + TREATY_COLUMNS, "PartyArrays' fields are the column names"
assert PathArrays._names() == PARTY_COLUMNS + TREATY_COLUMNS + DYNAMIC_FIELDS
