"""Storage Buckets against dataset repos (issue 20): the throughput of hfconnect's bucket reads and writes against
the same data in a dataset repo, and the Hub requests each job makes, on the local hub in real-Hub mode (Xet
storage, redirects to signed URLs, a free user's rate limits, commit limits: `HubMode.real_hub()`).

Why: a bucket write publishes by two `batch_bucket_files` requests (the job's files by Xet hash, then the manifest
and, on overwrite, the deletes) where a repo write makes one commit; a bucket read lists the prefix where a repo
read resolves a commit and lists its tree. Either may cost throughput or requests the other does not; this shows
how much, for Daft and Spark, on the same bytes.

Measured, each in a fresh process (this script with `--child`) with its own empty HF_HOME and HF_XET_CACHE, the
engine started before the clock (Spark session and warm-up, Daft import, the input collected or persisted first)
and only the job timed; --rounds rounds, each in a seeded shuffled order (scripts/_bench_order.py):
  daft-write-{repo,bucket}            hfconnect.daft.write_huggingface(df, target, mode="overwrite")
  spark-write-{repo,bucket}           df.write.format("huggingface").mode("overwrite").save(target), local[2]
  daft-native-read-{repo,bucket}      hfconnect.daft.read_huggingface(target, split="train").to_arrow()
  daft-hfconnect-read-{repo,bucket}   the same with reader="hfconnect"
  spark-read-{repo,bucket}            spark.read.format("huggingface").load(target), written to Spark's noop sink
where target is a dataset repo `bench/<variant>-<round>` or a bucket prefix `buckets/bench/<variant>-<round>/data`.
Every write goes to a hub of its own (started empty for it): Xet's dedup is global to a CAS, so a write into a hub
that already held the same rows would upload next to nothing. Reads share one hub, which holds the generated
Parquet files (--size in memory, rows of ~300 bytes: bench_write.py's shape, --files files) twice, byte for byte:
in the repo at data/train-NNNNN-of-NNNNN.parquet (one commit) and in the bucket under data/ (one batch), both
uploaded through Xet by huggingface_hub; its counters and rate-limit windows are reset before each read.

Printed: seconds per round, median MB/s (the Parquet input's bytes / median seconds) and the ratio bucket/repo
(throughput) of each measurement; Hub requests per route class of each job (median over rounds: `commit` holds a
repo's commits AND a bucket's batch requests; `commits` counts repo commits alone); the goals; checks of what
does not add up (a read that returned the wrong row count, a rate-limited request).

    python scripts/bench_buckets.py [--size 1GB] [--rounds 3] [--files 8] [--only REGEX] [--json PATH]

`--json PATH` writes every figure and goal printed to PATH (scripts/_bench_json.py contract, benchmark "buckets").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _bench_json
import bench_xet
from _bench_common import parse_size, start_hub
from _bench_order import round_order
from bench_write import make_data

TOKEN = bench_xet.TOKEN  # the token bench_xet.child_env gives every job
MB = 1_000_000
NAMESPACE = "bench"
PREFIX = "data"  # the folder of a bucket the data is in, as data/ in a repo
READ_NAME = "read"  # the read hub's repo bench/read and bucket bench/read
TARGETS = ("repo", "bucket")
WRITES = ("daft-write", "spark-write")
READS = ("daft-native-read", "daft-hfconnect-read", "spark-read")
MEASURES = WRITES + READS
LABELS = {"daft-write": "Daft write (hfconnect.daft.write_huggingface)",
          "spark-write": "Spark write (format(\"huggingface\"))",
          "daft-native-read": "Daft read, reader=\"native\"", "daft-hfconnect-read": "Daft read, reader=\"hfconnect\"",
          "spark-read": "Spark read (format(\"huggingface\"))"}
GOAL_BUCKET_VS_REPO = 0.9  # bucket throughput >= 0.9x the repo's, for every measurement
BUCKET_WRITE_BATCHES = 2  # the job's files, then the manifest (+ the overwrite's deletes)
REPO_WRITE_COMMITS = 1


# ---- names ---------------------------------------------------------------------------------------------------
def variant_names(measures: tuple[str, ...] = MEASURES) -> list[str]:
    return [f"{m}-{t}" for m in measures for t in TARGETS]


def split_variant(name: str) -> tuple[str, str]:
    """`daft-native-read-bucket` -> ("daft-native-read", "bucket")."""
    measure, _, target = name.rpartition("-")
    if measure not in MEASURES or target not in TARGETS:
        raise ValueError(f"unknown variant {name!r}")
    return measure, target


def target_of(name: str, round_index: int) -> str:
    """Where a variant writes (a fresh repo or bucket in a fresh hub) or reads (the read hub's repo or bucket)."""
    measure, target = split_variant(name)
    repo = f"{NAMESPACE}/{READ_NAME}" if measure in READS else f"{NAMESPACE}/{name}-{round_index}"
    return repo if target == "repo" else f"buckets/{repo}/{PREFIX}"


# ---- child process: one job, timed --------------------------------------------------------------------------
def _spark(memory: str) -> Any:
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").config("spark.driver.memory", memory)
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.range(1).count()  # JVM and executor warm-up: engine start, not the job
    return spark


def write_main(ctx: dict[str, Any]) -> dict[str, Any]:
    """One write of the input (collected or persisted first: the write alone is timed) to ctx["target"]."""
    engine, data, target, endpoint = ctx["engine"], ctx["data"], ctx["target"], ctx["endpoint"]
    if engine == "daft":
        import daft

        from hfconnect.daft import write_huggingface

        df = daft.read_parquet(f"{data}/*.parquet").collect()
        t0 = time.perf_counter()
        write_huggingface(df, target, endpoint=endpoint, token=TOKEN, mode="overwrite")
        return {"seconds": time.perf_counter() - t0}
    spark = _spark("6g")  # as bench_write.py: the input persisted in 2 partitions, then the write timed
    df = spark.read.parquet(data).repartition(2).persist()
    df.count()
    t0 = time.perf_counter()
    df.write.format("huggingface").mode("overwrite").option("endpoint", endpoint).option("token", TOKEN).save(target)
    seconds = time.perf_counter() - t0
    spark.stop()
    return {"seconds": seconds}


def read_main(ctx: dict[str, Any]) -> dict[str, Any]:
    """One read of ctx["target"], all columns, planning included; Daft's rows counted, Spark's sent to noop."""
    engine, target, endpoint = ctx["engine"], ctx["target"], ctx["endpoint"]
    if engine == "spark":
        from hfconnect.spark import HuggingFaceDataSource

        spark = _spark("4g")
        spark.dataSource.register(HuggingFaceDataSource)  # registration outside the timing
        t0 = time.perf_counter()
        df = spark.read.format("huggingface").option("endpoint", endpoint).option("token", TOKEN).load(target)
        df.write.format("noop").mode("overwrite").save()
        seconds = time.perf_counter() - t0
        spark.stop()
        return {"seconds": seconds}
    import daft  # noqa: F401  (import time is engine start, not the job)

    from hfconnect.daft import read_huggingface

    reader = "hfconnect" if engine == "daft-hfconnect" else "native"
    t0 = time.perf_counter()
    table = read_huggingface(target, endpoint=endpoint, token=TOKEN, split="train", reader=reader).to_arrow()
    return {"seconds": time.perf_counter() - t0, "rows": table.num_rows}


def upload_main(ctx: dict[str, Any]) -> dict[str, Any]:
    """The read hub's data: the generated files into the repo (one commit) and the bucket (one batch), the same
    names under data/, uploaded from paths (so through Xet)."""
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(endpoint=ctx["endpoint"], token=TOKEN)
    paths = sorted(Path(ctx["data"]).glob("*.parquet"))
    names = [f"{PREFIX}/train-{i:05d}-of-{len(paths):05d}.parquet" for i in range(len(paths))]
    repo = f"{NAMESPACE}/{READ_NAME}"
    t0 = time.perf_counter()
    api.create_repo(repo, repo_type="dataset", exist_ok=True)
    api.create_commit(repo, [CommitOperationAdd(n, str(p)) for n, p in zip(names, paths, strict=True)],
                      commit_message="bench_buckets.py read data", repo_type="dataset")
    repo_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    api.create_bucket(repo, exist_ok=True)
    api.batch_bucket_files(repo, add=[(str(p), n) for n, p in zip(names, paths, strict=True)])
    return {"repo_seconds": repo_seconds, "bucket_seconds": time.perf_counter() - t0,
            "repo": listed(ctx["endpoint"], repo), "bucket": listed(ctx["endpoint"], f"buckets/{repo}/{PREFIX}")}


def child_main(ctx: dict[str, Any]) -> dict[str, Any]:
    if ctx["op"] == "write":
        return write_main(ctx)
    if ctx["op"] == "read":
        return read_main(ctx)
    if ctx["op"] == "upload":
        return upload_main(ctx)
    raise ValueError(f"unknown op {ctx['op']!r}")


# ---- driver --------------------------------------------------------------------------------------------------
def child_env(home: Path, endpoint: str) -> dict[str, str]:
    """A job's environment: bench_xet's for a Xet writer (buckets take Xet only), its own empty HF_HOME and
    HF_XET_CACHE (no cache of an earlier job helps)."""
    return bench_xet.child_env(home, endpoint, True, "")


def run_child(args: list[str], env: dict[str, str], log: Path, timeout: float) -> dict[str, Any]:
    """This script in a fresh process group; the last JSON line it prints, or {"error": ...} from its log."""
    return bench_xet.run_child(args, env, log, timeout, script=__file__)


def listed(endpoint: str, target: str) -> dict[str, int]:
    """The Parquet files a repo or bucket prefix holds now (the manifest is not one): count and bytes."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint, token=TOKEN)
    if target.startswith("buckets/"):
        ns, name, prefix = target.split("/", 3)[1:]
        entries = list(api.list_bucket_tree(f"{ns}/{name}", prefix=prefix, recursive=True))
    else:
        entries = list(api.list_repo_tree(target, repo_type="dataset", recursive=True))
    sizes = [e.size for e in entries if e.path.endswith(".parquet") and getattr(e, "size", None) is not None]
    return {"files": len(sizes), "bytes": sum(sizes)}


def request_counts(counters: dict[str, Any]) -> dict[str, int]:
    """Requests per route class (the hub's counters, in their order), repo commits, rate-limited requests."""
    out = {route: int(row["requests"]) for route, row in counters.items()
           if isinstance(row, dict) and isinstance(row.get("requests"), int)}
    out["commits"] = int(counters.get("commits", 0))
    out["limited"] = sum(int(b.get("limited", 0)) for b in (counters.get("rate_limits") or {}).values())
    return out


def median_counts(runs: list[dict[str, int]]) -> dict[str, float]:
    """Each count's median over the runs (a key missing from a run counts 0 there)."""
    keys = list(dict.fromkeys(k for run in runs for k in run))
    return {k: statistics.median(run.get(k, 0) for run in runs) for k in keys}


def ratio(times: dict[str, list[float]], measure: str) -> float | None:
    """Bucket throughput / repo throughput of a measurement: the repo's median seconds / the bucket's."""
    repo, bucket = times.get(f"{measure}-repo"), times.get(f"{measure}-bucket")
    if not repo or not bucket:
        return None
    return statistics.median(repo) / statistics.median(bucket)


def mb_per_s(data_bytes: int, seconds: list[float]) -> float | None:
    med = statistics.median(seconds) if seconds else None
    return data_bytes / MB / med if med else None


def fmt_seconds(seconds: list[float]) -> str:
    return ", ".join(f"{s:.2f}" for s in seconds) or "n/a"


def worst(values: list[int], expected: int) -> int | None:
    """The value furthest from `expected` (the goal's figure: one job that missed shows)."""
    return max(values, key=lambda v: abs(v - expected)) if values else None


def request_goals(counts: dict[str, list[dict[str, int]]]) -> list[tuple[str, str, int | None, int]]:
    """(id, description, worst value over the jobs, expected) for the writes' publishing requests."""
    bucket = [c.get("commit", 0) for v, runs in counts.items() if v.endswith("write-bucket") for c in runs]
    bucket_commits = [c.get("commits", 0) for v, runs in counts.items() if v.endswith("write-bucket") for c in runs]
    repo = [c.get("commits", 0) for v, runs in counts.items() if v.endswith("write-repo") for c in runs]
    return [("bucket-write-batches", f"bucket write: {BUCKET_WRITE_BATCHES} batch requests per job (files, then "
             "manifest)", worst(bucket, BUCKET_WRITE_BATCHES), BUCKET_WRITE_BATCHES),
            ("bucket-write-no-commit", "bucket write: no repo commit", worst(bucket_commits, 0), 0),
            ("repo-write-one-commit", f"repo write: {REPO_WRITE_COMMITS} commit per job",
             worst(repo, REPO_WRITE_COMMITS), REPO_WRITE_COMMITS)]


def counter_checks(results: dict[str, list[dict[str, Any]]], rows: int) -> list[str]:
    """What does not add up in a run (printed, so a wrong figure is not taken at face value)."""
    notes = []
    for v, runs in results.items():
        for i, res in enumerate(runs):
            where = f"{v} run {i + 1}"
            if "rows" in res and res["rows"] != rows:
                notes.append(f"{where}: read {res['rows']:,} rows, the data has {rows:,}")
            if res.get("requests", {}).get("limited"):
                notes.append(f"{where}: {res['requests']['limited']} request(s) rate-limited (429)")
            written = res.get("written")
            if written is not None and written["files"] == 0:
                notes.append(f"{where}: no Parquet file at the target after the write")
    return notes


def run_variant(name: str, round_index: int, tmp: Path, data: Path, read_hub: Any,
                args: argparse.Namespace) -> dict[str, Any]:
    """One job of `name` in a fresh process: a write into a hub started for it, or a read from the read hub with
    its counters and rate-limit windows reset. The result with the job's Hub requests (and for a write, what it
    left at the target)."""
    measure, _ = split_variant(name)
    run = f"{name}-{round_index}"
    target = target_of(name, round_index)
    engine = measure.rsplit("-", 1)[0]
    home = tmp / "homes" / run
    log = tmp / "logs" / f"{run}.log"
    if measure in WRITES:
        hub = start_hub(tmp / "hubs" / run, TOKEN, real_hub=True)
        try:
            ctx = {"op": "write", "engine": engine, "data": str(data), "target": target, "endpoint": hub.endpoint}
            res = run_child(["--child", json.dumps(ctx)], child_env(home, hub.endpoint), log, args.timeout)
            res["requests"] = request_counts(hub.counters())
            if "seconds" in res:
                res["written"] = listed(hub.endpoint, target)
        finally:
            hub.stop()
            if not args.keep:
                shutil.rmtree(tmp / "hubs" / run, ignore_errors=True)
    else:
        read_hub.reset_counters()
        read_hub.reset_limits()
        ctx = {"op": "read", "engine": engine, "target": target, "endpoint": read_hub.endpoint}
        res = run_child(["--child", json.dumps(ctx)], child_env(home, read_hub.endpoint), log, args.timeout)
        res["requests"] = request_counts(read_hub.counters())
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    return res


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1GB", help="data size in memory (rows of ~300 bytes)")
    parser.add_argument("--files", type=int, default=8, help="Parquet files the data is generated (and read) in")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20240601, help="the order of the variants in each round")
    parser.add_argument("--only", default=None, help="regex: run only the variants whose name matches")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds before a job's process is killed")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (data, hubs, logs)")
    parser.add_argument("--workdir", default=None, help="where the temp dir goes (default: the system temp dir)")
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the results and goals as JSON")
    args = parser.parse_args()
    variants = variant_names()
    if args.only:
        variants = [v for v in variants if re.search(args.only, v)]
        if not variants:
            parser.error(f"--only {args.only!r} matches none of {', '.join(variant_names())}")
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="hfconnect-bench-buckets-", dir=args.workdir))
    for sub in ("logs", "homes", "hubs", "data"):
        (tmp / sub).mkdir()
    read_hub = None
    try:
        data = tmp / "data"
        rows, nbytes = make_data(data, parse_size(args.size), args.files)
        print(f"data: {rows:,} rows, {nbytes / MB:,.1f} MB Parquet in {args.files} files "
              f"({time.perf_counter() - started:.0f} s); tmp {tmp}", flush=True)
        phases = {"data": time.perf_counter() - started}
        upload: dict[str, Any] = {}
        if any(split_variant(v)[0] in READS for v in variants):
            t0 = time.perf_counter()
            read_hub = start_hub(tmp / "hubs" / "read", TOKEN, real_hub=True)
            ctx = {"op": "upload", "data": str(data), "endpoint": read_hub.endpoint}
            upload = run_child(["--child", json.dumps(ctx)], child_env(tmp / "homes" / "upload", read_hub.endpoint),
                               tmp / "logs" / "upload.log", args.timeout)
            if "error" in upload:
                print(f"uploading the read data failed: {upload['error']}", file=sys.stderr)
                return 1
            phases["upload"] = time.perf_counter() - t0
            print(f"read hub {read_hub.endpoint} (real-Hub mode): repo {upload['repo']} in "
                  f"{upload['repo_seconds']:.1f} s, bucket {upload['bucket']} in {upload['bucket_seconds']:.1f} s",
                  flush=True)
        results: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
        t0 = time.perf_counter()
        for r in range(args.rounds):
            for v in round_order(variants, r, args.seed):
                res = run_variant(v, r, tmp, data, read_hub, args)
                results[v].append(res)
                shown = {k: res[k] for k in ("seconds", "rows", "written", "error") if k in res}
                print(f"  round {r + 1} {v}: {shown} (load {os.getloadavg()[0]:.1f})", flush=True)
        phases["runs"] = time.perf_counter() - t0
        report(args, variants, results, rows, nbytes, upload, phases)
    finally:
        if read_hub is not None:
            read_hub.stop()
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def report(args: argparse.Namespace, variants: list[str], results: dict[str, list[dict[str, Any]]], rows: int,
           nbytes: int, upload: dict[str, Any], phases: dict[str, float]) -> None:
    """The tables, the goals and (--json) the same figures as JSON."""
    times = {v: [res["seconds"] for res in runs if "seconds" in res] for v, runs in results.items()}
    errors = {v: [res["error"] for res in runs if "error" in res] for v, runs in results.items()}
    counts = {v: [res["requests"] for res in runs if "seconds" in res and "requests" in res]
              for v, runs in results.items()}
    width = 118
    print("\n" + "=" * width)
    print(f"bucket benchmark: {rows:,} rows, {nbytes / MB:,.1f} MB Parquet in {args.files} files, {args.rounds} "
          "shuffled round(s), local hub in real-Hub mode (Xet), each job in a fresh process, each write to a fresh "
          "hub")
    print(f"{'variant':<28} {'seconds per round':<28} {'median s':>8} {'MB/s':>8}  bucket/repo")
    records: list[dict[str, Any]] = []
    measures = [m for m in MEASURES if any(split_variant(v)[0] == m for v in variants)]
    for m in measures:
        for target in TARGETS:
            v = f"{m}-{target}"
            if v not in variants:
                continue
            t = times[v]
            speed = mb_per_s(nbytes, t)
            share = ratio(times, m) if target == "bucket" else None
            note = f"ERROR {errors[v][0][:100]}" if errors[v] else ""
            print(f"{v:<28} {fmt_seconds(t):<28} {(f'{statistics.median(t):.2f}' if t else 'n/a'):>8} "
                  f"{(f'{speed:.1f}' if speed else 'n/a'):>8}  {(f'{share:.2f}x' if share else ''):<11} {note}")
            stats = _bench_json.seconds_stats(t)
            records.append({
                "name": v, "label": f"{LABELS[m]}, {target}", "kind": "hfconnect", "section": m, "target": target,
                "runs": len(t), "seconds": stats, "mb_per_s": speed, "seconds_per_round": t,
                "requests": median_counts(counts[v]) if counts[v] else None,
                "written": [res["written"] for res in results[v] if "written" in res] or None,
                "rows": [res["rows"] for res in results[v] if "rows" in res] or None,
                "errors": errors[v], "unavailable": None if t else (errors[v][0] if errors[v] else "no run")})
    print("-" * width)
    routes = list(dict.fromkeys(k for runs in counts.values() for c in runs for k in c))
    print("Hub requests per job by route class (median over rounds; `commit` = repo commits + bucket batches; "
          "`commits` = repo commits)")
    print(f"{'variant':<28}" + "".join(f"{r:>10}" for r in routes))
    for v in variants:
        if counts[v]:
            med = median_counts(counts[v])
            print(f"{v:<28}" + "".join(f"{med.get(r, 0):>10g}" for r in routes))
    print("-" * width)
    goals: list[dict[str, Any]] = []

    def goal(gid: str, label: str, value: float | None, unit: str, threshold: float, direction: str, metric: str,
             variant: str | None = None, baseline: str | None = None) -> None:
        g = _bench_json.goal(gid, label, value, unit, threshold, direction, section=metric.split(":")[0],
                             metric=metric.split(":")[-1], variant=variant, baseline=baseline)
        goals.append(g)
        shown = "n/a" if value is None else f"{value:.2f}{unit}" if unit else f"{value:g}"
        print(f"  goal: {label:<84} {shown:>9}  {g['verdict']}")

    for m in measures:
        goal(f"{m}-bucket-vs-repo", f"{LABELS[m]}: bucket throughput >= {GOAL_BUCKET_VS_REPO:g}x the repo's",
             ratio(times, m), "x", GOAL_BUCKET_VS_REPO, ">=", f"{m}:throughput", f"{m}-bucket", f"{m}-repo")
    if any(split_variant(v)[0] in WRITES for v in variants):
        for gid, label, value, expected in request_goals(counts):
            goal(gid, label, value, "", expected, "==", "requests:requests")
    notes = counter_checks(results, rows)
    for note in notes:
        print(f"  check: {note}")
    elapsed = sum(phases.values())
    print(f"  time: {elapsed:.0f} s in all (" + ", ".join(f"{k} {v:.0f} s" for k, v in phases.items()) + ")")
    print("=" * width)
    if args.json:
        params = {"size": parse_size(args.size), "data_bytes": nbytes, "rows": rows, "files": args.files,
                  "rounds": args.rounds, "seed": args.seed, "only": args.only, "hub_mode": "real_hub"}
        info = {"bucket_vs_repo": {m: ratio(times, m) for m in measures}, "upload": upload,
                "counter_checks": notes, "total_seconds": elapsed, "phase_seconds": phases,
                "sections": {m: LABELS[m] for m in measures}}
        _bench_json.write(args.json, _bench_json.document("buckets", params, records, goals, info))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(child_main(json.loads(sys.argv[2]))))
    else:
        sys.exit(main())
