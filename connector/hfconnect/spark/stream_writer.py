"""`df.writeStream.format("huggingface").option("checkpointLocation", ...).start("org/name")`: each micro-batch is
ONE Hub commit, exactly once across driver crashes (`hfconnect.stream.batch_commits`).

Spark makes this writer anew for every micro-batch and again, in another process, for its commit: the
constructor checks the target (token, repo, schema) once per process only. Tasks write and upload their
Parquet files (`write_task`) under a job id derived from the query id and batch id they read from Spark's task
properties; the driver commits in `commit`.
Output mode append only: Spark itself refuses `update` for this sink, and `complete` (which would replace the
split on every batch) is refused here.
`start("buckets/ns/name/prefix")` (or `hf://buckets/...`) streams to a Storage Bucket prefix instead
(`BucketStreamWriter`, `hfconnect.stream.bucket_batches`): each micro-batch is ONE published batch of the prefix's
manifest, exactly once via the batch id the manifest records.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from pyspark.sql.datasource import DataSourceStreamArrowWriter, WriterCommitMessage
from pyspark.sql.types import StructType

from ..errors import HfConnectError, OptionError
from ..options import WriteOptions
from ..stream.batch_commits import batch_job_id, commit_batch, prepare_target
from ..stream.options import STREAM_WRITE_KEYS, split_stream_options
from ..write import TaskMessage, write_task
from ..write.bucket_target import BucketTarget, check_repo_only_options, parse_bucket_target
from .error_text import spark_facing

__all__ = ["BucketStreamWriter", "HuggingFaceStreamWriter", "stream_writer_for"]

log = logging.getLogger("hfconnect.stream")
QUERY_ID_PROPERTY = "sql.streaming.queryId"  # Spark's task properties during a micro-batch
BATCH_ID_PROPERTY = "streaming.sql.batchId"
# Test hook (the crash tests): "<batch id>:<file>" makes the driver, right after batch <batch id>'s Hub commit and
# before Spark records it in the checkpoint, create <file> and wait there, so the test can kill -9 it at that point;
# "before:<batch id>:<file>" makes it wait just before that batch's commit instead (its files uploaded, nothing
# committed).
PAUSE_ENV = "HFCONNECT_TEST_PAUSE_AT_COMMIT"


@dataclass
class StreamTaskMessage(WriterCommitMessage):
    query_id: str
    batch_id: int
    message: TaskMessage


def stream_writer_for(options: Mapping[str, str], schema: StructType, overwrite: bool) -> HuggingFaceStreamWriter:
    if overwrite:
        raise OptionError("the huggingface streaming sink appends every micro-batch to the split: outputMode "
                          "'complete' is not supported; use outputMode('append') (the default)")
    _, values = split_stream_options(options, STREAM_WRITE_KEYS)
    repo = values.pop("path", None)
    mode = next((values.pop(k) for k in list(values) if k.lower() == "mode"), None)
    if mode is not None and mode.lower() != "append":
        raise OptionError(f"option mode={mode!r}: a streaming write appends every micro-batch; remove the option")
    target = parse_bucket_target(repo)
    if target is not None:  # buckets/ns/name[/prefix]: one published manifest per micro-batch
        check_repo_only_options({k.lower(): v for k, v in values.items()}, target)
        return BucketStreamWriter(WriteOptions.from_strings(values, repo=target.bucket_id, mode="append"), schema,
                                  target)
    write_options = WriteOptions.from_strings(values, repo=repo, mode="append")
    if write_options.create_pr:
        raise OptionError("option create_pr=true: a streaming write commits every micro-batch to its branch; write "
                          "to another branch with option revision instead")
    return HuggingFaceStreamWriter(write_options, schema)


class HuggingFaceStreamWriter(DataSourceStreamArrowWriter):
    def __init__(self, options: WriteOptions, schema: StructType) -> None:
        from pyspark.sql.pandas.types import to_arrow_schema

        self.options = options
        self.arrow_schema = prepare_target(options, to_arrow_schema(schema, timezone="UTC"))  # errors before any task

    @spark_facing
    def write(self, iterator: Iterator[pa.RecordBatch]) -> StreamTaskMessage:
        from pyspark import TaskContext

        ctx = TaskContext.get()
        query_id = ctx.getLocalProperty(QUERY_ID_PROPERTY) if ctx else None
        batch = ctx.getLocalProperty(BATCH_ID_PROPERTY) if ctx else None
        if ctx is None or not query_id or batch is None:
            raise HfConnectError("the huggingface streaming sink runs inside a Spark streaming micro-batch only "
                                 "(no query id or batch id in the task's properties)")
        batch_id = int(batch)
        message = self._task(iterator, self.arrow_schema, self.options, job_id=batch_job_id(query_id, batch_id),
                             partition_id=ctx.partitionId(), attempt_id=ctx.attemptNumber())
        return StreamTaskMessage(query_id, batch_id, message)

    @staticmethod
    def _task(*args: Any, **kwargs: Any) -> TaskMessage:
        """What writes and uploads one task's rows (a writer to elsewhere replaces it)."""
        return write_task(*args, **kwargs)

    @spark_facing
    def commit(self, messages: list[WriterCommitMessage | None], batchId: int) -> None:  # noqa: N803 - Spark's name
        ours = [m for m in messages if isinstance(m, StreamTaskMessage)]
        if not ours:
            return  # no task ran: an empty micro-batch
        queries = {m.query_id for m in ours}
        if len(queries) != 1 or any(m.batch_id != batchId for m in ours):
            raise HfConnectError(f"micro-batch {batchId}: task messages from several queries or batches "
                                 f"({sorted(queries)}): nothing was {self._done}")
        _pause_if_asked("before", batchId)
        self._publish(queries.pop(), batchId, [m.message for m in ours])
        _pause_if_asked("after", batchId)

    _done = "committed"  # what a batch's driver step does, in messages

    def _publish(self, query_id: str, batch_id: int, messages: list[TaskMessage]) -> None:
        """The batch's ONE change: a commit of the repo's branch."""
        result = commit_batch(self.options, query_id, batch_id, messages, self.arrow_schema)
        if result is not None and result.commit_sha and result.files:
            log.info("hfconnect: streaming batch %d of query %s -> commit %s (%d rows, %d files)", batch_id,
                     query_id, result.commit_sha, result.rows, len(result.files))

    @spark_facing
    def abort(self, messages: list[WriterCommitMessage | None], batchId: int) -> None:  # noqa: N803
        log.warning("hfconnect: streaming batch %d to %s aborted: nothing committed (uploaded objects stay "
                    "unreferenced)", batchId, self.options.repo)


