"""The repository stands alone: its docs' links resolve inside it, and no file points outside it."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).parent.parent
DOCUMENTS = [REPOSITORY / "README.md", *sorted((REPOSITORY / "docs").glob("*.md"))]
# Spelt in pieces, so that this file does not match itself.
OUTSIDE = ["../" + "shared", "shared/" + "docs", "shared/" + "checks", "domain" + ".md", "contract" + ".md",
           "/" + "work/"]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


# What a copy of the repository holds besides its files (.ci/run's copy has no .git).
NOT_THE_REPOSITORY = {".git", ".venv", "venv", ".pytest_cache", ".hypothesis", "__pycache__", "build", "dist",
                      "results"}


def tracked_files() -> list[str]:
    """The repository's files: git's list, or in a copy without .git every file but the ones
    a run, an install or the tests leave (.gitignore's)."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPOSITORY, capture_output=True, check=True)
        return [name for name in listed.stdout.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        pass
    return [path.relative_to(REPOSITORY).as_posix() for path in REPOSITORY.rglob("*")
            if path.is_file() and not any(part in NOT_THE_REPOSITORY or part.endswith(".egg-info")
                                          for part in path.relative_to(REPOSITORY).parts)]


def test_no_file_refers_to_a_path_outside_the_repository():
    found = []
    for name in tracked_files():
        path = REPOSITORY / name
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue                     # images and other binary files
        for number, line in enumerate(text.splitlines(), start=1):
            found += [f"{name}:{number}: {pattern}" for pattern in OUTSIDE if pattern in line]
    assert found == []


def slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return {slug(match) for match in re.findall(r"^#+\s+(.*)$", text, flags=re.M)}


def links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return LINK.findall(text)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_relative_link_resolves_to_a_file_in_the_repository(document):
    broken = []
    for target in links(document):
        if re.match(r"^[a-z]+:", target):            # https:, mailto:: not files
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (document.parent / file_part).resolve() if file_part else document.resolve()
        if not resolved.is_relative_to(REPOSITORY.resolve()) or not resolved.exists():
            broken.append(f"{target}: no such file in the repository")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no heading #{anchor} in {resolved.name}")
    assert broken == []


def test_the_link_check_finds_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\nSee [this](missing.md), [that](#title) and ![a plot](x.png).\n")
    assert links(page) == ["missing.md", "#title", "x.png"]
    assert anchors(page) == {"title"}
    assert slug("`[[pool.members]]` (at least one)") == "poolmembers-at-least-one"
    assert slug("A scenario, by example") == "a-scenario-by-example"


def test_ci_runs_the_readme_test_command():
    command = next(line for line in (REPOSITORY / "README.md").read_text(encoding="utf-8").splitlines()
                   if 'pytest -m "not slow"' in line)
    assert command in (REPOSITORY / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_the_docs_are_linked_from_the_readme():
    readme_links = links(REPOSITORY / "README.md")
    for document in DOCUMENTS[1:]:
        assert f"docs/{document.name}" in readme_links, document.name
