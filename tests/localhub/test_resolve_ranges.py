"""`resolve` downloads: HEAD headers and Range semantics the clients depend on."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
import requests
from huggingface_hub import CommitOperationAdd

pytestmark = pytest.mark.integration
PAYLOAD = os.urandom(200_000)


@pytest.fixture(scope="module")
def served(api) -> tuple[str, str]:
    import uuid

    rid = f"tests/ranges-{uuid.uuid4().hex[:8]}"
    api.create_repo(rid, repo_type="dataset")
    info = api.create_commit(rid, repo_type="dataset", commit_message="x", operations=[
        # a BufferedIOBase goes through LFS even with Xet on: these are the hub's own Range semantics (a Xet file
        # redirects to the bridge, tests/localhub/test_xet.py)
        CommitOperationAdd("blob.parquet", io.BytesIO(PAYLOAD)), CommitOperationAdd("small.txt", b"0123456789"),
        CommitOperationAdd("empty.txt", b"")])
    return rid, info.oid


def test_head_headers_lfs_and_regular(hub, served) -> None:
    rid, sha = served
    r = requests.head(f"{hub.endpoint}/datasets/{rid}/resolve/main/blob.parquet")
    assert r.status_code == 200
    assert r.headers["X-Repo-Commit"] == sha
    assert r.headers["X-Linked-Etag"] == f'"{hashlib.sha256(PAYLOAD).hexdigest()}"'
    assert r.headers["X-Linked-Size"] == str(len(PAYLOAD)) == r.headers["Content-Length"]
    assert r.headers["Accept-Ranges"] == "bytes"
    r = requests.head(f"{hub.endpoint}/datasets/{rid}/resolve/{sha}/small.txt")
    git_oid = hashlib.sha1(b"blob 10\0" + b"0123456789").hexdigest()
    assert r.headers["ETag"] == f'"{git_oid}"' and "X-Linked-Etag" not in r.headers
    assert "immutable" in r.headers["Cache-Control"]
    assert not any(h.lower().startswith("x-xet") for h in r.headers)


@pytest.mark.parametrize(("header", "start", "end"), [
    ("bytes=0-99", 0, 99), ("bytes=1000-", 1000, len(PAYLOAD) - 1), ("bytes=-500", len(PAYLOAD) - 500,
                                                                      len(PAYLOAD) - 1),
    ("bytes=199990-300000", 199990, len(PAYLOAD) - 1), ("bytes=-999999", 0, len(PAYLOAD) - 1),
])
def test_ranges(hub, served, header: str, start: int, end: int) -> None:
    rid, _ = served
    r = requests.get(f"{hub.endpoint}/datasets/{rid}/resolve/main/blob.parquet", headers={"Range": header})
    assert r.status_code == 206
    assert r.headers["Content-Range"] == f"bytes {start}-{end}/{len(PAYLOAD)}"
    assert r.content == PAYLOAD[start:end + 1]


@pytest.mark.parametrize("header", ["bytes=200000-", "bytes=300000-300010", "bytes=-0", "bytes=10-5"])
def test_unsatisfiable_ranges_are_416(hub, served, header: str) -> None:
    rid, _ = served
    r = requests.get(f"{hub.endpoint}/datasets/{rid}/resolve/main/blob.parquet", headers={"Range": header})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == f"bytes */{len(PAYLOAD)}"


def test_full_get_and_empty_file(hub, served) -> None:
    rid, _ = served
    r = requests.get(f"{hub.endpoint}/datasets/{rid}/resolve/main/blob.parquet")
    assert r.status_code == 200 and r.content == PAYLOAD
    r = requests.get(f"{hub.endpoint}/datasets/{rid}/resolve/main/empty.txt")
    assert r.status_code == 200 and r.content == b""


def test_counters_count_bytes_served(own_hub, own_api) -> None:
    """On a hub of its own: the counters are global to a hub."""
    own_api.create_repo("tests/ranges", repo_type="dataset")
    own_api.create_commit("tests/ranges", repo_type="dataset", commit_message="x",
                          operations=[CommitOperationAdd("blob.parquet", io.BytesIO(PAYLOAD))])  # LFS
    own_hub.reset_counters()
    requests.get(f"{own_hub.endpoint}/datasets/tests/ranges/resolve/main/blob.parquet",
                 headers={"Range": "bytes=0-999"})
    c = own_hub.counters()
    assert c["resolve"]["requests"] == 1 and c["resolve"]["bytes_sent"] == 1000
    assert c["api"]["requests"] == 0
