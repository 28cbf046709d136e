"""One ordered stream of batches -> files of contiguous rows encoded on several threads at once.

Why: an engine may hand a whole job's rows to one thread, one small batch at a time (Daft's native runner
calls a sink's write() once per morsel, one after the other). Encoding Parquet (CDC, zstd) is CPU-bound and
pyarrow releases the GIL while it encodes, so the stream is cut into files of about `file_bytes` (Arrow
bytes) and each file is written and uploaded by `write_task` on its own worker thread: file i+1 fills while
file i encodes and uploads. Rows stay in order inside each file (statistics keep pruning well), memory stays
bounded (a few batches queued per file, plus each writer's row-group buffer), and nothing is committed here.

Where a file ends depends on content, not only on size: once it holds the rows of about `file_bytes`, it ends
after the first row whose content hash has its low bits zero (about one row in an eighth of a file's; by count at
twice that if none comes). Cut by size alone, one inserted row would shift every later file's first row, so every later
file would differ from the last write's from its first byte on, and the Hub's Xet storage, which looks up a
file's first chunk to find what it already holds (global dedup), would store them all again. Cut by content,
the files after an edit start at the same rows as before and are the same bytes.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future, wait

import pyarrow as pa
import pyarrow.compute as pc

from ..options import WriteOptions
from .parquet_writer import row_hashes
from .task import TaskMessage, write_task

__all__ = ["FileCuts", "ParallelFileWriter"]

_END = object()
QUEUED_BATCHES = 8  # per file being filled: back-pressure on the producer when the workers fall behind
CUTS_PER_FILE = 8  # content-defined file ends: one candidate row per ~1/8 of a file's rows
MAX_FILE_FACTOR = 2  # no candidate row by then: the file ends by size
HASHED_COLUMNS = 2  # a row's hash for file ends covers its first columns only: a column added leaves them be


class FileCuts:
    """Where the files of one stream end (see the module's docstring). The rows of `file_bytes` Arrow bytes, as the
    first file holds them, rounded up to a power of two, are every file's minimum from then on (rows, not bytes:
    a count depends neither on how the engine batched the rows nor, mostly, on a column added since). A file ends at the
    first row past its minimum whose content hash & mask is 0, at MAX_FILE_FACTOR x the minimum by count."""

    def __init__(self, file_bytes: int) -> None:
        self.file_bytes = file_bytes
        self.min_rows = 0  # fixed at the first file's end
        self._mask = 0

    def end(self, batch: pa.RecordBatch, rows: int, nbytes: int) -> int | None:
        """How many rows of `batch` end a file holding `rows` rows of `nbytes` bytes; None: it goes on."""
        n = batch.num_rows
        if not self.min_rows:
            if nbytes + batch.nbytes < self.file_bytes:
                return None
            est = rows + math.ceil((self.file_bytes - nbytes) * n / max(1, batch.nbytes))
            self.min_rows = 1 << (est - 1).bit_length()  # a power of two: the same after a column is added
            self._mask = (1 << max(0, (self.min_rows // CUTS_PER_FILE).bit_length() - 1)) - 1
        start, limit = self.min_rows - rows, MAX_FILE_FACTOR * self.min_rows - rows
        if start >= n:
            return None
        start = max(0, start)
        rows_after = pa.Table.from_batches([batch.slice(start, min(n, limit) - start)])
        hashes = row_hashes(rows_after, max_columns=HASHED_COLUMNS)
        if hashes is None:  # no column to hash: by count
            return max(1, start)
        hits = pc.indices_nonzero(pc.equal(pc.bit_wise_and(hashes, self._mask), 0))
        if len(hits):
            return start + hits[0].as_py() + 1
        return limit if limit <= n else None


class ParallelFileWriter:
    """write(batch) from one producer thread, then finish() -> one TaskMessage per file (or abort())."""

    def __init__(self, schema: pa.Schema, options: WriteOptions, *, job_id: str, workers: int,
                 file_bytes: int, first_partition: int = 0) -> None:
        self.schema, self.options, self.job_id = schema, options, job_id
        self.file_bytes = file_bytes
        self._slots = threading.Semaphore(max(1, workers))  # files encoding at once
        self._futures: list[Future[TaskMessage]] = []
        self._queue: queue.Queue[object] | None = None
        self._filled = 0
        self._file_rows = 0
        self._next_partition = first_partition
        self._aborted = threading.Event()
        self._cuts = FileCuts(file_bytes)
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        self._raise_if_failed()
        while batch.num_rows:
            if self._queue is None:
                self._open_file()
            cut = self._cuts.end(batch, self._file_rows, self._filled)
            head = batch if cut is None else batch.slice(0, cut)
            if head.num_rows:
                self._put(head)
                self.rows += head.num_rows
                self._file_rows += head.num_rows
                self._filled += head.nbytes
            if cut is None:
                return
            self._close_file()
            batch = batch.slice(cut)


    def finish(self) -> list[TaskMessage]:
        """Close the last file, wait for every file's upload; a worker's error is raised here."""
        if self._queue is not None:
            self._close_file()
        try:
            return [f.result() for f in self._futures]
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Stop: workers drop their files (write_task removes its temp files on error); nothing is committed."""
        self._aborted.set()
        if self._queue is not None:
            with contextlib.suppress(queue.Full):  # wakes a worker waiting on an empty queue; a full one is
                self._queue.put_nowait(_END)      # being drained by a worker that will see the abort
            self._queue = None
        wait(self._futures)  # each worker removes its temp files before it ends

    def _open_file(self) -> None:
        self._slots.acquire()  # wait until a worker is free: no more files in flight than workers
        q: queue.Queue[object] = queue.Queue(maxsize=QUEUED_BATCHES)
        partition = self._next_partition
        self._next_partition += 1
        future: Future[TaskMessage] = Future()
        future.add_done_callback(lambda _: self._slots.release())
        # Daemon threads: a writer its caller abandoned (it never calls finish or abort) cannot hang the exit.
        threading.Thread(target=self._run, args=(future, q, partition), daemon=True,
                         name=f"hfconnect-encode-{partition}").start()
        self._futures.append(future)
        self._queue, self._filled, self._file_rows = q, 0, 0

    def _close_file(self) -> None:
        assert self._queue is not None
        self._put(_END)
        self._queue = None

    def _put(self, item: object) -> None:
        assert self._queue is not None
        while True:  # a bounded put that notices a failed worker instead of blocking forever
            self._raise_if_failed()
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def _raise_if_failed(self) -> None:
        for f in self._futures:
            if f.done() and not f.cancelled() and f.exception() is not None:
                raise f.exception()  # type: ignore[misc]

    def _run(self, future: Future[TaskMessage], q: queue.Queue[object], partition: int) -> None:
        try:
            future.set_result(self._write_file(q, partition))
        except BaseException as exc:
            future.set_exception(exc)

    @staticmethod
    def _task(batches: Iterator[pa.RecordBatch], schema: pa.Schema, options: WriteOptions, *, job_id: str,
              partition_id: int) -> TaskMessage:
        """What writes and uploads one file's rows (a subclass writing elsewhere replaces it)."""
        return write_task(batches, schema, options, job_id=job_id, partition_id=partition_id)

    def _write_file(self, q: queue.Queue[object], partition: int) -> TaskMessage:
        def batches() -> Iterator[pa.RecordBatch]:
            while True:
                item = q.get()
                if item is _END or self._aborted.is_set():
                    if self._aborted.is_set():
                        raise RuntimeError("write aborted")
                    return
                yield item

        try:
            return self._task(batches(), self.schema, self.options, job_id=self.job_id, partition_id=partition)
        except BaseException:
            while True:  # unblock a producer waiting on this queue
                try:
                    q.get_nowait()
                except queue.Empty:
                    break
            raise
