"""The manifest of a Storage Bucket prefix hfconnect wrote: which files ARE the dataset there, for every reader of
hfconnect to honour.

Why: a bucket batch is not a transaction (each operation is applied on its own) and a bucket has no history, so a
write job's files cannot appear all at once by themselves. A write job therefore uploads its files' bytes to the
Xet storage (invisible until a batch names them), adds its files under fresh names in one batch, and only then, in
a following batch, writes this manifest (the job's LAST operation, one file: it lands whole or not at all) and
deletes what an overwrite replaces. A reader that honours the manifest sees the previous job's files up to that
moment and exactly the new job's from then on: never a part of a job, whatever happened to the writer.

Where: `<prefix>/_hfconnect_manifest.json` (`manifest_path`); at the bucket's root for the empty prefix.

Format (JSON, UTF-8), version 1:

    {"format": "hfconnect-bucket-manifest", "version": 1,
     "bucket": "ns/name", "prefix": "some/prefix", "job_id": "3f2a...", "mode": "append",
     "written_at": "2025-01-01T00:00:00Z", "schema": "id:int64,text:string", "rows": 1000,
     "files": [{"path": "part-00000-of-00002-3f2a91c0.parquet", "size": 12345, "xet_hash": "<64 hex>",
                "rows": 500}, ...]}

`files[].path` is relative to the prefix (`/`-separated, no `.` or `..` segment, never the manifest itself), in
reading order; `size` and `xet_hash` are the bucket entry's when the job wrote the manifest; `rows` is null for a
file hfconnect did not write (adopted on an append to a prefix that had no manifest). `rows` at the top is the
sum, or null when a file's is unknown. `schema` is informational (name:type of the files' columns). Unknown top
level keys are ignored (a later version-1 writer may add some); a higher `version` is refused.

Optional `streams` (version 1, added later; absent when empty): {"<streaming query id>": <newest batch id>}, the
micro-batches of Spark streaming queries published here. Why: a bucket has no history to look a batch up in, so
the streaming sink records each batch's id in the manifest that publishes it, and a batch replayed from Spark's
checkpoint is skipped when the manifest already holds its id (exactly once across restarts). Every later job on
the prefix carries the record forward (append and overwrite alike). Readers ignore it.

How a reader honours it:
  1. List `<prefix>/` recursively. If the manifest is there, `parse_manifest(data, prefix=<prefix>)`: the
     dataset is exactly `Manifest.paths()` (full bucket paths, in order). Other files under the prefix are not
     part of it: an unfinished or failed job's, an overwrite's not yet deleted old files, or someone else's.
  2. `Manifest.check(listing)` with the listing's {path: (size, xet_hash)}: a listed file missing or changed means
     the prefix was modified outside hfconnect: fail naming the problems (`ManifestError`), never read another
     set of files than the manifest's.
  3. No manifest: no hfconnect job completed there; read every `.parquet` file under `<prefix>/` (what
     `fallback_paths` returns), as any other reader would.
  4. A manifest that does not parse (ManifestError): fail; do not fall back, which would show unfinished files.
  5. Manifests of sub-prefixes (reading `a` when a job wrote `a/b`): the shallowest manifest at or below the read
     prefix governs its folder (`governing_folders`): below it, only its files are read; files in no governed
     folder are read as in 3. The manifest itself is never data (`is_manifest`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from ..errors import HfConnectError

__all__ = ["FORMAT", "MANIFEST_NAME", "VERSION", "Manifest", "ManifestError", "ManifestFile", "fallback_paths",
           "full_path", "governing_folders", "is_manifest", "manifest_folder", "manifest_path", "parse_manifest",
           "under_prefix"]

MANIFEST_NAME = "_hfconnect_manifest.json"
FORMAT = "hfconnect-bucket-manifest"
VERSION = 1
_HASH = re.compile(r"^[0-9a-f]{64}$")


class ManifestError(HfConnectError, ValueError):
    """A manifest that does not parse, or that the prefix's files no longer match."""


@dataclass(frozen=True)
class ManifestFile:
    path: str  # relative to the prefix
    size: int
    xet_hash: str
    rows: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "xet_hash": self.xet_hash, "rows": self.rows}


@dataclass(frozen=True)
class Manifest:
    bucket: str
    prefix: str
    job_id: str
    mode: str
    files: tuple[ManifestFile, ...]
    schema: str = ""
    written_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    streams: Mapping[str, int] = field(default_factory=dict)  # streaming query id -> newest batch id published

    @property
    def rows(self) -> int | None:
        counts = [f.rows for f in self.files]
        return None if any(r is None for r in counts) else sum(c for c in counts if c is not None)

    def paths(self) -> list[str]:
        """The dataset's files as full bucket paths, in reading order."""
        return [full_path(self.prefix, f.path) for f in self.files]

    def to_bytes(self) -> bytes:
        doc = {"format": FORMAT, "version": VERSION, "bucket": self.bucket, "prefix": self.prefix,
               "job_id": self.job_id, "mode": self.mode, "written_at": self.written_at, "schema": self.schema,
               "rows": self.rows, "files": [f.to_json() for f in self.files]}
        if self.streams:
            doc["streams"] = dict(sorted(self.streams.items()))
        return (json.dumps(doc, indent=1) + "\n").encode()

    def check(self, listing: Mapping[str, tuple[int, str]]) -> list[str]:
        """What no longer matches: listed files missing from `listing` ({full path: (size, xet_hash)}) or with
        another size or content. Empty: the manifest describes the prefix."""
        problems = []
        for f in self.files:
            path = full_path(self.prefix, f.path)
            found = listing.get(path)
            if found is None:
                problems.append(f"{path} is missing")
            elif (found[0], found[1]) != (f.size, f.xet_hash):
                problems.append(f"{path} changed since the manifest was written")
        return problems


