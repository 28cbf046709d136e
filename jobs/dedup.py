"""Exact deduplication on chosen columns across all splits of a Hub dataset, in ONE commit.

Two rows are duplicates when they are equal on every --columns column (nulls equal nulls). Across splits the
first occurrence wins in the order train, validation, test, then other splits by name, then the source's row
order: a test row that repeats a train row is dropped from test, which is what keeps an evaluation split
clean. The result goes to TARGET with every split (overwrite: exactly those splits are replaced), and the job
prints each split's rows before and after.

  spark-submit --master spark://HOST:7077 --py-files dist/hfconnect.zip jobs/dedup.py org/ds org/ds-dedup \\
      --columns text
"""

from __future__ import annotations

import sys

from hfconnect.jobs import Job, JobFailed, Summary
from hfconnect.jobs.flow import write_once
from hfconnect.jobs.source import add_target_arguments, describe, plan_source, spark_reader, target_from
from hfconnect.options import parse_list, parse_size

SPLIT_ORDER = ("train", "validation", "test")


def build() -> Job:
    job = Job("dedup", __doc__, engines=("spark",))
    p = job.parser
    p.add_argument("source", help="the dataset to deduplicate, e.g. org/name")
    add_target_arguments(p, same_repo=False)
    p.add_argument("--columns", required=True, help="the columns that make rows equal, comma-separated")
    p.add_argument("--revision", default="main", help="branch, tag or commit to read (default main)")
    p.add_argument("--config", help="the config (default: the dataset's default config)")
    p.add_argument("--file-size", default="256MB", help="about this many bytes of source per output file")
    return job


def run(job: Job) -> Summary:
    a = job.args
    keys = list(parse_list("--columns", a.columns))
    file_size = parse_size("--file-size", a.file_size)
    plan = plan_source(a, a.source, split="all", config=a.config)
    job.say(f"source {describe(plan)}")
    missing = [c for c in keys if c not in plan.file_schema.names]
    if missing:
        raise JobFailed(f"--columns {','.join(missing)}: not in {a.source}; its columns are "
                        f"{', '.join(plan.file_schema.names)}")
    target = target_from(a, a.source, plan.snapshot.sha)
    counts: dict[str, tuple[int, int]] = {}
    write = {"config": plan.config, "revision": target.revision, "create_pr": str(target.create_pr).lower(),
             "split_column": "split", "retry_budget": str(a.retry_budget), "endpoint": a.endpoint,
             "commit_message": target.commit_message(f"Deduplicate {a.source} on {','.join(keys)}")}

    def spark_write(spark) -> None:  # noqa: ANN001 - a pyspark SparkSession
        from pyspark import StorageLevel
        from pyspark.sql import Window
        from pyspark.sql import functions as F  # noqa: N812

        import hfconnect.spark as hs

        # Shuffle into about one partition per 64 MB of source (Spark's default, 200, is far too many for a small
        # dataset and AQE does not coalesce the partitions of a persisted plan).
        parallelism = spark.sparkContext.defaultParallelism
        spark.conf.set("spark.sql.shuffle.partitions", str(max(parallelism, -(-plan.total_bytes // 64_000_000))))
        rank = F.coalesce(*[F.when(F.col("split") == s, F.lit(i)) for i, s in enumerate(SPLIT_ORDER)],
                          F.lit(len(SPLIT_ORDER)))
        first = Window.partitionBy(*keys).orderBy(rank, F.col("split"), F.col("_hfc_row"))
        marked = (spark_reader(spark, a, plan, "all").load(a.source)
                  .withColumn("_hfc_row", F.monotonically_increasing_id())
                  .withColumn("_hfc_keep", F.row_number().over(first) == 1)
                  .persist(StorageLevel.MEMORY_AND_DISK))
        for row in marked.groupBy("split").agg(F.count(F.lit(1)).alias("n"),
                                               F.sum(F.col("_hfc_keep").cast("long")).alias("kept")).collect():
            counts[row["split"]] = (row["n"], row["kept"])
        for split in sorted(counts, key=lambda s: ((SPLIT_ORDER + (s,)).index(s), s)):
            before, after = counts[split]
            job.say(f"  {split}: {before:,} rows -> {after:,} ({before - after:,} duplicates dropped)")
        # As many write tasks as files of --file-size (the shuffle left as many partitions as it saw fit).
        files = max(1, -(-plan.total_bytes // file_size))
        kept = marked.where("_hfc_keep").drop("_hfc_row", "_hfc_keep").coalesce(files)
        hs.write(kept, target.repo, mode="overwrite", **write)  # tasks write+upload, one commit
        marked.unpersist()

    summary = write_once(job, target=target, config=plan.config, dataset_bytes=plan.total_bytes,
                         spark_write=spark_write)
    summary.extra["duplicates"] = str(sum(n - kept for n, kept in counts.values()))
    return summary


if __name__ == "__main__":
    sys.exit(build().run(run))
