"""hfconnect.read.conform: a batch cast to the schema an engine holds, column by column, values kept."""

from __future__ import annotations

import datetime

import pyarrow as pa

from hfconnect.read.conform import conform_array, conform_batch


def test_a_batch_already_in_the_target_schema_is_returned_as_is() -> None:
    batch = pa.record_batch({"id": pa.array([1, 2], pa.int64())})
    assert conform_batch(batch, batch.schema) is batch


def test_columns_are_taken_by_name_and_cast() -> None:
    batch = pa.record_batch({"cat": pa.array(["a", None, "a"]).dictionary_encode(), "id": pa.array([1, 2, 3])})
    target = pa.schema([("id", pa.int64()), ("cat", pa.string())])
    out = conform_batch(batch, target)
    assert out.schema == target and out.to_pydict() == {"id": [1, 2, 3], "cat": ["a", None, "a"]}


def test_times_become_strings_and_nanosecond_timestamps_truncate_to_microseconds() -> None:
    times = pa.array([1_500, None], pa.time32("ms"))
    assert conform_array(times, pa.string()).to_pylist() == ["00:00:01.500000", None]
    stamps = pa.array([1_000_001_999, None], pa.timestamp("ns"))
    got = conform_array(stamps, pa.timestamp("us")).to_pylist()
    assert got == [datetime.datetime(1970, 1, 1, 0, 0, 1, 1), None]


def test_a_list_view_with_nulls_converts_to_a_valid_list() -> None:
    views = pa.array([[1], None, [2, 3]], pa.list_view(pa.int64()))
    out = conform_array(views, pa.list_(pa.int64()))
    out.validate(full=True)  # pyarrow's own cast of this array gives one offset too few
    assert out.type == pa.list_(pa.int64()) and out.to_pylist() == [[1], None, [2, 3]]


def test_nested_dictionaries_decode() -> None:
    nested = pa.ListArray.from_arrays(pa.array([0, 1, 3], pa.int32()), pa.array(["x", "y", "x"]).dictionary_encode())
    assert conform_array(nested, pa.list_(pa.string())).to_pylist() == [["x"], ["y", "x"]]
