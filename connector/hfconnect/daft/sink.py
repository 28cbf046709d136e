"""Daft DataSink over the shared write core: every Daft write task uploads its own Parquet, the driver commits once.

The protocol of `hfconnect.write`, mapped onto Daft's `DataFrame.write_sink`:

- `start()` (driver, before anything runs): `WriteJob.begin` - creates the repo if missing, records the base
  commit and checks the mode, so a wrong mode, a schema that cannot be appended or a token that cannot create
  the repo fails before a single row is computed;
- `write()`: optimized Parquet (CDC, page index, sane row groups) uploaded from where it runs, nothing
  committed. On Ray each task is a pickled copy of the sink and runs one `write_task` over its micropartitions.
  Daft's native runner calls write() on the sink itself once per morsel, one call after another: those rows
  all go to one `ParallelFileWriter` per job, which encodes and uploads files of contiguous rows on parallel
  threads; `finalize` waits for it;
- `finalize()` (driver, only when every task succeeded): `WriteJob.commit` - ONE commit with all the files and
  the dataset card. Daft calls no hook when a task fails: then finalize never runs, and nothing is committed
  (`write_huggingface` calls `WriteJob.abort`).

Daft's Image columns are written as PNG bytes in `{bytes, path}` with the Hub's Image feature, and option
`features` names other media columns (`hfconnect.features`), so `datasets` and the viewer decode them.
Daft's large Arrow types are written as their regular counterparts and batches are sliced before the cast
(`hfconnect.write.arrow` says why).
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from daft import col
from daft.datatype import DataType
from daft.expressions import ExpressionsProjection
from daft.functions import download, file_path
from daft.io.sink import DataSink, WriteResult
from daft.recordbatch import MicroPartition
from daft.schema import Schema

from ..errors import HfConnectError, OptionError, find_hfconnect_error
from ..features import parse_features, with_features
from ..options import WriteOptions
from ..options.keywords import checked_keywords
from ..write import CommitResult, TaskMessage, WriteJob, write_task
from ..write.arrow import hub_schema as arrow_hub_schema
from ..write.arrow import sliced
from ..write.bucket_target import BucketTarget, check_repo_only_options, parse_bucket_target
from ..write.bucket_task import BucketParallelWriter, write_bucket_task
from ..write.parallel import ParallelFileWriter
from .io_config import io_config_values

if TYPE_CHECKING:
    import daft
    from daft.io import IOConfig

__all__ = ["BucketSink", "HuggingFaceSink", "hub_schema", "image_columns", "media_schema", "write_huggingface"]

DEFERRED = -1  # partition id of the WriteResult of a write() whose rows went to the driver's parallel writer
ENCODERS = max(1, min(4, os.cpu_count() or 1))
RESULT_SCHEMA = {
    "commit_sha": DataType.string(),
    "files": DataType.list(DataType.string()),
    "deleted": DataType.list(DataType.string()),
    "rows": DataType.int64(),
    "pr_url": DataType.string(),
}


def hub_schema(schema: Schema | pa.Schema) -> pa.Schema:
    """The Arrow schema the files get: a Daft schema's large types as their regular counterparts. A column of
    Daft's `Python` dtype (objects, or an Arrow type Daft could not hold, e.g. a dictionary from `from_arrow`
    or `from_pandas` of a categorical) has no Parquet type: refused here, before the job starts, with the cast
    that fixes it."""
    if isinstance(schema, Schema):
        objects = [f.name for f in schema if f.dtype.is_python()]
        if objects:
            first = objects[0]
            raise OptionError(
                f"column(s) {', '.join(map(repr, objects))} have Daft's Python dtype (Python objects; Daft also holds "
                "Arrow dictionary columns this way, e.g. from a pandas categorical), which a Parquet file cannot "
                f"hold: cast them first, e.g. df.with_column({first!r}, daft.col({first!r}).cast(daft.DataType."
                "string()))")
        schema = schema.to_pyarrow_schema()
    return arrow_hub_schema(schema)


def image_columns(schema: Schema | pa.Schema) -> list[str]:
    """Columns of Daft's Image dtype: written as PNG bytes with the Hub's Image feature."""
    if not isinstance(schema, Schema):
        return []
    return [f.name for f in schema if f.dtype.is_image() or f.dtype.is_fixed_shape_image()]


_FILE_MEDIA = re.compile(r"^File\[(Image|Audio|Video)\]$")


def file_columns(schema: Schema | pa.Schema) -> dict[str, str | None]:
    """Columns of Daft's File dtype -> their media type (Image, Audio, Video; None for File[Unknown]): written as
    the files' bytes, with that feature (or the one option `features` names)."""
    if not isinstance(schema, Schema):
        return {}
    return {f.name: (m.group(1) if (m := _FILE_MEDIA.match(str(f.dtype))) else None)
            for f in schema if f.dtype.is_file()}


