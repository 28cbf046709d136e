"""ParallelFileWriter: one ordered stream -> files of contiguous rows, encoded and uploaded on worker threads,
committed by the driver; a failure leaves nothing behind. Real local hub, real uploads."""

from __future__ import annotations

import glob
import os
import tempfile
import threading
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub import hf_hub_download

from hfconnect.errors import AuthenticationError
from hfconnect.options import WriteOptions
from hfconnect.write import WriteJob
from hfconnect.write.parallel import ParallelFileWriter
from tests.conftest import WRITE_TOKEN
from tests.data import commits

pytestmark = pytest.mark.integration


def _batches(n: int, size: int):
    for start in range(0, n, size):
        ids = pa.array(range(start, min(n, start + size)), pa.int64())
        yield pa.record_batch({"id": ids, "text": pa.array([f"row {i}" for i in ids.to_pylist()])})


SCHEMA = pa.schema([("id", pa.int64()), ("text", pa.string())])


def test_files_hold_contiguous_rows_and_commit_once(hub, api, tmp_path) -> None:
    repo = f"tests/par-{uuid.uuid4().hex[:8]}"
    options = WriteOptions.build(repo=repo, endpoint=hub.endpoint, token=WRITE_TOKEN, row_group_bytes="64KiB")
    job = WriteJob(options)
    job.begin(SCHEMA)
    before = commits(api, repo)
    writer = ParallelFileWriter(SCHEMA, options, job_id=job.job_id, workers=2, file_bytes=200_000)
    threads_seen = set()
    for batch in _batches(60_000, 5_000):
        writer.write(batch)
        threads_seen |= {t.name for t in threading.enumerate() if t.name.startswith("hfconnect-encode")}
    messages = writer.finish()
    assert len(messages) >= 3 and len(threads_seen) >= 2 and writer.rows == 60_000
    assert commits(api, repo) == before  # uploads only
    result = job.commit(messages, SCHEMA)
    assert commits(api, repo) == before + 1 and result.rows == 60_000
    ranges = []
    for name in result.files:
        table = pq.read_table(hf_hub_download(repo, name, repo_type="dataset", endpoint=hub.endpoint,
                                              token=WRITE_TOKEN, cache_dir=tmp_path))
        ids = table["id"].to_pylist()
        assert ids == list(range(ids[0], ids[0] + len(ids)))  # contiguous, in order, inside each file
        ranges.append((ids[0], ids[-1]))
    ranges.sort()
    assert ranges[0][0] == 0 and ranges[-1][1] == 59_999  # together: every row once, no gap, no overlap
    assert all(nxt[0] == prev[1] + 1 for prev, nxt in zip(ranges, ranges[1:], strict=False))


def test_a_failed_upload_fails_finish_and_leaves_no_temp_files(own_hub, own_api) -> None:
    """Every upload refused (a fault rule on a hub of its own): finish fails, nothing is committed."""
    repo = "tests/par-refused"
    options = WriteOptions.build(repo=repo, endpoint=own_hub.endpoint, token=WRITE_TOKEN, row_group_bytes="64KiB")
    job = WriteJob(options)
    job.begin(SCHEMA)
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "hfconnect-*.parquet")))
    own_hub.set_faults([{"route": "upload", "action": "status", "status": 403}])
    writer = ParallelFileWriter(SCHEMA, options, job_id=job.job_id, workers=2, file_bytes=200_000)
    with pytest.raises(AuthenticationError, match=rf"^dataset {repo}@main: HTTP 403: the token lacks the rights "
                                                  r"needed \(a read token cannot write"):
        for batch in _batches(60_000, 5_000):
            writer.write(batch)
        writer.finish()
    writer.abort()
    after = set(glob.glob(os.path.join(tempfile.gettempdir(), "hfconnect-*.parquet")))
    assert after <= before
    assert own_hub.counters()["upload"]["faults"] > 0 and commits(own_api, repo) == 0
