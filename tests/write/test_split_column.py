"""Several splits in ONE commit (`split_column`), from Spark and from Daft: one commit in the history, every
client sees the three splits, the card lists them, overwrite replaces exactly the splits written, and bad input
commits nothing."""

from __future__ import annotations

import uuid
from pathlib import Path

import daft
import pytest
from pyspark.errors import AnalysisException, PythonException

from hfconnect.daft import write_huggingface
from hfconnect.errors import OptionError
from hfconnect.write.card import split_card
from tests.conftest import WRITE_TOKEN
from tests.data import commits

pytestmark = pytest.mark.integration

SPLIT_OF = "case when id % 10 < 7 then 'train' when id % 10 < 9 then 'validation' else 'test' end"
EXPECTED = {"train": 7_000, "validation": 2_000, "test": 1_000}  # of ids 0..9999


def _repo() -> str:
    return f"tests/splits-{uuid.uuid4().hex[:10]}"


def _frame(spark, n: int = 10_000, parts: int = 3, split_of: str = SPLIT_OF):
    """Every partition holds rows of every split: each task routes rows to three splits."""
    return (spark.range(0, n, numPartitions=parts)
            .selectExpr("id", "concat('row ', cast(id as string)) as text", f"{split_of} as split"))


def _write(df, hub, repo: str, save_mode: str = "overwrite", **options) -> None:
    """Spark's .mode() takes append/overwrite only; the `mode` option adds error and ignore."""
    writer = (df.write.format("huggingface").mode(save_mode).option("endpoint", hub.endpoint)
              .option("token", WRITE_TOKEN).option("split_column", "split"))
    for key, value in options.items():
        writer = writer.option(key, value)
    writer.save(repo)


def _commits(api, repo: str) -> list[str]:
    return [c.commit_id for c in api.list_repo_commits(repo, repo_type="dataset")]


def _card_splits(api, repo: str) -> dict[str, int]:
    from huggingface_hub import hf_hub_download

    path = hf_hub_download(repo, "README.md", repo_type="dataset", revision=api.dataset_info(repo).sha)
    meta, _ = split_card(Path(path).read_text())
    return {s["name"]: s["num_examples"] for s in meta["dataset_info"]["splits"]}


def _parquet(api, repo: str) -> list[str]:
    return sorted(f for f in api.list_repo_files(repo, repo_type="dataset") if f.endswith(".parquet"))


def test_spark_writes_three_splits_in_one_commit(spark, hub, api) -> None:
    import datasets

    repo = _repo()
    api.create_repo(repo, repo_type="dataset")
    history = _commits(api, repo)
    before = commits(api, repo)
    _write(_frame(spark), hub, repo, commit_description="three splits from the warehouse")
    assert commits(api, repo) - before == 1  # on any ref
    assert len(_commits(api, repo)) == len(history) + 1  # ONE new commit in the history
    [commit] = api.list_repo_commits(repo, repo_type="dataset")[:1]
    assert commit.title == "hfconnect: overwrite 10000 rows to default/train,validation,test"
    assert "three splits from the warehouse" in commit.message and "hfconnect-job-id: " in commit.message
    assert _parquet(api, repo) == [f"data/{s}-0000{i}-of-00003.parquet" for s in ("test", "train", "validation")
                                   for i in range(3)]  # each of the 3 tasks wrote a file of each split
    loaded = datasets.load_dataset(repo)
    assert {s: loaded[s].num_rows for s in loaded} == EXPECTED
    assert loaded["train"].column_names == ["id", "text"]  # the split column is not written
    assert sorted(loaded["test"]["id"]) == list(range(9, 10_000, 10))
    assert _card_splits(api, repo) == EXPECTED
    read = spark.read.format("huggingface").option("endpoint", hub.endpoint).option("split", "all").load(repo)
    assert {r["split"]: r["count"] for r in read.groupBy("split").count().collect()} == EXPECTED


def test_spark_overwrite_replaces_exactly_the_splits_written(spark, hub, api) -> None:
    import datasets

    repo = _repo()
    _write(_frame(spark), hub, repo)
    validation = [f for f in _parquet(api, repo) if "/validation-" in f]
    # train and test again, from one task each; validation is not among the rows, so it stays as it was
    again = _frame(spark, 2_000, parts=1, split_of="case when id < 1500 then 'train' else 'test' end")
    _write(again, hub, repo)
    files = _parquet(api, repo)
    assert [f for f in files if "/validation-" in f] == validation
    assert [f for f in files if "/validation-" not in f] == ["data/test-00000-of-00001.parquet",
                                                            "data/train-00000-of-00001.parquet"]
    loaded = datasets.load_dataset(repo)
    assert {s: loaded[s].num_rows for s in loaded} == {"train": 1_500, "validation": 2_000, "test": 500}
    assert _card_splits(api, repo) == {"train": 1_500, "validation": 2_000, "test": 500}
    # append adds next to each split's files, still one commit
    history = len(_commits(api, repo))
    _write(_frame(spark, 20, parts=2), hub, repo, save_mode="append")
    assert len(_commits(api, repo)) == history + 1
    assert _card_splits(api, repo) == {"train": 1_514, "validation": 2_004, "test": 502}
    # new columns for train and test while validation keeps the old ones: the config would not load; refused
    labelled = again.selectExpr("id", "text", "'x' as label", "split")
    with pytest.raises(Exception, match=r"cannot overwrite tests/splits-\w+ splits test, train of config 'default': "
                                        r"the config's split 'validation' keeps files with columns "
                                        r"\[id:int64,text:string\] but the new rows have "
                                        r"\[id:int64,text:string,label:string\]"):
        _write(labelled, hub, repo)
    assert len(_commits(api, repo)) == history + 1
    assert {s: n.num_rows for s, n in datasets.load_dataset(repo).items()} == {"train": 1_514, "validation": 2_004,
                                                                               "test": 502}


