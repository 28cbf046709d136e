"""The task side of a write against the local hub's app run in-process: Arrow batches become Parquet files that
are uploaded (never committed) as they close, with the sha256 computed while writing; the task's message is
small and picklable; local files are gone afterwards, and a failure leaves none behind."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hfconnect.errors import AuthenticationError, HubRequestError
from hfconnect.options import WriteOptions
from hfconnect.write import task
from hfconnect.write.parquet_writer import FinishedFile
from hfconnect.write.task import TaskMessage, prehashed_add, schema_fingerprint, write_task
from tests.data import make_table
from tests.unit.inprocess_hub import READ_TOKEN, WRITE_TOKEN, InProcessHub

TABLE = make_table(2000, columns=("id", "hex"))


@pytest.fixture
def hub(inproc_hub: InProcessHub) -> Iterator[InProcessHub]:
    inproc_hub.dataset("o/t", {})
    yield inproc_hub


def _options(hub: InProcessHub, **kw: object) -> WriteOptions:
    return WriteOptions.build(**{"repo": "o/t", "endpoint": hub.endpoint, "token": WRITE_TOKEN, "retry_budget": 0.3,
                                 **kw})


def _object(hub: InProcessHub, sha256: str) -> bytes:
    """The stored bytes of an uploaded file. A Xet upload's file is recorded once the hub's background check of
    its sha256 holds (a commit waits for it; this read must too)."""
    check = hub.state.xet_store.check_of(sha256)
    if check is not None:
        check.result(timeout=60)
    body = hub.state.storage.open_object(sha256)
    assert body is not None
    return b"".join(body.iter_range(0, body.size))


def test_files_are_uploaded_not_committed_and_local_copies_removed(hub: InProcessHub, tmp_path: Path) -> None:
    options = _options(hub, max_file_size="3KB", row_group_size=250)
    msg = write_task(TABLE.to_batches(max_chunksize=300), TABLE.schema, options, job_id="j1", partition_id=3,
                     attempt_id=2, tmp_dir=str(tmp_path))
    assert (msg.job_id, msg.partition_id, msg.attempt_id) == ("j1", 3, 2)
    assert msg.schema_fingerprint == "id:int64,hex:string" == schema_fingerprint(TABLE.schema)
    assert len(msg.files) > 1 and [f.index for f in msg.files] == list(range(len(msg.files)))
    assert msg.rows == 2000 == sum(f.rows for f in msg.files)
    tables = []
    for f in msg.files:
        data = _object(hub, f.sha256)  # on the hub, under the sha256 computed while writing
        assert hashlib.sha256(data).hexdigest() == f.sha256 and len(data) == f.size
        assert pq.ParquetFile(io.BytesIO(data)).metadata.num_row_groups == f.row_groups
        tables.append(pq.read_table(io.BytesIO(data)))
        assert f.operation.path_in_repo == f"data/train-j1-00003-2-{f.index:04d}.parquet"  # staging name
    assert pa.concat_tables(tables).equals(TABLE)
    assert hub.counters()["commits"] == 0
    assert os.listdir(tmp_path) == []


def test_the_message_pickles_small_enough_to_travel(hub: InProcessHub, tmp_path: Path) -> None:
    msg = write_task(TABLE.to_batches(), TABLE.schema, _options(hub), job_id="j", partition_id=0,
                     tmp_dir=str(tmp_path))
    back = pickle.loads(pickle.dumps(msg))
    assert isinstance(back, TaskMessage) and back.rows == msg.rows and back.files[0].sha256 == msg.files[0].sha256
    assert "operation" not in repr(msg.files[0])  # the bytes it may carry never reach a log
    assert msg.files[0].operation.path_or_fileobj == b""  # uploaded: huggingface_hub dropped the bytes
    assert len(pickle.dumps(msg)) < 2048


def test_no_rows_no_file_unless_asked(hub: InProcessHub, tmp_path: Path) -> None:
    empty = write_task([], TABLE.schema, _options(hub), job_id="j", partition_id=0, tmp_dir=str(tmp_path))
    assert empty.files == () and empty.rows == 0
    one = write_task([], TABLE.schema, _options(hub), job_id="j", partition_id=0, tmp_dir=str(tmp_path),
                     at_least_one_file=True)
    assert len(one.files) == 1 and one.files[0].rows == 0
    assert pq.read_schema(io.BytesIO(_object(hub, one.files[0].sha256))).names == ["id", "hex"]


def test_large_files_upload_from_disk_with_the_hash_taken_while_writing(hub: InProcessHub, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """huggingface_hub would read a file whole once more just to hash it; the writer already did."""
    monkeypatch.setattr(task, "REGULAR_FILE_LIMIT", 0)
    msg = write_task(TABLE.to_batches(), TABLE.schema, _options(hub), job_id="j", partition_id=0,
                     tmp_dir=str(tmp_path))
    f = msg.files[0]
    assert f.operation.upload_info.sha256.hex() == f.sha256
    assert hashlib.sha256(_object(hub, f.sha256)).hexdigest() == f.sha256  # the hub verified it on upload
    assert os.listdir(tmp_path) == []


def test_prehashed_add_small_files_carry_their_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    path.write_bytes(b"PAR1 bytes PAR1")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    op = prehashed_add("data/x.parquet", FinishedFile(str(path), 15, digest, 1, 1, TABLE.schema))
    assert op.path_or_fileobj == b"PAR1 bytes PAR1" and op.upload_info.sha256.hex() == digest


@pytest.mark.parametrize(("fault", "error"), [
    ({"route": "upload", "action": "status", "status": 503}, HubRequestError),
    ({"route": "upload", "action": "status", "status": 403}, AuthenticationError),
])
def test_a_failed_upload_fails_the_task_and_leaves_no_local_file(hub: InProcessHub, tmp_path: Path, fault: dict,
                                                                 error: type[Exception]) -> None:
    hub.set_faults([fault])
    with pytest.raises(error, match="o/t"):
        write_task(TABLE.to_batches(max_chunksize=300), TABLE.schema, _options(hub, max_file_size="20KB",
                                                                                 row_group_size=250),
                   job_id="j", partition_id=0, tmp_dir=str(tmp_path))
    assert os.listdir(tmp_path) == []
    assert hub.counters()["commits"] == 0


def test_a_failing_input_leaves_no_local_file(hub: InProcessHub, tmp_path: Path) -> None:
    def batches() -> Iterator[pa.RecordBatch]:
        yield from TABLE[:1000].to_batches(max_chunksize=250)
        raise RuntimeError("the engine's upstream stage failed")

    with pytest.raises(RuntimeError, match="upstream stage failed"):
        write_task(batches(), TABLE.schema, _options(hub, max_file_size="10KB", row_group_size=250), job_id="j",
                   partition_id=0, tmp_dir=str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_a_read_token_cannot_upload(hub: InProcessHub, tmp_path: Path) -> None:
    with pytest.raises(AuthenticationError) as exc:
        write_task(TABLE.to_batches(), TABLE.schema, _options(hub, token=READ_TOKEN), job_id="j", partition_id=0,
                   tmp_dir=str(tmp_path))
    assert READ_TOKEN not in str(exc.value)
    assert os.listdir(tmp_path) == []
