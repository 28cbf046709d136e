"""What the user reads when the huggingface format fails in Spark: hfconnect's own line (what is wrong, what to do)
first, not after ~17 lines of hfconnect's frames. Spark's wrapping stays around it: "[PYTHON_DATA_SOURCE_ERROR]
Failed to ...: " before it on the same line for a planning error, and for a task error Spark's fixed first line
"An exception was thrown from the Python worker:" (pyspark's PythonException.__str__), ours right after."""

from __future__ import annotations

import traceback
import uuid

import pyarrow as pa
import pytest

import hfconnect.spark as hs
from tests.conftest import READ_TOKEN
from tests.data import make_table, parquet_bytes

pytestmark = pytest.mark.integration


def _failure(action) -> tuple[BaseException, list[str]]:  # noqa: ANN001 - a callable
    with pytest.raises(Exception) as caught:
        action()
    text = str(caught.value)
    assert "Traceback (most recent call last)" not in text, text
    assert "hfconnect/" not in text, text  # none of our frames
    printed = "".join(traceback.format_exception_only(type(caught.value), caught.value))  # an uncaught one's end
    assert printed.splitlines()[0].endswith(text.splitlines()[0])
    return caught.value, text.splitlines()


@pytest.fixture
def dataset(api, repo_id) -> str:
    api.upload_file(path_or_fileobj=parquet_bytes(make_table(100)), path_in_repo="data/train-0.parquet",
                    repo_id=repo_id, repo_type="dataset")
    return repo_id


@pytest.fixture
def corrupt(api, repo_id) -> str:
    good = parquet_bytes(pa.table({"id": list(range(50))}))
    api.upload_file(path_or_fileobj=good[:4] + b"\0" * 200 + good[204:], path_in_repo="data/train-0.parquet",
                    repo_id=repo_id, repo_type="dataset")
    return repo_id


def test_an_unknown_option_leads_with_the_option_and_the_suggestion(spark, hub, dataset) -> None:
    exc, lines = _failure(lambda: spark.read.format("huggingface").option("endpoint", hub.endpoint)
                          .option("splt", "train").load(dataset).collect())
    assert lines[0].startswith("[PYTHON_DATA_SOURCE_ERROR] Failed to create Python data source instance: "
                               "hfconnect.errors.OptionError: unknown option 'splt'; valid options: "), lines
    assert lines[0].endswith("did you mean 'split'?"), lines
    assert exc.getCondition() == "PYTHON_DATA_SOURCE_ERROR"  # type: ignore[attr-defined]


def test_a_missing_repo_and_bad_filters_lead_with_what_is_wrong(spark, hub) -> None:
    missing = f"tests/missing-{uuid.uuid4().hex[:8]}"
    _, lines = _failure(lambda: spark.read.format("huggingface").option("endpoint", hub.endpoint).load(missing)
                        .collect())
    assert lines[0].startswith("[PYTHON_DATA_SOURCE_ERROR] Failed to create Python data source instance: "
                               f"hfconnect.errors.RepoNotFoundError: dataset {missing}@main: not found on the Hub: "
                               "the repo may be private: pass a token with read access"), lines
    _, lines = _failure(lambda: spark.read.format("huggingface").option("endpoint", hub.endpoint)
                        .option("filters", '[["id", "<<", 3]]').load(missing).collect())
    assert lines[0].startswith("[PYTHON_DATA_SOURCE_ERROR] Failed to create Python data source instance: "
                               "hfconnect.errors.OptionError: option filters='[[\"id\", \"<<\", 3]]': not valid DNF "
                               "filters"), lines


def test_a_write_with_a_read_only_token_leads_with_the_token(spark, hub, dataset) -> None:
    df = spark.createDataFrame([(1, "a")], "id long, text string")
    _, lines = _failure(lambda: df.write.format("huggingface").option("endpoint", hub.endpoint)
                        .option("token", READ_TOKEN).mode("overwrite").save(dataset))
    assert lines[0] == ("[PYTHON_DATA_SOURCE_ERROR] Failed to initialize Python data source writer: hfconnect.errors."
                        f"AuthenticationError: the token given for {dataset} is read-only: writing needs a write "
                        "token"), lines


def test_a_task_error_comes_right_after_sparks_fixed_first_line(spark, hub, corrupt) -> None:
    """A corrupt file fails the read task on an executor: the format's and hfconnect.spark.read's alike."""
    for read in (lambda: spark.read.format("huggingface").option("endpoint", hub.endpoint).load(corrupt).collect(),
                 lambda: hs.read(spark, corrupt, endpoint=hub.endpoint).collect()):
        _, lines = _failure(read)
        assert lines[0] == "An exception was thrown from the Python worker:", lines
        assert lines[1].startswith(f"hfconnect.errors.DataFileError: {corrupt}/data/train-0.parquet: "), lines


def test_sparks_own_switch_brings_the_traceback_back(spark, hub, dataset) -> None:
    """spark.sql.execution.pyspark.udf.simplifiedTraceback.enabled=false: the whole traceback, as without
    hfconnect's help (what to set when debugging hfconnect itself)."""
    key = "spark.sql.execution.pyspark.udf.simplifiedTraceback.enabled"
    spark.conf.set(key, "false")
    try:
        with pytest.raises(Exception) as caught:
            spark.read.format("huggingface").option("endpoint", hub.endpoint).option("splt", "x").load(dataset) \
                .collect()
    finally:
        spark.conf.unset(key)
    text = str(caught.value)
    assert "Traceback (most recent call last)" in text and "hfconnect.errors.OptionError: unknown option 'splt'" in text
