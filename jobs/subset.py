"""Filter rows and select columns of a Hub dataset into a new repo (or split), in ONE commit; or into a Storage
Bucket prefix (TARGET buckets/ns/name/prefix: ONE published manifest, with --split all a `split` column). The
source may be a bucket prefix too.

Pushdown: only the selected columns and the columns the filter names are read, and the filter reaches the
reader, which skips row groups whose statistics exclude it (Spark: spark.sql.python.filterPushdown.enabled and
hfconnect's pushdown_filters; Daft: its own pushdowns). The last lines compare the bytes the Hub served with
the dataset's bytes. --where is SQL (`rating >= 4 and lang = 'en'`) for both engines.

  spark-submit --master spark://HOST:7077 --py-files dist/hfconnect.zip jobs/subset.py org/ds org/ds-positive \\
      --columns id,text --where "rating >= 4"
  python jobs/subset.py org/ds org/ds-positive --columns id,text --where "rating >= 4" --engine daft \\
      --ray-address HOST:6379
"""

from __future__ import annotations

import re
import sys

import pyarrow as pa

from hfconnect.jobs import Job, JobFailed, Summary, one_line
from hfconnect.jobs.flow import write_once
from hfconnect.jobs.source import add_target_arguments, describe, plan_source, spark_reader, target_from
from hfconnect.options import parse_list


def build() -> Job:
    job = Job("subset", __doc__, engines=("spark", "daft"))
    p = job.parser
    p.add_argument("source", help="the dataset to read, e.g. org/name")
    add_target_arguments(p, same_repo=False)
    p.add_argument("--columns", required=True, help="columns to keep, comma-separated (e.g. id,text)")
    p.add_argument("--where", help="SQL filter on the rows, e.g. \"rating >= 4\"")
    p.add_argument("--revision", default="main", help="branch, tag or commit to read (default main)")
    p.add_argument("--config", help="the config to read (default: the dataset's default config)")
    p.add_argument("--split", default="all", help="one split, or all (default): each row keeps its split")
    p.add_argument("--target-split", help="with one --split: the split to write (default: the same name)")
    return job


def filter_columns(where: str | None, columns: list[str]) -> list[str]:
    """The dataset columns a SQL filter names (a name inside a string literal costs a column read, no more)."""
    if not where:
        return []
    return [c for c in columns if re.search(rf"(?<![\w.]){re.escape(c)}(?!\w)", where)]


def string_columns(schema: pa.Schema) -> list[str]:
    return [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
            or pa.types.is_string_view(f.type)]


def where_error(where: str, exc: BaseException, strings: list[str]) -> str:
    """Daft's refusal of --where in one line, and for a string column compared with a number (Daft does not
    convert, Spark does) how to write the filter instead."""
    message = f"--where {where!r}: {one_line(exc)}"
    if not re.search(r"comparison on types: .*\bString\b", str(exc)):
        return message
    for column in filter_columns(where, strings):
        found = re.search(rf"(?<![\w.]){re.escape(column)}\s*(<=|>=|<>|!=|==|=|<|>)\s*(-?\d+(\.\d+)?)(?![\w.])", where)
        if found:
            op, value = found.group(1), found.group(2)
            number = "DOUBLE" if found.group(3) else "BIGINT"
            return (f"{message}; {column} is a string column: quote the value to compare text ({column} {op} "
                    f"'{value}') or cast the column to compare numbers (CAST({column} AS {number}) {op} {value})")
    named = filter_columns(where, strings)
    if named:
        return (f"{message}; {', '.join(named)} {'is a string column' if len(named) == 1 else 'are string columns'}"
                ": quote the values compared with it, or CAST it to a number")
    return message


def run(job: Job) -> Summary:
    a = job.args
    columns = list(parse_list("--columns", a.columns))
    if a.target_split and a.split == "all":
        raise JobFailed("--target-split names the split to write from one --split; with --split all every row "
                        "keeps its own split")
    schema_plan = plan_source(a, a.source, split=a.split, config=a.config)
    names = [n for n in schema_plan.file_schema.names]
    missing = [c for c in columns if c not in names and not (c == "split" and a.split == "all")]
    if missing:
        raise JobFailed(f"--columns {','.join(missing)}: not in {a.source}; its columns are {', '.join(names)}")
    read_columns = list(dict.fromkeys(columns + filter_columns(a.where, names)))
    if a.split == "all" and "split" not in read_columns:
        read_columns.append("split")  # the column split=all adds: each row keeps its split
    job.say(f"source {describe(schema_plan)}")
    job.say(f"reading columns {', '.join(c for c in read_columns if c in names)} of {len(names)}"
            + (f" where {a.where}" if a.where else ""))
    target = target_from(a, a.source, schema_plan.snapshot.sha, buckets=True)
    split = a.target_split or a.split
    if target.is_bucket:  # one table under the prefix: no config, split or card; with --split all, a split column
        if a.target_split:
            raise JobFailed("--target-split names a split of a dataset repo: a Storage Bucket prefix holds one table")
        write = {"retry_budget": str(a.retry_budget), "endpoint": a.endpoint, "create_pr": "false"}
    else:
        write = {"config": schema_plan.config, "revision": target.revision,
                 "create_pr": str(target.create_pr).lower(), "retry_budget": str(a.retry_budget),
                 "endpoint": a.endpoint,
                 "commit_message": target.commit_message(f"Select {','.join(columns)} of {a.source}"
                                                         + (f" where {a.where}" if a.where else ""))}
        write.update({"split_column": "split"} if a.split == "all" else {"split": split})
    keep = columns + (["split"] if a.split == "all" and "split" not in columns else [])

    def spark_write(spark) -> None:  # noqa: ANN001 - a pyspark SparkSession
        import hfconnect.spark as hs

        df = spark_reader(spark, a, schema_plan, a.split, columns=",".join(read_columns),
                          pushdown_filters="true").load(a.source)
        if a.where:
            df = df.where(a.where)
        hs.write(df.select(*keep), target.repo, mode="overwrite", **write)  # tasks write+upload, one commit

    def daft_write() -> None:
        import daft

        from hfconnect.daft import read_huggingface, write_huggingface

        pinned = {} if schema_plan.snapshot.repo_type == "bucket" else \
            {"config": schema_plan.config, "revision": schema_plan.snapshot.sha}
        df = read_huggingface(a.source, split=a.split, endpoint=a.endpoint, retry_budget=a.retry_budget, **pinned)
        if a.where:
            try:
                df = df.where(daft.sql_expr(a.where))
            except Exception as exc:  # Daft checks the filter against the schema here, before any row is read
                raise JobFailed(where_error(a.where, exc, string_columns(schema_plan.file_schema))) from exc
        kwargs = {k: v for k, v in write.items() if k != "create_pr"}
        write_huggingface(df.select(*keep), target.repo, mode="overwrite", create_pr=target.create_pr, **kwargs)

    return write_once(job, target=target, config=schema_plan.config, dataset_bytes=schema_plan.total_bytes,
                      spark_write=spark_write, daft_write=daft_write,
                      extra={"columns_read": str(sum(c in names for c in read_columns)),
                             "columns_total": str(len(names))})


if __name__ == "__main__":
    sys.exit(build().run(run))
