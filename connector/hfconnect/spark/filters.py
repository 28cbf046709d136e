"""Spark's pushed filters -> one `pyarrow.compute.Expression`, through the core's `PredicateBuilder`.

This module only maps Spark's `Filter` classes onto the builder; what is translated, and what is handed back to
Spark to evaluate itself (so results stay exact), is decided there.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..plan.filters import Column, Literal, PredicateBuilder, Unsupported

__all__ = ["filter_column", "to_expression"]



def to_expression(spark_filter: Any, schema: pa.Schema) -> pc.Expression | None:
    """One pyspark.sql.datasource Filter -> Expression over `schema`, or None when Spark must evaluate it."""
    builder = PredicateBuilder(schema)
    try:
        return builder.checked(_build(builder, spark_filter))
    except Unsupported:
        return None


def _build(b: PredicateBuilder, node: Any) -> pc.Expression:
    from pyspark.sql import datasource as f

    if isinstance(node, f.Not):
        return b.not_(_build(b, node.child))
    column = Column(tuple(node.attribute))
    comparisons = {f.EqualTo: "==", f.GreaterThan: ">", f.GreaterThanOrEqual: ">=", f.LessThan: "<",
                   f.LessThanOrEqual: "<="}
    strings = {f.StringStartsWith: "starts_with", f.StringEndsWith: "ends_with", f.StringContains: "contains"}
    kind = type(node)
    if kind in comparisons:
        return b.compare(comparisons[kind], column, Literal(node.value))
    if kind in strings:
        return b.string_match(strings[kind], column, node.value)
    if isinstance(node, f.EqualNullSafe):
        return b.null_safe_equal(column, node.value)
    if isinstance(node, f.In):
        return b.is_in(column, node.value)
    if isinstance(node, f.IsNull):
        return b.is_null(column)
    if isinstance(node, f.IsNotNull):
        return b.is_not_null(column)
    raise Unsupported(kind.__name__)


def filter_column(spark_filter: Any) -> str:
    """The top-level column a (possibly negated) filter is about."""
    node = spark_filter
    while not hasattr(node, "attribute"):
        node = node.child
    return node.attribute[0]