class BucketStreamWriter(HuggingFaceStreamWriter):
    """The streaming sink for a Storage Bucket prefix: tasks upload their files to the bucket's Xet storage under
    the batch's job id; the driver publishes them with the batch id in the manifest (`stream.bucket_batches`)."""

    def __init__(self, options: WriteOptions, schema: StructType, target: BucketTarget) -> None:
        from pyspark.sql.pandas.types import to_arrow_schema

        from ..stream.bucket_batches import prepare_bucket_target

        self.options = options
        self.target = target
        self.arrow_schema = prepare_bucket_target(options, target, to_arrow_schema(schema, timezone="UTC"))

    _done = "published"

    @staticmethod
    def _task(*args: Any, **kwargs: Any) -> TaskMessage:
        from ..write.bucket_task import write_bucket_task

        return write_bucket_task(*args, **kwargs)

    def _publish(self, query_id: str, batch_id: int, messages: list[TaskMessage]) -> None:
        """The batch's ONE change: the prefix's manifest, recording the batch."""
        from ..stream.bucket_batches import commit_bucket_batch

        result = commit_bucket_batch(self.options, self.target, query_id, batch_id, messages, self.arrow_schema)
        if result is not None and result.files:
            log.info("hfconnect: streaming batch %d of query %s -> %s (%d rows, %d files)", batch_id, query_id,
                     self.target, result.rows, len(result.files))

    @spark_facing
    def abort(self, messages: list[WriterCommitMessage | None], batchId: int) -> None:  # noqa: N803
        log.warning("hfconnect: streaming batch %d to %s aborted: nothing published (uploaded content is at no "
                    "path)", batchId, self.target)


def _pause_if_asked(when: str, batch_id: int) -> None:
    spec = os.environ.get(PAUSE_ENV, "")
    if not spec:
        return
    if not spec.startswith("before:"):
        spec = f"after:{spec}"
    at, batch, path = (spec.split(":", 2) + ["", ""])[:3]
    if at != when or batch != str(batch_id) or not path:
        return
    with open(path, "w") as f:
        f.write(str(batch_id))
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # the test kills the driver now; never hang a run it forgot
        time.sleep(0.5)
