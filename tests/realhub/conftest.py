"""Fixtures for the real-Hub mode: hubs that redirect to expiring signed URLs and rate-limit, as huggingface.co.

Each module (or test) starts its own hub, so its counters, quotas and fault rules are its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from hfconnect.localhub import HubMode, LocalHub
from tests.conftest import READ_TOKEN, WRITE_TOKEN
from tests.data import make_table, parquet_bytes

FILES = 4
ROWS_PER_FILE = 20_000  # 4 row groups of 5,000 rows each


@dataclass
class Dataset:
    repo_id: str
    table: pa.Table
    files: int


def start_hub(root: Path, **mode: Any) -> LocalHub:
    return LocalHub(root, tokens={WRITE_TOKEN: "write", READ_TOKEN: "read"}, mode=HubMode.real_hub(**mode)).start()


def publish(hub: LocalHub, *, private: bool = False, files: int = FILES, rows: int = ROWS_PER_FILE) -> Dataset:
    """`files` Parquet files of `rows` rows (5,000-row row groups) as data/train-NNNNN-of-NNNNN.parquet."""
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)
    repo_id = f"real/ds-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo_id, repo_type="dataset", private=private)
    table = make_table(files * rows)
    ops = [CommitOperationAdd(f"data/train-{i:05d}-of-{files:05d}.parquet",
                              parquet_bytes(table.slice(i * rows, rows))) for i in range(files)]
    api.create_commit(repo_id, repo_type="dataset", operations=ops, commit_message="data")
    return Dataset(repo_id, table, files)


@pytest.fixture(scope="module")
def real_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHub]:
    """A real-Hub-mode hub with a free user's quotas and the Hub's one-hour URL expiry."""
    hub = start_hub(tmp_path_factory.mktemp("realhub"))
    yield hub
    hub.close()


@pytest.fixture(scope="module")
def dataset(real_hub: LocalHub) -> Dataset:
    return publish(real_hub)


def counts(hub: LocalHub) -> dict[str, int]:
    """What a job cost the hub: resolver and API requests, requests to the other host the resolver redirects to
    (the CDN for LFS files, the cas-bridge for Xet files: "cdn" here), and tokens leaked to it."""
    c = hub.counters()
    other = [c["cdn"], c["bridge"]]
    return {"resolvers": c["rate_limits"]["resolvers"]["requests"], "api": c["rate_limits"]["api"]["requests"],
            "limited": c["rate_limits"]["resolvers"]["limited"] + c["rate_limits"]["api"]["limited"],
            "commits": c["rate_limits"]["commits"]["requests"], "cdn": sum(o["requests"] for o in other),
            "cdn_with_token": sum(o["authorized"] for o in other), "cdn_refused": sum(o["errors"] for o in other),
            "xet_tokens": c["xet-token"]["requests"]}


ROW_SCHEMA = pa.schema([("id", pa.int64()), ("text", pa.string()), ("label", pa.int32()), ("score", pa.float64()),
                       ("flag", pa.bool_())])


def sorted_rows(table: pa.Table) -> pa.Table:
    """The rows in id order, in one schema whatever engine read them (Daft: large_string; Spark: nullable)."""
    cols = table.select(ROW_SCHEMA.names)
    return pa.Table.from_arrays([c.cast(f.type) for c, f in zip(cols.columns, ROW_SCHEMA, strict=True)],
                                schema=ROW_SCHEMA).sort_by("id").combine_chunks()
