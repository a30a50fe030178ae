"""Read a scenario file (TOML) into the frozen objects of :mod:`sim.model`.

Three steps:

1. **Resolve** ``base = "other.toml"`` inheritance into one plain dict. Every
   top-level key or table a file gives replaces the base's whole; bases chain.
   We remember which file gave each top-level key, so that a problem is
   reported against the file the user has to edit.
2. **Check** that dict against a declarative schema: one dict per table of
   ``key -> Field(kind, required, default, check)``. Every problem is
   collected (not just the first), each naming the file, the key path
   (``pool.members[2].share``), the bad value and what is allowed.
3. **Build** the frozen dataclasses, only when there is no problem at all.

Public API: :func:`load`, :func:`loads` (raise :class:`sim.errors.ScenarioError`)
and :func:`validate` (returns the list of problems).
"""
from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from . import model
from .distributions import FREQUENCY_KINDS, PARAMETER_SETS, Distribution, DistributionError, make
from .errors import ScenarioError
from .regulation import DEFAULT_PROBABILITY_BY_RATING

SUM_TOLERANCE = 1e-9          # shares and payment patterns must sum to 1 within this
EIGENVALUE_TOLERANCE = 1e-10  # a correlation matrix eigenvalue below -this is negative

COPULAS = ("independent", "gaussian", "t")
REGIMES = ("c-ross", "var")
ROLES = ("lead", "follower")
REINSTATEMENT_BASES = ("amount", "amount_and_time")
REALLOCATIONS = ("pro_rata", "lead")
SEVERITY_DISTRIBUTIONS = tuple(kind for kind in PARAMETER_SETS if kind not in FREQUENCY_KINDS)

# The results' name for the pool as a whole (sim.pool.parties): no member or reinsurer may take it.
POOL_PARTY = "pool"

INVALID = object()   # what a converter returns after reporting a problem


# ---------------------------------------------------------------- public API
def load(path: str | os.PathLike) -> model.Scenario:
    """Read, validate and build the scenario in ``path``; raise ScenarioError listing every problem."""
    scenario, problems = check(path)
    if problems:
        raise ScenarioError(problems)
    return scenario


def loads(text: str, source: str = "<string>") -> model.Scenario:
    """Like :func:`load` for TOML text; ``source`` names it in messages and anchors ``base`` paths."""
    problems: list[str] = []
    document = _parse_toml(text, source, problems)
    scenario = None
    if document is not None:
        scenario = _check_document(document, source, problems)
    if problems:
        raise ScenarioError(problems)
    return scenario


def validate(path: str | os.PathLike) -> list[str]:
    """Every problem of the scenario file ``path``; an empty list when it is valid."""
    return check(path)[1]


def check(path: str | os.PathLike) -> tuple[model.Scenario | None, list[str]]:
    """``(scenario, problems)`` of the file ``path``: the scenario (with its notes) when there
    are no problems, else None and every problem."""
    display = os.fspath(path)
    problems: list[str] = []
    document = _read_toml(Path(path), display, problems)
    if document is None:
        return None, problems
    return _check_document(document, display, problems), problems


def _check_document(document: dict, display: str, problems: list[str]) -> model.Scenario | None:
    chain = [(_identity(display), display)]
    resolved = _resolve_bases(document, display, chain, problems)
    if resolved is None:
        return None
    data, origins, replaced = resolved
    reader = Reader(display, origins, replaced)
    scenario = reader.scenario(data)
    problems.extend(reader.problems)
    if problems:
        return None
    return replace(scenario, source=display, sha256=resolved_sha256(data), notes=tuple(reader.notes))


def resolve(path: str | os.PathLike) -> tuple[dict, dict[str, str], dict[str, str]]:
    """The file's dict with its bases applied, the file that gave each top-level key, and the base
    file of each table it replaced (what :class:`Reader` takes); ScenarioError on a problem."""
    display = os.fspath(path)
    problems: list[str] = []
    document = _read_toml(Path(path), display, problems)
    resolved = None if document is None else _resolve_bases(document, display, [(_identity(display), display)],
                                                             problems)
    if resolved is None:
        raise ScenarioError(problems)
    return resolved


def resolved_sha256(data: dict) -> str:
    """sha256 of a canonical JSON dump of the resolved scenario dict (keys sorted, no spaces)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def resolved_data(path: str | os.PathLike) -> dict | None:
    """The scenario file ``path`` with its ``base`` files applied, as one plain dict (what
    :func:`resolved_sha256` hashes); None when it cannot be read or resolved."""
    try:
        return resolve(path)[0]
    except ScenarioError:
        return None


# ---------------------------------------------------------------- reading and `base` inheritance
def _read_toml(path: Path, display: str, problems: list[str]) -> dict | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        problems.append(f"{display}: no such file")
        return None
    except IsADirectoryError:
        problems.append(f"{display}: is a directory, not a scenario file")
        return None
    except OSError as error:
        problems.append(f"{display}: cannot be read: {error.strerror or error}")
        return None
    try:
        # utf-8-sig: Windows Notepad starts a UTF-8 file with a byte-order mark, which TOML
        # does not allow; it says nothing about the content, so it is dropped.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problems.append(f"{display}: is not UTF-8 text (bad byte at offset {error.start}); "
                        "scenario files are TOML, which must be UTF-8")
        return None
    return _parse_toml(text, display, problems)


def _parse_toml(text: str, display: str, problems: list[str]) -> dict | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # tomllib's message ends with "(at line L, column C)": show that line too
        message = f"{display}: is not valid TOML: {error}"
        where = re.search(r"at line (\d+)", str(error))
        lines = text.splitlines()
        if where and 1 <= int(where.group(1)) <= len(lines):
            message += f"; line {where.group(1)} reads: {lines[int(where.group(1)) - 1].strip()}"
        if str(error).startswith(("Cannot overwrite a value", "Cannot declare")):
            message += ("; a key or table is given twice, or a table is written both as [name] and as "
                        "[[name]] (a list of tables, such as [[pool.reinsurance]], is [[...]] every time)")
        problems.append(message)
        return None


def _identity(display: str) -> str:
    """A key that is the same for every spelling of one file's path (for cycle detection)."""
    return os.path.realpath(display) if not display.startswith("<") else display


