"""A Hub that keeps failing fails the job quickly and says which request failed and how often: HubRequestError
(an OSError) naming the file, on every read path; uploads and Daft's native reader within the same budget."""

from __future__ import annotations

import time
import uuid

import pytest
from daft.exceptions import DaftCoreException
from pyspark.errors import AnalysisException, PythonException

from hfconnect.daft import HuggingFaceSource, read_huggingface, write_huggingface
from hfconnect.errors import HubRequestError
from hfconnect.options import ReadOptions
from hfconnect.plan import plan_read
from hfconnect.read import read_shard
from tests.conftest import WRITE_TOKEN
from tests.realhub.conftest import publish, start_hub
from tests.realhub.test_writes import _daft_frame, _spark_frame

pytestmark = pytest.mark.integration

BUDGET = 2  # seconds of backoff per request: these tests fail fast on purpose
FOREVER_503 = [{"route": "resolve", "action": "status", "status": 503},
               {"route": "cdn", "action": "status", "status": 503},
               {"route": "bridge", "action": "status", "status": 503}]


@pytest.fixture
def hub_and_data(tmp_path):
    hub = start_hub(tmp_path / "hub")
    ds = publish(hub, files=2, rows=10_000)
    hub.reset_counters()
    yield hub, ds
    hub.close()


def _forget_signed_urls() -> None:
    from hfconnect.hub.http import signed_urls

    signed_urls._targets.clear()


def _assert_names_the_failing_file(text: str, started: float) -> None:
    assert "HubRequestError" in text or "giving up" in text
    assert "/resolve/" in text and "data/train-0000" in text and "HTTP 503" in text
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("phase", ["plan", "read"])
def test_core_paths(hub_and_data, phase) -> None:
    hub, ds = hub_and_data
    _forget_signed_urls()
    options = ReadOptions.build(repo=ds.repo_id, endpoint=hub.endpoint, token=WRITE_TOKEN, retry_budget=BUDGET)
    started = time.monotonic()
    with pytest.raises(HubRequestError) as exc:
        if phase == "plan":
            hub.set_faults(FOREVER_503)
        plan = plan_read(options)
        _forget_signed_urls()
        hub.set_faults(FOREVER_503)
        started = time.monotonic()
        for shard in plan.shards:
            list(read_shard(plan, shard))
    assert isinstance(exc.value, OSError)
    _assert_names_the_failing_file(str(exc.value), started)


@pytest.mark.parametrize("phase", ["plan", "read"])
def test_spark_paths(spark, hub_and_data, phase) -> None:
    hub, ds = hub_and_data
    df = None
    if phase == "read":
        df = (spark.read.format("huggingface").option("endpoint", hub.endpoint).option("token", WRITE_TOKEN)
              .option("retry_budget", str(BUDGET)).load(ds.repo_id))
    hub.set_faults(FOREVER_503)
    started = time.monotonic()
    with pytest.raises((AnalysisException, PythonException)) as exc:  # Spark wraps the worker's error
        if df is None:
            df = (spark.read.format("huggingface").option("endpoint", hub.endpoint).option("token", WRITE_TOKEN)
                  .option("retry_budget", str(BUDGET)).load(ds.repo_id))
        df.count()
    _assert_names_the_failing_file(str(exc.value), started)
    assert "hfconnect.errors.HubRequestError" in str(exc.value)
    # Planning runs in Spark's planning worker (AnalysisException); reading in a task (PythonException).
    assert isinstance(exc.value, AnalysisException if phase == "plan" else PythonException)


@pytest.mark.parametrize("phase", ["plan", "read"])
def test_daft_paths(hub_and_data, phase) -> None:
    hub, ds = hub_and_data
    _forget_signed_urls()
    options = ReadOptions.build(repo=ds.repo_id, endpoint=hub.endpoint, token=WRITE_TOKEN, retry_budget=BUDGET,
                                daft_reader="hfconnect")
    started = time.monotonic()
    if phase == "plan":
        hub.set_faults(FOREVER_503)
        with pytest.raises(HubRequestError) as exc:
            HuggingFaceSource(options).plan  # noqa: B018 - plans now
    else:
        source = HuggingFaceSource(options)
        source.plan  # noqa: B018 - plans now
        _forget_signed_urls()
        hub.set_faults(FOREVER_503)
        started = time.monotonic()
        with pytest.raises(DaftCoreException, match="HubRequestError") as exc:  # Daft wraps a task's error
            source.read().collect()
    _assert_names_the_failing_file(str(exc.value), started)


def test_daft_native_reader_gives_up_within_the_budget(hub_and_data) -> None:
    hub, ds = hub_and_data
    _forget_signed_urls()
    df = read_huggingface(ds.repo_id, endpoint=hub.endpoint, token=WRITE_TOKEN, retry_budget=BUDGET)
    hub.set_faults([{"route": "bridge", "action": "status", "status": 500}])  # Xet files: the cas-bridge
    started = time.monotonic()
    with pytest.raises(DaftCoreException, match=r"500") as exc:  # Daft's own error: it names the URL it read
        df.collect()
    # Daft retries each range itself, with the tries that fit in the budget: well under a minute (it took ~106 s
    # with Daft's own settings), whatever the load on the machine.
    assert "/bridge/" in str(exc.value) and time.monotonic() - started < 60


def test_uploads_that_keep_failing_fail_the_spark_write_within_the_budget(spark, hub_and_data) -> None:
    hub, _ = hub_and_data
    repo = f"real/fail-{uuid.uuid4().hex[:6]}"
    hub.set_faults([{"route": "upload", "action": "status", "status": 500}])
    started = time.monotonic()
    with pytest.raises(PythonException) as exc:  # the task's error, as Spark reports it
        (_spark_frame(spark, 1_000).write.format("huggingface").mode("append").option("endpoint", hub.endpoint)
         .option("token", WRITE_TOKEN).option("retry_budget", str(BUDGET)).save(repo))
    text = str(exc.value)
    assert "HubRequestError" in text and "upload of a" in text and "HTTP 500 x" in text
    assert time.monotonic() - started < 40
    assert hub.counters()["commits"] == 0


def test_uploads_that_keep_failing_fail_the_daft_write_within_the_budget(hub_and_data) -> None:
    hub, _ = hub_and_data
    repo = f"real/fail-{uuid.uuid4().hex[:6]}"
    hub.set_faults([{"route": "upload", "action": "status", "status": 500}])
    started = time.monotonic()
    with pytest.raises(HubRequestError, match=r"upload of a \d+-byte file .* giving up after \d+ failed attempt"):
        write_huggingface(_daft_frame(1_000), repo, endpoint=hub.endpoint, token=WRITE_TOKEN, retry_budget=BUDGET)
    assert time.monotonic() - started < 40
    assert hub.counters()["commits"] == 0
