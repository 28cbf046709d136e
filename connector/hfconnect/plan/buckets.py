"""A Storage Bucket prefix as a file source of the planner: its files' layout and the snapshot that pins them.

Why its own source: a bucket has no commit, card or `refs/convert/parquet`; what stands in for the commit is the
listing itself, each file pinned by its Xet hash and size (hub.buckets checks them when a task reads the file).
Splits come from the files under the prefix as for a repo (`data_files` globs and `data_dir` relative to the
prefix, else the Hub's file-name conventions; a prefix naming one file reads that file).

A prefix hfconnect wrote has a manifest (`hub.bucket_manifest`): then the files read are exactly the manifest's,
pinned to the Xet hash and size it recorded, so a job's files appear all at once and an unfinished or killed
job's files (in no manifest) are never read; `data_files`/`data_dir` select among them. A manifest of a
sub-prefix governs that folder only (`governing_folders`); files in no governed folder are read as without one.
"""

from __future__ import annotations

import posixpath
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import DataFileError, HfConnectError, OptionError
from ..hub.bucket_manifest import Manifest, full_path, governing_folders, is_manifest, manifest_path, under_prefix
from ..hub.buckets import BucketPath, list_bucket_files, read_manifest
from ..hub.datafiles import DatasetLayout, _data_files, is_empty, resolve_layout
from ..hub.snapshot import RepoFileInfo, Snapshot
from .model import Shard

if TYPE_CHECKING:
    from ..hub.client import HubClient
    from ..options import ReadOptions

__all__ = ["bucket_files", "bucket_layout", "pin_shards"]


def bucket_layout(options: ReadOptions, client: HubClient, bucket: BucketPath) -> tuple[DatasetLayout, Snapshot]:
    """The prefix's configs/splits and a snapshot pinning every data file listed (1 API call per 1000 files)."""
    if options.revision != "main":
        raise OptionError(f"{bucket}: a bucket has no revisions (revision={options.revision!r}): drop the option; "
                          "a bucket read reads the files as they are when it is planned")
    files, manifests = bucket_files(client, bucket)
    snapshot = Snapshot(bucket.bucket_id, "", bucket.prefix, client.endpoint, "bucket",
                        pins={f.path: (f.oid, f.size) for f in files if f.oid})
    single = next((f for f in files if f.path == bucket.prefix), None) if bucket.prefix else None
    if single is not None and is_manifest(single.path):
        raise HfConnectError(f"{bucket}: this is hfconnect's manifest of a prefix, not data: read its prefix, "
                             f"buckets/{bucket.bucket_id}/{bucket.prefix.rpartition('/')[0]}".rstrip("/"),
                             bucket=bucket.bucket_id)
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
        if manifests:
            layout = replace(layout, source=f"{layout.source}, {_manifests_note(manifests)}")
    if is_empty(layout):
        what = f"{len(files)} file(s) listed, e.g. {', '.join(f.path for f in files[:3])}" if files else \
            "no file at all"
        if manifests:
            what += f"; {_manifests_note(manifests)}"
        given = f" matching data_files {list(options.data_files)}" if options.data_files else ""
        raise HfConnectError(f"{bucket}: no Parquet, JSON Lines or CSV data files under this prefix{given} "
                             f"({what}); check the prefix (it names a folder or one file of the bucket)",
                             bucket=bucket.bucket_id, prefix=bucket.prefix)
    return layout, snapshot


def bucket_files(client: HubClient, bucket: BucketPath) -> tuple[list[RepoFileInfo], list[Manifest]]:
    """The files a read of the prefix may take, each with the Xet hash and size it is pinned to, and the manifests
    that chose them. Under a folder with a manifest: exactly its files, as it recorded them (a listed file that
    differs, or is gone, fails the read); elsewhere: every file listed. Manifests are never data. One resolve
    request per governing manifest; a manifest replaced between the listing and its read (a job publishing right
    then) is met by listing once more."""
    for attempt in (1, 2):
        listed = list_bucket_files(client, bucket)
        try:
            return _honour_manifests(client, bucket, listed)
        except DataFileError as exc:
            if attempt == 2 or not getattr(exc, "changed", False) or not is_manifest(str(getattr(exc, "path", ""))):
                raise
    raise AssertionError("unreachable")


