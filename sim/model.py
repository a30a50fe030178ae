"""Frozen, typed scenario objects.

:mod:`sim.scenario` turns a TOML file into these; every other module reads
only these objects, never raw TOML dictionaries. All money is in the
scenario's currency as floats; defaults are the documented defaults (docs/scenario-format.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .distributions import Distribution

if TYPE_CHECKING:
    from .event_tables import EventTable

TREATY_TYPES = ("quota_share", "surplus", "per_risk_xl", "cat_xl", "stop_loss")
CAPITAL_CLASSES = ("property", "liability", "special", "other")


@dataclass(frozen=True)
class Simulation:
    trials: int
    seed: int
    years: int = 1


@dataclass(frozen=True)
class Line:
    """A line of business: ``policies`` similar insured risks."""

    name: str
    policies: int
    sum_insured: Distribution          # sampled once per policy per scenario
    premium_rate: float
    frequency: Distribution            # poisson | negbin | bernoulli, claims per policy per year
    severity: Distribution | None      # ground-up loss per claim, money ...
    damage_ratio: Distribution | None  # ... or share of the sum insured (exactly one is set)
    deductible: float = 0.0
    limit: float | None = None         # None: the policy's sum insured
    uncertainty: float = 0.0           # CV of the yearly gamma risk level (mean 1), around the true level
    parameter_uncertainty: float = 0.0  # CV of the true gamma level (mean 1), drawn once per path
    capital_class: str = "other"
    premium_subsidy: float = 0.0       # share of the premium the government pays ...
    subsidy_rate_cap: float = math.inf  # ... on a premium rate of at most this ...
    subsidy_years: int | None = None   # ... in the first years of a path (None: every year)

    def subsidy_fraction(self, year: int = 1) -> float:
        """Share of the line's premium the government pays in ``year`` (1-based)."""
        if self.subsidy_years is not None and year > self.subsidy_years:
            return 0.0
        if self.premium_rate <= 0.0:
            return 0.0
        return self.premium_subsidy * min(1.0, self.subsidy_rate_cap / self.premium_rate)


@dataclass(frozen=True)
class Dependence:
    copula: str = "independent"        # independent | gaussian | t
    df: float = 4.0
    # (line_a, line_b, rho); unlisted pairs are 0
    correlation: tuple[tuple[str, str, float], ...] = ()


@dataclass(frozen=True)
class Catastrophe:
    """A systemic event type: Poisson(rate) events a year, each hitting many policies; or the
    events of an event loss table (``event_table``: then ``rate`` is 0, ``lines`` the table's,
    and the share and damage constants 0, so the engine's parametric draws make none)."""

    name: str
    rate: float
    lines: tuple[str, ...]
    affected_share: Distribution       # share of each listed line's policies hit
    damage_ratio: Distribution | None  # per hit policy, share of its sum insured ...
    severity: Distribution | None      # ... or money (exactly one is set)
    event_table: "EventTable | None" = None   # a YELT or ELT (sim.event_tables) instead of the above


@dataclass(frozen=True)
class Treaty:
    """One reinsurance treaty. Only the terms of its ``type`` are meaningful."""

    type: str                          # one of TREATY_TYPES
    panel: tuple[tuple[str, float], ...]   # (reinsurer name, share of the treaty), shares sum to 1
    name: str | None = None            # distinct within its programme; the loader gives "<type> #<position>"
    lines: tuple[str, ...] | None = None   # covered lines; None = all
    # quota share
    cession: float = 0.0
    commission: float = 0.0            # also surplus
    # surplus (retention also XL)
    retention: float = 0.0
    surplus_lines: float = 0.0         # number of lines: capacity = surplus_lines * retention
    # XL
    limit: float = math.inf            # XL: money per occurrence; stop loss: loss ratio
    reinstatements: int = 0
    reinstatement_premium: float = 1.0
    reinstatement_basis: str = "amount"    # amount | amount_and_time
    aggregate_deductible: float = 0.0
    aggregate_limit: float = math.inf  # resolved: min(given, (reinstatements + 1) * limit)
    rate_on_line: float | None = None
    premium: float | None = None       # XL premium given directly
    # stop loss
    attachment: float = 0.0            # loss ratio
    rate: float = 0.0                  # premium = rate * subject premium

    def layer_premium(self) -> float:
        """Deposit premium of an XL layer (money)."""
        if self.premium is not None:
            return self.premium
        return (self.rate_on_line or 0.0) * self.limit