def _resolve_bases(document: dict, display: str, chain: list[tuple[str, str]],
                   problems: list[str]) -> tuple[dict, dict[str, str], dict[str, str]] | None:
    """The document with its bases applied; for each top-level key the file that gave it;
    and for each table a file gave in place of a base's, that base file."""
    own = {key: value for key, value in document.items() if key != "base"}
    origins = {key: display for key in own}
    if "base" not in document:
        return own, origins, {}
    base = document["base"]
    if not isinstance(base, str) or not base:
        problems.append(f"{display}: base = {show(base)} must be a file name (a string), "
                        "relative to this file")
        return None
    directory = os.path.dirname(display) if not display.startswith("<") else ""
    base_display = os.path.normpath(os.path.join(directory, base))
    identity = _identity(base_display)
    if identity in [seen for seen, _ in chain]:
        cycle = " -> ".join([name for _, name in chain] + [base_display])
        problems.append(f"{display}: base = {show(base)} makes a cycle of bases: {cycle}; "
                        "a scenario cannot inherit from itself")
        return None
    if not os.path.exists(base_display):
        problems.append(f"{display}: base = {show(base)} names a file that does not exist "
                        f"({base_display}; the path is relative to this file)")
        return None
    base_document = _read_toml(Path(base_display), base_display, problems)
    if base_document is None:
        return None
    inherited = _resolve_bases(base_document, base_display, chain + [(identity, base_display)], problems)
    if inherited is None:
        return None
    data, data_origins, replaced = inherited
    for key in own:
        if isinstance(data.get(key), (dict, list)):
            replaced[key] = data_origins[key]
    data.update(own)          # a key given here replaces the base's whole table
    data_origins.update(origins)
    return data, data_origins, replaced


