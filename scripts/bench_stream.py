"""Streaming benchmark against the local hub: how many rows/s a streaming query sustains into a Hub dataset, what
that costs in commits, and how long an upstream commit takes to reach a query that follows the dataset.

1. Sink: Spark's rate source -> (id, text) -> writeStream.format("huggingface") with a 10 s trigger, for
   `--seconds`. Reported: rows committed per second of wall time, batches, mean batch time against the trigger
   (a batch longer than its trigger means the sink fell behind), commits per hour at that pace (the Hub takes
   about a hundred an hour per repo).
2. Source: readStream.format("huggingface") following a dataset with a 1 s trigger (`--latency-trigger`); the
   benchmark commits a Parquet file with HfApi every few seconds and times each commit's rows arriving in the
   query (foreachBatch), from the moment create_commit returned.
3. Beside the sink, the same rate query into Spark's `noop` sink: what Spark and the rate source sustain on
   this machine with nothing written (the ceiling for the sink's figure).

    python scripts/bench_stream.py --seconds 60 [--json results.json]

`--json PATH` writes the figures as scripts/_bench_json.py describes (scripts/bench_report.py charts them).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import threading
import time
from typing import Any

TOKEN = "hf_bench_stream"


def _spark() -> Any:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("bench-stream").config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "2").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _rate_frame(spark: Any, rows_per_second: int) -> Any:
    return (spark.readStream.format("rate").option("rowsPerSecond", rows_per_second)
            .option("numPartitions", 2).load()
            .selectExpr("value as id", "concat('event ', cast(value as string), ' ', uuid()) as text"))


def _steady(progress: list[dict[str, Any]]) -> tuple[int | None, list[float]]:
    """Rows/s from the end of the first batch (Spark and its Python workers warming up) to the end of the last
    one, over the batches in between; and those batches' durations."""
    ends = [_end(p) for p in progress]
    steady_rows = sum(p["numInputRows"] for p in progress[1:])
    steady_time = ends[-1] - ends[0] if len(ends) > 1 else 0.0
    durations = [p["durationMs"]["triggerExecution"] / 1000 for p in progress[1:]]
    return (round(steady_rows / steady_time) if steady_time else None), durations


def bench_noop(spark: Any, seconds: float, rows_per_second: int, trigger: float) -> dict[str, Any]:
    """The same rate query into Spark's noop sink: the ceiling with nothing written."""
    query = (_rate_frame(spark, rows_per_second).writeStream.format("noop")
             .option("checkpointLocation", tempfile.mkdtemp(prefix="bench-stream-noop-"))
             .trigger(processingTime=f"{trigger:g} seconds").start())
    time.sleep(seconds)
    query.stop()
    rows_per_s, durations = _steady([p for p in query.recentProgress if p["numInputRows"]])
    return {"rows_per_s": rows_per_s, "mean_batch_s": round(statistics.mean(durations), 2) if durations else None}


def bench_sink(spark: Any, endpoint: str, seconds: float, rows_per_second: int, trigger: float) -> dict[str, Any]:
    """Rate source -> sink for `seconds`; rows/s from the rows the Hub got, between the query's start and the
    last commit."""
    from huggingface_hub import HfApi

    from hfconnect.stream.history import _MARKER

    repo = "bench/stream-sink"
    frame = _rate_frame(spark, rows_per_second)
    checkpoint = tempfile.mkdtemp(prefix="bench-stream-ck-")
    started = time.monotonic()
    query = (frame.writeStream.format("huggingface").option("endpoint", endpoint).option("token", TOKEN)
             .option("checkpointLocation", checkpoint).trigger(processingTime=f"{trigger:g} seconds").start(repo))
    time.sleep(seconds)
    query.stop()
    if query.exception() is not None:
        raise SystemExit(f"the sink query failed: {query.exception()}")
    progress = [p for p in query.recentProgress if p["numInputRows"]]
    api = HfApi(endpoint=endpoint, token=TOKEN)
    commits = [c for c in api.list_repo_commits(repo, repo_type="dataset") if _MARKER.search(c.message or "")]
    rows_per_s, durations = _steady(progress)
    span = (max(c.created_at for c in commits) - min(c.created_at for c in commits)).total_seconds() \
        if len(commits) > 1 else 0.0
    return {
        "trigger_s": trigger, "rate_source_rows_per_s": rows_per_second, "run_s": round(time.monotonic() - started),
        "batches": len(progress), "commits": len(commits), "rows": sum(p["numInputRows"] for p in progress),
        "rows_per_s": rows_per_s,
        "mean_batch_s": round(statistics.mean(durations), 2) if durations else None,
        "max_batch_s": round(max(durations), 2) if durations else None,
        "commits_per_hour_observed": round(3600 * (len(commits) - 1) / span) if span else None,
        # One commit per trigger while batches fit in it, else one per batch (the sink fell behind).
        "commits_per_hour": round(3600 / max(trigger, statistics.mean(durations))) if durations else None,
        "kept_up": bool(durations) and max(durations) <= trigger,
    }


def _end(progress: dict[str, Any]) -> float:
    from datetime import datetime

    start = datetime.fromisoformat(progress["timestamp"].replace("Z", "+00:00")).timestamp()
    return start + progress["durationMs"]["triggerExecution"] / 1000


