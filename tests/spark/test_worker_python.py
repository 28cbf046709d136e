"""A new user's driver: hfconnect installed in a virtualenv that is not activated, so Spark's workers run
`python3` from PATH, which lacks hfconnect. register(spark) and hfconnect.spark.read/write say so, naming that
Python and the fix, instead of `No module named 'hfconnect'` from a worker; the fix they give then works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.data import make_table, parquet_bytes

pytestmark = pytest.mark.integration

DRIVER = """
import os, sys
from pyspark.sql import SparkSession
import hfconnect.spark as hs
from hfconnect.errors import WorkerPythonError

endpoint, repo = sys.argv[1:3]
spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
df = spark.createDataFrame([(1,)], "id long")
for name, call in [("register", lambda: hs.register(spark)), ("read", lambda: hs.read(spark, repo, endpoint=endpoint)),
                   ("write", lambda: hs.write(df, repo, endpoint=endpoint))]:
    try:
        call()
        print(name, "passed")
    except WorkerPythonError as exc:
        print(name, "WorkerPythonError:", exc)
# The fix the message gives: PYSPARK_PYTHON before the session is created (this one stopped first).
spark.stop()
os.environ["PYSPARK_PYTHON"] = sys.executable
spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
hs.register(spark)
print("fixed", spark.read.format("huggingface").option("endpoint", endpoint).load(repo).count())
spark.stop()
"""


def test_a_worker_python_without_hfconnect_is_named_with_the_fix(hub, api, repo_id, tmp_path: Path) -> None:
    api.upload_file(path_or_fileobj=parquet_bytes(make_table(10)), path_in_repo="data/train-0.parquet",
                    repo_id=repo_id, repo_type="dataset")
    venv = tmp_path / "bare"  # what `python3` on a new user's PATH is: a Python without hfconnect
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    env["PATH"] = f"{bin_dir}:/usr/bin:/bin"  # the venv is not activated: its bin is not on PATH
    out = subprocess.run([sys.executable, "-c", DRIVER, hub.endpoint, repo_id], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    lines = out.stdout.splitlines()
    expected = (f"WorkerPythonError: Spark runs its Python workers with python3 from PATH ({bin_dir / 'python3'}; "
                "PYSPARK_PYTHON was unset when the session started), which cannot import hfconnect: set "
                f"PYSPARK_PYTHON={sys.executable} (the Python hfconnect is installed in) before the SparkSession is "
                "created")
    for name in ("register", "read", "write"):
        [line] = [ln for ln in lines if ln.startswith(f"{name} ")]
        assert line.startswith(f"{name} {expected}"), line
    assert "fixed 10" in lines, out.stdout[-3000:] + out.stderr[-5000:]
