"""RollingParquetWriter with media columns: the `huggingface` metadata in every file, binary columns written as
{bytes, path}, and row groups of 100 rows unless the caller set a row count."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

from hfconnect.features import HF_KEY, MEDIA_STORAGE, with_features
from hfconnect.write.parquet_writer import WriterSettings, write_batches


def _media(n: int) -> tuple[pa.Schema, list[pa.RecordBatch]]:
    schema = with_features(pa.schema([("id", pa.int64()), ("img", pa.binary())]), {"img": {"_type": "Image"}})
    images = pa.array([os.urandom(100) for _ in range(n)], pa.binary())
    batch = pa.record_batch({"id": pa.array(range(n), pa.int64()), "img": images})
    return schema, pa.Table.from_batches([batch]).to_batches(max_chunksize=64)


def test_media_rows_get_row_groups_of_100_and_every_file_the_features(tmp_path) -> None:
    schema, batches = _media(450)
    files = write_batches(iter(batches), schema, WriterSettings(max_file_size=20_000), tmp_dir=str(tmp_path))
    assert len(files) > 1
    for f in files:
        meta = pq.ParquetFile(f.local_path)
        assert json.loads(meta.schema_arrow.metadata[HF_KEY]) == {"info": {"features": {"img": {"_type": "Image"}}}}
        assert meta.schema_arrow.field("img").type == MEDIA_STORAGE
        sizes = [meta.metadata.row_group(i).num_rows for i in range(meta.metadata.num_row_groups)]
        assert max(sizes) == 100 or sum(sizes) < 100
    table = pa.concat_tables(pq.read_table(f.local_path) for f in files)
    assert table.column("img").to_pylist() == [{"bytes": b, "path": None} for b in pa.concat_arrays(
        [b.column("img") for b in batches]).to_pylist()]


def test_a_row_count_the_caller_set_wins(tmp_path) -> None:
    schema, batches = _media(300)
    files = write_batches(iter(batches), schema, WriterSettings(row_group_rows=250), tmp_dir=str(tmp_path))
    meta = pq.ParquetFile(files[0].local_path).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [250, 50]
