"""The one place filter semantics live: what becomes a pyarrow expression (evaluated here on real data, with
nulls, against SQL's three-valued logic as Spark and Daft apply it) and what stays with the engine."""

from __future__ import annotations

import datetime
import decimal
import math

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from hfconnect.plan.filters import Column, Literal, PredicateBuilder, Unsupported, conjunction, type_checks

TABLE = pa.table({
    "id": pa.array([1, 2, 3, None, 5], pa.int64()),
    "name": pa.array(["apple", "banana", None, "cherry", "apricot"]),
    "score": pa.array([0.5, float("nan"), 1.5, None, 2.0]),
    "flag": pa.array([True, False, None, True, False]),
    "day": pa.array([datetime.date(2024, 1, d) for d in (1, 2, 3, 4, 5)]),
    "tag": pa.array(["a", "b", "a", "c", None]).dictionary_encode(),
    "point": pa.array([{"x": i} for i in range(5)], pa.struct([("x", pa.int64())])),
})
ID, NAME = Column(("id",)), Column(("name",))


def kept(expression: pc.Expression) -> list[int]:
    """Row positions a filter keeps (a null predicate drops the row, as in SQL)."""
    marked = TABLE.append_column("_row", pa.array(range(TABLE.num_rows)))
    return marked.filter(expression).column("_row").to_pylist()


def sql(predicate) -> list[int]:  # noqa: ANN001 - a per-row function returning True, False or None
    return [i for i, row in enumerate(TABLE.to_pylist()) if predicate(row) is True]


def cmp(op: str, a, b):  # noqa: ANN001, ANN201 - SQL comparison with nulls
    if a is None or b is None:
        return None
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def sql_not(v):  # noqa: ANN001, ANN201
    return None if v is None else not v


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_comparisons_match_sql_with_nulls_and_under_not(op) -> None:
    b = PredicateBuilder(TABLE.schema)
    expr = b.compare(op, ID, Literal(3))
    assert kept(expr) == sql(lambda r: cmp(op, r["id"], 3))
    assert kept(b.not_(expr)) == sql(lambda r: sql_not(cmp(op, r["id"], 3)))
    assert kept(b.compare(op, Literal(3), ID)) == sql(lambda r: cmp(op, 3, r["id"]))  # literal on the left


def test_null_safe_equality_stays_right_under_not() -> None:
    b = PredicateBuilder(TABLE.schema)
    assert kept(b.null_safe_equal(ID, 3)) == [2]
    assert kept(b.not_(b.null_safe_equal(ID, 3))) == [0, 1, 3, 4]  # the null id is kept: NOT(null <=> 3) is true
    assert kept(b.null_safe_equal(ID, None)) == [3] and kept(b.not_(b.null_safe_equal(ID, None))) == [0, 1, 2, 4]


def test_in_and_null_checks_and_strings() -> None:
    b = PredicateBuilder(TABLE.schema)
    assert kept(b.is_in(ID, [1, 5, 7])) == [0, 4]
    assert kept(b.not_(b.is_in(ID, [1, 5]))) == [1, 2]  # null id: NOT(null IN (...)) is null, dropped
    many = list(range(100, 300)) + [1, 5]  # a long list takes the other form: same answers
    assert kept(b.is_in(ID, many)) == [0, 4] and kept(b.not_(b.is_in(ID, many))) == [1, 2]
    assert kept(b.is_null(NAME)) == [2] and kept(b.is_not_null(NAME)) == [0, 1, 3, 4]
    assert kept(b.string_match("starts_with", NAME, "ap")) == [0, 4]
    assert kept(b.string_match("ends_with", NAME, "na")) == [1]
    assert kept(b.string_match("contains", NAME, "err")) == [3]
    assert kept(b.compare("==", Column(("tag",)), Literal("a"))) == [0, 2]  # dictionary-encoded strings
    assert kept(b.compare(">", Column(("point", "x")), Literal(2))) == [3, 4]  # a struct field
    assert kept(b.boolean_column(Column(("flag",)))) == [0, 3]
    assert kept(b.and_(b.compare(">", ID, Literal(1)), b.compare("<", ID, Literal(5)))) == [1, 2]
    assert kept(b.or_(b.compare("<", ID, Literal(2)), b.is_null(ID))) == [0, 3]
    assert b.columns == {"id", "name", "tag", "point", "flag"}


@pytest.mark.parametrize(("build", "why"), [
    (lambda b: b.compare(">", Column(("score",)), Literal(1.0)), "floating point"),  # NaN orders differently
    (lambda b: b.compare("==", Column(("score",)), Literal(1.5)), "floating point"),
    (lambda b: b.is_in(Column(("score",)), [1.5]), "floating point"),
    (lambda b: b.compare("==", ID, Literal(None)), "literal None"),
    (lambda b: b.compare("==", ID, Literal(math.nan)), "literal nan"),
    (lambda b: b.is_in(ID, [1, None]), "literal None"),  # pyarrow's isin would match the null row
    (lambda b: b.is_in(ID, []), "empty IN"),
    (lambda b: b.compare("==", Column(("split",)), Literal("train")), "not in the files"),
    (lambda b: b.compare("==", Column(("point", "y")), Literal(1)), "no field 'y'"),
    (lambda b: b.compare("==", ID, ID), "column-to-literal"),
    (lambda b: b.boolean_column(ID), "not a predicate"),
    (lambda b: b.string_match("contains", ID, "1"), "contains on int64"),
    (lambda b: b.compare("==", ID, Literal([1])), "literal [1]"),
])
def test_what_pyarrow_would_evaluate_differently_is_refused(build, why) -> None:
    with pytest.raises(Unsupported, match=why.replace("(", r"\(").replace("[", r"\[")):
        build(PredicateBuilder(TABLE.schema))


def test_literal_types_are_the_engines() -> None:
    daft_like = PredicateBuilder(TABLE.schema, literal_types=(bool, int, float, str, bytes, datetime.date),
                                 refused_types=(datetime.datetime,))
    assert kept(daft_like.compare(">=", Column(("day",)), Literal(datetime.date(2024, 1, 4)))) == [3, 4]
    with pytest.raises(Unsupported):
        daft_like.compare(">=", Column(("day",)), Literal(datetime.datetime(2024, 1, 4)))
    with pytest.raises(Unsupported):
        daft_like.compare("==", ID, Literal(decimal.Decimal(1)))
    assert kept(PredicateBuilder(TABLE.schema).compare("==", ID, Literal(decimal.Decimal(1)))) == [0]


def test_type_checks_and_checked() -> None:
    b = PredicateBuilder(TABLE.schema)
    bad = b.compare(">", NAME, Literal(3))  # builds, but pyarrow cannot compare strings with integers
    assert not type_checks(bad, TABLE.schema)
    with pytest.raises(Unsupported, match="cannot evaluate"):
        b.checked(bad)
    good = b.compare(">", ID, Literal(3))
    assert b.checked(good) is good


def test_conjunction() -> None:
    b = PredicateBuilder(TABLE.schema)
    assert conjunction([]) is None
    both = conjunction([b.compare(">", ID, Literal(1)), b.is_not_null(NAME)])
    assert kept(both) == [1, 4]
