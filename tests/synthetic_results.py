"""A synthetic one-year run that conserves money, for the results, metrics and plots tests.

Pool programme: a 30% quota share (China Re 60%, Swiss Re 40%, commission 30%),
then a cat XL on the quota share's retention (China Re 100%, one reinstatement).
Swiss Re defaults in about 2% of trials and then pays half of what it owes.
Every trial: pool gross = Σ members' net + Σ reinsurers' paid, exactly by construction.
"""
from __future__ import annotations

import math

import numpy as np

from sim.distributions import Distribution
from sim.model import Line, Member, Pool, Reinsurer, Scenario, Simulation, Solvency, Treaty
from sim.parties import PARTY_COLUMNS, Parties

QUOTA_SHARE = 0.30
QS_COMMISSION = 0.30
QS_PANEL = {"China Re": 0.6, "Swiss Re": 0.4}
XL_RETENTION, XL_LIMIT, XL_PREMIUM = 20e6, 60e6, 5e6
LINE_PREMIUM = np.array([1.0e8, 0.5e8])          # ai_liability, robot_property
EXPENSE_RATIO, LEAD_FEE = 0.25, 0.015
SWISS_DEFAULT_PROBABILITY, SWISS_RECOVERY_RATE = 0.02, 0.5


def member_shares(n_members: int) -> np.ndarray:
    if n_members == 3:
        return np.array([0.5, 0.3, 0.2])
    return np.full(n_members, 1.0 / n_members)


def make_scenario(n_members: int = 3, regime: str = "c-ross", trials: int = 2000,
                  name: str = "Synthetic AI pool") -> Scenario:
    shares = member_shares(n_members)
    members = tuple(
        Member(name="Lead P&C" if i == 0 else f"Follower {i}", role="lead" if i == 0 else "follower",
               share=float(share), capital=float(3.0e7 * share / shares[0] + 1e7),
               expense_ratio=EXPENSE_RATIO, other_minimum_capital=1e7 if i == 0 else 0.0)
        for i, share in enumerate(shares))
    lines = (
        Line("ai_liability", 5000, Distribution.constant(1e6), 0.02,
             Distribution("poisson", 0.03), Distribution.constant(1e5), None, capital_class="liability"),
        Line("robot_property", 1000, Distribution.constant(2.5e6), 0.02,
             Distribution("poisson", 0.05), Distribution.constant(2e5), None, capital_class="property"),
    )
    programme = (
        Treaty("quota_share", tuple(QS_PANEL.items()), cession=QUOTA_SHARE, commission=QS_COMMISSION),
        Treaty("cat_xl", (("China Re", 1.0),), retention=XL_RETENTION, limit=XL_LIMIT, reinstatements=1,
               premium=XL_PREMIUM),
    )
    return Scenario(
        name=name,
        simulation=Simulation(trials=trials, seed=2026),
        lines=lines,
        pool=Pool("Synthetic pool", members, lead_fee=LEAD_FEE, reinsurance=programme),
        reinsurers=(Reinsurer("China Re", capital=4e8, rating="A"),
                    Reinsurer("Swiss Re", default_probability=SWISS_DEFAULT_PROBABILITY,
                              recovery_rate=SWISS_RECOVERY_RATE, rating="AA")),
        solvency=Solvency(regime=regime),
        sha256="0" * 64,
    )


