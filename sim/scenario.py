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

import os
from dataclasses import replace
from pathlib import Path

from . import model
from .errors import ScenarioError
from .scenario_files import _identity, _parse_toml, _read_toml, _resolve_bases, resolve, resolved_data, resolved_sha256
from .scenario_reader import Reader

__all__ = ["load", "loads", "validate", "check", "resolve", "resolved_data", "resolved_sha256"]


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
