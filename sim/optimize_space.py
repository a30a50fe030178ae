"""What ``poolsim optimize`` searches: the ``[optimize]`` table's varied keys, and structures built from them.

The table itself is read, with the rest of the scenario file, by :mod:`sim.optimize_read`.

A structure is a flat dict of *settings*, one entry per column of
``candidates.csv``: a treaty term under its key as written
(``pool.reinsurance[1].retention``), each member's share as
``share:<member>``. :func:`point_settings` maps a point of the unit cube
(a Sobol point) to settings; :func:`apply_settings` writes settings into the
file's raw ``[pool]`` table, which is then read like any scenario file, so a
candidate is exactly the scenario its ``best.toml`` would give.

Key paths
---------
* ``pool.reinsurance[i].<term>``: a numeric term of the pool's treaty at
  position ``i`` (from 0, in inuring order);
* ``pool.members[m].reinsurance[i].<term>``: of member ``m``'s own treaty;
* ``pool.members.share``: every member's share together; ``min`` and ``max``
  bound each share, and the shares always sum to 1.
"""
from __future__ import annotations

import copy
import math
import re

import numpy as np

from . import model

SHARES_KEY = "pool.members.share"
SIGNIFICANT_DIGITS = 6      # of a searched treaty term
SHARE_COLUMN_PREFIX = "share:"
TREATY_KEY = re.compile(r"^pool\.(?:members\[(\d+)\]\.)?reinsurance\[(\d+)\]\.([A-Za-z_]+)$")
# Layers `pricing` prices, and the terms that are their premium (set by pricing, so not varied with it).
PRICED_TYPES = ("per_risk_xl", "cat_xl", "stop_loss")
PREMIUM_TERMS = ("rate_on_line", "premium", "rate")


def treaty_of(pool: model.Pool, vary: model.Vary) -> model.Treaty:
    programme = pool.reinsurance if vary.member is None else pool.members[vary.member].reinsurance
    return programme[vary.position]


# ---------------------------------------------------------------- settings of a structure
def setting_columns(optimize: model.Optimize, pool: model.Pool) -> list[str]:
    """The settings' names (``candidates.csv`` columns), in the order the keys are varied."""
    columns = []
    for vary in optimize.vary:
        if vary.term == "share":
            columns += [SHARE_COLUMN_PREFIX + member.name for member in pool.members]
        else:
            columns.append(vary.key)
    return columns


def dimension(optimize: model.Optimize, pool: model.Pool) -> int:
    """Coordinates of a point: one per treaty term, one per member for the shares (the last unused)."""
    return sum(len(pool.members) if vary.term == "share" else 1 for vary in optimize.vary)


def written_settings(optimize: model.Optimize, pool: model.Pool) -> dict[str, float]:
    """The settings of the structure as written in the file (NaN for a term it leaves unset)."""
    settings = {}
    for vary in optimize.vary:
        if vary.term == "share":
            settings.update({SHARE_COLUMN_PREFIX + member.name: member.share for member in pool.members})
        else:
            value = getattr(treaty_of(pool, vary), vary.term)
            settings[vary.key] = math.nan if value is None else float(value)
    return settings


def point_settings(optimize: model.Optimize, pool: model.Pool, point: np.ndarray) -> dict[str, float]:
    """The settings at ``point``, float64 ``(dimension,)`` in [0, 1]: each term uniform within its
    [min, max], the shares on the bounded simplex (:func:`bounded_simplex`)."""
    settings, at = {}, 0
    for vary in optimize.vary:
        if vary.term == "share":
            n = len(pool.members)
            shares = bounded_simplex(point[at:at + n], vary.min, vary.max)
            settings.update({SHARE_COLUMN_PREFIX + member.name: float(share)
                             for member, share in zip(pool.members, shares)})
            at += n
        else:
            # 6 significant digits: best.toml reads 2.61944e8, not 261944069.90427524; the search
            # loses nothing a Monte Carlo estimate could tell apart
            value = float(f"{vary.min + point[at] * (vary.max - vary.min):.{SIGNIFICANT_DIGITS}g}")
            settings[vary.key] = min(max(value, vary.min), vary.max)
            at += 1
    return settings


