"""The JSON Schema of scenario files, and its Markdown reference, from the loader's own tables.

:mod:`sim.scenario` checks a scenario against declarative tables (``SIMULATION``,
``LINE``, ``MEMBER``, ``TREATY_TERMS``, ...: key -> ``Field(kind, required,
default, check)``), and every kind and check carries its JSON Schema form. This
module walks those tables, so the schema lists exactly the keys the loader
accepts (``tests/test_schema.py`` holds the loader's own error messages against
it). What the tables do not hold is here, as data:

* :data:`NESTING`: where each sub-table or array of tables sits (the loader reads
  those with its own methods);
* :data:`DESCRIPTIONS`: what each key means and its unit; :data:`DEFAULTS_IN_WORDS`
  for a default that is not a plain value ("the policy's sum insured");
* :data:`PARAMETER_RANGES`: the range of each distribution parameter
  (:func:`sim.distributions.make` checks them in code);
* :data:`RULES`: the few rules across keys that JSON Schema can state (exactly one
  of ``severity`` or ``damage_ratio``, ...).

The schema is draft 2020-12, written with the keywords draft 7 shares so that
editors on older validators (taplo) read it too. It checks keys, types, ranges
and choices; what needs the whole file (shares summing to 1, a panel naming a
declared reinsurer, a valid correlation matrix) is left to ``poolsim validate``.

Public API: :func:`scenario_schema` (a dict), :func:`schema_text` (what
``poolsim schema`` prints) and :func:`markdown` (``poolsim schema --markdown``,
the reference part of ``docs/scenario-format.md``).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from . import model
from .distributions import FREQUENCY_KINDS, PARAMETER_SETS
from .scenario import (CATASTROPHE, DEPENDENCE, DYNAMICS, FINITE_NON_NEGATIVE, LINE, MEMBER, OPTIMIZE,
                       OPTIMIZE_PRICING, OPTIMIZE_VARY, POOL, REINSURER, SCENARIO, SEVERITY_DISTRIBUTIONS, SHARE,
                       SIMULATION, SOLVENCY, STRING, TREATY_TERMS, Field, show)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
TITLE = "poolsim scenario"
# The key `base` is resolved before the tables are checked (sim.scenario._resolve_bases).
BASE_KEY = "base"


# ---------------------------------------------------------------- where the tables sit
@dataclass(frozen=True)
class Table:
    """A loader table at a key: ``fields`` is the loader's dict; ``array`` for [[...]]."""

    name: str                  # its name in DESCRIPTIONS and in the reference, e.g. "pool.members"
    fields: dict
    array: bool = False
    required: bool = False     # the key must be given (at least one table, for an array)


@dataclass(frozen=True)
class Special:
    """A key the loader reads with its own method, whose schema is written here."""

    name: str
    json_schema: dict
    type_text: str
    required: bool = False


TREATIES = "treaties"     # the programmes: arrays of treaty tables, one schema per `type`
TREATIES_HEADING = "Treaties: `[[pool.reinsurance]]` and `[[pool.members.reinsurance]]`"
TREATIES_ANCHOR = "treaties-poolreinsurance-and-poolmembersreinsurance"    # GitHub's anchor of the heading

# For each loader table, the tables and special keys its `None` entries stand for.
NESTING: dict[str, dict[str, Table | Special | str]] = {
    "": {
        "simulation": Table("simulation", SIMULATION, required=True),
        "lines": Table("lines", LINE, array=True, required=True),
        "dependence": Table("dependence", DEPENDENCE),
        "catastrophes": Table("catastrophes", CATASTROPHE, array=True),
        "pool": Table("pool", POOL, required=True),
        "reinsurers": Table("reinsurers", REINSURER, array=True),
        "solvency": Table("solvency", SOLVENCY),
        "dynamics": Table("dynamics", DYNAMICS),
        "optimize": Table("optimize", OPTIMIZE),
    },
    "optimize": {
        "pricing": Table("optimize.pricing", OPTIMIZE_PRICING),
        "vary": Table("optimize.vary", OPTIMIZE_VARY, array=True, required=True),
    },
    "dependence": {
        "correlation": Special("correlation", {
            "type": "array",
            "items": {
                "type": "array", "minItems": 3, "maxItems": 3,
                "prefixItems": [{"type": "string"}, {"type": "string"},
                                {"type": "number", "minimum": -1, "maximum": 1}],
            },
        }, 'a list of [line, line, rho]'),
    },
    "pool": {
        "members": Table("pool.members", MEMBER, array=True, required=True),
        "reinsurance": TREATIES,
    },
    "pool.members": {"reinsurance": TREATIES},
}

