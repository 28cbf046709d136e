"""The plan: small, picklable, pinned to one commit, and printable without secrets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import pyarrow as pa

from ..hub.client import HubClient
from ..hub.http import Target
from ..hub.snapshot import Snapshot

if TYPE_CHECKING:
    import pyarrow.compute as pc

    from .mediafolder import MediaShard

SPLIT_COLUMN = "split"  # the column split="all" adds

__all__ = ["SPLIT_COLUMN", "FilePart", "ReadPlan", "Shard"]


@dataclass(frozen=True)
class FilePart:
    """One file of a shard: the whole file, some of its row groups, or (a large tar) a byte range of it."""

    path: str
    size: int
    format: str
    split: str
    row_groups: tuple[int, ...] | None = None
    version: str = ""  # a bucket file's Xet hash at planning (with `size`: the file a task must find), else ""
    # A tar cut at sample boundaries (plan.webdataset): [start, end) of its bytes and the regular members in it,
    # (name, data offset, size) each, so a reader fetches only the members a query needs.
    byte_range: tuple[int, int] | None = None
    members: tuple[tuple[str, int, int], ...] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Shard:
    """The unit of parallelism: one Spark partition, one Daft task."""

    index: int
    parts: tuple[FilePart, ...]
    est_bytes: int
    # Signed download URLs the planner already got for these files (resolve URL -> target): the task reads
    # from them without asking `/resolve/` again (resolver requests are rate-limited).
    targets: tuple[tuple[str, Target], ...] = field(default=(), repr=False, compare=False)
    # An image/audio folder's rows (plan.mediafolder): the reader builds them, fetching the media files `parts`
    # names (for a shard of rows naming no file the commit has: its split's metadata files, never read).
    media: MediaShard | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class ReadPlan:
    snapshot: Snapshot
    client: HubClient = field(repr=False, compare=False)  # endpoint, token (hidden) and retry policy for tasks
    config: str
    splits: tuple[str, ...]
    file_schema: pa.Schema
    schema: pa.Schema
    shards: tuple[Shard, ...]
    filter: pc.Expression | None = None
    filter_columns: tuple[str, ...] = ()
    batch_size: int = 10_000
    prefetch: bool = True
    read_ahead_bytes: int = 128_000_000  # per task, fetched ahead of the decoder (read.ahead)
    add_split_column: bool = False
    layout_source: str = "conventions"
    total_files: int = 0
    total_bytes: int = 0
    footers_read: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    media_builder: str = ""  # "imagefolder"/"audiofolder": the shards' rows are an image/audio folder's

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.schema.names)

    def files(self) -> tuple[FilePart, ...]:
        """Each file the plan reads, once, whole (a file split by row group appears in several shards)."""
        seen: dict[str, FilePart] = {}
        for shard in self.shards:
            for part in shard.parts:
                seen.setdefault(part.path, replace(part, row_groups=None, byte_range=None, members=None))
        return tuple(seen.values())

    def snapshot_for(self, parts: Iterable[FilePart]) -> Snapshot:
        """The snapshot to read these parts through: for a bucket, pinned to their planned Xet hashes and sizes."""
        if not self.snapshot.is_bucket:
            return self.snapshot
        return replace(self.snapshot, pins={p.path: (p.version, p.size) for p in parts if p.version})

    def explain(self) -> str:
        """What will be read, from which commit, in how many shards. Never the token."""
        s = self.snapshot
        head = (f"HuggingFace bucket {s.repo_id}, prefix {s.revision!r}, via {s.endpoint}: not versioned, each file "
                "pinned by its Xet hash and size (a file changed before it is read fails the read)" if s.is_bucket
                else f"HuggingFace dataset {s.repo_id} at commit {s.sha} (revision {s.revision!r}) via {s.endpoint}")
        lines = [
            head,
            f"  config {self.config!r}, split(s) {', '.join(self.splits)} (layout from {self.layout_source})",
            f"  {self.total_files} file(s), {self.total_bytes:,} bytes -> {len(self.shards)} shard(s); "
            f"{self.footers_read} footer(s) read while planning",
            f"  columns: {', '.join(self.schema.names)}",
            f"  pushed filter: {self.filter if self.filter is not None else 'none'}",
        ]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)
