"""Turn a JSON Lines or CSV dataset into optimized Parquet with a dataset card, in ONE commit.

The source is a Hub dataset whose splits are JSON Lines / CSV files (every split is converted), or files Spark
can read (a path or URL, globs allowed: local, hdfs://, s3a://, ...), which become one split (--split). The
target gets optimized Parquet (zstd, content-defined chunking, page index, row groups of --row-group-bytes) and
a card whose YAML lists each split's files, features and number of rows, so `datasets.load_dataset` reads it.

  spark-submit --master spark://HOST:7077 --py-files dist/hfconnect.zip jobs/convert.py org/raw org/raw-parquet
  spark-submit --master spark://HOST:7077 --py-files dist/hfconnect.zip jobs/convert.py \\
      "hdfs:///logs/2025-*.jsonl" org/logs --split train
"""

from __future__ import annotations

import os
import re
import sys

from hfconnect.jobs import Job, JobFailed, Summary
from hfconnect.jobs.flow import write_once
from hfconnect.jobs.source import add_target_arguments, describe, plan_source, spark_reader, target_from
from hfconnect.options import parse_size

REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
TEXT_FORMATS = ("json", "csv")


def build() -> Job:
    job = Job("convert", __doc__, engines=("spark",))
    p = job.parser
    p.add_argument("source", help="a Hub dataset (org/name) of JSON Lines/CSV files, or a path/URL of such files")
    add_target_arguments(p, same_repo=False)
    p.add_argument("--revision", default="main", help="with a Hub source: branch, tag or commit (default main)")
    p.add_argument("--config", help="with a Hub source: the config to convert (default: the default config)")
    p.add_argument("--format", choices=["jsonl", "csv"], help="with files: their format (default: from the name)")
    p.add_argument("--split", default="train", help="with files: the split they become (default train)")
    p.add_argument("--row-group-bytes", default="128MiB", help="row groups of about this many bytes")
    return job


def is_hub_dataset(source: str) -> bool:
    """org/name that is not a local path and has no file extension of a data file."""
    return bool(REPO_ID.match(source)) and not os.path.exists(source) and \
        not source.lower().endswith((".jsonl", ".json", ".ndjson", ".csv", ".tsv"))


def file_format(source: str, given: str | None) -> str:
    if given:
        return given
    name = source.lower().rstrip("/")
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if name.endswith((".csv", ".tsv")):
        return "csv"
    raise JobFailed(f"cannot tell the format of {source!r} from its name: pass --format jsonl or --format csv")


def run(job: Job) -> Summary:
    a = job.args
    write = {"row_group_bytes": str(parse_size("--row-group-bytes", a.row_group_bytes)),
             "retry_budget": str(a.retry_budget), "endpoint": a.endpoint}
    if is_hub_dataset(a.source):
        plan = plan_source(a, a.source, split="all", config=a.config)
        job.say(f"source {describe(plan)}")
        formats = sorted({p.format for s in plan.shards for p in s.parts})
        if "parquet" in formats:
            raise JobFailed(f"{a.source} already holds Parquet files: use jobs/optimize.py to rewrite them")
        target = target_from(a, a.source, plan.snapshot.sha)
        config, dataset_bytes = plan.config, plan.total_bytes
        write.update(config=config, split_column="split")
        job.say(f"converting {', '.join(formats)} to Parquet")

        def load(spark):  # noqa: ANN001, ANN202 - a pyspark SparkSession / DataFrame
            return spark_reader(spark, a, plan, "all").load(a.source)
    else:
        fmt = file_format(a.source, a.format)
        job.say(f"source {a.source} ({fmt} files, read by Spark)")
        target = target_from(a, "", "")
        config, dataset_bytes = "default", 0
        write.update(split=a.split)

        def load(spark):  # noqa: ANN001, ANN202
            if fmt == "jsonl":
                return spark.read.json(a.source)
            sep = "\t" if a.source.lower().endswith(".tsv") else ","
            return spark.read.option("header", "true").option("inferSchema", "true").option("sep", sep).csv(a.source)

    write.update(revision=target.revision, create_pr=str(target.create_pr).lower(),
                 commit_message=target.commit_message(f"Convert {a.source} to Parquet"))

    def spark_write(spark) -> None:  # noqa: ANN001
        import hfconnect.spark as hs

        hs.write(load(spark), target.repo, mode="overwrite", **write)  # tasks write+upload, one commit

    return write_once(job, target=target, config=config, dataset_bytes=dataset_bytes, spark_write=spark_write)


if __name__ == "__main__":
    sys.exit(build().run(run))
