"""Storage Buckets of the local hub: non-versioned, mutable path -> Xet file maps, as huggingface.co keeps them.

Why a map and not commits: a bucket has no history (an add overwrites, a delete forgets), so one JSON document per
bucket is its whole state. Layout under <root>/buckets/<namespace>/<name>/, every write through
`Storage.atomic_write` (temp file, fsync, rename) under the bucket's lock:
  files.json   {path: {"xetHash", "size", "mtime" (ms, the client's), "uploadedAt" (s), "contentType"}}
  meta.json    {"id", "private", "createdAt", "author"}: written last on create, removed first on delete, so a
               bucket exists exactly while its meta.json does and a crash never leaves half a bucket visible.
The bytes live in the Xet store: a bucket only names Xet files, and a Xet token of a bucket reconstructs only the
files its map names (`holds`, which `XetStore.repo_holds` asks through `store_for`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import HubError
from .records import validate_repo_path
from .storage import Storage, fsync_dir

__all__ = ["BucketEntry", "BucketOp", "BucketStore", "check_bucket_id", "store_for"]

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
_STORES: weakref.WeakKeyDictionary[Storage, BucketStore] = weakref.WeakKeyDictionary()
_STORES_GUARD = threading.Lock()


@dataclass(frozen=True)
class BucketEntry:
    """One file of a bucket: its Xet file, size, the client's mtime (ms) and when the hub stored it (s)."""

    xet_hash: str
    size: int
    mtime: int
    uploaded_at: float
    content_type: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"xetHash": self.xet_hash, "size": self.size, "mtime": self.mtime, "uploadedAt": self.uploaded_at,
                "contentType": self.content_type}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> BucketEntry:
        return cls(raw["xetHash"], raw["size"], raw["mtime"], raw["uploadedAt"], raw.get("contentType"))


@dataclass(frozen=True)
class BucketOp:
    """One line of a batch: `addFile`, `copyFile` (also names its source) or `deleteFile`."""

    kind: str
    path: str
    xet_hash: str | None = None
    mtime: int | None = None
    content_type: str | None = None
    source_type: str | None = None
    source_id: str | None = None

    @classmethod
    def from_json(cls, raw: Any) -> BucketOp:
        """A batch line as the client sends it; HubError 400 for anything else."""
        if not isinstance(raw, dict) or raw.get("type") not in ("addFile", "copyFile", "deleteFile"):
            raise HubError(400, "BadRequest", "Each batch line must be an object with type addFile, copyFile or "
                                              "deleteFile.")
        mtime = raw.get("mtime")
        return cls(raw["type"], path if isinstance(path := raw.get("path"), str) else "",
                   raw.get("xetHash"), mtime if isinstance(mtime, int) else None, raw.get("contentType"),
                   raw.get("sourceRepoType"), raw.get("sourceRepoId"))


def check_bucket_id(bucket_id: str) -> None:
    """`namespace/name` with the Hub's name characters; 400 otherwise (names end up as directories)."""
    parts = bucket_id.split("/")
    if len(parts) != 2 or not all(_NAME_RE.match(p) and ".." not in p for p in parts):
        raise HubError(400, "BadRequest", f"Invalid bucket id {bucket_id!r}: use 'namespace/name' with letters, "
                                          "digits, '-', '_', '.'.")


def store_for(storage: Storage) -> BucketStore:
    """The one bucket store of a storage root in this process (HubState and XetStore.repo_holds share it)."""
    with _STORES_GUARD:
        found = _STORES.get(storage)
        if found is None:
            found = _STORES[storage] = BucketStore(storage)
        return found


