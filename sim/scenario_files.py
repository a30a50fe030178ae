"""Reading scenario files: TOML text into a dict, ``base = "other.toml"`` inheritance
resolved into one plain dict, and the sha256 that identifies the resolved scenario.

Every top-level key or table a file gives replaces the base's whole; bases chain. We
remember which file gave each top-level key, so that a problem is reported against the
file the user has to edit.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from pathlib import Path

from .errors import ScenarioError
from .scenario_values import show


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


