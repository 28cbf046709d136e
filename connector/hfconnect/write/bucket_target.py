"""Write targets that name a Storage Bucket prefix: `buckets/ns/name[/some/prefix]` or `hf://buckets/...`.

Why here and not in the options: a bucket target is not a dataset repo (no revision, config, split or card), so
the entry points recognise its spelling first and build the job's WriteOptions with the bucket id as `repo`
(its checks and every writer setting then apply unchanged); options that only mean something for a repo are
refused instead of silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import OptionError

__all__ = ["BucketTarget", "check_repo_only_options", "is_bucket_target", "parse_bucket_target"]

_SCHEMES = ("hf://buckets/", "buckets/")
# WriteOptions fields that only a dataset repo has, with the value that means "not given".
REPO_ONLY = {"config": "default", "split": "train", "revision": "main", "data_dir": None, "split_column": None,
             "create_pr": False, "commit_message": None, "commit_description": None, "max_commit_operations": 100,
             "format": "parquet"}


@dataclass(frozen=True)
class BucketTarget:
    bucket_id: str  # namespace/name
    prefix: str  # folder inside the bucket, without leading or trailing '/'; "" for the bucket's root

    def __str__(self) -> str:
        return f"buckets/{self.bucket_id}" + (f"/{self.prefix}" if self.prefix else "")


def is_bucket_target(path: Any) -> bool:
    return isinstance(path, str) and path.strip().startswith(_SCHEMES)


def parse_bucket_target(path: Any) -> BucketTarget | None:
    """The bucket and prefix `path` names; None when it does not name a bucket (a dataset id); OptionError for a
    bucket spelling that is wrong, or a near miss (`bucket/...`, `hf://datasets/...`), saying how to write it.
    The spelling is the read side's (`hub.buckets.bucket_path`, one parser), with a write's rules."""
    from ..hub.buckets import bucket_path

    if not isinstance(path, str):
        return None
    parsed = bucket_path(path, write=True)
    if parsed is None:
        return None
    if parsed.prefix.endswith(".parquet"):
        folder = parsed.prefix.rpartition("/")[0]
        raise OptionError(f"{path!r}: a write names a folder (its files are named by hfconnect), not a file: drop "
                          f"the file name, e.g. {BucketTarget(parsed.bucket_id, folder)}")
    return BucketTarget(parsed.bucket_id, parsed.prefix)


def check_repo_only_options(values: dict[str, Any], target: BucketTarget) -> None:
    """Refuse options that only a dataset repo has (given with another value than their default)."""
    given = [k for k, default in REPO_ONLY.items()
             if values.get(k) is not None and str(values[k]).lower() != str(default).lower()]
    if given:
        raise OptionError(f"{', '.join(given)}: not for a Storage Bucket ({target}): a bucket prefix holds one "
                          "table's Parquet files, without configs, splits, revisions, pull requests or commits (a "
                          "write publishes a manifest, not a commit: no message or commit size); write each split "
                          "to a prefix of its own, e.g. buckets/ns/name/train")
