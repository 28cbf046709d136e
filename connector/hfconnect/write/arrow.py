"""Arrow data as the Hub's files hold it, whatever engine produced it.

Engines hand over large Arrow types (Daft: large_string, large_list, ...) and batches of any size; the Hub's
Parquet files, `datasets` and the Spark writer use the regular types, and an append must match the split's
existing schema. So a writer of any engine maps the schema once and slices its batches small enough that the
cast to regular types never comes near the 2 GiB offset limit of one array.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa

__all__ = ["BATCH_BYTES", "hub_schema", "hub_type", "sliced", "widened_to"]

BATCH_BYTES = 64 * 1024 * 1024  # slices handed to the writer: far below 2 GiB per array after the cast


def hub_type(t: pa.DataType) -> pa.DataType:
    """A type as the Hub's files hold it: large strings/binaries/lists as their regular counterparts."""
    if pa.types.is_large_string(t):
        return pa.string()
    if pa.types.is_large_binary(t):
        return pa.binary()
    if pa.types.is_large_list(t) or pa.types.is_list(t):
        return pa.list_(_hub_field(t.value_field))
    if pa.types.is_fixed_size_list(t):
        return pa.list_(_hub_field(t.value_field), t.list_size)
    if pa.types.is_struct(t):
        return pa.struct([_hub_field(f) for f in t])
    if pa.types.is_map(t):
        return pa.map_(_hub_field(t.key_field), _hub_field(t.item_field), t.keys_sorted)
    return t


def _hub_field(f: pa.Field) -> pa.Field:
    return f.with_type(hub_type(f.type))


def hub_schema(schema: pa.Schema) -> pa.Schema:
    """The schema the files get (metadata kept)."""
    return pa.schema([_hub_field(f) for f in schema], metadata=schema.metadata)


def sliced(batches: Iterable[pa.RecordBatch], max_bytes: int = BATCH_BYTES) -> Iterator[pa.RecordBatch]:
    """The batches, each cut into slices of at most ~`max_bytes` (zero-copy slices; a one-row batch as is)."""
    for batch in batches:
        if batch.nbytes <= max_bytes or batch.num_rows <= 1:
            yield batch
            continue
        step = max(1, batch.num_rows * max_bytes // batch.nbytes)
        for start in range(0, batch.num_rows, step):
            yield batch.slice(start, step)


def widened_to(ours: pa.Schema, theirs: pa.Schema) -> pa.Schema | None:
    """`ours` with each column's type replaced by `theirs` where our values convert to it without loss (int32 ->
    int64, float -> double, null -> anything, and so inside lists and structs); None when the columns differ or
    a type would narrow or change kind. Field nullability and our metadata are kept."""
    if ours.names != theirs.names:
        return None
    fields = []
    for mine, other in zip(ours, theirs, strict=True):
        if not _lossless(mine.type, other.type):
            return None
        fields.append(mine.with_type(other.type))
    return pa.schema(fields, metadata=ours.metadata)


def _lossless(a: pa.DataType, b: pa.DataType) -> bool:
    """Does every value of type `a` convert to type `b` exactly?"""
    t = pa.types
    if a.equals(b) or t.is_null(a):
        return True
    if t.is_integer(a) and t.is_integer(b):
        if t.is_signed_integer(a) and not t.is_signed_integer(b):
            return False
        same_sign = t.is_signed_integer(a) == t.is_signed_integer(b)
        return b.bit_width >= a.bit_width if same_sign else b.bit_width > a.bit_width
    if t.is_floating(a) and t.is_floating(b):
        return b.bit_width >= a.bit_width
    if t.is_integer(a) and t.is_floating(b):  # within the float's mantissa: 16-bit ints in float32, 32 in float64
        return a.bit_width <= {16: 8, 32: 16, 64: 32}[b.bit_width]
    if (t.is_list(a) or t.is_large_list(a)) and type(a) is type(b):
        return _field_fits(a.value_field, b.value_field)
    if t.is_struct(a) and t.is_struct(b):
        return [f.name for f in a] == [f.name for f in b] and all(
            _field_fits(x, y) for x, y in zip(a, b, strict=True))
    return False


def _field_fits(ours: pa.Field, theirs: pa.Field) -> bool:
    """A nested field: its type converts, and their field takes nulls wherever ours may hold them."""
    return (theirs.nullable or not ours.nullable) and _lossless(ours.type, theirs.type)
