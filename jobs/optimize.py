"""Rewrite a Hub dataset (every split of a config, or one split) into optimized Parquet in ONE commit.

Optimized: zstd, content-defined chunking (a later re-upload after a small edit shares most of its bytes), page
index, row groups of --row-group-bytes, and files of about --file-size: the planner cuts the source into
byte-balanced shards of that size and each task writes its shard's rows, in order, as one file per split. The
commit goes to a pull request (--pr) or a branch (--branch) of the same repo, or to another repo (--to), and
replaces exactly the splits written; the card lists every split. If the job fails, the target is as it was.

  spark-submit --master spark://HOST:7077 --py-files dist/hfconnect.zip jobs/optimize.py org/ds --pr
  python jobs/optimize.py org/ds --to org/ds-optimized --engine daft --ray-address HOST:6379
"""

from __future__ import annotations

import sys

from hfconnect.jobs import Job, JobFailed, Summary
from hfconnect.jobs.flow import write_once
from hfconnect.jobs.source import add_target_arguments, describe, plan_source, spark_reader, target_from
from hfconnect.options import parse_size


def build() -> Job:
    job = Job("optimize", __doc__, engines=("spark", "daft"))
    p = job.parser
    p.add_argument("repo", help="the dataset to rewrite, e.g. org/name")
    p.add_argument("--revision", default="main", help="branch, tag or commit to read (default main)")
    p.add_argument("--config", help="the config to rewrite (default: the dataset's default config)")
    p.add_argument("--split", default="all", help="one split, or all of the config's splits (default all)")
    p.add_argument("--file-size", default="256MB", help="about this many bytes per file (default 256MB)")
    p.add_argument("--row-group-bytes", default="128MiB",
                   help="row groups of about this many uncompressed bytes (default 128MiB)")
    add_target_arguments(p, same_repo=True)
    return job


def run(job: Job) -> Summary:
    a = job.args
    if not (a.to or a.branch or a.pr):
        raise JobFailed("say where the optimized files go: --pr, --branch NAME or --to REPO")
    file_size = parse_size("--file-size", a.file_size)
    row_group_bytes = parse_size("--row-group-bytes", a.row_group_bytes)
    plan = plan_source(a, a.repo, split=a.split, config=a.config)
    job.say(f"source {describe(plan)}")
    target = target_from(a, a.repo, plan.snapshot.sha)
    # One shard per output file (min_shards=1: a small dataset is not spread over more tasks than files).
    read = {"shard_size": str(file_size), "min_shards": "1"}
    write = {"config": plan.config, "revision": target.revision, "create_pr": str(target.create_pr).lower(),
             "max_file_size": str(2 * file_size), "row_group_bytes": str(row_group_bytes),
             "retry_budget": str(a.retry_budget), "endpoint": a.endpoint,
             "commit_message": target.commit_message(f"Optimize {a.repo}@{plan.snapshot.sha[:12]} "
                                                     f"({', '.join(plan.splits)})")}
    write.update({"split_column": "split"} if a.split == "all" else {"split": a.split})

    def spark_write(spark) -> None:  # noqa: ANN001 - a pyspark SparkSession
        import hfconnect.spark as hs

        df = spark_reader(spark, a, plan, a.split, **read).load(a.repo)
        hs.write(df, target.repo, mode="overwrite", **write)  # tasks write+upload, one commit

    def daft_write() -> None:
        from hfconnect.daft import read_huggingface, write_huggingface

        # hfconnect's reader: one task per shard, as on Spark (Daft's native reader cuts files its own way)
        df = read_huggingface(a.repo, config=plan.config, split=a.split, revision=plan.snapshot.sha,
                              endpoint=a.endpoint, reader="hfconnect", shard_size=file_size, min_shards=1,
                              retry_budget=a.retry_budget)
        kwargs = {k: v for k, v in write.items() if k not in ("create_pr",)}
        write_huggingface(df, target.repo, mode="overwrite", create_pr=target.create_pr, **kwargs)

    return write_once(job, target=target, config=plan.config, dataset_bytes=plan.total_bytes,
                      spark_write=spark_write, daft_write=daft_write)


if __name__ == "__main__":
    sys.exit(build().run(run))
