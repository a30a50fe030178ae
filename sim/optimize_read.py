"""The ``[optimize]`` table of a scenario file, read and checked like the rest of the file.

:class:`sim.scenario_reader.Reader` calls :func:`read_optimize` with itself, so that the
table's problems are listed with the file's others; the key paths it accepts are
:mod:`sim.optimize_space`'s.
"""
from __future__ import annotations

import math
from typing import Any

from . import model
from .optimize_space import PREMIUM_TERMS, PRICED_TYPES, SHARES_KEY, TREATY_KEY, treaty_of
from .scenario_fields import OPTIMIZE, OPTIMIZE_PRICING, OPTIMIZE_VARY, TREATY_TERMS
from .scenario_tables import TableReader
from .scenario_values import NUMBER, SHARE, _suggestion, show

KEY_EXAMPLES = ('a numeric treaty term by its position, such as "pool.reinsurance[1].retention" or '
                '"pool.members[4].reinsurance[0].rate" (positions count from 0), or "pool.members.share" '
                "(every member's share)")
# The note `poolsim run` shows for a scenario with [optimize] (poolsim optimize leaves it out).
IGNORED_BY_RUN = "[optimize] is read by poolsim optimize only; poolsim run and compare ignore it"


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

