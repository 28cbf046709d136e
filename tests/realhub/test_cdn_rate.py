"""The real-Hub mode's per-connection CDN rate (`HubMode.cdn_connection_rate`, `--cdn-connection-rate`): each TCP
connection to the signed-URL/bridge host is paced, so a capped connection is slower than an uncapped one and two
connections together read about twice as fast as one; hfconnect's reader, which keeps several ranges in flight,
reads a capped hub exactly with one resolver request per file.

Nothing here asserts a duration: only which read finishes first, on a rate that leaves a wide margin."""

from __future__ import annotations

import http.client
import os
import threading
from urllib.parse import urlsplit

import pytest

from hfconnect.localhub import HubMode, LocalHub
from tests.conftest import READ_TOKEN, WRITE_TOKEN
from tests.realhub.conftest import counts, publish, sorted_rows, start_hub

pytestmark = pytest.mark.integration

RATE = 4_000_000  # bytes per second per connection
BLOB = os.urandom(4 * 1024 * 1024)


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - (capped hub, uncapped hub, repo id)
    from huggingface_hub import HfApi

    root = tmp_path_factory.mktemp("capped")
    hub = start_hub(root, cdn_connection_rate=RATE)
    api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)
    api.create_repo("rate/blob", repo_type="dataset")
    api.upload_file(path_or_fileobj=BLOB, path_in_repo="blob.bin", repo_id="rate/blob", repo_type="dataset")
    plain = LocalHub(root, tokens={WRITE_TOKEN: "write", READ_TOKEN: "read"}, mode=HubMode.real_hub()).start()
    yield hub, plain, "rate/blob"
    plain.stop()
    hub.close()


def _signed(hub: LocalHub, repo: str) -> str:
    """Where `/resolve/` sends the blob: the signed URL on the other host."""
    parts = urlsplit(f"{hub.endpoint}/datasets/{repo}/resolve/main/blob.bin")
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("HEAD", parts.path, headers={"Authorization": f"Bearer {READ_TOKEN}"})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == 302
    return resp.getheader("Location") or ""


def _race(reads: dict[str, tuple[str, int, int]]) -> tuple[list[str], dict[str, bytes]]:
    """Start every read at once, each on a connection of its own: the order they finish in, and their bytes."""
    order: list[str] = []
    got: dict[str, bytes] = {}
    lock = threading.Lock()
    start = threading.Barrier(len(reads))

    def read(name: str, url: str, lo: int, hi: int) -> None:
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        conn.connect()
        start.wait()
        conn.request("GET", f"{parts.path}?{parts.query}", headers={"Range": f"bytes={lo}-{hi - 1}"})
        body = conn.getresponse().read()
        conn.close()
        with lock:
            order.append(name)
            got[name] = body

    threads = [threading.Thread(target=read, args=(n, *r)) for n, r in reads.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return order, got


def test_the_mode_shows_the_rate(capped) -> None:
    hub, plain, _ = capped
    assert hub._admin("GET", "mode")["cdn_connection_rate"] == RATE
    assert plain._admin("GET", "mode")["cdn_connection_rate"] == 0


def test_a_capped_connection_is_slower_than_an_uncapped_one(capped) -> None:
    hub, plain, repo = capped
    order, got = _race({"capped": (_signed(hub, repo), 0, len(BLOB)), "uncapped": (_signed(plain, repo), 0, len(BLOB))})
    assert got["capped"] == got["uncapped"] == BLOB
    assert order == ["uncapped", "capped"]


def test_two_connections_together_read_about_twice_as_fast_as_one(capped) -> None:
    """One connection reads the blob; two others read half of it each, at the same time: both halves are in
    before the whole (at the rate: ~0.45 s for a half, ~1 s for the whole)."""
    hub, _, repo = capped
    url, half = _signed(hub, repo), len(BLOB) // 2
    order, got = _race({"one": (url, 0, len(BLOB)), "first half": (url, 0, half),
                        "second half": (url, half, len(BLOB))})
    assert got["first half"] + got["second half"] == got["one"] == BLOB
    assert order[-1] == "one"


def test_hfconnect_reads_a_capped_hub_exactly_resolving_each_file_once(tmp_path) -> None:
    from hfconnect.hub.http import signed_urls
    from tests.realhub.test_reads import core_read

    hub = start_hub(tmp_path, cdn_connection_rate=20_000_000)
    try:
        dataset = publish(hub, files=2)
        signed_urls._targets.clear()
        hub.reset_counters()
        table, _ = core_read(hub, dataset.repo_id, shard_size="150KB")
        c = counts(hub)
        assert sorted_rows(table).equals(sorted_rows(dataset.table))
        assert c["resolvers"] <= dataset.files + 1 and c["cdn_with_token"] == 0 and c["limited"] == 0
    finally:
        hub.close()
