"""The one option table agrees with everything that describes options: the dataclasses' fields and defaults,
the parsers, the Spark docstrings, the Daft functions' keywords and the tables of docs/options.md and
docs/migrating.md."""

from __future__ import annotations

import ast
import re
from dataclasses import MISSING, fields
from pathlib import Path

import pytest

from hfconnect.options import OPTIONS, ReadOptions, WriteOptions, options_for
from hfconnect.options.table import ALIASES, aliases_markdown, markdown

PACKAGE = Path(__file__).resolve().parents[3] / "connector" / "hfconnect"
DOCS = Path(__file__).resolve().parents[3] / "docs"
OPTIONS_PAGE, MIGRATING_PAGE = DOCS / "options.md", DOCS / "migrating.md"  # scripts/options_table.py writes them


@pytest.mark.parametrize(("cls", "direction"), [(ReadOptions, "read"), (WriteOptions, "write")])
def test_the_dataclasses_hold_exactly_the_tables_options_with_its_defaults(cls: type, direction: str) -> None:
    table = options_for(direction)
    assert {f.name for f in fields(cls)} == set(table)
    for f in fields(cls):
        default = None if f.default is MISSING else f.default
        assert default == table[f.name].default, f.name


def test_every_default_goes_through_its_own_parser() -> None:
    for option in OPTIONS:
        if option.default is not None:
            assert option.parse(option.default) == option.default, option.name
            assert option.parse(str(option.default)) == option.default, option.name  # as Spark hands it over


def test_names_and_aliases_are_unique_per_direction() -> None:
    for direction in ("read", "write"):
        keys = [k for o in OPTIONS if getattr(o, direction) for k in (o.name, *o.aliases)]
        assert len(keys) == len(set(keys)), direction


def _docstring(module: str) -> str:
    return ast.get_docstring(ast.parse((PACKAGE / module).read_text())) or ""


@pytest.mark.parametrize(("module", "direction"), [("spark/source.py", "read"), ("spark/writer.py", "write")])
def test_the_spark_docstrings_name_every_spark_option(module: str, direction: str) -> None:
    words = set(re.findall(r"\w+", _docstring(module)))
    missing = [n for n in options_for(direction, "spark") if n not in words and n != "repo"]
    assert not missing, f"{module} does not mention {missing}"


def _keywords(module: str, function: str) -> set[str]:
    tree = ast.parse((PACKAGE / module).read_text())
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function)
    return {a.arg for a in node.args.args + node.args.kwonlyargs}


@pytest.mark.parametrize(("module", "function", "direction", "extra"), [
    ("daft/__init__.py", "read_huggingface", "read", {"io_config", "format"}),  # Daft's own keywords too
    ("daft/sink.py", "write_huggingface", "write", {"df", "overwrite", "io_config"}),
])
def test_the_daft_functions_take_every_daft_option(module: str, function: str, direction: str,
                                                   extra: set[str]) -> None:
    daft = options_for(direction, "daft")
    expected = {o.aliases[0] if o.name == "daft_reader" else o.name for o in daft.values()}
    assert _keywords(module, function) == expected | extra


def _block(page: Path, name: str) -> str:
    """What docs `page` holds between `<!-- options:NAME:start -->` and `<!-- options:NAME:end -->`."""
    text = page.read_text()
    start, end = f"<!-- options:{name}:start -->", f"<!-- options:{name}:end -->"
    assert start in text and end in text, f"{page.name} has no {start} ... {end} block"
    return text.split(start, 1)[1].split(end, 1)[0].strip()


@pytest.mark.parametrize("direction", ["read", "write"])
def test_the_options_page_shows_the_table(direction: str) -> None:
    assert _block(OPTIONS_PAGE, direction) == markdown(direction), "run scripts/options_table.py (docs/options.md)"


def test_the_migrating_page_shows_the_other_libraries_names() -> None:
    assert _block(MIGRATING_PAGE, "aliases") == aliases_markdown(), "run scripts/options_table.py (docs/migrating.md)"
    for alias in ALIASES:
        assert alias.option is None or any(o.name == alias.option for o in OPTIONS), alias
