"""Shared fixtures: a tiny valid scenario, and a way to write mutated copies of it."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
REPOSITORY = Path(__file__).parent.parent
SCENARIOS = REPOSITORY / "scenarios"

# Test this checkout's `sim`, whatever is installed: an editable install made
# before sim/__init__.py existed maps `sim` as a namespace package (no __version__).
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))


@pytest.fixture
def tiny_scenario_path() -> Path:
    """A small valid scenario file using every section of the format."""
    return DATA / "tiny.toml"


@pytest.fixture
def tiny_scenario_text(tiny_scenario_path) -> str:
    return tiny_scenario_path.read_text(encoding="utf-8")


@pytest.fixture
def write_scenario(tmp_path):
    """Write TOML text to ``tmp_path/<name>`` and return the path."""
    def write(text: str, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path
    return write
