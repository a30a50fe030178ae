"""The scenario as run, as TOML text kept with its results (``scenario.toml``).

A results folder must say what was run even after the scenario file has been
edited or its ``base`` files moved. :func:`text_as_run` gives the file's own
text when it stands alone (its comments, which say where figures come from,
kept), and otherwise its resolved form (bases applied, written by ``tomli_w``).
Either way the text is checked to resolve to the sha256 recorded for the run
(:func:`sim.scenario.resolved_sha256`): a file edited during the run gives
None rather than a text that was not run.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

from .model import Scenario

HEADER = ("# The scenario as run, with its base files applied (their comments are in those files).\n"
          "# Read from: {source}\n"
          "# sha256 of the resolved scenario (as in run.json): {sha256}\n\n")


def text_as_run(scenario: Scenario) -> str | None:
    """TOML text that resolves to ``scenario`` (same sha256), or None when none can be given:
    the scenario was built in Python (no file), or its file changed since it was read."""
    from .scenario import resolved_data, resolved_sha256

    source = scenario.source
    if not source or not scenario.sha256 or not os.path.isfile(source):
        return None
    try:
        text = Path(source).read_bytes().decode("utf-8-sig")
        document = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    if "base" not in document:
        return text if resolved_sha256(document) == scenario.sha256 else None
    import tomli_w

    resolved = resolved_data(source)
    if resolved is None or resolved_sha256(resolved) != scenario.sha256:
        return None
    written = HEADER.format(source=source, sha256=scenario.sha256) + tomli_w.dumps(resolved)
    # tomli_w writes every value TOML holds; the check guards against a float written inexactly.
    return written if resolved_sha256(tomllib.loads(written)) == scenario.sha256 else None
