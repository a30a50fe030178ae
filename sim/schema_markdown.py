"""The Markdown reference of scenario files (``poolsim schema --markdown``, the generated part
of ``docs/scenario-format.md``): every key of every table, from the loader's tables and
:mod:`sim.schema`'s words."""
from __future__ import annotations

from .distributions import PARAMETER_SETS
from .scenario_fields import SCENARIO, TREATY_TERMS, Field
from .scenario_values import show
from .schema import (BASE_KEY, DISTRIBUTION_MEANINGS, NESTING, PARAMETER_RANGES, TREATIES, TREATIES_ANCHOR,
                     TREATIES_HEADING, Special, Table, default_in_words, description)
from .schema_json import json_default


def markdown() -> str:
    """Every key of every table: type, default, allowed values, meaning; then the distributions."""
    out = ["## Reference", "",
           "Generated from the loader's tables by `poolsim schema --markdown`. *Required* keys have no "
           "default; a file with `base` may leave them to its base.", ""]
    out += _table_section("Top level", "", SCENARIO, extra_first=[(BASE_KEY, "a string (a file name)", "none",
                                                                   "", description("", BASE_KEY))])
    for key, nested in NESTING[""].items():
        out += _nested_sections(key, nested)
    out += [f"### {TREATIES_HEADING}", "",
            "Each treaty is a table with `type` and the terms of that type; the terms of other types "
            "are refused.", ""]
    for treaty_type, terms in TREATY_TERMS.items():
        out += _table_section(f'`type = "{treaty_type}"`', treaty_type, terms, level="####")
    out += _distribution_section()
    return "\n".join(out).rstrip() + "\n"


def _nested_sections(key: str, nested: Table | Special | str, path: str = "") -> list[str]:
    if not isinstance(nested, Table):
        return []
    full = f"{path}.{key}" if path else key
    heading = f"`[[{full}]]`" if nested.array else f"`[{full}]`"
    if nested.array and nested.required:
        heading += " (at least one)"
    elif nested.required:
        heading += " (required)"
    lines = _table_section(heading, nested.name, nested.fields)
    for inner_key, inner in NESTING.get(nested.name, {}).items():
        lines += _nested_sections(inner_key, inner, full)
    return lines


def _table_section(heading: str, table: str, fields: dict, level: str = "###",
                   extra_first: list[tuple[str, str, str, str, str]] = ()) -> list[str]:
    rows = list(extra_first)
    nested = NESTING.get(table, {})
    for key, field in fields.items():
        if field is None:
            item = nested[key]
            if item == TREATIES:
                type_text, default, allowed = ("an array of treaty tables", default_in_words(table, key),
                                               f"see [Treaties](#{TREATIES_ANCHOR})")
            elif isinstance(item, Special):
                type_text, default, allowed = item.type_text, default_in_words(table, key), "rho within [-1, 1]"
            else:
                type_text = "an array of tables" if item.array else "a table"
                default = "*required*" if item.required else default_in_words(table, key)
                allowed = "see below"
        else:
            type_text = field.kind.noun
            allowed = field.check.text if field.check is not None else ""
            if "$ref" in (field.kind.json_schema or {}):
                allowed = "see [Distributions](#distributions)"
            default = _default_text(table, key, field)
        if default is None:
            raise KeyError(f"sim.schema.DEFAULTS_IN_WORDS has no entry for {table or 'the top level'}: {key}")
        rows.append((key, type_text, default, allowed, description(table, key)))
    lines = [f"{level} {heading}", "", "| key | type | default | allowed | meaning |", "|---|---|---|---|---|"]
    lines += [f"| `{key}` | {_cell(kind)} | {_cell(default)} | {_cell(allowed)} | {_cell(meaning)} |"
              for key, kind, default, allowed, meaning in rows]
    return lines + [""]


def _default_text(table: str, key: str, field: Field) -> str | None:
    if field.required:
        return "*required*"
    words = default_in_words(table, key)
    if words is not None:
        return words
    if json_default(field.default) is None:
        return None
    return f"`{show(field.default if not isinstance(field.default, tuple) else list(field.default))}`"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def _range_text(keywords: dict) -> str:
    parts = []
    if "minimum" in keywords:
        parts.append(f">= {keywords['minimum']:g}")
    if "exclusiveMinimum" in keywords:
        parts.append(f"> {keywords['exclusiveMinimum']:g}")
    if "maximum" in keywords:
        parts.append(f"<= {keywords['maximum']:g}")
    if "exclusiveMaximum" in keywords:
        parts.append(f"< {keywords['exclusiveMaximum']:g}")
    return " and ".join(parts) if parts else "any finite number"


def _distribution_section() -> list[str]:
    lines = ["### Distributions", "",
             "A distribution is a number (a constant) or an inline table with `dist` and one set of its "
             "parameters, e.g. `{ dist = \"lognormal\", median = 3e5, sigma = 1.8 }`. Claim counts "
             "(`frequency`) take `poisson`, `negbin` or `bernoulli`; every other distribution key takes the "
             "others. Any distribution may add `max`, which caps its draws: a number > 0, and on a `frequency` "
             "a whole number >= 1 (each policy's claims in a year). A distribution of a fraction "
             "(`damage_ratio`, `affected_share`) must stay within [0, 1]: a beta, a uniform with `high` <= 1, "
             "or another with `max` <= 1.", "",
             "| `dist` | parameters (one set) | ranges | meaning |", "|---|---|---|---|"]
    for kind, options in PARAMETER_SETS.items():
        sets = " or ".join("(" + ", ".join(f"`{name}`" for name in option) + ")" for option in options)
        names = dict.fromkeys(name for option in options for name in option)
        ranges = "; ".join(f"`{name}` {_range_text(PARAMETER_RANGES[(kind, name)])}" for name in names)
        lines.append(f"| `{kind}` | {sets} | {_cell(ranges)} | {_cell(DISTRIBUTION_MEANINGS[kind])} |")
    return lines + [""]