# Rules across the keys of one table (the loader's Reader methods named in each comment).
RULES: dict[str, list[dict]] = {
    # Reader.exactly_one_loss_size
    "lines": [{"oneOf": [{"required": ["severity"]}, {"required": ["damage_ratio"]}]}],
    # Reader.catastrophe: parametric (rate, lines, affected_share and one loss size) or an event table
    "catastrophes": [{"oneOf": [
        {"required": ["rate", "lines", "affected_share"],
         "oneOf": [{"required": ["severity"]}, {"required": ["damage_ratio"]}],
         "not": {"anyOf": [{"required": ["event_table"]}, {"required": ["table"]}, {"required": ["table_years"]}]}},
        {"required": ["event_table", "table"],
         "not": {"anyOf": [{"required": [key]} for key in ("rate", "lines", "affected_share", "damage_ratio",
                                                              "severity")]}},
    ]}],
    # Reader.reinsurer: a rating or a default probability, not both
    "reinsurers": [{"not": {"required": ["rating", "default_probability"]}}],
    # Reader.check_layer_premium
    "per_risk_xl": [{"oneOf": [{"required": ["rate_on_line"]}, {"required": ["premium"]}]}],
    "cat_xl": [{"oneOf": [{"required": ["rate_on_line"]}, {"required": ["premium"]}]}],
}

