"""Durable on-disk state of the local hub: content-addressed objects, immutable commits, CAS-moved refs.

Why this layout: a crash at any instant must leave every ref pointing at a complete commit whose files are
all present. Objects are written first, then the commit record, then the ref; each write goes through a
temp file, fsync and rename, so a reader never sees a half-written file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .discussions import Discussions
from .errors import HubError
from .jsonbytes import dumps as _dumps
from .objects import FileBody, ObjectBody
from .records import (
    GITATTRIBUTES,
    LFS_SUFFIXES,
    Commit,
    FileEntry,
    Operation,
    git_blob_oid,
    lfs_pointer,
    validate_repo_path,
)

__all__ = [
    "GITATTRIBUTES",
    "LFS_SUFFIXES",
    "Commit",
    "FileEntry",
    "Operation",
    "Storage",
    "git_blob_oid",
    "lfs_pointer",
    "validate_repo_path",
]

REPO_TYPES = ("model", "dataset", "space")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_SHA1_RE = re.compile(r"^[0-9a-f]{40}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_PR_RE = re.compile(r"^refs/pr/(\d+)$")
_CONVERT_RE = re.compile(r"^refs/convert/([A-Za-z0-9._-]+)$")
_COMMIT_CACHE_SIZE = 64
class Storage:
    """Thread-safe access to one hub root. All writes go through temp file + fsync + rename."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        for sub in ("objects", "commits", "trees", "repos", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._cache: OrderedDict[str, Commit] = OrderedDict()
        self._cache_guard = threading.Lock()
        self._trees: OrderedDict[str, dict[str, FileEntry]] = OrderedDict()
        self._object_sources: list[Callable[[str], ObjectBody | None]] = []
        self._clean_tmp()

    # ---- low-level durable writes -------------------------------------------------------------
    def _clean_tmp(self) -> None:
        """Temp files left by a crash are garbage: nothing references them."""
        for entry in (self.root / "tmp").iterdir():
            entry.unlink(missing_ok=True) if entry.is_file() else shutil.rmtree(entry, ignore_errors=True)

    def _atomic_write(self, target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root / "tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        fsync_dir(target.parent)

    def atomic_write(self, target: Path, data: bytes) -> None:
        """Write `data` to `target` durably (temp file, fsync, rename): for stores that share this root."""
        self._atomic_write(target, data)

    def lock(self, key: str) -> threading.Lock:
        """The process-wide lock named `key` (one per repo here; other stores name their own keys)."""
        return self._lock(key)

    def _lock(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    # ---- objects -------------------------------------------------------------------------------
    def object_path(self, sha256: str) -> Path:
        return self.root / "objects" / sha256[:2] / sha256[2:]

    def add_object_source(self, source: Callable[[str], ObjectBody | None]) -> None:
        """Another store that holds objects by sha256 (the Xet store: files kept as chunks in xorbs)."""
        self._object_sources.append(source)

    def open_object(self, sha256: str) -> ObjectBody | None:
        """The bytes of object `sha256`: its file under objects/, else another store's (None when nobody has it)."""
        if not _SHA256_RE.match(sha256 or ""):
            return None
        try:
            return FileBody(self.object_path(sha256))
        except FileNotFoundError:
            pass
        for source in self._object_sources:
            if (body := source(sha256)) is not None:
                return body
        return None

    def has_object(self, sha256: str, size: int | None = None) -> bool:
        body = self.open_object(sha256)
        return body is not None and (size is None or body.size == size)

    def put_bytes(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        if not self.has_object(sha, len(data)):
            self._atomic_write(self.object_path(sha), data)
        return sha

    def new_upload(self) -> tuple[BinaryIO, Path]:
        """A temp file to stream an upload into; pass it to `finish_upload`."""
        fd, tmp = tempfile.mkstemp(dir=self.root / "tmp", suffix=".upload")
        return os.fdopen(fd, "wb"), Path(tmp)

    def finish_upload(self, f: BinaryIO, tmp: Path, expected_sha256: str, digest: str, size: int) -> None:
        """Verify the streamed bytes hash to the announced oid, then publish them durably."""
        try:
            if digest != expected_sha256:
                raise HubError(400, "BadRequest", f"Uploaded content hashes to {digest}, not {expected_sha256}.")
            self.publish(f, tmp, self.object_path(expected_sha256))
        finally:
            if not f.closed:
                f.close()
            tmp.unlink(missing_ok=True)

    def publish(self, f: BinaryIO, tmp: Path, target: Path) -> None:
        """Make a streamed upload (`new_upload`) durable at `target`: fsync, rename, fsync the directory."""
        f.flush()
        os.fsync(f.fileno())
        f.close()
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)
        fsync_dir(target.parent)

    # ---- repos ---------------------------------------------------------------------------------
    def repo_dir(self, repo_type: str, repo_id: str) -> Path:
        return self.root / "repos" / f"{repo_type}s" / repo_id

    def repo_meta(self, repo_type: str, repo_id: str) -> dict[str, Any] | None:
        try:
            return json.loads((self.repo_dir(repo_type, repo_id) / "meta.json").read_bytes())
        except FileNotFoundError:
            return None

    def list_repos(self, repo_type: str) -> list[str]:
        base = self.root / "repos" / f"{repo_type}s"
        return sorted(str(p.parent.relative_to(base)) for p in base.glob("**/meta.json"))

    def create_repo(self, repo_type: str, repo_id: str, *, private: bool, author: str) -> bool:
        """Create the repo with an initial commit holding .gitattributes; False if it already exists."""
        _check_repo_id(repo_id)
        with self._lock(f"{repo_type}/{repo_id}"):
            if self.repo_meta(repo_type, repo_id) is not None:
                return False
            content = GITATTRIBUTES.encode()
            files = {".gitattributes": FileEntry(git_blob_oid(content), self.put_bytes(content), len(content), False)}
            rdir = self.repo_dir(repo_type, repo_id)
            initial = self._write_commit(
                rdir, parents=[], title="initial commit", message="", author=author, files=files
            )
            self._atomic_write(rdir / "refs.json", _dumps(_empty_refs(initial.id)))
            meta = {"id": repo_id, "type": repo_type, "private": private, "createdAt": time.time()}
            self._atomic_write(rdir / "meta.json", _dumps(meta))  # meta last: the repo exists once it lands
            return True

    def set_private(self, repo_type: str, repo_id: str, private: bool) -> None:
        with self._lock(f"{repo_type}/{repo_id}"):
            meta = self._require_meta(repo_type, repo_id)
            meta["private"] = private
            self._atomic_write(self.repo_dir(repo_type, repo_id) / "meta.json", _dumps(meta))

    def delete_repo(self, repo_type: str, repo_id: str) -> None:
        with self._lock(f"{repo_type}/{repo_id}"):
            self._require_meta(repo_type, repo_id)
            rdir = self.repo_dir(repo_type, repo_id)
            (rdir / "meta.json").unlink()  # the repo is gone atomically; the rest is garbage
            fsync_dir(rdir)
            graveyard = Path(tempfile.mkdtemp(dir=self.root / "tmp"))
            os.replace(rdir, graveyard / "repo")
            shutil.rmtree(graveyard, ignore_errors=True)

    def _require_meta(self, repo_type: str, repo_id: str) -> dict[str, Any]:
        meta = self.repo_meta(repo_type, repo_id)
        if meta is None:
            raise HubError(404, "RepoNotFound", f"Repository {repo_id} not found.")
        return meta

    # ---- refs ----------------------------------------------------------------------------------
    def refs(self, repo_type: str, repo_id: str) -> dict[str, Any]:
        self._require_meta(repo_type, repo_id)
        return json.loads((self.repo_dir(repo_type, repo_id) / "refs.json").read_bytes())

    def resolve(self, repo_type: str, repo_id: str, revision: str) -> tuple[str, str | None]:
        """Revision -> (commit sha, ref name or None when the revision was a sha)."""
        refs = self.refs(repo_type, repo_id)
        kind, name = _classify_ref(revision)
        table = refs[kind] if kind else None
        if table is not None and name in table:
            return table[name], revision
        if kind == "branches" and name in refs["tags"]:
            return refs["tags"][name], revision
        if _SHA1_RE.match(revision) and (self.repo_dir(repo_type, repo_id) / "shas" / revision).exists():
            return revision, None
        raise HubError(404, "RevisionNotFound", f"Invalid rev id: {revision}")

    def create_ref(self, repo_type: str, repo_id: str, kind: str, name: str, start: str) -> None:
        """Create a branch or tag at `start` (a revision); 409 if it exists."""
        with self._lock(f"{repo_type}/{repo_id}"):
            sha, _ = self.resolve(repo_type, repo_id, start)
            refs = self.refs(repo_type, repo_id)
            ref_kind, ref_name = _classify_ref(name)
            if kind == "tags":
                ref_kind, ref_name = "tags", name
            if ref_name in refs[ref_kind]:
                label = "Tag" if ref_kind == "tags" else "Reference"
                raise HubError(409, "Conflict", f"{label} already exists: {name}")
            refs[ref_kind][ref_name] = sha
            self._atomic_write(self.repo_dir(repo_type, repo_id) / "refs.json", _dumps(refs))

    def delete_ref(self, repo_type: str, repo_id: str, kind: str, name: str) -> None:
        with self._lock(f"{repo_type}/{repo_id}"):
            refs = self.refs(repo_type, repo_id)
            ref_kind, ref_name = ("tags", name) if kind == "tags" else _classify_ref(name)
            if ref_kind == "branches" and ref_name == "main":
                raise HubError(403, "Forbidden", "Cannot delete the default branch main.")
            if ref_name not in refs[ref_kind]:
                raise HubError(404, "RevisionNotFound", f"Invalid rev id: {name}")
            del refs[ref_kind][ref_name]
            self._atomic_write(self.repo_dir(repo_type, repo_id) / "refs.json", _dumps(refs))

    # ---- commits -------------------------------------------------------------------------------
    def _commit_file(self, sha: str) -> Path:
        return self.root / "commits" / sha[:2] / f"{sha[2:]}.json"

    def _tree_file(self, sha: str) -> Path:
        return self.root / "trees" / sha[:2] / f"{sha[2:]}.json"

    def commit(self, sha: str) -> Commit:
        with self._cache_guard:
            cached = self._cache.get(sha)
            if cached is not None:
                self._cache.move_to_end(sha)
                return cached
        raw = json.loads(self._commit_file(sha).read_bytes())
        commit = Commit(sha, raw["parents"], raw["title"], raw["message"], raw["date"], raw["author"],
                        raw["tree"], self._load_tree)
        self._remember(commit)
        return commit

    def _remember(self, commit: Commit) -> None:
        with self._cache_guard:
            self._cache[commit.id] = commit
            while len(self._cache) > _COMMIT_CACHE_SIZE:
                self._cache.popitem(last=False)

    def _load_tree(self, tree: str) -> dict[str, FileEntry]:
        with self._cache_guard:
            cached = self._trees.get(tree)
            if cached is not None:
                self._trees.move_to_end(tree)
                return cached
        raw = json.loads(self._tree_file(tree).read_bytes())
        files = {p: FileEntry.from_json(e) for p, e in raw.items()}
        with self._cache_guard:
            self._trees[tree] = files
            while len(self._trees) > _COMMIT_CACHE_SIZE:
                self._trees.popitem(last=False)
        return files

    def history(self, sha: str) -> Iterator[Commit]:
        """First-parent history, newest first (headers only: trees load on demand)."""
        cur: str | None = sha
        while cur:
            commit = self.commit(cur)
            yield commit
            cur = commit.parents[0] if commit.parents else None

    def _write_commit(
        self, repo_dir: Path, *, parents: list[str], title: str, message: str, author: str,
        files: dict[str, FileEntry],
    ) -> Commit:
        """Write the tree, the commit header, and the repo's record that the sha is its own (ref not moved)."""
        tree_data = _dumps({p: files[p].to_json() for p in sorted(files)})
        tree = hashlib.sha1(tree_data).hexdigest()
        if not self._tree_file(tree).exists():
            self._atomic_write(self._tree_file(tree), tree_data)
        date = time.time()
        header = {"parents": parents, "title": title, "message": message, "date": date, "author": author, "tree": tree}
        data = _dumps(header)
        sha = hashlib.sha1(data).hexdigest()
        self._atomic_write(self._commit_file(sha), data)
        self._atomic_write(repo_dir / "shas" / sha, b"")
        with self._cache_guard:
            self._trees[tree] = files
        commit = Commit(sha, parents, title, message, date, author, tree, self._load_tree)
        self._remember(commit)
        return commit

    def apply_commit(
        self,
        repo_type: str,
        repo_id: str,
        revision: str,
        operations: Iterable[Operation],
        *,
        title: str,
        message: str,
        author: str,
        parent_commit: str | None = None,
        create_pr: bool = False,
    ) -> tuple[Commit, int | None]:
        """Validate every operation, write one commit, then move the ref by compare-and-swap.

        Returns the commit and the pull-request number when `create_pr`. Nothing changes on any error.
        """
        ops = list(operations)
        for op in ops:
            validate_repo_path(op.path.rstrip("/") if op.kind == "deletedFolder" else op.path)
        with self._lock(f"{repo_type}/{repo_id}"):
            refs = self.refs(repo_type, repo_id)
            head, ref = self.resolve(repo_type, repo_id, revision)
            if ref is None:
                raise HubError(400, "BadRequest", f"Cannot commit to a commit sha ({revision}): name a branch.")
            ref_kind, ref_name = _classify_ref(ref)
            if ref_kind == "tags" or ref_name not in refs[ref_kind]:
                raise HubError(400, "BadRequest", f"Cannot commit to tag {ref}: name a branch.")
            if parent_commit is not None and parent_commit != head:
                raise HubError(
                    412, "PreconditionFailed",
                    "The branch was updated since you opened this page. Please refresh and try again.",
                )
            files = dict(self.commit(head).files)
            for op in ops:
                self._apply_operation(files, op)
            commit = self._write_commit(self.repo_dir(repo_type, repo_id), parents=[head], title=title,
                                        message=message, author=author, files=files)
            pr_num: int | None = None
            if create_pr:
                if ref_kind != "branches":  # the Hub opens a PR against a branch only
                    raise HubError(404, "RevisionNotFound", f"Invalid rev id: {revision} is not a branch.")
                pr_num = refs.get("prCount", 0) + 1
                refs["prCount"] = pr_num
                refs["prs"][str(pr_num)] = commit.id
                # the PR's record lands before the ref that numbers it
                Discussions(self).record_commit_pr(repo_type, repo_id, pr_num, base=ref_name, base_commit=head,
                                                   title=title, description=message, author=author)
            else:
                refs[ref_kind][ref_name] = commit.id
            self._atomic_write(self.repo_dir(repo_type, repo_id) / "refs.json", _dumps(refs))
            return commit, pr_num

    def write_squash_commit(self, repo_type: str, repo_id: str, *, parents: list[str], title: str, message: str,
                            author: str, files: dict[str, FileEntry]) -> Commit:
        """Write a commit of a whole tree (a PR's squash merge) without moving any ref: the caller holds the repo
        lock and moves the ref itself."""
        return self._write_commit(self.repo_dir(repo_type, repo_id), parents=parents, title=title, message=message,
                                  author=author, files=files)

    def _apply_operation(self, files: dict[str, FileEntry], op: Operation) -> None:
        if op.kind == "file":
            assert op.content is not None
            sha = self.put_bytes(op.content)
            files[op.path] = FileEntry(git_blob_oid(op.content), sha, len(op.content), False)
        elif op.kind == "lfsFile":
            if not (op.sha256 and _SHA256_RE.match(op.sha256)):
                raise HubError(400, "BadRequest", f"lfsFile {op.path!r} needs a sha256 oid.")
            if op.size is None and (body := self.open_object(op.sha256)) is not None:  # copies name the oid only
                op.size = body.size
            if op.size is None or not self.has_object(op.sha256, op.size):
                raise HubError(
                    422, "BadRequest",
                    f"LFS object {op.sha256} for {op.path!r} (size {op.size}) was never uploaded: "
                    "upload it through the LFS batch API first.",
                )
            pointer = lfs_pointer(op.sha256, op.size)
            files[op.path] = FileEntry(git_blob_oid(pointer), op.sha256, op.size, True, op.xet_hash)
        elif op.kind == "deletedFile":
            if op.path not in files:
                raise HubError(404, "EntryNotFound", f"Cannot delete {op.path}: file does not exist.")
            del files[op.path]
        elif op.kind == "deletedFolder":
            prefix = op.path.rstrip("/") + "/"
            doomed = [p for p in files if p.startswith(prefix)]
            if not doomed:
                raise HubError(404, "EntryNotFound", f"Cannot delete folder {op.path}: it does not exist.")
            for p in doomed:
                del files[p]
        else:
            raise HubError(400, "BadRequest", f"Unknown commit operation {op.kind!r}.")


def _classify_ref(revision: str) -> tuple[str, str]:
    if m := _PR_RE.match(revision):
        return "prs", m.group(1)
    if m := _CONVERT_RE.match(revision):
        return "converts", m.group(1)
    if revision.startswith("refs/heads/"):
        return "branches", revision[len("refs/heads/"):]
    if revision.startswith("refs/tags/"):
        return "tags", revision[len("refs/tags/"):]
    return "branches", revision


def ref_full_name(kind: str, name: str) -> str:
    return {
        "branches": f"refs/heads/{name}",
        "tags": f"refs/tags/{name}",
        "converts": f"refs/convert/{name}",
        "prs": f"refs/pr/{name}",
    }[kind]


def _empty_refs(initial: str) -> dict[str, Any]:
    return {"branches": {"main": initial}, "tags": {}, "converts": {}, "prs": {}, "prCount": 0}


def _check_repo_id(repo_id: str) -> None:
    parts = repo_id.split("/")
    if len(parts) > 2 or not all(_NAME_RE.match(p) and ".." not in p for p in parts):
        raise HubError(
            400, "BadRequest",
            f"Invalid repo name {repo_id!r}: use 'namespace/name' with letters, digits, '-', '_', '.'.",
        )


def fsync_dir(path: Path) -> None:
    """Make a rename or new entry in `path` durable (stores sharing this root call it too)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
