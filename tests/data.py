"""Datasets the read tests of every engine share, published once per session to the session hub."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

CARD = """---
configs:
- config_name: reviews
  default: true
  data_files:
  - split: train
    path: reviews/train-*.parquet
  - split: test
    path: reviews/test-*.parquet
- config_name: extra
  data_files:
  - split: train
    path: extra/*.parquet
---
# two configs
"""


def make_table(n: int, offset: int = 0) -> pa.Table:
    ids = list(range(offset, offset + n))
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "text": [f"text {i} " + "x" * (i % 50) for i in ids],
        "label": pa.array([i % 5 for i in ids], pa.int32()),
        "score": pa.array([i / 7 for i in ids], pa.float64()),
        "flag": pa.array([i % 2 == 0 for i in ids]),
    })


def parquet_bytes(table: pa.Table, row_group_size: int = 5_000) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=row_group_size)
    return buf.getvalue()


@dataclass
class Published:
    repo_id: str
    sha: str
    tables: dict[tuple[str, str], pa.Table]  # (config, split) -> rows
    files: dict[str, bytes]


@pytest.fixture(scope="session")
def multi_config(api) -> Published:
    """Config 'reviews' (train in 3 files of several row groups, test in 1) and config 'extra'."""
    from huggingface_hub import CommitOperationAdd  # not at import: conftest sets HF_ENDPOINT first

    repo_id = f"tests/multi-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo_id, repo_type="dataset")
    train, test, extra = make_table(60_000), make_table(5_000, 100_000), make_table(3_000, 200_000)
    files = {f"reviews/train-{i}.parquet": parquet_bytes(train.slice(i * 20_000, 20_000)) for i in range(3)}
    files["reviews/test-0.parquet"] = parquet_bytes(test)
    files["extra/part-0.parquet"] = parquet_bytes(extra)
    ops = [CommitOperationAdd(p, b) for p, b in files.items()] + [CommitOperationAdd("README.md", CARD.encode())]
    info = api.create_commit(repo_id, repo_type="dataset", operations=ops, commit_message="data")
    tables = {("reviews", "train"): train, ("reviews", "test"): test, ("extra", "train"): extra}
    return Published(repo_id, info.oid, tables, files)


# Faults every reader must survive with exact results (each test runs its own hub: the rules are global).
FAULT_RULES = {
    "429-retry-after": [{"route": "resolve", "action": "status", "status": 429, "retry_after": 0.1, "every": 3}],
    "503": [{"route": "resolve", "action": "status", "status": 503, "every": 2}],
    "reset-mid-body": [{"route": "resolve", "action": "reset_after", "after_bytes": 20_000, "every": 2}],
}


@contextmanager
def hub_with_one_file(root: Path, rows: int = 40_000) -> Iterator[tuple[object, pa.Table]]:
    """A private LocalHub with dataset f/ds holding one Parquet file of `rows` rows (5,000-row row groups)."""
    from huggingface_hub import HfApi

    from hfconnect.localhub import LocalHub
    from tests.conftest import WRITE_TOKEN

    with LocalHub(root, tokens={WRITE_TOKEN: "write"}) as hub:
        api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)
        api.create_repo("f/ds", repo_type="dataset")
        table = make_table(rows)
        api.upload_file(path_or_fileobj=parquet_bytes(table), path_in_repo="data/train-00000-of-00001.parquet",
                        repo_id="f/ds", repo_type="dataset")
        yield hub, table
