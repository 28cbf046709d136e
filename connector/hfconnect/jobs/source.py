"""A job's source (a Hub dataset pinned to one commit, planned once on the driver) and its target arguments.

The plan gives what the progress lines report before anything runs: the commit, the config and splits, the
files and their bytes (the "dataset bytes" the bytes fetched are compared with). Both engines then read that
same commit, so a branch that moves during the job does not change what the job reads.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..options import ReadOptions
from ..plan import ReadPlan, plan_read
from ..write.bucket_target import is_bucket_target
from .runner import JobFailed, human_bytes
from .target import BucketJobTarget, RepoJobTarget, job_target

__all__ = ["add_target_arguments", "describe", "plan_source", "spark_reader", "target_from"]


def plan_source(args: argparse.Namespace, repo: str, *, split: str, config: str | None = None,
                columns: list[str] | None = None) -> ReadPlan:
    options = ReadOptions.build(repo=repo, revision=args.revision, config=config, split=split, endpoint=args.endpoint,
                                retry_budget=args.retry_budget, columns=columns or None)
    return plan_read(options)


def describe(plan: ReadPlan) -> str:
    s = plan.snapshot
    if s.repo_type == "bucket":
        where = f"buckets/{s.repo_id}" + (f"/{s.revision}" if s.revision else "")
        return (f"{where} (Storage Bucket, as listed now), split(s) {', '.join(plan.splits)}: {plan.total_files} "
                f"file(s), {human_bytes(plan.total_bytes)}")
    return (f"{s.repo_id}@{s.revision} (commit {s.sha[:12]}), config {plan.config!r}, split(s) "
            f"{', '.join(plan.splits)}: {plan.total_files} file(s), {human_bytes(plan.total_bytes)}")


def spark_reader(spark: Any, args: argparse.Namespace, plan: ReadPlan, split: str, **options: str) -> Any:
    """`spark.read.format("huggingface")` on the plan's very commit and config (a bucket has no commit: its files
    as listed when the engine plans the read)."""
    reader = (spark.read.format("huggingface").option("endpoint", args.endpoint).option("split", split)
              .option("retry_budget", str(args.retry_budget)))
    if plan.snapshot.repo_type != "bucket":
        reader = reader.option("revision", plan.snapshot.sha).option("config", plan.config)
    for key, value in options.items():
        reader = reader.option(key, value)
    return reader


def add_target_arguments(parser: argparse.ArgumentParser, *, same_repo: bool) -> None:
    """--to REPO (or a positional TARGET), then --branch NAME or --pr, and --private."""
    group = parser.add_argument_group("target (the job writes ONE commit there, or nothing)")
    if same_repo:
        group.add_argument("--to", metavar="REPO", help="write to this dataset repo instead of the source repo")
    else:
        parser.add_argument("target", metavar="TARGET",
                            help="the dataset repo to write (created if missing), or a Storage Bucket prefix "
                                 "buckets/ns/name/prefix (one published manifest; no --branch or --pr)")
    where = group.add_mutually_exclusive_group()
    where.add_argument("--branch", help="commit to this branch (created from the source commit if missing)")
    where.add_argument("--pr", action="store_true", help="open a pull request with the commit instead")
    group.add_argument("--private", action="store_true", help="create the target repo private if it is new")


def target_from(args: argparse.Namespace, source_repo: str, source_sha: str, *,
                buckets: bool = False) -> RepoJobTarget | BucketJobTarget:
    """The job's target; a Storage Bucket prefix only for a job that writes one (`buckets`)."""
    repo = getattr(args, "target", None) or getattr(args, "to", None) or source_repo
    if not buckets and is_bucket_target(repo):
        raise JobFailed(f"{repo}: this job writes dataset repos (configs, splits, a card); jobs/subset.py writes a "
                        "Storage Bucket prefix")
    return job_target(repo, revision=args.branch or "main", create_pr=args.pr,
                      branch_from=source_sha if repo == source_repo else None, private=args.private)
