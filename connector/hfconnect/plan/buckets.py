"""A Storage Bucket prefix as a file source of the planner: its files' layout and the snapshot that pins them.

Why its own source: a bucket has no commit, card or `refs/convert/parquet`; what stands in for the commit is the
listing itself, each file pinned by its Xet hash and size (hub.buckets checks them when a task reads the file).
Splits come from the files under the prefix as for a repo (`data_files` globs and `data_dir` relative to the
prefix, else the Hub's file-name conventions; a prefix naming one file reads that file).
"""

from __future__ import annotations

import posixpath
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import HfConnectError, OptionError
from ..hub.buckets import BucketPath, list_bucket_files
from ..hub.datafiles import DatasetLayout, _data_files, is_empty, resolve_layout
from ..hub.snapshot import Snapshot
from .model import Shard

if TYPE_CHECKING:
    from ..hub.client import HubClient
    from ..options import ReadOptions

__all__ = ["bucket_layout", "pin_shards"]


def bucket_layout(options: ReadOptions, client: HubClient, bucket: BucketPath) -> tuple[DatasetLayout, Snapshot]:
    """The prefix's configs/splits and a snapshot pinning every data file listed (1 API call per 1000 files)."""
    if options.revision != "main":
        raise OptionError(f"{bucket}: a bucket has no revisions (revision={options.revision!r}): drop the option; "
                          "a bucket read reads the files as they are when it is planned")
    files = list_bucket_files(client, bucket)
    snapshot = Snapshot(bucket.bucket_id, "", bucket.prefix, client.endpoint, "bucket",
                        pins={f.path: (f.oid, f.size) for f in files if f.oid})
    single = next((f for f in files if f.path == bucket.prefix), None) if bucket.prefix else None
    if single is not None and not options.data_files and not options.data_dir:  # the prefix names one file
        found = _data_files([single])
        if not found:
            raise HfConnectError(f"{bucket}: not a Parquet, JSON Lines or CSV file: nothing hfconnect can read",
                                 bucket=bucket.bucket_id)
        layout = DatasetLayout({"default": {"train": (found[0],)}}, "default", "bucket file")
    else:
        base = posixpath.join(bucket.prefix, options.data_dir or "").strip("/")
        layout = resolve_layout(list(files), None, data_files=options.data_files, data_dir=base or None)
        if not options.data_files and not options.data_dir:
            layout = replace(layout, source="bucket prefix" if bucket.prefix else "bucket")
    if is_empty(layout):
        what = f"{len(files)} file(s) listed, e.g. {', '.join(f.path for f in files[:3])}" if files else \
            "no file at all"
        given = f" matching data_files {list(options.data_files)}" if options.data_files else ""
        raise HfConnectError(f"{bucket}: no Parquet, JSON Lines or CSV data files under this prefix{given} "
                             f"({what}); check the prefix (it names a folder or one file of the bucket)",
                             bucket=bucket.bucket_id, prefix=bucket.prefix)
    return layout, snapshot


def pin_shards(shards: tuple[Shard, ...], snapshot: Snapshot) -> tuple[Shard, ...]:
    """Each part with its file's Xet hash (FilePart.version): the plan keeps pins there, not in its snapshot."""
    if not snapshot.pins:
        return shards
    return tuple(replace(s, parts=tuple(replace(p, version=snapshot.pins[p.path][0]) if p.path in snapshot.pins
                                        else p for p in s.parts)) for s in shards)
