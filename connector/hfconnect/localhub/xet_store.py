"""Durable Xet storage of the local hub, under <root>/xet/, with the hub's crash-safety discipline.

Layout (every file written through `Storage.atomic_write`: temp file, fsync, rename):
  xorbs/<h[:2]>/<h>.idx    the xorb's chunks: [[offset of header, uncompressed size, chunk hash], ...]
  xorbs/<h[:2]>/<h>        the xorb as uploaded (no footer); written after its .idx, so a xorb that
                           exists always has its index
  casinfo/<h[:2]>/<h>.json the CAS info a shard gave for the xorb, and that shard's id (global dedup answers a
                           known chunk with the CAS info of every xorb of the shard that described it, as the
                           Hub's CAS answers with that shard: one query teaches a client a whole earlier upload)
  files/<h[:2]>/<h>.json   a file: size, sha256 and terms [[xorb, chunk_start, chunk_end, unpacked], ...]
  shards/<sha256>.shard    an accepted shard, written last: once it exists, everything above it does

A Xet file's bytes are stored once, in its xorbs: `/resolve/`, the bridge and commits find it by sha256 through
`Storage.open_object`, which reads it from the xorbs (`XetStore.body`, as the Hub's cas-bridge reconstructs), and
hf_xet downloads go through reconstructions and ranged xorb reads. (Copying each file into objects/ at shard
upload, as this hub first did, doubled the disk writes of a Xet upload and made it slower than LFS:
bench/MEASUREMENTS.md.)

A repo file's sha256 claim is checked against its bytes in the background (`check_of`): the shard upload answers
as soon as its structure and hashes hold, and a commit naming that sha256 waits for the check, so a commit never
lands bytes that do not hash to it. The LFS route hashes while the bytes arrive; this is Xet's way to overlap the
same work with the client's next upload instead of making every shard upload wait for it.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from .errors import HubError
from .storage import Storage
from .xet_body import XetBody
from .xet_format import (
    CHUNK_HEADER_SIZE,
    XetFormatError,
    XorbReader,
    decompress_chunk,
    file_hash,
    hash_from_hex,
    hash_hex,
    is_hash_hex,
    parse_chunk_header,
)
from .xet_shard import Shard, ShardChunk, ShardFile, ShardXorb, parse_shard

__all__ = ["XetFile", "XetStore", "XorbIndex"]

_INDEX_CACHE = 256


@dataclass(frozen=True)
class XorbIndex:
    """A stored xorb's chunks: header offsets (plus the xorb's length at the end), sizes and hashes."""

    offsets: tuple[int, ...]  # len(sizes) + 1 entries: offsets[i] is chunk i's header, offsets[-1] the xorb's length
    sizes: tuple[int, ...]
    hashes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.sizes)


@dataclass(frozen=True)
class XetFile:
    """A file the CAS can reconstruct: its Xet hash, size, sha256 and terms (xorb, chunk_start, chunk_end, bytes)."""

    file_hash: str
    size: int
    sha256: str
    terms: tuple[tuple[str, int, int, int], ...]


class XetStore:
    """Xorbs, shards and file reconstructions of one hub root; in-memory indexes rebuilt from disk at start."""

    def __init__(self, storage: Storage, check_sha256: bool = True) -> None:
        self.storage = storage
        self.check_sha256 = check_sha256  # False: a file's sha256 claim is taken as is (HubMode.check_sha256)
        self.root = storage.root / "xet"
        for sub in ("xorbs", "casinfo", "files", "shards"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._guard = threading.Lock()
        self._by_sha256: dict[str, str] = {}  # sha256 -> file hash
        self._chunks: dict[str, str] = {}  # chunk hash -> the xorb holding it (first one known)
        self._xorb_shard: dict[str, str] = {}  # xorb -> id of the shard whose CAS info described it first
        self._shard_xorbs: dict[str, list[str]] = {}  # shard id -> the xorbs it described first
        self._indexes: OrderedDict[str, XorbIndex] = OrderedDict()
        self._holds: set[tuple[str, str]] = set()  # (repo, Xet file) pairs found in a repo's history
        self._checks: dict[str, tuple[str, Future[str]]] = {}  # claimed sha256 -> (file hash, its check)
        self._checker = ThreadPoolExecutor(max_workers=2, thread_name_prefix="xet-sha256")
        self._load()
        storage.add_object_source(self.body)

    # ---- startup --------------------------------------------------------------------------------
    def _load(self) -> None:
        for path in (self.root / "files").glob("*/*.json"):
            raw = json.loads(path.read_bytes())
            self._by_sha256.setdefault(raw["sha256"], path.stem)
        for path in (self.root / "casinfo").glob("*/*.json"):
            raw = json.loads(path.read_bytes())
            self._index_casinfo(path.stem, raw.get("shard", path.stem), [c[0] for c in raw["chunks"]])

    def _index_casinfo(self, xorb: str, shard_id: str, chunks: list[str]) -> None:
        with self._guard:
            if xorb in self._xorb_shard:
                return
            self._xorb_shard[xorb] = shard_id
            self._shard_xorbs.setdefault(shard_id, []).append(xorb)
            for chunk in chunks:
                self._chunks.setdefault(chunk, xorb)

    # ---- paths ----------------------------------------------------------------------------------
    def xorb_path(self, xorb: str) -> Path:
        return self.root / "xorbs" / xorb[:2] / xorb

    def _index_path(self, xorb: str) -> Path:
        return self.root / "xorbs" / xorb[:2] / f"{xorb}.idx"

    def _casinfo_path(self, xorb: str) -> Path:
        return self.root / "casinfo" / xorb[:2] / f"{xorb}.json"

    def _file_path(self, file_id: str) -> Path:
        return self.root / "files" / file_id[:2] / f"{file_id}.json"

    # ---- xorbs ----------------------------------------------------------------------------------
    def has_xorb(self, xorb: str) -> bool:
        return is_hash_hex(xorb) and self.xorb_path(xorb).exists()

    def put_xorb(self, xorb: str, body: bytes) -> bool:
        """Verify a footer-less xorb against its name and store it; False when it was already stored.

        Raises XetFormatError (the CAS answers 400) on a malformed body or a hash mismatch."""
        if not is_hash_hex(xorb):
            raise XetFormatError(f"{xorb!r} is not a Xet hash")
        reader = XorbReader()
        reader.feed(body)
        chunks = reader.finish(xorb)
        f, tmp = self.storage.new_upload()
        try:
            f.write(body)
            return self.put_xorb_file(xorb, f, tmp, chunks)
        finally:
            f.close()
            tmp.unlink(missing_ok=True)

    def put_xorb_file(self, xorb: str, f: BinaryIO, tmp: Path, chunks: list[tuple[int, int, bytes]]) -> bool:
        """Publish a xorb already streamed into `tmp` (open as `f`, from `Storage.new_upload`) and verified as it
        arrived (`chunks`: what `XorbReader.finish(xorb)` gave). The caller removes `tmp` if it is still there."""
        if self.has_xorb(xorb):
            return False
        f.flush()
        with self.storage.lock(f"xet-xorb/{xorb}"):
            if self.has_xorb(xorb):
                return False
            index = [[offset, size, hash_hex(h)] for offset, size, h in chunks]
            self.storage.atomic_write(self._index_path(xorb), json.dumps(index).encode())
            self.storage.publish(f, tmp, self.xorb_path(xorb))
        return True

    def xorb_index(self, xorb: str) -> XorbIndex:
        """The chunk index of a stored xorb (KeyError when it is not stored)."""
        with self._guard:
            found = self._indexes.get(xorb)
            if found is not None:
                self._indexes.move_to_end(xorb)
                return found
        if not self.has_xorb(xorb):
            raise KeyError(xorb)
        raw = json.loads(self._index_path(xorb).read_bytes())
        length = self.xorb_path(xorb).stat().st_size
        index = XorbIndex(tuple(r[0] for r in raw) + (length,), tuple(r[1] for r in raw), tuple(r[2] for r in raw))
        with self._guard:
            self._indexes[xorb] = index
            while len(self._indexes) > _INDEX_CACHE:
                self._indexes.popitem(last=False)
        return index

    # ---- dedup ----------------------------------------------------------------------------------
    def xorb_for_chunk(self, chunk: str) -> str | None:
        with self._guard:
            return self._chunks.get(chunk)

    def dedup_xorbs(self, chunk: str) -> list[ShardXorb]:
        """The CAS info global dedup answers for a chunk: every xorb of the shard that described its xorb
        ([] for an unknown chunk)."""
        with self._guard:
            xorb = self._chunks.get(chunk)
            xorbs = list(self._shard_xorbs.get(self._xorb_shard.get(xorb, ""), [])) if xorb else []
        return [info for x in xorbs if (info := self.casinfo(x)) is not None]

    def casinfo(self, xorb: str) -> ShardXorb | None:
        """The CAS info a shard gave for `xorb` (None when no accepted shard described it)."""
        try:
            raw = json.loads(self._casinfo_path(xorb).read_bytes())
        except FileNotFoundError:
            return None
        chunks = tuple(ShardChunk(c[0], c[1], c[2], c[3]) for c in raw["chunks"])
        return ShardXorb(xorb, raw["flags"], chunks, raw["num_bytes_in_cas"], raw["num_bytes_on_disk"])

    # ---- files ----------------------------------------------------------------------------------
    def file_hash_for_sha256(self, sha256: str) -> str | None:
        with self._guard:
            return self._by_sha256.get(sha256)

    def file(self, file_id: str) -> XetFile | None:
        if not is_hash_hex(file_id):
            return None
        try:
            raw = json.loads(self._file_path(file_id).read_bytes())
        except FileNotFoundError:
            return None
        return XetFile(file_id, raw["size"], raw["sha256"], tuple(tuple(t) for t in raw["terms"]))

    def repo_holds(self, repo: str, file_id: str) -> bool:
        """Whether `repo` ("<type>/<repo id>", what a Xet token names) holds Xet file `file_id` in the history of
        any of its refs, or a bucket ("bucket/<id>") names it now: a token of one repo must not reconstruct another's
        files (a private repo's above all)."""
        repo_type, _, repo_id = repo.partition("/")
        if repo_type == "bucket":  # a Storage Bucket holds the files its path map names now (no history)
            from .buckets import store_for

            return store_for(self.storage).holds(repo_id, file_id)
        with self._guard:
            if (repo, file_id) in self._holds:
                return True
        try:
            refs = self.storage.refs(repo_type, repo_id)
        except HubError:
            return False
        heads = {sha for kind in ("branches", "tags", "converts", "prs") for sha in refs.get(kind, {}).values()}
        seen: set[str] = set()
        for head in heads:
            for commit in self.storage.history(head):
                if commit.id in seen:
                    break
                seen.add(commit.id)
                if any(entry.xet_hash == file_id for entry in commit.files.values()):
                    with self._guard:
                        self._holds.add((repo, file_id))
                    return True
        return False

    # ---- shards ---------------------------------------------------------------------------------
    def put_shard(self, data: bytes, fill_sha256: bool = False, defer: bool = False) -> tuple[bool, Shard]:
        """Check a shard against the stored xorbs and its files against their chunks, then record it.

        `fill_sha256`: a file without a sha256 gets the one its chunks hash to (bucket uploads: huggingface_hub
        sends them with SKIP_SHA256, and the Hub's CAS accepts that; a repo file's commit names its sha256, so
        there it stays required). `defer`: the sha256 claims are checked in the background (`check_of`); a file
        is recorded once its check holds. Returns (False, shard) when this exact shard was accepted before.
        HubError 400 naming what is wrong: a malformed shard, a xorb the CAS does not hold, a term outside its
        xorb, a file without its sha256, or bytes that do not hash to the file hash or sha256 the shard claims."""
        try:
            shard = parse_shard(data)
        except ValueError as exc:
            raise HubError(400, "BadRequest", f"Invalid shard: {exc}") from None
        shard_id = hashlib.sha256(data).hexdigest()
        target = self.root / "shards" / f"{shard_id}.shard"
        if target.exists():
            return False, shard
        for xorb in {t.xorb_hash for f in shard.files for t in f.terms} | {x.xorb_hash for x in shard.xorbs}:
            if not self.has_xorb(xorb):
                raise HubError(400, "BadRequest", f"Invalid shard: xorb {xorb} is not in the CAS (upload it first).")
        for info in shard.xorbs:
            self._check_casinfo(info)
        checked = [self._verify_file(f, fill_sha256, defer) for f in shard.files]
        for info in shard.xorbs:
            self._record_casinfo(info, shard_id)
        for shard_file, sha256 in zip(shard.files, checked, strict=True):
            if isinstance(sha256, str):
                self._record_file(replace(shard_file, sha256=sha256))
        pending = [c for c in checked if not isinstance(c, str)]
        if pending:
            self._when_checked(pending, lambda: self.storage.atomic_write(target, data))
        else:
            self.storage.atomic_write(target, data)
        return True, shard

    def check_of(self, sha256: str) -> Future[str] | None:
        """The background check of a file claiming this sha256, while it runs or after it failed (its result
        raises the HubError saying why); None once it held, or when there was none."""
        with self._guard:
            found = self._checks.get(sha256)
        return found[1] if found is not None else None

    def _check_later(self, shard_file: ShardFile, claim: str) -> Future[str] | str:
        """The running check of this file's sha256 claim, or a new one (none yet, or the last one failed); when
        another file's check of the same claim is running, this file is checked here and now."""
        with self._guard:
            found = self._checks.get(claim)
            if found is not None and found[0] == shard_file.file_hash and not found[1].done():
                return found[1]
            if found is None or found[1].done():
                future = self._checker.submit(self._check_and_record, shard_file, claim)
                self._checks[claim] = (shard_file.file_hash, future)
                return future
        return self._sha256_of(shard_file, claim)

    def _check_and_record(self, shard_file: ShardFile, claim: str) -> str:
        sha256 = self._sha256_of(shard_file, claim)
        self._record_file(replace(shard_file, sha256=sha256))
        with self._guard:
            if self._checks.get(claim, ("",))[0] == shard_file.file_hash:
                del self._checks[claim]
        return sha256

    def _when_checked(self, checks: list[Future[str]], then: Any) -> None:
        """Run `then` once every check has held (never, if one fails)."""
        left = [len(checks)]
        lock = threading.Lock()

        def done(future: Future[str]) -> None:
            if future.exception() is not None:
                return
            with lock:
                left[0] -= 1
                last = left[0] == 0
            if last:
                then()

        for future in checks:
            future.add_done_callback(done)

    def _check_casinfo(self, info: ShardXorb) -> None:
        index = self.xorb_index(info.xorb_hash)
        if tuple(c.chunk_hash for c in info.chunks) != index.hashes or \
                tuple(c.unpacked_bytes for c in info.chunks) != index.sizes:
            raise HubError(400, "BadRequest", f"Invalid shard: its CAS info for xorb {info.xorb_hash} does not match "
                                              "the chunks stored under that hash.")

    def _term_chunks(self, shard_file: ShardFile) -> list[tuple[bytes, int]]:
        """Every (raw chunk hash, size) of the file, checking each term against its xorb's index."""
        out: list[tuple[bytes, int]] = []
        for i, term in enumerate(shard_file.terms):
            index = self.xorb_index(term.xorb_hash)
            if not 0 <= term.chunk_start < term.chunk_end <= len(index):
                raise HubError(400, "BadRequest", f"Invalid shard: term #{i} of file {shard_file.file_hash} names "
                                                  f"chunks [{term.chunk_start}, {term.chunk_end}) of xorb "
                                                  f"{term.xorb_hash}, which has {len(index)}.")
            sizes = index.sizes[term.chunk_start:term.chunk_end]
            if sum(sizes) != term.unpacked_bytes:
                raise HubError(400, "BadRequest", f"Invalid shard: term #{i} of file {shard_file.file_hash} says "
                                                  f"{term.unpacked_bytes} bytes, its chunks hold {sum(sizes)}.")
            out.extend(zip((hash_from_hex(h) for h in index.hashes[term.chunk_start:term.chunk_end]), sizes,
                           strict=True))
        return out

    def _verify_file(self, shard_file: ShardFile, fill_sha256: bool, defer: bool = False) -> str | Future[str]:
        """The file's sha256, checked against its chunks (or, with `fill_sha256` and none claimed, computed);
        with `defer`, the check of a claim runs in the background: its future. A store that does not
        `check_sha256` takes the claim as it is."""
        name, claim = shard_file.file_hash, shard_file.sha256
        if not claim and not fill_sha256:
            raise HubError(400, "BadRequest", f"Invalid shard: file {name} carries no sha256 (metadata extension).")
        chunks = self._term_chunks(shard_file)
        if hash_hex(file_hash(chunks)) != name:
            raise HubError(400, "BadRequest", f"Invalid shard: the chunks of file {name} hash to "
                                              f"{hash_hex(file_hash(chunks))}.")
        known = self.file(name)
        if known is not None and (claim is None or known.sha256 == claim):
            return known.sha256  # verified when it was first stored
        if claim and not self.check_sha256:
            return claim
        if defer and claim:
            return self._check_later(shard_file, claim)
        return self._sha256_of(shard_file, claim)

    def _sha256_of(self, shard_file: ShardFile, claim: str | None) -> str:
        """The sha256 of the file's bytes, read from its xorbs; HubError 400 when it is not the one claimed."""
        name = shard_file.file_hash
        digest = hashlib.sha256()  # the claim is checked against the chunks, even for bytes stored before (LFS)
        for term in shard_file.terms:
            for data in self.read_chunks(term.xorb_hash, term.chunk_start, term.chunk_end):
                digest.update(data)
        if claim is not None and digest.hexdigest() != claim:
            raise HubError(400, "BadRequest", f"Invalid shard: file {name}: its chunks hash to sha256 "
                                              f"{digest.hexdigest()}, not {claim}.")
        return digest.hexdigest()

    def body(self, sha256: str) -> XetBody | None:
        """The bytes of the verified Xet file with this sha256, read from its xorbs (`Storage.open_object`)."""
        file_id = self.file_hash_for_sha256(sha256)
        found = self.file(file_id) if file_id else None
        return XetBody(self, found) if found is not None else None

    def read_chunks(self, xorb: str, start: int, end: int) -> list[bytes | memoryview]:
        """The original bytes of chunks [start, end) of a stored xorb (views into one read where uncompressed)."""
        index = self.xorb_index(xorb)
        with open(self.xorb_path(xorb), "rb") as fh:
            raw = memoryview(os.pread(fh.fileno(), index.offsets[end] - index.offsets[start], index.offsets[start]))
        out, base = [], index.offsets[start]
        for i in range(start, end):
            at = index.offsets[i] - base
            header = parse_chunk_header(raw[at:at + CHUNK_HEADER_SIZE])
            out.append(decompress_chunk(header, raw[at + CHUNK_HEADER_SIZE:index.offsets[i + 1] - base]))
        return out

    def _record_casinfo(self, info: ShardXorb, shard_id: str) -> None:
        path = self._casinfo_path(info.xorb_hash)
        if path.exists():
            return
        raw: dict[str, Any] = {"flags": info.flags, "num_bytes_in_cas": info.num_bytes_in_cas,
                               "num_bytes_on_disk": info.num_bytes_on_disk, "shard": shard_id,
                               "chunks": [[c.chunk_hash, c.byte_start, c.unpacked_bytes, c.flags]
                                          for c in info.chunks]}
        self.storage.atomic_write(path, json.dumps(raw).encode())
        self._index_casinfo(info.xorb_hash, shard_id, [c.chunk_hash for c in info.chunks])

    def _record_file(self, shard_file: ShardFile) -> None:
        assert shard_file.sha256 is not None
        path = self._file_path(shard_file.file_hash)
        if not path.exists():
            terms = [[t.xorb_hash, t.chunk_start, t.chunk_end, t.unpacked_bytes] for t in shard_file.terms]
            raw = {"size": sum(t.unpacked_bytes for t in shard_file.terms), "sha256": shard_file.sha256,
                   "terms": terms}
            self.storage.atomic_write(path, json.dumps(raw).encode())
        with self._guard:  # the first verified file hash of these bytes stays theirs (as after a restart)
            self._by_sha256.setdefault(shard_file.sha256, shard_file.file_hash)
            found = self._checks.get(shard_file.sha256)  # another file's false claim of this sha256 failed: true
            if found is not None and found[1].done() and found[1].exception() is not None:  # bytes hold it now
                del self._checks[shard_file.sha256]
