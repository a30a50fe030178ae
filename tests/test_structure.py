"""The package's shape: no import cycle among ``sim`` modules, and no module over 600 lines.

The imports are read from the source with :mod:`ast`, not by importing it: every
``import`` and ``from ... import`` statement anywhere in a module counts, those
inside functions (imported late, to hide a cycle) and under ``if TYPE_CHECKING:``
too. Importing ``sim.a.b`` runs the package ``sim.a`` first, so it counts as an
import of both (a module's own packages excepted: they are already running).
Imports by name at run time (``importlib.import_module``, as ``sim.__init__``'s
lazy attributes do) are not seen.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import REPOSITORY

PACKAGE = "sim"
MAX_LINES = 600


# ---------------------------------------------------------------- reading the imports
def modules_of(root: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` (the folder ``root / package``): dotted name -> file."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _packages_of(module: str) -> list[str]:
    """``a.b.c`` -> ``["a", "a.b"]``."""
    parts = module.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]


def import_edges(modules: dict[str, Path]) -> dict[str, dict[str, int]]:
    """For each module, the modules of the set it imports, each with the line of its first import."""
    edges: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        own_package = name if is_package else name.rpartition(".")[0]
        targets: dict[str, int] = {}

        def add(target: str, line: int) -> None:
            while target and target not in modules:          # `sim.x.attribute` -> the module sim.x
                target = target.rpartition(".")[0]
            if not target:
                return
            for imported in _packages_of(target) + [target]:
                if imported != name and imported not in _packages_of(name):
                    targets.setdefault(imported, line)

        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base_parts = own_package.split(".")[:len(own_package.split(".")) - node.level + 1]
                    base = ".".join(base_parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                for alias in node.names:
                    # `from . import plots` imports the module sim.plots; `from .x import y` the module sim.x
                    add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base, node.lineno)
        edges[name] = targets
    return edges


def import_groups(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """The groups of two or more modules that import each other, directly or not (the strongly
    connected components of the import graph, by Tarjan's algorithm), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(edges.get(module, {})):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return sorted(groups)


def cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """One shortest cycle through each group of :func:`import_groups`, as ``[a, b, ..., a]``."""
    return [_shortest_cycle(group, edges) for group in import_groups(edges)]


def _shortest_cycle(group: list[str], edges: dict[str, dict[str, int]]) -> list[str]:
    """The shortest cycle through the group's first module (breadth first within the group)."""
    start = group[0]
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for module in frontier:
            for target in sorted(edges[module]):
                if target not in group:
                    continue
                if target == start:
                    path = [module]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start] + path[::-1][1:] + [start]
                if target not in came_from:
                    came_from[target] = module
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle through {start}")      # a group of two or more always has one


def cycle_text(cycle: list[str], edges: dict[str, dict[str, int]], modules: dict[str, Path],
               root: Path) -> str:
    """``a -> b -> a``, then each import with its file and line."""
    lines = [" -> ".join(cycle)]
    for importer, imported in zip(cycle, cycle[1:]):
        where = modules[importer].relative_to(root)
        lines.append(f"    {where}:{edges[importer][imported]} imports {imported}")
    return "\n".join(lines)


def group_text(group: list[str], edges: dict[str, dict[str, int]], modules: dict[str, Path], root: Path) -> str:
    """A group of modules that import each other: its members, then one shortest cycle through it
    (breaking that cycle may leave another in the group)."""
    return (f"{len(group)} modules import each other: {', '.join(group)}; for one:\n"
            + cycle_text(_shortest_cycle(group, edges), edges, modules, root))


# ---------------------------------------------------------------- the walker itself
def write_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_cycle_hidden_in_a_function_is_found_and_named(tmp_path):
    write_package(tmp_path, {
        "toy/__init__.py": "",
        "toy/low.py": "def late():\n    from .high import thing\n    return thing\n",
        "toy/high.py": "import os\nfrom toy import low\nthing = low\n",
        "toy/alone.py": "from . import low\n",
    })
    modules = modules_of(tmp_path, "toy")
    edges = import_edges(modules)
    assert edges["toy.alone"] == {"toy.low": 1}
    found = cycles(edges)
    assert found == [["toy.high", "toy.low", "toy.high"]]
    text = cycle_text(found[0], edges, modules, tmp_path)
    assert "toy/high.py:2 imports toy.low" in text and "toy/low.py:2 imports toy.high" in text


def test_relative_imports_in_subpackages_and_type_checking_imports_count(tmp_path):
    write_package(tmp_path, {
        "toy/__init__.py": "",
        "toy/results.py": "from .plots.files import draw\n",
        "toy/plots/__init__.py": "from .files import draw\n",
        "toy/plots/files.py": ("from typing import TYPE_CHECKING\nfrom .style import DPI\n"
                               "if TYPE_CHECKING:\n    from ..results import Results\n"),
        "toy/plots/style.py": "DPI = 120\n",
    })
    edges = import_edges(modules_of(tmp_path, "toy"))
    # a submodule's import runs its package's __init__ first; its own package is not an import
    assert edges["toy.results"] == {"toy.plots": 1, "toy.plots.files": 1}
    assert edges["toy.plots.files"] == {"toy.plots.style": 2, "toy.results": 4}
    assert [cycle[0] for cycle in cycles(edges)] == ["toy.plots"]


def test_no_cycle_no_finding(tmp_path):
    write_package(tmp_path, {"toy/__init__.py": "", "toy/a.py": "from . import b\n", "toy/b.py": "import json\n"})
    assert cycles(import_edges(modules_of(tmp_path, "toy"))) == []


# ---------------------------------------------------------------- sim
def test_no_import_cycle_among_sim_modules():
    modules = modules_of(REPOSITORY, PACKAGE)
    edges = import_edges(modules)
    groups = import_groups(edges)
    assert not groups, ("import cycles among sim modules (a shared name belongs in the lower module, or the "
                        "caller passes it in):\n" + "\n".join(group_text(group, edges, modules, REPOSITORY)
                                                             for group in groups))


@pytest.mark.parametrize("path", sorted((REPOSITORY / PACKAGE).rglob("*.py")),
                         ids=lambda path: str(path.relative_to(REPOSITORY)))
def test_no_module_over_600_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, (f"{path.relative_to(REPOSITORY)} has {lines} lines (at most {MAX_LINES}): "
                                "split it by concept")