class BucketStore:
    """Buckets of one hub root; each bucket's map is cached in memory once read and replaced whole on write."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.root = storage.root / "buckets"
        self.root.mkdir(parents=True, exist_ok=True)
        self._guard = threading.Lock()
        self._files: dict[str, dict[str, BucketEntry]] = {}
        self._hashes: dict[str, frozenset[str]] = {}
        self._uploaded: dict[str, set[str]] = {}  # Xet files uploaded with a bucket's write token, per bucket

    def _dir(self, bucket_id: str) -> Path:
        check_bucket_id(bucket_id)
        return self.root / bucket_id

    def _lock(self, bucket_id: str) -> threading.Lock:
        return self.storage.lock(f"bucket/{bucket_id}")

    # ---- buckets --------------------------------------------------------------------------------
    def meta(self, bucket_id: str) -> dict[str, Any] | None:
        try:
            return json.loads((self._dir(bucket_id) / "meta.json").read_bytes())
        except (FileNotFoundError, HubError):
            return None

    def list_ids(self, namespace: str) -> list[str]:
        """Ids of the namespace's buckets, sorted."""
        if not _NAME_RE.match(namespace):
            return []
        return sorted(f"{namespace}/{p.parent.name}" for p in (self.root / namespace).glob("*/meta.json"))

    def create(self, bucket_id: str, *, private: bool, author: str) -> bool:
        """Create an empty bucket; False when it already exists."""
        bdir = self._dir(bucket_id)
        with self._lock(bucket_id):
            if self.meta(bucket_id) is not None:
                return False
            self.storage.atomic_write(bdir / "files.json", b"{}")
            meta = {"id": bucket_id, "private": private, "createdAt": time.time(), "author": author}
            self.storage.atomic_write(bdir / "meta.json", json.dumps(meta).encode())  # exists once this lands
            with self._guard:
                self._files[bucket_id] = {}
                self._hashes.pop(bucket_id, None)
            return True

    def set_private(self, bucket_id: str, private: bool) -> None:
        with self._lock(bucket_id):
            meta = self._require(bucket_id)
            meta["private"] = private
            self.storage.atomic_write(self._dir(bucket_id) / "meta.json", json.dumps(meta).encode())

    def delete(self, bucket_id: str) -> None:
        with self._lock(bucket_id):
            self._require(bucket_id)
            bdir = self._dir(bucket_id)
            (bdir / "meta.json").unlink()  # gone atomically; the rest is garbage moved out of the way
            fsync_dir(bdir)
            with self._guard:
                self._files.pop(bucket_id, None)
                self._hashes.pop(bucket_id, None)
            graveyard = Path(tempfile.mkdtemp(dir=self.storage.root / "tmp"))
            os.replace(bdir, graveyard / "bucket")
            shutil.rmtree(graveyard, ignore_errors=True)

    def _require(self, bucket_id: str) -> dict[str, Any]:
        meta = self.meta(bucket_id)
        if meta is None:
            raise HubError(404, "RepoNotFound", f"Bucket {bucket_id} not found.")
        return meta

    # ---- files ----------------------------------------------------------------------------------
    def files(self, bucket_id: str) -> dict[str, BucketEntry]:
        """The bucket's path -> entry map (do not mutate: it is the cached one); 404 for a missing bucket."""
        with self._guard:
            cached = self._files.get(bucket_id)
        if cached is not None:
            return cached
        self._require(bucket_id)
        raw = json.loads((self._dir(bucket_id) / "files.json").read_bytes())
        loaded = {path: BucketEntry.from_json(e) for path, e in raw.items()}
        with self._guard:
            return self._files.setdefault(bucket_id, loaded)

    def note_uploads(self, bucket_id: str, xet_hashes: list[str]) -> None:
        """Xet files a shard uploaded with this bucket's write token: an add may name them (see `may_add`)."""
        with self._guard:
            self._uploaded.setdefault(bucket_id, set()).update(xet_hashes)

    def may_add(self, bucket_id: str, xet_hash: str) -> bool:
        """Whether an addFile may name `xet_hash`: uploaded with this bucket's token, or held by it already. A hash
        alone (of another repo's or bucket's file, maybe private) opens nothing; the Hub too takes an add only for
        bytes its uploader sent. Uploads are remembered in memory: after a restart, upload again."""
        with self._guard:
            if xet_hash in self._uploaded.get(bucket_id, ()):
                return True
        return self.holds(bucket_id, xet_hash)

    def holds(self, bucket_id: str, xet_hash: str) -> bool:
        """Whether some path of the bucket names Xet file `xet_hash` now (a deleted file is no longer held)."""
        try:
            files = self.files(bucket_id)
        except HubError:
            return False
        with self._guard:
            hashes = self._hashes.get(bucket_id)
            if hashes is None or self._files.get(bucket_id) is not files:
                hashes = frozenset(e.xet_hash for e in files.values())
                self._hashes[bucket_id] = hashes
        return xet_hash in hashes

    def apply(self, bucket_id: str, ops: Iterable[BucketOp],
              admit: Callable[[BucketOp], tuple[str, int]]) -> list[dict[str, str]]:
        """Apply a batch in order, each operation on its own (the Hub's batches are not transactions), then write
        the map once. `admit(op)` gives (xet hash, size) for an add/copy or raises HubError naming why not.
        Returns the failures as the client reads them: [{"path", "error"}]."""
        failed: list[dict[str, str]] = []
        with self._lock(bucket_id):
            files = dict(self.files(bucket_id))
            now = time.time()
            for op in ops:
                try:
                    validate_repo_path(op.path)
                    if op.kind == "deleteFile":
                        if files.pop(op.path, None) is None:
                            raise HubError(404, "EntryNotFound", "file does not exist")
                        continue
                    if not isinstance(op.xet_hash, str) or not _HASH_RE.match(op.xet_hash):
                        raise HubError(400, "BadRequest", "xetHash must be 64 lowercase hex digits")
                    xet_hash, size = admit(op)
                    mtime = op.mtime if op.mtime is not None else int(now * 1000)
                    files[op.path] = BucketEntry(xet_hash, size, mtime, now, op.content_type)
                except HubError as err:
                    failed.append({"path": op.path, "error": err.message})
            data = json.dumps({p: files[p].to_json() for p in sorted(files)}).encode()
            self.storage.atomic_write(self._dir(bucket_id) / "files.json", data)
            with self._guard:
                self._files[bucket_id] = files
                self._hashes.pop(bucket_id, None)
        return failed

