"""What ``poolsim optimize`` searches: the ``[optimize]`` table's varied keys, and structures built from them.

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
from typing import Any

import numpy as np

from . import model
from .scenario_fields import OPTIMIZE, OPTIMIZE_PRICING, OPTIMIZE_VARY, TREATY_TERMS
from .scenario_tables import TableReader
from .scenario_values import NUMBER, SHARE, _suggestion, show

SHARES_KEY = "pool.members.share"
SIGNIFICANT_DIGITS = 6      # of a searched treaty term
SHARE_COLUMN_PREFIX = "share:"
TREATY_KEY = re.compile(r"^pool\.(?:members\[(\d+)\]\.)?reinsurance\[(\d+)\]\.([A-Za-z_]+)$")
# Layers `pricing` prices, and the terms that are their premium (set by pricing, so not varied with it).
PRICED_TYPES = ("per_risk_xl", "cat_xl", "stop_loss")
PREMIUM_TERMS = ("rate_on_line", "premium", "rate")
# The note `poolsim run` shows for a scenario with [optimize] (poolsim optimize leaves it out).
IGNORED_BY_RUN = "[optimize] is read by poolsim optimize only; poolsim run and compare ignore it"
KEY_EXAMPLES = ('a numeric treaty term by its position, such as "pool.reinsurance[1].retention" or '
                '"pool.members[4].reinsurance[0].rate" (positions count from 0), or "pool.members.share" '
                "(every member's share)")


# ---------------------------------------------------------------- reading [optimize]
def read_optimize(reader: TableReader, value: Any, pool: model.Pool | None) -> model.Optimize | None:
    """The ``[optimize]`` table, checked like the rest of the file (problems go to ``reader``).

    ``pool`` is the scenario's pool (None when it has problems of its own: the key
    paths are then not checked against it).
    """
    before = len(reader.problems)
    clean = reader.table(value, "optimize", OPTIMIZE)
    if clean is None:
        return None
    loading = None
    if "pricing" in value:
        pricing = reader.table(value["pricing"], "optimize.pricing", OPTIMIZE_PRICING)
        loading = (pricing or {}).get("loading")
    items = reader.array_of_tables(value.get("vary"), "optimize.vary", required=True) or []
    varied: list[model.Vary] = []
    positions: list[int] = []             # each varied key's index in [[optimize.vary]], for messages
    for index, item in enumerate(items):
        path = f"optimize.vary[{index}]"
        row = reader.table(item, path, OPTIMIZE_VARY)
        if row is None or len(row) != len(OPTIMIZE_VARY):
            continue
        vary = _vary(reader, path, row, item, pool)
        if vary is not None:
            if any(_same_key(vary, other) for other in varied):
                reader.bad_value(f"{path}.key", vary.key, "is varied twice; give each key once")
            else:
                varied.append(vary)
                positions.append(index)
    if pool is not None and "pricing" in value:
        _check_pricing(reader, varied, positions, pool)
    if len(reader.problems) > before or pool is None:
        return None
    reader.note("optimize", IGNORED_BY_RUN)
    return model.Optimize(objective=clean["objective"], candidates=clean["candidates"],
                          max_prob_solvency_below_100=clean["max_prob_solvency_below_100"],
                          min_solvency_ratio_p01=clean["min_solvency_ratio_p01"], loading=loading,
                          vary=tuple(varied))


def _same_key(first: model.Vary, second: model.Vary) -> bool:
    return (first.term, first.position, first.member) == (second.term, second.position, second.member)


def _vary(reader: TableReader, path: str, row: dict, raw: dict, pool: model.Pool | None) -> model.Vary | None:
    """The checked entry ``row`` of ``[[optimize.vary]]`` (``raw`` as written, for messages)."""
    key, low, high = row["key"], row["min"], row["max"]
    before = len(reader.problems)
    if key == SHARES_KEY:
        for bound, number in (("min", low), ("max", high)):
            if not SHARE.accepts(number):
                reader.bad_value(f"{path}.{bound}", raw[bound], f"must be {SHARE.text}, a bound on each member's "
                                                            f"share{SHARE.hint(number)}")
        _check_order(reader, path, raw)
        if pool is not None and len(reader.problems) == before:
            n = len(pool.members)
            if n * low > 1.0 + 1e-12 or n * high < 1.0 - 1e-12:
                reader.bad_value(path, raw,
                                 f"cannot hold shares that sum to 1: {n} members need min <= {1 / n:.6g} <= max")
        return model.Vary(key, low, high, term="share") if len(reader.problems) == before else None
    match = TREATY_KEY.match(key)
    if match is None:
        reader.bad_value(f"{path}.key", key, f"must be {KEY_EXAMPLES}")
        return None
    if pool is None:
        return None
    member = int(match.group(1)) if match.group(1) is not None else None
    position, term = int(match.group(2)), match.group(3)
    if member is not None and member >= len(pool.members):
        reader.bad_value(f"{path}.key", key, f"names pool.members[{member}], but the pool has {len(pool.members)} "
                                             f"members, pool.members[0] to [{len(pool.members) - 1}]")
        return None
    programme = pool.reinsurance if member is None else pool.members[member].reinsurance
    where = "pool.reinsurance" if member is None else f"pool.members[{member}].reinsurance"
    if position >= len(programme):
        held = (f"{where}[0] to [{len(programme) - 1}]" if programme else "none")
        reader.bad_value(f"{path}.key", key, f"names {where}[{position}], but that programme has "
                                             f"{len(programme)} treaties ({held}; positions count from 0)")
        return None
    treaty = programme[position]
    terms = TREATY_TERMS[treaty.type]
    numeric = [name for name, field in terms.items() if field.kind is NUMBER]
    if term not in numeric:
        what = (f"is not a term of {where}[{position}], a {treaty.type} treaty (\"{treaty.name}\")"
                f"{_suggestion(term, numeric)}" if term not in terms else
                f"names a term that cannot be varied (a name, panel, list of lines or whole number) of "
                f"{where}[{position}], a {treaty.type} treaty (\"{treaty.name}\")")
        reader.bad_value(f"{path}.key", key, f"{what}; the terms it can vary: {', '.join(numeric)}")
        return None
    check = terms[term].check
    for bound, number in (("min", low), ("max", high)):
        if check is not None and not check.accepts(number):
            reader.bad_value(f"{path}.{bound}", raw[bound], f"must be {check.text} (as {term} of a {treaty.type} "
                                                        f"treaty){check.hint(number)}")
    _check_order(reader, path, raw)
    if term == "rate_on_line" and treaty.limit == math.inf:
        reader.bad_value(f"{path}.key", key, "varies the rate on line of an unlimited layer (limit = inf), which "
                                             "it cannot price; vary premium instead")
    if len(reader.problems) > before:
        return None
    return model.Vary(key, low, high, term=term, position=position, member=member)


def _check_order(reader: TableReader, path: str, raw: dict) -> None:
    if raw["min"] > raw["max"]:
        reader.bad_value(f"{path}.min", raw["min"], f"must be <= max = {show(raw['max'])}")


def _check_pricing(reader: TableReader, varied: list[model.Vary], positions: list[int], pool: model.Pool) -> None:
    priced = [(vary, index) for vary, index in zip(varied, positions)
              if vary.term != "share" and treaty_of(pool, vary).type in PRICED_TYPES]
    for vary, index in priced:
        if vary.term in PREMIUM_TERMS:
            reader.bad_value(f"optimize.vary[{index}].key", vary.key,
                             "varies the premium of a layer that optimize.pricing prices at (1 + loading) x its "
                             "expected loss; vary its other terms, or remove pricing")
    if not priced:
        reader.note("optimize.pricing", "optimize.pricing is given, but no XL or stop-loss term is varied, so "
                                        "every premium stays as written")


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
