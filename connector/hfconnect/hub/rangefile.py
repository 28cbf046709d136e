"""A seekable, read-only file over HTTP ranges that pyarrow reads Parquet through.

Why: pyarrow already knows which bytes a query needs (footer, then only the selected column chunks of the
selected row groups, coalesced). This file serves those reads from spans fetched ahead of time (the reader's
read-ahead, read.ahead, keeps several row groups' spans in flight within a byte budget), splits big spans into
parts fetched over parallel connections (a CDN serves each connection at a bounded rate), serves a read as soon as
the parts it covers have arrived, and falls back to an exact range request for anything not prefetched. Memory
stays bounded: spans are evicted once their row group is decoded; only the footer tail is kept.
"""

from __future__ import annotations

import io
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import HubClient

__all__ = ["RangeFile", "io_pool"]

TAIL_BYTES = 64 * 1024
PART_BYTES = 4 * 1024 * 1024  # spans above this are fetched as parallel parts: a CDN paces each connection
IO_THREADS = 32  # per process: requests in flight over every task of the process (each task's own budget bounds it)
_pool: dict[int, ThreadPoolExecutor] = {}
_pool_lock = threading.Lock()


def io_pool() -> ThreadPoolExecutor:
    """Process-wide I/O threads (network waits release the GIL)."""
    pid = os.getpid()
    with _pool_lock:
        if pid not in _pool:
            _pool[pid] = ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="hfconnect-io")
        return _pool[pid]


class RangeFile(io.RawIOBase):
    def __init__(self, client: HubClient, url: str, size: int, name: str, tail_bytes: int = TAIL_BYTES) -> None:
        super().__init__()
        self.client, self.url, self._size, self.name = client, url, size, name
        self.tail_bytes = max(TAIL_BYTES, tail_bytes)  # a footer read fetches at least this much of the end
        self._pos = 0
        self._spans: dict[tuple[int, int], _Parts] = {}
        self._tail: tuple[int, bytearray] | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()  # stops prefetches nobody will read

    # ---- io.RawIOBase -----------------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def size(self) -> int:
        return self._size

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        n = min(len(buffer), self._size - self._pos)
        if n <= 0:
            return 0
        data = self._read_at(self._pos, n)
        buffer[:n] = data
        self._pos += n
        return n

    def read(self, size: int = -1) -> bytes | bytearray | memoryview:
        n = self._size - self._pos if size is None or size < 0 else min(size, self._size - self._pos)
        if n <= 0:
            return b""
        data = self._read_at(self._pos, n)
        self._pos += n
        return data

    # ---- spans --------------------------------------------------------------------------------
    def _read_at(self, start: int, n: int) -> bytes | bytearray | memoryview:
        end = start + n
        tail = self._tail
        if tail is not None and start >= tail[0]:
            return memoryview(tail[1])[start - tail[0]: end - tail[0]]
        with self._lock:
            span = next(((s, e) for (s, e) in self._spans if s <= start and end <= e), None)
            fut = self._spans.get(span) if span else None
        if fut is not None and span is not None:
            data = fut.wait(start - span[0], end - span[0])  # only the parts this read covers
            return memoryview(data)[start - span[0]: end - span[0]]  # no copy: pyarrow reads the buffer
        if end == self._size and tail is None:  # the footer: keep a generous tail for later fragments
            tail_start = max(0, min(start, self._size - self.tail_bytes))
            self._tail = (tail_start, self.client.read_range(self.url, tail_start, self._size))
            return memoryview(self._tail[1])[start - tail_start:]
        return self._fetch(start, end)

    def _submit(self, start: int, end: int) -> _Parts:
        """Fetch [start, end) as parallel parts straight into one buffer. Parts never wait on other parts."""
        buf = bytearray(end - start)
        view = memoryview(buf)
        bounds = list(range(start, end, PART_BYTES)) + [end]
        futures = [io_pool().submit(self.client.read_range_into, self.url, a, b, view[a - start: b - start],
                                    self._closed.is_set)
                   for a, b in zip(bounds, bounds[1:], strict=False)]
        return _Parts(futures, buf, [(a - start, b - start) for a, b in zip(bounds, bounds[1:], strict=False)])

    def _fetch(self, start: int, end: int) -> bytes | bytearray:
        if end - start <= PART_BYTES:
            return self.client.read_range(self.url, start, end)
        return self._submit(start, end).result()

    def prefetch(self, spans: list[tuple[int, int]]) -> int:
        """Start fetching these [start, end) spans in the background; the bytes newly asked for. Spans inside the
        footer's tail are served from it (a small file came whole with its footer): never asked for again."""
        asked = 0
        for span in spans:
            with self._lock:
                tail = self._tail
                if tail is not None and span[0] >= tail[0]:
                    continue
                if span not in self._spans and not self._closed.is_set():
                    self._spans[span] = self._submit(*span)
                    asked += span[1] - span[0]
        return asked

    def evict(self, spans: list[tuple[int, int]]) -> None:
        with self._lock:
            for span in spans:
                self._spans.pop(span, None)

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            for parts in self._spans.values():
                parts.cancel()
            self._spans.clear()
        super().close()


class _Parts:
    """One span being fetched as parts into a shared buffer; result() waits for all of them, wait() for those a
    read covers (the first column chunk decodes while the next parts still arrive)."""

    def __init__(self, futures: list[Future[None]], buf: bytearray,
                 bounds: list[tuple[int, int]] | None = None) -> None:
        self._futures = futures
        self._buf = buf
        self._bounds = bounds if bounds is not None else [(0, len(buf))] * len(futures)  # within the buffer

    def result(self) -> bytearray:
        for f in self._futures:
            f.result()
        return self._buf

    def wait(self, lo: int, hi: int) -> bytearray:
        """The buffer once bytes [lo, hi) of it have arrived."""
        for f, (a, b) in zip(self._futures, self._bounds, strict=True):
            if a < hi and lo < b:
                f.result()
        return self._buf

    def cancel(self) -> None:
        for f in self._futures:
            f.cancel()


def coalesce(ranges: list[tuple[int, int]], gap: int = 1024 * 1024) -> list[tuple[int, int]]:
    """Merge [start, end) ranges closer than `gap` bytes: fewer requests, a little over-read."""
    out: list[list[int]] = []
    for start, end in sorted(ranges):
        if out and start - out[-1][1] <= gap:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(s, e) for s, e in out]
