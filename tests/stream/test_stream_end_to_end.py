"""Hub dataset A -> transform -> Hub dataset B, both streaming, while a producer keeps committing to A and the
query is restarted in the middle: B ends up with exactly the transformed rows of A.

In the real-Hub mode (302s to expiring signed URLs on another host, rate-limit windows small enough to be hit),
on a hub injecting faults while the query runs (429 bursts, 503s, dropped connections on uploads and on commits
that landed), and with the driver in its own process killed -9 at three points of a micro-batch."""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import CommitOperationAdd, HfApi

from hfconnect.localhub import HubMode, LocalHub
from tests.conftest import READ_TOKEN, WRITE_TOKEN
from tests.stream.common import Driver, parquet_file, repo_rows, rows_table, stream_batches, wait_for

pytestmark = pytest.mark.integration

SOURCE, SINK = "me/a", "me/b"
PRODUCER_TOKEN = "hf_test_producer_51c0"  # the upstream writer's own token: its own rate-limit windows
CHECKER_TOKEN = False  # the test's own reads of B, anonymous (B is public): limited per IP, counted apart
TOKENS = {WRITE_TOKEN: "write", READ_TOKEN: "read", PRODUCER_TOKEN: "write"}
COMMITS, ROWS = 6, 40

# Faults while the query runs, per phase (each rule also caps how often it fires). Every rule names what only
# the streaming query does: its source's reads of A (GETs: the producer only POSTs its commits to A) and its
# sink's uploads and commits to B (the test's own checks read B).
FIRST_RUN_FAULTS = [
    {"route": "api", "action": "status", "status": 429, "retry_after": 0.2, "every": 1, "times": 5,  # a burst
     "match": SOURCE, "method": "GET"},
    {"route": "resolve", "action": "status", "status": 503, "every": 3, "times": 6, "match": SOURCE},
    {"route": "upload", "action": "reset", "every": 2, "times": 3, "match": SINK},
    {"route": "commit", "action": "status", "status": 503, "every": 1, "times": 1, "match": SINK},
]
SECOND_RUN_FAULTS = [
    {"route": "commit", "action": "reset_after", "every": 1, "times": 1, "match": SINK},  # landed, answer lost
    {"route": "resolve", "action": "status", "status": 429, "retry_after": 0.2, "every": 1, "times": 4,
     "match": SOURCE},
    {"route": "api", "action": "reset", "every": 5, "times": 3, "match": SOURCE, "method": "GET"},
]


def commit_part(api: HfApi, i: int, repo: str = SOURCE) -> None:
    """Part i of A: ROWS rows in one Parquet file, one commit, as an upstream writer makes them."""
    op = CommitOperationAdd(f"data/train-{i:04d}.parquet", parquet_file(rows_table(i * ROWS, ROWS)))
    api.create_commit(repo, repo_type="dataset", operations=[op], commit_message=f"part {i}")


class Producer(threading.Thread):
    """Commits parts of A one after another, half a second apart, while the query runs."""

    def __init__(self, api: HfApi, parts: range) -> None:
        super().__init__(daemon=True)
        self.api, self.parts = api, parts
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for i in self.parts:
                commit_part(self.api, i)
                time.sleep(0.5)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc


def _pipeline(spark, hub: LocalHub, checkpoint: str):
    source = (spark.readStream.format("huggingface").option("endpoint", hub.endpoint).option("token", WRITE_TOKEN)
              .load(SOURCE))
    transformed = source.selectExpr("id", "upper(text) as text", "id * 2 as doubled")
    return (transformed.writeStream.format("huggingface").option("endpoint", hub.endpoint)
            .option("token", WRITE_TOKEN).option("checkpointLocation", checkpoint)
            .trigger(processingTime="1 second").start(SINK))


def _sink_ids(checker: HfApi) -> list[int]:
    try:
        return sorted(repo_rows(checker.endpoint, SINK, CHECKER_TOKEN).column("id").to_pylist())
    except Exception:  # noqa: BLE001 - B not there yet
        return []


