"""Daft's pushed filter -> one `pyarrow.compute.Expression`, through the core's `PredicateBuilder`.

This module only walks Daft's expression tree (its `PredicateVisitor`) and splits it into conjuncts; what is
translated, and what stays with Daft, is decided by the builder. Daft re-applies its whole filter after the scan,
so pushing a subset of the conjuncts is safe.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
from daft.expressions.visitor import PredicateVisitor

from ..plan.filters import Column, Literal, PredicateBuilder, Unsupported, conjunction

if TYPE_CHECKING:
    from daft.expressions import Expression

__all__ = ["ArrowFilter", "to_arrow_filter"]

# Daft hands timestamps over as naive datetimes whatever the column's zone, and decimals not at all: refused.
DAFT_LITERALS = (bool, int, float, str, bytes, datetime.date)


@dataclass(frozen=True)
class ArrowFilter:
    """The part of a Daft filter pushed to the reader. `exact` means all of it (so a limit may stop early)."""

    expression: pc.Expression | None
    columns: tuple[str, ...]
    exact: bool


@dataclass(frozen=True)
class _And:
    left: Expression
    right: Expression


class _ToArrow(PredicateVisitor[Any]):
    """Daft expression -> builder calls. Columns and literals come back as operands, predicates as pyarrow
    expressions; functions, casts and coalesce are refused."""

    def __init__(self, schema: pa.Schema, split_and: bool = False) -> None:
        self.builder = PredicateBuilder(schema, literal_types=DAFT_LITERALS, refused_types=(datetime.datetime,))
        self.split_and = split_and

    def predicate(self, expr: Expression) -> pc.Expression:
        node = self.visit(expr)
        if isinstance(node, Column):
            return self.builder.boolean_column(node)
        if not isinstance(node, pc.Expression):
            raise Unsupported(node)
        return node

    def _operand(self, expr: Expression) -> Column | Literal:
        node = self.visit(expr)
        if not isinstance(node, (Column, Literal)):
            raise Unsupported(node)
        return node

    def _compare(self, op: str, left: Expression, right: Expression) -> pc.Expression:
        return self.builder.compare(op, self._operand(left), self._operand(right))

    def _column(self, expr: Expression) -> Column:
        node = self.visit(expr)
        if not isinstance(node, Column):
            raise Unsupported(node)
        return node

    def visit_col(self, name: str) -> Column:
        return Column((name,))

    def visit_lit(self, value: Any) -> Literal:
        return Literal(value)

    def visit_alias(self, expr: Expression, alias: str) -> Any:
        return self.visit(expr)

    def visit_cast(self, expr: Expression, dtype: Any) -> Any:
        raise Unsupported("cast")

    def visit_function(self, name: str, args: list[Expression]) -> Any:
        raise Unsupported(name)

    def visit_coalesce(self, args: list[Expression]) -> Any:
        raise Unsupported("coalesce")

    def visit_and(self, left: Expression, right: Expression) -> Any:
        if self.split_and:
            return _And(left, right)
        return self.builder.and_(self.predicate(left), self.predicate(right))

    def visit_or(self, left: Expression, right: Expression) -> Any:
        return self.builder.or_(self.predicate(left), self.predicate(right))

    def visit_not(self, expr: Expression) -> Any:
        return self.builder.not_(self.predicate(expr))

    def visit_equal(self, left: Expression, right: Expression) -> Any:
        return self._compare("==", left, right)

    def visit_not_equal(self, left: Expression, right: Expression) -> Any:
        return self._compare("!=", left, right)

    def visit_less_than(self, left: Expression, right: Expression) -> Any:
        return self._compare("<", left, right)

    def visit_less_than_or_equal(self, left: Expression, right: Expression) -> Any:
        return self._compare("<=", left, right)

    def visit_greater_than(self, left: Expression, right: Expression) -> Any:
        return self._compare(">", left, right)

    def visit_greater_than_or_equal(self, left: Expression, right: Expression) -> Any:
        return self._compare(">=", left, right)

    def visit_between(self, expr: Expression, lower: Expression, upper: Expression) -> Any:
        return self.builder.and_(self._compare("<=", lower, expr), self._compare("<=", expr, upper))

    def visit_is_in(self, expr: Expression, items: list[Expression]) -> Any:
        values = [self._operand(item) for item in items]
        if not all(isinstance(v, Literal) for v in values):
            raise Unsupported(values)
        return self.builder.is_in(self._column(expr), [v.value for v in values])  # type: ignore[union-attr]

    def visit_is_null(self, expr: Expression) -> Any:
        return self.builder.is_null(self._column(expr))

    def visit_not_null(self, expr: Expression) -> Any:
        return self.builder.is_not_null(self._column(expr))


def _conjuncts(expr: Expression, schema: pa.Schema) -> list[Expression]:
    try:
        node = _ToArrow(schema, split_and=True).visit(expr)
    except (Unsupported, TypeError, ValueError):
        node = None
    if isinstance(node, _And):
        return _conjuncts(node.left, schema) + _conjuncts(node.right, schema)
    return [expr]


def to_arrow_filter(expr: Expression | None, schema: pa.Schema) -> ArrowFilter:
    """The translatable conjuncts of a Daft filter as one pyarrow expression over `schema` (the file schema)."""
    if expr is None:
        return ArrowFilter(None, (), True)
    parts, columns, exact = [], set(), True
    for conjunct in _conjuncts(expr, schema):
        visitor = _ToArrow(schema)
        try:
            parts.append(visitor.builder.checked(visitor.predicate(conjunct)))
        except (Unsupported, TypeError, ValueError, NotImplementedError):
            exact = False
            continue
        columns |= visitor.builder.columns
    return ArrowFilter(conjunction(parts), tuple(sorted(columns)), exact)
