"""The driver side of the exactly-once streaming sink: one job id per (query, batch), the marker its commit
carries and how the history walk recognises it, the warning for a query that commits too often, and (against
the in-process hub) the schema a stream's tasks write and its one commit per batch."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hfconnect.options import WriteOptions
from hfconnect.stream import batch_commits as sink
from hfconnect.stream.batch_commits import batch_job_id
from hfconnect.stream.history import _MARKER, QueryCommit, batch_marker
from hfconnect.write.task import write_task
from tests.data import make_table, parquet_bytes
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub

QUERY = "5f0c7a8e-3b1d-4c2a-9e4f-0a1b2c3d4e5f"


def test_a_batch_has_one_job_id_on_every_attempt_and_none_other_shares_it() -> None:
    assert batch_job_id(QUERY, 7) == batch_job_id(QUERY, 7)
    ids = {batch_job_id(q, b) for q in (QUERY, QUERY.replace("5", "6")) for b in range(2000)}
    assert len(ids) == 4000
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)


def test_the_marker_names_query_and_batch_and_is_found_in_a_commit_message() -> None:
    text = f"hfconnect-job-id: {batch_job_id(QUERY, 12)}\n{batch_marker(QUERY, 12)}"
    found = [(m["query"], int(m["batch"])) for m in _MARKER.finditer(text)]
    assert found == [(QUERY, 12)]
    # Batch 1 is not batch 12, and another query's marker is not this query's.
    assert [int(m["batch"]) for m in _MARKER.finditer(batch_marker(QUERY, 1))] == [1]
    assert all(m["query"] != QUERY for m in _MARKER.finditer(batch_marker("other-query", 12)))


def _commit(seconds_ago: float) -> QueryCommit:
    return QueryCommit("f" * 40, 3, datetime.now(UTC) - timedelta(seconds=seconds_ago))


@pytest.fixture(autouse=True)
def _forget_warnings():
    sink._warned.clear()
    yield
    sink._warned.clear()


def test_a_query_committing_faster_than_the_hub_allows_is_warned_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="hfconnect.stream")
    sink._warn_if_too_frequent(_commit(10), QUERY, 4, "dataset o/n@main")
    sink._warn_if_too_frequent(_commit(10), QUERY, 5, "dataset o/n@main")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "about 100 commits per hour per repo" in warnings[0] and "processingTime='36 seconds'" in warnings[0]


@pytest.mark.parametrize("previous", [None, _commit(40), QueryCommit("f" * 40, 3, None)])
def test_no_warning_for_a_first_batch_or_a_slow_enough_query(previous, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="hfconnect.stream")
    sink._warn_if_too_frequent(previous, QUERY, 4, "dataset o/n@main")
    assert not caplog.records


def test_a_stream_of_narrower_types_is_written_and_committed_in_the_split_s_types(inproc_hub: InProcessHub) -> None:
    """prepare_target says which schema the stream's tasks write (the split's int64, not the stream's int32),
    commit_batch commits it once: the split keeps one schema."""
    api = inproc_hub.api()
    api.create_repo("o/s", repo_type="dataset")
    wide = make_table(10, columns=("id", "text"))
    api.upload_file(path_or_fileobj=parquet_bytes(wide), path_in_repo="data/train-00000-of-00001.parquet",
                    repo_id="o/s", repo_type="dataset")
    options = WriteOptions.build(repo="o/s", endpoint=inproc_hub.endpoint, token=WRITE_TOKEN, mode="append")
    narrow = pa.table({"id": pa.array(range(10, 15), pa.int32()), "text": list("abcde")})
    written = sink.prepare_target(options, narrow.schema)
    assert written.types == wide.schema.types
    message = write_task(narrow.to_batches(), written, options, job_id=batch_job_id(QUERY, 0), partition_id=0)
    result = sink.commit_batch(options, QUERY, 0, [message], written)
    assert result is not None and result.rows == 5
    new = [f for f in api.list_repo_files("o/s", repo_type="dataset") if f.startswith("data/") and "-of-" in f]
    for path in new:
        with open(api.hf_hub_download("o/s", path, repo_type="dataset"), "rb") as f:
            assert pq.read_schema(io.BytesIO(f.read())).types == wide.schema.types, path
    assert sink.commit_batch(options, QUERY, 0, [message], written).files == ()  # the same batch: not again


def test_the_prepared_schema_is_per_target_split(inproc_hub: InProcessHub) -> None:
    """Two queries of one driver, same input types, splits of different file types: each writes its split's."""
    api = inproc_hub.api()
    api.create_repo("o/t", repo_type="dataset")
    for split, id_type in (("train", pa.int64()), ("test", pa.int32())):
        table = pa.table({"id": pa.array([1], id_type)})
        api.upload_file(path_or_fileobj=parquet_bytes(table), path_in_repo=f"data/{split}-00000-of-00001.parquet",
                        repo_id="o/t", repo_type="dataset")
    stream = pa.schema([("id", pa.int16())])
    for split, id_type in (("train", pa.int64()), ("test", pa.int32())):
        options = WriteOptions.build(repo="o/t", endpoint=inproc_hub.endpoint, token=WRITE_TOKEN, split=split)
        assert sink.prepare_target(options, stream).field("id").type == id_type, split
