"""What the JSON Schema of scenario files, and its Markdown reference, say beyond the loader's own tables.

:mod:`sim.scenario` checks a scenario against declarative tables (``SIMULATION``,
``LINE``, ``MEMBER``, ``TREATY_TERMS``, ...: key -> ``Field(kind, required,
default, check)``), and every kind and check carries its JSON Schema form. This
module walks those tables, so the schema lists exactly the keys the loader
accepts (``tests/test_schema.py`` holds the loader's own error messages against
it). What the tables do not hold is here, as data (and :func:`description` and
:func:`default_in_words` look it up):

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

The documents are built elsewhere: :mod:`sim.schema_json`'s
:func:`~sim.schema_json.scenario_schema` (a dict) and
:func:`~sim.schema_json.schema_text` (what ``poolsim schema`` prints), and
:mod:`sim.schema_markdown`'s :func:`~sim.schema_markdown.markdown` (``poolsim
schema --markdown``, the reference part of ``docs/scenario-format.md``).
"""
from __future__ import annotations

from dataclasses import dataclass

from .scenario_fields import (CATASTROPHE, DEPENDENCE, DYNAMICS, LINE, MEMBER, OPTIMIZE, OPTIMIZE_PRICING,
                              OPTIMIZE_VARY, POOL, PRICING, REINSURER, SIMULATION, SOLVENCY, TREATY_TERMS)
from .scenario_values import FINITE_NON_NEGATIVE, SHARE

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
        "pricing": Table("pricing", PRICING),
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
    ("", "pricing"): "Repricing as experience accrues, at each renewal of a multi-year run.",
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
                              "with mean 1 on the claim frequency): the year's swing around the true level; "
                              "0: no swing.",
    ("lines", "parameter_uncertainty"): "Coefficient of variation of the line's true risk level (a gamma "
                                        "multiplier with mean 1 on the claim frequency), unknown to the "
                                        "insurers: drawn once per path and kept for all its years; 0: the "
                                        "true rate is the one written. A bernoulli line takes this or "
                                        "uncertainty, not both.",
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
    ("pricing", "method"): "How each renewal sets a line's premium rate: credibility, Z x the rate the observed "
                           "experience implies + (1 - Z) x the prior (written) rate, Z = n / (n + credibility_k).",
    ("pricing", "credibility_k"): "Bühlmann's k, in policy-years (one policy insured for one year); n counts "
                                  "the policy-years observed on the path.",
    ("pricing", "target_loss_ratio"): "The loss ratio a rate aims at: the experience rate is the observed "
                                      "losses over the observed sum insured, divided by this.",
    ("pricing", "max_rate_change"): "Largest change of a rate from one year to the next, as a fraction of "
                                    "last year's (0.25 is +-25%).",
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
    ("", "pricing"): "none: rates stay as written",
    ("pricing", "credibility_k"): "derived from parameter_uncertainty (EPV / VHM)",
    ("pricing", "max_rate_change"): "no cap",
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
