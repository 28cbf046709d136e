"""Every readable file of parquet-testing/data, read through the local hub by the core, Spark and Daft,
equals pyarrow's read of the same file (Spark: after hfconnect's documented type conversions)."""

from __future__ import annotations

import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub import CommitOperationAdd

from hfconnect.options import ReadOptions
from hfconnect.plan import plan_read
from tests.read.test_core_read import read_all

pytestmark = pytest.mark.integration


def _same(a: pa.Table, b: pa.Table) -> bool:
    """Row-for-row equality of values where NaN equals NaN (Table.equals says it does not)."""
    if a.equals(b):
        return True
    try:
        return a.num_rows == b.num_rows and repr(a.to_pylist()) == repr(b.to_pylist())
    except OverflowError:  # dates outside Python's range: Arrow's equality was the answer
        return False


def _spark_values(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The table with hfconnect's documented Spark conversions applied, column by column."""
    from hfconnect.spark.types import conform_array

    columns = []
    for column, field in zip(table.columns, schema, strict=True):
        columns.append(column if column.type.equals(field.type) else pa.chunked_array(
            [conform_array(chunk, field.type) for chunk in column.chunks], field.type))
    return pa.table(columns, names=schema.names)


def _readable(corpus) -> list:
    out = []
    for path in sorted((corpus / "data").glob("*.parquet")):
        try:  # INT96 as microseconds, as hfconnect (and Spark) read it
            table = pq.read_table(path, coerce_int96_timestamp_unit="us")
        except Exception:  # the two files pyarrow itself cannot read
            continue
        out.append((path, table))
    return out


@pytest.fixture(scope="module")
def corpus_repo(api, corpus):
    repo = f"tests/corpus-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo, repo_type="dataset")
    readable = _readable(corpus)
    api.create_commit(repo, repo_type="dataset", commit_message="corpus", operations=[
        CommitOperationAdd(f"files/{p.name}", str(p)) for p, _ in readable])
    return repo, readable


def _plan(hub, repo: str, name: str):
    return plan_read(ReadOptions.build(repo=repo, endpoint=hub.endpoint, data_files=f"files/{name}"))


def test_core_reads_every_corpus_file_like_pyarrow(hub, corpus_repo) -> None:
    repo, readable = corpus_repo
    assert len(readable) >= 55
    for path, table in readable:
        got = read_all(_plan(hub, repo, path.name), hub.endpoint)
        assert got.schema.equals(table.schema), path.name
        assert _same(got, table), path.name


def test_spark_reads_every_corpus_file(spark, hub, corpus_repo) -> None:
    from hfconnect.spark.types import spark_compatible_schema

    repo, readable = corpus_repo
    failures = []
    for path, table in readable:
        try:
            df = (spark.read.format("huggingface").option("endpoint", hub.endpoint)
                  .option("data_files", f"files/{path.name}").load(repo))
            got = df.toArrow()
            want = _spark_values(table, spark_compatible_schema(table.schema))
            if not _same(got, want):
                failures.append(f"{path.name}: values differ")
        except Exception as exc:  # must be a clear error naming the unsupported type, never a crash
            failures.append(f"{path.name}: {type(exc).__name__}: {str(exc)[:200]}")
    assert not failures, "\n".join(failures)


# Files Daft's native Parquet reader reads differently from pyarrow: two it refuses (with an error naming the
# URL) and INT96 values beyond the year 2262, which the two readers overflow differently. reader="hfconnect"
# reads all three like pyarrow.
DAFT_NATIVE_DIFFERS = {"dict-page-offset-zero.parquet", "nation.dict-malformed.parquet", "int96_from_spark.parquet"}


@pytest.mark.parametrize("reader", ["native", "hfconnect"])
def test_daft_reads_every_corpus_file(hub, corpus_repo, reader) -> None:
    from hfconnect.daft import read_huggingface

    repo, readable = corpus_repo
    failures = set()
    for path, table in readable:
        try:
            df = read_huggingface(repo, endpoint=hub.endpoint, data_files=f"files/{path.name}", split="train",
                                  reader=reader)
            got = df.to_arrow()
            if not _same(got, table.cast(got.schema)):
                failures.add(f"{path.name}: values differ")
        except Exception as exc:
            assert reader == "native" and path.name in str(exc), exc  # an error must name the file
            failures.add(f"{path.name}: error")
    expected = DAFT_NATIVE_DIFFERS if reader == "native" else set()
    assert {f.split(":")[0] for f in failures} == expected, sorted(failures)
