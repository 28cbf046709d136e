"""write_bucket_task against the local hub's own app in-process: the rows go to the bucket's Xet storage as files
whose Xet hash and size come back in the task message, no path of the bucket names them yet (the driver adds them),
and no local file is left behind; a task that cannot upload through Xet says so and leaves nothing either."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from hfconnect.errors import HfConnectError
from hfconnect.hub import xet
from hfconnect.hub.bucket_upload import BucketUpload
from hfconnect.options import WriteOptions
from hfconnect.write.bucket_task import BucketParallelWriter, write_bucket_task
from hfconnect.write.parallel import ParallelFileWriter
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub

TABLE = pa.table({"id": pa.array(range(3_000), pa.int64()), "text": [f"row {i}" for i in range(3_000)]})


def _options(hub: InProcessHub, bucket_id: str) -> WriteOptions:
    return WriteOptions.build(repo=bucket_id, endpoint=hub.endpoint, token=WRITE_TOKEN, max_file_size=1,
                              row_group_size=1_000)


def test_files_reach_the_buckets_xet_storage_named_by_no_path(inproc_hub: InProcessHub, tmp_path: Path) -> None:
    api = inproc_hub.api()
    bucket_id = api.create_bucket("me/task").bucket_id
    message = write_bucket_task(TABLE.to_batches(max_chunksize=500), TABLE.schema, _options(inproc_hub, bucket_id),
                                job_id="job1", partition_id=3, tmp_dir=str(tmp_path))
    assert (message.job_id, message.partition_id, message.rows) == ("job1", 3, TABLE.num_rows)
    assert len(message.files) == 3 and [f.index for f in message.files] == list(range(len(message.files)))
    for f in message.files:
        assert isinstance(f.operation, BucketUpload) and f.operation.size == f.size
        assert inproc_hub.state.xet_store.file(f.operation.xet_hash) is not None  # stored in the CAS
    assert list(api.list_bucket_tree(bucket_id, recursive=True)) == []  # nothing published by a task
    assert list(tmp_path.iterdir()) == []  # every local file removed


def test_without_hf_xet_a_task_fails_naming_it_and_leaves_nothing(inproc_hub: InProcessHub, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    bucket_id = inproc_hub.api().create_bucket("me/no-xet").bucket_id
    monkeypatch.setattr(xet, "in_use", lambda: False)  # as with HF_HUB_DISABLE_XET=1
    with pytest.raises(HfConnectError, match="HF_HUB_DISABLE_XET"):
        write_bucket_task(TABLE.to_batches(), TABLE.schema, _options(inproc_hub, bucket_id), job_id="job2",
                          partition_id=0, tmp_dir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_the_parallel_writer_runs_the_bucket_task() -> None:
    assert BucketParallelWriter._task is write_bucket_task
    assert ParallelFileWriter._task is not write_bucket_task
