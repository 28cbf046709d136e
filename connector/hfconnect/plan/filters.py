"""Engine predicates -> `pyarrow.compute.Expression` (the core's filter model), or refused.

Both engine adapters walk their own predicate trees (Spark's pushed `Filter`s, Daft's expressions) and build the
pyarrow expression through `PredicateBuilder`, which owns the semantics: a predicate is translated only where
pyarrow evaluates it exactly as Spark and Daft do, and refused (`Unsupported`) otherwise, so the engine keeps it
and results stay exact. Pushed predicates prune row groups by statistics and drop rows early.

Refused: comparisons and IN on floating-point columns (Spark and Daft order NaN above every number and take
NaN = NaN as true; pyarrow does neither), null or NaN literals, columns the files do not have, and anything
pyarrow cannot evaluate on the schema's types. Null-safe equality is kept null-free so NOT around it stays right.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["LITERALS", "Column", "Literal", "PredicateBuilder", "Unsupported", "conjunction", "type_checks"]

COMPARISONS: dict[str, Callable[[Any, Any], pc.Expression]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
IN_AS_EQUALITIES = 64
_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
LITERALS = (bool, int, float, str, bytes, datetime.date, datetime.datetime, decimal.Decimal)


class Unsupported(Exception):
    """A predicate pyarrow would not evaluate exactly as the engine does: the engine keeps it."""


@dataclass(frozen=True)
class Column:
    path: tuple[str, ...]  # a top-level column, or a path into a struct


@dataclass(frozen=True)
class Literal:
    value: Any


class PredicateBuilder:
    """Builds pyarrow expressions over `schema` (the files' schema); `columns` collects the top-level columns
    the built expressions read (the reader must fetch them even when the query does not project them)."""

    def __init__(self, schema: pa.Schema, *, literal_types: tuple[type, ...] = LITERALS,
                 refused_types: tuple[type, ...] = ()) -> None:
        self.schema = schema
        self.literal_types = literal_types  # what the engine hands over as literal values
        self.refused_types = refused_types  # ... and those whose semantics differ in pyarrow
        self.columns: set[str] = set()

    # ---- operands ---------------------------------------------------------------------------------
    def column_type(self, column: Column) -> pa.DataType:
        head, *rest = column.path
        if head not in self.schema.names:  # e.g. the `split` column added for split="all"
            raise Unsupported(f"column {head!r} is not in the files")
        t = self.schema.field(head).type
        for name in rest:
            if not pa.types.is_struct(t) or t.get_field_index(name) < 0:
                raise Unsupported(f"no field {name!r} in {head!r}")
            t = t.field(name).type
        self.columns.add(head)
        return t

    def _field(self, column: Column) -> pc.Expression:
        return pc.field(*column.path) if len(column.path) > 1 else pc.field(column.path[0])

    def _not_float(self, column: Column) -> pc.Expression:
        t = self.column_type(column)
        value_type = t.value_type if pa.types.is_dictionary(t) else t
        if pa.types.is_floating(value_type):
            raise Unsupported(f"{column.path} is floating point: NaN orders differently in pyarrow")
        return self._field(column)

    def _literal(self, literal: Literal) -> pc.Expression:
        v = literal.value
        if (v is None or not isinstance(v, self.literal_types) or isinstance(v, self.refused_types)
                or (isinstance(v, float) and math.isnan(v))):
            raise Unsupported(f"literal {v!r}")
        return pc.scalar(v)

    # ---- predicates -------------------------------------------------------------------------------
    def compare(self, op: str, left: Column | Literal, right: Column | Literal) -> pc.Expression:
        """`column op literal` (either side); `op` one of ==, !=, <, <=, >, >=."""
        if isinstance(left, Literal) and isinstance(right, Column):
            left, right, op = right, left, _FLIPPED[op]
        if not (isinstance(left, Column) and isinstance(right, Literal)):
            raise Unsupported("only column-to-literal comparisons")
        return COMPARISONS[op](self._not_float(left), self._literal(right))

    def null_safe_equal(self, column: Column, value: Any) -> pc.Expression:
        """`column <=> value`: never null (null <=> null is true), so a NOT around it keeps its meaning."""
        if value is None:
            self.column_type(column)
            return self._field(column).is_null()
        equal = self.compare("==", column, Literal(value))
        return equal & self._field(column).is_valid()

    def is_in(self, column: Column, values: Iterable[Any]) -> pc.Expression:
        """`column IN (values)`, null for a null column as in SQL (so NOT IN drops those rows too). pyarrow's
        `isin` answers false for a null input, so short lists are ORs of equalities (which statistics prune
        by), long ones an `isin` that is null where the column is."""
        values = list(values)
        if not values:
            raise Unsupported("empty IN list")
        field = self._not_float(column)
        scalars = [self._literal(Literal(v)) for v in values]  # refuses null: the engines never match it
        if len(values) <= IN_AS_EQUALITIES:
            return functools.reduce(operator.or_, (field == v for v in scalars))
        return pc.if_else(field.is_valid(), field.isin(values), pc.scalar(pa.scalar(None, pa.bool_())))

    def is_null(self, column: Column) -> pc.Expression:
        self.column_type(column)
        return self._field(column).is_null()

    def is_not_null(self, column: Column) -> pc.Expression:
        self.column_type(column)
        return self._field(column).is_valid()

    def string_match(self, kind: str, column: Column, pattern: Any) -> pc.Expression:
        """`kind` is starts_with, ends_with or contains; a plain (non-regex) pattern."""
        if not isinstance(pattern, str):
            raise Unsupported(f"pattern {pattern!r}")
        t = self.column_type(column)
        if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
            raise Unsupported(f"{kind} on {t}")
        function = {"starts_with": pc.starts_with, "ends_with": pc.ends_with, "contains": pc.match_substring}[kind]
        return function(self._field(column), pattern=pattern)

    def boolean_column(self, column: Column) -> pc.Expression:
        """A boolean column used as a predicate by itself."""
        if not pa.types.is_boolean(self.column_type(column)):
            raise Unsupported("a non-boolean column is not a predicate")
        return self._field(column)

    @staticmethod
    def and_(left: pc.Expression, right: pc.Expression) -> pc.Expression:
        return left & right

    @staticmethod
    def or_(left: pc.Expression, right: pc.Expression) -> pc.Expression:
        return left | right

    @staticmethod
    def not_(child: pc.Expression) -> pc.Expression:
        return ~child

    def checked(self, expression: pc.Expression) -> pc.Expression:
        """The expression if pyarrow can evaluate it on the schema's types, else Unsupported."""
        if not type_checks(expression, self.schema):
            raise Unsupported(f"pyarrow cannot evaluate {expression} on these types")
        return expression


def type_checks(expression: pc.Expression, schema: pa.Schema) -> bool:
    """Whether pyarrow can evaluate the expression on this schema (binds the types, reads no data)."""
    try:
        schema.empty_table().filter(expression)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, KeyError, TypeError):
        return False
    return True


def conjunction(expressions: Iterable[pc.Expression]) -> pc.Expression | None:
    """All of them (AND), or None when there are none."""
    parts = list(expressions)
    return functools.reduce(operator.and_, parts) if parts else None
