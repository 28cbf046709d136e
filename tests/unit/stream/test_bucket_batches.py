"""The streaming sink's bucket path against the local hub's own app in-process (real Xet uploads): a micro-batch is
one published manifest that records the query's batch id; the same batch again (a restart after publishing and
before the checkpoint) publishes nothing; an empty batch publishes nothing; a later batch appends."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from hfconnect.options import WriteOptions
from hfconnect.stream.bucket_batches import commit_bucket_batch, prepare_bucket_target, published_batch
from hfconnect.write.bucket_target import BucketTarget
from hfconnect.write.bucket_task import write_bucket_task
from hfconnect.write.task import TaskMessage
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub

QUERY = "5f0c7e1a-query"


def _batch(options: WriteOptions, rows: range, tmp: Path) -> tuple[list[TaskMessage], pa.Schema]:
    table = pa.table({"id": pa.array(rows, pa.int64())})
    return [write_bucket_task(table.to_batches(), table.schema, options, job_id=f"b{rows.start}", partition_id=0,
                              tmp_dir=str(tmp))], table.schema


def _data_files(hub: InProcessHub, bucket_id: str) -> list[str]:
    return sorted(e.path for e in hub.api().list_bucket_tree(bucket_id, recursive=True) if e.path.endswith(".parquet"))


def test_a_batch_is_published_once_and_recorded(inproc_hub: InProcessHub, tmp_path: Path) -> None:
    bucket_id = inproc_hub.api().create_bucket("me/stream").bucket_id
    target = BucketTarget(bucket_id, "events")
    options = WriteOptions.build(repo=bucket_id, endpoint=inproc_hub.endpoint, token=WRITE_TOKEN, mode="append")
    messages, schema = _batch(options, range(0, 10), tmp_path)
    prepare_bucket_target(options, target, schema)
    assert published_batch(options, target, QUERY) is None
    first = commit_bucket_batch(options, target, QUERY, 0, messages, schema)
    assert first is not None and first.rows == 10 and len(first.files) == 1
    assert published_batch(options, target, QUERY) == 0
    published = _data_files(inproc_hub, bucket_id)
    again = commit_bucket_batch(options, target, QUERY, 0, messages, schema)  # replayed after a crash
    assert again is not None and again.files == () and again.rows == 0
    assert _data_files(inproc_hub, bucket_id) == published
    empty = [TaskMessage("e", 0, 0, messages[0].schema_fingerprint, ())]
    assert commit_bucket_batch(options, target, QUERY, 1, empty, schema) is None
    assert published_batch(options, target, QUERY) == 0
    more, _ = _batch(options, range(10, 15), tmp_path)
    later = commit_bucket_batch(options, target, QUERY, 2, more, schema)
    assert later is not None and later.rows == 5 and published_batch(options, target, QUERY) == 2
    assert len(_data_files(inproc_hub, bucket_id)) == 2  # appended: both batches' files