def bench_latency(spark: Any, endpoint: str, commits: int, gap: float, trigger: float) -> dict[str, Any]:
    """Upstream commit -> its rows in a source query: per commit, seconds from create_commit's return to the
    foreachBatch call that holds its rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(endpoint=endpoint, token=TOKEN)
    repo = "bench/stream-source"
    api.create_repo(repo, repo_type="dataset", exist_ok=True)

    def part(i: int) -> bytes:
        buf = io.BytesIO()
        pq.write_table(pa.table({"id": pa.array(range(i * 1000, (i + 1) * 1000), pa.int64()),
                                 "part": pa.array([i] * 1000, pa.int64())}), buf)
        return buf.getvalue()

    def commit(i: int) -> float:
        api.create_commit(repo, repo_type="dataset", commit_message=f"part {i}",
                          operations=[CommitOperationAdd(f"data/train-{i:04d}.parquet", part(i))])
        return time.monotonic()

    committed_at = {0: commit(0)}
    arrived: dict[int, float] = {}
    lock = threading.Lock()

    def on_batch(df: Any, batch_id: int) -> None:
        now = time.monotonic()
        for row in df.select("part").distinct().collect():
            with lock:
                arrived.setdefault(row["part"], now)

    query = (spark.readStream.format("huggingface").option("endpoint", endpoint).option("token", TOKEN).load(repo)
             .writeStream.foreachBatch(on_batch).option("checkpointLocation", tempfile.mkdtemp())
             .trigger(processingTime=f"{trigger:g} seconds").start())
    deadline = time.monotonic() + 120
    while 0 not in arrived and time.monotonic() < deadline:  # the query is up and has read the first part
        time.sleep(0.1)
    for i in range(1, commits + 1):
        time.sleep(gap)
        committed_at[i] = commit(i)
        deadline = time.monotonic() + 60
        while i not in arrived and time.monotonic() < deadline:
            time.sleep(0.02)
    query.stop()
    delays = [arrived[i] - committed_at[i] for i in range(1, commits + 1) if i in arrived]
    return {"trigger_s": trigger, "commits": commits, "arrived": len(delays),
            "median_s": round(statistics.median(delays), 2) if delays else None,
            "max_s": round(max(delays), 2) if delays else None, "min_s": round(min(delays), 2) if delays else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="how long the sink query runs (default 60)")
    parser.add_argument("--rows-per-second", type=int, default=200_000,
                        help="the rate source's pace; above what the sink sustains, the figure is the sink's limit")
    parser.add_argument("--trigger", type=float, default=10.0, help="the sink's processing-time trigger, seconds")
    parser.add_argument("--latency-commits", type=int, default=8)
    parser.add_argument("--latency-gap", type=float, default=3.0, help="seconds between upstream commits")
    parser.add_argument("--latency-trigger", type=float, default=1.0, help="the source query's trigger, seconds")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON (scripts/_bench_json.py)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from hfconnect.localhub import LocalHub

    with LocalHub(tokens={TOKEN: "write"}) as hub:
        spark = _spark()
        try:
            sink = bench_sink(spark, hub.endpoint, args.seconds, args.rows_per_second, args.trigger)
            noop = bench_noop(spark, args.seconds, args.rows_per_second, args.trigger)
            latency = bench_latency(spark, hub.endpoint, args.latency_commits, args.latency_gap, args.latency_trigger)
        finally:
            spark.stop()
    print(f"sink:   rate source {sink['rate_source_rows_per_s']:,} rows/s, {sink['trigger_s']:g}s trigger, "
          f"{sink['run_s']}s run: {sink['rows']:,} rows in {sink['batches']} batches / {sink['commits']} commits")
    print(f"        sustained {_num(sink['rows_per_s'])} rows/s after the first batch; batch time mean "
          f"{sink['mean_batch_s']}s, max {sink['max_batch_s']}s: "
          f"{'kept up with the trigger' if sink['kept_up'] else 'FELL BEHIND the trigger'}")
    print(f"        {sink['commits_per_hour']} commits/hour implied (one per trigger; observed over the run: "
          f"{sink['commits_per_hour_observed']}); the Hub takes about 100 per hour per repo")
    ratio = sink["rows_per_s"] / noop["rows_per_s"] if sink["rows_per_s"] and noop["rows_per_s"] else None
    print(f"noop:   the same query into Spark's noop sink: {_num(noop['rows_per_s'])} rows/s; the sink "
          f"{'n/a' if ratio is None else f'{ratio:.2f}x'} of it")
    print(f"source: {latency['trigger_s']:g}s trigger: upstream commit -> its rows in the query: median "
          f"{latency['median_s']}s, min {latency['min_s']}s, max {latency['max_s']}s "
          f"({latency['arrived']}/{latency['commits']} commits)")
    if args.json:
        _write_json(args, sink, noop, latency)
    return 0


def _num(value: int | None) -> str:
    return "n/a (fewer than 2 batches: run longer)" if value is None else f"{value:,}"


def _write_json(args: argparse.Namespace, sink: dict[str, Any], noop: dict[str, Any],
                latency: dict[str, Any]) -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _bench_json

    def variant(name: str, label: str, figures: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "label": label, "kind": _bench_json.kind_of(name), "section": "sink",
                "seconds": None, "mb_per_s": None, "runs": 1, "errors": [], "unavailable": None, **figures}

    variants = [variant("hfconnect-sink", f"hfconnect sink, {args.trigger:g} s trigger", sink),
                variant("noop-sink-limit", "Spark noop sink (nothing written)", noop)]
    params = {"rounds": 1, "seconds": args.seconds, "rows_per_second": args.rows_per_second,
              "trigger_s": args.trigger, "latency_commits": args.latency_commits,
              "latency_gap_s": args.latency_gap, "latency_trigger_s": args.latency_trigger}
    info = {"sections": {"sink": "Streaming sink: sustained rows/s (rate source, local hub)"},
            "latency": latency, "commits_per_hour": sink["commits_per_hour"]}
    _bench_json.write(args.json, _bench_json.document("stream", params, variants, [], info))


if __name__ == "__main__":
    sys.exit(main())