def media_schema(schema: Schema | pa.Schema, features: dict[str, Any] | None = None) -> pa.Schema:
    """The Arrow schema the files get, with the Hub features of its media columns: Daft's Image columns (as PNG),
    its File columns (the files' bytes; File[Image] etc. with that feature) and the binary or {bytes, path}
    columns named by option `features` (`hfconnect.features`)."""
    images, files = image_columns(schema), file_columns(schema)
    arrow = hub_schema(schema)
    arrow = pa.schema([f.with_type(pa.binary()) if f.name in images or f.name in files else f for f in arrow],
                      metadata=arrow.metadata)
    implied = {**{name: {"_type": "Image"} for name in images},
               **{name: {"_type": kind} for name, kind in files.items() if kind}}
    return with_features(arrow, {**implied, **(features or {})})


def with_file_bytes(df: daft.DataFrame) -> daft.DataFrame:
    """The DataFrame with its File columns read into their bytes, as a step of Daft's own plan (a sink's task
    cannot start Daft's I/O from inside Daft's runtime)."""
    files = file_columns(df.schema())
    return df.with_columns({n: download(file_path(col(n))) for n in files}) if files else df


def _batches(micropartitions: Iterable[MicroPartition], images: Iterable[str] = ()) -> Iterator[pa.RecordBatch]:
    """The task's rows as Arrow batches small enough to cast (the writer buffers them to row groups); Image
    columns encoded as PNG first."""
    images = set(images)

    def arrow(part: MicroPartition) -> pa.Table:
        if images:
            part = part.eval_expression_list(ExpressionsProjection(
                [col(n).encode_image("PNG").alias(n) if n in images else col(n) for n in part.column_names()]))
        files = [f.name for f in part.schema() if f.dtype.is_file()]
        if files:
            raise OptionError(f"column {files[0]!r} is Daft's File dtype, which a sink cannot read: write with "
                              "hfconnect.daft.write_huggingface (it reads the files' bytes first), or do so "
                              f"yourself: df.with_column({files[0]!r}, daft.functions.download(daft.functions."
                              f"file_path(daft.col({files[0]!r}))))")
        return part.to_arrow()

    return sliced(batch for part in micropartitions for batch in arrow(part).to_batches())