# ---------------------------------------------------------------- what each key means
DESCRIPTIONS: dict[tuple[str, str], str] = {
    ("", "base"): "Another scenario file (path relative to this one) to start from: every top-level key or "
                  "table given here replaces the base's whole.",
    ("", "name"): "The scenario's name, shown in the results.",
    ("", "currency"): "Currency of every amount of money in the file and in the results (a label only).",
    ("", "simulation"): "How many trials, on which seed, over how many years.",
    ("", "lines"): "The lines of business: groups of similar insured risks.",
    ("", "dependence"): "How the lines' yearly risk levels move together.",
    ("", "catastrophes"): "Systemic events, each hitting many policies at once.",
    ("", "pool"): "The co-insurance pool: its members and its joint reinsurance programme.",
    ("", "reinsurers"): "The reinsurers the panels name.",
    ("", "solvency"): "The solvency regime the members' ratios follow.",
    ("", "dynamics"): "Multi-year behaviour, used when simulation.years > 1.",
    ("simulation", "trials"): "Simulated years (one-year runs) or paths (multi-year runs).",
    ("simulation", "seed"): "Seed of the random streams: the same seed and the same loss sections give the "
                            "same gross losses, trial by trial.",
    ("simulation", "years"): "Years per path; more than 1 turns on the multi-year dynamics.",
    ("lines", "premium_subsidy"): "Share of the premium the government pays (a subsidy: the pool's money is the "
                                  "same, only who pays it changes).",
    ("lines", "subsidy_rate_cap"): "The subsidy is paid on a premium rate of at most this (0.03: the share of a "
                                   "premium at a rate above 3% is paid on 3%).",
    ("lines", "subsidy_years"): "Years of a path in which the subsidy is paid.",
    ("lines", "name"): "Unique name the treaties, catastrophes and correlations use.",
    ("lines", "policies"): "Number of insured risks (policies) in the line.",
    ("lines", "sum_insured"): "Sum insured per policy (money): a number, or a distribution sampled once per "
                              "policy.",
    ("lines", "premium_rate"): "Premium of a policy as a fraction of its sum insured (0.02 is 2%).",
    ("lines", "deductible"): "Deducted from each claim (money).",
    ("lines", "limit"): "Largest payment per claim, after the deductible (money; inf for none).",
    ("lines", "frequency"): "Claims per policy per year: poisson, negbin or bernoulli.",
    ("lines", "severity"): "Ground-up loss per claim (money). Give severity or damage_ratio, not both.",
    ("lines", "damage_ratio"): "Ground-up loss per claim as a fraction of the policy's sum insured.",
    ("lines", "uncertainty"): "Coefficient of variation of the line's yearly risk level (a gamma multiplier "
                              "with mean 1 on the claim frequency); 0: the rate is known.",
    ("lines", "capital_class"): "C-ROSS class of the line for minimum capital.",
    ("dependence", "copula"): "Copula joining the lines' yearly risk levels.",
    ("dependence", "df"): "Degrees of freedom of the t copula (t copula only).",
    ("dependence", "correlation"): "Entries [line, line, rho]; pairs not listed have correlation 0. The "
                                   "matrix must be positive semi-definite.",
    ("catastrophes", "name"): "Unique name of the event type.",
    ("catastrophes", "rate"): "Events per year (Poisson).",
    ("catastrophes", "lines"): "The lines an event hits.",
    ("catastrophes", "affected_share"): "Fraction of each listed line's policies hit, drawn per event; each "
                                        "policy is then hit with that probability, independently.",
    ("catastrophes", "damage_ratio"): "Loss of each policy hit as a fraction of its sum insured, drawn per "
                                      "policy. Give damage_ratio or severity, not both.",
    ("catastrophes", "severity"): "Loss of each policy hit (money), drawn per policy.",
    ("catastrophes", "event_table"): "Instead of rate, lines, affected_share and damage_ratio or severity: a "
                                     "catastrophe model's event loss table (.csv or .parquet, path relative to "
                                     "this file) whose events are this catastrophe's. Each event's loss to a line "
                                     "is spread over policies_hit random policies of the line (all when the "
                                     "column is absent) in proportion to their sums insured, each part capped at "
                                     "the policy's limit (deductibles are not applied).",
    ("catastrophes", "table"): "The event_table's kind: \"yelt\" (columns year, event, line, loss, and "
                               "optionally day 1-365 and policies_hit; trial t takes year (t mod N) + 1) or "
                               "\"elt\" (event, rate, line, mean_loss, sd_loss, max_loss, optionally "
                               "policies_hit; each event occurs Poisson(rate) times a year, each occurrence's "
                               "loss a beta on [0, max_loss] with that mean and sd).",
    ("catastrophes", "table_years"): "A YELT's number of years N (a year with no event has no row).",
    ("pool", "name"): "The pool's name.",
    ("pool", "lead_fee"): "Fraction of each follower's gross premium paid to the lead (the override).",
    ("pool", "members"): "The member insurers; exactly one is the lead and the shares sum to 1.",
    ("pool", "reinsurance"): "The pool's joint programme, applied in the order given (each treaty works on "
                             "the loss net of those before it).",
    ("pool.members", "name"): "Unique name; not \"pool\" and not a reinsurer's name.",
    ("pool.members", "role"): "Exactly one member is the lead, who issues the policies and handles claims.",
    ("pool.members", "share"): "Fraction of the pool's premium and losses; the shares sum to 1.",
    ("pool.members", "capital"): "Actual (available) capital at the start (money).",
    ("pool.members", "expense_ratio"): "Expenses as a fraction of the member's gross premium.",
    ("pool.members", "other_minimum_capital"): "Minimum capital for the member's business outside the pool "
                                               "(money), added to the pool's.",
    ("pool.members", "reinsurance"): "The member's own programme, on its share of what the pool keeps.",
    ("treaty", "type"): "The kind of treaty.",
    ("treaty", "name"): "Its name in treaties.csv, distinct within its programme (default: type and position "
                        "in the programme, e.g. \"cat_xl #2\").",
    ("treaty", "panel"): "Reinsurer name = share of the treaty; the shares sum to 1 and each reinsurer is "
                         "declared in [[reinsurers]].",
    ("treaty", "lines"): "The lines the treaty covers.",
    ("treaty", "commission"): "Commission the reinsurers pay back, as a fraction of the ceded premium.",
    ("quota_share", "cession"): "Fraction of premium and losses ceded.",
    ("surplus", "lines"): "Number of lines of capacity: the treaty takes up to lines × retention of each "
                          "risk above the retention.",
    ("surplus", "covered_lines"): "The lines of business the surplus covers.",
    ("surplus", "retention"): "The line: sum insured kept per risk (money).",
    ("per_risk_xl", "retention"): "Each risk's loss in an occurrence above which the layer pays (money).",
    ("per_risk_xl", "limit"): "Most the layer pays per risk and occurrence (money; inf for unlimited).",
    ("cat_xl", "retention"): "Loss of one occurrence (a claim alone, or a whole catastrophe event) above "
                             "which the layer pays (money).",
    ("cat_xl", "limit"): "Most the layer pays per occurrence (money; inf for unlimited).",
    ("xl", "reinstatements"): "Reinstatements of the limit: k give (k + 1) × limit in the year.",
    ("xl", "reinstatement_premium"): "Premium per full reinstatement, as a multiple of the layer premium, "
                                     "pro rata to the limit reinstated.",
    ("xl", "reinstatement_basis"): "Pro rata as to amount, or as to amount and time (also × the fraction "
                                   "of the year left).",
    ("xl", "aggregate_deductible"): "The year's recoveries below this are kept (money).",
    ("xl", "aggregate_limit"): "Most the layer pays in the year (money).",
    ("xl", "rate_on_line"): "Layer premium as a fraction of the limit. Give rate_on_line or premium, not both.",
    ("xl", "premium"): "Layer premium (money).",
    ("stop_loss", "attachment"): "Loss ratio above which the stop loss pays (1.1 is 110%).",
    ("stop_loss", "limit"): "Most the stop loss pays, as a loss ratio (0.5 is 50 points).",
    ("stop_loss", "rate"): "Premium as a fraction of the subject premium.",
    ("", "optimize"): "Read by poolsim optimize (run and compare ignore it): the structures to search.",
    ("optimize", "objective"): "\"cost\": minimise the total cost of reinsurance (treaties.csv's cost summed); "
                               "\"net_result\": maximise the members' total expected net result.",
    ("optimize", "candidates"): "Structures to evaluate, the structure as written among them.",
    ("optimize", "max_prob_solvency_below_100"): "Every member's P(ratio < 100%) must be at most this.",
    ("optimize", "min_solvency_ratio_p01"): "Every member's 1% solvency ratio quantile must be at least this "
                                            "(1.2 is 120%).",
    ("optimize", "pricing"): "Price varied XL and stop-loss layers at (1 + loading) x their expected loss.",
    ("optimize", "vary"): "The terms searched, each between min and max.",
    ("optimize.pricing", "loading"): "The loading on the expected loss (0.5: 150% of it).",
    ("optimize.vary", "key"): "A numeric treaty term by position, e.g. \"pool.reinsurance[1].retention\" or "
                              "\"pool.members[2].reinsurance[0].attachment\"; or \"pool.members.share\" "
                              "(all members' shares, summing to 1).",
    ("optimize.vary", "min"): "The smallest value searched (for shares: each member's).",
    ("optimize.vary", "max"): "The largest value searched (for shares: each member's).",
    ("reinsurers", "name"): "Unique name the panels use; not \"pool\" and not a member's name.",
    ("reinsurers", "default_probability"): "Yearly probability of default. Give it or rating, not both.",
    ("reinsurers", "rating"): "Credit rating: sets the Solvency II default probability and the C-ROSS credit "
                              "factor.",
    ("reinsurers", "recovery_rate"): "Fraction of what it owes still paid after a default drawn from its default "
                                     "probability (never more than its assets).",
    ("reinsurers", "capital"): "Capital (money): owing more in a year than this plus the premium it kept is a "
                               "default too, which pays out all its assets.",
    ("reinsurers", "domestic_solvency_ratio"): "A domestic reinsurer's own C-ROSS ratio (1.8 for 180%): its "
                                               "credit factor then follows the ratio's band.",
    ("solvency", "regime"): "c-ross: C-ROSS II minimum capital; var: the 99.5% VaR of the loss of net result "
                            "(Solvency II style).",
    ("dynamics", "exposure_growth"): "Yearly growth of the number of policies (0.2 is +20%).",
    ("dynamics", "payment_pattern"): "Fractions of a year's claims paid in that year, the next, ...; sum to 1.",
    ("dynamics", "recovery_delay_days"): "Days from a claim payment to the reinsurers' recovery.",
    ("dynamics", "exit_below_solvency"): "A member whose ratio ends a year below this leaves at renewal "
                                         "(1.2 is 120%; 0: no exits).",
    ("dynamics", "reallocation"): "Who takes a leaving member's share: all others pro rata, or the lead.",
}

