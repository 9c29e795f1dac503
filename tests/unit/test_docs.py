"""Every ``docs/<page>.md#<anchor>`` the code cites exists.

Docstrings and comments point to ``docs/field-notes.md`` and ``docs/aws-rules.md`` for the
stories and AWS rules behind the code; a renamed heading would leave them pointing nowhere.
Anchors are GitHub's: the heading's text, lower-cased, punctuation dropped, spaces turned into
hyphens, ``-1``, ``-2`` … added to repeats.  The pages' own links to each other are checked too,
and so is every repository path the pages name (``core/planning/planner.py``): files move, and
a page that sends a newcomer to a file that is gone is worse than none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Where citations are looked for.
SCANNED = ("core", "tui", "bench", "tests", "themes", ".ci")
SUFFIXES = frozenset({".py", ".toml", ".md", ".tcss", ".json", ".txt"})
#: ``docs/<page>.md`` or ``docs/<page>.md#<anchor>`` anywhere in a file (a path, a Markdown link).
CITATION = re.compile(r"docs/([A-Za-z0-9_.-]+?\.md)(?:#([\w-]+))?")
#: A Markdown link target inside ``docs/``: ``(page.md#anchor)``, ``(page.md)`` or ``(#anchor)``.
LOCAL_LINK = re.compile(r"\]\(((?:[A-Za-z0-9_.-]+?\.md)?)(?:#([\w-]+))?\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
#: A path in the repository named in a page, in backticks: `core/…`, `tests/unit/`, `README.md`.
REPO_PATH = re.compile(
    r"`((?:core|tui|tests|bench|themes|docs|\.ci)/[\w./-]*|README\.md|pyproject\.toml)`"
)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's Markdown text."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    text = text.replace("`", "").replace("*", "")
    text = "".join(c for c in text.lower() if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """The anchors of every heading of a page (outside code blocks), repeats numbered."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    in_code = False
    for line in markdown.splitlines():
        if FENCE.match(line):
            in_code = not in_code
            continue
        match = HEADING.match(line)
        if in_code or match is None:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def source_files(root: Path) -> Iterator[Path]:
    for folder in SCANNED:
        base = root / folder
        if base.is_dir():
            yield from (p for p in sorted(base.rglob("*")) if p.suffix in SUFFIXES and p.is_file())
    readme = root / "README.md"
    if readme.is_file():
        yield readme


def citations(root: Path) -> Iterator[tuple[str, str, str | None]]:
    """(where, page, anchor) for every docs citation in the sources and every local link of
    the docs pages."""
    for path in source_files(root):
        text = path.read_text(encoding="utf-8", errors="replace")
        for n, line in enumerate(text.splitlines(), 1):
            where = f"{path.relative_to(root)}:{n}"
            for match in CITATION.finditer(line):
                yield where, match.group(1), match.group(2)
    docs = root / "docs"
    for page in sorted(docs.glob("*.md")) if docs.is_dir() else ():
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for match in LOCAL_LINK.finditer(line):
                target = match.group(1) or page.name
                yield f"docs/{page.name}:{n}", target, match.group(2)


def broken(root: Path) -> list[str]:
    """Every citation whose page or anchor does not exist, with where it is."""
    pages: dict[str, set[str] | None] = {}
    problems: list[str] = []
    for where, page, anchor in citations(root):
        if page not in pages:
            path = root / "docs" / page
            pages[page] = anchors(path.read_text(encoding="utf-8")) if path.is_file() else None
        known = pages[page]
        if known is None:
            problems.append(f"{where}: docs/{page} does not exist")
        elif anchor is not None and anchor not in known:
            problems.append(f"{where}: docs/{page} has no heading with anchor #{anchor}")
    return problems


