"""hfconnect.spark.types, row by row of its table: Arrow types Spark cannot hold -> the types Spark reads.

Pure pyarrow: importing hfconnect.spark.types must not import pyspark (checked in tests/unit/test_isolation.py).
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from hfconnect.spark.types import conform_batch, spark_compatible_schema, spark_compatible_type

TABLE = {
    "dictionary<T> -> T": (pa.dictionary(pa.int32(), pa.string()), pa.string()),
    "dictionary of a widened type": (pa.dictionary(pa.int8(), pa.uint32()), pa.int64()),
    "large_string -> string": (pa.large_string(), pa.string()),
    "string_view -> string": (pa.string_view(), pa.string()),
    "large_binary -> binary": (pa.large_binary(), pa.binary()),
    "fixed_size_binary -> binary": (pa.binary(16), pa.binary()),
    "binary_view -> binary": (pa.binary_view(), pa.binary()),
    "large_list -> array": (pa.large_list(pa.int64()), pa.list_(pa.int64())),
    "fixed_size_list -> array": (pa.list_(pa.float32(), 4), pa.list_(pa.float32())),
    "list_view -> array": (pa.list_view(pa.int8()), pa.list_(pa.int8())),
    "large_list_view -> array": (pa.large_list_view(pa.string()), pa.list_(pa.string())),
    "uint8 -> smallint": (pa.uint8(), pa.int16()),
    "uint16 -> int": (pa.uint16(), pa.int32()),
    "uint32 -> bigint": (pa.uint32(), pa.int64()),
    "uint64 -> decimal(20, 0)": (pa.uint64(), pa.decimal128(20, 0)),
    "float16 -> float": (pa.float16(), pa.float32()),
    "timestamp(s) -> timestamp(us)": (pa.timestamp("s"), pa.timestamp("us")),
    "timestamp(ms) -> timestamp(us)": (pa.timestamp("ms"), pa.timestamp("us")),
    "timestamp(ns, tz) -> timestamp(us, tz)": (pa.timestamp("ns", tz="Asia/Tokyo"),
                                               pa.timestamp("us", tz="Asia/Tokyo")),
    "date64 -> date": (pa.date64(), pa.date32()),
    "time32 -> string": (pa.time32("ms"), pa.string()),
    "time64 -> string": (pa.time64("ns"), pa.string()),
    "decimal256(p <= 38) -> decimal(p, s)": (pa.decimal256(38, 4), pa.decimal128(38, 4)),
    "decimal256(p > 38) -> string": (pa.decimal256(39, 4), pa.string()),
    "extension -> its storage": (pa.uuid(), pa.binary()),
    "extension over a widened storage": (pa.bool8(), pa.int8()),
    "json extension -> string": (pa.json_(), pa.string()),
    "python-defined extension -> its storage": (None, pa.int32()),  # filled in below: needs a class
}


class _Money(pa.ExtensionType):
    """An extension type defined in Python (pa.ExtensionType), over uint16 storage."""

    def __init__(self) -> None:
        super().__init__(pa.uint16(), "tests.money")

    def __arrow_ext_serialize__(self) -> bytes:
        return b""

    @classmethod
    def __arrow_ext_deserialize__(cls, storage_type: pa.DataType, serialized: bytes) -> _Money:
        return cls()


TABLE["python-defined extension -> its storage"] = (_Money(), pa.int32())
UNCHANGED = [pa.null(), pa.bool_(), pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.float32(), pa.float64(),
             pa.string(), pa.binary(), pa.date32(), pa.timestamp("us"), pa.timestamp("us", tz="UTC"),
             pa.decimal128(10, 2), pa.decimal128(38, 0), pa.list_(pa.int64()), pa.duration("us"),
             pa.month_day_nano_interval()]


@pytest.mark.parametrize(("arrow", "spark"), TABLE.values(), ids=TABLE.keys())
def test_each_row_of_the_table(arrow: pa.DataType, spark: pa.DataType) -> None:
    assert spark_compatible_type(arrow) == spark


@pytest.mark.parametrize("arrow", UNCHANGED, ids=str)
def test_types_spark_holds_are_unchanged(arrow: pa.DataType) -> None:
    assert spark_compatible_type(arrow) == arrow


def test_nested_types_convert_all_the_way_down() -> None:
    nested = pa.struct([
        pa.field("u", pa.uint32(), nullable=False),
        pa.field("tags", pa.large_list(pa.dictionary(pa.int16(), pa.large_string()))),
        pa.field("m", pa.map_(pa.large_string(), pa.list_(pa.float16(), 2))),
        pa.field("inner", pa.struct([pa.field("t", pa.time32("s"), nullable=False)]), nullable=False),
    ])
    got = spark_compatible_type(pa.list_(nested))
    want = pa.list_(pa.struct([
        pa.field("u", pa.int64()),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("m", pa.map_(pa.string(), pa.list_(pa.float32()))),
        pa.field("inner", pa.struct([pa.field("t", pa.string())])),
    ]))
    assert got == want
    # Spark's own files declare nested fields nullable: so do the converted structs, all the way down.
    assert all(f.nullable for f in got.value_type) and got.value_type.field("inner").type.field("t").nullable


def test_schema_fields_are_nullable_and_keep_names_and_order() -> None:
    schema = pa.schema([pa.field("b", pa.uint8(), nullable=False), pa.field("a", pa.large_string()),
                        pa.field("c", pa.int64(), nullable=False)], metadata={b"k": b"v"})
    got = spark_compatible_schema(schema)
    assert got == pa.schema([pa.field("b", pa.int16()), pa.field("a", pa.string()), pa.field("c", pa.int64())])
    assert all(f.nullable for f in got)


@pytest.mark.parametrize(("arrow", "spark"), [v for k, v in TABLE.items() if "time" not in k and "decimal256(p >"
                                              not in k and "extension" not in k], ids=str)
def test_arrow_casts_values_to_the_converted_type(arrow: pa.DataType, spark: pa.DataType) -> None:
    """The conversions are lossless value casts in Arrow itself (times and decimals beyond 38 digits become
    text, extensions their storage: those are formatted by the reader, not cast)."""
    values = {pa.types.is_dictionary: pa.array(["a", None, "a"]).dictionary_encode()}
    storage = next((v for check, v in values.items() if check(arrow) and arrow.value_type == pa.string()), None)
    sample = storage if storage is not None else pa.array([None], arrow)
    assert sample.cast(spark).type == spark


def test_conform_batch_converts_each_column_to_the_compatible_type_and_keeps_matching_batches() -> None:
    import datetime

    batch = pa.record_batch({
        "t": pa.array([datetime.time(1, 2, 3, 456789), None], pa.time64("us")),
        "ns": pa.array([1_000_000_001_999, None], pa.timestamp("ns", tz="UTC")),
        "u": pa.array([2**64 - 1, 0], pa.uint64()),
        "d": pa.array(["a", "b"]).dictionary_encode(),
        "same": pa.array([1, 2], pa.int64()),
    })
    target = spark_compatible_schema(batch.schema)
    out = conform_batch(batch, target)
    assert out.schema.equals(target)
    assert out.column("t").to_pylist() == ["01:02:03.456789", None]
    assert out.column("ns").cast(pa.int64()).to_pylist() == [1_000_000_001, None]  # nanoseconds truncated
    assert out.column("u").to_pylist()[0] == 2**64 - 1 and out.column("d").to_pylist() == ["a", "b"]
    assert out.column("same") is not None and out.column("same").equals(batch.column("same"))
    assert conform_batch(out, target) is out  # already Spark's schema: no copy