class HuggingFaceSink(DataSink[TaskMessage]):
    """`df.write_sink(HuggingFaceSink(options, df.schema()))` writes the DataFrame to a Hub dataset split in ONE
    commit, and returns a one-row DataFrame: commit_sha, files, deleted, rows, pr_url (commit_sha is None when
    nothing was committed: mode ignore on existing data, or an append of no rows).

    Created on the driver; pickled to the tasks (with the options, the token included, and the job id); `start`
    and `finalize` run on the driver's instance, which keeps the `CommitResult` in `result`.
    """

    _write_task = staticmethod(write_task)  # what a task runs (BucketSink: to a bucket's Xet storage)
    _parallel_writer = ParallelFileWriter

    def __init__(self, options: WriteOptions, schema: Schema | pa.Schema,
                 features: dict[str, Any] | None = None) -> None:
        self.options = options
        self.arrow_schema = media_schema(schema, features)
        self._images = image_columns(schema)
        self.job = WriteJob(options)
        self.result: CommitResult | None = None
        self.committing = False  # set once finalize starts the commit: from then on, abort is not the truth
        self._started = False
        # The driver's own object (not a pickled copy): Daft's native runner calls write() on it once per morsel,
        # one call after the other, and one parallel writer takes all those rows. Copies (Ray tasks) write and
        # upload their own files. Neither the flag nor the writer is pickled.
        self._is_original = True
        self._parallel: ParallelFileWriter | None = None
        self._lock = threading.Lock()
        self.on_rows: Callable[[int], object] | None = None  # progress on the driver (the CLI's bar); not pickled

    def __repr__(self) -> str:
        return f"HuggingFaceSink({self.options!r}, job={self.job.job_id})"

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        for local in ("_is_original", "_parallel", "_lock", "on_rows"):
            state.pop(local)
        return state  # WriteOptions hides the token

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._is_original, self._parallel, self._lock, self.on_rows = False, None, threading.Lock(), None

    def name(self) -> str:
        o = self.options
        split = f"split_column={o.split_column}" if o.split_column else f"split={o.split}"
        return f"HuggingFaceSink({o.repo}, config={o.config}, {split}, mode={o.mode}, revision={o.revision})"

    def schema(self) -> Schema:
        return Schema.from_pydict(RESULT_SCHEMA)

    def start(self) -> None:
        """Begin the job once (write_huggingface starts it before the DataFrame runs; write_sink again)."""
        if self.committing:
            raise RuntimeError("a HuggingFaceSink writes once: make a new one for the next write")
        if not self._started:
            self.arrow_schema = self.job.begin(self.arrow_schema)
            self._started = True

    def write(self, micropartitions: Iterator[MicroPartition]) -> Iterator[WriteResult[TaskMessage]]:
        job = self.job
        if job.skip:  # mode=ignore and the split has data: write nothing at all
            for _ in micropartitions:
                pass
            yield WriteResult(TaskMessage(job.job_id, DEFERRED, 0, "", ()), bytes_written=0, rows_written=0)
            return
        if self._is_original:
            # Native runner: files of contiguous rows, encoded and uploaded in parallel by one writer per job.
            rows = 0
            with self._lock:
                if self._parallel is None:
                    self._parallel = self._parallel_writer(
                        self.arrow_schema, self.options, job_id=job.job_id, workers=ENCODERS,
                        file_bytes=2 * self.options.row_group_bytes, first_partition=secrets.randbits(40) << 8)
                for batch in _batches(micropartitions, self._images):
                    self._parallel.write(batch)
                    rows += batch.num_rows
                    if self.on_rows is not None:
                        self.on_rows(batch.num_rows)
            yield WriteResult(TaskMessage(job.job_id, DEFERRED, 0, "", ()), bytes_written=0, rows_written=rows)
            return
        # A pickled copy (a Ray task): this call writes and uploads its own files before it returns.
        # A random partition id per call: Daft does not say which task this is, and ids must never collide.
        message = self._write_task(_batches(micropartitions, self._images), self.arrow_schema, self.options,
                                   job_id=job.job_id, partition_id=secrets.randbits(48), attempt_id=0)
        yield WriteResult(message, bytes_written=sum(f.size for f in message.files), rows_written=message.rows)

    def finalize(self, write_results: list[WriteResult[TaskMessage]]) -> MicroPartition:
        """The one commit (on the driver, after every task succeeded), as a one-row MicroPartition."""
        if not self._started:  # write_sink always calls start() first; this guards direct calls
            raise RuntimeError("HuggingFaceSink.finalize() called before start()")
        results = [r for r in write_results if isinstance(r.result, TaskMessage)]
        messages = [r.result for r in results if r.result.partition_id != DEFERRED]
        deferred_rows = sum(r.rows_written for r in results if r.result.partition_id == DEFERRED)
        with self._lock:
            local, self._parallel = self._parallel, None
        if local is not None:
            messages += local.finish()  # the last file closes and uploads; every upload is waited for
        if (local.rows if local is not None else 0) != deferred_rows:
            raise HfConnectError(f"the write reported {deferred_rows} rows but its files hold "
                                 f"{local.rows if local else 0}: nothing was committed", repo=self.options.repo)
        self.committing = True
        self.result = self.job.commit(messages, self.arrow_schema)
        return self._result_partition(self.result)

    @staticmethod
    def _result_partition(result: CommitResult) -> MicroPartition:
        return _result_partition(result)

    def run(self, df: daft.DataFrame) -> CommitResult:
        """Write `df` in ONE commit and return its result: begin (mode, schema and token checked before any row
        is computed), nothing at all on mode ignore with data there, else the write; a failure aborts the job
        (nothing committed, a repo it created deleted) and raises hfconnect's error out of Daft's wrapping."""
        self.start()
        if self.job.skip:
            return CommitResult(None, (), (), 0, 0)
        try:
            with_file_bytes(df).write_sink(self)
        except BaseException as exc:
            self.abort_local()
            if not self.committing:
                self.job.abort([])
            ours = find_hfconnect_error(exc)
            if ours is not None and ours is not exc:  # Daft wraps a task's error: raise ours, Daft's as the cause
                raise type(ours)(ours.message, **ours.details) from exc
            raise
        assert self.result is not None
        return self.result

    def abort_local(self) -> None:
        """Drop this job's in-process files (a failed write): nothing of them is committed."""
        with self._lock:
            local, self._parallel = self._parallel, None
        if local is not None:
            local.abort()


