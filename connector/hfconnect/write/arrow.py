"""Arrow data as the Hub's files hold it, whatever engine produced it.

Engines hand over large Arrow types (Daft: large_string, large_list, ...) and batches of any size; the Hub's
Parquet files, `datasets` and the Spark writer use the regular types, and an append must match the split's
existing schema. So a writer of any engine maps the schema once and slices its batches small enough that the
cast to regular types never comes near the 2 GiB offset limit of one array.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa

__all__ = ["BATCH_BYTES", "hub_schema", "hub_type", "sliced"]

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
