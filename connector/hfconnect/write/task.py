"""The task side of a write: Arrow batches -> optimized Parquet files -> uploaded from this task.

Uploads go through huggingface_hub's own `preupload_lfs_files` (through hf_xet to Xet storage whenever
huggingface_hub uses it, else LFS), as soon as each file closes; nothing is committed here. The task returns a
small, picklable message that the driver turns into ONE commit.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

from ..errors import HubRequestError
from ..hub import xet
from ..hub.client import HubClient
from ..options import WriteOptions
from .parquet_writer import FinishedFile, RollingParquetWriter, WriterSettings
from .routing import check_split_column, data_schema, split_batches
from .tar_writer import RollingTarWriter

if TYPE_CHECKING:
    from huggingface_hub import CommitOperationAdd

    from ..hub.bucket_upload import BucketUpload

__all__ = ["SplitFileWriter", "TaskMessage", "Upload", "UploadedFile", "file_suffix", "run_split_writer",
           "schema_fingerprint", "write_routed_task", "write_task"]

log = logging.getLogger("hfconnect.write")
# Below this size a server may take a file as a regular (non-LFS) file, whose bytes travel inside the commit:
# such files keep their bytes in the operation (the Hub's own threshold for files no LFS pattern covers).
REGULAR_FILE_LIMIT = 10 * 1024 * 1024
# Small files upload in groups, one `preupload_lfs_files` call (one Xet session) per group: per call the fixed
# cost (a preupload request, a Xet token and session, a shard; bench/MEASUREMENTS.md) dominates for many small files.
GROUP_FILES = 64
GROUP_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class UploadedFile:
    operation: CommitOperationAdd | BucketUpload = field(repr=False)  # already uploaded (repo or bucket)
    sha256: str
    size: int
    rows: int
    row_groups: int
    index: int
    split: str = ""  # the split the file belongs to ("": the job's `split` option)


# How a task's finished files leave it: (files, index of the first) -> what each became, in order.
Upload = Callable[[list[FinishedFile], int], list[UploadedFile]]


@dataclass(frozen=True)
class TaskMessage:
    job_id: str
    partition_id: int
    attempt_id: int
    schema_fingerprint: str
    files: tuple[UploadedFile, ...]

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


def schema_fingerprint(schema: pa.Schema) -> str:
    return ",".join(f"{f.name}:{f.type}" for f in schema)


def file_suffix(options: WriteOptions) -> str:
    """The extension of the files a job writes."""
    return ".tar" if options.format == "webdataset" else ".parquet"


def settings_for(options: WriteOptions) -> WriterSettings:
    return WriterSettings(row_group_bytes=options.row_group_bytes, max_file_size=options.max_file_size,
                          compression=options.compression, compression_level=options.compression_level,
                          cdc=options.cdc, page_index=options.page_index, row_group_rows=options.row_group_size,
                          content_defined_row_groups=options.content_defined_row_groups,
                          dictionary=options.dictionary)


class SplitFileWriter:
    """One split's rows within one task -> rolled Parquet files (or WebDataset tars), each uploaded as soon as it
    closes.

    A closed file uploads on a background thread while the next one is encoded (at most one upload waits),
    so network and CPU overlap. Small files wait for a group (`GROUP_FILES`, `GROUP_BYTES`) and upload in one
    call. Nothing is committed here."""

    def __init__(self, schema: pa.Schema, options: WriteOptions, *, split: str, job_id: str, partition_id: int,
                 attempt_id: int = 0, tmp_dir: str | None = None, upload: Upload | None = None) -> None:
        self.split = split
        self._writer: RollingParquetWriter | RollingTarWriter = (
            RollingTarWriter(schema, options.max_file_size, tmp_dir, key_prefix=f"p{partition_id:05d}_")
            if options.format == "webdataset" else RollingParquetWriter(schema, settings_for(options), tmp_dir))
        self._upload: Upload = upload or functools.partial(_upload, options.client, options, split=split,
                                                            job_id=job_id, partition_id=partition_id,
                                                            attempt_id=attempt_id)
        self._pending: list[Future[list[UploadedFile]]] = []
        self._submitted: list[list[FinishedFile]] = []
        self._group: list[FinishedFile] = []  # small files waiting for their group
        self._count = 0  # files handed to uploads so far: the next file's index
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hfconnect-upload")

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write(batch)
        while self._writer.finished:
            self._add(self._writer.finished.pop(0))

    def close(self, at_least_one_file: bool = False) -> list[UploadedFile]:
        """Flush the last file and wait for every upload of this split."""
        try:
            for finished in self._writer.close(at_least_one=at_least_one_file):
                self._add(finished)
            self._writer.finished = []
            self._flush()
            return [u for p in self._pending for u in p.result()]
        finally:
            self._pool.shutdown(wait=True)

    def abort(self) -> None:
        """Drop what is not uploaded yet and remove the temp files; uploaded objects stay unreferenced."""
        for future, group in zip(self._pending, self._submitted, strict=True):
            if future.cancel():  # never started: its upload would have removed the temp files
                self._unlink(group)
        self._unlink(self._group)
        self._writer.abort()
        self._pool.shutdown(wait=True)

    @staticmethod
    def _unlink(files: list[FinishedFile]) -> None:
        for finished in files:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(finished.local_path)

    def _add(self, finished: FinishedFile) -> None:
        if finished.size >= REGULAR_FILE_LIMIT:  # a big file goes alone, now (its own upload is the cost)
            self._flush()
            return self._submit([finished])
        self._group.append(finished)
        if len(self._group) >= GROUP_FILES or sum(f.size for f in self._group) >= GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._group:
            group, self._group = self._group, []
            self._submit(group)

    def _submit(self, group: list[FinishedFile]) -> None:
        if len(self._pending) >= 2:
            self._pending[-2].result()  # back-pressure: disk holds at most two finished uploads' files
        self._submitted.append(group)
        self._pending.append(self._pool.submit(self._upload, group, self._count))
        self._count += len(group)


def write_task(batches: Iterable[pa.RecordBatch], schema: pa.Schema, options: WriteOptions, *, job_id: str,
               partition_id: int, attempt_id: int = 0, tmp_dir: str | None = None,
               at_least_one_file: bool = False) -> TaskMessage:
    """Write and upload this task's rows: to the `split` option's split, or, with `split_column`, each row to
    the split that column names (`schema` then includes that column, which the files do not get)."""
    if options.split_column:
        return write_routed_task(batches, schema, options, job_id=job_id, partition_id=partition_id,
                                 attempt_id=attempt_id, tmp_dir=tmp_dir)
    writer = SplitFileWriter(schema, options, split=options.split, job_id=job_id, partition_id=partition_id,
                             attempt_id=attempt_id, tmp_dir=tmp_dir)
    return run_split_writer(writer, batches, schema, job_id=job_id, partition_id=partition_id, attempt_id=attempt_id,
                            at_least_one_file=at_least_one_file)


def write_routed_task(batches: Iterable[pa.RecordBatch], schema: pa.Schema, options: WriteOptions, *, job_id: str,
                      partition_id: int, attempt_id: int = 0, tmp_dir: str | None = None) -> TaskMessage:
    """Write and upload this task's rows, each to the split its `split_column` names (`routing` says
    which rows go where); nothing is committed."""
    column = options.split_column
    assert column, "write_routed_task needs options.split_column"
    check_split_column(schema, options)
    files_schema = data_schema(schema, options)
    writers: dict[str, SplitFileWriter] = {}
    try:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            for split, rows in split_batches(batch, column):
                writer = writers.get(split)
                if writer is None:
                    writer = writers[split] = SplitFileWriter(files_schema, options, split=split, job_id=job_id,
                                                              partition_id=partition_id, attempt_id=attempt_id,
                                                              tmp_dir=tmp_dir)
                writer.write(rows)
        uploaded = [f for split in sorted(writers) for f in writers[split].close()]
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    return TaskMessage(job_id, partition_id, attempt_id, schema_fingerprint(files_schema), tuple(uploaded))


def run_split_writer(writer: SplitFileWriter, batches: Iterable[pa.RecordBatch], schema: pa.Schema, *, job_id: str,
                     partition_id: int, attempt_id: int, at_least_one_file: bool) -> TaskMessage:
    """Every batch through `writer`, then its uploads awaited: the task's message (or, on failure, nothing left
    on disk and the failure raised)."""
    try:
        for batch in batches:
            writer.write(batch)
        uploaded = writer.close(at_least_one_file)
    except BaseException:
        writer.abort()
        raise
    return TaskMessage(job_id, partition_id, attempt_id, schema_fingerprint(schema), tuple(uploaded))


def prehashed_add(path_in_repo: str, f: FinishedFile) -> CommitOperationAdd:
    """A CommitOperationAdd whose sha256 is the one computed while writing (huggingface_hub would otherwise
    read the whole file once more just to hash it). Small files carry their bytes, in case the server takes
    them as regular files: then the commit itself, on the driver, sends them."""
    from huggingface_hub import CommitOperationAdd

    if f.size < REGULAR_FILE_LIMIT:
        with open(f.local_path, "rb") as fh:
            return CommitOperationAdd(path_in_repo=path_in_repo, path_or_fileobj=fh.read())
    op = CommitOperationAdd(path_in_repo=path_in_repo, path_or_fileobj=f.local_path)  # reads 512 bytes
    op.upload_info.sha256 = bytes.fromhex(f.sha256)  # UploadInfo's public setter: no second read to hash
    return op


def _upload(client: HubClient, options: WriteOptions, files: list[FinishedFile], first: int, *, split: str,
            job_id: str, partition_id: int, attempt_id: int) -> list[UploadedFile]:
    """Upload finished files in one call (nothing is committed), under the one retry policy, then delete them.
    Their indexes count from `first`, in order."""
    from huggingface_hub.utils import disable_progress_bars

    names = [f"{options.data_dir}/{split}-{job_id}-{partition_id:05d}-{attempt_id}-{first + i:04d}"
             f"{file_suffix(options)}" for i in range(len(files))]
    try:
        ops = [prehashed_add(name, f) for name, f in zip(names, files, strict=True)]
        size = sum(f.size for f in files)
        what = f"upload of a {size}-byte file to {options.repo} ({names[0]})" if len(files) == 1 else \
            f"upload of {len(files)} files ({size} bytes) to {options.repo} ({names[0]} ...)"
        with disable_progress_bars():  # a bar per file from every task would bury the logs
            _send(client, options, ops, what, job_id)
        return [UploadedFile(op, f.sha256, f.size, f.rows, f.row_groups, first + i, split)
                for i, (op, f) in enumerate(zip(ops, files, strict=True))]
    finally:
        for f in files:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f.local_path)


def _send(client: HubClient, options: WriteOptions, ops: list[CommitOperationAdd], what: str, job_id: str) -> None:
    """`preupload_lfs_files` for these files. Through Xet: with the job's own Xet cache, and once more with a fresh
    one when the storage refused the file's shard because the cache named data it does not have."""

    def send() -> None:
        from ..hub.repos import preupload

        preupload(client, options.repo, ops, revision=options.revision, what=what,
                  where=f"dataset {options.repo}@{options.revision}", xet=through_xet)

    through_xet = xet.in_use()
    if not through_xet:
        return send()
    xet.prepare_process(client.policy)
    xet.mark_started()  # this process's Xet session is made now, with the settings just prepared
    with xet.cache_scope(job_id) as cache:
        try:
            return send()
        except HubRequestError as exc:
            if not exc.stale_xet_cache:
                raise
            if not cache.renew():
                raise HubRequestError(f"{exc.message}; HF_XET_CACHE is set ({cache.location}): remove the shard "
                                      "cache under it, or unset it (hfconnect then gives each job a cache of its "
                                      "own), and run the write again", **exc.details) from None
        try:
            return send()
        except HubRequestError as exc:
            if exc.stale_xet_cache:
                raise HubRequestError(f"{exc.message}; again with a fresh cache, so not because of the cache: run "
                                      "the write again, and report it if it persists", **exc.details) from None
            raise
