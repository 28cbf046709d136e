"""df.writeStream.format("huggingface"): one commit per micro-batch, empty batches none, refused modes and options,
a commit refused for its rate. (Driver crashes: tests/stream/test_stream_end_to_end.py.)"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from pyspark.errors import StreamingQueryException

from tests.conftest import WRITE_TOKEN
from tests.data import commits
from tests.stream.common import repo_rows, rows_table, stream_batches, write_inputs

pytestmark = pytest.mark.integration


def _sink_repo() -> str:
    return f"tests/sink-{uuid.uuid4().hex[:8]}"


def _rate_frame(spark, rows_per_batch: int = 50):
    return (spark.readStream.format("rate-micro-batch").option("rowsPerBatch", rows_per_batch).load()
            .selectExpr("value as id", "concat('row ', cast(value as string)) as text"))


def test_available_now_commits_each_batch_and_empty_batches_commit_nothing(spark, hub, api, tmp_path) -> None:
    inputs = tmp_path / "in"
    write_inputs(inputs, [rows_table(i * 100, 100) for i in range(4)])
    repo = _sink_repo()
    source = spark.readStream.schema("id long, text string").option("maxFilesPerTrigger", 1).parquet(str(inputs))
    # Batches 1 and 3 (ids 100-199, 300-399) are filtered out entirely: their micro-batches are empty.
    kept = source.where("floor(id / 100) % 2 = 0")
    query = (kept.writeStream.format("huggingface").option("endpoint", hub.endpoint).option("token", WRITE_TOKEN)
             .option("checkpointLocation", str(tmp_path / "ck")).trigger(availableNow=True).start(repo))
    query.awaitTermination(180)
    assert query.exception() is None
    assert [p["numInputRows"] for p in query.recentProgress if p["numInputRows"]] == [100, 100, 100, 100]
    assert [b for _, b in stream_batches(api, repo)] == [0, 2]  # batches 1 and 3 made no commit
    assert commits(api, repo) == 2  # 2 data commits, and the repo's creation made none
    rows = repo_rows(hub.endpoint, repo).sort_by("id")
    assert rows.column("id").to_pylist() == list(range(100)) + list(range(200, 300))
    card = api.hf_hub_download(repo, "README.md", repo_type="dataset")
    assert "num_examples: 200" in Path(card).read_text()  # the card counts the rows of every batch


def test_split_column_puts_each_batchs_splits_in_that_batchs_one_commit(spark, hub, api, tmp_path) -> None:
    inputs = tmp_path / "in"
    write_inputs(inputs, [rows_table(i * 100, 100) for i in range(2)])
    repo = _sink_repo()
    source = spark.readStream.schema("id long, text string").option("maxFilesPerTrigger", 1).parquet(str(inputs))
    routed = source.selectExpr("id", "text", "case when id % 10 = 0 then 'test' else 'train' end as split")
    query = (routed.writeStream.format("huggingface").option("endpoint", hub.endpoint).option("token", WRITE_TOKEN)
             .option("split_column", "split").option("checkpointLocation", str(tmp_path / "ck"))
             .trigger(availableNow=True).start(repo))
    query.awaitTermination(180)
    assert query.exception() is None
    assert [b for _, b in stream_batches(api, repo)] == [0, 1] and commits(api, repo) == 2  # ONE per batch
    test, train = repo_rows(hub.endpoint, repo, split="test"), repo_rows(hub.endpoint, repo)
    assert test.sort_by("id").column("id").to_pylist() == list(range(0, 200, 10))
    assert train.num_rows == 180 and train.column_names == ["id", "text"]  # the split column is not written
    card = Path(api.hf_hub_download(repo, "README.md", repo_type="dataset")).read_text()
    assert "num_examples: 180" in card and "num_examples: 20" in card


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


def test_a_read_token_fails_the_query_before_any_upload(spark, own_hub, own_api, tmp_path) -> None:
    from tests.conftest import READ_TOKEN

    repo = _sink_repo()
    own_api.create_repo(repo, repo_type="dataset")
    hub, api = own_hub, own_api
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
