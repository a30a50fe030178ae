"""The JSON Schema of scenario files (sim.schema) against the loader (sim.scenario) and the docs.

The loader is the authority: its own "not a valid key ... (valid keys: ...)" message,
for a key slipped into each table of a full scenario, must list exactly the keys the
schema has there. A key added to the loader without the schema (or the reverse)
fails here. To cover a new table or distribution, add an example below
(``DISTRIBUTION_EXAMPLES``, ``TREATY_EXAMPLES``); the coverage test says what is missing.
"""
from __future__ import annotations

import copy
import io
import json
import re
import tomllib
from contextlib import redirect_stdout
from pathlib import Path

import jsonschema
import pytest

from sim import cli, scenario_fields as fields
from sim.scenario_reader import Reader
from sim.scenario_values import Check
from sim.distributions import PARAMETER_SETS, DistributionError, make
from sim.schema import BASE_KEY, PARAMETER_RANGES
from sim.schema_json import scenario_schema, schema_text
from sim.schema_markdown import markdown

REPOSITORY = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"
SCHEMA_COPY = REPOSITORY / "docs" / "scenario.schema.json"
FORMAT_DOC = REPOSITORY / "docs" / "scenario-format.md"
# docs/scenario-format.md: hand-written above this line, `poolsim schema --markdown` below it.
GENERATED_MARKER = "<!-- generated: everything below is `poolsim schema --markdown` -->"
SCENARIO_FILES = sorted((REPOSITORY / "scenarios").glob("*.toml")) + sorted(DATA.glob("*.toml"))

# A valid table of every distribution, put in place of a line's severity or frequency.
DISTRIBUTION_EXAMPLES = {
    "lognormal": {"dist": "lognormal", "mean": 2e5, "sd": 4e5},
    "gamma": {"dist": "gamma", "shape": 2.0, "scale": 1e5},
    "pareto": {"dist": "pareto", "scale": 1e5, "shape": 2.5},
    "gpd": {"dist": "gpd", "scale": 1e5, "shape": 0.3, "threshold": 1e4},
    "beta": {"dist": "beta", "mean": 0.3, "sd": 0.1},
    "uniform": {"dist": "uniform", "low": 1e4, "high": 1e6, "max": 5e5},
    "poisson": {"dist": "poisson", "mean": 0.1, "max": 2},
    "negbin": {"dist": "negbin", "mean": 0.1, "dispersion": 2.0},
    "bernoulli": {"dist": "bernoulli", "p": 0.05},
}
# Treaties that tiny.toml lacks, added to its pool programme.
TREATY_EXAMPLES = [
    {"type": "surplus", "retention": 1e6, "lines": 3, "commission": 0.2, "panel": {"China Re": 1.0}},
]
# Top-level tables that tiny.toml lacks.
TABLE_EXAMPLES = {
    "dynamics": {"exposure_growth": 0.1, "payment_pattern": [0.7, 0.3], "exit_below_solvency": 1.0},
    "pricing": {"method": "credibility", "credibility_k": 5000, "target_loss_ratio": 0.6, "max_rate_change": 0.25},
    "optimize": {"objective": "cost", "candidates": 8, "max_prob_solvency_below_100": 0.005,
                 "min_solvency_ratio_p01": 1.2, "pricing": {"loading": 0.5},
                 "vary": [{"key": "pool.reinsurance[1].retention", "min": 5e5, "max": 2e6}]},
}


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(scenario_schema())


def tiny() -> dict:
    return tomllib.loads((DATA / "tiny.toml").read_text(encoding="utf-8"))


def full_documents() -> list[dict]:
    """Valid scenarios that together hold every table and distribution the schema describes."""
    base = tiny()
    base["pool"]["reinsurance"] += copy.deepcopy(TREATY_EXAMPLES)
    base.update(copy.deepcopy(TABLE_EXAMPLES))
    documents = [base]
    for kind, table in DISTRIBUTION_EXAMPLES.items():
        document = tiny()
        key = "frequency" if kind in ("poisson", "negbin", "bernoulli") else "severity"
        document["lines"][0][key] = dict(table)
        documents.append(document)
    return documents


def loader_problems(data: dict) -> list[str]:
    reader = Reader("<test>", {})
    reader.scenario(copy.deepcopy(data))
    return reader.problems


# ---------------------------------------------------------------- the files
def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(scenario_schema())


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda path: path.name)
def test_every_scenario_validates_against_the_schema(path):
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    errors = [f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
              for error in validator().iter_errors(document)]
    assert errors == []


def test_the_full_documents_are_valid_for_both():
    for document in full_documents():
        assert loader_problems(document) == []
        assert validator().is_valid(document)