def test_every_cited_docs_page_and_anchor_exists() -> None:
    found = list(citations(ROOT))
    # the scan really finds the citations, so an empty list of problems means something
    cited = {(page, anchor) for _, page, anchor in found}
    assert ("field-notes.md", "partition-dilution") in cited
    assert ("aws-rules.md", "control-plane-rates") in cited
    assert len(found) > 50
    assert broken(ROOT) == []


def missing_paths(root: Path) -> list[str]:
    """Every repository path a docs page names in backticks that does not exist."""
    problems: list[str] = []
    docs = root / "docs"
    for page in sorted(docs.glob("*.md")) if docs.is_dir() else ():
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for match in REPO_PATH.finditer(line):
                if not (root / match.group(1)).exists():
                    problems.append(f"docs/{page.name}:{n}: {match.group(1)} does not exist")
    return problems


def test_every_path_the_pages_name_exists() -> None:
    named = [
        m.group(1)
        for page in (ROOT / "docs").glob("*.md")
        for m in REPO_PATH.finditer(page.read_text(encoding="utf-8"))
    ]
    assert "core/planning/planner.py" in named and "tests/unit/" in named
    assert missing_paths(ROOT) == []


def test_a_path_that_is_gone_is_reported(tmp_path: Path) -> None:
    make_tree(tmp_path, "")
    (tmp_path / OTHER).write_text("# Other\n\nSee `core/mod.py` and `core/gone.py`.\n")
    assert missing_paths(tmp_path) == [f"{OTHER}:3: core/gone.py does not exist"]


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("A. Nightly bulk load", "a-nightly-bulk-load"),
        ("The 36 h scale-down", "the-36-h-scale-down"),
        ("The console's data flow", "the-consoles-data-flow"),
        ("`UpdateShardCount`", "updateshardcount"),
        ("What moto does **and** does not model", "what-moto-does-and-does-not-model"),
        ("How to add …", "how-to-add-"),
        ("snake_case and [a link](x.md)", "snake_case-and-a-link"),
    ],
)
def test_anchors_are_githubs(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_repeated_headings_are_numbered_and_code_blocks_ignored() -> None:
    page = "# Top\n## Notes\n```\n## Not a heading\n```\n## Notes\n"
    assert anchors(page) == {"top", "notes", "notes-1"}


#: Page names of the made-up trees below, built so that this file's own scan does not see them.
RULES, OTHER, GONE = ("docs/" + name for name in ("rules.md", "other.md", "gone.md"))


def make_tree(root: Path, source: str) -> None:
    (root / "docs").mkdir()
    (root / RULES).write_text(
        "# Rules\n\nSee [the budget](#decrease-budget) and [other](other.md#x).\n\n"
        "## Decrease budget\n",
        encoding="utf-8",
    )
    (root / OTHER).write_text("# Other\n\n## X\n", encoding="utf-8")
    (root / "core").mkdir()
    (root / "core" / "mod.py").write_text(source, encoding="utf-8")


def test_a_tree_with_good_citations_has_no_problems(tmp_path: Path) -> None:
    make_tree(tmp_path, f'"""See {RULES}#decrease-budget and {OTHER}."""\n')
    assert broken(tmp_path) == []


def test_a_broken_anchor_is_reported_with_its_place(tmp_path: Path) -> None:
    make_tree(tmp_path, f'"""Fine: {RULES}#decrease-budget.\nBroken: {RULES}#no-such-rule."""\n')
    assert broken(tmp_path) == [f"core/mod.py:2: {RULES} has no heading with anchor #no-such-rule"]


def test_a_missing_page_and_broken_links_between_pages_are_reported(tmp_path: Path) -> None:
    make_tree(tmp_path, f"# see {GONE}#anything\n")
    (tmp_path / OTHER).write_text("# Other\n\n[back](rules.md#nowhere)\n", encoding="utf-8")
    assert broken(tmp_path) == [
        f"core/mod.py:1: {GONE} does not exist",
        f"{OTHER}:3: {RULES} has no heading with anchor #nowhere",
        f"{RULES}:3: {OTHER} has no heading with anchor #x",
    ]
