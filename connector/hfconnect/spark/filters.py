"""Spark's pushed filters -> one `pyarrow.compute.Expression` (the core's neutral filter model).

A filter that cannot be translated exactly, or does not type-check against the schema, is handed back to
Spark, which then evaluates it itself: results are always exact.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["to_expression"]


def _field(attribute: tuple[str, ...]) -> pc.Expression:
    return pc.field(*attribute) if len(attribute) > 1 else pc.field(attribute[0])


def to_expression(spark_filter: Any) -> pc.Expression | None:
    """One pyspark.sql.datasource Filter -> Expression, or None when it has no exact translation."""
    from pyspark.sql import datasource as f

    if isinstance(spark_filter, f.Not):
        child = to_expression(spark_filter.child)
        return None if child is None else ~child
    attr = getattr(spark_filter, "attribute", None)
    if not attr:
        return None
    col = _field(tuple(attr))
    value = getattr(spark_filter, "value", None)
    if isinstance(spark_filter, (f.EqualTo, f.EqualNullSafe)):
        if value is None:
            return col.is_null() if isinstance(spark_filter, f.EqualNullSafe) else None
        return None if isinstance(value, (list, tuple, dict)) else col == value
    comparisons = {f.GreaterThan: "__gt__", f.GreaterThanOrEqual: "__ge__", f.LessThan: "__lt__",
                   f.LessThanOrEqual: "__le__"}
    for cls, op in comparisons.items():
        if isinstance(spark_filter, cls):
            return None if value is None or isinstance(value, (list, tuple, dict)) else getattr(col, op)(value)
    if isinstance(spark_filter, f.In):
        values = [v for v in spark_filter.value if v is not None]
        return col.isin(values) if values and len(values) == len(spark_filter.value) else None
    if isinstance(spark_filter, f.IsNull):
        return col.is_null()
    if isinstance(spark_filter, f.IsNotNull):
        return col.is_valid()
    if isinstance(spark_filter, f.StringStartsWith):
        return pc.starts_with(col, pattern=value)
    if isinstance(spark_filter, f.StringEndsWith):
        return pc.ends_with(col, pattern=value)
    if isinstance(spark_filter, f.StringContains):
        return pc.match_substring(col, pattern=value)
    return None


def type_checks(expression: pc.Expression, schema: pa.Schema) -> bool:
    """Whether pyarrow can evaluate the expression on this schema (binds types without reading data)."""
    try:
        pa.table({n.name: pa.array([], n.type) for n in schema}).filter(expression)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, KeyError, TypeError):
        return False
    return True
