"""Daft adapter: `read_huggingface` and its DataSource, thin over the shared planner and reader; and
`write_huggingface` and its DataSink, thin over the shared write core (one commit per write).

Why not Daft's own `daft.read_huggingface`: it ignores HF_ENDPOINT, configs and splits, and does not pin the
read to one commit; and it reads one format per call, named by the caller. This one plans once on the driver
and reads the same snapshot in every task, in the format `datasets` picks from the repo's files: Parquet, JSON
Lines, CSV, WebDataset tars, image and audio folders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import OptionError
from ..options import ReadOptions
from ..options.keywords import checked_keywords
from .io_config import io_config_values
from .sink import HuggingFaceSink, write_huggingface
from .source import HuggingFaceSource, HuggingFaceTask

if TYPE_CHECKING:
    import daft
    from daft.io import IOConfig

    from ..plan import ReadPlan

__all__ = ["HuggingFaceSink", "HuggingFaceSource", "HuggingFaceTask", "read_huggingface", "write_huggingface"]

# What `format` may name: the builders `datasets` picks for the files hfconnect reads (a check, not a switch).
READ_FORMATS = ("parquet", "json", "csv", "webdataset", "imagefolder", "audiofolder")


@checked_keywords
def read_huggingface(
    repo: str,
    *,
    config: str | None = None,
    split: str | None = None,
    revision: str = "main",
    token: str | None = None,
    endpoint: str | None = None,
    io_config: IOConfig | None = None,
    format: str | None = None,
    data_files: list[str] | tuple[str, ...] | str | None = None,
    data_dir: str | None = None,
    columns: list[str] | tuple[str, ...] | str | None = None,
    filters: Any = None,
    reader: str = "native",
    shard_size: int | str | None = None,
    min_shards: int | None = None,
    batch_size: int | None = None,
    max_concurrency: int | None = None,
    prefetch: bool | None = None,
    read_ahead_bytes: int | str | None = None,
    retry_budget: float | None = None,
    drop_labels: bool | None = None,
    drop_metadata: bool | None = None,
) -> daft.DataFrame:
    """A Hub dataset as a lazy Daft DataFrame, pinned to one commit.

    Splits: by default every split of the config, with a `split` column (a partition column: a filter on it
    skips the other splits' files), as `daft.read_huggingface` reads every Parquet file of the repo (which adds
    no column and mixes configs); `split="train"` reads one. `io_config` (Daft's `IOConfig(hf=...)`) gives the
    token. The format is the one `datasets` picks from the repo's files (Parquet, JSON Lines, CSV, WebDataset
    `.tar` shards, an image or audio folder: media files with labels from folder names or `metadata.*` rows,
    shaped by `drop_labels`/`drop_metadata`); `format`, when given, must name it (a check, as Daft's keyword
    chooses its reader). The repo is resolved and planned here, so a wrong repo, config, split or token fails at once,
    with the available configs/splits in the message; rows are read when the DataFrame runs, with column, filter
    and limit pushdowns. `reader="native"` hands each Parquet file (at its signed URL) to Daft's native reader,
    which splits files by row group itself (so `shard_size` and `min_shards`, which cut hfconnect's tasks, are
    refused with it); `reader="hfconnect"` uses hfconnect's own reader, one task per planned shard. docs/options.md's
    option table says what each keyword does and its default.
    """
    if format is not None and format not in READ_FORMATS:
        raise OptionError(f"format={format!r}: hfconnect reads {', '.join(READ_FORMATS)} (the one `datasets` picks "
                          "from the repo's files); leave format out")
    if reader == "native" and (shard_size is not None or min_shards is not None):
        raise OptionError("shard_size and min_shards cut hfconnect's reader tasks; Daft's native reader splits "
                          "files by row group itself: drop them, or pass reader='hfconnect'")
    token = token if token is not None else io_config_values(io_config, write=False).get("token")
    options = ReadOptions.build(
        engine="daft", repo=repo, config=config, split=split or "all", revision=revision, token=token,
        endpoint=endpoint, data_files=data_files, data_dir=data_dir, columns=columns, filters=filters,
        daft_reader=reader, shard_size=shard_size, min_shards=min_shards, batch_size=batch_size,
        read_ahead_bytes=read_ahead_bytes,
        max_concurrency=max_concurrency, prefetch=prefetch, retry_budget=retry_budget, drop_labels=drop_labels,
        drop_metadata=drop_metadata,
    )
    source = HuggingFaceSource(options)
    found = plan_format(source.plan)  # plan now: errors surface here, not at collect()
    if format is not None and found is not None and format != found:
        raise OptionError(f"format={format!r}: {repo} holds {found} data (the format `datasets` picks from its "
                          "files); leave format out, or pick files of that format with data_files")
    return source.read()


def plan_format(plan: ReadPlan) -> str | None:
    """The format a plan reads: an image/audio folder's builder, else its files' (None: no file)."""
    if plan.media_builder:
        return plan.media_builder
    return next((part.format for part in plan.files()), None)
