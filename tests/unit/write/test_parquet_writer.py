"""RollingParquetWriter: content-defined row groups that re-synchronise after an insertion, dictionaries only
where they pay, files rolled at max_file_size, sha256 and sizes of what is on disk."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hfconnect.write.parquet_writer import (
    CDC_DEFAULTS,
    METADATA_KEY,
    RollingParquetWriter,
    WriterSettings,
    row_hashes,
    write_batches,
)


def _table(ids: np.ndarray, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = len(ids)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon"])
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "text": [" ".join(w) for w in words[rng.integers(0, 5, (n, 6))]],
        "label": pa.array(rng.integers(0, 10, n), pa.int32()),
        "score": rng.random(n),
    })


def _write(table: pa.Table, tmp_path, **settings) -> list:
    files = write_batches(iter(table.to_batches(max_chunksize=2_000)), table.schema,
                          WriterSettings(**settings), tmp_dir=str(tmp_path))
    assert sum(f.rows for f in files) == table.num_rows
    return files


def _boundaries(files) -> list[int]:
    """The first id of every row group, over all files in order."""
    out = []
    for f in files:
        pf = pq.ParquetFile(f.local_path)
        for i in range(pf.metadata.num_row_groups):
            out.append(pf.read_row_group(i, columns=["id"])["id"][0].as_py())
    return out


def test_content_defined_row_groups_resynchronise_after_an_insertion(tmp_path) -> None:
    old = _table(np.arange(0, 120_000) * 10)
    inserted = _table(np.arange(36_000 * 10 - 700, 36_000 * 10 - 100), seed=1)  # 600 new rows at 30%
    new = pa.concat_tables([old.slice(0, 36_000), inserted, old.slice(36_000)])
    a = _boundaries(_write(old, tmp_path, row_group_bytes=256 * 1024))
    b = _boundaries(_write(new, tmp_path, row_group_bytes=256 * 1024))
    assert len(a) >= 10
    after = [x for x in a if x > 36_000 * 10]
    # An insertion moves at most the boundary next to it: every later one is found again from the same rows.
    assert len(set(after) - set(b)) <= 1, (a, b)
    # Size-based cuts (CDC off) shift every later boundary: the test above could fail.
    c = _boundaries(_write(old, tmp_path, row_group_bytes=256 * 1024, cdc=False))
    d = _boundaries(_write(new, tmp_path, row_group_bytes=256 * 1024, cdc=False))
    assert len({x for x in c if x > 36_000 * 10} - set(d)) > len(after) // 2


def test_row_groups_are_at_least_row_group_size_and_at_most_a_quarter_more(tmp_path) -> None:
    table = _table(np.arange(100_000))
    files = _write(table, tmp_path, row_group_bytes=512 * 1024)
    meta = pq.ParquetFile(files[0].local_path).metadata
    rows = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    per_row = table.nbytes / table.num_rows
    for n in rows[:-1]:
        assert n * per_row * 1.07 >= 512 * 1024 and n * per_row <= 1.3 * 512 * 1024 * 1.07, rows


def test_dictionary_only_for_low_cardinality_columns_with_cdc(tmp_path) -> None:
    table = _table(np.arange(50_000))

    def dictionary_columns(files) -> set[str]:
        meta = pq.ParquetFile(files[0].local_path).metadata
        cols = meta.row_group(0)
        return {cols.column(i).path_in_schema for i in range(cols.num_columns)
                if cols.column(i).has_dictionary_page}

    assert dictionary_columns(_write(table, tmp_path, row_group_bytes=256 * 1024)) == {"label"}
    assert dictionary_columns(_write(table, tmp_path, row_group_bytes=256 * 1024, cdc=False)) >= {"text", "label"}


@pytest.mark.parametrize("cdc", [True, False])
def test_files_roll_at_max_file_size_and_hash_what_is_on_disk(tmp_path, cdc) -> None:
    table = _table(np.arange(200_000))
    files = _write(table, tmp_path, row_group_bytes=128 * 1024, max_file_size=400_000, cdc=cdc)
    assert len(files) >= 3
    got = pa.concat_tables([pq.read_table(f.local_path) for f in files])
    assert got.select(table.column_names).equals(table)
    for f in files:
        assert os.path.getsize(f.local_path) == f.size
        with open(f.local_path, "rb") as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == f.sha256
        assert f.size < 400_000 * 2


def test_an_empty_stream_writes_one_schema_only_file_when_asked(tmp_path) -> None:
    schema = pa.schema([("id", pa.int64()), ("text", pa.string())])
    writer = RollingParquetWriter(schema, WriterSettings(), tmp_dir=str(tmp_path))
    writer.write(pa.record_batch({"id": pa.array([], pa.int64()), "text": pa.array([], pa.string())}))
    assert writer.close() == []  # an empty batch is no row: nothing to write
    files = RollingParquetWriter(schema, WriterSettings(), tmp_dir=str(tmp_path)).close(at_least_one=True)
    assert [(f.rows, f.row_groups) for f in files] == [(0, 0)]
    assert pq.read_table(files[0].local_path).schema.remove_metadata() == schema


def test_abort_removes_every_temp_file(tmp_path) -> None:
    table = _table(np.arange(60_000))
    writer = RollingParquetWriter(table.schema, WriterSettings(row_group_bytes=64 * 1024, max_file_size=100_000),
                                  tmp_dir=str(tmp_path))
    for batch in table.to_batches(max_chunksize=5_000):
        writer.write(batch)
    assert len(writer.finished) >= 2
    assert set(os.listdir(tmp_path)) >= {os.path.basename(f.local_path) for f in writer.finished}
    writer.abort()
    assert os.listdir(tmp_path) == [] and writer.finished == []
    open_only = RollingParquetWriter(table.schema, WriterSettings(row_group_rows=100), tmp_dir=str(tmp_path))
    open_only.write(table.slice(0, 1_000).to_batches()[0])
    assert open_only.finished == [] and len(os.listdir(tmp_path)) == 1  # a file being written
    open_only.abort()
    assert os.listdir(tmp_path) == []


def test_a_failing_stream_leaves_no_file(tmp_path) -> None:
    table = _table(np.arange(30_000))

    def batches():
        yield from table.to_batches(max_chunksize=10_000)
        raise RuntimeError("the engine failed")

    with pytest.raises(RuntimeError, match="the engine failed"):
        write_batches(batches(), table.schema, WriterSettings(row_group_bytes=64 * 1024), tmp_dir=str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_row_group_rows_caps_rows_and_turns_content_defined_cuts_off(tmp_path) -> None:
    files = _write(_table(np.arange(10_000)), tmp_path, row_group_rows=3_000)
    meta = pq.ParquetFile(files[0].local_path).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [3_000, 3_000, 3_000, 1_000]


def test_batches_are_cast_to_the_writer_schema(tmp_path) -> None:
    schema = pa.schema([("id", pa.int64()), ("text", pa.large_string())])
    writer = RollingParquetWriter(schema, WriterSettings(), tmp_dir=str(tmp_path))
    writer.write(pa.record_batch({"id": pa.array([1, 2], pa.int32()), "text": ["a", "b"]}))
    [f] = writer.close()
    assert pq.read_table(f.local_path).to_pydict() == {"id": [1, 2], "text": ["a", "b"]}
    assert f.schema.field("id").type == pa.int64()


@pytest.mark.parametrize(("cdc", "page_index", "compression"), [(True, True, "zstd"), (False, False, "snappy")])
def test_file_metadata_says_how_it_was_written(tmp_path, cdc: bool, page_index: bool, compression: str) -> None:
    files = _write(_table(np.arange(5_000)), tmp_path, cdc=cdc, page_index=page_index, compression=compression)
    meta = pq.ParquetFile(files[0].local_path).metadata
    described = json.loads(meta.metadata[METADATA_KEY])
    assert described == {"cdc": CDC_DEFAULTS if cdc else None, "page_index": page_index, "compression": compression,
                         "row_group_bytes": 128 * 1024 * 1024, "row_group_rows": None}
    column = meta.row_group(0).column(0)
    assert column.compression == compression.upper()
    assert (column.has_offset_index, column.has_column_index) == (page_index, page_index)


def test_row_hashes_need_a_hashable_column() -> None:
    """Content-defined cuts hash fixed-width values and string lengths; nested columns alone give no hash
    (the writer then cuts by size)."""
    assert row_hashes(pa.table({"l": pa.array([[1], [2]])})) is None
    one = row_hashes(pa.table({"id": pa.array([1, 2, 1], pa.int64()), "s": ["a", "bb", "a"]}))
    assert one[0] == one[2] != one[1]