def _honour_manifests(client: HubClient, bucket: BucketPath,
                      listed: tuple[RepoFileInfo, ...]) -> tuple[list[RepoFileInfo], list[Manifest]]:
    by_path = {f.path: f for f in listed}
    folders = governing_folders(p for p in by_path if p != bucket.prefix or not is_manifest(p))
    if not folders:
        return list(listed), []
    entries = [by_path[manifest_path(folder)] for folder in folders]
    if len(entries) == 1:
        manifests = [read_manifest(client, bucket.bucket_id, entries[0])]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(8, len(entries))) as pool:
            manifests = list(pool.map(lambda e: read_manifest(client, bucket.bucket_id, e), entries))
    out = [f for f in listed if not is_manifest(f.path) and not any(under_prefix(f.path, g) for g in folders)]
    for manifest in manifests:
        _check(bucket, manifest, by_path)
        out += [RepoFileInfo(full_path(manifest.prefix, f.path), f.size, f.xet_hash) for f in manifest.files
                if not is_manifest(f.path)]
    return out, manifests


def _check(bucket: BucketPath, manifest: Manifest, listed: dict[str, RepoFileInfo]) -> None:
    """Every file of the manifest is listed with the size and Xet hash it recorded, else a DataFileError naming
    the first that is not: the prefix changed outside hfconnect (or a job is publishing right now)."""
    problems = manifest.check({p: (f.size, f.oid) for p, f in listed.items()})
    if not problems:
        return
    named = f"buckets/{bucket.bucket_id}"
    where = f"{named}/{manifest_path(manifest.prefix)}"
    more = f" ({len(problems) - 1} more file(s) of it differ too)" if len(problems) > 1 else ""
    fix = ("re-run the read; if it fails again, the prefix was modified outside hfconnect: rewrite it with hfconnect "
           "(mode overwrite), or delete the manifest to read every data file under the prefix")
    for f in manifest.files:
        path = full_path(manifest.prefix, f.path)
        found = listed.get(path)
        if found is None:
            raise DataFileError(f"{named}/{path}: the manifest {where} names this file, which is missing from the "
                                f"bucket{more}: {fix}", path=f"{named}/{path}", changed=True, missing=True)
        if (found.size, found.oid) != (f.size, f.xet_hash):
            raise DataFileError(f"{named}/{path}: changed since the manifest {where} was written (Xet "
                                f"hash {found.oid[:12]}..., {found.size:,} bytes; the manifest has "
                                f"{f.xet_hash[:12]}..., {f.size:,} bytes){more}: {fix}", path=f"{named}/{path}",
                                changed=True)


def _manifests_note(manifests: list[Manifest]) -> str:
    """For explain(): which manifest(s) chose the files."""
    if len(manifests) == 1:
        m = manifests[0]
        return f"manifest {manifest_path(m.prefix)} of job {m.job_id} ({len(m.files)} file(s))"
    return f"{len(manifests)} manifests ({', '.join(manifest_path(m.prefix) for m in manifests[:3])}" + \
        (", ...)" if len(manifests) > 3 else ")")


def pin_shards(shards: tuple[Shard, ...], snapshot: Snapshot) -> tuple[Shard, ...]:
    """Each part with its file's Xet hash (FilePart.version): the plan keeps pins there, not in its snapshot."""
    if not snapshot.pins:
        return shards
    return tuple(replace(s, parts=tuple(replace(p, version=snapshot.pins[p.path][0]) if p.path in snapshot.pins
                                        else p for p in s.parts)) for s in shards)
