"""What Spark's short-lived planning processes pay for hfconnect: imports and Hub requests.

Spark runs lookup_data_sources, create_data_source and plan_data_source_read each in a Python process of its
own, handing the pickled DataSource from one to the next. These tests replay those steps in fresh interpreters
(pickling with Spark's own cloudpickle) against a hub of their own, and check what each process imported and
how many requests it made; then the same through a real Spark query.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.data import hub_with_one_file

pytestmark = pytest.mark.integration

# Modules a planning process that only hands out a plan it was given must not import.
HEAVY = ("pandas", "pyarrow.dataset", "huggingface_hub", "hfconnect.plan.planner", "hfconnect.read.reader",
         "hfconnect.plan.footers")

PLAN_STEP = """
import pickle, sys, json
from pyspark.serializers import CloudPickleSerializer
import pyspark.sql.datasource  # what Spark's worker imports before ours
source = pickle.loads(open(sys.argv[1], "rb").read())
from pyspark.sql.types import StructType
schema = StructType.fromJson(json.loads(sys.argv[2]))
parts = source.reader(schema).partitions()
CloudPickleSerializer().dumps(parts)  # what Spark sends back
print(json.dumps({"shards": len(parts), "heavy": [m for m in HEAVY if m in sys.modules]}))
""".replace("HEAVY", repr(HEAVY))


def _python(code: str, *args: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_lookup_imports_nothing_heavy() -> None:
    """Spark's lookup_data_sources imports every installed pyspark_* module: ours costs pyspark alone."""
    got = _python("import sys, json; import pyspark.sql.datasource; import pyspark_hfconnect; "
                  "assert pyspark_hfconnect.DefaultSource.name() == 'huggingface'; "
                  f"print(json.dumps({{'heavy': [m for m in {HEAVY + ('pyarrow',)!r} if m in sys.modules]}}))")
    assert got["heavy"] == []


def test_plan_travels_with_the_pickled_source(tmp_path: Path) -> None:
    """The plan made for schema() (create_data_source) is in the pickled source: the process that asks for
    partitions makes no Hub request and imports neither the planner nor the reader."""
    from pyspark.serializers import CloudPickleSerializer

    from hfconnect.spark.source import HuggingFaceDataSource
    from tests.conftest import WRITE_TOKEN

    with hub_with_one_file(tmp_path / "hub") as (hub, table):
        source = HuggingFaceDataSource({"path": "f/ds", "endpoint": hub.endpoint, "token": WRITE_TOKEN,
                                        "shard_size": "100KB"})
        schema = source.schema()
        pickled = CloudPickleSerializer().dumps(source)
        assert WRITE_TOKEN not in repr(source) and WRITE_TOKEN not in source._plan.explain()
        (tmp_path / "source.pkl").write_bytes(pickled)
        hub.reset_counters()
        got = _python(PLAN_STEP, str(tmp_path / "source.pkl"), json.dumps(schema.jsonValue()))
        counters = hub.counters()
        assert counters["api"]["requests"] == 0 and counters["resolve"]["requests"] == 0, counters
        assert got["heavy"] == []
        assert got["shards"] == len(source.reader(schema).partitions()) > 1


@pytest.mark.parametrize("user_schema", [None, "id long"])
def test_spark_query_plans_once(spark, tmp_path: Path, user_schema: str | None) -> None:
    """Through real Spark: the API requests of a whole query are those of one plan (listing once), whether
    Spark asked for the schema (the plan travels) or the user gave it (planned once, for partitions)."""
    from hfconnect.options import ReadOptions
    from hfconnect.plan import plan_read
    from tests.conftest import WRITE_TOKEN

    with hub_with_one_file(tmp_path / "hub") as (hub, table):
        hub.reset_counters()
        plan_read(ReadOptions.build(repo="f/ds", endpoint=hub.endpoint, token=WRITE_TOKEN))
        one_plan = hub.counters()["api"]["requests"]
        hub.reset_counters()
        reader = spark.read.format("huggingface").option("endpoint", hub.endpoint).option("token", WRITE_TOKEN)
        df = (reader.schema(user_schema) if user_schema else reader).load("f/ds")
        assert df.count() == table.num_rows
        assert hub.counters()["api"]["requests"] == one_plan


READ_STEP = """
import pickle, sys, json
plan, shard = pickle.loads(open(sys.argv[1], "rb").read())
from hfconnect.read import read_shard
rows = sum(b.num_rows for b in read_shard(plan, shard))
print(json.dumps({"rows": rows, "heavy": [m for m in ("pandas", "pyarrow.dataset") if m in sys.modules]}))
"""


@pytest.mark.parametrize("filtered", [False, True])
def test_a_task_without_a_filter_reads_through_pyarrow_parquet(tmp_path: Path, filtered: bool) -> None:
    """pyarrow.dataset (which imports pandas, ~0.3 s per fresh Python worker) only where a filter needs it."""
    import pickle

    import pyarrow.compute as pc

    from hfconnect.options import ReadOptions
    from hfconnect.plan import plan_read
    from tests.conftest import WRITE_TOKEN

    with hub_with_one_file(tmp_path / "hub") as (hub, table):
        where = pc.field("id") < 7_000 if filtered else None
        plan = plan_read(ReadOptions.build(repo="f/ds", endpoint=hub.endpoint, token=WRITE_TOKEN), filter=where)
        (tmp_path / "task.pkl").write_bytes(pickle.dumps((plan, plan.shards[0])))
        got = _python(READ_STEP, str(tmp_path / "task.pkl"))
        assert got["rows"] == (7_000 if filtered else table.num_rows)
        assert got["heavy"] == (["pandas", "pyarrow.dataset"] if filtered else [])
