"""`df.write.format("huggingface")`: every task writes and uploads its own Parquet; the driver commits once.

Options (docs/options.md says what each does): split, config, data_dir, revision (branch), token, endpoint,
max_file_size, row_group_size (rows), row_group_bytes, compression, compression_level, cdc,
content_defined_row_groups, dictionary, page_index, private, create_pr, max_commit_operations, commit_message,
commit_description, retry_budget, split_column, features (image/audio/video columns: `hfconnect.features`),
format (parquet, or webdataset: `.tar` shards).
Modes: append, overwrite (replaces exactly the target split's
files), and error/ignore through the `mode` option (Spark's Python sources get only append/overwrite from
`.mode(...)`). With
`split_column` ("split"), each row goes to the split that column names and every split written lands in the one
commit (a task routes its rows to several splits).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from pyspark.sql.datasource import DataSourceArrowWriter, WriterCommitMessage
from pyspark.sql.types import StructType

from ..features import pop_features_option, with_features
from ..options import WriteOptions
from ..write import TaskMessage, WriteJob, write_task
from ..write.bucket_target import BucketTarget, check_repo_only_options, parse_bucket_target
from .error_text import spark_facing
from .types import arrow_schema_with_features

__all__ = ["BucketWriter", "HuggingFaceWriter", "writer_for"]


@dataclass
class SparkTaskMessage(WriterCommitMessage):
    message: TaskMessage


def writer_for(options: Mapping[str, str], schema: StructType, overwrite: bool) -> HuggingFaceWriter:
    values = dict(options)
    features = pop_features_option(values)
    repo = values.pop("path", None)
    mode = values.pop("mode", None) or ("overwrite" if overwrite else "append")
    if overwrite:
        mode = "overwrite"
    target = parse_bucket_target(repo)
    if target is not None:  # buckets/ns/name[/prefix]: a Storage Bucket prefix (write.bucket_job)
        check_repo_only_options({k.lower(): v for k, v in values.items()}, target)
        return BucketWriter(WriteOptions.from_strings(values, repo=target.bucket_id, mode=mode), schema, target,
                            features)
    return HuggingFaceWriter(WriteOptions.from_strings(values, repo=repo, mode=mode), schema, features)


def arrow_schema(schema: StructType, features: dict[str, Any] | None = None) -> pa.Schema:
    """The Arrow schema a Spark write's files get: with the Hub features of its columns (from a read, carried in
    the StructFields' metadata, or named by option `features`), media columns as {bytes, path}."""
    from pyspark.sql.pandas.types import to_arrow_schema

    return with_features(arrow_schema_with_features(to_arrow_schema(schema, timezone="UTC"), schema), features)


class HuggingFaceWriter(DataSourceArrowWriter):
    """Created on the driver (begin: repo, base commit, mode checks), pickled to the tasks and to commit."""

    def __init__(self, options: WriteOptions, schema: StructType, features: dict[str, Any] | None = None) -> None:
        self.options = options
        self.arrow_schema = arrow_schema(schema, features)
        self.job = WriteJob(options)
        self.arrow_schema = self.job.begin(self.arrow_schema)  # errors here come before anything is uploaded

    @spark_facing
    def write(self, iterator: Iterator[pa.RecordBatch]) -> SparkTaskMessage:
        from pyspark import TaskContext

        ctx = TaskContext.get()
        partition = ctx.partitionId() if ctx else 0
        attempt = ctx.attemptNumber() if ctx else 0
        if self.job.skip:  # mode=ignore and the split already has data: write nothing at all
            for _ in iterator:
                pass
            return SparkTaskMessage(TaskMessage(self.job.job_id, partition, attempt, "", ()))
        return SparkTaskMessage(write_task(iterator, self.arrow_schema, self.options, job_id=self.job.job_id,
                                           partition_id=partition, attempt_id=attempt))

    @spark_facing
    def commit(self, messages: list[WriterCommitMessage | None]) -> None:
        tasks = [m.message for m in messages if isinstance(m, SparkTaskMessage)]
        self.job.commit(tasks, self.arrow_schema)

    @spark_facing
    def abort(self, messages: list[WriterCommitMessage | None]) -> None:
        self.job.abort([m.message for m in messages if isinstance(m, SparkTaskMessage)])


class BucketWriter(HuggingFaceWriter):
    """`save("buckets/ns/name/prefix")`: tasks upload their files to the bucket's Xet storage; the driver adds
    them and then writes the prefix's manifest (`write.bucket_job`)."""

    def __init__(self, options: WriteOptions, schema: StructType, target: BucketTarget,
                 features: dict[str, Any] | None = None) -> None:
        from ..write.bucket_job import BucketWriteJob

        self.options = options
        self.job = BucketWriteJob(options, target)  # type: ignore[assignment]
        self.arrow_schema = self.job.begin(arrow_schema(schema, features))

    @spark_facing
    def write(self, iterator: Iterator[pa.RecordBatch]) -> SparkTaskMessage:
        from pyspark import TaskContext

        from ..write.bucket_task import write_bucket_task

        ctx = TaskContext.get()
        partition = ctx.partitionId() if ctx else 0
        attempt = ctx.attemptNumber() if ctx else 0
        if self.job.skip:
            for _ in iterator:
                pass
            return SparkTaskMessage(TaskMessage(self.job.job_id, partition, attempt, "", ()))
        return SparkTaskMessage(write_bucket_task(iterator, self.arrow_schema, self.options, job_id=self.job.job_id,
                                                  partition_id=partition, attempt_id=attempt))