class BucketSink(HuggingFaceSink):
    """`HuggingFaceSink` for a Storage Bucket prefix: tasks upload to the bucket's Xet storage only; `finalize`
    adds the files and then writes the prefix's manifest (`write.bucket_job`). Its result row: bucket, prefix,
    files, deleted, rows, manifest (null when nothing was written: mode ignore on data)."""

    _write_task = staticmethod(write_bucket_task)
    _parallel_writer = BucketParallelWriter

    def __init__(self, options: WriteOptions, schema: Schema | pa.Schema, target: BucketTarget,
                 features: dict[str, Any] | None = None) -> None:
        from ..write.bucket_job import BucketWriteJob

        super().__init__(options, schema, features)
        self.target = target
        self.job = BucketWriteJob(options, target)  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"BucketSink({self.target}, job={self.job.job_id})"

    def name(self) -> str:
        return f"BucketSink({self.target}, mode={self.options.mode})"

    def schema(self) -> Schema:
        return Schema.from_pydict(BUCKET_RESULT_SCHEMA)

    @staticmethod
    def _result_partition(result: Any) -> MicroPartition:
        """The one-row result of a bucket write (a `BucketWriteResult`)."""
        return MicroPartition.from_arrow(pa.table({
            "bucket": pa.array([result.bucket], pa.large_string()),
            "prefix": pa.array([result.prefix], pa.large_string()),
            "files": pa.array([list(result.files)], pa.large_list(pa.large_string())),
            "deleted": pa.array([list(result.deleted)], pa.large_list(pa.large_string())),
            "rows": pa.array([result.rows], pa.int64()),
            "manifest": pa.array([result.manifest], pa.large_string()),
        }))

    def run(self, df: daft.DataFrame) -> Any:  # BucketWriteResult
        self.start()
        if self.job.skip:
            return self.job.commit([], self.arrow_schema)
        return super().run(df)


BUCKET_RESULT_SCHEMA = {
    "bucket": DataType.string(),
    "prefix": DataType.string(),
    "files": DataType.list(DataType.string()),
    "deleted": DataType.list(DataType.string()),
    "rows": DataType.int64(),
    "manifest": DataType.string(),
}


def _result_partition(result: CommitResult) -> MicroPartition:
    table = pa.table({
        "commit_sha": pa.array([result.commit_sha], pa.large_string()),
        "files": pa.array([list(result.files)], pa.large_list(pa.large_string())),
        "deleted": pa.array([list(result.deleted)], pa.large_list(pa.large_string())),
        "rows": pa.array([result.rows], pa.int64()),
        "pr_url": pa.array([result.pr_url], pa.large_string()),
    })
    return MicroPartition.from_arrow(table)


