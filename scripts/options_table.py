"""Write hfconnect's option tables, generated from its one option table (`hfconnect.options.table`), into the docs:
the read and write tables into docs/options.md, the table of other libraries' option names into docs/migrating.md,
each between `<!-- options:NAME:start -->` and `<!-- options:NAME:end -->` (NAME: read, write, aliases).

    python scripts/options_table.py            # rewrite the blocks (prints the pages it changed)
    python scripts/options_table.py --check    # change nothing; exit 1 if a page is not current
    python scripts/options_table.py --print    # print the three tables

tests/unit/options/test_table.py fails while a page's block differs from the table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hfconnect.options.table import aliases_markdown, markdown

ROOT = Path(__file__).resolve().parents[1]
PAGES = {"read": ROOT / "docs" / "options.md", "write": ROOT / "docs" / "options.md",
         "aliases": ROOT / "docs" / "migrating.md"}


def markers(name: str) -> tuple[str, str]:
    return f"<!-- options:{name}:start -->", f"<!-- options:{name}:end -->"


def table(name: str) -> str:
    return aliases_markdown() if name == "aliases" else markdown(name)


def block(name: str) -> str:
    start, end = markers(name)
    return f"{start}\n\n{table(name)}\n\n{end}"


def current(text: str, name: str) -> str:
    """The page's block for `name`, markers included (SystemExit when the page has none)."""
    start, end = markers(name)
    at, stop = text.find(start), text.find(end)
    if at < 0 or stop < at:
        raise SystemExit(f"no {start} ... {end} block (add the two markers where the table goes)")
    return text[at:stop + len(end)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if a page is not current")
    ap.add_argument("--print", action="store_true", help="print the tables")
    args = ap.parse_args(argv)
    if args.print:
        print(f"Read options:\n\n{markdown('read')}\n\nWrite options:\n\n{markdown('write')}\n")
        print(f"Other libraries' option names:\n\n{aliases_markdown()}")
        return 0
    stale = []
    for page in dict.fromkeys(PAGES.values()):
        text = page.read_text()
        new = text
        for name in (n for n, p in PAGES.items() if p == page):
            new = new.replace(current(new, name), block(name))
        if new != text:
            stale.append(page.relative_to(ROOT))
            if not args.check:
                page.write_text(new)
    for page in stale:
        print(f"{page}: {'not current' if args.check else 'updated'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
