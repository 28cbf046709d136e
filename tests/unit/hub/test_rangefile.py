"""RangeFile: the seekable file pyarrow reads Parquet through, over HTTP ranges of the local hub's app run
in-process. The footer's tail is kept, prefetched spans serve reads without new requests, big spans go as
parallel parts, and anything else is one exact range request; `coalesce` merges nearby ranges.

Each test that counts requests runs on a Xet file (as huggingface.co stores them: `/resolve/` answers 302 once,
then every range is a request to the signed bridge URL) and on an LFS file (served by `/resolve/` itself), and
counts the requests of the route that serves the bytes: the redirect is http.py's business, not RangeFile's."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hfconnect.hub import rangefile
from hfconnect.hub.client import HubClient
from hfconnect.hub.rangefile import TAIL_BYTES, RangeFile, coalesce, io_pool
from hfconnect.hub.retry import RetryPolicy
from tests.data import make_table, parquet_bytes
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub

BLOB = bytes(range(256)) * 1024  # 256 KiB, every position recognisable
FAST = RetryPolicy(attempts=4, base=0.01, cap=0.05, budget=1.0)


# Where a file's bytes come from: a Xet file's from the bridge `/resolve/` redirects to, an LFS file's from
# `/resolve/` itself (the local hub serves those directly outside the real-Hub mode).
BYTES_ROUTE = {"xet": "bridge", "lfs": "resolve"}


class Served(NamedTuple):
    hub: InProcessHub
    client: HubClient
    url: str
    route: str  # the route class that serves the file's bytes


@pytest.fixture(params=sorted(BYTES_ROUTE))
def storage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def served(inproc_hub: InProcessHub, storage: str) -> Iterator[Served]:
    inproc_hub.dataset("o/rf", {"blob.parquet": BLOB}, lfs=storage == "lfs")
    client = HubClient(inproc_hub.endpoint, WRITE_TOKEN, FAST)
    yield Served(inproc_hub, client, client.file_url(client.snapshot("o/rf", "main"), "blob.parquet"),
                 BYTES_ROUTE[storage])


def _gets(served: Served) -> int:
    """Range requests that reached the bytes: one per exact read or part, whatever redirected to them."""
    return served.hub.counters()[served.route]["requests"]


def test_seek_tell_read_and_readinto_are_a_files(served: Served) -> None:
    _, client, url, _ = served
    with RangeFile(client, url, len(BLOB), "blob.parquet") as f:
        assert (f.readable(), f.seekable(), f.size(), f.tell()) == (True, True, len(BLOB), 0)
        assert f.read(10) == BLOB[:10] and f.tell() == 10
        assert f.seek(5, io.SEEK_CUR) == 15 and f.read(3) == BLOB[15:18]
        assert f.seek(-4, io.SEEK_END) == len(BLOB) - 4
        assert bytes(f.read()) == BLOB[-4:] and f.read() == b"" and f.read(7) == b""
        assert f.seek(-10, io.SEEK_SET) == 0  # clamped at the start
        f.seek(len(BLOB) - 3)
        buf = bytearray(8)
        assert f.readinto(buf) == 3 and buf[:3] == BLOB[-3:]  # a short read at the end
        assert f.readinto(buf) == 0
        f.seek(len(BLOB) + 100)
        assert f.read(1) == b""


def test_the_footer_tail_is_kept_for_later_footer_reads(served: Served) -> None:
    _, client, url, _ = served
    f = RangeFile(client, url, len(BLOB), "blob.parquet")
    before = _gets(served)
    f.seek(-8, io.SEEK_END)
    assert bytes(f.read(8)) == BLOB[-8:]  # Parquet's magic and footer length: a read that ends at the end
    assert _gets(served) == before + 1
    f.seek(len(BLOB) - TAIL_BYTES)
    assert bytes(f.read(1000)) == BLOB[-TAIL_BYTES:-TAIL_BYTES + 1000]  # inside the kept tail: no request
    assert _gets(served) == before + 1
    f.seek(100)
    assert bytes(f.read(10)) == BLOB[100:110]  # elsewhere: one exact range
    assert _gets(served) == before + 2
    f.close()


def test_spans_inside_the_footer_tail_are_not_fetched_again(served: Served) -> None:
    """A small file comes whole with its footer read: the read-ahead's spans of it cost no request."""
    _, client, url, _ = served
    f = RangeFile(client, url, len(BLOB), "blob.parquet", tail_bytes=len(BLOB))
    f.seek(-8, io.SEEK_END)
    f.read(8)  # the footer read: the whole file, one request
    before = _gets(served)
    assert f.prefetch([(1000, 50_000), (60_000, 70_000)]) == 0
    f.seek(2000)
    assert bytes(f.read(40_000)) == BLOB[2000:42_000]
    assert _gets(served) == before
    f.close()


