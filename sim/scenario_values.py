"""The kinds of values a scenario file holds, and how they are shown and checked.

:func:`show` spells a value as TOML would in a message; a :class:`Check` is an allowed
range with its words; a :class:`Kind` converts a raw TOML value (a number, a list of
line names, a panel, a distribution table), reporting a problem to the reader it is
given and returning :data:`INVALID`.
"""
from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Protocol

from .distributions import FREQUENCY_KINDS, PARAMETER_SETS, Distribution, DistributionError, make

SEVERITY_DISTRIBUTIONS = tuple(kind for kind in PARAMETER_SETS if kind not in FREQUENCY_KINDS)

SUM_TOLERANCE = 1e-9          # shares and payment patterns must sum to 1 within this

INVALID = object()   # what a converter returns after reporting a problem


class Reporter(Protocol):
    """What a converter reports its problems to (:class:`sim.scenario_tables.TableReader`)."""

    def problem(self, path: str, message: str) -> None: ...

    def bad_value(self, path: str, value: Any, allowed: str) -> None: ...

    def check_line_name(self, path: str, name: str) -> bool: ...

    def check_reinsurer_name(self, path: str, name: str) -> bool: ...


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
    convert: Callable[[Reporter, str, Any], Any]
    # The same type in JSON Schema (sim.schema); distributions refer to sim.schema's $defs.
    json_schema: Mapping[str, Any] | None = field(default=None, compare=False)


def _convert_number(reader: Reporter, path: str, value: Any) -> Any:
    if not _is_number(value) or value != value:   # value != value: NaN
        hint = " (true/false is not a number)" if isinstance(value, bool) else ""
        reader.bad_value(path, value, "must be a number" + hint)
        return INVALID
    return float(value)


def _convert_integer(reader: Reporter, path: str, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        hint = ""
        if isinstance(value, float) and value.is_integer():
            hint = f" (write {int(value):_} without a decimal point or exponent)"
        elif isinstance(value, bool):
            hint = " (true/false is not a number)"
        reader.bad_value(path, value, "must be a whole number" + hint)
        return INVALID
    return value


def _convert_string(reader: Reporter, path: str, value: Any) -> Any:
    if not isinstance(value, str) or not value.strip():
        reader.bad_value(path, value, "must be a non-empty string")
        return INVALID
    return value


def _convert_number_list(reader: Reporter, path: str, value: Any) -> Any:
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
    def convert(reader: Reporter, path: str, value: Any) -> Any:
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


def _convert_surplus_lines(reader: Reporter, path: str, value: Any) -> Any:
    # on a surplus, `lines` is a count, not the covered lines: those are `covered_lines`
    if isinstance(value, bool) or not isinstance(value, int):
        reader.bad_value(path, value, "must be the whole number of lines of capacity "
                                      "(capacity = lines * retention), e.g. lines = 4; "
                                      "on a surplus the lines of business it covers are covered_lines")
        return INVALID
    return value


SURPLUS_LINES = Kind("the whole number of lines of capacity", _convert_surplus_lines, {"type": "integer"})


def _convert_panel(reader: Reporter, path: str, value: Any) -> Any:
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
    def convert(reader: Reporter, path: str, value: Any) -> Any:
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


def _constant(reader: Reporter, path: str, value: float, role: str) -> Any:
    check = SHARE if role == "share" else FINITE_NON_NEGATIVE
    if value != value or not check.accepts(value):
        reader.bad_value(path, value, f"must be {check.text}{check.hint(value)}")
        return INVALID
    return Distribution.constant(value)


def _convert_frequency(reader: Reporter, path: str, value: Any) -> Any:
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


def _distribution_table(reader: Reporter, path: str, table: dict, kinds: tuple[str, ...]) -> Any:
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


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key