# ---------------------------------------------------------------- showing values in messages
def show(value: Any, width: int = 80) -> str:
    """A value as TOML would spell it, shortened to ``width`` characters."""
    text = _toml_text(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _toml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_text(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_text(item) for item in value) + "]"
    return str(value)


def _float_text(value: float) -> str:
    """Floats as a scenario writes them: 3e6 rather than 3000000.0, 0.25 as is."""
    if math.isinf(value) or math.isnan(value):
        return ("-" if value < 0 else "") + ("inf" if math.isinf(value) else "nan")
    if value.is_integer() and abs(value) >= 1e5:
        digits = str(int(abs(value)))
        significant = digits.rstrip("0")
        exponent = len(digits) - 1
        if len(digits) - len(significant) >= 3:
            mantissa = significant[0] + ("." + significant[1:] if len(significant) > 1 else "")
            return f"{'-' if value < 0 else ''}{mantissa}e{exponent}"
    return repr(value)


def _toml_key(key: str) -> str:
    bare = key and all(ch.isalnum() or ch in "_-" for ch in key) and key.isascii()
    return key if bare else json.dumps(key, ensure_ascii=False)


def _number_text(number: float) -> str:
    return f"{number:g}"


def _suggestion(word: str, choices) -> str:
    """'; did you mean 'x'?' for the closest choice, or ''."""
    for choice in choices:
        if str(word).lower() == str(choice).lower():
            return f"; did you mean '{choice}'?"
    close = difflib.get_close_matches(str(word), [str(choice) for choice in choices], n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _is_number(value: Any) -> bool:
    # bool is an int subclass in Python, but `true` is not a number in a scenario
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---------------------------------------------------------------- checks on values
@dataclass(frozen=True)
class Check:
    """A range a value must fall in; ``text`` completes "must be ..."."""

    text: str
    accepts: Callable[[Any], bool]
    choices: tuple = ()      # for "one of": the closest is suggested
    fraction: bool = False   # a fraction: a percentage written for it (30 for 30%) is told so
    # The same range in JSON Schema keywords, for sim.schema (JSON has no infinity: "finite"
    # is left to the loader). tests/test_schema.py checks it against `accepts`.
    json_schema: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def hint(self, value: Any) -> str:
        """What follows "must be {text}" for a refused ``value``: the closest choice, or for a
        fraction given as a percentage (2 to 100), '; a fraction: 0.3 is 30%'. Else ''."""
        if self.choices:
            return _suggestion(value, self.choices)
        if self.fraction and _is_number(value) and 2 <= value <= 100:
            return f"; a fraction: {value / 100:g} is {value:g}%"
        return ""


def within(low: float, high: float) -> Check:
    return Check(f"within [{_number_text(low)}, {_number_text(high)}]", lambda v: low <= v <= high,
                 json_schema={"minimum": low, "maximum": high})


def one_of(*choices: str) -> Check:
    return Check("one of " + ", ".join(f'"{choice}"' for choice in choices), lambda v: v in choices, choices,
                 json_schema={"enum": list(choices)})


SHARE = replace(within(0, 1), fraction=True)
FINITE_NON_NEGATIVE = Check("a finite number >= 0", lambda v: 0 <= v < math.inf, json_schema={"minimum": 0})
FINITE_POSITIVE = Check("a finite number > 0", lambda v: 0 < v < math.inf, json_schema={"exclusiveMinimum": 0})
POSITIVE_OR_INF = Check("> 0 (inf for unlimited)", lambda v: v > 0, json_schema={"exclusiveMinimum": 0})
AT_LEAST_ONE = Check(">= 1", lambda v: v >= 1, json_schema={"minimum": 1})
AT_LEAST_ZERO = Check(">= 0", lambda v: v >= 0, json_schema={"minimum": 0})
# The random streams hash the seed as an unsigned 64-bit integer (sim.rng).
MAX_SEED = 2**64 - 1
SEED_RANGE = Check("within [0, 2**64 - 1]", lambda v: 0 <= v <= MAX_SEED,
                   json_schema={"minimum": 0, "maximum": MAX_SEED})
GROWTH = Check("a finite number > -1 (a yearly growth rate, 0.2 = +20%)", lambda v: -1 < v < math.inf,
               json_schema={"exclusiveMinimum": -1})


# ---------------------------------------------------------------- kinds of values (type converters)
@dataclass(frozen=True)
class Kind:
    """A type of value: ``noun`` completes "must be ..."; ``convert`` returns the clean
    value, or reports a problem and returns INVALID."""

    noun: str
    convert: Callable[["Reader", str, Any], Any]
    # The same type in JSON Schema (sim.schema); distributions refer to sim.schema's $defs.
    json_schema: Mapping[str, Any] | None = field(default=None, compare=False)


def _convert_number(reader: "Reader", path: str, value: Any) -> Any:
    if not _is_number(value) or value != value:   # value != value: NaN
        hint = " (true/false is not a number)" if isinstance(value, bool) else ""
        reader.bad_value(path, value, "must be a number" + hint)
        return INVALID
    return float(value)


def _convert_integer(reader: "Reader", path: str, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        hint = ""
        if isinstance(value, float) and value.is_integer():
            hint = f" (write {int(value):_} without a decimal point or exponent)"
        elif isinstance(value, bool):
            hint = " (true/false is not a number)"
        reader.bad_value(path, value, "must be a whole number" + hint)
        return INVALID
    return value


def _convert_string(reader: "Reader", path: str, value: Any) -> Any:
    if not isinstance(value, str) or not value.strip():
        reader.bad_value(path, value, "must be a non-empty string")
        return INVALID
    return value


def _convert_number_list(reader: "Reader", path: str, value: Any) -> Any:
    # item != item: NaN, which no range check would catch (every comparison with it is false)
    if (not isinstance(value, list) or not value
            or not all(_is_number(item) and item == item for item in value)):
        reader.bad_value(path, value, "must be a non-empty list of numbers, e.g. [0.6, 0.3, 0.1]")
        return INVALID
    return tuple(float(item) for item in value)


NUMBER = Kind("a number", _convert_number, {"type": "number"})
INTEGER = Kind("a whole number", _convert_integer, {"type": "integer"})
STRING = Kind("a string", _convert_string, {"type": "string", "pattern": r"\S"})
NUMBER_LIST = Kind("a list of numbers", _convert_number_list,
                   {"type": "array", "items": {"type": "number"}, "minItems": 1})


def _line_names_kind() -> Kind:
    def convert(reader: "Reader", path: str, value: Any) -> Any:
        if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
            reader.bad_value(path, value, 'must be a non-empty list of line names, e.g. ["ai_liability"]')
            return INVALID
        # a list, not a generator: all() would stop at the first unknown name and hide the others
        known = [reader.check_line_name(f"{path}[{index}]", name) for index, name in enumerate(value)]
        ok = all(known)
        if len(set(value)) != len(value):
            reader.bad_value(path, value, "names a line twice; list each line once")
            ok = False
        return tuple(value) if ok else INVALID
    return Kind("a list of line names", convert,
                {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True})


LINE_NAMES = _line_names_kind()


def _convert_surplus_lines(reader: "Reader", path: str, value: Any) -> Any:
    # on a surplus, `lines` is a count, not the covered lines: those are `covered_lines`
    if isinstance(value, bool) or not isinstance(value, int):
        reader.bad_value(path, value, "must be the whole number of lines of capacity "
                                      "(capacity = lines * retention), e.g. lines = 4; "
                                      "on a surplus the lines of business it covers are covered_lines")
        return INVALID
    return value


SURPLUS_LINES = Kind("the whole number of lines of capacity", _convert_surplus_lines, {"type": "integer"})


def _convert_panel(reader: "Reader", path: str, value: Any) -> Any:
    example = '{ "China Re" = 0.6, "Swiss Re" = 0.4 }'
    if not isinstance(value, dict) or not value:
        reader.bad_value(path, value, f"must be a table of reinsurer = share, e.g. {example}")
        return INVALID
    ok = True
    for name, share in value.items():
        entry_path = f"{path}.{_toml_key(name)}"
        if not _is_number(share) or share != share:
            reader.bad_value(entry_path, share, "must be a number (the reinsurer's share of the treaty)")
            ok = False
        elif not 0 <= share <= 1:
            reader.bad_value(entry_path, share, f"must be {SHARE.text}{SHARE.hint(share)}")
            ok = False
        ok = reader.check_reinsurer_name(entry_path, name) and ok
    if ok:
        total = math.fsum(value.values())
        if abs(total - 1.0) > SUM_TOLERANCE:
            reader.bad_value(path, value, f"has shares summing to {total:.12g}; "
                                          "the reinsurers' shares of a treaty must sum to 1")
            ok = False
    return tuple((name, float(share)) for name, share in value.items()) if ok else INVALID


PANEL = Kind("a table of reinsurer = share", _convert_panel,
             {"type": "object", "minProperties": 1,
              "additionalProperties": {"type": "number", **SHARE.json_schema}})


def distribution(role: str) -> Kind:
    """A distribution: a plain number (constant) or a table with ``dist``.

    ``role`` is "frequency" (claims per policy), "money" (never negative) or
    "share" (a share of the sum insured or of the policies: within [0, 1]).
    """
    def convert(reader: "Reader", path: str, value: Any) -> Any:
        if role == "frequency":
            return _convert_frequency(reader, path, value)
        if _is_number(value):
            return _constant(reader, path, value, role)
        if not isinstance(value, dict):
            reader.bad_value(path, value, 'must be a number or a table such as '
                                          '{ dist = "lognormal", median = 2e5, sigma = 1.8 }')
            return INVALID
        result = _distribution_table(reader, path, value, SEVERITY_DISTRIBUTIONS)
        if result is not INVALID and role == "share" and not _stays_within_one(result):
            reader.bad_value(path, value, "can exceed 1, but it is a share: use a beta distribution, "
                                          "a uniform with high <= 1, or add max = 1")
            return INVALID
        return result
    noun = {"frequency": 'a table such as { dist = "poisson", mean = 0.03 }',
            "money": "a number or a distribution table",
            "share": "a number within [0, 1] or a distribution table on [0, 1]"}[role]
    return Kind(noun, convert, {"$ref": f"#/$defs/{role}_distribution"})


def _constant(reader: "Reader", path: str, value: float, role: str) -> Any:
    check = SHARE if role == "share" else FINITE_NON_NEGATIVE
    if value != value or not check.accepts(value):
        reader.bad_value(path, value, f"must be {check.text}{check.hint(value)}")
        return INVALID
    return Distribution.constant(value)


def _convert_frequency(reader: "Reader", path: str, value: Any) -> Any:
    if not isinstance(value, dict):
        reader.bad_value(path, value, 'must be a table such as { dist = "poisson", mean = 0.03 }; '
                                      "claim counts are poisson, negbin or bernoulli")
        return INVALID
    result = _distribution_table(reader, path, value, FREQUENCY_KINDS)
    if result is not INVALID and "max" in value and not _is_claim_count_cap(value["max"]):
        # a count below the cap is floored to it: max = 0.2 would mean no claims at all,
        # max = 1.5 one claim; refuse both rather than change the model silently
        reader.bad_value(f"{path}.max", value["max"],
                         "must be a whole number >= 1: on a frequency, max caps each policy's "
                         "claim count in a year (max = 1: at most one claim a policy a year)")
        return INVALID
    return result


def _is_claim_count_cap(value: Any) -> bool:
    return _is_number(value) and value >= 1 and float(value).is_integer()


def _distribution_table(reader: "Reader", path: str, table: dict, kinds: tuple[str, ...]) -> Any:
    if "dist" not in table:
        reader.problem(path, f"{path}.dist is missing; a distribution table needs "
                             f"dist = one of {', '.join(kinds)}")
        return INVALID
    kind = table["dist"]
    if kind not in kinds:
        text = "must be one of " + ", ".join(f'"{k}"' for k in kinds)
        if kind in FREQUENCY_KINDS:
            text += " (poisson, negbin and bernoulli are for claim counts only)"
        reader.bad_value(f"{path}.dist", kind, text + _suggestion(kind, kinds))
        return INVALID
    parameters = {key: value for key, value in table.items() if key != "dist"}
    allowed = {name for option in PARAMETER_SETS[kind] for name in option} | {"max"}
    unknown = [key for key in parameters if key not in allowed]
    for key in unknown:
        reader.problem(path, f"{path}.{key} is not a parameter of a {kind} distribution"
                             f"{_suggestion(key, allowed)} (parameters: {', '.join(sorted(allowed))})")
    if unknown:
        return INVALID
    try:
        return make(kind, parameters)
    except DistributionError as error:
        reader.bad_value(f"{path}.{error.key}", error.value, error.allowed)
        return INVALID


def _stays_within_one(dist: Distribution) -> bool:
    if dist.kind == "beta":
        return True
    if dist.kind == "uniform":
        return dist.p1 <= 1.0 or dist.cap <= 1.0
    if dist.kind == "constant":
        return dist.p0 <= 1.0
    return dist.cap <= 1.0


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
    "optimize": None,        # read by sim.optimize_space.read_optimize
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


# ---------------------------------------------------------------- the reader
class Reader:
    """Walks a resolved scenario dict, collecting every problem and building the objects.

    Each ``read_*``/section method returns the frozen object, or None when its part
    of the file has problems (which are then in ``self.problems``).
    """

    def __init__(self, source: str, origins: dict[str, str], replaced: dict[str, str] | None = None):
        self.source = source
        self.origins = origins
        self.replaced = replaced or {}     # top-level table -> the base file whose table it replaced
        self.problems: list[str] = []
        self.notes: list[str] = []      # valid, but probably not what the user meant
        self.line_names: list[str] | None = None       # None: lines unreadable, skip cross-checks
        self.line_premium_rates: dict[str, float] = {}
        self.reinsurer_names: list[str] | None = None

    # ------------------------------------------------ reporting
    def file_of(self, path: str) -> str:
        top = path.split(".")[0].split("[")[0]
        return self.origins.get(top, self.source)

    def where(self, path: str) -> str:
        """The file that gave ``path``; for a base file, with the scenario that read it, as a
        base may serve several."""
        file = self.file_of(path)
        return file if file == self.source else f"{file} (a base of {self.source})"

    def problem(self, path: str, message: str) -> None:
        top = path.split(".")[0].split("[")[0]
        if " is missing" in message and top in self.replaced:
            # the usual surprise with bases: a table given to change one key drops the base's others
            message += (f" (this file's [{top}] replaces the whole [{top}] of its base "
                        f"{self.replaced[top]}: tables are not merged, so repeat there every key it needs)")
        self.problems.append(f"{self.where(path)}: {message}")

    def note(self, path: str, message: str) -> None:
        self.notes.append(f"{self.where(path)}: note: {message}")

    def bad_value(self, path: str, value: Any, allowed: str) -> None:
        self.problem(path, f"{path} = {show(value)} {allowed}")

    def missing(self, path: str, field: Field | None, what: str = "") -> None:
        if field is not None:
            check = field.check.text if field.check else ""
            # a check that names its own kind ("a finite number >= 0") replaces the noun
            what = check if check.startswith("a ") else " ".join(filter(None, (field.kind.noun, check)))
        self.problem(path, f"{path} is missing; it is required ({what})")

    def unknown_key(self, path: str, key: str, valid: list[str], where: str = "", hint: str = "") -> None:
        self.problem(path, f"{_join(path, key)} is not a valid key{where}{_suggestion(key, valid)}{hint} "
                           f"(valid keys: {', '.join(valid)})")

    # ------------------------------------------------ generic tables
    def table(self, value: Any, path: str, schema: dict, where: str = "",
              elsewhere: dict[str, str] | None = None) -> dict | None:
        """Check a table against ``schema``: unknown keys, missing keys, kinds and ranges.

        Returns the clean values of the keys whose schema entry is a Field (invalid ones
        left out, defaults filled in), or None when ``value`` is not a table.
        Keys whose schema entry is None are allowed here and read by the caller.
        """
        if not isinstance(value, dict):
            self.bad_value(path, value, "must be a table")
            return None
        misspelt = set()
        for key in value:
            if key not in schema:
                self.unknown_key(path, key, list(schema), where, elsewhere.get(key, "") if elsewhere else "")
                misspelt.update(difflib.get_close_matches(str(key), list(schema), n=1, cutoff=0.6))
        clean = {}
        for key, field in schema.items():
            if field is None:
                continue
            key_path = _join(path, key)
            if key not in value:
                if field.required and key not in misspelt:   # else "did you mean" already said it
                    self.missing(key_path, field)
                else:
                    clean[key] = field.default
                continue
            converted = field.kind.convert(self, key_path, value[key])
            if converted is INVALID:
                continue
            if field.check is not None and not field.check.accepts(converted):
                self.bad_value(key_path, value[key], f"must be {field.check.text}{field.check.hint(converted)}")
                continue
            clean[key] = converted
        return clean

    def array_of_tables(self, value: Any, path: str, required: bool = False) -> list | None:
        if value is None:
            if required:
                self.problem(path, f"{path} is missing; it is required (at least one [[{path}]] table)")
            return None
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.bad_value(path, value, f"must be an array of tables, written [[{path}]]")
            return None
        if required and not value:
            self.problem(path, f"{path} is empty; at least one [[{path}]] table is required")
        return value

    def unique_names(self, items: list[dict], path: str, what: str) -> None:
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            name = item.get("name")
            if not isinstance(name, str):
                continue
            if name in seen:
                self.bad_value(f"{path}[{index}].name", name,
                               f"repeats the name of {path}[{seen[name]}]; {what} names must be unique")
            else:
                seen[name] = index

    def check_line_name(self, path: str, name: str) -> bool:
        if self.line_names is None or name in self.line_names:
            return True
        self.bad_value(path, name, "is not a line of this scenario" + _suggestion(name, self.line_names)
                       + f" (lines: {', '.join(dict.fromkeys(self.line_names))})")
        return False

    def check_reinsurer_name(self, path: str, name: str) -> bool:
        if self.reinsurer_names is None or name in self.reinsurer_names:
            return True
        if not self.reinsurer_names:
            self.problem(path, f'{path}: reinsurer "{name}" is not declared; add a [[reinsurers]] '
                               f'table with name = "{name}"')
            return False
        self.problem(path, f'{path}: reinsurer "{name}" is not in [[reinsurers]]'
                           f"{_suggestion(name, self.reinsurer_names)} "
                           f"(reinsurers: {', '.join(self.reinsurer_names)})")
        return False

    def exactly_one_loss_size(self, raw: dict, path: str) -> None:
        given = [key for key in ("severity", "damage_ratio") if key in raw]
        if len(given) == 2:
            self.problem(path, f"{path} gives both severity and damage_ratio; give exactly one "
                               "(severity in money, or damage_ratio as a share of the sum insured)")
        elif not given:
            self.problem(path, f"{path}.severity is missing; give exactly one of severity (money per claim) "
                               "or damage_ratio (share of the sum insured)")

    # ------------------------------------------------ sections
    def scenario(self, data: dict) -> model.Scenario | None:
        top = self.table(data, "", SCENARIO)
        simulation = self.simulation(data.get("simulation"))
        lines = self.lines(data.get("lines"))
        reinsurers = self.reinsurers(data.get("reinsurers"))
        dependence = self.dependence(data.get("dependence"))
        catastrophes = self.catastrophes(data.get("catastrophes"))
        pool = self.pool(data.get("pool"))
        solvency = self.optional_table(data.get("solvency"), "solvency", SOLVENCY, model.Solvency)
        dynamics = self.dynamics(data.get("dynamics"))
        optimize = self.optimize(data.get("optimize"), pool)
        if self.problems:
            return None
        self.check_policy_count(lines, simulation.years, dynamics.exposure_growth)
        if self.problems:
            return None
        if "dynamics" in data and simulation.years == 1:
            # a note, not a problem: a scenario whose base has [dynamics] could not remove the table
            self.note("dynamics", "[dynamics] is used only for its payment_pattern and recovery_delay_days "
                                  "(the recoveries receivable at the year end, which C-ROSS credit risk is "
                                  "charged on): simulation.years = 1 is a one-year run; set years > 1 for a "
                                  "multi-year run")
        return model.Scenario(
            name=top["name"], currency=top["currency"], simulation=simulation, lines=lines,
            pool=pool, dependence=dependence, catastrophes=catastrophes, reinsurers=reinsurers,
            solvency=solvency, dynamics=dynamics, optimize=optimize,
        )

    def optimize(self, value: Any, pool: model.Pool | None) -> model.Optimize | None:
        if value is None:
            return None
        from .optimize_space import read_optimize     # the key paths of the terms it searches

        return read_optimize(self, value, pool)

    def optional_table(self, value: Any, path: str, schema: dict, build):
        if value is None:
            return build()
        clean = self.table(value, path, schema)
        return build(**clean) if clean is not None and len(clean) == len(schema) else None

    def check_policy_count(self, lines: tuple[model.Line, ...], years: int, growth: float) -> None:
        """A problem when the largest year's policies (grown by ``growth`` a year) exceed
        ``MAX_POLICIES``: the run would exhaust the memory and be killed without a word."""
        try:
            largest_scale = max(1.0, (1.0 + growth) ** (years - 1))
        except OverflowError:
            largest_scale = math.inf
        total = sum(line.policies for line in lines) * largest_scale
        if total > MAX_POLICIES:
            grown = (f", grown by dynamics.exposure_growth = {growth:g} a year over {years} years"
                     if largest_scale > 1.0 else "")
            self.problem("lines", f"the lines hold {total:,.0f} policies in their largest year{grown}; a run "
                                  f"holds every policy in memory, at most {MAX_POLICIES:,}: use fewer "
                                  "policies (a sample of the book, scaled by sum insured)"
                                  + (" or a shorter horizon or lower growth" if grown else ""))

    def simulation(self, value: Any) -> model.Simulation | None:
        if value is None:
            self.problem("simulation", "simulation is missing; it is required: a [simulation] table "
                                       "with trials and seed")
            return None
        clean = self.table(value, "simulation", SIMULATION)
        return model.Simulation(**clean) if clean and len(clean) == len(SIMULATION) else None

    def lines(self, value: Any) -> tuple[model.Line, ...] | None:
        items = self.array_of_tables(value, "lines", required=True)
        if items is None:
            return None
        self.unique_names(items, "lines", "line")
        self.line_names = [item["name"] for item in items if isinstance(item.get("name"), str)]
        built = [self.line(item, f"lines[{index}]") for index, item in enumerate(items)]
        return tuple(built) if all(built) and built else None

    def line(self, raw: dict, path: str) -> model.Line | None:
        before = len(self.problems)
        clean = self.table(raw, path, LINE)
        self.exactly_one_loss_size(raw, path)
        if clean is None:
            return None
        if isinstance(clean.get("name"), str) and "premium_rate" in clean:
            self.line_premium_rates[clean["name"]] = clean["premium_rate"]
        if len(self.problems) > before:
            return None
        return model.Line(**clean)

    def reinsurers(self, value: Any) -> tuple[model.Reinsurer, ...] | None:
        items = self.array_of_tables(value, "reinsurers") if value is not None else []
        if items is None:
            return None
        self.unique_names(items, "reinsurers", "reinsurer")
        self.reserved_reinsurer_names(items)
        self.reinsurer_names = [item["name"] for item in items if isinstance(item.get("name"), str)]
        built = [self.reinsurer(item, f"reinsurers[{index}]") for index, item in enumerate(items)]
        return tuple(built) if all(built) else None

    def reserved_reinsurer_names(self, items: list[dict]) -> None:
        """Results name every party once: no reinsurer may be called "pool".

        A reinsurer sharing a member's name is reported at the member (``party_names``),
        which is read after the reinsurers.
        """
        for index, item in enumerate(items):
            if item.get("name") == POOL_PARTY:
                self.bad_value(f"reinsurers[{index}].name", item["name"],
                               "is reserved for the pool as a whole in the results; "
                               "choose another reinsurer name")

    def reinsurer(self, raw: dict, path: str) -> model.Reinsurer | None:
        before = len(self.problems)
        clean = self.table(raw, path, REINSURER)
        if clean is None:
            return None
        if "default_probability" in raw and "rating" in raw:
            self.problem(path, f"{path} gives both rating = {show(raw['rating'])} and default_probability = "
                               f"{show(raw['default_probability'])}; give one: the rating sets the "
                               "default probability from the Solvency II table")
        if len(self.problems) > before:
            return None
        self.note_percent_like(clean, path, "domestic_solvency_ratio", "as its own solvency ratio, which takes "
                               "the best credit factor")
        probability = clean["default_probability"]
        if probability is None:
            probability = DEFAULT_PROBABILITY_BY_RATING[clean["rating"]] if clean["rating"] else 0.0
        return model.Reinsurer(name=clean["name"], default_probability=probability,
                               recovery_rate=clean["recovery_rate"], capital=clean["capital"],
                               rating=clean["rating"], domestic_solvency_ratio=clean["domestic_solvency_ratio"])

    def dependence(self, value: Any) -> model.Dependence | None:
        if value is None:
            return model.Dependence()
        before = len(self.problems)
        clean = self.table(value, "dependence", DEPENDENCE)
        if clean is None:
            return None
        correlation = self.correlation(value.get("correlation", []), "dependence.correlation")
        if correlation and clean.get("copula") == "independent":
            self.problem("dependence", 'dependence.correlation is given but copula = "independent" ignores '
                                       'it; set copula = "gaussian" or "t", or remove correlation')
        if "df" in value and clean.get("copula", "t") != "t":
            self.problem("dependence", f'dependence.df is given but copula = "{clean["copula"]}" ignores it '
                                       f'(the t copula\'s degrees of freedom); set copula = "t", or remove df')
        if len(self.problems) > before or correlation is None:
            return None
        return model.Dependence(copula=clean["copula"], df=clean["df"], correlation=correlation)

    def correlation(self, value: Any, path: str) -> tuple | None:
        if not isinstance(value, list):
            self.bad_value(path, value, 'must be a list of [line, line, rho] entries, '
                                        'e.g. [["ai_liability", "robot_liability", 0.6]]')
            return None
        entries, pairs, ok = [], {}, True
        for index, entry in enumerate(value):
            entry_path = f"{path}[{index}]"
            if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)
                    and isinstance(entry[1], str) and _is_number(entry[2]) and entry[2] == entry[2]):
                self.bad_value(entry_path, entry, 'must be [line, line, rho], e.g. ["ai_liability", '
                                                  '"robot_liability", 0.6]')
                ok = False
                continue
            first, second, rho = entry
            named_ok = self.check_line_name(f"{entry_path}[0]", first)
            named_ok = self.check_line_name(f"{entry_path}[1]", second) and named_ok
            if first == second:
                self.bad_value(entry_path, entry, "pairs a line with itself; its correlation is always 1")
                named_ok = False
            if not -1 <= rho <= 1:
                self.bad_value(f"{entry_path}[2]", rho, "must be within [-1, 1] (a correlation)")
                named_ok = False
            pair = frozenset((first, second))
            if named_ok and pair in pairs:
                self.bad_value(entry_path, entry, f"repeats the pair of {path}[{pairs[pair]}]; "
                                                  "give each pair once")
                named_ok = False
            pairs.setdefault(pair, index)
            ok = ok and named_ok
            entries.append((first, second, float(rho)))
        if not ok:
            return None
        if entries and self.line_names is not None and not self.positive_semidefinite(entries, path):
            return None
        return tuple(entries)

    def positive_semidefinite(self, entries: list, path: str) -> bool:
        names = self.line_names
        matrix = correlation_matrix(names, entries)
        eigenvalues = np.linalg.eigvalsh(matrix)
        if eigenvalues[0] >= -EIGENVALUE_TOLERANCE:
            return True
        nearest = nearest_correlation(matrix)
        suggestion = ", ".join(
            f'["{names[i]}", "{names[j]}", {nearest[i, j]:.4f}]'
            for i in range(len(names)) for j in range(i + 1, len(names)) if round(nearest[i, j], 4) != 0)
        self.problem(path, f"{path} is not a valid correlation matrix: it is not positive semi-definite "
                           f"(its smallest eigenvalue is {eigenvalues[0]:.4g} < 0, over the lines "
                           f"{', '.join(names)}); the nearest valid correlation matrix (Higham) is "
                           f"correlation = [{suggestion}]")
        return False

    def catastrophes(self, value: Any) -> tuple[model.Catastrophe, ...] | None:
        items = self.array_of_tables(value, "catastrophes") if value is not None else []
        if items is None:
            return None
        self.unique_names(items, "catastrophes", "catastrophe")
        built = [self.catastrophe(item, f"catastrophes[{index}]") for index, item in enumerate(items)]
        return tuple(built) if all(built) else None

    def catastrophe(self, raw: dict, path: str) -> model.Catastrophe | None:
        before = len(self.problems)
        clean = self.table(raw, path, CATASTROPHE)
        if clean is None:
            return None
        if "event_table" in raw or "table" in raw:
            return self.table_catastrophe(raw, clean, path, before)
        given = [key for key in TABLE_CATASTROPHE_KEYS if key in raw]
        if given:
            self.problem(path, f"{_join(path, given[0])} is for event tables: give it with event_table and table")
        if len(self.problems) == before:     # else a misspelt key may be the missing one
            for key in ("rate", "lines", "affected_share"):
                if key not in raw:
                    self.problem(path, f"{_join(path, key)} is missing; it is required (or give event_table "
                                       f"and table for events from an event loss table)")
        self.exactly_one_loss_size(raw, path)
        if len(self.problems) > before:
            return None
        return model.Catastrophe(**{key: clean[key] for key in ("name",) + PARAMETRIC_CATASTROPHE_KEYS})

    def table_catastrophe(self, raw: dict, clean: dict, path: str, before: int) -> model.Catastrophe | None:
        """A catastrophe whose events come from an event loss table (:mod:`sim.event_tables`)."""
        from .event_tables import read_event_table

        both = [key for key in PARAMETRIC_CATASTROPHE_KEYS if key in raw]
        if both:
            self.problem(path, f"{path} gives both event_table and {', '.join(both)}; give either event_table "
                               f"and table (the events of a YELT or ELT), or rate, lines, affected_share and "
                               f"damage_ratio or severity")
        for key in ("event_table", "table"):
            if key not in raw:
                self.problem(path, f"{_join(path, key)} is missing; an event table needs both event_table "
                                   f'(a .csv or .parquet file, relative to the scenario) and table ("yelt" or "elt")')
        if clean.get("table") == "elt" and clean.get("table_years") is not None:
            self.problem(path, f"{_join(path, 'table_years')} is for a YELT; an ELT gives rates, not years")
        if len(self.problems) > before or self.line_names is None:
            return None
        where = Path(self.file_of(path))
        folder = where.parent if where.name and where.suffix else Path(".")
        file = Path(clean["event_table"])
        resolved = file if file.is_absolute() else folder / file
        display = f'{self.where(path)}: {_join(path, "event_table")} = "{clean["event_table"]}"'
        table, problems = read_event_table(resolved, display, clean["table"], self.line_names,
                                           years=clean["table_years"], given=clean["event_table"])
        if problems:
            self.problems.extend(problems)
            return None
        names = tuple(self.line_names[j] for j in table.line_indices())
        zero = Distribution("constant", 0.0)
        return model.Catastrophe(name=clean["name"], rate=0.0, lines=names, affected_share=zero,
                                 damage_ratio=zero, severity=None, event_table=table)

    def pool(self, value: Any) -> model.Pool | None:
        if value is None:
            self.problem("pool", "pool is missing; it is required: a [pool] table with name and "
                                 "at least one [[pool.members]]")
            return None
        before = len(self.problems)
        clean = self.table(value, "pool", POOL)
        if clean is None:
            return None
        members = self.members(value.get("members"))
        reinsurance = self.programme(value.get("reinsurance"), "pool.reinsurance", "pool")
        if len(self.problems) > before or members is None or reinsurance is None:
            return None
        return model.Pool(name=clean["name"], members=members, lead_fee=clean["lead_fee"],
                          reinsurance=reinsurance)

    def members(self, value: Any) -> tuple[model.Member, ...] | None:
        items = self.array_of_tables(value, "pool.members", required=True)
        if not items:
            return None
        self.unique_names(items, "pool.members", "member")
        self.party_names(items)
        built = [self.member(item, f"pool.members[{index}]") for index, item in enumerate(items)]
        shares = [item.get("share") for item in items]
        if all(_is_number(share) and 0 <= share <= 1 for share in shares):   # else already reported
            total = math.fsum(shares)
            if abs(total - 1.0) > SUM_TOLERANCE:
                self.problem("pool", f"pool.members: the shares sum to {total:.12g}; the members' shares "
                                     f"must sum to 1 (within {SUM_TOLERANCE:g})")
        roles = [item.get("role") for item in items]
        if all(role in ROLES for role in roles) and roles.count("lead") != 1:
            self.problem("pool", f"pool.members: {roles.count('lead')} members have role = \"lead\"; "
                                 'exactly one member must be the lead, the others "follower"')
        return tuple(built) if all(built) else None

    def party_names(self, items: list[dict]) -> None:
        """Results name every party once: no member may be called "pool" or share a reinsurer's name."""
        for index, item in enumerate(items):
            name = item.get("name")
            path = f"pool.members[{index}].name"
            if name == POOL_PARTY:
                self.bad_value(path, name, 'is reserved for the pool as a whole in the results; '
                                           'choose another member name')
            elif isinstance(name, str) and self.reinsurer_names and name in self.reinsurer_names:
                self.bad_value(path, name, "is also the name of a reinsurer; the results name every "
                                           "party once, so members and reinsurers need different names")

    def member(self, raw: dict, path: str) -> model.Member | None:
        before = len(self.problems)
        clean = self.table(raw, path, MEMBER)
        if clean is None:
            return None
        reinsurance = self.programme(raw.get("reinsurance"), f"{path}.reinsurance", "member")
        if len(self.problems) > before or reinsurance is None:
            return None
        return model.Member(reinsurance=reinsurance, **clean)

    def programme(self, value: Any, path: str, cedant: str) -> tuple[model.Treaty, ...] | None:
        items = self.array_of_tables(value, path) if value is not None else []
        if items is None:
            return None
        built = [self.treaty(item, f"{path}[{index}]", cedant) for index, item in enumerate(items)]
        if not all(built):
            return None
        # Every treaty is named, so treaties.csv and a multi-year run can tell them apart.
        built = [treaty if treaty.name is not None else replace(treaty, name=f"{treaty.type} #{index + 1}")
                 for index, treaty in enumerate(built)]
        names = [treaty.name for treaty in built]
        for index, name in enumerate(names):
            if name in names[:index]:
                self.bad_value(f"{path}[{index}].name", name,
                               f"must differ from the name of {path}[{names.index(name)}]: "
                               "treaties of one programme have distinct names")
                return None
        return tuple(built)

    def treaty(self, raw: dict, path: str, cedant: str) -> model.Treaty | None:
        treaty_type = raw.get("type")
        if treaty_type not in TREATY_TERMS:
            self.bad_treaty_type(raw, path)
            return None
        before = len(self.problems)
        schema = {"type": Field(STRING, required=True), **TREATY_TERMS[treaty_type]}
        clean = self.table(raw, path, schema, where=f" of a {treaty_type} treaty",
                           elsewhere=_TERM_HOMES)
        if clean is None:
            return None
        if treaty_type in ("per_risk_xl", "cat_xl"):
            self.check_layer_premium(raw, clean, path)
            self.note_unused_aggregate_limit(raw, clean, path)
            self.note_percent_like(clean, path, "reinstatement_premium", "times the layer premium a reinstatement")
        if treaty_type == "stop_loss":
            self.check_stop_loss_premium(clean, path)
            for key in ("attachment", "limit"):
                self.note_percent_like(clean, path, key, "as a loss ratio")
            self.note_percent_like(clean, path, "rate", "of the premium as the stop loss's price", threshold=1.0)
        if len(self.problems) > before:
            return None
        return build_treaty(clean)

    def bad_treaty_type(self, raw: dict, path: str) -> None:
        if not isinstance(raw, dict):
            self.bad_value(path, raw, "must be a table")
        elif "type" not in raw:
            self.problem(path, f"{path}.type is missing; it is required (one of "
                               f"{', '.join(model.TREATY_TYPES)})")
        else:
            self.bad_value(f"{path}.type", raw["type"],
                           f"must be {TREATY_TYPE.text}{TREATY_TYPE.hint(raw['type'])}")

    def check_layer_premium(self, raw: dict, clean: dict, path: str) -> None:
        if "rate_on_line" in raw and "premium" in raw:
            self.problem(path, f"{path} gives both rate_on_line and premium; give one "
                               "(layer premium = rate_on_line * limit, or premium in money)")
        elif "rate_on_line" not in raw and "premium" not in raw:
            self.problem(path, f"{path}.rate_on_line is missing; an XL treaty needs rate_on_line "
                               "(layer premium = rate_on_line * limit) or premium (money; 0 is allowed)")
        elif "rate_on_line" in raw and clean.get("limit") == math.inf:
            self.problem(path, f"{path}.rate_on_line cannot price an unlimited layer (limit = inf); "
                               "give premium in money instead")
        elif "rate_on_line" in raw:
            # a premium of the whole limit or more is never sold: 5 meant 5%, surely
            self.note_percent_like(clean, path, "rate_on_line", "of the limit as the layer premium",
                                   threshold=1.0)
        elif clean.get("premium") is not None and clean["premium"] >= clean.get("limit", math.inf):
            self.note(path, f"{path}.premium = {show(clean['premium'])} is at least the layer's limit "
                            f"({show(clean['limit'])}), a price no layer is bought at; premium is money (a rate "
                            "goes in rate_on_line, as a fraction)")

    def note_unused_aggregate_limit(self, raw: dict, clean: dict, path: str) -> None:
        """A note when the given aggregate_limit exceeds (reinstatements + 1) * limit: the
        reinstatements cap the year's limit, so the part above is never paid (free or further
        reinstatements need reinstatements = k, with reinstatement_premium = 0 if free)."""
        given, limit, reinstatements = (clean.get("aggregate_limit"), clean.get("limit"),
                                        clean.get("reinstatements"))
        if "aggregate_limit" not in raw or None in (given, limit, reinstatements):
            return
        total = (reinstatements + 1) * limit
        if given > total:
            self.note(path, f"{path}.aggregate_limit = {show(given)} is more than (reinstatements + 1) "
                            f"* limit = {show(float(total))}, which caps the limit in the year; the run uses "
                            f"{show(float(total))}. For more limit, raise reinstatements (with "
                            "reinstatement_premium = 0 for free reinstatements)")

    def note_percent_like(self, clean: dict, path: str, key: str, meaning: str,
                          threshold: float = PERCENT_LIKE) -> None:
        """A note when a fraction looks written as a percentage (90 for 90%): valid, as such
        terms are unbounded, but at ``threshold`` (10, i.e. 1,000%, unless a price) or more
        almost surely a slip."""
        value = clean.get(key)
        if value is not None and threshold <= value < math.inf:
            self.note(path, f"{path}.{key} = {value:g} is {value:,.0%} {meaning}; these terms are "
                            f"fractions (0.9 is 90%)")

    def check_stop_loss_premium(self, clean: dict, path: str) -> None:
        if self.line_names is None:
            return
        covered = clean.get("lines") or tuple(self.line_names)
        rates = [self.line_premium_rates.get(name) for name in covered]
        if rates and all(rate == 0 for rate in rates):
            self.problem(path, f"{path}: a stop loss is set as loss ratios of the premium of its lines "
                               f"({', '.join(covered)}), but their premium_rate is 0, so its attachment "
                               "and limit can never apply; give those lines a premium_rate > 0")

    def dynamics(self, value: Any) -> model.Dynamics | None:
        if value is None:
            return model.Dynamics()
        clean = self.table(value, "dynamics", DYNAMICS)
        if clean is None:
            return None
        pattern = clean.get("payment_pattern")
        if pattern is not None:
            if any(share < 0 for share in pattern):
                self.bad_value("dynamics.payment_pattern", list(pattern), "must not hold negative shares")
                clean.pop("payment_pattern")
            elif abs(math.fsum(pattern) - 1.0) > SUM_TOLERANCE:
                self.bad_value("dynamics.payment_pattern", list(pattern),
                               f"sums to {math.fsum(pattern):.12g}; the shares of a year's claims "
                               "paid in each year must sum to 1")
                clean.pop("payment_pattern")
        return model.Dynamics(**clean) if len(clean) == len(DYNAMICS) else None


def build_treaty(clean: dict) -> model.Treaty:
    """A Treaty from the clean keys of one treaty table (all checked)."""
    terms = dict(clean)
    if terms["type"] == "surplus":
        terms["surplus_lines"] = float(terms.pop("lines"))
        terms["lines"] = terms.pop("covered_lines", None)
    if terms["type"] in ("per_risk_xl", "cat_xl"):
        # k reinstatements give (k + 1) * limit in the year, unless the given aggregate is smaller
        terms["aggregate_limit"] = min(terms["aggregate_limit"], (terms["reinstatements"] + 1) * terms["limit"])
    return model.Treaty(**terms)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# ---------------------------------------------------------------- correlation matrices
def correlation_matrix(names: list[str], entries) -> np.ndarray:
    """The (n_lines, n_lines) matrix of ``(line, line, rho)`` entries; unlisted pairs 0."""
    index = {name: i for i, name in enumerate(names)}
    matrix = np.eye(len(names))
    for first, second, rho in entries:
        matrix[index[first], index[second]] = matrix[index[second], index[first]] = rho
    return matrix


def nearest_correlation(matrix: np.ndarray, floor: float = 1e-3, iterations: int = 200) -> np.ndarray:
    """Nearest correlation matrix by Higham's (2002) alternating projections with Dykstra's correction.

    Alternates between the positive semi-definite matrices (eigenvalues clipped at
    ``floor`` > 0, so that rounding the suggestion to 4 decimals keeps it valid) and
    the matrices with a unit diagonal.
    """
    target = matrix.copy()
    correction = np.zeros_like(matrix)
    for _ in range(iterations):
        shifted = target - correction
        eigenvalues, vectors = np.linalg.eigh(shifted)
        positive = (vectors * np.maximum(eigenvalues, floor)) @ vectors.T
        correction = positive - shifted
        previous, target = target, positive.copy()
        np.fill_diagonal(target, 1.0)
        if np.max(np.abs(target - previous)) < 1e-10:
            break
    return target