@dataclass(frozen=True)
class Member:
    name: str
    role: str                          # lead | follower
    share: float
    capital: float
    expense_ratio: float = 0.0
    other_minimum_capital: float = 0.0
    reinsurance: tuple[Treaty, ...] = ()   # the member's own programme, on its share


@dataclass(frozen=True)
class Pool:
    name: str
    members: tuple[Member, ...]
    lead_fee: float = 0.0
    reinsurance: tuple[Treaty, ...] = ()   # the joint programme, in inuring order

    @property
    def lead(self) -> Member:
        return next(member for member in self.members if member.role == "lead")


@dataclass(frozen=True)
class Reinsurer:
    name: str
    default_probability: float = 0.0
    recovery_rate: float = 0.0
    capital: float = math.inf
    rating: str | None = None
    domestic_solvency_ratio: float | None = None    # its own C-ROSS ratio, for the credit factor


@dataclass(frozen=True)
class Solvency:
    regime: str = "c-ross"             # c-ross | var


@dataclass(frozen=True)
class Dynamics:
    exposure_growth: float = 0.0
    payment_pattern: tuple[float, ...] = (1.0,)
    recovery_delay_days: float = 0.0
    exit_below_solvency: float = 0.0   # 0: no exits
    reallocation: str = "pro_rata"     # pro_rata | lead


@dataclass(frozen=True)
class Pricing:
    """The ``[pricing]`` table: repricing as experience accrues (multi-year runs, sim.repricing)."""

    target_loss_ratio: float
    method: str = "credibility"
    credibility_k: float | None = None  # policy-years; None: derived from parameter_uncertainty
    max_rate_change: float = math.inf   # largest yearly change of a rate, as a fraction of it


@dataclass(frozen=True)
class Vary:
    """One searched dimension of ``[optimize]``: a treaty term, or every member's share.

    ``key`` is as written (``pool.reinsurance[1].retention``, ``pool.members[4].reinsurance[0].rate``,
    or ``pool.members.share``); ``member`` (the index of the member whose programme holds the
    treaty, None for the pool's), ``position`` and ``term`` are what it names; for shares
    ``term`` is "share" and ``position`` None.
    """

    key: str
    min: float
    max: float
    term: str
    position: int | None = None
    member: int | None = None


@dataclass(frozen=True)
class Optimize:
    """The ``[optimize]`` table, read by ``poolsim optimize`` only."""

    objective: str = "cost"            # cost (minimise) | net_result (maximise)
    candidates: int = 64
    max_prob_solvency_below_100: float | None = None
    min_solvency_ratio_p01: float | None = None
    loading: float | None = None       # pricing.loading; None: premiums stay as written
    vary: tuple[Vary, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    simulation: Simulation
    lines: tuple[Line, ...]
    pool: Pool
    currency: str = "CNY"
    dependence: Dependence = field(default_factory=Dependence)
    catastrophes: tuple[Catastrophe, ...] = ()
    reinsurers: tuple[Reinsurer, ...] = ()
    solvency: Solvency = field(default_factory=Solvency)
    dynamics: Dynamics = field(default_factory=Dynamics)
    source: str | None = None          # the file it was read from, for messages
    sha256: str = ""                   # of the resolved scenario (after `base` inheritance)
    notes: tuple[str, ...] = ()        # what validation found valid but probably not meant
    optimize: Optimize | None = None   # the [optimize] table, for `poolsim optimize`
    pricing: Pricing | None = None     # the [pricing] table; None: rates stay as written

    def line_index(self, name: str) -> int:
        return next(i for i, line in enumerate(self.lines) if line.name == name)

    def reinsurer_index(self, name: str) -> int:
        return next(i for i, reinsurer in enumerate(self.reinsurers) if reinsurer.name == name)
