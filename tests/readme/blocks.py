"""The code blocks of the README and jobs/README.md, each with the marker that says where it runs: a block is
`<!-- runs in: WHERE -->` (a test runs it as written) or `<!-- fragment: WHY -->` (it needs what a reader has)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "README.md", ROOT / "jobs" / "README.md")
MARKER = re.compile(r"^<!-- (runs in|fragment): (.+) -->$")


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # of the opening fence
    lang: str
    text: str
    section: str  # the nearest heading above it
    marker: tuple[str, str] | None  # ("runs in" | "fragment", what it says)


def blocks(doc: Path) -> list[Block]:
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


def section_blocks(section: str, doc: Path = DOCS[0]) -> list[Block]:
    return [b for b in blocks(doc) if b.section == section]