@checked_keywords
def write_huggingface(
    df: daft.DataFrame,
    repo: str,
    *,
    split: str = "train",
    config: str = "default",
    mode: str | None = None,
    overwrite: bool | None = None,
    data_dir: str | None = None,
    revision: str = "main",
    token: str | None = None,
    endpoint: str | None = None,
    io_config: IOConfig | None = None,
    max_file_size: int | str | None = None,
    row_group_size: int | None = None,
    row_group_bytes: int | str | None = None,
    compression: str | None = None,
    compression_level: int | None = None,
    cdc: bool | None = None,
    content_defined_row_groups: bool | None = None,
    dictionary: bool | None = None,
    page_index: bool | None = None,
    private: bool | None = None,
    create_pr: bool | None = None,
    max_commit_operations: int | None = None,
    commit_message: str | None = None,
    commit_description: str | None = None,
    retry_budget: float | None = None,
    split_column: str | None = None,
    features: str | dict[str, Any] | None = None,
    format: str | None = None,  # noqa: A002 - the option's name
) -> CommitResult:
    """Write a Daft DataFrame to a Hub dataset's config/split in exactly ONE commit; return its `CommitResult`.

    Modes: append (new files next to the split's), overwrite (replaces exactly this split's files; other
    splits and configs stay), error/errorifexists (fail if the split has files), ignore (do nothing if it has:
    the DataFrame is not even run). `overwrite=True/False` is Daft's `write_huggingface` way of saying
    overwrite/append; `io_config` (Daft's `IOConfig(hf=HuggingFaceConfig(...))`) gives the token and its writer
    settings (row_group_size, target_filesize, use_content_defined_chunking) unless the keywords do. The repo is
    created if missing (`private`), the mode and, on append, the schema are checked before the DataFrame runs.
    Each Daft task uploads its own files; the driver commits once, with the dataset card updated so
    `datasets.load_dataset(repo, split=...)` sees the split. If any task fails, nothing is committed.

    Daft's Image columns are written as PNG with the Hub's Image feature (`datasets` decodes them); `features`
    (`{"clip": "Audio"}` or `clip=Audio`) names binary or {bytes, path} columns as Image, Audio or Video.
    `format="webdataset"` writes `.tar` shards instead of Parquet: a sample per row, a member per column.

    `split_column="split"` writes several splits in that one commit: each row goes to the split the column
    names (it is not written into the files); overwrite then replaces exactly the splits written, error/ignore
    look at every split of the config, and the card lists every split.

    Returns `CommitResult(commit_sha, files, deleted, rows, attempts, pr_url, split_rows)`; commit_sha is None
    when nothing was committed (ignore on existing data, an append of no rows, or no rows with split_column). The
    docs/options.md's table says what each keyword does. For a Daft DataFrame of the result instead, use
    `df.write_sink(HuggingFaceSink(...))`.
    """
    if overwrite is not None:
        wanted = "overwrite" if overwrite else "append"
        if mode is not None and mode.lower() != wanted:
            raise OptionError(f"overwrite={overwrite} and mode={mode!r} disagree: give one of them")
        mode = wanted
    given = dict(
        repo=repo, split=split, config=config, mode=mode, data_dir=data_dir, revision=revision,
        token=token, endpoint=endpoint, max_file_size=max_file_size, row_group_size=row_group_size,
        row_group_bytes=row_group_bytes, compression=compression, compression_level=compression_level, cdc=cdc,
        content_defined_row_groups=content_defined_row_groups, dictionary=dictionary, page_index=page_index,
        private=private, create_pr=create_pr, commit_message=commit_message, commit_description=commit_description,
        retry_budget=retry_budget, split_column=split_column, max_commit_operations=max_commit_operations,
        format=format,
    )
    # io_config fills what the keywords leave unset: the keywords win.
    given.update({k: v for k, v in io_config_values(io_config, write=True).items() if given.get(k) is None})
    named = parse_features("features", features) if features is not None else None
    target = parse_bucket_target(repo)
    if target is not None:  # buckets/ns/name[/prefix]: a Storage Bucket prefix (write.bucket_job)
        check_repo_only_options(given, target)
        options = WriteOptions.build(engine="daft", **{**given, "repo": target.bucket_id})
        return BucketSink(options, df.schema(), target, named).run(df)
    options = WriteOptions.build(engine="daft", **given)
    return HuggingFaceSink(options, df.schema(), named).run(df)

