"""One ordered stream of batches -> files of contiguous rows encoded on several threads at once.

Why: an engine may hand a whole job's rows to one thread, one small batch at a time (Daft's native runner
calls a sink's write() once per morsel, one after the other). Encoding Parquet (CDC, zstd) is CPU-bound and
pyarrow releases the GIL while it encodes, so the stream is cut into files of about `file_bytes` (Arrow
bytes) and each file is written and uploaded by `write_task` on its own worker thread: file i+1 fills while
file i encodes and uploads. Rows stay in order inside each file (statistics keep pruning well), memory stays
bounded (a few batches queued per file, plus each writer's row-group buffer), and nothing is committed here.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future, wait

import pyarrow as pa

from ..options import WriteOptions
from .task import TaskMessage, write_task

__all__ = ["ParallelFileWriter"]

_END = object()
QUEUED_BATCHES = 8  # per file being filled: back-pressure on the producer when the workers fall behind


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
        self._next_partition = first_partition
        self._aborted = threading.Event()
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        self._raise_if_failed()
        if batch.num_rows == 0:
            return
        if self._queue is None:
            self._open_file()
        assert self._queue is not None
        self._put(batch)
        self.rows += batch.num_rows
        self._filled += batch.nbytes
        if self._filled >= self.file_bytes:
            self._close_file()

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
        self._queue, self._filled = q, 0

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

    def _write_file(self, q: queue.Queue[object], partition: int) -> TaskMessage:
        def batches() -> Iterator[pa.RecordBatch]:
            while True:
                item = q.get()
                if item is _END or self._aborted.is_set():
                    if self._aborted.is_set():
                        raise RuntimeError("write aborted")
                    return
                yield item  # type: ignore[misc]

        try:
            return write_task(batches(), self.schema, self.options, job_id=self.job_id, partition_id=partition)
        except BaseException:
            while True:  # unblock a producer waiting on this queue
                try:
                    q.get_nowait()
                except queue.Empty:
                    break
            raise
