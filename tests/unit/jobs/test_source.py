"""hfconnect.jobs.source for Storage Buckets, against the in-process hub: a bucket source is planned and described
as listed now (no commit); a bucket target is taken only by a job that writes one (`select`), and refused by the
others, naming the job that does."""

from __future__ import annotations

import argparse

import pytest

from hfconnect.jobs.runner import JobFailed
from hfconnect.jobs.source import add_target_arguments, describe, plan_source, target_from
from hfconnect.jobs.target import BucketJobTarget, RepoJobTarget
from tests.unit.inprocess_hub import InProcessHub


def _args(*argv: str, same_repo: bool = False) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    if same_repo:
        parser.add_argument("source")
    add_target_arguments(parser, same_repo=same_repo)
    return parser.parse_args(list(argv))


def test_a_bucket_source_is_planned_and_described_as_listed(inproc_hub: InProcessHub) -> None:
    api = inproc_hub.api()
    bucket_id = api.create_bucket("me/jobs-src").bucket_id
    api.batch_bucket_files(bucket_id, add=[(b'{"a": 1}\n', "p/train.jsonl"), (b'{"a": 2}\n', "p/test.jsonl")])
    args = argparse.Namespace(revision="main", endpoint=inproc_hub.endpoint, retry_budget=5.0)
    plan = plan_source(args, f"buckets/{bucket_id}/p", split="all")
    assert describe(plan) == f"buckets/{bucket_id}/p (Storage Bucket, as listed now), split(s) train, test: " \
                             "2 file(s), 18 B"


def test_bucket_targets_only_for_jobs_that_write_them() -> None:
    args = _args("buckets/ns/name/out")
    target = target_from(args, "org/src", "a" * 40, buckets=True)
    assert isinstance(target, BucketJobTarget)
    with pytest.raises(JobFailed, match=r"^buckets/ns/name/out: this job writes dataset repos .* jobs/subset\.py "
                                        r"writes a Storage Bucket prefix$"):
        target_from(args, "org/src", "a" * 40)
    repo = target_from(_args("org/src", same_repo=True), "org/src", "b" * 40)
    assert isinstance(repo, RepoJobTarget) and repo.repo == "org/src"
