"""The documentation holds together: every code block of README.md, docs/*.md and jobs/README.md is run by a test
or says why not (the markers of tests/readme/blocks.py), every relative link of README.md, ARCHITECTURE.md and
docs/*.md reaches a file of the repository (and a heading of it, for `#anchor`), and nothing points outside the
repository. Reads files only: no hub, no engine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.readme.blocks import DOCS, DOCS_DIR, README, ROOT, blocks

LINKED = (README, ROOT / "ARCHITECTURE.md", *sorted(DOCS_DIR.glob("*.md")))
PAGES = ("reading", "writing", "options", "streaming", "realhub-and-xet", "buckets", "media", "cluster",
         "migrating", "benchmarks", "localhub")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_the_docs_pages_exist_and_the_readmes_link_every_one() -> None:
    index = (DOCS_DIR / "README.md").read_text()
    front = README.read_text()
    for name in PAGES:
        assert (DOCS_DIR / f"{name}.md").is_file(), f"docs/{name}.md is missing"
        assert f"]({name}.md" in index, f"docs/README.md does not link docs/{name}.md"
        assert f"](docs/{name}.md" in front, f"README.md does not link docs/{name}.md"
    assert set(PAGES) | {"README"} == {p.stem for p in DOCS_DIR.glob("*.md")}, "a docs page outside PAGES"


def test_every_block_is_run_by_a_test_or_marked_a_fragment() -> None:
    seen = 0
    for doc in DOCS:
        for block in blocks(doc):
            seen += 1
            where = f"{_name(doc)}:{block.line}"
            assert block.marker is not None, (
                f"{where}: a code block with no '<!-- runs in: ... -->' or '<!-- fragment: ... -->' right above it")
            kind, what = block.marker
            if kind == "fragment":
                assert len(what.strip()) > 10, f"{where}: a fragment must say why no test runs it"
                continue
            paths = re.findall(r"(?:tests|scripts|\.ci)/[\w./]+\w", what)
            assert paths, f"{where}: 'runs in' names no test"
            for path in paths:
                assert (ROOT / path).exists(), f"{where}: {path} does not exist"
            if doc.parent == DOCS_DIR:
                # a test it names reads the block from this page: moving the block breaks that test, not the docs
                tests = [ROOT / p for p in paths if p.startswith("tests/") and p.endswith(".py")]
                assert any(_name(doc) in test.read_text() for test in tests), (
                    f"{where}: 'runs in' names no test that reads {_name(doc)}")
    assert seen >= 20


def _outside_fences(text: str) -> list[tuple[int, str]]:
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def _anchors(page: Path) -> set[str]:
    """GitHub's ids of the page's headings: lower case, punctuation dropped, spaces as '-', repeats numbered."""
    found: set[str] = set()
    for _, line in _outside_fences(page.read_text()):
        if match := re.match(r"#{1,6}\s+(.*?)\s*#*$", line):
            slug = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-")
            n, candidate = 0, slug
            while candidate in found:
                n += 1
                candidate = f"{slug}-{n}"
            found.add(candidate)
    return found


@pytest.mark.parametrize("page", LINKED, ids=_name)
def test_every_relative_link_resolves(page: Path) -> None:
    assert page.exists(), f"{_name(page)} is missing: README.md, ARCHITECTURE.md and every docs page must exist"
    bad = []
    for number, line in _outside_fences(page.read_text()):
        for target in LINK.findall(re.sub(r"``?[^`]+``?", "``", line)):
            if re.match(r"[a-z][a-z+.-]*:", target):  # https:, mailto:, ...
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.is_relative_to(ROOT):
                bad.append(f"{number}: {target} points outside the repository")
            elif not resolved.exists():
                bad.append(f"{number}: {target} does not exist")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                bad.append(f"{number}: {target}: no heading #{anchor} in {_name(resolved)}")
    assert not bad, f"{_name(page)}:\n" + "\n".join(bad)


@pytest.mark.parametrize("page", LINKED, ids=_name)
def test_nothing_points_outside_the_repository(page: Path) -> None:
    assert page.exists(), f"{_name(page)} is missing: README.md, ARCHITECTURE.md and every docs page must exist"
    text = page.read_text()
    assert "../shared" not in text and "shared/DESIGN.md" not in text, f"{_name(page)} points at ../shared"