def _set(document: dict, path: list, value) -> dict:
    changed = copy.deepcopy(document)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


@pytest.mark.parametrize("path, value", [
    (["pool", "members", 0, "shar"], 0.6),                      # a misspelt key
    (["pool", "members", 0, "share"], "0.6"),                   # a share as a string
    (["pool", "members", 0, "share"], 1.2),                     # out of range
    (["simulation", "trials"], 0),
    (["lines", 0, "capital_class"], "liabilty"),
    (["pool", "reinsurance", 0, "retention"], 5e6),             # a term of another treaty type
    (["pool", "reinsurance", 0, "type"], "quota-share"),
    (["lines", 0, "severity"], {"dist": "lognormal", "median": 2e5, "sd": 1.0}),   # mixed parameter sets
    (["lines", 0, "frequency"], {"dist": "lognormal", "median": 2e5, "sigma": 1.0}),
    (["lines", 1, "severity"], 1e5),                            # with damage_ratio too
    (["reinsurers", 0, "default_probability"], 0.001),          # with rating too
])
def test_a_broken_scenario_fails_both_the_schema_and_the_loader(path, value):
    broken = _set(tiny(), path, value)
    assert not validator().is_valid(broken)
    assert loader_problems(broken)


def test_a_limit_of_inf_passes_as_python_and_taplo_read_it():
    # tomllib gives float("inf"); taplo gives null, JSON having no infinity
    for unlimited in (float("inf"), None):
        assert validator().is_valid(_set(tiny(), ["lines", 0, "limit"], unlimited))
        assert validator().is_valid(_set(tiny(), ["reinsurers", 1, "capital"], unlimited))
    assert not validator().is_valid(_set(tiny(), ["lines", 0, "deductible"], None))   # finite only


def test_a_file_with_base_may_leave_the_required_keys_to_its_base():
    assert validator().is_valid({"base": "ai_cyber_pool.toml", "name": "other"})
    assert not validator().is_valid({"name": "no base"})
    assert not validator().is_valid({"base": "x.toml", "pool": {"name": "p"}})   # pool.members required


def test_the_committed_copy_is_what_poolsim_schema_prints():
    printed = io.StringIO()
    with redirect_stdout(printed):
        assert cli.main(["schema"]) == 0
    assert printed.getvalue() == schema_text()
    assert SCHEMA_COPY.read_text(encoding="utf-8") == printed.getvalue(), (
        "docs/scenario.schema.json is stale: run `poolsim schema > docs/scenario.schema.json`")


def test_the_format_reference_is_what_poolsim_schema_markdown_prints():
    printed = io.StringIO()
    with redirect_stdout(printed):
        assert cli.main(["schema", "--markdown"]) == 0
    text = FORMAT_DOC.read_text(encoding="utf-8")
    assert GENERATED_MARKER in text
    generated = text.split(GENERATED_MARKER, 1)[1].lstrip("\n")
    assert generated == printed.getvalue(), (
        "docs/scenario-format.md is stale: keep its text down to the marker line, then append "
        "`poolsim schema --markdown`")


# ---------------------------------------------------------------- keys: schema against the loader
def _resolve(reference: str, root: dict) -> dict:
    node = root
    for step in reference.removeprefix("#/").split("/"):
        node = node[step]
    return node


def _is_valid(node: dict, instance, root: dict) -> bool:
    return jsonschema.Draft202012Validator({**node, "$defs": root["$defs"]}).is_valid(instance)


def applicable(node: dict, instance, root: dict) -> list[dict]:
    """Every subschema that applies to ``instance``: through $ref, allOf, if/then/else and the
    anyOf/oneOf branches it is valid under."""
    if "$ref" in node:
        node = _resolve(node["$ref"], root)
    found = [node]
    for sub in node.get("allOf", []):
        found += applicable(sub, instance, root)
    if "if" in node:
        branch = node.get("then") if _is_valid(node["if"], instance, root) else node.get("else")
        if branch:
            found += applicable(branch, instance, root)
    for key in ("anyOf", "oneOf"):
        for sub in node.get(key, []):
            if _is_valid(sub, instance, root):
                found += applicable(sub, instance, root)
    return found


def closed_tables(nodes: list[dict], instance, root: dict, steps: list, seen: set[int]):
    """``(steps, keys)`` of every table of ``instance`` whose schema lists its keys; ``seen``
    collects the ids of the schema nodes used."""
    if isinstance(instance, dict):
        nodes = [found for node in nodes for found in applicable(node, instance, root)]
        with_keys = [node for node in nodes if "properties" in node]
        seen.update(id(node) for node in with_keys)
        if with_keys:
            yield steps, set().union(*(node["properties"] for node in with_keys))
        for key, value in instance.items():
            children = [node["properties"][key] for node in with_keys if key in node["properties"]]
            yield from closed_tables(children, value, root, steps + [key], seen)
    elif isinstance(instance, list):
        items = [found["items"] for node in nodes for found in applicable(node, instance, root)
                 if isinstance(found.get("items"), dict)]
        for index, value in enumerate(instance):
            yield from closed_tables(items, value, root, steps + [index], seen)


