"""Write targets that name a Storage Bucket prefix: `buckets/ns/name[/some/prefix]` or `hf://buckets/...`.

Why here and not in the options: a bucket target is not a dataset repo (no revision, config, split or card), so
the entry points recognise its spelling first and build the job's WriteOptions with the bucket id as `repo`
(its checks and every writer setting then apply unchanged); options that only mean something for a repo are
refused instead of silently ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import OptionError

__all__ = ["BucketTarget", "check_repo_only_options", "is_bucket_target", "parse_bucket_target"]

_SCHEMES = ("hf://buckets/", "buckets/")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")  # the Hub's namespace/bucket name characters
# WriteOptions fields that only a dataset repo has, with the value that means "not given".
REPO_ONLY = {"config": "default", "split": "train", "revision": "main", "data_dir": None, "split_column": None,
             "create_pr": False}


@dataclass(frozen=True)
class BucketTarget:
    bucket_id: str  # namespace/name
    prefix: str  # folder inside the bucket, without leading or trailing '/'; "" for the bucket's root

    def __str__(self) -> str:
        return f"buckets/{self.bucket_id}" + (f"/{self.prefix}" if self.prefix else "")


def is_bucket_target(path: Any) -> bool:
    return isinstance(path, str) and path.strip().startswith(_SCHEMES)


def parse_bucket_target(path: Any) -> BucketTarget | None:
    """The bucket and prefix `path` names; None when it does not name a bucket; OptionError for a bucket
    spelling that is wrong (saying how to write it)."""
    if not is_bucket_target(path):
        return None
    text = path.strip()
    rest = next(text[len(s):] for s in _SCHEMES if text.startswith(s))
    usage = "write to 'buckets/<namespace>/<bucket>[/<prefix>]' (or 'hf://buckets/...')"
    if any("@" in part for part in rest.split("/")[:2]):
        raise OptionError(f"{path!r}: a Storage Bucket has no revisions ('@'): {usage}")
    parts = rest.rstrip("/").split("/")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise OptionError(f"{path!r} names no bucket: {usage}")
    namespace, name, folders = parts[0], parts[1], parts[2:]
    for part, what in ((namespace, "namespace"), (name, "bucket name")):
        if not _NAME.match(part) or ".." in part:
            raise OptionError(f"{path!r}: {what} {part!r} may hold only letters, digits, '-', '_' and '.' (at most "
                              f"96, not starting with '-' or '.'): {usage}")
    bad = [f for f in folders if f in ("", ".", "..") or "\\" in f]
    if bad:
        raise OptionError(f"{path!r}: the prefix has an empty, '.' or '..' segment or a backslash: name a folder "
                          "inside the bucket, e.g. buckets/ns/name/data/2025")
    prefix = "/".join(folders)
    if prefix.endswith(".parquet"):
        raise OptionError(f"{path!r}: a write names a folder (its files are named by hfconnect), not a file: drop "
                          f"the file name, e.g. buckets/{namespace}/{name}/{'/'.join(folders[:-1])}".rstrip("/"))
    return BucketTarget(f"{namespace}/{name}", prefix)


def check_repo_only_options(values: dict[str, Any], target: BucketTarget) -> None:
    """Refuse options that only a dataset repo has (given with another value than their default)."""
    given = [k for k, default in REPO_ONLY.items()
             if values.get(k) is not None and str(values[k]).lower() != str(default).lower()]
    if given:
        raise OptionError(f"{', '.join(given)}: not for a Storage Bucket ({target}): a bucket prefix holds one "
                          "table's Parquet files, without configs, splits, revisions or pull requests; write each "
                          "split to a prefix of its own, e.g. buckets/ns/name/train")
