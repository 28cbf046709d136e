"""Spark actions from worker threads, as orchestrators run them."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from huggingface_hub import HfApi

from hfconnect.spark import activate
from tests.conftest import WRITE_TOKEN

pytestmark = pytest.mark.integration


def _in_thread(fn: Callable[[], Any]) -> Any:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except Exception as exc:  # noqa: BLE001 - handed back to the test, which names the type it expects
            out["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    t.join(timeout=300)
    if "error" in out:
        raise out["error"]
    return out.get("value")


def test_a_write_from_a_new_thread_needs_activate(spark, hub, api: HfApi) -> None:
    from py4j.protocol import Py4JJavaError  # PySpark does not convert SparkClassNotFoundException

    df = spark.range(100)
    repo = f"tests/thread-{uuid.uuid4().hex[:8]}"

    def write() -> None:
        df.write.format("huggingface").mode("append").option("endpoint", hub.endpoint) \
            .option("token", WRITE_TOKEN).save(repo)

    # What Spark 4.3 does (the cause documented in hfconnect.spark): the thread has no active session.
    with pytest.raises(Py4JJavaError, match=r"SparkClassNotFoundException: \[DATA_SOURCE_NOT_FOUND\].*huggingface"):
        _in_thread(write)

    def activated_write() -> None:
        activate(spark)
        write()

    _in_thread(activated_write)
    assert len(api.list_repo_commits(repo, repo_type="dataset")) == 2  # the repo's creation, then ONE write
    read = _in_thread(lambda: spark.read.format("huggingface").option("endpoint", hub.endpoint).load(repo).count())
    assert read == 100  # reads work from any thread
