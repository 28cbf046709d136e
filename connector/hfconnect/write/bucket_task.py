"""The task side of a write to a Storage Bucket: the same optimized Parquet as a repo write, uploaded from the task
to the bucket's Xet storage only.

A task uploads its files' bytes to the bucket's Xet storage at no path (`hub.bucket_upload`: no file shows up
before the job's end) and keeps each file's Xet hash; the driver (`bucket_job`) adds them all by hash in one
batch. The task message is the repo path's `TaskMessage`, whose `UploadedFile.operation` is a `BucketUpload`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Iterable

import pyarrow as pa

from ..hub.bucket_upload import BucketUpload, upload_to_bucket
from ..options import WriteOptions
from .parallel import ParallelFileWriter
from .parquet_writer import FinishedFile
from .task import SplitFileWriter, TaskMessage, UploadedFile, run_split_writer

__all__ = ["BucketParallelWriter", "BucketUpload", "upload_to_bucket", "write_bucket_task"]

log = logging.getLogger("hfconnect.write")


def _upload_files(options: WriteOptions, files: list[FinishedFile], first: int, *, job_id: str, partition_id: int,
                  ) -> list[UploadedFile]:
    """Upload finished files to the bucket's Xet storage, one by one, then delete them (`task.Upload`)."""
    out = []
    try:
        for i, f in enumerate(files):
            what = f"upload of a {f.size}-byte file to bucket {options.repo} (task {partition_id}, file {first + i})"
            done = upload_to_bucket(options.client, options.repo, f.local_path, sha256=f.sha256, job_id=job_id,
                                    what=what)
            out.append(UploadedFile(done, f.sha256, f.size, f.rows, f.row_groups, first + i))
        return out
    finally:
        for f in files:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f.local_path)


def write_bucket_task(batches: Iterable[pa.RecordBatch], schema: pa.Schema, options: WriteOptions, *, job_id: str,
                      partition_id: int, attempt_id: int = 0, tmp_dir: str | None = None,
                      at_least_one_file: bool = False) -> TaskMessage:
    """`write_task` for a bucket (`options.repo` is the bucket id): the same rolled files, uploaded on a background
    thread as each closes (see `SplitFileWriter`), to the bucket's Xet storage."""
    upload = functools.partial(_upload_files, options, job_id=job_id, partition_id=partition_id)
    writer = SplitFileWriter(schema, options, split="", job_id=job_id, partition_id=partition_id,
                             attempt_id=attempt_id, tmp_dir=tmp_dir, upload=upload)
    return run_split_writer(writer, batches, schema, job_id=job_id, partition_id=partition_id, attempt_id=attempt_id,
                            at_least_one_file=at_least_one_file)


class BucketParallelWriter(ParallelFileWriter):
    """`ParallelFileWriter` whose files go to a bucket's Xet storage (Daft's native runner)."""

    _task = staticmethod(write_bucket_task)
