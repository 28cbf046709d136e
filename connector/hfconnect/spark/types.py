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

A column's Hub feature (Image, Audio, ClassLabel, ...: `hfconnect.features`) travels in its StructField's metadata
under `huggingface.feature` (as JSON text), so a DataFrame written back keeps it (`spark_schema_with_features`,
`arrow_schema_with_features`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..features import FEATURE_KEY, informative, schema_features
from ..read.conform import conform_array, conform_batch

if TYPE_CHECKING:
    from pyspark.sql.types import StructType

    from ..plan import ReadPlan

__all__ = ["arrow_schema_with_features", "conform_array", "conform_batch", "plan_features",
           "spark_compatible_schema", "spark_compatible_type", "spark_schema_with_features"]


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


def plan_features(plan: ReadPlan) -> dict[str, Any]:
    """column -> Hub feature of a read: the `huggingface` metadata of the plan's schema (a WebDataset plan's), else
    of its first Parquet file's footer (one suffix-range request: the planner merges the footers' schemas without
    their metadata)."""
    features = schema_features(plan.schema) or schema_features(plan.file_schema)
    if features:
        return features
    first = next((f for f in plan.files() if f.format == "parquet"), None)
    if first is None:
        return {}
    from ..plan.footers import inspect_parquet

    return schema_features(inspect_parquet(plan.client, plan.snapshot, first.path, first.size).schema)


def spark_schema_with_features(struct: StructType, features: dict[str, Any]) -> StructType:
    """Spark's schema of a read with each column's feature (those the Arrow type does not say all of) in its
    StructField's metadata."""
    from pyspark.sql.types import StructField, StructType

    out = []
    for f in struct.fields:
        feature = features.get(f.name)
        metadata = {**(f.metadata or {}), FEATURE_KEY: json.dumps(feature)} if informative(feature) else f.metadata
        out.append(StructField(f.name, f.dataType, f.nullable, metadata))
    return StructType(out)


def arrow_schema_with_features(arrow: pa.Schema, struct: StructType) -> pa.Schema:
    """The Arrow schema of a Spark write with the features its StructFields carry (from a read) in the fields'
    metadata, where `hfconnect.features.with_features` finds them."""
    fields = []
    for f, spark_field in zip(arrow, struct.fields, strict=True):
        feature = (spark_field.metadata or {}).get(FEATURE_KEY)  # JSON text (Spark's metadata holds no nulls)
        if isinstance(feature, dict):
            feature = json.dumps(feature)
        if isinstance(feature, str):
            f = f.with_metadata({**(f.metadata or {}), FEATURE_KEY.encode(): feature.encode()})
        fields.append(f)
    return pa.schema(fields, metadata=arrow.metadata)