def bounded_simplex(point: np.ndarray, low: float, high: float) -> np.ndarray:
    """Shares within [low, high] that sum to 1, from ``point`` in [0, 1]^n (its last coordinate unused).

    Share by share: each is drawn within what keeps the rest possible, by the inverse of the
    Beta(1, k) distribution that the first of k + 1 coordinates of a uniform point on the
    simplex follows, truncated to that range. Without bounds that is exactly uniform on the
    simplex; with them, close to it. The last share is what is left, so the sum is 1 to rounding.

    Parameters
    ----------
    point : float64 (n,)
    low, high : bounds of every share, with n * low <= 1 <= n * high
    """
    n = len(point)
    shares = np.empty(n)
    remaining = 1.0
    for i in range(n - 1):
        after = n - i - 1                       # shares still to draw after this one
        lower = max(low, remaining - after * high)
        upper = max(lower, min(high, remaining - after * low))
        if remaining <= 0.0:
            shares[i] = lower
            remaining -= lower
            continue
        lower_cdf = 1.0 - (1.0 - min(lower / remaining, 1.0)) ** after
        upper_cdf = 1.0 - (1.0 - min(upper / remaining, 1.0)) ** after
        level = lower_cdf + float(point[i]) * (upper_cdf - lower_cdf)
        share = remaining * (1.0 - (1.0 - level) ** (1.0 / after))
        shares[i] = min(max(share, lower), upper)
        remaining -= shares[i]
    shares[-1] = min(max(remaining, low), high)
    return shares


def apply_settings(pool_table: dict, optimize: model.Optimize, pool: model.Pool, settings: dict[str, float],
                   premiums: dict[str, float] | None = None) -> dict:
    """A copy of the file's raw ``[pool]`` table with ``settings`` (and priced ``premiums``, keyed by
    :func:`premium_key`) written in; every other key as written."""
    table = copy.deepcopy(pool_table)
    for vary in optimize.vary:
        if vary.term == "share":
            for member_table, member in zip(table["members"], pool.members):
                member_table["share"] = settings[SHARE_COLUMN_PREFIX + member.name]
        else:
            _set_term(table, vary.member, vary.position, vary.term, settings[vary.key])
    for key, value in (premiums or {}).items():
        match = TREATY_KEY.match(key)
        member = int(match.group(1)) if match.group(1) is not None else None
        _set_term(table, member, int(match.group(2)), match.group(3), value)
    return table


def _set_term(pool_table: dict, member: int | None, position: int, term: str, value: float) -> None:
    programme = pool_table["reinsurance"] if member is None else pool_table["members"][member]["reinsurance"]
    treaty = programme[position]
    treaty[term] = float(value)
    # an XL premium is rate_on_line or premium, never both
    if term == "premium":
        treaty.pop("rate_on_line", None)
    elif term == "rate_on_line":
        treaty.pop("premium", None)


def priced_treaties(optimize: model.Optimize, pool: model.Pool) -> list[tuple[int | None, int]]:
    """``(member, position)`` of each XL or stop-loss layer that pricing prices (one whose terms vary)."""
    if optimize.loading is None:
        return []
    found = []
    for vary in optimize.vary:
        if vary.term != "share" and treaty_of(pool, vary).type in PRICED_TYPES:
            if (vary.member, vary.position) not in found:
                found.append((vary.member, vary.position))
    return found


def premium_key(pool: model.Pool, member: int | None, position: int) -> str:
    """The key of a priced layer's premium term: ``premium`` (money) for an XL, ``rate`` for a stop loss."""
    programme = pool.reinsurance if member is None else pool.members[member].reinsurance
    where = "pool.reinsurance" if member is None else f"pool.members[{member}].reinsurance"
    term = "rate" if programme[position].type == "stop_loss" else "premium"
    return f"{where}[{position}].{term}"
