"""Arrow data as the Hub's files hold it: regular types for large ones, batches sliced below the cast limit."""

from __future__ import annotations

import pyarrow as pa

from hfconnect.write.arrow import hub_schema, hub_type, sliced


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
