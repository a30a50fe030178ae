"""The scenario format as data: one dict per table, ``key -> Field(kind, required,
default, check)``; ``None`` for a key whose table is read by its own method.

The reader checks files against these, and :mod:`sim.schema_json` and
:mod:`sim.schema_markdown` write the format's reference from them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import model
from .regulation import DEFAULT_PROBABILITY_BY_RATING
from .scenario_values import (AT_LEAST_ONE, AT_LEAST_ZERO, FINITE_NON_NEGATIVE, FINITE_POSITIVE, GROWTH, INTEGER,
                              LINE_NAMES, NUMBER, NUMBER_LIST, PANEL, POSITIVE_OR_INF, SEED_RANGE, SHARE, STRING,
                              SURPLUS_LINES, Check, Kind, distribution, one_of, within)

COPULAS = ("independent", "gaussian", "t")
REGIMES = ("c-ross", "var")
ROLES = ("lead", "follower")
REINSTATEMENT_BASES = ("amount", "amount_and_time")
REALLOCATIONS = ("pro_rata", "lead")


# ---------------------------------------------------------------- the schema
@dataclass(frozen=True)
class Field:
    kind: Kind
    required: bool = False
    default: Any = None
    check: Check | None = None


SCENARIO = {
    "name": Field(STRING, required=True),
    "currency": Field(STRING, default="CNY"),
    "simulation": None,      # tables and arrays of tables are read by their own methods
    "lines": None,
    "dependence": None,
    "catastrophes": None,
    "pool": None,
    "reinsurers": None,
    "solvency": None,
    "dynamics": None,
    "optimize": None,        # read by sim.optimize_read.read_optimize
    "pricing": None,
}

SIMULATION = {
    "trials": Field(INTEGER, required=True, check=AT_LEAST_ONE),
    "seed": Field(INTEGER, required=True, check=SEED_RANGE),
    "years": Field(INTEGER, default=1, check=AT_LEAST_ONE),
}

LINE = {
    "name": Field(STRING, required=True),
    "policies": Field(INTEGER, required=True, check=AT_LEAST_ONE),
    "sum_insured": Field(distribution("money"), required=True),
    "premium_rate": Field(NUMBER, required=True, check=SHARE),
    "deductible": Field(NUMBER, default=0.0, check=FINITE_NON_NEGATIVE),
    "limit": Field(NUMBER, default=None, check=POSITIVE_OR_INF),
    "frequency": Field(distribution("frequency"), required=True),
    "severity": Field(distribution("money"), default=None),
    "damage_ratio": Field(distribution("share"), default=None),
    "uncertainty": Field(NUMBER, default=0.0, check=FINITE_NON_NEGATIVE),
    "parameter_uncertainty": Field(NUMBER, default=0.0, check=FINITE_NON_NEGATIVE),
    "capital_class": Field(STRING, default="other", check=one_of(*model.CAPITAL_CLASSES)),
    "premium_subsidy": Field(NUMBER, default=0.0, check=SHARE),
    "subsidy_rate_cap": Field(NUMBER, default=math.inf, check=POSITIVE_OR_INF),
    "subsidy_years": Field(INTEGER, default=None, check=AT_LEAST_ONE),
}

DEPENDENCE = {
    "copula": Field(STRING, default="independent", check=one_of(*COPULAS)),
    "df": Field(NUMBER, default=4.0, check=FINITE_POSITIVE),
    "correlation": None,     # checked against the lines by Reader.correlation
}

CATASTROPHE = {
    "name": Field(STRING, required=True),
    # rate, lines and affected_share are required unless event_table gives the events
    # (Reader.catastrophe): one or the other, never both
    "rate": Field(NUMBER, default=None, check=FINITE_NON_NEGATIVE),
    "lines": Field(LINE_NAMES, default=None),
    "affected_share": Field(distribution("share"), default=None),
    "damage_ratio": Field(distribution("share"), default=None),
    "severity": Field(distribution("money"), default=None),
    "event_table": Field(STRING, default=None),
    "table": Field(STRING, default=None, check=one_of("yelt", "elt")),
    "table_years": Field(INTEGER, default=None, check=AT_LEAST_ONE),
}
PARAMETRIC_CATASTROPHE_KEYS = ("rate", "lines", "affected_share", "damage_ratio", "severity")
TABLE_CATASTROPHE_KEYS = ("event_table", "table", "table_years")

POOL = {
    "name": Field(STRING, required=True),
    "lead_fee": Field(NUMBER, default=0.0, check=SHARE),
    "members": None,
    "reinsurance": None,
}

MEMBER = {
    "name": Field(STRING, required=True),
    "role": Field(STRING, required=True, check=one_of(*ROLES)),
    "share": Field(NUMBER, required=True, check=SHARE),
    "capital": Field(NUMBER, required=True, check=FINITE_NON_NEGATIVE),
    "expense_ratio": Field(NUMBER, default=0.0, check=SHARE),
    "other_minimum_capital": Field(NUMBER, default=0.0, check=FINITE_NON_NEGATIVE),
    "reinsurance": None,
}

_PANEL = Field(PANEL, required=True)
_COVERED_LINES = Field(LINE_NAMES, default=None)
_TREATY_NAME = Field(STRING, default=None)     # its name in treaties.csv; default "<type> #<position>"
_XL_TERMS = {
    "name": _TREATY_NAME,
    "panel": _PANEL,
    "lines": _COVERED_LINES,
    "retention": Field(NUMBER, required=True, check=FINITE_NON_NEGATIVE),
    "limit": Field(NUMBER, required=True, check=POSITIVE_OR_INF),
    "reinstatements": Field(INTEGER, default=0, check=AT_LEAST_ZERO),
    "reinstatement_premium": Field(NUMBER, default=1.0, check=FINITE_NON_NEGATIVE),
    "reinstatement_basis": Field(STRING, default="amount", check=one_of(*REINSTATEMENT_BASES)),
    "aggregate_deductible": Field(NUMBER, default=0.0, check=FINITE_NON_NEGATIVE),
    "aggregate_limit": Field(NUMBER, default=math.inf, check=POSITIVE_OR_INF),
    "rate_on_line": Field(NUMBER, default=None, check=FINITE_NON_NEGATIVE),
    "premium": Field(NUMBER, default=None, check=FINITE_NON_NEGATIVE),
}
# The keys each treaty type takes besides `type`.
TREATY_TERMS = {
    "quota_share": {
        "name": _TREATY_NAME,
        "panel": _PANEL,
        "lines": _COVERED_LINES,
        "cession": Field(NUMBER, required=True, check=SHARE),
        "commission": Field(NUMBER, default=0.0, check=SHARE),
    },
    "surplus": {
        "name": _TREATY_NAME,
        "panel": _PANEL,
        "lines": Field(SURPLUS_LINES, required=True, check=AT_LEAST_ONE),
        "covered_lines": _COVERED_LINES,       # `lines` elsewhere: here `lines` is the capacity
        "retention": Field(NUMBER, required=True, check=FINITE_POSITIVE),
        "commission": Field(NUMBER, default=0.0, check=SHARE),
    },
    "per_risk_xl": _XL_TERMS,
    "cat_xl": _XL_TERMS,
    "stop_loss": {
        "name": _TREATY_NAME,
        "panel": _PANEL,
        "lines": _COVERED_LINES,
        "attachment": Field(NUMBER, required=True, check=FINITE_NON_NEGATIVE),
        "limit": Field(NUMBER, required=True, check=POSITIVE_OR_INF),
        "rate": Field(NUMBER, required=True, check=FINITE_NON_NEGATIVE),
    },
}
assert set(TREATY_TERMS) == set(model.TREATY_TYPES)
# Policies a run may hold in its largest year: each costs about 100-200 bytes of exposure
# and per-policy treaty arrays, so this is 2-4 GB; beyond it the run would be killed.
MAX_POLICIES = 20_000_000
# A fraction (stop-loss attachment and limit, reinstatement premium, a reinsurer's own solvency
# ratio) from which validation notes that it may be a percentage written as a number (90 meaning 90%).
PERCENT_LIKE = 10.0
# For a term given to the wrong type of treaty: "; it is a term of surplus, per_risk_xl, cat_xl".
_TERM_HOMES = {
    term: "; it is a term of " + ", ".join(kind for kind, terms in TREATY_TERMS.items() if term in terms)
    for term in {term for terms in TREATY_TERMS.values() for term in terms}
}
TREATY_TYPE = one_of(*model.TREATY_TYPES)

REINSURER = {
    "name": Field(STRING, required=True),
    "default_probability": Field(NUMBER, default=None, check=SHARE),
    "rating": Field(STRING, default=None, check=one_of(*DEFAULT_PROBABILITY_BY_RATING)),
    "recovery_rate": Field(NUMBER, default=0.0, check=SHARE),
    "capital": Field(NUMBER, default=math.inf, check=POSITIVE_OR_INF),
    "domestic_solvency_ratio": Field(NUMBER, default=None, check=FINITE_NON_NEGATIVE),
}

SOLVENCY = {"regime": Field(STRING, default="c-ross", check=one_of(*REGIMES))}

DYNAMICS = {
    "exposure_growth": Field(NUMBER, default=0.0, check=GROWTH),
    "payment_pattern": Field(NUMBER_LIST, default=(1.0,)),
    "recovery_delay_days": Field(NUMBER, default=0.0, check=within(0, 3650)),
    "exit_below_solvency": Field(NUMBER, default=0.0, check=FINITE_NON_NEGATIVE),
    "reallocation": Field(STRING, default="pro_rata", check=one_of(*REALLOCATIONS)),
}

# [optimize]: read only by `poolsim optimize` (sim.optimize_space checks the key paths against the pool)
PRICING_METHODS = ("credibility",)
PRICING = {
    "method": Field(STRING, default="credibility", check=one_of(*PRICING_METHODS)),
    "credibility_k": Field(NUMBER, default=None, check=FINITE_POSITIVE),
    "target_loss_ratio": Field(NUMBER, required=True, check=FINITE_POSITIVE),
    "max_rate_change": Field(NUMBER, default=math.inf, check=AT_LEAST_ZERO),
}

OBJECTIVES = ("cost", "net_result")
FINITE = Check("a finite number", lambda v: math.isfinite(v), json_schema={"type": "number"})
OPTIMIZE = {
    "objective": Field(STRING, default="cost", check=one_of(*OBJECTIVES)),
    "candidates": Field(INTEGER, default=64, check=AT_LEAST_ONE),
    "max_prob_solvency_below_100": Field(NUMBER, default=None, check=SHARE),
    "min_solvency_ratio_p01": Field(NUMBER, default=None, check=FINITE),
    "pricing": None,         # OPTIMIZE_PRICING
    "vary": None,            # [[optimize.vary]], each OPTIMIZE_VARY
}
OPTIMIZE_PRICING = {"loading": Field(NUMBER, required=True, check=FINITE_NON_NEGATIVE)}
OPTIMIZE_VARY = {
    "key": Field(STRING, required=True),
    "min": Field(NUMBER, required=True, check=FINITE),
    "max": Field(NUMBER, required=True, check=FINITE),
}