@pytest.mark.parametrize(("split_of", "error"), [
    ("case when id = 4321 then 'train set' else 'train' end",
     r"split_column 'split' holds 'train set', which is not a valid split name"),
    ("case when id = 4321 then null else 'test' end", r"split_column 'split' is null in some rows"),
    ("case when id = 4321 then 'all' else 'test' end", r"split_column 'split' holds 'all', which is not a valid"),
])
def test_spark_a_bad_split_value_fails_the_job_and_commits_nothing(spark, hub, api, split_of: str,
                                                                   error: str) -> None:
    repo = _repo()
    _write(_frame(spark, 100), hub, repo)
    sha = api.dataset_info(repo).sha
    with pytest.raises(PythonException, match=rf"hfconnect\.errors\.OptionError: {error}"):
        _write(_frame(spark, 5_000, split_of=split_of), hub, repo)
    assert api.dataset_info(repo).sha == sha


def test_spark_a_missing_or_non_string_split_column_fails_before_any_upload(spark, own_hub, own_api) -> None:
    hub, api = own_hub, own_api  # a hub of this test's own: its upload counter
    repo = _repo()
    _write(_frame(spark, 100), hub, repo)
    sha = api.dataset_info(repo).sha
    uploads = hub.counters()["upload"]["requests"]
    with pytest.raises(AnalysisException, match=r"hfconnect\.errors\.OptionError: split_column 'split' is not a "
                                                r"column of the data; its columns are: id, text\."):
        _write(_frame(spark, 100).drop("split"), hub, repo)
    with pytest.raises(AnalysisException, match=r"hfconnect\.errors\.OptionError: split_column 'split' has type "
                                                r"int64: it must hold split names as strings"):
        _write(_frame(spark, 100).selectExpr("id", "text", "id % 3 as split"), hub, repo)
    assert hub.counters()["upload"]["requests"] == uploads
    assert api.dataset_info(repo).sha == sha


def test_spark_error_and_ignore_modes_look_at_every_split_of_the_config(spark, hub, api) -> None:
    repo = _repo()
    _write(_frame(spark, 100, split_of="'test'"), hub, repo)
    sha = api.dataset_info(repo).sha
    with pytest.raises(AnalysisException, match=rf"{repo} config 'default' split 'test' already has 3 file\(s\) and "
                                                r"mode is 'error'"):
        _write(_frame(spark, 100, split_of="'train'"), hub, repo, save_mode="append", mode="error")
    _write(_frame(spark, 100, split_of="'train'"), hub, repo, save_mode="append", mode="ignore")
    assert api.dataset_info(repo).sha == sha


def test_daft_writes_three_splits_in_one_commit_and_overwrites_exactly_those(hub, api) -> None:
    import datasets

    repo = _repo()
    ids = list(range(10_000))
    names = ["train" if i % 10 < 7 else "validation" if i % 10 < 9 else "test" for i in ids]
    df = daft.from_pydict({"id": ids, "text": [f"row {i}" for i in ids], "split": names})
    result = write_huggingface(df, repo, token=WRITE_TOKEN, endpoint=hub.endpoint, split_column="split",
                               mode="overwrite")
    assert commits(api, repo) == 1  # the job's ONE commit (creating the repo is none)
    assert result.rows == 10_000 and dict(result.split_rows) == EXPECTED
    assert [c.commit_id for c in api.list_repo_commits(repo, repo_type="dataset")][0] == result.commit_sha
    loaded = datasets.load_dataset(repo)
    assert {s: loaded[s].num_rows for s in loaded} == EXPECTED and loaded["test"].column_names == ["id", "text"]
    assert _card_splits(api, repo) == EXPECTED
    validation = [f for f in _parquet(api, repo) if "/validation-" in f]
    again = daft.from_pydict({"id": [1, 2, 3], "text": ["a", "b", "c"], "split": ["train", "test", "test"]})
    result = write_huggingface(again, repo, token=WRITE_TOKEN, endpoint=hub.endpoint, split_column="split",
                               mode="overwrite")
    assert sorted(result.files) == ["data/test-00000-of-00001.parquet", "data/train-00000-of-00001.parquet"]
    assert [f for f in _parquet(api, repo) if "/validation-" in f] == validation
    assert _card_splits(api, repo) == {"train": 1, "validation": 2_000, "test": 2}


def test_daft_bad_split_input_commits_nothing(hub, api) -> None:
    repo = _repo()
    write_huggingface(daft.from_pydict({"id": [1], "split": ["train"]}), repo, token=WRITE_TOKEN,
                      endpoint=hub.endpoint, split_column="split")
    sha = api.dataset_info(repo).sha
    with pytest.raises(OptionError, match=r"^split_column 'part' is not a column of the data; its columns are: id, "
                                          r"split\."):
        write_huggingface(daft.from_pydict({"id": [1], "split": ["x"]}), repo, token=WRITE_TOKEN,
                          endpoint=hub.endpoint, split_column="part")
    with pytest.raises(OptionError, match=r"^split_column 'split' holds 'a/b', which is not a valid split name"):
        write_huggingface(daft.from_pydict({"id": [1, 2], "split": ["train", "a/b"]}), repo, token=WRITE_TOKEN,
                          endpoint=hub.endpoint, split_column="split")
    assert api.dataset_info(repo).sha == sha