def _fired(hub: LocalHub) -> list[int]:
    """How often each active fault rule fired (the hub's admin API)."""
    with urllib.request.urlopen(f"{hub.endpoint}/_admin/faults", timeout=30) as answer:
        return [rule["fired"] for rule in json.loads(answer.read())["rules"]]


def run_end_to_end(spark, hub: LocalHub, tmp_path, faults: tuple[list[dict[str, Any]], list[dict[str, Any]]]
                   = ([], [])) -> list[int]:
    """Parts of A are committed while the query runs, while it is down, and after its restart. Returns how often
    each fault rule fired (the first run's rules, then the second's)."""
    api = HfApi(endpoint=hub.endpoint, token=PRODUCER_TOKEN)
    checker = HfApi(endpoint=hub.endpoint, token=CHECKER_TOKEN)
    api.create_repo(SOURCE, repo_type="dataset")
    commit_part(api, 0)  # the query starts on a dataset that has data (its schema comes from it)
    checkpoint = str(tmp_path / "checkpoint")
    query = _pipeline(spark, hub, checkpoint)
    hub.set_faults(faults[0])
    producer = Producer(api, range(1, 3))
    producer.start()
    try:
        wait_for(lambda: len(stream_batches(checker, SINK)) >= 1 or query.exception(), 180, "a first batch in B")
        producer.join(60)
        assert producer.error is None, producer.error
    finally:
        query.stop()  # the restart in the middle
    assert query.exception() is None, query.exception()
    fired = _fired(hub)
    hub.clear_faults()
    commit_part(api, 3)  # while the query is down
    hub.set_faults(faults[1])
    query = _pipeline(spark, hub, checkpoint)
    producer = Producer(api, range(4, COMMITS))
    producer.start()
    everything = list(range(COMMITS * ROWS))
    try:
        producer.join(120)
        assert producer.error is None, producer.error
        wait_for(lambda: len(_sink_ids(checker)) >= len(everything) or query.exception(), 180, "every row of A in B")
        assert query.exception() is None, query.exception()
        fired += _fired(hub)
    finally:
        query.stop()
        hub.clear_faults()
    rows = repo_rows(hub.endpoint, SINK, CHECKER_TOKEN).sort_by("id")
    ids = rows.column("id").to_pylist()
    assert ids == everything  # every row of A exactly once
    assert rows.column("text").to_pylist() == [f"ROW {i}" for i in ids]
    assert rows.column("doubled").to_pylist() == [2 * i for i in ids]
    batches = stream_batches(checker, SINK)
    assert len({b for _, b in batches}) == len(batches)  # no batch committed twice
    assert len({q for q, _ in batches}) == 1  # one query, across the restart
    return fired


@pytest.fixture
def real_mode_hub(tmp_path) -> Iterator[LocalHub]:
    """Redirects to expiring signed URLs on 127.0.0.2 and 4-second rate-limit windows small enough to be hit."""
    mode = HubMode.real_hub(window=4.0, quotas={"api": 10, "resolvers": 20})
    with LocalHub(tmp_path / "hub", tokens=TOKENS, mode=mode) as hub:
        yield hub


def test_a_to_b_with_a_restart_in_the_real_hub_mode(spark, real_mode_hub, tmp_path) -> None:
    run_end_to_end(spark, real_mode_hub, tmp_path)
    counters = real_mode_hub.counters()
    other_host = [counters["cdn"], counters["bridge"]]  # signed URLs: the CDN (LFS files), the cas-bridge (Xet)
    assert sum(o["requests"] for o in other_host) > 0 and sum(o["authorized"] for o in other_host) == 0
    # the query's (token) windows were hit, not only the anonymous checks'
    assert sum(counters["rate_limits"][b]["limited"] - counters["rate_limits"][b]["anonymous_limited"]
               for b in ("api", "resolvers")) > 0


def test_a_to_b_with_faults_during_streaming(spark, tmp_path) -> None:
    with LocalHub(tmp_path / "hub", tokens=TOKENS) as hub:
        fired = run_end_to_end(spark, hub, tmp_path, (FIRST_RUN_FAULTS, SECOND_RUN_FAULTS))
    assert all(fired), list(zip(FIRST_RUN_FAULTS + SECOND_RUN_FAULTS, fired, strict=True))  # every fault happened


