"""Errors the user can fix: a bad scenario file or bad command-line arguments.

The command line turns these into clean messages and exit status 2; anything
else is an internal error (exit status 1).
"""
from __future__ import annotations


class ScenarioError(Exception):
    """A scenario file has problems. ``problems`` holds every one, each a full message
    naming the file, the key path, the bad value and what is allowed."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        count = len(self.problems)
        heading = f"{count} problem{'s' if count != 1 else ''} in the scenario"
        super().__init__(heading + ":\n" + "\n".join(self.problems))


class UsageError(Exception):
    """Bad arguments that argparse cannot catch (e.g. a results folder that does not exist)."""
