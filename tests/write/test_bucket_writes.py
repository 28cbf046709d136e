"""Writes to a Storage Bucket prefix (`buckets/ns/name/prefix`): Spark's format, hfconnect.spark.write and Daft's
write_huggingface against a real local hub over HTTP with Xet; files read back byte for byte (their Xet hash
computed here) and row for row; every mode; a failed job, a job killed -9 and a batch that fails ambiguously
leave the prefix as hfconnect's readers saw it; the real-Hub mode."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hfconnect.errors import AuthenticationError, HfConnectError, HubRequestError
from hfconnect.hub.bucket_manifest import MANIFEST_NAME, parse_manifest
from tests.conftest import READ_TOKEN, WRITE_TOKEN

pytestmark = pytest.mark.integration


def _bucket() -> str:
    return f"tests/bk-{uuid.uuid4().hex[:10]}"


def _fs(endpoint: str, token: str = WRITE_TOKEN) -> Any:
    from huggingface_hub import HfFileSystem

    return HfFileSystem(endpoint=endpoint, token=token, skip_instance_cache=True)


def _listing(endpoint: str, bucket: str) -> dict[str, str]:
    """Every file of the bucket -> its Xet hash (empty when the bucket does not exist)."""
    from huggingface_hub import BucketFile, HfApi
    from huggingface_hub.errors import BucketNotFoundError

    try:
        entries = HfApi(endpoint=endpoint, token=WRITE_TOKEN).list_bucket_tree(bucket, recursive=True)
        return {e.path: e.xet_hash for e in entries if isinstance(e, BucketFile)}
    except BucketNotFoundError:
        return {}


def read_prefix(endpoint: str, bucket: str, prefix: str) -> pa.Table:
    """What a reader honouring the manifest reads: exactly its files, each checked byte for byte (the Xet hash of
    the bytes HfFileSystem returns, computed here, is the manifest's and the listing's)."""
    import hf_xet

    fs = _fs(endpoint)
    manifest = parse_manifest(fs.cat_file(f"buckets/{bucket}/{prefix}/{MANIFEST_NAME}"), prefix=prefix)
    listing = _listing(endpoint, bucket)
    assert manifest.check({p: (fs.info(f"buckets/{bucket}/{p}")["size"], h) for p, h in listing.items()
                           if p in manifest.paths()}) == []
    tables = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, (path, entry) in enumerate(zip(manifest.paths(), manifest.files, strict=True)):
            data = fs.cat_file(f"buckets/{bucket}/{path}")
            local = Path(tmp) / f"{n}.parquet"
            local.write_bytes(data)
            info = hf_xet.hash_files([str(local)])[0]
            assert (info.hash, info.file_size) == (entry.xet_hash, entry.size) and listing[path] == entry.xet_hash
            table = pq.read_table(local)
            assert entry.rows is None or table.num_rows == entry.rows
            tables.append(table)
    return pa.concat_tables(tables) if tables else pa.table({})


def _ids(table: pa.Table) -> list[int]:
    return sorted(table.column("id").to_pylist())


def _frame(spark, n: int, offset: int = 0, parts: int = 3):
    return (spark.range(offset, offset + n, numPartitions=parts)
            .selectExpr("id", "concat('row ', cast(id as string)) as text", "id / 3.0 as score"))


def _save(df, endpoint: str, target: str, mode: str = "append", **options: str) -> None:
    writer = df.write.format("huggingface").mode("overwrite" if mode == "overwrite" else "append")
    writer = writer.option("endpoint", endpoint).option("token", WRITE_TOKEN)
    if mode not in ("append", "overwrite"):
        writer = writer.option("mode", mode)
    for key, value in options.items():
        writer = writer.option(key, value)
    writer.save(target)


# ---- Spark ---------------------------------------------------------------------------------------------
def test_spark_format_every_mode(spark, hub) -> None:
    """A missing bucket is created; appends add files and keep the old ones in the manifest; overwrite replaces
    everything under the prefix (and only there); error fails and ignore does nothing when data is there."""
    bucket = _bucket()
    target = f"buckets/{bucket}/tables/events"
    _save(_frame(spark, 3_000), hub.endpoint, target)
    assert _ids(read_prefix(hub.endpoint, bucket, "tables/events")) == list(range(3_000))
    _save(_frame(spark, 1_000, 3_000, parts=2), hub.endpoint, f"hf://{target}/")
    table = read_prefix(hub.endpoint, bucket, "tables/events")
    assert _ids(table) == list(range(4_000)) and table.column_names == ["id", "text", "score"]

    _save(_frame(spark, 10, parts=1), hub.endpoint, f"buckets/{bucket}/tables/eventsX")  # a lexical neighbour
    before = _listing(hub.endpoint, bucket)
    with pytest.raises(Exception, match="already holds .* data file.*mode is 'error'"):
        _save(_frame(spark, 5), hub.endpoint, target, mode="error")
    _save(_frame(spark, 5), hub.endpoint, target, mode="ignore")
    assert _listing(hub.endpoint, bucket) == before

    _save(_frame(spark, 500, 10_000, parts=2), hub.endpoint, target, mode="overwrite")
    assert _ids(read_prefix(hub.endpoint, bucket, "tables/events")) == list(range(10_000, 10_500))
    after = _listing(hub.endpoint, bucket)
    mine = [p for p in after if p.startswith("tables/events/")]
    assert len(mine) == 1 + len(parse_manifest(_fs(hub.endpoint).cat_file(
        f"buckets/{bucket}/tables/events/{MANIFEST_NAME}")).files)  # old files gone: only the manifest's remain
    assert {p: h for p, h in after.items() if p.startswith("tables/eventsX/")} == \
        {p: h for p, h in before.items() if p.startswith("tables/eventsX/")}

    # pandas over hf:// sees the same rows (no manifest needed once the job is done)
    import pandas as pd

    frame = pd.read_parquet(f"hf://buckets/{bucket}/tables/events",
                            storage_options={"endpoint": hub.endpoint, "token": WRITE_TOKEN})
    assert sorted(frame["id"]) == list(range(10_000, 10_500))


def test_spark_write_function_and_an_empty_overwrite(spark, hub) -> None:
    import hfconnect.spark as hs

    bucket = _bucket()
    result = hs.write(_frame(spark, 2_000), f"hf://buckets/{bucket}/fn", endpoint=hub.endpoint, token=WRITE_TOKEN)
    assert result.rows == 2_000 and result.manifest == f"fn/{MANIFEST_NAME}" and result.files
    assert _ids(read_prefix(hub.endpoint, bucket, "fn")) == list(range(2_000))
    again = hs.write(_frame(spark, 100), f"buckets/{bucket}/fn", mode="ignore", endpoint=hub.endpoint,
                     token=WRITE_TOKEN)
    assert again.manifest is None and again.files == ()
    empty = hs.write(_frame(spark, 0, parts=1), f"buckets/{bucket}/fn", mode="overwrite", endpoint=hub.endpoint,
                     token=WRITE_TOKEN)
    assert set(empty.deleted) == set(result.files) and empty.rows == 0
    table = read_prefix(hub.endpoint, bucket, "fn")
    assert table.num_rows == 0 and table.column_names == ["id", "text", "score"]  # the schema stays


def test_a_failed_spark_job_leaves_the_prefix_and_deletes_the_bucket_it_made(spark, hub) -> None:
    from pyspark.sql.functions import udf

    @udf("long")
    def boom(x: int) -> int:
        if x == 2_500:
            raise ValueError("injected failure in one task")
        return x

    bucket = _bucket()
    failing = _frame(spark, 4_000, parts=4).withColumn("id", boom("id"))
    with pytest.raises(Exception, match="injected failure"):
        _save(failing, hub.endpoint, f"buckets/{bucket}/p")
    assert _listing(hub.endpoint, bucket) == {}  # created by the job, still empty: deleted again
    from huggingface_hub import HfApi

    assert not [b for b in HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN).list_buckets("tests") if b.id == bucket]

    _save(_frame(spark, 100, parts=1), hub.endpoint, f"buckets/{bucket}/p")
    before = _listing(hub.endpoint, bucket)
    with pytest.raises(Exception, match="injected failure"):
        _save(failing, hub.endpoint, f"buckets/{bucket}/p", mode="overwrite")
    assert _listing(hub.endpoint, bucket) == before


def test_errors_come_before_any_row(spark, hub) -> None:
    bucket = _bucket()
    with pytest.raises(Exception, match="read-only"):
        (_frame(spark, 10).write.format("huggingface").mode("append").option("endpoint", hub.endpoint)
         .option("token", READ_TOKEN).save(f"buckets/{bucket}/x"))
    assert _listing(hub.endpoint, bucket) == {}
    for bad, why in ((f"buckets/{bucket}@main/x", "no revisions"), ("buckets/onlyns", "names no bucket"),
                     (f"buckets/{bucket}/a/../b", r"'\.\.' segment"), (f"buckets/{bucket}/x/f.parquet", "a folder")):
        with pytest.raises(Exception, match=why):
            _save(_frame(spark, 10), hub.endpoint, bad)
    with pytest.raises(Exception, match="split_column: not for a Storage Bucket"):
        _save(_frame(spark, 10), hub.endpoint, f"buckets/{bucket}/x", split_column="text")


# ---- Daft ----------------------------------------------------------------------------------------------
def test_daft_native_runner_every_mode(hub) -> None:
    import daft

    from hfconnect.daft import write_huggingface

    bucket = _bucket()
    frame = daft.from_pydict({"id": list(range(5_000)), "text": [f"t{i}" for i in range(5_000)]})
    first = write_huggingface(frame, f"buckets/{bucket}/d", endpoint=hub.endpoint, token=WRITE_TOKEN)
    assert first.rows == 5_000 and _ids(read_prefix(hub.endpoint, bucket, "d")) == list(range(5_000))
    more = daft.from_pydict({"id": list(range(5_000, 5_100)), "text": ["x"] * 100})
    write_huggingface(more, f"hf://buckets/{bucket}/d", mode="append", endpoint=hub.endpoint, token=WRITE_TOKEN)
    assert _ids(read_prefix(hub.endpoint, bucket, "d")) == list(range(5_100))
    with pytest.raises(HfConnectError, match="mode is 'error'"):
        write_huggingface(more, f"buckets/{bucket}/d", mode="error", endpoint=hub.endpoint, token=WRITE_TOKEN)
    with pytest.raises(HfConnectError, match=r"cannot append .* columns \[id:int64,text:string\]"):
        write_huggingface(daft.from_pydict({"id": [1]}), f"buckets/{bucket}/d", endpoint=hub.endpoint,
                          token=WRITE_TOKEN)
    assert write_huggingface(more, f"buckets/{bucket}/d", mode="ignore", endpoint=hub.endpoint,
                             token=WRITE_TOKEN).manifest is None
    done = write_huggingface(more, f"buckets/{bucket}/d", overwrite=True, endpoint=hub.endpoint, token=WRITE_TOKEN)
    assert _ids(read_prefix(hub.endpoint, bucket, "d")) == list(range(5_000, 5_100))
    assert set(first.files) <= set(done.deleted)
    with pytest.raises(AuthenticationError, match="read-only"):
        write_huggingface(more, f"buckets/{bucket}/d", endpoint=hub.endpoint, token=READ_TOKEN)
    with pytest.raises(HfConnectError, match="split: not for a Storage Bucket"):
        write_huggingface(more, f"buckets/{bucket}/d", split="test", endpoint=hub.endpoint, token=WRITE_TOKEN)


# ---- faults, kill -9 -----------------------------------------------------------------------------------
def _core_job(endpoint: str, target: str, n: int, offset: int = 0, mode: str = "append", budget: float = 30.0,
              job_class: type | None = None) -> Any:
    """One job through the core (what every engine runs): begin, 2 tasks, commit (abort on failure)."""
    from hfconnect.options import WriteOptions
    from hfconnect.write.bucket_job import BucketWriteJob
    from hfconnect.write.bucket_target import parse_bucket_target
    from hfconnect.write.bucket_task import write_bucket_task

    t = parse_bucket_target(target)
    options = WriteOptions.build(repo=t.bucket_id, endpoint=endpoint, token=WRITE_TOKEN, mode=mode,
                                 retry_budget=budget)
    job = (job_class or BucketWriteJob)(options, t)
    table = pa.table({"id": pa.array(range(offset, offset + n), pa.int64())})
    schema = job.begin(table.schema)
    messages = []
    try:
        for i, batch in enumerate(table.to_batches(max_chunksize=max(1, n // 2))):
            messages.append(write_bucket_task([batch], schema, options, job_id=job.job_id, partition_id=i))
        return job.commit(messages, schema)
    except BaseException:
        job.abort(messages)
        raise


def test_a_batch_that_fails_leaves_the_prefix_as_it_was(own_hub) -> None:
    """Batch 1 (the files) fails for good: nothing was added. Batch 2 (the manifest) fails for good after batch
    1 landed: the job's files are deleted again. Either way the listing is what it was."""
    from hfconnect.write.bucket_job import BucketWriteJob

    bucket, endpoint = _bucket(), own_hub.endpoint
    _core_job(endpoint, f"buckets/{bucket}/p", 300)
    before = _listing(endpoint, bucket)

    own_hub.set_faults([{"route": "commit", "action": "status", "status": 503, "match": "/batch$"}])
    with pytest.raises(HubRequestError, match="503"):
        _core_job(endpoint, f"buckets/{bucket}/p", 300, 1_000, mode="overwrite", budget=1.0)
    own_hub.clear_faults()
    assert _listing(endpoint, bucket) == before

    class FailingPublish(BucketWriteJob):
        """Breaks the hub right after batch 1 landed, mends it for the cleanup batch."""

        def _publish(self, *args: Any, **kwargs: Any) -> Any:
            assert len(_listing(endpoint, bucket)) > len(before)  # batch 1 landed
            own_hub.set_faults([{"route": "commit", "action": "status", "status": 500, "match": "/batch$"}])
            return super()._publish(*args, **kwargs)

        def _remove(self, *args: Any, **kwargs: Any) -> None:
            own_hub.clear_faults()
            super()._remove(*args, **kwargs)

    with pytest.raises(HubRequestError, match="500"):
        _core_job(endpoint, f"buckets/{bucket}/p", 300, 1_000, mode="overwrite", budget=1.0,
                  job_class=FailingPublish)
    assert _listing(endpoint, bucket) == before
    assert _ids(read_prefix(endpoint, bucket, "p")) == list(range(300))


