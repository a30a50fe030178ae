"""The generic part of reading a scenario dict: every problem and note collected with
the file and key path it belongs to, and tables checked against their fields.

:class:`sim.scenario_reader.Reader` builds on it, one method per section.
"""
from __future__ import annotations

import difflib
from typing import Any

from .scenario_fields import Field
from .scenario_values import INVALID, _join, _suggestion, show


# ---------------------------------------------------------------- the reader
class TableReader:
    """Collects every problem and note of a resolved scenario dict, each with its file and key
    path, and checks tables against their fields."""

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
