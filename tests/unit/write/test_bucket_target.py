"""Bucket target spellings: what names a bucket prefix, what is refused and how the refusal says to write it."""

from __future__ import annotations

import pytest

from hfconnect.errors import OptionError
from hfconnect.write.bucket_target import BucketTarget, check_repo_only_options, is_bucket_target, parse_bucket_target


@pytest.mark.parametrize(("spelling", "bucket", "prefix"), [
    ("buckets/ns/name", "ns/name", ""),
    ("buckets/ns/name/", "ns/name", ""),
    ("hf://buckets/ns/name/some/prefix", "ns/name", "some/prefix"),
    ("buckets/ns/my.bucket_1/a/b/c/", "ns/my.bucket_1", "a/b/c"),
    (" buckets/ns/name/p ", "ns/name", "p"),
])
def test_spellings_that_name_a_prefix(spelling: str, bucket: str, prefix: str) -> None:
    target = parse_bucket_target(spelling)
    assert target == BucketTarget(bucket, prefix)
    assert parse_bucket_target(str(target)) == target


@pytest.mark.parametrize("spelling", ["ns/name", "datasets/ns/name", "bucket/name", None, 3])
def test_other_targets_are_not_buckets(spelling: object) -> None:
    assert not is_bucket_target(spelling) and parse_bucket_target(spelling) is None


@pytest.mark.parametrize(("spelling", "says"), [
    ("bucket/ns/x", "starts with 'buckets/' (plural)"),
    ("hf://datasets/ns/name", "for a dataset repo pass its id alone, e.g. write(df, 'ns/name')"),
    ("hf://ns/name", "hfconnect writes hf:// paths of Storage Buckets only"),
])
def test_near_misses_are_explained_as_for_a_read(spelling: str, says: str) -> None:
    """One parser for reads and writes (hub.buckets.bucket_path): a write gets the read side's explanations."""
    assert not is_bucket_target(spelling)
    with pytest.raises(OptionError, match="buckets/<namespace>/<name>") as err:
        parse_bucket_target(spelling)
    assert says in str(err.value)


@pytest.mark.parametrize(("spelling", "why"), [
    ("buckets/ns", "names no bucket"),
    ("buckets/", "names no bucket"),
    ("buckets//name", "names no bucket"),
    ("buckets/ns/name@main", "no revisions"),
    ("hf://buckets/ns@x/name/p", "no revisions"),
    ("buckets/ns/-bad", "bucket name '-bad'"),
    ("buckets/n s/name", "namespace 'n s'"),
    ("buckets/ns/name/a//b", "empty, '.' or '..' segment"),
    ("buckets/ns/name/a/../b", "empty, '.' or '..' segment"),
    ("buckets/ns/name/./b", "empty, '.' or '..' segment"),
    ("buckets/ns/name/a\\b", "backslash"),
    ("buckets/ns/name/data/part.parquet", "names a folder"),
])
def test_bad_spellings_say_how_to_write_them(spelling: str, why: str) -> None:
    with pytest.raises(OptionError, match=why.replace(".", r"\.").replace("(", r"\(")):
        parse_bucket_target(spelling)


def test_repo_only_options_are_refused_unless_default() -> None:
    target = BucketTarget("ns/name", "p")
    check_repo_only_options({"split": "train", "config": "default", "revision": "main", "create_pr": "false",
                             "data_dir": None, "split_column": None, "compression": "zstd"}, target)
    check_repo_only_options({"commit_message": None, "commit_description": None, "max_commit_operations": 100},
                            target)
    for key, value in (("split", "test"), ("config", "c"), ("revision", "dev"), ("create_pr", True),
                       ("data_dir", "data"), ("split_column", "split"), ("commit_message", "m"),
                       ("commit_description", "d"), ("max_commit_operations", "10")):
        with pytest.raises(OptionError, match=f"{key}: not for a Storage Bucket \\(buckets/ns/name/p\\)"):
            check_repo_only_options({key: value}, target)
