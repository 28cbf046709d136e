"""df.writeStream.format("huggingface"): one commit per micro-batch, exactly once across driver kills.

The crash test runs the driver in its own process and kills it -9 twice: right after a batch's Hub commit and
before Spark's checkpoint (the sink's test hook makes it wait there), and at a moment picked by a timer while
batches run; after each kill it restarts the query from the checkpoint."""

from __future__ import annotations

import random
import re
import time
import uuid
from pathlib import Path

import pytest
from pyspark.errors import StreamingQueryException

from hfconnect.spark.stream_sink import PAUSE_ENV
from tests.conftest import WRITE_TOKEN
from tests.stream.common import Driver, repo_rows, rows_table, stream_batches, wait_for, write_inputs

pytestmark = pytest.mark.integration

FILES = 10
ROWS = 400


def _sink_repo() -> str:
    return f"tests/sink-{uuid.uuid4().hex[:8]}"


def test_driver_killed_after_the_hub_commit_and_mid_stream_every_row_lands_once(hub, api, tmp_path) -> None:
    inputs = tmp_path / "in"
    write_inputs(inputs, [rows_table(i * ROWS, ROWS) for i in range(FILES)])
    repo, checkpoint = _sink_repo(), str(tmp_path / "checkpoint")
    config = {"endpoint": hub.endpoint, "token": WRITE_TOKEN, "checkpoint": checkpoint, "sink_repo": repo,
              "source": {"files": str(inputs)}, "trigger": 1}

    # 1. Killed right after batch 2's Hub commit, before Spark records the batch as done.
    paused = tmp_path / "paused"
    first = Driver(config, tmp_path / "run1.log", env={PAUSE_ENV: f"2:{paused}"})
    wait_for(paused.exists, 180, "the sink to pause after batch 2's commit", first)
    first.kill()
    landed = stream_batches(api, repo)
    query = landed[0][0]
    assert landed == [(query, 0), (query, 1), (query, 2)]
    assert not (tmp_path / "checkpoint" / "commits" / "2").exists()  # Spark never recorded batch 2
    assert "the Hub takes about 100 commits per hour per repo" in first.output()  # 1 s triggers: warned

    # 2. Restarted: batch 2 runs again and is found on the Hub; then killed while a later batch is in flight
    #    (Spark has logged its offsets, not its commit: its tasks are writing, uploading or committing).
    second = Driver(config, tmp_path / "run2.log")
    wait_for(lambda: len(stream_batches(api, repo)) >= 5, 180, "two more batches after the restart", second)
    assert f"batch 2 of streaming query {query} is already on" in second.output()
    offsets, commits = Path(checkpoint) / "offsets", Path(checkpoint) / "commits"
    wait_for(lambda: [i for i in set(_ids(offsets)) - set(_ids(commits)) if i >= 5], 120,
             "batch 5 or later in flight", second)
    time.sleep(random.Random(7).uniform(0.0, 0.5))  # somewhere inside it
    second.kill()

    # 3. Restarted once more with Trigger.AvailableNow: it finishes the input and stops.
    third = Driver({**config, "trigger": "available_now"}, tmp_path / "run3.log")
    assert third.wait(240) == 0, third.output()[-4000:]
    batches = stream_batches(api, repo)
    assert [b for _, b in batches] == list(range(FILES))  # one commit per input file, none twice
    assert {q for q, _ in batches} == {query}  # the same query across restarts (its id is in the checkpoint)
    rows = repo_rows(hub.endpoint, repo).sort_by("id")
    assert rows.column("id").to_pylist() == list(range(FILES * ROWS))  # every input row exactly once
    assert rows.column("text").to_pylist() == [f"row {i}" for i in range(FILES * ROWS)]


def _ids(directory: Path) -> list[int]:
    return [int(p.name) for p in directory.iterdir() if p.name.isdigit()] if directory.is_dir() else []


def _rate_frame(spark, rows_per_batch: int = 50):
    return (spark.readStream.format("rate-micro-batch").option("rowsPerBatch", rows_per_batch).load()
            .selectExpr("value as id", "concat('row ', cast(value as string)) as text"))


