"""Arrow types Daft cannot hold, and the types hfconnect hands Daft instead (decided here, for both Daft readers).

Daft turns an Arrow type it has no dtype for into its `Python` dtype (a column of pickled objects) at the top
level, and refuses it inside a list or struct. Such a column then fails far from its cause: `write_huggingface`
cannot write it, `groupby` cannot hash it, Ray cannot move it. pyarrow restores dictionary-encoded columns from
the Parquet files it wrote (pandas categoricals, `dictionary_encode()`), so the Hub holds many of them.

| Arrow                           | Daft gets                     |
|---------------------------------|-------------------------------|
| dictionary<T>                   | T                             |
| string_view                     | string                        |
| binary_view                     | binary                        |
| list_view / large_list_view     | list                          |
| time32(s/ms)                    | time64(us)                    |
| decimal256(p<=38)               | decimal128(p, s); p > 38: string |
| the same inside lists, structs and maps |                       |

Daft's native Parquet reader refuses time32 and decimal256 columns of a file whatever schema it is handed
(Daft 0.7: "Unsupported Arrow DataType"): files with such columns go to hfconnect's reader, which converts them.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["daft_compatible_schema", "daft_compatible_type", "native_reader_refuses"]


def daft_compatible_type(t: pa.DataType) -> pa.DataType:
    types = pa.types
    if types.is_dictionary(t):
        return daft_compatible_type(t.value_type)
    if types.is_string_view(t):
        return pa.string()
    if types.is_binary_view(t):
        return pa.binary()
    if types.is_list_view(t) or types.is_large_list_view(t) or types.is_list(t) or types.is_large_list(t):
        field = t.value_field.with_type(daft_compatible_type(t.value_type))
        return pa.large_list(field) if types.is_large_list(t) or types.is_large_list_view(t) else pa.list_(field)
    if types.is_fixed_size_list(t):
        return pa.list_(t.value_field.with_type(daft_compatible_type(t.value_type)), t.list_size)
    if types.is_struct(t):
        return pa.struct([f.with_type(daft_compatible_type(f.type)) for f in t])
    if types.is_map(t):
        return pa.map_(t.key_field.with_type(daft_compatible_type(t.key_type)),
                       t.item_field.with_type(daft_compatible_type(t.item_type)), t.keys_sorted)
    if types.is_time32(t):
        return pa.time64("us")
    if types.is_decimal(t) and t.bit_width == 256:
        return pa.decimal128(t.precision, t.scale) if t.precision <= 38 else pa.string()
    return t


def daft_compatible_schema(schema: pa.Schema) -> pa.Schema:
    """The schema Daft is told (field metadata and the schema's kept: the Hub's features travel in them)."""
    return pa.schema([f.with_type(daft_compatible_type(f.type)) for f in schema], metadata=schema.metadata)


def native_reader_refuses(schema: pa.Schema) -> list[str]:
    """The columns of a file schema Daft's native Parquet reader cannot read (time32, decimal256, nested too)."""
    def refused(t: pa.DataType) -> bool:
        if pa.types.is_time32(t) or (pa.types.is_decimal(t) and t.bit_width == 256):
            return True
        if pa.types.is_dictionary(t):
            return refused(t.value_type)
        return any(refused(t.field(i).type) for i in range(t.num_fields))

    return [f.name for f in schema if refused(f.type)]
