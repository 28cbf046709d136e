"""The task side of a write: Arrow batches -> optimized Parquet files -> uploaded from this task.

Uploads go through huggingface_hub's own `preupload_lfs_files` (LFS on the local hub, Xet on the real Hub),
as soon as each file closes; nothing is committed here. The task returns a small, picklable message that
the driver turns into ONE commit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..errors import AuthenticationError, HubRequestError
from ..options import WriteOptions
from .parquet_writer import FinishedFile, RollingParquetWriter, WriterSettings

__all__ = ["TaskMessage", "UploadedFile", "schema_fingerprint", "write_task"]

log = logging.getLogger("hfconnect.write")
UPLOAD_ATTEMPTS = 6


@dataclass(frozen=True)
class UploadedFile:
    operation: Any = field(repr=False)  # huggingface_hub CommitOperationAdd, already uploaded
    sha256: str
    size: int
    rows: int
    row_groups: int
    index: int


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


def settings_for(options: WriteOptions) -> WriterSettings:
    return WriterSettings(row_group_size=options.row_group_size, max_file_size=options.max_file_size,
                          compression=options.compression, cdc=options.cdc, page_index=options.page_index)


def hub_api(options: WriteOptions) -> Any:
    from huggingface_hub import HfApi

    return HfApi(endpoint=options.endpoint, token=options.token or False, library_name="hfconnect")


def write_task(batches: Iterable[pa.RecordBatch], schema: pa.Schema, options: WriteOptions, *, job_id: str,
               partition_id: int, attempt_id: int = 0, tmp_dir: str | None = None,
               at_least_one_file: bool = False) -> TaskMessage:
    """Write and upload this task's rows; each file is uploaded as soon as it is closed."""
    writer = RollingParquetWriter(schema, settings_for(options), tmp_dir)
    uploaded: list[UploadedFile] = []
    api = hub_api(options)
    try:
        for batch in batches:
            writer.write(batch)
            while writer.finished:
                uploaded.append(_upload(api, options, writer.finished.pop(0), job_id, partition_id, attempt_id,
                                        len(uploaded)))
        for finished in writer.close(at_least_one=at_least_one_file):
            uploaded.append(_upload(api, options, finished, job_id, partition_id, attempt_id, len(uploaded)))
        writer.finished = []
    except BaseException:
        writer.abort()
        raise
    return TaskMessage(job_id, partition_id, attempt_id, schema_fingerprint(schema), tuple(uploaded))


def _upload(api: Any, options: WriteOptions, f: FinishedFile, job_id: str, partition_id: int, attempt_id: int,
            index: int) -> UploadedFile:
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.errors import HfHubHTTPError

    staging = f"{options.data_dir}/{options.split}-{job_id}-{partition_id:05d}-{attempt_id}-{index:04d}.parquet"
    try:
        for attempt in range(UPLOAD_ATTEMPTS):
            op = CommitOperationAdd(path_in_repo=staging, path_or_fileobj=f.local_path)
            try:
                api.preupload_lfs_files(options.repo, additions=[op], repo_type="dataset", revision=options.revision)
                break
            except HfHubHTTPError as exc:
                status = exc.response.status_code if exc.response is not None else None
                if status in (401, 403):
                    raise AuthenticationError(f"upload to {options.repo} refused (HTTP {status}): use a token with "
                                              "write access", repo=options.repo, status=status) from None
                if status is not None and status < 500 and status != 429 or attempt + 1 == UPLOAD_ATTEMPTS:
                    raise HubRequestError(f"upload of a {f.size}-byte file to {options.repo} failed: HTTP {status}",
                                          repo=options.repo, status=status) from None
            except (OSError, ConnectionError) as exc:
                if attempt + 1 == UPLOAD_ATTEMPTS:
                    raise HubRequestError(f"upload to {options.repo} failed: {type(exc).__name__}",
                                          repo=options.repo) from None
            time.sleep(random.uniform(0, min(8.0, 0.25 * 2**attempt)))
        if op._upload_mode != "lfs":  # regular files travel inside the commit: keep their bytes
            with open(f.local_path, "rb") as fh:
                op = CommitOperationAdd(path_in_repo=staging, path_or_fileobj=fh.read())
        op.path_or_fileobj = op.path_or_fileobj if isinstance(op.path_or_fileobj, bytes) else f"<uploaded {f.sha256}>"
        return UploadedFile(op, f.sha256, f.size, f.rows, f.row_groups, index)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f.local_path)
