"""Dictionary-encoded columns (pandas categoricals, `dictionary_encode()`: pyarrow restores them from its own
Parquet files, nested ones too) through every read and write path of both engines and the jobs: read as their
value types, written back as plain columns with the same values, nulls and odd column names kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import WRITE_TOKEN
from tests.data import commits, parquet_bytes, run_on_ray

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
N = 3_000
ODD = "odd name (ü)"


def _source_table(n: int = N) -> pa.Table:
    """Each kind of dictionary column pyarrow writes and restores: strings with nulls, integers, an odd name,
    inside a list and inside a struct."""
    cats = ["books", None, "toys", "garden", "kitchen"]
    offsets = pa.array([2 * i for i in range(n + 1)], pa.int32())
    return pa.table({
        "id": pa.array(range(n), pa.int64()),
        "category": pa.array([cats[i % 5] for i in range(n)]).dictionary_encode(),
        "code": pa.array([None if i % 11 == 0 else i % 3 for i in range(n)], pa.int32()).dictionary_encode(),
        ODD: pa.array([f"v{i % 4}" for i in range(n)]).dictionary_encode(),
        "tags": pa.ListArray.from_arrays(offsets, pa.array([f"t{i % 3}" for i in range(2 * n)]).dictionary_encode()),
        "meta": pa.StructArray.from_arrays([pa.array([f"k{i % 2}" for i in range(n)]).dictionary_encode()], ["kind"]),
    })


def _decoded(table: pa.Table) -> dict[str, list]:
    """The rows as Python values (a dictionary column's values are its value type's), ordered by id."""
    return table.sort_by("id").to_pydict()


@pytest.fixture(scope="module")
def dict_repo(api) -> str:
    """A dataset whose train split is two pyarrow Parquet files of dictionary columns."""
    from huggingface_hub import CommitOperationAdd

    repo = f"tests/dict-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo, repo_type="dataset")
    table = _source_table()
    half = N // 2
    ops = [CommitOperationAdd(f"data/train-0000{i}-of-00002.parquet", parquet_bytes(part, row_group_size=500))
           for i, part in enumerate((table.slice(0, half), table.slice(half)))]
    api.create_commit(repo, repo_type="dataset", operations=ops, commit_message="dictionary columns")
    assert pa.types.is_dictionary(pq.read_schema(api.hf_hub_download(
        repo, "data/train-00000-of-00002.parquet", repo_type="dataset")).field("category").type)
    return repo


def _written(api, repo: str, split: str = "train") -> pa.Table:
    """The split's files as pyarrow reads them: no dictionary left, Python-typed (Daft) columns none."""
    files = sorted(f for f in api.list_repo_files(repo, repo_type="dataset")
                   if f.startswith(f"data/{split}-") and f.endswith(".parquet"))
    assert files, f"no files for {split} in {repo}"
    table = pa.concat_tables([pq.read_table(api.hf_hub_download(repo, f, repo_type="dataset")) for f in files])
    for field in table.schema:
        assert "extension" not in str(field.type) and "dictionary" not in str(field.type), field
    return table


def _repo() -> str:
    return f"tests/dict-out-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("reader", ["native", "hfconnect"])
def test_daft_reads_value_types_and_writes_them_back(dict_repo, api, reader) -> None:
    import daft

    from hfconnect.daft import read_huggingface, write_huggingface

    df = read_huggingface(dict_repo, split="train", reader=reader)
    assert {f.name: str(f.dtype) for f in df.schema()} == {
        "id": "Int64", "category": "String", "code": "Int32", ODD: "String", "tags": "List[String]",
        "meta": "Struct[kind: String]"}
    assert _decoded(df.to_arrow()) == _decoded(_source_table())
    # Daft's own operations on them work (a Python dtype column cannot be grouped by)
    counts = df.groupby("category").agg(daft.col("id").count().alias("n")).to_pydict()
    assert dict(zip(counts["category"], counts["n"], strict=True))["books"] == N // 5
    out = _repo()
    result = write_huggingface(df, out, token=WRITE_TOKEN)
    assert result.rows == N and commits(api, out) == 1  # ONE commit (creating a repo makes none here)
    assert _decoded(_written(api, out)) == _decoded(_source_table())


