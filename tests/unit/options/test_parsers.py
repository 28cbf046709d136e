"""Option values from Spark's strings and Daft's Python values: each parser takes both, and its error names the
option and the value (and what a good value looks like). Filters are data, never code."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from hfconnect.errors import OptionError
from hfconnect.options.parsers import (
    DEFAULT_ENDPOINT,
    default_endpoint,
    parse_bool,
    parse_filters,
    parse_int,
    parse_list,
    parse_seconds,
    parse_size,
)


@pytest.mark.parametrize(("value", "size"), [
    (500000, 500000), ("500000", 500000), ("128MB", 128_000_000), ("128mb", 128_000_000), ("1GiB", 1024**3),
    ("1gib", 1024**3), (" 10 KiB ", 10 * 1024), ("1.5KB", 1500), ("2K", 2000), ("1Ki", 1024), ("5B", 5),
    ("1T", 1000**4), ("1TiB", 1024**4), ("1.5", 1),
])
def test_sizes(value: object, size: int) -> None:
    assert parse_size("max_file_size", value) == size


@pytest.mark.parametrize(("value", "message"), [
    ("12XB", r"^option max_file_size='12XB': expected a size such as 134217728, 128MB or 1GiB$"),
    ("", "expected a size such as"), ("-5MB", "expected a size such as"), ("MB", "expected a size such as"),
    (True, r"^option max_file_size=True: expected a size such as 128MB$"),
    (0, r"^option max_file_size=0: must be positive$"), (-1, "must be positive"),
    ("0", "must be positive"), ("0.4", "must be positive"),  # rounds down to zero bytes
])
def test_bad_sizes_name_the_option_and_the_value(value: object, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        parse_size("max_file_size", value)


def test_ints() -> None:
    assert parse_int("min_shards", "7") == 7
    assert parse_int("min_shards", " 7 ") == 7
    assert parse_int("min_shards", 3) == 3
    assert parse_int("level", 0, minimum=0) == 0
    assert parse_int("level", "-3", minimum=-5) == -3


@pytest.mark.parametrize(("value", "message"), [
    ("x", r"^option min_shards='x': expected a whole number$"),
    ("1.5", r"^option min_shards='1.5': expected a whole number$"),
    (0, r"^option min_shards=0: expected a whole number >= 1$"),
    ("0", r"expected a whole number >= 1$"),
    (True, r"^option min_shards=True: expected a whole number$"),  # a bool is not a count
])
def test_bad_ints(value: object, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        parse_int("min_shards", value)


@pytest.mark.parametrize(("value", "want"), [
    (True, True), (False, False), ("true", True), ("TRUE", True), (" yes ", True), ("1", True), (1, True),
    ("false", False), ("No", False), ("0", False), (0, False),
])
def test_bools(value: object, want: bool) -> None:
    assert parse_bool("prefetch", value) is want


@pytest.mark.parametrize("value", ["maybe", "", "on", 2])
def test_bad_bools(value: object) -> None:
    with pytest.raises(OptionError, match=rf"^option prefetch={value!r}: expected true or false$"):
        parse_bool("prefetch", value)


@pytest.mark.parametrize(("value", "want"), [
    ("id,text", ("id", "text")), (" id , text ", ("id", "text")), ("id", ("id",)), (["id", "text"], ("id", "text")),
    (("id",), ("id",)), ('["id", "a,b"]', ("id", "a,b")),  # JSON keeps a comma inside a name
])
def test_lists(value: object, want: tuple[str, ...]) -> None:
    assert parse_list("columns", value) == want


@pytest.mark.parametrize(("value", "message"), [
    ('["id", ', "not a valid JSON list of strings"), ("", "expected a non-empty list of names"),
    ("id,,text", "expected a non-empty list of names"), ("[]", "expected a non-empty list of names"),
    ("[1, 2]", "expected a non-empty list of names"), ([], "expected a non-empty list of names"),
    (["id", 3], "expected a non-empty list of names"), ("id,text,id", "'id' listed more than once"),
    ('["b", "a", "b", "a"]', "'a', 'b' listed more than once"),
])
def test_bad_lists(value: object, message: str) -> None:
    with pytest.raises(OptionError, match=rf"^option columns={value!r}: {message}$".replace("[", r"\[")):
        parse_list("columns", value)


TABLE = pa.table({"id": list(range(10)), "label": [i % 3 for i in range(10)], "name": [f"n{i}" for i in range(10)]})


def _ids(expr: pc.Expression) -> list[int]:
    return TABLE.filter(expr)["id"].to_pylist()


@pytest.mark.parametrize(("value", "ids"), [
    ('[["id", ">", 5]]', [6, 7, 8, 9]),  # JSON
    ('[("id", ">", 5)]', [6, 7, 8, 9]),  # the Python literal form pyspark_huggingface documents
    ("[('label', 'in', {1, 2}), ('id', '<', 5)]", [1, 2, 4]),  # a set for `in`, AND-ed
    ('[[["id", "=", 1]], [["id", "=", 8]]]', [1, 8]),  # OR-ed groups
    ("[[('id', '<', 2)], [('name', '==', 'n9')]]", [0, 1, 9]),
    ([("id", "<=", 1)], [0, 1]), ([["id", "<=", 1]], [0, 1]),  # Python values (Daft)
    ('[["label", "not in", [0, 1]]]', [2, 5, 8]),
])
def test_filters_in_every_form_mean_the_same_rows(value: object, ids: list[int]) -> None:
    expr = parse_filters("filters", value)
    assert isinstance(expr, pc.Expression)
    assert _ids(expr) == ids


def test_no_filter_and_expressions_pass_through() -> None:
    expr = pc.field("id") > 3
    assert parse_filters("filters", None) is None
    assert parse_filters("filters", expr) is expr


@pytest.mark.parametrize("value", ["id > 5", "__import__('os').system('touch /tmp/hfconnect-pwned')",
                                   "[(lambda: 1)()]", "[f(1)]"])
def test_filters_that_are_not_literals_are_refused_and_never_run(value: str) -> None:
    with pytest.raises(OptionError, match=r"expected DNF filters as JSON or a Python literal, such as "
                                          r'\[\["id", ">", 5\]\] or \[\("id", ">", 5\)\]$'):
        parse_filters("filters", value)


@pytest.mark.parametrize("value", ['[["id", ">"]]', "5", '[["id", "~", 5]]', "[[]]"])
def test_literals_that_are_not_dnf_say_why(value: str) -> None:
    with pytest.raises(OptionError, match=rf"^option filters={value!r}: not valid DNF filters \(.+\)$"
                       .replace("[", r"\[")):
        parse_filters("filters", value)


@pytest.mark.parametrize(("value", "seconds"), [("60", 60.0), (" 2.5s ", 2.5), (3, 3.0), (0.5, 0.5), ("1e1", 10.0)])
def test_seconds(value: object, seconds: float) -> None:
    got = parse_seconds("retry_budget", value)
    assert got == seconds and isinstance(got, float)


@pytest.mark.parametrize(("value", "message"), [
    ("soon", "expected a number of seconds such as 60"), ("", "expected a number of seconds such as 60"),
    (0, "expected a positive, finite number of seconds"), ("-1", "expected a positive, finite number of seconds"),
    (True, "expected a positive, finite number of seconds"),
])
def test_bad_seconds(value: object, message: str) -> None:
    with pytest.raises(OptionError, match=rf"^option retry_budget={value!r}: {message}$"):
        parse_seconds("retry_budget", value)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "Infinity", float("nan"), float("inf")])
def test_seconds_must_be_finite(value: object) -> None:
    """A NaN budget never runs out and an infinite one cannot become Daft's number of tries: both are refused."""
    with pytest.raises(OptionError, match=rf"^option retry_budget={value!r}: expected a positive, finite number of "
                                          r"seconds$"):
        parse_seconds("retry_budget", value)


def test_a_retry_budget_that_parses_gives_daft_its_settings() -> None:
    from hfconnect.hub.http import Target
    from hfconnect.options import ReadOptions

    client = ReadOptions.build(repo="o/r", endpoint="http://127.0.0.1:9", retry_budget="1e6").client
    assert client.http_settings(Target("http://127.0.0.1:9/x", False))["num_tries"] == 8  # our attempts cap it


def test_default_endpoint_is_hf_endpoint_without_its_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9/")
    assert default_endpoint() == "http://127.0.0.1:9"
    monkeypatch.delenv("HF_ENDPOINT")
    assert default_endpoint() == DEFAULT_ENDPOINT == "https://huggingface.co"