def make_run(n_trials: int = 2000, seed: int = 7, n_members: int = 3, regime: str = "c-ross",
             name: str = "Synthetic AI pool", gross_seed: int | None = None):
    """(scenario, parties, arrays, line_loss, line_claims, run_info) of a synthetic run.

    ``gross_seed`` (default ``seed``) drives the gross losses alone, so two runs
    with the same ``gross_seed`` share their gross losses whatever else differs.
    """
    scenario = make_scenario(n_members, regime, n_trials, name)
    gross_random = np.random.default_rng(seed if gross_seed is None else gross_seed)
    other_random = np.random.default_rng(seed + 1_000_003)
    shares = member_shares(n_members)
    n_parties = 1 + n_members + 2
    members = np.arange(1, 1 + n_members)
    china, swiss = 1 + n_members, 2 + n_members

    # Gross losses: attritional by line, plus a catastrophe on ai_liability in ~10% of years.
    attritional = gross_random.gamma(4.0, [1.2e7, 0.7e7], size=(n_trials, 2))
    cat = np.where(gross_random.random(n_trials) < 0.10, gross_random.lognormal(np.log(3e7), 0.8, n_trials), 0.0)
    line_loss = attritional.copy()
    line_loss[:, 0] += cat
    line_claims = gross_random.poisson([150, 50], size=(n_trials, 2)).astype(np.int64) + (cat > 0)[:, None] * [40, 0]
    gross = line_loss.sum(axis=1)
    premium = LINE_PREMIUM.sum()

    # Programme: QS first, then the cat XL on the QS retention of the catastrophe.
    qs_ceded = QUOTA_SHARE * gross
    cat_after_qs = (1.0 - QUOTA_SHARE) * cat
    xl_recovery = np.minimum(np.maximum(cat_after_qs - XL_RETENTION, 0.0), XL_LIMIT)
    reinstatement_premium = XL_PREMIUM * xl_recovery / XL_LIMIT
    owed_china = QS_PANEL["China Re"] * qs_ceded + xl_recovery
    owed_swiss = QS_PANEL["Swiss Re"] * qs_ceded
    swiss_defaulted = other_random.random(n_trials) < SWISS_DEFAULT_PROBABILITY
    swiss_unpaid = np.where(swiss_defaulted, (1.0 - SWISS_RECOVERY_RATE) * owed_swiss, 0.0)

    arrays = {key: np.zeros((n_trials, n_parties)) for key in PARTY_COLUMNS}
    outer = np.multiply.outer
    arrays["gross_loss"][:, members] = outer(gross, shares)
    arrays["ceded_loss"][:, members] = outer(qs_ceded + xl_recovery, shares)
    arrays["default_loss"][:, members] = outer(swiss_unpaid, shares)
    arrays["net_loss"][:, members] = (arrays["gross_loss"][:, members] - arrays["ceded_loss"][:, members]
                                      + arrays["default_loss"][:, members])
    arrays["gross_premium"][:, members] = premium * shares
    arrays["ceded_premium"][:, members] = (QUOTA_SHARE * premium + XL_PREMIUM) * shares
    arrays["reinstatement_premium"][:, members] = outer(reinstatement_premium, shares)
    arrays["commission"][:, members] = QS_COMMISSION * QUOTA_SHARE * premium * shares
    arrays["expenses"][:, members] = EXPENSE_RATIO * premium * shares
    followers_premium = premium * shares[1:].sum()
    arrays["lead_fee"][:, members] = np.concatenate([[LEAD_FEE * followers_premium],
                                                     -LEAD_FEE * premium * shares[1:]])
    largest = np.maximum(cat, 0.2 * attritional.max(axis=1))
    arrays["max_occurrence_gross"][:, members] = outer(largest, shares)
    arrays["max_occurrence_net"][:, members] = outer((1.0 - QUOTA_SHARE) * largest
                                                     - np.where(cat >= 0.2 * attritional.max(axis=1),
                                                                xl_recovery, 0.0), shares)
    arrays["cat_loss_after_proportional"][:, members] = outer(cat_after_qs, shares)
    arrays["cat_xl_recovery"][:, members] = outer(xl_recovery, shares)
    arrays["credit_exposure"][:, members] = outer(0.087 * owed_china + 0.046 * owed_swiss, shares)

    for column, owed, unpaid, premium_received, commission in (
            (china, owed_china, 0.0, QS_PANEL["China Re"] * QUOTA_SHARE * premium + XL_PREMIUM
             + reinstatement_premium, QS_PANEL["China Re"] * QS_COMMISSION * QUOTA_SHARE * premium),
            (swiss, owed_swiss, swiss_unpaid, QS_PANEL["Swiss Re"] * QUOTA_SHARE * premium,
             QS_PANEL["Swiss Re"] * QS_COMMISSION * QUOTA_SHARE * premium)):
        arrays["gross_loss"][:, column] = owed
        arrays["default_loss"][:, column] = unpaid
        arrays["net_loss"][:, column] = owed - unpaid
        arrays["gross_premium"][:, column] = premium_received
        arrays["commission"][:, column] = commission
        arrays["max_occurrence_gross"][:, column] = 0.8 * owed
        arrays["max_occurrence_net"][:, column] = 0.8 * (owed - unpaid)
    arrays["defaulted"][:, swiss] = swiss_defaulted.astype(np.float64)

    # Per treaty (the QS, the cat XL), the pool's money; Swiss Re's default is on the QS.
    treaty = {
        "treaty_ceded_loss": np.column_stack([qs_ceded, xl_recovery]),
        "treaty_reinstatement_premium": np.column_stack([np.zeros(n_trials), reinstatement_premium]),
        "treaty_default_loss": np.column_stack([swiss_unpaid, np.zeros(n_trials)]),
        "treaty_ceded_premium": np.tile([QUOTA_SHARE * premium, XL_PREMIUM], (n_trials, 1)),
        "treaty_commission": np.tile([QS_COMMISSION * QUOTA_SHARE * premium, 0.0], (n_trials, 1)),
        "treaty_exhausted": np.column_stack([np.full(n_trials, np.nan), (xl_recovery >= 2 * XL_LIMIT) * 1.0]),
    }
    arrays.update(treaty)

    for key in PARTY_COLUMNS:
        arrays[key][:, 0] = arrays[key][:, members].sum(axis=1)
    arrays["gross_loss"][:, 0] = gross
    arrays["gross_premium"][:, 0] = premium
    arrays["max_occurrence_gross"][:, 0] = largest
    arrays["defaulted"][:, 0] = 0.0

    names = ("pool",) + tuple(member.name for member in scenario.pool.members) + ("China Re", "Swiss Re")
    kinds = ("pool",) + ("member",) * n_members + ("reinsurer",) * 2
    roles = ("",) + tuple(member.role for member in scenario.pool.members) + ("", "")
    line_gross = np.zeros((n_parties, 2))
    line_gross[0] = LINE_PREMIUM
    line_gross[members] = outer(shares, LINE_PREMIUM)
    # the XL's premium over the two lines pro rata to their retained premium
    spread = (1.0 - QUOTA_SHARE) * np.asarray(LINE_PREMIUM) / ((1.0 - QUOTA_SHARE) * np.sum(LINE_PREMIUM))
    nonproportional = np.zeros((n_parties, 2))
    nonproportional[members] = outer(XL_PREMIUM * shares, spread)
    nonproportional[0] = XL_PREMIUM * spread
    capital = np.array([math.nan] + [member.capital for member in scenario.pool.members] + [4e8, math.inf])
    parties = Parties(
        names=names, kinds=kinds, roles=roles,
        share=np.concatenate([[1.0], shares, [0.0, 0.0]]),
        capital_start=capital,
        line_gross_premium=line_gross,
        line_proportional_ceded_premium=QUOTA_SHARE * line_gross,
        line_nonproportional_premium=nonproportional,
    )
    run_info = {"name": scenario.name, "sha256": scenario.sha256, "seed": seed, "trials": n_trials,
                "years": 1, "version": "test", "wall_seconds": 0.5, "threads": 1}
    return scenario, parties, arrays, line_loss, line_claims, run_info
