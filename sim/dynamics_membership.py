"""Who is in the pool in a year of a multi-year run: the members' shares after exits, and the
programmes without the reinsurers in default (:mod:`sim.dynamics`)."""
from __future__ import annotations

import dataclasses

import numpy as np

from .model import Scenario


def pattern_shares(scenario: Scenario, active: np.ndarray) -> np.ndarray:
    """Members' shares when only ``active`` (bool, (n_members,)) remain; exited members 0.

    ``pro_rata``: scenario shares renormalised over the members left. ``lead``:
    the lead takes every exited member's share (pro rata if the lead has left).
    """
    members = scenario.pool.members
    base = np.array([m.share for m in members], dtype=np.float64)
    if not active.any():
        return np.zeros_like(base)
    is_lead = np.array([m.role == "lead" for m in members])
    if scenario.dynamics.reallocation == "lead" and active[is_lead].all():
        shares = np.where(active, base, 0.0)
        shares[is_lead] += base[~active].sum()
        return shares
    return np.where(active, base, 0.0) / base[active].sum()


def pattern_scenario(scenario: Scenario, active: np.ndarray, defaulted: np.ndarray | None = None) -> Scenario:
    """The scenario with the members' shares of one set of active members, and without the
    reinsurers that have defaulted.

    Exited members keep their row with share 0 and no own reinsurance (they
    buy no cover for business they no longer write); without a lead, no lead fee.
    A reinsurer in default (``defaulted``, bool (n_reinsurers,)) leaves every
    panel: its share goes to the panel's other reinsurers pro rata, and a
    treaty with none left is dropped (its cedant keeps that risk).
    """
    shares = pattern_shares(scenario, active)
    gone = set() if defaulted is None else {r.name for r, out in zip(scenario.reinsurers, defaulted) if out}
    members = tuple(dataclasses.replace(member, share=float(share),
                                        reinsurance=_without(member.reinsurance, gone) if keep else ())
                    for member, share, keep in zip(scenario.pool.members, shares, active))
    lead_left = any(m.role == "lead" and not keep for m, keep in zip(scenario.pool.members, active))
    pool = dataclasses.replace(scenario.pool, members=members, reinsurance=_without(scenario.pool.reinsurance, gone),
                               lead_fee=0.0 if lead_left else scenario.pool.lead_fee)
    return dataclasses.replace(scenario, pool=pool)


def _without(programme: tuple, gone: set[str]) -> tuple:
    """``programme`` with the reinsurers ``gone`` taken off every panel (see :func:`pattern_scenario`)."""
    if not gone:
        return programme
    kept_treaties = []
    for treaty in programme:
        panel = [(name, share) for name, share in treaty.panel if name not in gone]
        remaining = sum(share for _, share in panel)
        if remaining > 0.0:
            whole = sum(share for _, share in treaty.panel)
            kept_treaties.append(dataclasses.replace(
                treaty, panel=tuple((name, share * whole / remaining) for name, share in panel)))
    return tuple(kept_treaties)
