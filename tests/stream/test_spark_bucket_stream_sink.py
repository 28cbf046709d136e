"""df.writeStream.format("huggingface").start("buckets/ns/name/prefix"): one published manifest per micro-batch (its
files appended), empty batches publish nothing, the batch ids recorded in the manifest; a publish that fails stops
the query with the prefix as it was, and restarts from the checkpoint publish every batch exactly once (also a
batch replayed after it was published: Spark's checkpoint missing its commit, as after a crash right after the
publish; and a driver killed -9 there)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from pyspark.errors import StreamingQueryException

from hfconnect.hub.bucket_manifest import MANIFEST_NAME, Manifest, parse_manifest
from tests.conftest import WRITE_TOKEN
from tests.stream.common import Driver, rows_table, wait_for, write_inputs
from tests.write.test_bucket_writes import _listing, read_prefix

pytestmark = pytest.mark.integration
PREFIX = "stream/out"


def _bucket() -> str:
    return f"tests/sbk-{uuid.uuid4().hex[:10]}"


def _manifest(endpoint: str, bucket: str) -> Manifest:
    from huggingface_hub import HfFileSystem

    fs = HfFileSystem(endpoint=endpoint, token=WRITE_TOKEN, skip_instance_cache=True)
    return parse_manifest(fs.cat_file(f"buckets/{bucket}/{PREFIX}/{MANIFEST_NAME}"), prefix=PREFIX)


def _start(spark, endpoint: str, inputs: Path, checkpoint: Path, target: str, *, where: str | None = None,
           **options: str):
    source = spark.readStream.schema("id long, text string").option("maxFilesPerTrigger", 1).parquet(str(inputs))
    if where:
        source = source.where(where)
    writer = (source.writeStream.format("huggingface").option("endpoint", endpoint).option("token", WRITE_TOKEN)
              .option("checkpointLocation", str(checkpoint)))
    for key, value in options.items():
        writer = writer.option(key, value)
    return writer.trigger(availableNow=True).start(target)


def _ids(endpoint: str, bucket: str) -> list[int]:
    return sorted(read_prefix(endpoint, bucket, PREFIX).column("id").to_pylist())


def test_each_micro_batch_is_one_published_manifest_and_empty_batches_publish_nothing(spark, hub, tmp_path) -> None:
    inputs = tmp_path / "in"
    write_inputs(inputs, [rows_table(i * 100, 100) for i in range(4)])
    bucket = _bucket()
    # Batches 1 and 3 (ids 100-199, 300-399) are filtered out entirely: their micro-batches are empty.
    query = _start(spark, hub.endpoint, inputs, tmp_path / "ck", f"hf://buckets/{bucket}/{PREFIX}",
                   where="floor(id / 100) % 2 = 0")
    query.awaitTermination(180)
    assert query.exception() is None, query.exception()
    assert [p["numInputRows"] for p in query.recentProgress if p["numInputRows"]] == [100, 100, 100, 100]
    assert _ids(hub.endpoint, bucket) == list(range(100)) + list(range(200, 300))
    manifest = _manifest(hub.endpoint, bucket)
    assert manifest.streams == {query.id: 2} and manifest.mode == "append" and manifest.rows == 200
    assert all(f"{query.id[:8]}-b00000" in f.path for f in manifest.files[:1])  # files named after their batch
    assert {p for p in _listing(hub.endpoint, bucket)} == {*manifest.paths(), f"{PREFIX}/{MANIFEST_NAME}"}


def test_repo_only_options_are_refused_for_a_bucket(spark, hub, tmp_path) -> None:
    inputs = tmp_path / "in"
    write_inputs(inputs, [rows_table(0, 10)])
    query = _start(spark, hub.endpoint, inputs, tmp_path / "ck", f"buckets/{_bucket()}/{PREFIX}", split="test")
    with pytest.raises(StreamingQueryException, match="split: not for a Storage Bucket"):
        query.awaitTermination(120)


def test_a_failed_publish_stops_the_query_and_restarts_publish_every_batch_once(spark, own_hub, tmp_path) -> None:
    """Batches 0-1 land; batch 2's publish fails for good (every bucket batch answered 500): the query stops, the
    prefix is as hfconnect's readers saw it. The restart publishes 2 and 3. Then Spark's checkpoint loses batch 3's
    commit (as when the driver dies right after the publish): the replayed batch 3 is found in the manifest and
    not published again."""
    endpoint, bucket = own_hub.endpoint, _bucket()
    target, inputs, checkpoint = f"buckets/{bucket}/{PREFIX}", tmp_path / "in", tmp_path / "ck"
    write_inputs(inputs, [rows_table(i * 100, 100) for i in range(2)])
    query = _start(spark, endpoint, inputs, checkpoint, target)
    query.awaitTermination(180)
    assert query.exception() is None, query.exception()
    assert _ids(endpoint, bucket) == list(range(200))
    before = _listing(endpoint, bucket)

    write_inputs(inputs, [rows_table(i * 100, 100) for i in range(4)])  # two more files: batches 2 and 3
    own_hub.set_faults([{"route": "commit", "action": "status", "status": 500, "match": "/batch$"}])
    try:
        query = _start(spark, endpoint, inputs, checkpoint, target, retry_budget="1")
        with pytest.raises(StreamingQueryException) as failure:
            query.awaitTermination(180)
    finally:
        own_hub.clear_faults()
    message = str(failure.value)
    assert f"batch 2 of streaming query {query.id} was not published to {target}" in message, message
    assert "restarting it from its checkpoint publishes this batch exactly once" in message
    assert WRITE_TOKEN not in message
    assert _listing(endpoint, bucket) == before  # the failed batch's files were removed again
    assert _ids(endpoint, bucket) == list(range(200))

    query = _start(spark, endpoint, inputs, checkpoint, target)
    query.awaitTermination(180)
    assert query.exception() is None, query.exception()
    assert _ids(endpoint, bucket) == list(range(400))
    assert _manifest(endpoint, bucket).streams == {query.id: 3}

    for name in ("3", ".3.crc"):  # Spark never recorded batch 3: on restart it runs it again
        (checkpoint / "commits" / name).unlink(missing_ok=True)
    published = _listing(endpoint, bucket)
    query = _start(spark, endpoint, inputs, checkpoint, target)
    query.awaitTermination(180)
    assert query.exception() is None, query.exception()
    assert any(p["batchId"] == 3 and p["numInputRows"] == 100 for p in query.recentProgress)  # replayed
    assert _listing(endpoint, bucket) == published  # ... and not published again
    assert _ids(endpoint, bucket) == list(range(400))


@pytest.mark.slow
def test_a_driver_killed_right_after_a_publish_publishes_that_batch_once(hub, tmp_path) -> None:
    """A Spark driver in its own process, killed -9 right after batch 1's publish (before Spark's checkpoint),
    then restarted: batch 1 is replayed, found in the manifest, and every row is in the prefix once."""
    from hfconnect.spark.stream_writer import PAUSE_ENV

    bucket, inputs = _bucket(), tmp_path / "in"
    write_inputs(inputs, [rows_table(i * 100, 100) for i in range(3)])
    config = {"endpoint": hub.endpoint, "token": WRITE_TOKEN, "checkpoint": str(tmp_path / "ck"),
              "sink_repo": f"buckets/{bucket}/{PREFIX}", "source": {"files": str(inputs)}, "trigger": "available_now"}
    paused = tmp_path / "paused"
    run = Driver(config, tmp_path / "run1.log", env={PAUSE_ENV: f"1:{paused}"})
    wait_for(paused.exists, 180, "batch 1 to stop after its publish", run)
    run.kill()
    manifest = _manifest(hub.endpoint, bucket)
    [query] = manifest.streams
    assert manifest.streams == {query: 1} and not (tmp_path / "ck" / "commits" / "1").exists()
    run = Driver(config, tmp_path / "run2.log")
    assert run.wait(240) == 0, run.output()[-4000:]
    assert _ids(hub.endpoint, bucket) == list(range(300))
    assert _manifest(hub.endpoint, bucket).streams == {query: 2}
    assert json.loads(json.dumps(manifest.streams))  # the record is plain JSON


def test_an_ambiguous_publish_says_so_and_the_restart_settles_it(own_hub, monkeypatch) -> None:  # noqa: ANN001
    """A micro-batch's manifest lands, then something that is no hfconnect error comes out and the prefix cannot
    be listed: the job keeps its files and the error says the batch MAY have been published. Publishing the same
    batch again (what a restart from the checkpoint does) finds it in the manifest's streams record: once."""
    from hfconnect.errors import HubRequestError
    from hfconnect.options import WriteOptions
    from hfconnect.stream.bucket_batches import commit_bucket_batch, prepare_bucket_target
    from hfconnect.write.bucket_job import BucketWriteJob
    from hfconnect.write.bucket_target import parse_bucket_target
    from hfconnect.write.bucket_task import write_bucket_task

    endpoint, bucket = own_hub.endpoint, _bucket()
    target = parse_bucket_target(f"buckets/{bucket}/{PREFIX}")
    assert target is not None
    options = WriteOptions.build(repo=target.bucket_id, endpoint=endpoint, token=WRITE_TOKEN, mode="append",
                                 retry_budget=1.0)
    table = rows_table(0, 100)
    prepare_bucket_target(options, target, table.schema)  # as the sink does before a query's first batch

    def messages() -> list:
        return [write_bucket_task(table.to_batches(), table.schema, options, job_id="s" * 16, partition_id=0)]

    sent = BucketWriteJob._batch

    def landed_then_lost(self: BucketWriteJob, what: str, **kwargs: object) -> list:
        failures = sent(self, what, **kwargs)
        if what == "publish the manifest":  # applied; then the answer is lost and the prefix cannot be listed
            own_hub.set_faults([{"route": "api", "action": "status", "status": 500, "match": "/tree"}])
            raise ValueError("the answer does not parse")
        return failures

    monkeypatch.setattr(BucketWriteJob, "_batch", landed_then_lost)
    try:
        with pytest.raises(HubRequestError) as failure:
            commit_bucket_batch(options, target, "q-1", 0, messages(), table.schema)
    finally:
        own_hub.clear_faults()
        monkeypatch.undo()
    message = str(failure.value)
    assert f"batch 0 of streaming query q-1 may have been published to {target}" in message, message
    assert "restarting it from its checkpoint settles it" in message and WRITE_TOKEN not in message
    again = commit_bucket_batch(options, target, "q-1", 0, messages(), table.schema)
    assert again is not None and again.files == ()
    assert _manifest(endpoint, bucket).streams == {"q-1": 0}
    assert _ids(endpoint, bucket) == list(range(100))