def _ids(directory: Path) -> set[int]:
    return {int(p.name) for p in directory.iterdir() if p.name.isdigit()} if directory.is_dir() else set()


def test_driver_killed_at_every_point_of_a_batch_b_gets_every_row_of_a_once(hub, tmp_path) -> None:
    """A Spark driver streaming A -> transform -> B in its own process, one file of A per micro-batch, killed -9
    three times and restarted from its checkpoint each time: (1) with a batch uploaded but not committed (the
    sink's test hook stops it just before the commit), while more commits land upstream; (2) right after a
    batch's Hub commit, before Spark's checkpoint records it; (3) while a later batch runs. A last run with
    Trigger.AvailableNow finishes. Every row of A is in B once, and every batch was committed once."""
    from hfconnect.spark.stream_writer import PAUSE_ENV

    source, sink = f"tests/e2e-{uuid.uuid4().hex[:8]}", f"tests/e2e-{uuid.uuid4().hex[:8]}"
    api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)
    api.create_repo(source, repo_type="dataset")
    ops = [CommitOperationAdd(f"data/train-{i:04d}.parquet", parquet_file(rows_table(i * ROWS, ROWS)))
           for i in range(6)]
    api.create_commit(source, repo_type="dataset", operations=ops, commit_message="parts 0-5")
    checkpoint = tmp_path / "ck"
    config = {"endpoint": hub.endpoint, "token": WRITE_TOKEN, "checkpoint": str(checkpoint), "sink_repo": sink,
              "source": {"repo": source, "maxFilesPerTrigger": 1}, "transform": True, "trigger": 1}

    # 1. Batch 1 planned, uploaded, not committed; two more commits upstream while the driver is down.
    paused = tmp_path / "paused-1"
    run = Driver(config, tmp_path / "run1.log", env={PAUSE_ENV: f"before:1:{paused}"})
    wait_for(paused.exists, 180, "batch 1 to stop before its commit", run)
    run.kill()
    landed = stream_batches(api, sink)
    query = landed[0][0]
    assert landed == [(query, 0)] and not (checkpoint / "commits" / "1").exists()
    commit_part(api, 6, source)
    commit_part(api, 7, source)

    # 2. Batch 1 replayed (the same file of A: its offsets are logged) and committed; killed right after batch
    #    2's Hub commit.
    paused = tmp_path / "paused-2"
    run = Driver(config, tmp_path / "run2.log", env={PAUSE_ENV: f"2:{paused}"})
    wait_for(paused.exists, 180, "batch 2 to stop after its commit", run)
    run.kill()
    assert stream_batches(api, sink) == [(query, 0), (query, 1), (query, 2)]
    assert not (checkpoint / "commits" / "2").exists()  # Spark never recorded batch 2
    assert "the Hub takes about 100 commits per hour per repo" in run.output()  # 1 s triggers: warned

    # 3. Batch 2 replayed and found on the Hub; killed while batch 4 or later runs (offsets logged, no commit).
    run = Driver(config, tmp_path / "run3.log")
    wait_for(lambda: f"batch 2 of streaming query {query} is already on" in run.output(), 180, "batch 2's replay", run)
    wait_for(lambda: {i for i in _ids(checkpoint / "offsets") - _ids(checkpoint / "commits") if i >= 4}, 180,
             "batch 4 or later in flight", run)
    time.sleep(random.Random(7).uniform(0.0, 0.5))  # somewhere inside it
    run.kill()

    # 4. Trigger.AvailableNow finishes what A holds, and stops.
    run = Driver({**config, "trigger": "available_now"}, tmp_path / "run4.log")
    assert run.wait(240) == 0, run.output()[-4000:]
    rows = repo_rows(hub.endpoint, sink).sort_by("id")
    assert rows.column("id").to_pylist() == list(range(8 * ROWS))  # every row of A exactly once
    assert rows.column("text").to_pylist() == [f"ROW {i}" for i in range(8 * ROWS)]
    assert rows.column("doubled").to_pylist() == [2 * i for i in range(8 * ROWS)]
    assert stream_batches(api, sink) == [(query, b) for b in range(8)]  # one batch per file of A, each once
