"""The code blocks of the documentation (README.md, every docs/*.md page and jobs/README.md), each with the marker
that says where it runs. The line right above a block (blank lines skipped) is one of:

    <!-- runs in: TEST -->     a test runs the block as written; TEST names it (tests/..., scripts/..., .ci/...),
                               and for a docs/ page that test reads the block from the page (it names the page)
    <!-- fragment: WHY -->     not run as written: WHY says what it needs that a test cannot have (a real cluster,
                               the real Hub, a server's host name) or that it is a sketch of an API with the
                               reader's own values; use it sparingly, and name the tests that run the same calls

tests/readme/test_docs_pages.py enforces it; a test takes a page's blocks with `section_blocks(section, page)`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS_DIR = ROOT / "docs"
DOCS = (README, *sorted(DOCS_DIR.glob("*.md")), ROOT / "jobs" / "README.md")
MARKER = re.compile(r"^<!-- (runs in|fragment): (.+) -->$")


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # of the opening fence
    lang: str
    text: str
    section: str  # the nearest heading above it
    marker: tuple[str, str] | None  # ("runs in" | "fragment", what it says)


def page(path: str | Path) -> Path:
    """A page by its path in the repository ("docs/media.md", "README.md"), or a Path as given."""
    found = path if isinstance(path, Path) else ROOT / path
    assert found.is_file(), f"{found} does not exist"
    return found


def blocks(doc: str | Path) -> list[Block]:
    doc = page(doc)
    found: list[Block] = []
    lines = doc.read_text().splitlines()
    section, i = "", 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        if line.startswith("```"):
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            above = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            match = MARKER.match(above.strip())
            found.append(Block(doc, i + 1, line[3:].strip(), "\n".join(lines[i + 1:end]) + "\n", section,
                               (match.group(1), match.group(2)) if match else None))
            i = end
        i += 1
    return found


def section_blocks(section: str, doc: str | Path = README) -> list[Block]:
    """The blocks under the heading `section` (any level) of a page: README.md unless `doc` names another."""
    return [b for b in blocks(doc) if b.section == section]
