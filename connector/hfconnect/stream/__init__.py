"""Streaming, engine-neutral: following a dataset commit by commit (offsets, the files each trigger reads, their
plan) and committing a streaming query's micro-batches exactly once. The Spark adapters are thin layers on top.

Attributes load on first use (hfconnect._lazy): a batch read imports `stream.options` alone."""

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from .batch_commits import batch_job_id, commit_batch
    from .bucket_batches import commit_bucket_batch, prepare_bucket_target
    from .follow import DatasetFollower, Span
    from .history import STREAM_MARKER, QueryCommit, batch_marker, newest_query_commit
    from .offsets import StreamOffset, admit, batch_span
    from .options import StreamReadOptions, split_stream_options

__all__ = ["STREAM_MARKER", "DatasetFollower", "QueryCommit", "Span", "StreamOffset", "StreamReadOptions", "admit",
           "batch_job_id", "batch_marker", "batch_span", "commit_batch", "commit_bucket_batch", "newest_query_commit",
           "prepare_bucket_target", "split_stream_options"]
__getattr__ = lazy_attributes(__name__, {
    "DatasetFollower": ".follow", "Span": ".follow", "STREAM_MARKER": ".history", "QueryCommit": ".history",
    "batch_marker": ".history", "newest_query_commit": ".history", "StreamOffset": ".offsets", "admit": ".offsets",
    "batch_span": ".offsets", "StreamReadOptions": ".options", "split_stream_options": ".options",
    "batch_job_id": ".batch_commits", "commit_batch": ".batch_commits", "commit_bucket_batch": ".bucket_batches",
    "prepare_bucket_target": ".bucket_batches"})
