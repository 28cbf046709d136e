"""hfconnect.spark.write(df, repo, ...): the format's write through mapInArrow; the same files, one commit, modes,
failures and retries exactly once."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from pyspark.errors import PythonException

from hfconnect.errors import AuthenticationError, HfConnectError, OptionError, SchemaMismatchError
from tests.conftest import READ_TOKEN, WRITE_TOKEN
from tests.data import commits
from tests.write.test_spark_write import (
    _frame,
    _head,
    _parquet_files,
    _repo,
    _write,
    failing_frame,
    run_flaky_job,
)

pytestmark = pytest.mark.integration


def _fwrite(df, hub, repo: str, **options):
    import hfconnect.spark as hs

    return hs.write(df, repo, endpoint=hub.endpoint, token=WRITE_TOKEN, **options)


def test_same_files_as_the_format_in_one_commit(spark, hub, api) -> None:
    import datasets

    df = _frame(spark, 30_000)
    ours, theirs = _repo(), _repo()
    result = _fwrite(df, hub, ours, split="train", row_group_bytes="64KiB")
    _write(df, hub, theirs, split="train", row_group_bytes="64KiB")
    assert result.commit_sha == _head(api, ours) and result.rows == 30_000
    assert commits(api, ours) == commits(api, theirs)  # the repo's creation and ONE commit
    assert _parquet_files(api, ours) == _parquet_files(api, theirs) == [
        f"data/train-0000{i}-of-00003.parquet" for i in range(3)]
    for path in _parquet_files(api, ours):
        mine = pq.ParquetFile(api.hf_hub_download(ours, path, repo_type="dataset"))
        other = pq.ParquetFile(api.hf_hub_download(theirs, path, repo_type="dataset"))
        assert mine.schema_arrow == other.schema_arrow and mine.read().equals(other.read()), path
        assert mine.metadata.num_row_groups == other.metadata.num_row_groups > 1
        assert mine.metadata.row_group(0).column(0).has_column_index
    loaded = datasets.load_dataset(ours, split="train")
    assert sorted(loaded["id"]) == list(range(30_000))


def test_modes_and_split_column(spark, hub, api) -> None:
    repo = _repo()
    _fwrite(_frame(spark, 100), hub, repo)
    sha = _head(api, repo)
    with pytest.raises(HfConnectError, match=rf"{repo} config 'default' split 'train' already has 3 file\(s\) and "
                                             r"mode is 'error'"):
        _fwrite(_frame(spark, 10), hub, repo, mode="error")
    assert _fwrite(_frame(spark, 10), hub, repo, mode="ignore").commit_sha is None
    assert _head(api, repo) == sha
    _fwrite(_frame(spark, 50, 1_000, parts=2), hub, repo, mode="overwrite")
    read = spark.read.format("huggingface").option("endpoint", hub.endpoint)
    assert sorted(r.id for r in read.load(repo).select("id").collect()) == list(range(1_000, 1_050))
    narrow = _frame(spark, 20, 2_000, parts=1).selectExpr("cast(id as int) as id", "text", "label", "score")
    _fwrite(narrow, hub, repo)  # int rows into the split's bigint files: written as bigint
    assert read.load(repo).count() == 70 and dict(read.load(repo).dtypes)["id"] == "bigint"
    routed = _frame(spark, 90).selectExpr("*", "case when id % 3 = 0 then 'test' else 'train' end as split")
    result = _fwrite(routed, hub, repo, mode="overwrite", split_column="split")
    assert dict(result.split_rows) == {"test": 30, "train": 60}
    assert read.option("split", "test").load(repo).columns == ["id", "text", "label", "score"]


def test_bad_input_fails_on_the_driver_before_any_upload(spark, own_hub, own_api) -> None:
    import hfconnect.spark as hs

    repo = _repo()
    _fwrite(_frame(spark, 10), own_hub, repo)
    sha = _head(own_api, repo)
    own_hub.reset_counters()
    with pytest.raises(OptionError, match=r"unknown option 'rowgroupsize'; valid options: cdc, commit_description"):
        _fwrite(_frame(spark, 10), own_hub, repo, rowgroupsize="1MB")
    with pytest.raises(OptionError, match=r"mode 'sometimes' is not one of append, overwrite, error, errorifexists"):
        _fwrite(_frame(spark, 10), own_hub, repo, mode="sometimes")
    with pytest.raises(SchemaMismatchError, match=rf"cannot append to {repo} split 'train': its files have columns"):
        _fwrite(spark.range(5).selectExpr("cast(id as string) as id"), own_hub, repo)
    with pytest.raises(SchemaMismatchError, match=r"new rows have \[id:int64,text:string,label:int64,score:"):
        _fwrite(_frame(spark, 5).selectExpr("id", "text", "cast(label as long) as label", "score"), own_hub, repo)
    with pytest.raises(AuthenticationError, match=rf"the token given for {repo} is read-only"):
        hs.write(_frame(spark, 10), repo, endpoint=own_hub.endpoint, token=READ_TOKEN)
    counters = own_hub.counters()
    assert counters["upload"]["requests"] == 0 and counters["commits"] == 0
    assert _head(own_api, repo) == sha


def test_failed_job_commits_nothing_and_faults_are_survived_once(spark, own_hub, own_api) -> None:
    repo = _repo()
    _fwrite(_frame(spark, 100), own_hub, repo)
    sha, before = _head(own_api, repo), commits(own_api, repo)
    with pytest.raises(PythonException, match="ValueError: injected failure in one task"):
        _fwrite(failing_frame(spark), own_hub, repo)
    assert _head(own_api, repo) == sha and commits(own_api, repo) == before
    own_hub.set_faults([{"route": "upload", "action": "status", "status": 503, "every": 3},
                        {"route": "commit", "action": "reset_after", "times": 1}])
    _fwrite(_frame(spark, 2_000, parts=2), own_hub, repo)
    injected = own_hub.counters()
    own_hub.clear_faults()
    assert injected["upload"]["faults"] > 0 and injected["commit"]["faults"] == 1
    assert commits(own_api, repo) - before == 1  # the commit landed once although its answer was lost
    got = spark.read.format("huggingface").option("endpoint", own_hub.endpoint).load(repo)
    assert got.count() == 2_100 and got.select("id").distinct().count() == 2_000


def test_retried_and_speculative_tasks_land_exactly_once(hub, api) -> None:
    """A task that fails on its first attempt (Spark retries it), with speculation on: rows exactly once."""
    repo = _repo()
    before = commits(api, repo)
    out = run_flaky_job(hub, repo, 'result = hs.write(df, repo, endpoint=endpoint, token=token)\n'
                                   'print("RESULT", result.rows, len(result.files), flush=True)')
    assert "RESULT 40000 4" in out
    assert commits(api, repo) - before == 1
    assert len(_parquet_files(api, repo)) == 4
