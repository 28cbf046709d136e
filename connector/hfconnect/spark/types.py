"""Arrow types Spark cannot hold, and the documented conversions hfconnect applies to them.

| Arrow                         | Spark (via Arrow)            |
|-------------------------------|------------------------------|
| dictionary<T>                 | T                            |
| large_string / string_view    | string                       |
| large_binary / fixed_size_binary / binary_view | binary      |
| large_list / fixed_size_list  | array                        |
| uint8 / uint16 / uint32       | smallint / int / bigint      |
| uint64                        | decimal(20, 0)               |
| float16                       | float                        |
| timestamp(s/ms/ns)            | timestamp (microseconds)     |
| date64                        | date                         |
| time32 / time64               | string (HH:MM:SS[.ffffff])   |
| decimal256(p<=38)             | decimal(p, s); p > 38: string|
| extension types               | their storage type           |
"""

from __future__ import annotations

import pyarrow as pa

from ..read.conform import conform_array, conform_batch

__all__ = ["conform_array", "conform_batch", "spark_compatible_schema", "spark_compatible_type"]


def spark_compatible_type(t: pa.DataType) -> pa.DataType:
    if isinstance(t, pa.BaseExtensionType):  # C++ (canonical) and Python-defined extension types
        return spark_compatible_type(t.storage_type)
    if pa.types.is_dictionary(t):
        return spark_compatible_type(t.value_type)
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t) or \
            pa.types.is_list_view(t) or pa.types.is_large_list_view(t):
        return pa.list_(spark_compatible_type(t.value_type))
    if pa.types.is_struct(t):  # nested fields all nullable: Spark's own files declare them so
        return pa.struct([pa.field(f.name, spark_compatible_type(f.type), True) for f in t])
    if pa.types.is_map(t):
        return pa.map_(spark_compatible_type(t.key_type), spark_compatible_type(t.item_type))
    widen = {pa.uint8(): pa.int16(), pa.uint16(): pa.int32(), pa.uint32(): pa.int64(),
             pa.uint64(): pa.decimal128(20, 0), pa.float16(): pa.float32(), pa.date64(): pa.date32()}
    if t in widen:
        return widen[t]
    if pa.types.is_timestamp(t) and t.unit != "us":
        return pa.timestamp("us", tz=t.tz)
    if pa.types.is_time(t):
        return pa.string()
    if pa.types.is_decimal(t) and t.bit_width == 256:
        return pa.decimal128(t.precision, t.scale) if t.precision <= 38 else pa.string()
    return t


def spark_compatible_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, spark_compatible_type(f.type), True) for f in schema])
