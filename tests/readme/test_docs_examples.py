"""The API sketches of docs/reading.md, docs/writing.md and docs/buckets.md that leave names to the reader
(`spark`, `df`, `daft_df`, `token`, org/dataset, the bucket ns/name), run as written: one fresh Python, as a
reader's (HF_ENDPOINT the session hub, HF_TOKEN a write token, PYSPARK_PYTHON this venv's python), runs a preamble
that makes those names, then each block as the page holds it, each followed by checks of what it did."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import WRITE_TOKEN
from tests.readme.blocks import blocks

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MARKER = "tests/readme/test_docs_examples.py"
READING, WRITING, BUCKETS = "docs/reading.md", "docs/writing.md", "docs/buckets.md"

PREAMBLE = '''\
import io
import os

import daft
import pyarrow as pa
import pyarrow.parquet as pq
from huggingface_hub import HfApi
from pyspark.sql import SparkSession

spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
token = os.environ["HF_TOKEN"]
api = HfApi()


def parquet(start, rows):
    buf = io.BytesIO()
    ids = range(start, start + rows)
    pq.write_table(pa.table({"id": pa.array(ids, pa.int64()), "text": [f"row {i}" for i in ids]}), buf)
    return buf.getvalue()


api.create_repo("org/dataset", repo_type="dataset", exist_ok=True)
api.upload_file(path_or_fileobj=parquet(0, 20), path_in_repo="data/train-00000-of-00001.parquet",
                repo_id="org/dataset", repo_type="dataset")
api.create_bucket("ns/name", exist_ok=True)
api.batch_bucket_files("ns/name", add=[(parquet(0, 10), "runs/2024/part-0.parquet"),
                                       (parquet(10, 10), "runs/2024/part-1.parquet")])
'''

AFTER_READ = '''
assert df.columns == ["id", "text"] and df.count() == 20, df.collect()
'''

AFTER_FAST_READ = '''
assert sorted(r.id for r in df.collect()) == list(range(6, 20))
df = spark.createDataFrame([(1, "a", "train"), (2, "b", "test")], "id long, text string, split string")
daft_df = daft.from_pydict({"id": [3, 4], "text": ["c", "d"], "split": ["train", "test"]})
'''

AFTER_FAST_WRITE = '''
assert result.rows == 2, result
'''


def _read(split: str) -> str:
    return (f'[(r.id, r.text) for r in spark.read.format("huggingface").option("split", "{split}")'
            '.load("org/out").collect()]')


AFTER_WRITE = f'''
assert {_read("train")} == [(3, "c")]
assert {_read("test")} == [(4, "d")]
'''

AFTER_BUCKET_READ = '''
assert df.count() == 20
print("docs examples ran")
'''


def _blocks(page: str) -> list[str]:
    found = [b.text for b in blocks(page) if b.marker and b.marker[0] == "runs in" and MARKER in b.marker[1]]
    assert found, f"{page} has no block marked to run in {MARKER}"
    return found


def test_the_reading_writing_and_bucket_sketches_run_as_written(hub, tmp_path: Path) -> None:
    read, fast_read = _blocks(READING)
    write, fast_write = _blocks(WRITING)
    [bucket_read] = _blocks(BUCKETS)
    program = "\n".join([PREAMBLE, read, AFTER_READ, fast_read, AFTER_FAST_READ,
                         fast_write, AFTER_FAST_WRITE,  # first: it writes the `split` column the next one drops
                         write, AFTER_WRITE, bucket_read, AFTER_BUCKET_READ])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_TOKEN", "PYSPARK_"))}
    env.update(HF_ENDPOINT=hub.endpoint, HF_TOKEN=WRITE_TOKEN, PYSPARK_PYTHON=sys.executable,
               SPARK_LOCAL_IP="127.0.0.1", HF_HOME=str(tmp_path / "hf-home"))
    (tmp_path / "docs_examples.py").write_text(program)
    run = subprocess.run([sys.executable, "docs_examples.py"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    assert "docs examples ran" in run.stdout
