"""pyspark_huggingface installed next to hfconnect: both claim "huggingface"; `register(spark)` settles it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
CONNECTOR = str(Path(__file__).resolve().parents[2] / "connector")

PROBE = """
import sys
from pyspark.sql import SparkSession
endpoint, repo = sys.argv[1:3]
spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()

def who():
    # each rejects an unknown option with its own words
    try:
        spark.read.format("huggingface").option("endpoint", endpoint).option("bogus_opt", "1").load(repo).count()
        return "accepted"
    except Exception as exc:
        text = " ".join(str(exc).split())
        if "unknown option 'bogus_opt'" in text:
            return "hfconnect"
        if "have a 'bogus_opt' key" in text:  # pyspark_huggingface hands options to a datasets builder
            return "pyspark_huggingface"
        return "error:" + text[-600:]

auto = who()
from hfconnect.spark import register
register(spark)
rows = spark.read.format("huggingface").option("endpoint", endpoint).load(repo).count()
print("AUTO", auto, "REGISTERED", who(), rows, flush=True)
spark.stop()
"""


@pytest.fixture(scope="module")
def psh_target() -> str:
    """pyspark_huggingface 2.1.0, installed apart by scripts/_setup.sh (no network at test time)."""
    target = Path(sys.prefix) / "peers" / "pyspark_huggingface"
    if not (target / ".installed-2.1.0").is_file() or not (target / "pyspark_huggingface").is_dir():
        pytest.fail(f"pyspark_huggingface 2.1.0 is not installed at {target}: run scripts/test (its set-up, "
                    "scripts/_setup.sh test, installs it there once)")
    return str(target)


@pytest.mark.parametrize(("first", "auto_winner"), [("pyspark_huggingface", "hfconnect"),
                                                    ("hfconnect", "pyspark_huggingface")])
def test_register_makes_hfconnect_answer(hub, multi_config, psh_target, first, auto_winner) -> None:
    path = [psh_target, CONNECTOR] if first == "pyspark_huggingface" else [CONNECTOR, psh_target]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path), PYSPARK_PYTHON=sys.executable)
    out = subprocess.run([sys.executable, "-c", PROBE, hub.endpoint, multi_config.repo_id], env=env,
                         capture_output=True, text=True, timeout=240)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("AUTO")), None)
    assert line is not None, out.stderr[-3000:]
    # Spark keeps the source it finds last on sys.path ...
    assert line.split()[1] == auto_winner
    # ... and an explicit registration always wins.
    assert line.split()[2:] == ["REGISTERED", "hfconnect", "60000"]
