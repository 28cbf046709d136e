"""`spark.read.format("huggingface")` and `df.write.format("huggingface")` over Spark Connect (sc://), against
the real local hub: registration included.

- A server whose Python has hfconnect installed finds the source by itself (its Python workers scan `pyspark_*`
  modules), and `hfconnect.spark.register(spark)` from the client works too (the class travels pickled by
  reference: the server imports it). Writes from another client thread work with no `activate()`.
- A server whose Python lacks hfconnect does not know "huggingface", and a registration from the client fails
  on the server (ModuleNotFoundError); `spark.addArtifacts("hfconnect.zip", pyfile=True)` ships the package
  into the session, after which the registration, reads and writes work. Its token is in its environment: the
  client sends none, and the server's log never shows it (a `.option("token")` travels in the plan, which the
  server logs).
"""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import EXAMPLE_TOKENS, WRITE_TOKEN
from tests.data import commits, make_table, parquet_bytes

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N = 20_000
READ_AND_WRITE = """
ep, repo, out, token = sys.argv[1:5]  # token "": the server's own HF_TOKEN
read = lambda: spark.read.format("huggingface").option("endpoint", ep).load(repo)  # noqa: E731
say(step="count", n=read().count())
# a fresh DataFrame for the pushed filter (see the README on pushdown_filters)
pushed = spark.read.format("huggingface").option("endpoint", ep).option("pushdown_filters", "true").load(repo)
say(step="filtered", n=pushed.where("id >= 1000 and label = 2").count())
say(step="columns", cols=read().select("id", "text").columns)
parts = read().selectExpr("id", "text", "case when id % 10 = 0 then 'test' else 'train' end as split")
writer = parts.write.format("huggingface").mode("overwrite").option("endpoint", ep).option("split_column", "split")
(writer.option("token", token) if token else writer).save(out)
back = spark.read.format("huggingface").option("endpoint", ep).option("split", "all").load(out)
say(step="read back", splits={r["split"]: r["count"] for r in back.groupBy("split").count().collect()})
"""


@pytest.fixture
def dataset(api) -> str:
    repo = f"tests/connect-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo, repo_type="dataset")
    table = make_table(N)
    api.upload_file(path_or_fileobj=parquet_bytes(table), path_in_repo="data/train-00000-of-00001.parquet",
                    repo_id=repo, repo_type="dataset")
    return repo


def _expected_filtered() -> int:
    table = make_table(N)
    ids, labels = table.column("id").to_pylist(), table.column("label").to_pylist()
    return sum(1 for i, label in zip(ids, labels, strict=True) if i >= 1000 and label == 2)