def test_daft_where_on_a_dictionary_column(dict_repo) -> None:
    from hfconnect.daft import read_huggingface

    for reader in ("native", "hfconnect"):
        got = read_huggingface(dict_repo, split="train", reader=reader).where("category = 'toys'").to_pydict()
        assert sorted(got["id"]) == [i for i in range(N) if i % 5 == 2], reader


def test_a_daft_python_column_is_refused_before_the_job_with_the_cast_that_fixes_it(api) -> None:
    import daft

    from hfconnect.daft import write_huggingface
    from hfconnect.errors import OptionError

    df = daft.from_arrow(pa.table({"id": [1, 2], "c": pa.array(["a", "b"]).dictionary_encode()}))  # Python dtype
    repo = _repo()
    with pytest.raises(OptionError, match=r"'c' have Daft's Python dtype .* df.with_column\('c', daft.col\('c'\)"
                                          r".cast\(daft.DataType.string\(\)\)\)"):
        write_huggingface(df, repo, token=WRITE_TOKEN)
    assert not api.repo_exists(repo, repo_type="dataset")
    fixed = df.with_column("c", daft.col("c").cast(daft.DataType.string()))
    write_huggingface(fixed, repo, token=WRITE_TOKEN)
    assert _written(api, repo).to_pydict() == {"id": [1, 2], "c": ["a", "b"]}


def test_spark_format_and_function_paths(dict_repo, spark, hub, api) -> None:
    import hfconnect.spark as hs

    want = _decoded(_source_table())
    df = spark.read.format("huggingface").option("split", "train").load(dict_repo)
    assert dict(df.dtypes)["category"] == "string" and dict(df.dtypes)["tags"] == "array<string>"
    assert _decoded(pa.Table.from_pylist([r.asDict(recursive=True) for r in df.collect()])) == want
    out = _repo()
    df.write.format("huggingface").mode("overwrite").option("token", WRITE_TOKEN).save(out)
    assert _decoded(_written(api, out)) == want
    fast = hs.read(spark, dict_repo, split="train")
    out2 = _repo()
    result = hs.write(fast, out2, token=WRITE_TOKEN)
    assert result.rows == N and _decoded(_written(api, out2)) == want


def _job(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_TOKEN": WRITE_TOKEN}
    env.setdefault("PYSPARK_PYTHON", sys.executable)
    return subprocess.run([sys.executable, str(ROOT / "jobs" / "optimize.py"), *args], capture_output=True,
                          text=True, timeout=300, env=env)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["spark", "daft"])
def test_optimize_job(dict_repo, hub, api, engine) -> None:
    out = _repo()
    run = _job(dict_repo, "--to", out, "--engine", engine, "--endpoint", hub.endpoint)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert _decoded(_written(api, out)) == _decoded(_source_table())


RAY_DICT = """
import json

from hfconnect.daft import read_huggingface, write_huggingface

endpoint, repo, out, token = sys.argv[1:5]
seen = {}
for reader in ("native", "hfconnect"):
    df = read_huggingface(repo, split="train", endpoint=endpoint, token=token, reader=reader)
    seen[reader] = sorted(df.where("category = 'toys'").to_pydict()["id"])[:3]
result = write_huggingface(read_huggingface(repo, split="train", endpoint=endpoint, token=token, reader="hfconnect"),
                           out, endpoint=endpoint, token=token)
print(json.dumps({"seen": seen, "rows": result.rows}))
"""


@pytest.mark.slow
def test_on_ray_with_both_readers(dict_repo, hub, api) -> None:
    out = _repo()
    proc = run_on_ray(RAY_DICT, hub.endpoint, dict_repo, out, WRITE_TOKEN)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {"seen": {"native": [2, 7, 12], "hfconnect": [2, 7, 12]}, "rows": N}
    assert _decoded(_written(api, out)) == _decoded(_source_table())