def manifest_path(prefix: str) -> str:
    """Where the manifest of `prefix` lives in the bucket."""
    return full_path(prefix, MANIFEST_NAME)


def full_path(prefix: str, relative: str) -> str:
    return f"{prefix}/{relative}" if prefix else relative


def under_prefix(path: str, prefix: str) -> bool:
    """Whether bucket path `path` is below folder `prefix` (every path for the bucket's root; `a/bc` is not below
    `a/b`, although the Hub's listing matches prefixes lexically)."""
    return not prefix or path.startswith(prefix + "/")


def is_manifest(path: str) -> bool:
    """Whether bucket path `path` is a manifest (of its folder): never read as data."""
    return path.rpartition("/")[2] == MANIFEST_NAME


def manifest_folder(path: str) -> str:
    """The prefix a manifest at `path` describes ('' for the bucket's root)."""
    return path.rpartition("/")[0]


def governing_folders(manifests: Iterable[str]) -> list[str]:
    """The folders whose manifest decides what is read below them, from the manifests' paths listed under a read
    prefix: each manifest's folder unless a shallower listed manifest's folder contains it (that one's files
    are the data there: an overwrite of `a` deletes `a/b`'s files, an append may have adopted them), sorted."""
    folders = sorted({manifest_folder(p) for p in manifests if is_manifest(p)}, key=lambda f: (f.count("/"), f))
    out: list[str] = []
    for folder in folders:
        if not any(folder == g or under_prefix(folder, g) for g in out):
            out.append(folder)
    return sorted(out)


def fallback_paths(paths: Iterable[str], prefix: str) -> list[str]:
    """What a reader reads under a prefix without a manifest: its `.parquet` files, sorted."""
    return sorted(p for p in paths if under_prefix(p, prefix) and p.endswith(".parquet"))


def _relative_ok(path: object) -> TypeGuard[str]:
    if not isinstance(path, str) or not path or path.startswith("/") or "\\" in path:
        return False
    parts = path.split("/")
    return all(p not in ("", ".", "..") for p in parts) and path != MANIFEST_NAME


def parse_manifest(data: bytes, *, prefix: str | None = None, where: str = "the manifest") -> Manifest:
    """The manifest in `data`, validated; ManifestError naming what is wrong otherwise. `prefix`: where it was
    found (its files are relative to that, also when the prefix was copied elsewhere since)."""

    def bad(why: str) -> ManifestError:
        return ManifestError(f"{where} is not a valid hfconnect bucket manifest: {why}")

    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad(f"not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise bad(f"'format' is not {FORMAT!r}")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise bad("'version' is not a positive integer")
    if version > VERSION:
        raise ManifestError(f"{where} has version {version}, newer than this hfconnect reads ({VERSION}): "
                            "upgrade hfconnect")
    files = doc.get("files")
    if not isinstance(files, list):
        raise bad("'files' is not a list")
    out: list[ManifestFile] = []
    seen: set[str] = set()
    for n, raw in enumerate(files):
        if not isinstance(raw, dict):
            raise bad(f"files[{n}] is not an object")
        path, size, xet_hash, rows = raw.get("path"), raw.get("size"), raw.get("xet_hash"), raw.get("rows")
        if not _relative_ok(path):
            raise bad(f"files[{n}].path {path!r} is not a relative path below the prefix")
        if path in seen:
            raise bad(f"files[{n}].path {path!r} is listed twice")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise bad(f"files[{n}].size is not a size")
        if not isinstance(xet_hash, str) or not _HASH.match(xet_hash):
            raise bad(f"files[{n}].xet_hash is not 64 lowercase hex digits")
        if rows is not None and (not isinstance(rows, int) or isinstance(rows, bool) or rows < 0):
            raise bad(f"files[{n}].rows is not a row count")
        seen.add(path)
        out.append(ManifestFile(path, size, xet_hash, rows))
    keys = ("bucket", "prefix", "job_id", "mode", "schema", "written_at")
    text = {k: v for k in keys if isinstance(v := doc.get(k), str)}
    if len(text) != len(keys):
        raise bad("bucket, prefix, job_id, mode, schema and written_at must be strings")
    streams = doc.get("streams", {})
    if not isinstance(streams, dict) or not all(
            isinstance(k, str) and k and isinstance(v, int) and not isinstance(v, bool) and v >= 0
            for k, v in streams.items()):
        raise bad("'streams' is not an object of query ids to batch ids")
    where_found = text["prefix"] if prefix is None else prefix
    return Manifest(text["bucket"], where_found, text["job_id"], text["mode"], tuple(out), text["schema"],
                    text["written_at"], dict(streams))
