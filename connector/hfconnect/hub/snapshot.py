"""What a read or a write knows about a repo: a commit (Snapshot), its files, its head with the card, and the
files that changed between two commits. Plain values, small and picklable, holding no token."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Changes", "Head", "RepoFileInfo", "Snapshot"]


@dataclass(frozen=True)
class RepoFileInfo:
    path: str
    size: int
    oid: str = ""  # the content id (LFS sha256, or git blob id): equal oids, equal bytes


@dataclass(frozen=True)
class Snapshot:
    """A repo at one commit. Small and picklable; holds no token.

    A Storage Bucket (repo_type "bucket") has no commits: `sha` is empty, `revision` is the prefix read, and
    `pins` names the files being read, path -> (Xet hash, size) from the listing: their resolve URLs carry it, so a
    file replaced since is refused (hub.buckets). Plans keep pins on their file parts and give a snapshot only
    the pins of the files at hand."""

    repo_id: str
    sha: str
    revision: str
    endpoint: str
    repo_type: str = "dataset"
    pins: Mapping[str, tuple[str, int]] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @property
    def is_bucket(self) -> bool:
        return self.repo_type == "bucket"


@dataclass(frozen=True)
class Head:
    """A revision resolved to its commit, with every file of that commit and the dataset card's text."""

    snapshot: Snapshot
    files: tuple[RepoFileInfo, ...]
    card: str | None  # README.md, or None when the commit has none

    def file(self, path: str) -> RepoFileInfo | None:
        return next((f for f in self.files if f.path == path), None)


@dataclass(frozen=True)
class Changes:
    """Files added and removed between two commits. A rewritten file (same path, other content) is both."""

    old: str
    new: str
    added: tuple[RepoFileInfo, ...]
    removed: tuple[RepoFileInfo, ...]

    @staticmethod
    def between(old_sha: str, old: tuple[RepoFileInfo, ...], new_sha: str,
                new: tuple[RepoFileInfo, ...]) -> Changes:
        before = {(f.path, f.oid) for f in old}
        after = {(f.path, f.oid) for f in new}
        return Changes(old_sha, new_sha, tuple(f for f in new if (f.path, f.oid) not in before),
                       tuple(f for f in old if (f.path, f.oid) not in after))
