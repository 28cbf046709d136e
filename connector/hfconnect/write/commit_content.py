"""What one write commit changes: the files' names per split, the old files an overwrite deletes, the card.

Recomputed from the branch head for every commit attempt (a 412 means another writer moved the head), so
names, deletions and the card's row counts always describe the commit they go into.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

from ..hub.snapshot import RepoFileInfo
from ..options import WriteOptions
from .card import _split_order, split_rows, update_card
from .task import UploadedFile, file_suffix

if TYPE_CHECKING:
    from huggingface_hub import CommitOperation, CommitOperationAdd

__all__ = ["BranchState", "CommitContent", "commit_content", "split_of"]


@dataclass
class BranchState:
    """A branch head as a write sees it: its files, the target config's splits and their files, the card."""

    sha: str
    files: list[RepoFileInfo]
    splits: dict[str, list[str]]  # the config's splits that have files -> their paths, as `datasets` resolves them
    readme: str | None

    def files_of(self, splits: Sequence[str]) -> dict[str, list[str]]:
        """Of these splits, those with files."""
        return {s: self.splits[s] for s in splits if self.splits.get(s)}


@dataclass
class CommitContent:
    operations: list[CommitOperation] = field(repr=False)
    names: list[str]
    deleted: list[str]
    split_rows: list[tuple[str, int]]  # rows this job adds, per split, in card order


def split_of(upload: UploadedFile, options: WriteOptions) -> str:
    return upload.split or options.split


def commit_content(options: WriteOptions, file_tag: str, head: BranchState, uploads: Sequence[UploadedFile],
                   schema: pa.Schema) -> CommitContent:
    """Every split's files named `{data_dir}/{split}-NNNNN-of-NNNNN.parquet` (`.tar` for WebDataset; appends next
    to existing files end with the job's `file_tag`), on overwrite exactly those splits' old files deleted, and
    the card's configs and dataset_info updated for every split written, all in one list of operations."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    o = options
    by_split: dict[str, list[UploadedFile]] = {}
    for upload in uploads:  # partition order, then file order within a task
        by_split.setdefault(split_of(upload, o), []).append(upload)
    present = sorted({*head.splits, *by_split})
    card = head.readme
    content = CommitContent([], [], [], [])
    for split in sorted(by_split, key=_split_order):
        files = by_split[split]
        existing = head.splits.get(split, [])
        replacing = o.mode == "overwrite" or not existing
        suffix = "" if replacing else f"-{file_tag}"
        names = [f"{o.data_dir}/{split}-{i:05d}-of-{len(files):05d}{suffix}{file_suffix(o)}"
                 for i in range(len(files))]
        if o.mode == "overwrite":
            deleted = [p for p in existing if p not in names]
            content.deleted += deleted
            content.operations += [CommitOperationDelete(path_in_repo=p) for p in deleted]
        for name, upload in zip(names, files, strict=True):
            op = _added(upload)
            op.path_in_repo = name
            content.operations.append(op)
        content.names += names
        rows = sum(f.rows for f in files)
        content.split_rows.append((split, rows))
        previous = None if replacing else split_rows(card, o.config, split)
        total = rows if replacing else (previous + rows if previous is not None else None)
        kept = 0 if replacing else sum(f.size for f in head.files if f.path in set(existing))
        assert o.data_dir is not None  # WriteOptions derives it from the config when not given
        card = update_card(card, config=o.config, split=split, data_dir=o.data_dir, schema=schema, num_rows=total,
                           splits_present=present, num_bytes=kept + sum(f.size for f in files),
                           features=o.format == "parquet")
    assert card is not None
    content.operations.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=card.encode()))
    return content


def _added(upload: UploadedFile) -> CommitOperationAdd:
    """The CommitOperationAdd a repo task's file carries (a bucket task's carries a BucketUpload)."""
    from huggingface_hub import CommitOperationAdd

    if not isinstance(upload.operation, CommitOperationAdd):
        raise TypeError(f"file #{upload.index} was uploaded to a bucket, not to a repo")
    return upload.operation