def key_path(steps: list) -> str:
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def accepted_keys(document: dict, steps: list) -> set[str]:
    """The keys the loader lists as valid for the table at ``steps``: from its message for an
    unknown key slipped in there."""
    unknown = "no_such_key"
    problems = loader_problems(_set(document, steps + [unknown], 1))
    where = f"{key_path(steps)}.{unknown}" if steps else unknown
    for problem in problems:
        if f"{where} is not a" in problem:
            listed = re.search(r"\((?:valid keys|parameters): ([^)]*)\)$", problem)
            assert listed, problem
            return set(listed.group(1).split(", "))
    raise AssertionError(f"the loader did not refuse {where}: {problems}")


def test_every_table_has_the_keys_the_loader_accepts_there():
    root = scenario_schema()
    seen: set[int] = set()
    compared = 0
    for document in full_documents():
        for steps, schema_keys in closed_tables([root], document, root, [], seen):
            loader_keys = accepted_keys(document, steps)
            if not steps:
                loader_keys.add(BASE_KEY)            # resolved before the tables are checked
            if "dist" in schema_keys:
                loader_keys.add("dist")              # the loader lists a distribution's parameters only
            assert schema_keys == loader_keys, key_path(steps) or "the top level"
            compared += 1
    assert compared > 20
    # Every table the schema describes was compared: else add an example above.
    tables = []

    def collect(node, under_if=False):
        if isinstance(node, dict):
            if "properties" in node and not under_if:
                tables.append(node)
            for key, value in node.items():
                collect(value, under_if or key == "if")
        elif isinstance(node, list):
            for value in node:
                collect(value, under_if)
    collect(root)
    missing = [json.dumps(node)[:120] for node in tables if id(node) not in seen]
    assert missing == []


# ---------------------------------------------------------------- ranges: schema against the loader
SAMPLES = [-2.0, -1.0, -0.5, 0.0, 1e-9, 0.5, 1.0, 1.5, 2.0, 3650.0, 3651.0, 1e12, 2**64 - 1, 2**64]


def loader_checks() -> dict[str, Check]:
    tables = [fields.SCENARIO, fields.SIMULATION, fields.LINE, fields.DEPENDENCE, fields.CATASTROPHE,
              fields.POOL, fields.MEMBER, fields.REINSURER, fields.SOLVENCY, fields.DYNAMICS,
              *fields.TREATY_TERMS.values()]
    return {field.check.text: field.check for table in tables for field in table.values()
            if field is not None and field.check is not None}


@pytest.mark.parametrize("check", loader_checks().values(), ids=lambda check: check.text)
def test_each_check_has_the_same_range_in_the_schema(check):
    fragment = jsonschema.Draft202012Validator(dict(check.json_schema))
    samples = list(check.choices) + ["nope"] if check.choices else SAMPLES
    for value in samples:
        assert fragment.is_valid(value) == check.accepts(value), value


def test_every_distribution_parameter_has_a_range():
    parameters = {(kind, name) for kind, options in PARAMETER_SETS.items() for option in options for name in option}
    assert set(PARAMETER_RANGES) == parameters


# Values of the other parameters at which only the one varied decides.
BENIGN = {"median": 1e5, "sigma": 1.0, "mean": 0.3, "sd": 1e-4, "shape": 2.0, "scale": 1e5, "threshold": 0.0,
          "low": 0.0, "high": 1.0, "dispersion": 2.0, "p": 0.5}


@pytest.mark.parametrize("kind, name", sorted(PARAMETER_RANGES))
def test_each_parameter_range_is_what_the_loader_accepts(kind, name):
    option = next(option for option in PARAMETER_SETS[kind] if name in option)
    fragment = jsonschema.Draft202012Validator({"type": "number", **PARAMETER_RANGES[(kind, name)]})
    for value in [-1.0, -1e-3, 0.0, 1e-3, 0.3, 1.0, 1.5]:
        parameters = {other: BENIGN[other] for other in option}
        parameters[name] = value
        try:
            make(kind, parameters)
            accepted = True
        except DistributionError as error:
            if "too large" in error.allowed or "greater than low" in error.allowed:
                continue    # a rule between two parameters, not a range: the loader's to check
            accepted = False
        assert fragment.is_valid(value) == accepted, (kind, name, value)
