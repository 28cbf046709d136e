"""spark.readStream.format("huggingface"): follow a dataset as other writers commit to it.

Micro-batches are collected with foreachBatch on the test's own session; "restart" is stopping the query and
starting it again from the same checkpoint."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from pyspark.errors import StreamingQueryException

from hfconnect.localhub import LocalHub
from tests.conftest import READ_TOKEN, WRITE_TOKEN
from tests.stream.common import parquet_file, rows_table, wait_for

pytestmark = pytest.mark.integration


class Batches:
    """foreachBatch target: every micro-batch's rows, with when they arrived. A batch Spark runs again after a
    restart (stopped after the batch ran, before its checkpoint commit) must bring the very same rows: it is
    kept once, as an idempotent sink would."""

    def __init__(self) -> None:
        self._batches: dict[int, tuple[pa.Table, float]] = {}
        self.replayed: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, df: Any, batch_id: int) -> None:
        table = df.toArrow().sort_by("id") if "id" in df.columns else df.toArrow()
        with self._lock:
            if batch_id in self._batches:
                assert self._batches[batch_id][0].equals(table), f"batch {batch_id} replayed with other rows"
                self.replayed.append(batch_id)
                return
            self._batches[batch_id] = (table, time.monotonic())

    @property
    def seen(self) -> list[tuple[int, pa.Table, float]]:
        with self._lock:
            return [(b, t, at) for b, (t, at) in sorted(self._batches.items())]

    def ids(self) -> list[int]:
        return sorted(i for _, t, _ in self.seen for i in t.column("id").to_pylist())

    def nonempty(self) -> list[tuple[int, list[int]]]:
        return [(b, sorted(t.column("id").to_pylist())) for b, t, _ in self.seen if t.num_rows]


def _reader(spark, hub: LocalHub, **options: Any):
    reader = spark.readStream.format("huggingface").option("endpoint", hub.endpoint).option("token", WRITE_TOKEN)
    for key, value in options.items():
        reader = reader.option(key, str(value))
    return reader


def _start(df, checkpoint: str, sink: Batches, trigger: dict[str, Any] | None = None):
    return (df.writeStream.foreachBatch(sink).option("checkpointLocation", checkpoint)
            .trigger(**(trigger or {"processingTime": "1 second"})).start())


def _upload(api, repo: str, path: str, start: int, count: int) -> str:
    return api.upload_file(path_or_fileobj=parquet_file(rows_table(start, count)), path_in_repo=path, repo_id=repo,
                           repo_type="dataset").oid


def _arrival(sink: Batches, ids: list[int], since: float, timeout: float = 60) -> tuple[int, float]:
    """The one micro-batch that brought exactly these rows, and how long after `since` it arrived."""
    def found() -> tuple[int, float] | None:
        for batch_id, table, at in sink.seen:
            got = set(table.column("id").to_pylist()) & set(ids) if table.num_rows else set()
            if got:
                assert got == set(ids), f"batch {batch_id} brought only part of one commit's rows"
                return batch_id, at - since
        return None
    return wait_for(found, timeout, f"rows {ids[0]}..{ids[-1]}")


def test_follows_commits_of_every_kind_of_writer_and_resumes_from_its_checkpoint(spark, hub, api, tmp_path) -> None:
    import datasets

    repo = f"tests/follow-{uuid.uuid4().hex[:8]}"
    datasets.Dataset.from_dict({"id": list(range(100)), "text": [f"row {i}" for i in range(100)]}).push_to_hub(
        repo, token=WRITE_TOKEN)
    checkpoint, sink = str(tmp_path / "ck"), Batches()
    query = _start(_reader(spark, hub).load(repo), checkpoint, sink)
    try:
        _arrival(sink, list(range(100)), time.monotonic(), timeout=120)  # what push_to_hub wrote: starting=earliest
        # Another writer's HfApi upload, then an hfconnect batch write, each picked up by the next trigger.
        t = time.monotonic()
        _upload(api, repo, "data/train-extra-0.parquet", 1000, 50)
        _, upload_delay = _arrival(sink, list(range(1000, 1050)), t)
        t = time.monotonic()
        (spark.createDataFrame(rows_table(2000, 70).to_pandas()).coalesce(1).write.format("huggingface")
         .mode("append").option("endpoint", hub.endpoint).option("token", WRITE_TOKEN).save(repo))
        _, write_delay = _arrival(sink, list(range(2000, 2070)), t)
    finally:
        query.stop()
    # Within one trigger (1 s) plus the micro-batch itself.
    assert upload_delay < 15 and write_delay < 15, (upload_delay, write_delay)

    # While the query is down, two more commits; restarted from its checkpoint, it reads them and nothing else.
    _upload(api, repo, "data/train-extra-1.parquet", 3000, 30)
    _upload(api, repo, "data/train-extra-2.parquet", 4000, 30)
    query = _start(_reader(spark, hub).load(repo), checkpoint, sink)
    try:
        _arrival(sink, list(range(3000, 3030)) + list(range(4000, 4030)), time.monotonic())
        time.sleep(2)  # a few idle triggers: nothing read twice
    finally:
        query.stop()
    expected = list(range(100)) + list(range(1000, 1050)) + list(range(2000, 2070)) + list(range(3000, 3030)) + \
        list(range(4000, 4030))
    assert sink.ids() == expected  # every row once: none skipped, none re-read across the restart

    # An overwrite upstream (push_to_hub again replaces the split's files): a clear error by default...
    datasets.Dataset.from_dict({"id": [9000, 9001], "text": ["a", "b"]}).push_to_hub(repo, token=WRITE_TOKEN)
    query = _start(_reader(spark, hub).load(repo), checkpoint, sink)
    with pytest.raises(StreamingQueryException, match=r"UpstreamRewriteError.*deleted or rewrote .*file\(s\) of "
                       r"split 'train'.*on_deleted_files=continue"):
        query.awaitTermination(120)
    # ... or, with on_deleted_files=continue, the new files only.
    query = _start(_reader(spark, hub, on_deleted_files="continue").load(repo), checkpoint, sink)
    try:
        _arrival(sink, [9000, 9001], time.monotonic())
    finally:
        query.stop()
    assert sink.ids() == sorted(expected + [9000, 9001])


@pytest.fixture
def own_hub(tmp_path) -> Iterator[LocalHub]:
    """A hub of this test's own: its counters count this test's requests only."""
    with LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write", READ_TOKEN: "read"}) as hub:
        yield hub


def _publish(hub: LocalHub, repo: str, files: dict[str, tuple[int, int]], create: bool = True) -> str:
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)
    if create:
        api.create_repo(repo, repo_type="dataset", exist_ok=True)
    ops = [CommitOperationAdd(path, parquet_file(rows_table(start, n))) for path, (start, n) in files.items()]
    return api.create_commit(repo, repo_type="dataset", operations=ops, commit_message="data").oid


def _available_now(spark, hub: LocalHub, repo: str, checkpoint: str, **options: Any) -> Batches:
    sink = Batches()
    query = _start(_reader(spark, hub, **options).schema("id long, text string").load(repo), checkpoint, sink,
                   {"availableNow": True})
    query.awaitTermination(120)
    assert query.exception() is None, query.exception()
    return sink


def test_starting_points_and_per_trigger_limits(spark, own_hub, tmp_path) -> None:
    repo = "me/limits"
    first = _publish(own_hub, repo, {"data/train-a0.parquet": (0, 10), "data/train-a1.parquet": (10, 10)})
    _publish(own_hub, repo, {f"data/train-b{i}.parquet": (100 + 10 * i, 10) for i in range(5)}, create=False)
    later = list(range(100, 150))

    assert _available_now(spark, own_hub, repo, str(tmp_path / "e")).ids() == list(range(20)) + later  # earliest
    assert _available_now(spark, own_hub, repo, str(tmp_path / "s"), starting=first).ids() == later  # after a sha
    latest_ck = str(tmp_path / "l")
    assert _available_now(spark, own_hub, repo, latest_ck, starting="latest").ids() == []
    _publish(own_hub, repo, {"data/train-c0.parquet": (500, 5)}, create=False)
    assert _available_now(spark, own_hub, repo, latest_ck, starting="latest").ids() == list(range(500, 505))

    # maxFilesPerTrigger cuts the six new files (of two commits: one trigger sees both) into micro-batches of 2, 2
    # and 2 (Trigger.AvailableNow honours the limit); files are taken in path order, each once.
    limited = _available_now(spark, own_hub, repo, str(tmp_path / "m"), starting=first, maxFilesPerTrigger=2)
    assert [ids for _, ids in limited.nonempty()] == [list(range(100, 120)), list(range(120, 140)),
                                                      list(range(140, 150)) + list(range(500, 505))]
    # maxBytesPerTrigger: files of ~1 KB each, so about one per batch; never less than one file.
    by_bytes = _available_now(spark, own_hub, repo, str(tmp_path / "b"), starting=first, maxBytesPerTrigger="1KB")
    assert len(by_bytes.nonempty()) == 6 and by_bytes.ids() == later + list(range(500, 505))


def test_the_hub_is_polled_on_the_driver_at_most_once_per_trigger(spark, own_hub, tmp_path) -> None:
    repo = "me/polls"
    _publish(own_hub, repo, {"data/train-0.parquet": (0, 10)})
    sink = Batches()
    query = _start(_reader(spark, own_hub).schema("id long, text string").load(repo), str(tmp_path / "ck"), sink,
                   {"processingTime": "500 milliseconds"})
    try:
        wait_for(lambda: sink.ids() == list(range(10)), 120, "the first batch")
        time.sleep(1)
        # Idle: one API call per trigger (the head of main), nothing else.
        before, t = own_hub.counters(), time.monotonic()
        time.sleep(6)
        after, elapsed = own_hub.counters(), time.monotonic() - t
        polls = after["api"]["requests"] - before["api"]["requests"]
        assert 1 <= polls <= elapsed / 0.5 + 1, polls
        assert after["resolve"]["requests"] == before["resolve"]["requests"]
        # A new commit: its trigger lists the new commit once (the previous listing is kept); the tasks read
        # the file (resolve requests), never the API.
        before = own_hub.counters()
        t = time.monotonic()
        _publish(own_hub, repo, {"data/train-1.parquet": (10, 10)}, create=False)
        wait_for(lambda: sink.ids() == list(range(20)), 60, "the second commit's rows")
        after, elapsed = own_hub.counters(), time.monotonic() - t
    finally:
        query.stop()
    commit_api = 2  # create_commit's preupload and commit calls (the commit route counts apart)
    reads = after["api"]["requests"] - before["api"]["requests"] - commit_api
    triggers = elapsed / 0.5 + 1
    assert reads <= triggers + 1, (reads, triggers)  # one poll per trigger + one listing of the new commit


def test_projection_and_filters_reach_the_stream_reader(spark, own_hub, tmp_path) -> None:
    repo = "me/pushdown"
    _publish(own_hub, repo, {"data/train-0.parquet": (0, 100), "data/train-1.parquet": (100, 100)})
    sink = Batches()
    df = _reader(spark, own_hub, columns="id", filters='[["id", ">=", 150]]').load(repo)
    assert df.columns == ["id"]
    query = _start(df, str(tmp_path / "ck"), sink, {"availableNow": True})
    query.awaitTermination(120)
    assert sink.ids() == list(range(150, 200))
    assert all(t.column_names == ["id"] for _, t, _ in sink.seen)
    # split="all": every split's new files, with the `split` column the batch read adds.
    _publish(own_hub, repo, {"data/test-0.parquet": (500, 5)}, create=False)
    sink = Batches()
    query = _start(_reader(spark, own_hub, split="all").load(repo), str(tmp_path / "all"), sink, {"availableNow": True})
    query.awaitTermination(120)
    rows = pa.concat_tables([t for _, t, _ in sink.seen]).sort_by("id")
    assert rows.column_names == ["id", "text", "split"]
    assert rows.column("split").to_pylist() == ["train"] * 200 + ["test"] * 5


def test_stream_options_are_refused_by_a_batch_read_and_bad_values_are_named(spark, hub, api) -> None:
    repo = f"tests/opts-{uuid.uuid4().hex[:8]}"
    _ = api.create_repo(repo, repo_type="dataset")
    _upload(api, repo, "data/train-0.parquet", 0, 5)
    batch = spark.read.format("huggingface").option("endpoint", hub.endpoint).option("maxFilesPerTrigger", 2)
    with pytest.raises(Exception, match="maxfilespertrigger apply to spark.readStream only"):
        batch.load(repo).collect()
    for key, value, message in [("starting", "tomorrow", "expected earliest, latest or a 40-character commit sha"),
                                ("maxFilesPerTrigger", "0", "expected a whole number >= 1"),
                                ("on_deleted_files", "skip", "expected error or continue")]:
        query = _start(_reader(spark, hub, **{key: value}).load(repo), f"/tmp/hfc-{uuid.uuid4().hex}", Batches(),
                       {"availableNow": True})
        with pytest.raises(StreamingQueryException, match=message):
            query.awaitTermination(120)


def test_a_stream_given_its_schema_follows_a_dataset_before_it_has_data(spark, own_hub, tmp_path) -> None:
    from huggingface_hub import HfApi

    repo = "me/empty-at-first"
    HfApi(endpoint=own_hub.endpoint, token=WRITE_TOKEN).create_repo(repo, repo_type="dataset")
    with pytest.raises(Exception, match=r"nothing hfconnect can read \(spark.readStream can follow it before it has "
                                        r"data when given the schema"):
        _reader(spark, own_hub).load(repo)
    checkpoint = str(tmp_path / "ck")
    assert _available_now(spark, own_hub, repo, checkpoint).ids() == []  # no split yet: the stream waits
    _publish(own_hub, repo, {"data/train-0.parquet": (0, 10)}, create=False)
    assert _available_now(spark, own_hub, repo, checkpoint).ids() == list(range(10))