def _check_read_and_write(results: list[dict], api, out: str) -> None:
    steps = {r["step"]: r for r in results}
    assert steps["count"]["n"] == N and steps["filtered"]["n"] == _expected_filtered()
    assert steps["columns"]["cols"] == ["id", "text"]
    assert steps["read back"]["splits"] == {"train": N - N // 10, "test": N // 10}
    assert commits(api, out) == 1  # both splits in one commit (creating the repo is none)
    files = api.list_repo_files(out, repo_type="dataset")
    assert {f.split("/")[1].split("-")[0] for f in files if f.endswith(".parquet")} == {"train", "test"}


def test_a_server_with_hfconnect_installed_finds_the_source_itself(connect_server, hub, api, dataset) -> None:
    out = f"{dataset}-out"
    results = connect_server.client(READ_AND_WRITE, hub.endpoint, dataset, out, WRITE_TOKEN)
    _check_read_and_write(results, api, out)


def test_registering_from_the_client_works_when_the_server_can_import_hfconnect(connect_server, hub,
                                                                                 dataset) -> None:
    script = """
from hfconnect.spark import register
register(spark)
say(n=spark.read.format("huggingface").option("endpoint", sys.argv[1]).load(sys.argv[2]).count())
"""
    assert connect_server.client(script, hub.endpoint, dataset) == [{"n": N}]


def test_a_server_without_hfconnect_gets_it_shipped_as_a_session_artifact(bare_connect_server, hub, api,
                                                                           dataset, hfconnect_zip) -> None:
    out = f"{dataset}-shipped"
    script = """
from hfconnect.spark import register
ep, repo, out, token, package = sys.argv[1:6]
try:
    spark.read.format("huggingface").option("endpoint", ep).load(repo).count()
except Exception as exc:
    say(step="unknown", error=str(exc).splitlines()[0])
try:
    register(spark)
    spark.read.format("huggingface").option("endpoint", ep).load(repo).count()
except Exception as exc:
    say(step="unimportable", error=[line for line in str(exc).splitlines() if "Error" in line][0])
fresh = SparkSession.builder.remote(URL).create()  # a session that never registered the source
fresh.addArtifacts(package, pyfile=True)
try:
    fresh.read.format("huggingface").option("endpoint", ep).load(repo).count()
    say(step="shipped, unregistered", error=None)
except Exception as exc:
    say(step="shipped, unregistered", error=str(exc).splitlines()[0])
fresh.stop()
spark.addArtifacts(package, pyfile=True)
register(spark)
from pyspark.sql.functions import udf
where = udf(lambda _: __import__("hfconnect").__file__, "string")
say(step="where", path=spark.range(1).select(where("id")).first()[0])
""" + READ_AND_WRITE.replace("ep, repo, out, token = sys.argv[1:5]\n", "")
    results = bare_connect_server.client(script, hub.endpoint, dataset, out, "", str(hfconnect_zip))
    steps = {r["step"]: r for r in results}
    assert "[DATA_SOURCE_NOT_FOUND] Failed to find the data source: huggingface" in steps["unknown"]["error"]
    assert "ModuleNotFoundError: No module named 'hfconnect'" in steps["unimportable"]["error"]
    # shipped artifacts are not scanned for `pyspark_*` sources: register() is what makes it known
    assert "[DATA_SOURCE_NOT_FOUND]" in steps["shipped, unregistered"]["error"]
    assert steps["where"]["path"].endswith("hfconnect.zip/hfconnect/__init__.py")
    _check_read_and_write(results, api, out)
    assert WRITE_TOKEN not in bare_connect_server.log.read_text(errors="replace")


def test_a_write_from_another_client_thread_needs_no_activate(connect_server, hub, api) -> None:
    """Unlike a classic session (tests/spark/test_threads.py), the server runs the plan in the client's session
    whatever thread sent it; `activate()` does nothing on a Connect session."""
    out = f"tests/connect-thread-{uuid.uuid4().hex[:8]}"
    script = """
import threading
from hfconnect.spark import activate
ep, out, token = sys.argv[1:4]
errors = []
def write():
    try:
        (spark.range(100).write.format("huggingface").mode("append").option("endpoint", ep).option("token", token)
         .save(out))
    except Exception as exc:
        errors.append(repr(exc))
t = threading.Thread(target=write)
t.start()
t.join(300)
activate(spark)
say(errors=errors)
"""
    assert connect_server.client(script, hub.endpoint, out, WRITE_TOKEN) == [{"errors": []}]
    assert commits(api, out) == 1


def test_function_read_and_write_from_a_client(connect_server, hub, api, dataset) -> None:
    """hfconnect.spark.read/write plan and commit in the client's Python; the server's tasks read and upload."""
    out = f"{dataset}-fn"
    script = """
import hfconnect.spark as hs
ep, repo, out, token = sys.argv[1:5]
df = hs.read(spark, repo, endpoint=ep, columns=["id", "text"], filters='[["id", "<", 1000]]')
say(step="read", n=df.count(), cols=df.columns)
result = hs.write(df, out, endpoint=ep, token=token, split="test")
say(step="write", rows=result.rows, sha=result.commit_sha)
say(step="read back", n=spark.read.format("huggingface").option("endpoint", ep).option("split", "test").load(out)
    .count())
"""
    token = EXAMPLE_TOKENS[1]  # a write token of the session hub that no other test gives this server
    steps = {r["step"]: r for r in connect_server.client(script, hub.endpoint, dataset, out, token)}
    assert steps["read"] == {"step": "read", "n": 1000, "cols": ["id", "text"]}
    assert steps["write"]["rows"] == 1000 and steps["write"]["sha"] == api.dataset_info(out).sha
    assert steps["read back"]["n"] == 1000 and commits(api, out) == 1
    # the closures carry the token to the server inside the plan; the server logs each job's plan cut short, before
    # the pickled function (a `.option("token")` of a read comes before the cut and is logged)
    log = connect_server.log.read_text(errors="replace")
    assert "map_partitions {" in log and token not in log
