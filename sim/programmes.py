"""The reinsurance programmes as placed: each treaty's cedant, panel and premiums, and the parties.

The pool's joint programme and each member's own are placed once per scenario
on the exposure (:func:`place_programmes`): the premiums of proportional
treaties and the deposit premiums of XL and stop loss are fixed by the
policies, so only losses, recoveries and reinstatement premiums vary by trial
(:mod:`sim.pool`). :func:`parties` gives every party's fixed premiums and capital.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .model import Scenario, Treaty
from .occurrences import Exposure
from .parties import Parties
from .pool_kernel import POOL
from . import treaties as tr

PROPORTIONAL = ("quota_share", "surplus")


@dataclass(frozen=True)
class PlacedTreaty:
    """A treaty as placed for one cedant, with its premiums in money (fixed per scenario).

    Attributes
    ----------
    cedant : int
        ``POOL`` (-1) or the member's index.
    covered_line : bool (n_lines,)
    panel : float64 (n_reinsurers,)
        Each reinsurer's share of the treaty.
    ceded_fraction : float64 (n_policies,) or None
        Surplus only: the share of each policy's loss and premium ceded.
    subject_premium : float
        The cedant's covered premium still retained after its earlier proportional treaties.
    ceded_premium : float
        Proportional: premium ceded; XL and stop loss: deposit premium.
    line_subject_premium : float64 (n_lines,)
        ``subject_premium`` by line.
    line_ceded_premium : float64 (n_lines,)
        Proportional ceded premium by line (zeros for XL and stop loss).
    commission : float
        Paid by the reinsurers to the cedant.
    """

    treaty: Treaty
    cedant: int
    covered_line: np.ndarray
    panel: np.ndarray
    ceded_fraction: np.ndarray | None
    subject_premium: float
    ceded_premium: float
    line_subject_premium: np.ndarray
    line_ceded_premium: np.ndarray
    commission: float

    @property
    def proportional(self) -> bool:
        return self.treaty.type in PROPORTIONAL


@dataclass(frozen=True)
class Programmes:
    """Every placed treaty, and the share of each policy left after proportional cover.

    ``pool_retained`` (n_policies,) is the pool's; ``member_retained`` (n_members, n_policies)
    is each member's own, on top of the pool's.
    """

    pool: tuple[PlacedTreaty, ...]
    members: tuple[tuple[PlacedTreaty, ...], ...]
    pool_retained: np.ndarray
    member_retained: np.ndarray


# ---------------------------------------------------------------------------
# Placing the programmes (premiums, fixed per scenario)
# ---------------------------------------------------------------------------

def _covered_line(scenario: Scenario, treaty: Treaty) -> np.ndarray:
    covered = np.zeros(len(scenario.lines), dtype=np.bool_)
    if treaty.lines is None:
        covered[:] = True
    else:
        for name in treaty.lines:
            covered[scenario.line_index(name)] = True
    return covered


def _panel(scenario: Scenario, treaty: Treaty) -> np.ndarray:
    panel = np.zeros(len(scenario.reinsurers), dtype=np.float64)
    names = [reinsurer.name for reinsurer in scenario.reinsurers]
    for name, share in treaty.panel:
        if name not in names:
            raise ValueError(f"treaty panel names reinsurer {name!r}, which is not among "
                             f"the scenario's reinsurers {names}")
        panel[names.index(name)] += share
    return panel


def _place(scenario: Scenario, exposure: Exposure, treaties: tuple[Treaty, ...], cedant: int,
           premium: np.ndarray, sum_insured: np.ndarray) -> tuple[tuple[PlacedTreaty, ...], np.ndarray]:
    """Place one cedant's programme on its ``premium`` and ``sum_insured`` per policy (n_policies,).

    Each treaty works on what the treaties before it leave: on premium and
    losses net of them, and a surplus sets its lines against the part of each
    sum insured still retained (after a 50% quota share, half of it).

    Returns the placed treaties and the share of each policy the cedant keeps
    after its proportional treaties, ``(n_policies,)``.
    """
    n_lines = exposure.n_lines
    retained = np.ones(exposure.n_policies, dtype=np.float64)
    placed = []
    for treaty in treaties:
        covered_line = _covered_line(scenario, treaty)
        covered = covered_line[exposure.line]
        subject = np.where(covered, premium * retained, 0.0)     # (n_policies,)
        subject_premium = float(subject.sum())
        ceded_fraction = None
        line_ceded = np.zeros(n_lines)
        if treaty.type == "quota_share":
            policy_fraction = np.where(covered, treaty.cession, 0.0)
        elif treaty.type == "surplus":
            ceded_fraction = tr.surplus_fraction(sum_insured * retained, treaty.retention, treaty.surplus_lines)
            policy_fraction = np.where(covered, ceded_fraction, 0.0)
        if treaty.type in PROPORTIONAL:
            policy_ceded = policy_fraction * subject
            line_ceded = np.bincount(exposure.line, weights=policy_ceded, minlength=n_lines)
            ceded_premium = float(policy_ceded.sum())
            commission = treaty.commission * ceded_premium
            retained = retained * (1.0 - policy_fraction)
        elif treaty.type in ("per_risk_xl", "cat_xl"):
            ceded_premium, commission = treaty.layer_premium(), 0.0
        elif treaty.type == "stop_loss":
            ceded_premium, commission = treaty.rate * subject_premium, 0.0
        else:
            raise ValueError(f"unknown treaty type {treaty.type!r}; allowed: quota_share, surplus, "
                             "per_risk_xl, cat_xl, stop_loss")
        placed.append(PlacedTreaty(
            treaty=treaty, cedant=cedant, covered_line=covered_line, panel=_panel(scenario, treaty),
            ceded_fraction=ceded_fraction, subject_premium=subject_premium,
            line_subject_premium=np.bincount(exposure.line, weights=subject, minlength=n_lines),
            ceded_premium=ceded_premium, line_ceded_premium=line_ceded, commission=commission))
    return tuple(placed), retained


def place_programmes(scenario: Scenario, exposure: Exposure) -> Programmes:
    """Place the pool's joint programme and every member's own programme.

    A member's programme works on its share of the pool: its premium per
    policy is ``share * premium`` still retained by the pool, and its surplus
    lines are set against ``share * sum_insured`` still retained by the pool
    (what it actually holds of each risk).
    """
    pool, pool_retained = _place(scenario, exposure, scenario.pool.reinsurance, POOL,
                                 exposure.premium, exposure.sum_insured)
    members, member_retained = [], []
    for m, member in enumerate(scenario.pool.members):
        placed, retained = _place(scenario, exposure, member.reinsurance, m,
                                  member.share * exposure.premium * pool_retained,
                                  member.share * exposure.sum_insured * pool_retained)
        members.append(placed)
        member_retained.append(retained)
    member_retained = (np.array(member_retained) if member_retained
                       else np.empty((0, exposure.n_policies)))
    return Programmes(pool=pool, members=tuple(members), pool_retained=pool_retained,
                      member_retained=member_retained)


# A layer counts as exhausted when its recoveries reach its capacity to this relative rounding.
EXHAUSTED_TOLERANCE = 1e-12


def annual_capacity(placed: PlacedTreaty) -> float | None:
    """The most a treaty can pay in a year (``inf`` if unlimited); ``None`` for proportional treaties.

    An XL layer: its aggregate limit, already at most (reinstatements + 1) × limit
    (:func:`sim.scenario.build_treaty`). A stop loss: its limit (a loss ratio) times
    its subject premium.
    """
    treaty = placed.treaty
    if placed.proportional:
        return None
    if treaty.type == "stop_loss":
        return treaty.limit * placed.subject_premium if placed.subject_premium > 0 else math.inf
    return treaty.aggregate_limit


def treaty_labels(scenario: Scenario) -> list[tuple[str, str, str]]:
    """``(cedant, treaty name, type)`` of every treaty in :func:`placed_in_order` order;
    the cedant is ``"pool"`` or the member's name."""
    labels = [("pool", treaty.name, treaty.type) for treaty in scenario.pool.reinsurance]
    for member in scenario.pool.members:
        labels += [(member.name, treaty.name, treaty.type) for treaty in member.reinsurance]
    return labels


