"""The JSON Schema (draft 2020-12) of scenario files, built from the loader's tables and
:mod:`sim.schema`'s words: what ``poolsim schema`` prints and ``docs/scenario.schema.json`` holds."""
from __future__ import annotations

import json
import math
from typing import Any

from .distributions import FREQUENCY_KINDS, PARAMETER_SETS
from .scenario_fields import SCENARIO, TREATY_TERMS, Field
from .scenario_values import SEVERITY_DISTRIBUTIONS, STRING
from .schema import (BASE_KEY, DISTRIBUTION_MEANINGS, DRAFT, FREQUENCY_MAX, NESTING, PARAMETER_RANGES,
                     ROLE_CONSTANTS, RULES, SEVERITY_MAX, TITLE, TREATIES, Special, Table, description)


def field_schema(field: Field) -> dict:
    """One loader Field in JSON Schema: its kind, its check, its default when JSON can spell it."""
    if field.kind.json_schema is None:
        raise ValueError(f"the loader's kind {field.kind.noun!r} has no json_schema")
    kind = dict(field.kind.json_schema)
    check = dict(field.check.json_schema) if field.check is not None else {}
    if field.check is not None and not check:
        raise ValueError(f"the loader's check {field.check.text!r} has no json_schema")
    if "$ref" in kind and check:
        # beside $ref, draft-7 validators ignore every other keyword
        return {"allOf": [kind, check]}
    if kind.get("type") == "number" and field.check is not None and field.check.accepts(math.inf):
        # taplo turns TOML's inf into JSON's null (JSON has no infinity): let it through
        kind["type"] = ["number", "null"]
    return {**kind, **check}


def json_default(value: Any) -> Any:
    if isinstance(value, tuple):
        value = list(value)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value


def table_schema(table: str, fields: dict) -> dict:
    """A loader table as a closed JSON object: every key, the required ones, the rules across keys."""
    nested = NESTING.get(table, {})
    unread = {key for key, field in fields.items() if field is None} ^ set(nested)
    if unread:
        raise ValueError(f"sim.schema.NESTING[{table!r}] and the loader's table disagree on {sorted(unread)}")
    properties, required = {}, []
    for key, field in fields.items():
        if field is None:
            entry, is_required = _nested_schema(nested[key])
        else:
            entry, is_required = field_schema(field), field.required
            default = json_default(field.default)
            if default is not None:
                entry["default"] = default
        properties[key] = _describe(entry, description(table, key))
        if is_required:
            required.append(key)
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    rules = RULES.get(table, [])
    if len(rules) == 1:
        schema.update(rules[0])
    elif rules:
        schema["allOf"] = rules
    return schema


def _describe(entry: dict, text: str) -> dict:
    if "$ref" in entry:
        entry = {"allOf": [entry]}      # a description beside $ref would be dropped by draft-7 validators
    return {"description": text, **entry}


def _nested_schema(nested: Table | Special | str) -> tuple[dict, bool]:
    if nested == TREATIES:
        return {"type": "array", "items": {"$ref": "#/$defs/treaty"}}, False
    if isinstance(nested, Special):
        return dict(nested.json_schema), nested.required
    body = table_schema(nested.name, nested.fields)
    if nested.array:
        array = {"type": "array", "items": body}
        if nested.required:
            array["minItems"] = 1
        return array, nested.required
    return body, nested.required


def treaty_schema() -> dict:
    """A treaty table: `type` chooses which terms are allowed (if/then, which draft 7 also reads)."""
    branches = []
    for treaty_type, terms in TREATY_TERMS.items():
        fields = {"type": Field(STRING, required=True), **terms}
        body = table_schema(treaty_type, fields)
        body["properties"]["type"] = {"description": description("treaty", "type"), "const": treaty_type}
        branches.append({"if": {"properties": {"type": {"const": treaty_type}}, "required": ["type"]},
                         "then": body})
    return {
        "type": "object",
        "description": "One treaty; its type chooses its terms.",
        "properties": {"type": {"description": description("treaty", "type"), "enum": list(TREATY_TERMS)}},
        "required": ["type"],
        "allOf": branches,
    }


