"""Parquet footers over HTTP: one suffix-range request each, in parallel with bounded concurrency.

A footer larger than the tail a first read fetches (64 KiB) costs a second request; the files of one dataset have
footers of about one size, so once one footer's size is known the next files' first reads fetch that much (up to
FOOTER_BUDGET over the footers in flight), and each of them is one request.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..errors import DataFileError, HfConnectError
from ..hub.client import HubClient
from ..hub.rangefile import TAIL_BYTES, RangeFile
from ..hub.snapshot import Snapshot

__all__ = ["FileFacts", "Footer", "inspect_many", "inspect_parquet", "open_fragment"]

if TYPE_CHECKING:
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

_FORMAT: list[Any] = []


def parquet_format() -> ds.ParquetFileFormat:
    """INT96 timestamps (old Spark/Impala files) read as microseconds: nanoseconds overflow for dates outside
    1677-2262, and microseconds are what Spark itself reads them as. Made on first use: pyarrow.dataset imports
    pandas, which a process that only plans from a plan it was handed never needs."""
    if not _FORMAT:
        import pyarrow.dataset as ds

        _FORMAT.append(ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(coerce_int96_timestamp_unit="us")))
    return _FORMAT[0]


@dataclass
class Footer:
    """A Parquet file over HTTP with its footer loaded: a pyarrow.parquet file for plain reads, or a dataset
    fragment where a filter needs statistics pruning and row filtering (pyarrow.dataset imports pandas, a cost
    in every fresh Python worker that a read without a filter need not pay: bench/MEASUREMENTS.md)."""

    path: str
    file: RangeFile
    parquet: pq.ParquetFile | None = None
    fragment: ds.ParquetFileFragment | None = None

    @property
    def metadata(self) -> pq.FileMetaData:
        if self.fragment is not None:
            return self.fragment.metadata
        assert self.parquet is not None  # a footer holds one or the other
        return self.parquet.metadata

    @property
    def schema(self) -> pa.Schema:
        if self.fragment is not None:
            return self.fragment.physical_schema
        return self.parquet.schema_arrow  # type: ignore[union-attr]


def open_fragment(client: HubClient, snapshot: Snapshot, path: str, size: int, *, dataset: bool = True,
                  tail_bytes: int = 0) -> Footer:
    """The file's footer over HTTP (one range request): a dataset fragment, or with `dataset=False` a
    pyarrow.parquet file (same schema and metadata, INT96 read as microseconds either way). `tail_bytes`: the
    footer size expected (another file's): the first read fetches at least that much of the end."""
    rf = RangeFile(client, client.file_url(snapshot, path), size, name=path, tail_bytes=_tail_for(tail_bytes))
    try:
        if dataset:
            frag = parquet_format().make_fragment(pa.PythonFile(rf, mode="r"))
            frag.ensure_complete_metadata()
            return Footer(path, rf, fragment=frag)
        import pyarrow.parquet as pq

        return Footer(path, rf, parquet=pq.ParquetFile(pa.PythonFile(rf, mode="r"), coerce_int96_timestamp_unit="us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, ValueError) as exc:
        if isinstance(exc, HfConnectError):  # the Hub failed (HubRequestError is an OSError), not the file
            raise
        raise DataFileError(f"{snapshot.repo_id}/{path}: not a readable Parquet file ({exc})", path=path) from None


@dataclass(frozen=True)
class FileFacts:
    """What planning keeps of a footer: the schema, row-group sizes, and the row groups a filter keeps."""

    path: str
    schema: pa.Schema
    row_group_bytes: tuple[int, ...]
    kept: tuple[int, ...]
    # compressed bytes per top-level column over the file's row groups: what a projected read fetches
    column_bytes: dict[str, int] = field(default_factory=dict, compare=False)
    footer_bytes: int = field(default=0, compare=False)  # the footer's size (metadata and its length and magic)


MAX_TAIL = 16 * 1024 * 1024  # a footer expected larger than this is read in two requests anyway
FOOTER_BUDGET = 64 * 1024 * 1024  # footer bytes in flight while planning, over every thread


def _tail_for(footer_bytes: int) -> int:
    """The tail to fetch for a footer of about `footer_bytes` (a little more: files differ a little)."""
    return min(MAX_TAIL, footer_bytes + footer_bytes // 8 + 1024) if footer_bytes else 0


def inspect_parquet(client: HubClient, snapshot: Snapshot, path: str, size: int, filter: object = None,
                    *, tail_bytes: int = 0) -> FileFacts:
    footer = open_fragment(client, snapshot, path, size, dataset=filter is not None, tail_bytes=tail_bytes)
    md = footer.metadata
    rg_bytes = tuple(sum(rg.column(j).total_compressed_size for j in range(rg.num_columns))
                     for rg in (md.row_group(i) for i in range(md.num_row_groups)))
    column_bytes: dict[str, int] = {}
    for i in range(md.num_row_groups):
        rg = md.row_group(i)
        for j in range(rg.num_columns):
            chunk = rg.column(j)
            top = chunk.path_in_schema.split(".", 1)[0]
            column_bytes[top] = column_bytes.get(top, 0) + chunk.total_compressed_size
    kept = tuple(range(md.num_row_groups))
    if filter is not None and md.num_row_groups:
        # If statistics cannot decide this filter, every row group is kept: the reader filters rows.
        with contextlib.suppress(pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            kept = tuple(rg.id for rg in footer.fragment.subset(filter=filter).row_groups)  # type: ignore[union-attr]
    footer.file.close()
    return FileFacts(path, footer.schema, rg_bytes, kept, column_bytes, md.serialized_size + 8)


PROGRESS_FROM = 32  # footers: fewer are read too fast for a progress bar to mean anything


def inspect_many(client: HubClient, snapshot: Snapshot, files: Iterable[tuple[str, int]], *,
                 filter: object = None, concurrency: int = 16) -> dict[str, FileFacts]:
    """Footers of many files in parallel (bounded); only their small facts are kept. A progress bar shows on a
    terminal (huggingface_hub's tqdm: HF_HUB_DISABLE_PROGRESS_BARS turns it off), never in a worker's log."""
    from huggingface_hub.utils import tqdm

    files = list(files)
    if not files:
        return {}
    seen = [0]  # the largest footer so far: the next files' first reads fetch that much
    cap = max(TAIL_BYTES, FOOTER_BUDGET // max(1, concurrency))  # footer bytes in flight stay within the budget

    def one(f: tuple[str, int]) -> FileFacts:
        facts = inspect_parquet(client, snapshot, f[0], f[1], filter, tail_bytes=min(seen[0], cap))
        seen[0] = max(seen[0], facts.footer_bytes)
        bar.update(1)
        return facts

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(files)))) as pool, \
            tqdm(total=len(files), desc=f"footers of {snapshot.repo_id}", unit="file", leave=False,
                 disable=True if len(files) < PROGRESS_FROM else None) as bar:
        facts = list(pool.map(one, files))
    return {f.path: f for f in facts}