def test_a_manifest_batch_that_lands_but_loses_its_answer_counts_once(own_hub) -> None:
    """The hub applies batch 2 and drops the connection: the retry re-sends it (the same manifest, deletions
    already done) and the job succeeds with exactly its rows."""
    bucket, endpoint = _bucket(), own_hub.endpoint
    _core_job(endpoint, f"buckets/{bucket}/p", 100)
    own_hub.set_faults([{"route": "commit", "action": "reset_after", "match": "/batch$", "every": 2, "times": 1}])
    result = _core_job(endpoint, f"buckets/{bucket}/p", 300, 500, mode="overwrite")
    assert own_hub.counters()["commit"]["faults"] == 1
    assert result.leftovers == () and result.deleted
    assert _ids(read_prefix(endpoint, bucket, "p")) == list(range(500, 800))
    assert sorted(p for p in _listing(endpoint, bucket) if not p.endswith(MANIFEST_NAME)) == sorted(result.files)


KILLED = textwrap.dedent("""
    import json, sys
    import pyarrow as pa
    from hfconnect.options import WriteOptions
    from hfconnect.write.bucket_job import BucketWriteJob
    from hfconnect.write.bucket_target import parse_bucket_target
    from hfconnect.write.bucket_task import write_bucket_task

    args = json.loads(sys.argv[1])

    class Paused(BucketWriteJob):
        def _publish(self, *a, **k):
            if args["pause"] == "publish":
                print("PAUSED", flush=True)
                sys.stdin.readline()
            return super()._publish(*a, **k)

    t = parse_bucket_target(args["target"])
    options = WriteOptions.build(repo=t.bucket_id, endpoint=args["endpoint"], token=args["token"], mode="overwrite")
    job = Paused(options, t)
    table = pa.table({"id": pa.array(range(10_000, 10_400), pa.int64())})
    schema = job.begin(table.schema)
    messages = [write_bucket_task([b], schema, options, job_id=job.job_id, partition_id=i)
                for i, b in enumerate(table.to_batches(max_chunksize=200))]
    if args["pause"] == "tasks":
        print("PAUSED", flush=True)
        sys.stdin.readline()
    job.commit(messages, schema)
""")


