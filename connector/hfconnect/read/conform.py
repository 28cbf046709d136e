"""Arrow batches cast to the types an engine holds: the one cast both adapters apply to what the reader yields.

Each engine's table of conversions (`hfconnect.spark.types`, `hfconnect.daft.types`) decides the target schema;
this applies it column by column, with the two casts pyarrow refuses by default spelled out.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["conform_array", "conform_batch"]


def conform_batch(batch: pa.RecordBatch, target: pa.Schema) -> pa.RecordBatch:
    """`batch` as `target` says, column by column (matched by name); the batch itself when it already is."""
    if batch.schema.equals(target):
        return batch
    arrays = []
    for field in target:
        column = batch.column(batch.schema.get_field_index(field.name))
        arrays.append(column if column.type.equals(field.type) else conform_array(column, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=target)


def conform_array(column: pa.Array, target: pa.DataType) -> pa.Array:
    import pyarrow.compute as pc

    if pa.types.is_time(column.type) and pa.types.is_string(target):
        return pc.cast(pc.cast(column, pa.time64("us"), safe=False), pa.string())
    if pa.types.is_timestamp(column.type) and pa.types.is_timestamp(target):
        return pc.cast(column, target, safe=False)  # documented: nanoseconds truncate to microseconds
    if pa.types.is_list_view(column.type) or pa.types.is_large_list_view(column.type):
        # pyarrow 25's cast of a list_view holding nulls gives a list array with one offset too few
        return pa.array(column.to_pylist(), target)
    return pc.cast(column, target)