def test_available_now_commits_each_batch_and_empty_batches_commit_nothing(spark, hub, api, tmp_path) -> None:
    inputs = tmp_path / "in"
    write_inputs(inputs, [rows_table(i * 100, 100) for i in range(4)])
    repo = _sink_repo()
    commits_before = hub.counters()["commits"]
    source = spark.readStream.schema("id long, text string").option("maxFilesPerTrigger", 1).parquet(str(inputs))
    # Batches 1 and 3 (ids 100-199, 300-399) are filtered out entirely: their micro-batches are empty.
    kept = source.where("floor(id / 100) % 2 = 0")
    query = (kept.writeStream.format("huggingface").option("endpoint", hub.endpoint).option("token", WRITE_TOKEN)
             .option("checkpointLocation", str(tmp_path / "ck")).trigger(availableNow=True).start(repo))
    query.awaitTermination(180)
    assert query.exception() is None
    assert [p["numInputRows"] for p in query.recentProgress if p["numInputRows"]] == [100, 100, 100, 100]
    assert [b for _, b in stream_batches(api, repo)] == [0, 2]  # batches 1 and 3 made no commit
    # 2 data commits, and the repo's creation made none.
    assert hub.counters()["commits"] - commits_before == 2
    rows = repo_rows(hub.endpoint, repo).sort_by("id")
    assert rows.column("id").to_pylist() == list(range(100)) + list(range(200, 300))
    card = api.hf_hub_download(repo, "README.md", repo_type="dataset")
    assert "num_examples: 200" in Path(card).read_text()  # the card counts the rows of every batch


def test_output_modes_other_than_append_and_batch_only_options_are_refused(spark, hub, tmp_path) -> None:
    counts = _rate_frame(spark).groupBy().count()
    for mode, message in [("complete", "outputMode 'complete' is not supported; use outputMode('append')"),
                          ("update", "does not support Update mode")]:
        query = (counts.writeStream.format("huggingface").outputMode(mode).option("endpoint", hub.endpoint)
                 .option("token", WRITE_TOKEN).option("checkpointLocation", str(tmp_path / mode))
                 .trigger(availableNow=True).start(_sink_repo()))
        with pytest.raises(StreamingQueryException, match=re.escape(message)):
            query.awaitTermination(120)
    for key, value, message in [("mode", "overwrite", "option mode='overwrite': a streaming write appends"),
                                ("create_pr", "true", "option create_pr=true: a streaming write commits every"),
                                ("max_file_sise", "1MB", "unknown option 'max_file_sise'")]:
        query = (_rate_frame(spark).writeStream.format("huggingface").option("endpoint", hub.endpoint)
                 .option("token", WRITE_TOKEN).option(key, value)
                 .option("checkpointLocation", str(tmp_path / key)).trigger(availableNow=True).start(_sink_repo()))
        with pytest.raises(StreamingQueryException, match=re.escape(message)):
            query.awaitTermination(120)


def test_a_read_token_fails_the_query_before_any_upload(spark, hub, api, tmp_path) -> None:
    from tests.conftest import READ_TOKEN

    repo = _sink_repo()
    api.create_repo(repo, repo_type="dataset")
    before = hub.counters()["upload"]["requests"]
    query = (_rate_frame(spark).writeStream.format("huggingface").option("endpoint", hub.endpoint)
             .option("token", READ_TOKEN).option("checkpointLocation", str(tmp_path / "ck"))
             .trigger(availableNow=True).start(repo))
    with pytest.raises(StreamingQueryException, match="read-only: writing needs a write token"):
        query.awaitTermination(120)
    assert hub.counters()["upload"]["requests"] == before
    assert stream_batches(api, repo) == []


def test_a_commit_refused_for_its_rate_fails_the_batch_and_a_restart_commits_it_once(spark, tmp_path) -> None:
    from huggingface_hub import HfApi

    from hfconnect.localhub import HubMode, LocalHub

    inputs = tmp_path / "in"
    write_inputs(inputs, [rows_table(i * 100, 100) for i in range(4)])
    mode = HubMode.real_hub(commit_quota=2)  # two commits per repo per hour
    with LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write"}, mode=mode) as hub:
        api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)

        def run():
            source = spark.readStream.schema("id long, text string").option("maxFilesPerTrigger", 1)
            return (source.parquet(str(inputs)).writeStream.format("huggingface").option("endpoint", hub.endpoint)
                    .option("token", WRITE_TOKEN).option("checkpointLocation", str(tmp_path / "ck"))
                    .trigger(availableNow=True).start("me/limited"))

        query = run()
        with pytest.raises(StreamingQueryException) as failure:
            query.awaitTermination(180)
        message = str(failure.value)
        assert "batch 2 of streaming query" in message and "was not committed to dataset me/limited@main" in message
        assert "'commits' rate limit is used up" in message and "restarting it from its checkpoint" in message
        assert [b for _, b in stream_batches(api, "me/limited")] == [0, 1]
        hub.reset_limits()  # the window is over
        query = run()
        query.awaitTermination(180)
        assert query.exception() is None, query.exception()
        batches = stream_batches(api, "me/limited")
        assert [b for _, b in batches] == [0, 1, 2, 3]
        assert sorted(repo_rows(hub.endpoint, "me/limited").column("id").to_pylist()) == list(range(400))