def placed_in_order(programmes: Programmes) -> list[PlacedTreaty]:
    """Every placed treaty: the pool's programme in order, then each member's own in member order."""
    return list(programmes.pool) + [placed for own in programmes.members for placed in own]


def _portions(placed: PlacedTreaty, shares: np.ndarray) -> np.ndarray:
    """Each member's part of a treaty's money, ``(n_members,)``: pool share, or 1 for its own."""
    if placed.cedant == POOL:
        return shares
    portion = np.zeros_like(shares)
    portion[placed.cedant] = 1.0
    return portion


# ---------------------------------------------------------------------------
# Static party facts
# ---------------------------------------------------------------------------

def parties(scenario: Scenario, exposure: Exposure) -> Parties:
    """The parties (pool, members, reinsurers) and their fixed premiums and capital.

    Reinsurers' ``line_gross_premium`` is the premium they receive: their panel
    share of proportional premium by line, plus of deposit premiums spread over
    the treaty's covered lines pro rata to the pool's gross premium there. The
    pool row holds the sums over members, as in the per-trial columns.
    """
    members = scenario.pool.members
    reinsurers = scenario.reinsurers
    n_members, n_reinsurers = len(members), len(reinsurers)
    n_parties = 1 + n_members + n_reinsurers
    n_lines = exposure.n_lines
    programmes = place_programmes(scenario, exposure)
    shares = np.array([member.share for member in members], dtype=np.float64)
    line_premium = exposure.line_premium()

    line_gross = np.zeros((n_parties, n_lines))
    line_proportional = np.zeros((n_parties, n_lines))
    nonproportional = np.zeros((n_parties, n_lines))
    member_rows = slice(1, 1 + n_members)
    reinsurer_rows = slice(1 + n_members, n_parties)
    line_gross[member_rows] = shares[:, None] * line_premium[None, :]
    for placed in placed_in_order(programmes):
        portion = _portions(placed, shares)
        if placed.proportional:
            line_proportional[member_rows] += portion[:, None] * placed.line_ceded_premium[None, :]
            line_gross[reinsurer_rows] += placed.panel[:, None] * placed.line_ceded_premium[None, :]
        else:
            subject = placed.line_subject_premium
            spread = subject / subject.sum() if subject.sum() > 0 else placed.covered_line / placed.covered_line.sum()
            nonproportional[member_rows] += np.outer(portion * placed.ceded_premium, spread)
            weights = np.where(placed.covered_line, line_premium, 0.0)
            if weights.sum() > 0:
                line_gross[reinsurer_rows] += (placed.panel[:, None] * placed.ceded_premium
                                               * (weights / weights.sum())[None, :])
    line_gross[0] = line_gross[member_rows].sum(axis=0)
    line_proportional[0] = line_proportional[member_rows].sum(axis=0)
    nonproportional[0] = nonproportional[member_rows].sum(axis=0)

    capital = np.array([sum(member.capital for member in members)]
                       + [member.capital for member in members]
                       + [reinsurer.capital for reinsurer in reinsurers], dtype=np.float64)
    return Parties(
        names=("pool",) + tuple(m.name for m in members) + tuple(r.name for r in reinsurers),
        kinds=("pool",) + ("member",) * n_members + ("reinsurer",) * n_reinsurers,
        roles=("",) + tuple(m.role for m in members) + ("",) * n_reinsurers,
        share=np.concatenate([[1.0], shares, np.zeros(n_reinsurers)]),
        capital_start=capital,
        line_gross_premium=line_gross,
        line_proportional_ceded_premium=line_proportional,
        line_nonproportional_premium=nonproportional,
    )