# Defaults that are not a plain value (None or inf in the loader's tables).
DEFAULTS_IN_WORDS: dict[tuple[str, str], str] = {
    ("", "optimize"): "none",
    ("optimize", "pricing"): "premiums as written",
    ("optimize", "max_prob_solvency_below_100"): "no constraint",
    ("optimize", "min_solvency_ratio_p01"): "no constraint",
    ("lines", "subsidy_rate_cap"): "no cap",
    ("lines", "subsidy_years"): "every year",
    ("lines", "limit"): "the policy's sum insured",
    ("lines", "severity"): "(give this or damage_ratio)",
    ("lines", "damage_ratio"): "(give this or severity)",
    ("catastrophes", "damage_ratio"): "(give this or severity)",
    ("catastrophes", "severity"): "(give this or damage_ratio)",
    ("catastrophes", "rate"): "(required without event_table)",
    ("catastrophes", "lines"): "(required without event_table)",
    ("catastrophes", "affected_share"): "(required without event_table)",
    ("catastrophes", "event_table"): "none: the parametric keys above",
    ("catastrophes", "table"): "(required with event_table)",
    ("catastrophes", "table_years"): "the file's: poolsim's YELT export says it, else the largest year",
    ("treaty", "lines"): "all lines",
    ("treaty", "name"): "type #position",
    ("surplus", "covered_lines"): "all lines",
    ("xl", "aggregate_limit"): "(reinstatements + 1) × limit",
    ("xl", "rate_on_line"): "(give this or premium)",
    ("xl", "premium"): "(give this or rate_on_line)",
    ("reinsurers", "default_probability"): "the rating's, else 0",
    ("reinsurers", "rating"): "none",
    ("reinsurers", "capital"): "unlimited",
    ("reinsurers", "domestic_solvency_ratio"): "none: the rating's credit factor",
    ("", "dependence"): "independent lines",
    ("", "catastrophes"): "none",
    ("", "reinsurers"): "none",
    ("", "solvency"): 'regime = "c-ross"',
    ("", "dynamics"): "no growth, claims paid in the year, no delay, no exits",
    ("dependence", "correlation"): "[] (independent)",
    ("pool", "reinsurance"): "none",
    ("pool.members", "reinsurance"): "none",
}

