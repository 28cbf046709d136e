"""hfconnect's streaming source and sink from a Spark Connect client session (`sc://`), against the session's
Connect server (`connect_server`, tests/connect_server.py; tests/connect uses it too). Both run in the server's
Python workers; the client only sends the plan."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from tests.conftest import WRITE_TOKEN
from tests.stream.common import ROOT, parquet_file, repo_rows, rows_table, stream_batches

pytestmark = pytest.mark.integration


@pytest.fixture
def connect_url(connect_server) -> str:
    return connect_server.url


def _client(config: dict) -> str:
    done = subprocess.run([sys.executable, "-m", "tests.stream.connect_client", json.dumps(config)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    stderr = "\n".join(line for line in done.stderr.splitlines() if not line.startswith("\tat "))
    assert done.returncode == 0, done.stdout[-3000:] + stderr[-6000:]
    return done.stdout


def test_stream_a_to_b_from_a_connect_client_and_resume(connect_url, hub, api, tmp_path) -> None:
    source, sink = f"tests/cs-{uuid.uuid4().hex[:8]}", f"tests/cs-{uuid.uuid4().hex[:8]}"
    api.create_repo(source, repo_type="dataset")
    api.upload_file(path_or_fileobj=parquet_file(rows_table(0, 50)), path_in_repo="data/train-0.parquet",
                    repo_id=source, repo_type="dataset")
    config = {"url": connect_url, "endpoint": hub.endpoint, "token": WRITE_TOKEN, "source": source, "sink": sink,
              "checkpoint": str(tmp_path / "checkpoint")}
    assert "ROWS 50" in _client(config)
    # Another commit upstream; the same query, restarted from its checkpoint, takes only the new rows.
    api.upload_file(path_or_fileobj=parquet_file(rows_table(50, 30)), path_in_repo="data/train-1.parquet",
                    repo_id=source, repo_type="dataset")
    assert "ROWS 80" in _client(config)
    rows = repo_rows(hub.endpoint, sink).sort_by("id")
    assert rows.column("id").to_pylist() == list(range(80))
    assert rows.column("text").to_pylist() == [f"ROW {i}" for i in range(80)]
    assert [b for _, b in stream_batches(api, sink)] == [0, 1]


def test_errors_reach_the_connect_client(connect_url, hub, api, tmp_path) -> None:
    source = f"tests/cs-{uuid.uuid4().hex[:8]}"
    api.create_repo(source, repo_type="dataset")
    api.upload_file(path_or_fileobj=parquet_file(rows_table(0, 5)), path_in_repo="data/train-0.parquet",
                    repo_id=source, repo_type="dataset")
    out = _client({"url": connect_url, "endpoint": hub.endpoint, "token": WRITE_TOKEN, "source": source,
                   "sink": f"tests/cs-{uuid.uuid4().hex[:8]}", "checkpoint": str(tmp_path / "ck"),
                   "mode": "complete"})
    assert "FAILED" in out and "outputMode 'complete' is not supported" in out
