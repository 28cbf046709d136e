"""Streaming, engine-neutral: following a dataset commit by commit (offsets, the files each trigger reads, their
plan) and committing a streaming query's micro-batches exactly once. The Spark adapters are thin layers on top."""

from .follow import DatasetFollower, Span
from .history import STREAM_MARKER, QueryCommit, batch_marker, newest_query_commit
from .offsets import StreamOffset, admit, batch_span
from .options import StreamReadOptions, split_stream_options
from .sink import batch_job_id, commit_batch

__all__ = ["STREAM_MARKER", "DatasetFollower", "QueryCommit", "Span", "StreamOffset", "StreamReadOptions", "admit",
           "batch_job_id", "batch_marker", "batch_span", "commit_batch", "newest_query_commit",
           "split_stream_options"]
