"""What ``pip install .`` (not editable) installs: every subpackage of sim, and its data files."""
from __future__ import annotations

import tomllib

from conftest import REPOSITORY


def test_every_subpackage_of_sim_is_installed():
    """setuptools installs only the packages pyproject.toml lists: a subpackage left out installs
    nothing of its own, and the command fails on a fresh machine (an editable install hides it)."""
    configuration = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(configuration["tool"]["setuptools"]["packages"])
    on_disk = {".".join(path.parent.relative_to(REPOSITORY).parts)
               for path in (REPOSITORY / "sim").rglob("__init__.py")}
    assert on_disk == listed