@pytest.mark.parametrize("pause", ["tasks", "publish"])
def test_a_job_killed_mid_way_changes_nothing_manifest_readers_see(own_hub, pause: str) -> None:
    """kill -9 after the tasks uploaded (nothing added anywhere), or between batch 1 and the manifest (the files
    are in the bucket, in no manifest): hfconnect's readers read the previous job's rows; the next overwrite
    removes the orphans."""
    bucket, endpoint = _bucket(), own_hub.endpoint
    _core_job(endpoint, f"buckets/{bucket}/p", 200)
    before = _listing(endpoint, bucket)
    spec = json.dumps({"endpoint": endpoint, "token": WRITE_TOKEN, "target": f"buckets/{bucket}/p", "pause": pause})
    proc = subprocess.Popen([sys.executable, "-c", KILLED, spec], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line == "PAUSED", proc.stderr.read()[-3000:] if proc.stderr else line
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    after = _listing(endpoint, bucket)
    assert {p: h for p, h in after.items() if p in before} == before  # nothing of the old state changed
    orphans = set(after) - set(before)
    assert (orphans == set()) if pause == "tasks" else (len(orphans) == 2)
    assert _ids(read_prefix(endpoint, bucket, "p")) == list(range(200))
    _core_job(endpoint, f"buckets/{bucket}/p", 50, mode="overwrite")
    assert not orphans & set(_listing(endpoint, bucket))
    assert _ids(read_prefix(endpoint, bucket, "p")) == list(range(50))


# ---- the real-Hub mode ----------------------------------------------------------------------------------
def test_real_hub_mode(tmp_path: Path) -> None:
    """Redirects to signed URLs, quotas: one Daft job (native runner) appends and overwrites a prefix."""
    import daft

    from hfconnect.daft import write_huggingface
    from tests.realhub.conftest import start_hub

    hub = start_hub(tmp_path / "realhub")
    try:
        bucket = _bucket()
        frame = daft.from_pydict({"id": list(range(3_000)), "label": [i % 5 for i in range(3_000)]})
        hub.reset_counters()
        write_huggingface(frame, f"buckets/{bucket}/r", endpoint=hub.endpoint, token=WRITE_TOKEN)
        c = hub.counters()
        assert c["commit"]["requests"] == 2 and c["rate_limits"]["commits"]["limited"] == 0  # batch 1 and batch 2
        assert _ids(read_prefix(hub.endpoint, bucket, "r")) == list(range(3_000))
        write_huggingface(frame, f"buckets/{bucket}/r", mode="overwrite", endpoint=hub.endpoint, token=WRITE_TOKEN)
        assert _ids(read_prefix(hub.endpoint, bucket, "r")) == list(range(3_000))
    finally:
        hub.close()


# ---- batch 2 failing in other ways: settled by listing the prefix --------------------------------------------
def _failing_publish(own_hub: Any, *, send: bool, exc: BaseException, break_listing: bool = False) -> type:
    """A job whose batch 2 raises `exc` (what hub.hfapi lets through unchanged: an answer that does not parse, an
    interrupt), after the hub applied it (`send`) or before sending it; with `break_listing` the prefix cannot be
    listed afterwards either (every tree request answered 500 until the test mends the hub)."""
    from hfconnect.write.bucket_job import BucketWriteJob

    class FailingBatch2(BucketWriteJob):
        def _batch(self, what: str, **kwargs: Any) -> Any:
            if what != "publish the manifest":
                return super()._batch(what, **kwargs)
            if send:
                super()._batch(what, **kwargs)
            if break_listing:
                own_hub.set_faults([{"route": "api", "action": "status", "status": 500, "match": "/tree"}])
            raise exc

    return FailingBatch2


@pytest.mark.parametrize("exc", [ValueError("the answer does not parse"), KeyboardInterrupt()],
                         ids=["unparseable", "interrupt"])
def test_batch_2_raising_after_it_landed_keeps_the_job(own_hub, exc: BaseException) -> None:
    """The manifest landed, then something that is no hfconnect error came out: the listing shows the job's
    manifest, so its files are kept (before: deleted under a manifest naming them). An interrupt still stops."""
    bucket, endpoint = _bucket(), own_hub.endpoint
    _core_job(endpoint, f"buckets/{bucket}/p", 100)
    job_class = _failing_publish(own_hub, send=True, exc=exc)
    if isinstance(exc, KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            _core_job(endpoint, f"buckets/{bucket}/p", 300, 500, mode="overwrite", job_class=job_class)
    else:
        result = _core_job(endpoint, f"buckets/{bucket}/p", 300, 500, mode="overwrite", job_class=job_class)
        assert result.rows == 300 and result.leftovers == ()
    assert _ids(read_prefix(endpoint, bucket, "p")) == list(range(500, 800))  # every file it names is there


def test_batch_2_raising_before_it_landed(own_hub) -> None:
    """Not landed after a completed request (an error): the job's files are deleted again, the error raised.
    Not landed after an interrupt (the request may still be applied): the files are kept (maybe_published),
    in no manifest. Either way hfconnect's readers read the previous job's rows."""
    bucket, endpoint = _bucket(), own_hub.endpoint
    _core_job(endpoint, f"buckets/{bucket}/p", 100)
    before = _listing(endpoint, bucket)
    with pytest.raises(ValueError, match="does not parse"):
        _core_job(endpoint, f"buckets/{bucket}/p", 300, 500, mode="overwrite",
                  job_class=_failing_publish(own_hub, send=False, exc=ValueError("the answer does not parse")))
    assert _listing(endpoint, bucket) == before

    with pytest.raises(KeyboardInterrupt):
        _core_job(endpoint, f"buckets/{bucket}/p", 300, 500, mode="overwrite",
                  job_class=_failing_publish(own_hub, send=False, exc=KeyboardInterrupt()))
    after = _listing(endpoint, bucket)
    assert {p: h for p, h in after.items() if p in before} == before and len(after) == len(before) + 2
    assert _ids(read_prefix(endpoint, bucket, "p")) == list(range(100))


def test_batch_2_raising_when_the_prefix_cannot_be_listed_deletes_nothing(own_hub) -> None:
    """Batch 2 raised and the listing that would settle it fails: the job may have landed, so nothing is deleted
    and the error says so, naming the job; the prefix reads whole either way (here: the new manifest landed)."""
    from hfconnect.write.bucket_job import BucketWriteJob

    bucket, endpoint = _bucket(), own_hub.endpoint
    _core_job(endpoint, f"buckets/{bucket}/p", 100)
    seen: list[BucketWriteJob] = []
    base = _failing_publish(own_hub, send=True, exc=ValueError("the answer does not parse"), break_listing=True)

    class Kept(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            seen.append(self)

    try:
        with pytest.raises(HubRequestError, match=r"may or may not have landed \(look for job_id"):
            _core_job(endpoint, f"buckets/{bucket}/p", 300, 500, mode="overwrite", budget=1.0, job_class=Kept)
    finally:
        own_hub.clear_faults()
    assert seen[0].maybe_published
    assert _ids(read_prefix(endpoint, bucket, "p")) == list(range(500, 800))


def test_a_manifest_published_meanwhile_is_kept_by_an_append(own_hub) -> None:
    """Another job publishes right after this job listed the prefix for its manifest: the listing made right before
    batch 2 sees the new manifest, and the job computes its own again from a fresh listing and that manifest (read
    pinned to the listed Xet hash), so the append keeps the other job's files (before: they were dropped)."""
    from hfconnect.write.bucket_job import BucketWriteJob

    bucket, endpoint = _bucket(), own_hub.endpoint
    target = f"buckets/{bucket}/p"
    _core_job(endpoint, target, 100)
    other: list[Any] = []

    class Raced(BucketWriteJob):
        listings = 0

        def _listing(self) -> dict[str, tuple[int, str]]:
            listed = super()._listing()
            Raced.listings += 1
            if Raced.listings == 3:  # the listing of _publish's state(): another job publishes right then
                other.append(_core_job(endpoint, target, 50, 1_000))
            return listed

    result = _core_job(endpoint, target, 300, 500, job_class=Raced)
    assert other and Raced.listings >= 5  # the check before batch 2 saw the new manifest: computed again
    ids = _ids(read_prefix(endpoint, bucket, "p"))
    assert ids == sorted([*range(100), *range(500, 800), *range(1_000, 1_050)])
    assert set(other[0].files) | set(result.files) <= set(parse_manifest(_fs(endpoint).cat_file(
        f"buckets/{bucket}/p/{MANIFEST_NAME}"), prefix="p").paths())


def test_an_overwrite_of_the_bucket_root_is_refused(own_hub) -> None:
    """buckets/ns/name with mode overwrite would delete every prefix's files: refused, nothing changes."""
    bucket, endpoint = _bucket(), own_hub.endpoint
    _core_job(endpoint, f"buckets/{bucket}/a", 10)
    before = _listing(endpoint, bucket)
    from hfconnect.errors import OptionError

    with pytest.raises(OptionError, match="write to a prefix"):
        _core_job(endpoint, f"buckets/{bucket}", 10, mode="overwrite")
    assert _listing(endpoint, bucket) == before