# The range of each distribution parameter, as sim.distributions.make checks it.
_POSITIVE = {"exclusiveMinimum": 0}
_NON_NEGATIVE = {"minimum": 0}
PARAMETER_RANGES: dict[tuple[str, str], dict] = {
    ("lognormal", "median"): _POSITIVE, ("lognormal", "sigma"): _NON_NEGATIVE,
    ("lognormal", "mean"): _POSITIVE, ("lognormal", "sd"): _NON_NEGATIVE,
    ("gamma", "mean"): _POSITIVE, ("gamma", "sd"): _POSITIVE,
    ("gamma", "shape"): _POSITIVE, ("gamma", "scale"): _POSITIVE,
    ("pareto", "scale"): _POSITIVE, ("pareto", "shape"): _POSITIVE,
    ("gpd", "scale"): _POSITIVE, ("gpd", "shape"): {}, ("gpd", "threshold"): _NON_NEGATIVE,
    ("beta", "mean"): {"exclusiveMinimum": 0, "exclusiveMaximum": 1}, ("beta", "sd"): _POSITIVE,
    ("uniform", "low"): _NON_NEGATIVE, ("uniform", "high"): _POSITIVE,     # high > low >= 0
    ("poisson", "mean"): _NON_NEGATIVE,
    ("negbin", "mean"): _NON_NEGATIVE, ("negbin", "dispersion"): _POSITIVE,
    ("bernoulli", "p"): {"minimum": 0, "maximum": 1},
}
# `max` caps draws; on a claim count it is a whole number of claims (sim.scenario._convert_frequency).
SEVERITY_MAX = {"type": "number", **_POSITIVE}
FREQUENCY_MAX = {"type": "integer", "minimum": 1}

DISTRIBUTION_MEANINGS = {
    "lognormal": "ln X ~ Normal(ln median, sigma); or given by its mean and sd",
    "gamma": "by mean and sd, or shape and scale (mean = shape × scale)",
    "pareto": "Lomax (Pareto II): P(X > x) = (1 + x / scale)^-shape",
    "gpd": "generalised Pareto above threshold (default 0): P(X > threshold + y) = (1 + shape · y / scale)^(-1/shape)",
    "beta": "on [0, 1], by mean and sd (sd² < mean (1 − mean))",
    "uniform": "on [low, high], high > low",
    "poisson": "claim counts only: Poisson(mean)",
    "negbin": "claim counts only: variance = mean + mean² / dispersion",
    "bernoulli": "claim counts only: at most one claim a year, with probability p",
}

ROLE_CONSTANTS = {"money": FINITE_NON_NEGATIVE.json_schema, "share": SHARE.json_schema}


# ---------------------------------------------------------------- the JSON Schema
def description(table: str, key: str) -> str:
    """What ``key`` of ``table`` means; KeyError naming the missing entry (a new key needs one)."""
    for where in _lookup_order(table):
        if (where, key) in DESCRIPTIONS:
            return DESCRIPTIONS[(where, key)]
    raise KeyError(f"sim.schema.DESCRIPTIONS has no entry for {table or 'the top level'}: {key}; "
                   "say what the key means and its unit there")


def _lookup_order(table: str) -> tuple[str, ...]:
    if table in TREATY_TERMS:
        return (table,) + (("xl",) if table in ("per_risk_xl", "cat_xl") else ()) + ("treaty",)
    return (table,)


def default_in_words(table: str, key: str) -> str | None:
    for where in _lookup_order(table):
        if (where, key) in DEFAULTS_IN_WORDS:
            return DEFAULTS_IN_WORDS[(where, key)]
    return None


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


def _json_default(value: Any) -> Any:
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
            default = _json_default(field.default)
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


# ---------------------------------------------------------------- the Markdown reference
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
    if _json_default(field.default) is None:
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
