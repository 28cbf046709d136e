"""The local hub's records: what a commit holds (files, operations) and how git names file contents.

Plain values shared by the storage, the API handlers and the tests; nothing here touches the disk.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..hub.lfs import GITATTRIBUTES, LFS_SUFFIXES  # the library's one list, re-exported for the local hub
from .errors import HubError

__all__ = ["GITATTRIBUTES", "LFS_SUFFIXES", "Commit", "FileEntry", "Operation", "git_blob_oid", "lfs_pointer",
           "validate_repo_path"]


def git_blob_oid(data: bytes) -> str:
    """The git blob id the Hub reports as `oid` for a regular (non-LFS) file."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer file the Hub stores in git for an LFS file."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def validate_repo_path(path: str) -> str:
    """Reject paths that could escape the repo or alias git internals, as the Hub does."""
    if not isinstance(path, str) or not path:
        raise HubError(400, "BadRequest", "A file path in the commit is empty.")
    if "\0" in path:
        raise HubError(400, "BadRequest", f"Invalid path {path!r}: NUL bytes are not allowed.")
    if path.startswith("/") or path.startswith("\\") or re.match(r"^[A-Za-z]:", path):
        raise HubError(400, "BadRequest", f"Invalid path {path!r}: absolute paths are not allowed.")
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise HubError(400, "BadRequest", f"Invalid path {path!r}: empty, '.' and '..' segments are not allowed.")
    if parts[0] == ".git" or ".git" in parts:
        raise HubError(400, "BadRequest", f"Invalid path {path!r}: '.git' is reserved.")
    return path


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of a commit: its git oid, content sha256 (the object's address), size and LFS-ness, and the Xet
    file hash when its bytes arrived through Xet (the id hf_xet downloads it by)."""

    oid: str
    sha256: str
    size: int
    lfs: bool
    xet_hash: str | None = None

    def to_json(self) -> list[Any]:
        out: list[Any] = [self.oid, self.sha256, self.size, self.lfs]
        if self.xet_hash:  # only then: trees written before Xet, and LFS files, keep their exact bytes and ids
            out.append(self.xet_hash)
        return out

    @classmethod
    def from_json(cls, raw: list[Any]) -> FileEntry:
        return cls(raw[0], raw[1], int(raw[2]), bool(raw[3]), raw[4] if len(raw) > 4 else None)


class Commit:
    """An immutable commit: a small header (parents, message) plus a tree, loaded only when files are asked for.

    Why split: history walks (list_repo_commits, last-commit lookups) read headers only, so they cost O(commits)
    rather than O(commits x files).
    """

    __slots__ = ("id", "parents", "title", "message", "date", "author", "tree", "_load_tree", "_files", "_sorted")

    def __init__(self, id: str, parents: list[str], title: str, message: str, date: float, author: str,
                 tree: str, load_tree: Callable[[str], dict[str, FileEntry]]) -> None:
        self.id, self.parents, self.title, self.message = id, parents, title, message
        self.date, self.author, self.tree = date, author, tree
        self._load_tree = load_tree
        self._files: dict[str, FileEntry] | None = None
        self._sorted: list[str] | None = None

    @property
    def files(self) -> dict[str, FileEntry]:
        if self._files is None:
            self._files = self._load_tree(self.tree)
        return self._files

    @property
    def sorted_paths(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(self.files)
        return self._sorted


@dataclass(slots=True)
class Operation:
    """One line of a commit request: add (regular bytes or an LFS object), delete file or delete folder."""

    kind: str  # "file" | "lfsFile" | "deletedFile" | "deletedFolder"
    path: str
    content: bytes | None = None
    sha256: str | None = None
    size: int | None = None
    xet_hash: str | None = None  # set by the hub when the sha256 arrived in a Xet shard
