"""Print the README's option tables from hfconnect's one option table (paste them under README "Options")."""

from __future__ import annotations

from hfconnect.options.table import aliases_markdown, markdown

if __name__ == "__main__":
    for direction in ("read", "write"):
        print(f"{direction.capitalize()} options:\n\n{markdown(direction)}\n")
    print(f"Other libraries' option names:\n\n{aliases_markdown()}")