def test_prefetched_spans_serve_reads_until_evicted(served: Served) -> None:
    _, client, url, _ = served
    f = RangeFile(client, url, len(BLOB), "blob.parquet")
    before = _gets(served)
    f.prefetch([(1000, 50_000), (60_000, 70_000)])
    f.prefetch([(1000, 50_000)])  # already under way: not fetched twice
    f.seek(2000)
    assert bytes(f.read(40_000)) == BLOB[2000:42_000]
    f.seek(60_000)
    assert bytes(f.read(10_000)) == BLOB[60_000:70_000]
    assert _gets(served) == before + 2
    f.evict([(1000, 50_000)])
    f.seek(2000)
    assert bytes(f.read(10)) == BLOB[2000:2010]  # evicted: an exact range again
    assert _gets(served) == before + 3
    f.seek(65_000)
    assert bytes(f.read(10_000)) == BLOB[65_000:75_000]  # not inside one span: an exact range
    assert _gets(served) == before + 4
    f.close()
    assert f.closed


def test_big_spans_are_fetched_as_parallel_parts_into_one_buffer(served: Served,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _, client, url, _ = served
    monkeypatch.setattr(rangefile, "PART_BYTES", 20_000)
    f = RangeFile(client, url, len(BLOB), "blob.parquet")
    before = _gets(served)
    f.prefetch([(10, 100_010)])
    f.seek(10)
    assert bytes(f.read(100_000)) == BLOB[10:100_010]
    assert _gets(served) == before + 5  # 100 000 bytes in 20 000-byte parts
    f.seek(0)
    assert bytes(f.read(50_000)) == BLOB[:50_000]  # a big exact read: parts too
    assert _gets(served) == before + 8
    f.close()


def test_pyarrow_reads_only_the_column_chunks_it_needs(inproc_hub: InProcessHub, storage: str) -> None:
    table = make_table(20_000, columns=("id", "hex", "score"))
    data = parquet_bytes(table, row_group_size=5_000)
    inproc_hub.dataset("o/pq", {"t.parquet": data}, lfs=storage == "lfs")
    client = HubClient(inproc_hub.endpoint, WRITE_TOKEN, FAST)
    url = client.file_url(client.snapshot("o/pq", "main"), "t.parquet")
    route = (BYTES_ROUTE[storage],)
    sent = inproc_hub.bytes_sent(route)
    with RangeFile(client, url, len(data), "t.parquet") as f:
        got = pq.ParquetFile(pa.PythonFile(f, mode="r")).read(columns=["id"])
    assert got["id"].equals(table["id"])
    fetched = inproc_hub.bytes_sent(route) - sent
    assert fetched > 0  # counted where the bytes came from
    md = pq.ParquetFile(io.BytesIO(data)).metadata
    hex_bytes = sum(md.row_group(i).column(1).total_compressed_size for i in range(md.num_row_groups))
    assert fetched < len(data) - hex_bytes / 2  # the big text column stayed on the hub


def test_close_stops_prefetches_nobody_will_read(served: Served) -> None:
    """A reader that stops early (a LIMIT, a failed task) must not leave the I/O threads fetching for nobody."""
    import time

    hub, client, url, route = served
    hub.set_faults([{"route": route, "action": "latency", "latency_ms": 200}])
    f = RangeFile(client, url, len(BLOB), "blob.parquet")
    before = _gets(served)
    threads = rangefile.IO_THREADS
    f.prefetch([(i * 1000, i * 1000 + 500) for i in range(threads + 16)])  # more spans than I/O threads
    f.close()
    io_pool().submit(lambda: None).result()  # every fetch that was going to start has started
    time.sleep(0.3)
    assert f.closed
    assert _gets(served) - before <= threads  # the ones still queued never asked


@pytest.mark.parametrize(("ranges", "gap", "want"), [
    ([], 10, []),
    ([(0, 10)], 10, [(0, 10)]),
    ([(50, 60), (0, 10)], 10, [(0, 10), (50, 60)]),  # sorted
    ([(0, 10), (20, 30)], 10, [(0, 30)]),  # a gap of exactly `gap` is merged
    ([(0, 10), (21, 30)], 10, [(0, 10), (21, 30)]),
    ([(0, 100), (10, 20), (90, 150)], 0, [(0, 150)]),  # overlaps and containment
    ([(0, 10), (10, 20)], 0, [(0, 20)]),  # adjacent
])
def test_coalesce(ranges: list[tuple[int, int]], gap: int, want: list[tuple[int, int]]) -> None:
    assert coalesce(ranges, gap=gap) == want


def test_coalesce_default_gap_is_a_mebibyte() -> None:
    assert coalesce([(0, 1), (1 + 1024 * 1024, 2 + 1024 * 1024)]) == [(0, 2 + 1024 * 1024)]
    assert coalesce([(0, 1), (2 + 1024 * 1024, 3 + 1024 * 1024)]) == [(0, 1), (2 + 1024 * 1024, 3 + 1024 * 1024)]


def test_one_io_pool_per_process() -> None:
    assert io_pool() is io_pool()


def test_a_read_waits_only_for_the_parts_it_covers() -> None:
    """The first column chunk of a big span decodes while the span's later parts still arrive."""
    from concurrent.futures import Future

    first, second = Future(), Future()
    first.set_result(None)
    parts = rangefile._Parts([first, second], bytearray(b"ab"), [(0, 1), (1, 2)])
    assert parts.wait(0, 1) == b"ab"  # the second part is still under way: no wait for it
    assert not second.done()
    second.set_result(None)
    assert parts.wait(0, 2) == parts.result() == b"ab"
