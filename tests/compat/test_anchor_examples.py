"""The anchors' own documented examples, run against the local hub with hfconnect.

pyspark_huggingface 2.0.0's README read examples run verbatim (hfconnect answers `format("huggingface")` with
their option names and their Python-literal `filters`); their write examples need `.mode("append")` on Spark 4,
whichever library answers (Spark refuses its default mode for Python data sources). Daft's documented
`read_huggingface`/`write_huggingface` examples (huggingface.co/docs/hub/datasets-daft) run after the one change
the README's "From Daft's Hub functions" gives: import hfconnect's functions, and `write_huggingface(df, repo)`
for the method. The repositories are named as in the examples; "Login with huggingface-cli login" is a token
saved under HF_HOME.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from huggingface_hub import CommitOperationAdd, HfApi
from pyspark.errors import AnalysisException

from tests.conftest import WRITE_TOKEN
from tests.data import card, commits, parquet_bytes

pytestmark = pytest.mark.integration

# pyspark_huggingface 2.0.0, README.md, "Usage" and "Advanced" (verbatim).
PSH_READ = '''
df = spark.read.format("huggingface").load("stanfordnlp/imdb")
'''
PSH_SPLIT = '''
test_df = (
    spark.read.format("huggingface")
    .option("split", "test")
    .load("stanfordnlp/imdb")
)
'''
PSH_CONFIG = '''
test_df = (
    spark.read.format("huggingface")
    .option("config", "sample-10BT")
    .load("HuggingFaceFW/fineweb-edu")
)
'''
PSH_FILTERS = '''
df = (
    spark.read.format("huggingface")
    .option("filters", '[("language_score", ">", 0.99)]')
    .option("columns", '["text", "language_score"]')
    .load("HuggingFaceFW/fineweb-edu")
)
'''
PSH_WRITE_LOGGED_IN = '''
# Login with huggingface-cli login
df.write.format("huggingface").save("username/my_dataset")
'''
PSH_WRITE_TOKEN = '''
# Or pass a token manually
df.write.format("huggingface").option("token", "hf_xxx").save("username/my_dataset")
'''

# Daft, huggingface.co/docs/hub/datasets-daft: "Write", "Read" and "Authentication".
DAFT_WRITE = '''
import daft

df = daft.from_pydict({"abc": [1, 2, 3]})
df.write_huggingface("username/dataset_name")
'''
DAFT_READ = '''
import daft

df = daft.read_huggingface("username/dataset_name")
'''
DAFT_AUTH = '''
import daft
from daft.io import IOConfig, HuggingFaceConfig

io_config = IOConfig(hf=HuggingFaceConfig(token="your_token"))
df = daft.read_huggingface("username/dataset_name", io_config=io_config)
'''


def with_hfconnect(daft_code: str) -> str:
    """Daft's example as the README's migration section says to change it: hfconnect's functions in place of
    `daft.read_huggingface` and of the `df.write_huggingface(...)` method. Nothing else changes."""
    changed = daft_code.replace("daft.read_huggingface(", "read_huggingface(")
    changed = changed.replace("df.write_huggingface(", "write_huggingface(df, ")
    return "from hfconnect.daft import read_huggingface, write_huggingface\n" + changed


def run(code: str, **names: object) -> dict[str, object]:
    scope: dict[str, object] = dict(names)
    exec(textwrap.dedent(code), scope)  # noqa: S102 - the documented examples, as written
    return scope


@pytest.fixture(scope="module")
def imdb(api: HfApi) -> dict[str, pa.Table]:
    splits = {split: pa.table({"text": [f"{split} review {i}" for i in range(n)], "label": [i % 2 for i in range(n)]})
              for split, n in (("train", 300), ("test", 120))}
    api.create_repo("stanfordnlp/imdb", repo_type="dataset", exist_ok=True)
    api.create_commit("stanfordnlp/imdb", repo_type="dataset", commit_message="imdb", operations=[
        CommitOperationAdd(f"plain_text/{split}-00000-of-00001.parquet", parquet_bytes(table, 100))
        for split, table in splits.items()])
    return splits


@pytest.fixture(scope="module")
def fineweb(api: HfApi) -> pa.Table:
    n = 2_000
    table = pa.table({"text": [f"document {i}" for i in range(n)], "id": [f"<urn:{i}>" for i in range(n)],
                      "language_score": [0.95 + (i % 100) / 1980 for i in range(n)]})
    api.create_repo("HuggingFaceFW/fineweb-edu", repo_type="dataset", exist_ok=True)
    readme = card({"default": {"train": "data/*/*.parquet"}, "sample-10BT": {"train": "sample/10BT/*.parquet"}},
                  default="default", title="fineweb-edu")
    api.create_commit("HuggingFaceFW/fineweb-edu", repo_type="dataset", commit_message="fineweb-edu", operations=[
        CommitOperationAdd("README.md", readme.encode()),
        CommitOperationAdd("data/CC-MAIN-2024-10/000_00000.parquet", parquet_bytes(table.slice(0, 1_000), 250)),
        CommitOperationAdd("data/CC-MAIN-2024-18/000_00000.parquet", parquet_bytes(table.slice(1_000), 250)),
        CommitOperationAdd("sample/10BT/000_00000.parquet", parquet_bytes(table.slice(0, 300), 100))])
    return table


@pytest.fixture
def logged_in(hub) -> Iterator[None]:
    """`huggingface-cli login` as it leaves things: the token saved under HF_HOME (the Spark workers' too), no
    HF_TOKEN. Removed afterwards, so other tests stay anonymous."""
    from huggingface_hub import constants

    path = Path(constants.HF_TOKEN_PATH)
    assert not path.exists() and "HF_TOKEN" not in os.environ
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(WRITE_TOKEN)
    try:
        yield
    finally:
        path.unlink()


def test_pyspark_huggingface_read_examples_run_unchanged(spark, imdb, fineweb) -> None:
    df = run(PSH_READ, spark=spark)["df"]
    assert sorted(df.columns) == ["label", "text"] and df.count() == imdb["train"].num_rows
    test_df = run(PSH_SPLIT, spark=spark)["test_df"]
    assert sorted(r.text for r in test_df.collect()) == sorted(imdb["test"].column("text").to_pylist())
    sample = run(PSH_CONFIG, spark=spark)["test_df"]
    assert sample.count() == 300  # the config's file, not the default config's
    filtered = run(PSH_FILTERS, spark=spark)["df"]  # the default config: every row of data/
    assert filtered.columns == ["text", "language_score"]
    expected = fineweb.filter(pc.greater(fineweb.column("language_score"), 0.99))
    got = filtered.collect()
    assert 0 < len(got) < fineweb.num_rows
    assert sorted(r.text for r in got) == sorted(expected.column("text").to_pylist())


def with_mode(example: str, mode: str = "append") -> str:
    """The write example with the save mode Spark 4 asks for (the only change, see the test below)."""
    return example.replace('df.write.format("huggingface")', f'df.write.format("huggingface").mode("{mode}")')


def test_pyspark_huggingface_write_examples_need_a_save_mode_on_spark_4(spark, api: HfApi, logged_in) -> None:
    """Their README's write examples use Spark's default save mode, ErrorIfExists, which Spark 4 itself refuses
    for every Python data source (theirs too) before any data source code runs. With `.mode("append")` (or
    overwrite) they work unchanged otherwise: the saved login's token, then the token as an option."""
    df = spark.createDataFrame([(i, f"row {i}") for i in range(50)], "id long, text string")
    for example in (PSH_WRITE_LOGGED_IN, PSH_WRITE_TOKEN):
        with pytest.raises(AnalysisException, match=r"UNSUPPORTED_DATA_SOURCE_SAVE_MODE.*\"Append\" or \"Overwrite\""):
            run(example, df=df)
    assert commits(api, "username/my_dataset") == 0
    run(with_mode(PSH_WRITE_LOGGED_IN), df=df)  # the saved login's token, nothing passed
    assert commits(api, "username/my_dataset") == 1
    back = spark.read.format("huggingface").load("username/my_dataset")
    assert sorted(r.id for r in back.collect()) == list(range(50))
    api.delete_repo("username/my_dataset", repo_type="dataset")
    run(with_mode(PSH_WRITE_TOKEN, "overwrite"), df=df)  # the token passed as an option
    assert commits(api, "username/my_dataset") == 1
    assert spark.read.format("huggingface").load("username/my_dataset").count() == 50
    api.delete_repo("username/my_dataset", repo_type="dataset")


def test_daft_examples_run_with_the_documented_import_change(api: HfApi, logged_in) -> None:
    run(with_hfconnect(DAFT_WRITE))
    assert commits(api, "username/dataset_name") == 1
    df = run(with_hfconnect(DAFT_READ))["df"]
    assert df.to_pydict() == {"abc": [1, 2, 3], "split": ["train"] * 3}  # every split, as Daft's read
    df = run(with_hfconnect(DAFT_AUTH))["df"]
    assert sorted(df.to_pydict()["abc"]) == [1, 2, 3]
    api.delete_repo("username/dataset_name", repo_type="dataset")