def distribution_table_schema(kind: str) -> dict:
    """One `dist` table: its parameters, exactly one of its parameter sets, and `max`."""
    options = PARAMETER_SETS[kind]
    names = list(dict.fromkeys(name for option in options for name in option))
    properties: dict[str, Any] = {"dist": {"const": kind}}
    for name in names:
        properties[name] = {"type": "number", **PARAMETER_RANGES[(kind, name)]}
    properties["max"] = dict(FREQUENCY_MAX if kind in FREQUENCY_KINDS else SEVERITY_MAX)
    properties["max"]["description"] = ("caps each policy's claim count in a year" if kind in FREQUENCY_KINDS
                                        else "caps every draw")
    schema = {"type": "object", "properties": properties, "required": ["dist"],
              "additionalProperties": False, "description": DISTRIBUTION_MEANINGS[kind]}
    sets = []
    for option in options:
        others = [name for name in names if name not in option]
        rule: dict[str, Any] = {"required": list(option)}
        if others:
            rule["not"] = {"anyOf": [{"required": [name]} for name in others]}
        sets.append(rule)
    if len(sets) == 1:
        schema["required"] = ["dist", *sets[0]["required"]]
    else:
        schema["oneOf"] = sets
    return schema


def _distribution_choice(kinds) -> dict:
    """A table with `dist` one of ``kinds``, each kind's own schema chosen by if/then."""
    return {
        "type": "object",
        "properties": {"dist": {"enum": list(kinds)}},
        "required": ["dist"],
        "allOf": [{"if": {"properties": {"dist": {"const": kind}}, "required": ["dist"]},
                   "then": {"$ref": f"#/$defs/dist_{kind}"}} for kind in kinds],
    }


def distribution_definitions() -> dict:
    """``$defs`` of the three roles a distribution plays (sim.scenario.distribution)."""
    definitions = {
        "frequency_distribution": {
            "description": "Claims per policy per year: a table with dist = poisson, negbin or bernoulli.",
            **_distribution_choice(FREQUENCY_KINDS)},
        "money_distribution": {
            "description": "Money: a number (a constant), or a table with dist and its parameters.",
            "anyOf": [{"type": "number", **ROLE_CONSTANTS["money"]}, _distribution_choice(SEVERITY_DISTRIBUTIONS)]},
        "share_distribution": {
            "description": "A fraction: a number within [0, 1], or a distribution on [0, 1] (beta, a uniform "
                           "with high <= 1, or another with max <= 1).",
            "anyOf": [{"type": "number", **ROLE_CONSTANTS["share"]}, _distribution_choice(SEVERITY_DISTRIBUTIONS)]},
    }
    for kind in PARAMETER_SETS:
        definitions[f"dist_{kind}"] = distribution_table_schema(kind)
    return definitions


def scenario_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a scenario file, as a dict."""
    body = table_schema("", SCENARIO)
    required = body.pop("required")
    properties = {BASE_KEY: {"description": description("", BASE_KEY), "type": "string", "minLength": 1},
                  **body["properties"]}
    return {
        "$schema": DRAFT,
        "title": TITLE,
        "description": "A poolsim scenario file (TOML): lines of business, the pool and its members, the "
                       "reinsurance and the reinsurers. `poolsim validate` checks what a schema cannot "
                       "(shares summing to 1, names that refer to lines and reinsurers, the correlation matrix).",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        # a file with `base` may leave every required key to its base
        "if": {"required": [BASE_KEY]},
        "else": {"required": required},
        "$defs": {"treaty": treaty_schema(), **distribution_definitions()},
    }


def schema_text() -> str:
    """The schema as ``poolsim schema`` prints it and ``docs/scenario.schema.json`` holds it."""
    return json.dumps(scenario_schema(), indent=2, ensure_ascii=False) + "\n"
