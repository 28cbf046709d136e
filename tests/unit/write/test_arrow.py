"""Arrow data as the Hub's files hold it: regular types for large ones, batches sliced below the cast limit."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hfconnect.write.arrow import hub_schema, hub_type, sliced, widened_to


def test_large_types_become_regular_ones_at_every_depth() -> None:
    nested = pa.struct([("s", pa.large_string()), ("l", pa.large_list(pa.large_binary()))])
    schema = pa.schema([pa.field("a", pa.large_string(), nullable=False), ("b", pa.large_list(nested)),
                        ("c", pa.list_(pa.int32(), 3)), ("d", pa.map_(pa.large_string(), pa.large_binary())),
                        ("e", pa.int64())], metadata={b"k": b"v"})
    out = hub_schema(schema)
    assert out.field("a") == pa.field("a", pa.string(), nullable=False)
    assert out.field("b").type == pa.list_(pa.struct([("s", pa.string()), ("l", pa.list_(pa.binary()))]))
    assert out.field("c").type == pa.list_(pa.int32(), 3)
    assert out.field("d").type == pa.map_(pa.string(), pa.binary())
    assert out.field("e").type == pa.int64() and out.metadata == {b"k": b"v"}
    assert hub_type(pa.timestamp("us", "UTC")) == pa.timestamp("us", "UTC")
    table = pa.table({"a": pa.array(["x"], pa.large_string())})
    assert table.cast(hub_schema(table.schema)).column("a").type == pa.string()


def test_batches_are_sliced_without_losing_or_reordering_rows() -> None:
    batch = pa.record_batch({"id": pa.array(range(10_000)), "text": ["x" * 100] * 10_000})
    pieces = list(sliced([batch, batch.slice(0, 10)], max_bytes=100_000))
    assert all(p.nbytes <= 130_000 for p in pieces) and len(pieces) > 10
    assert pa.Table.from_batches(pieces).column("id").to_pylist() == list(range(10_000)) + list(range(10))
    one = pa.record_batch({"text": ["y" * 1_000_000]})
    assert list(sliced([one], max_bytes=10)) == [one]  # one row cannot be cut


@pytest.mark.parametrize(("ours", "theirs", "widens"), [
    (pa.int32(), pa.int64(), True), (pa.int64(), pa.int32(), False), (pa.uint32(), pa.int64(), True),
    (pa.uint32(), pa.int32(), False), (pa.int8(), pa.uint16(), False), (pa.uint8(), pa.uint8(), True),
    (pa.float32(), pa.float64(), True), (pa.float64(), pa.float32(), False), (pa.int32(), pa.float64(), True),
    (pa.int64(), pa.float64(), False), (pa.int16(), pa.float32(), True), (pa.null(), pa.string(), True),
    (pa.string(), pa.int64(), False), (pa.int64(), pa.string(), False),
    (pa.list_(pa.int32()), pa.list_(pa.int64()), True), (pa.list_(pa.int64()), pa.list_(pa.int32()), False),
    (pa.struct([("a", pa.int8())]), pa.struct([("a", pa.int16())]), True),
    (pa.struct([("a", pa.int8())]), pa.struct([("b", pa.int16())]), False),
    # their nested field refuses nulls that ours may hold: the cast or the Parquet writer would fail in a task
    (pa.list_(pa.int32()), pa.list_(pa.field("item", pa.int64(), nullable=False)), False),
    (pa.struct([("a", pa.int8())]), pa.struct([pa.field("a", pa.int16(), nullable=False)]), False),
    (pa.list_(pa.field("item", pa.int32(), nullable=False)), pa.list_(pa.int64()), True),
])
def test_widened_to_takes_their_type_only_where_every_value_converts_exactly(ours, theirs, widens) -> None:
    nullable = pa.types.is_null(ours)  # Arrow has no non-nullable null column
    mine = pa.schema([pa.field("x", ours, nullable=nullable)], metadata={b"k": b"v"})
    out = widened_to(mine, pa.schema([("x", theirs)]))
    if not widens:
        assert out is None
        return
    assert out.field("x") == pa.field("x", theirs, nullable=nullable) and out.metadata == {b"k": b"v"}
    values = {pa.null(): [None]}.get(ours) or ([{"a": 1}] if pa.types.is_struct(ours) else
                                              [[1, 2]] if pa.types.is_list(ours) else [1])
    assert pa.array(values, ours).cast(theirs).to_pylist() == values


def test_widened_to_needs_the_same_columns_in_the_same_order() -> None:
    ab = pa.schema([("a", pa.int32()), ("b", pa.int32())])
    assert widened_to(ab, pa.schema([("b", pa.int64()), ("a", pa.int64())])) is None
    assert widened_to(ab, pa.schema([("a", pa.int64())])) is None
    assert widened_to(ab, ab) == ab
