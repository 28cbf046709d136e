"""Read benchmark: hfconnect (Spark and Daft) against its peers, on a generated dataset served by the local hub.

Why this exists: hfconnect's promise is that reading a Hub dataset through it costs about what reading the same
Parquet files does with the engine's own reader, and far less than pyspark_huggingface; that a selective query
fetches only the bytes it needs; that planning a repo of 10,000 files takes a handful of API calls; and that
request latency is hidden by concurrency and prefetch. Each of those is a number with a goal (the issue's
spec), and this script measures all of them in one run and prints one table with PASS/MISS per goal.

How: the data (>= 2 GB by default, 16 Parquet files of 6 columns: sorted int64 `id`, ~200-byte `text`, int
`label`, float64 `f`, list<float32> of 16 `emb`, bool `flag`) is generated once, deterministically, into a temp
dir and uploaded to a `LocalHub` in that dir. Every variant then runs in a fresh process (this same script with
`--child VARIANT`), which starts its engine first (a Spark session plus a tiny warm-up job, imports) and times
only the first action: session start is excluded, planning is included. Rounds interleave the variants (a
seeded shuffle each round; a child's JVM and workers are gone before the next starts: see _bench_order) and
each row reports min/median/max. The parent resets the hub's counters before each
variant and records the bytes the hub served on `resolve` and the API calls the variant made.

pyspark_huggingface registers a Spark data source named "huggingface" too, so it must never be installed next
to hfconnect: it runs from its own venv (`--psh-python`; `--setup-psh` creates one with pip). A variant that
cannot run (an adapter not importable, the peer's venv missing, a crash, a timeout) shows `n/a (reason)` in its
row; the table always prints.

    .venv/bin/python scripts/bench_read.py [--size 2GB] [--files 16] [--rounds 3] [--quick] [--only REGEX]
                                           [--real-hub [--cdn-rates 0,25MB]] [--json PATH]

`--cdn-rates 0,25MB` (with --real-hub) runs the real-Hub variants once per per-connection CDN rate (0: uncapped) and
prints them side by side with the bytes each task of hfconnect's reader held (scripts/_bench_cdn.py).

`--json PATH` also writes every figure of the table and the goals to PATH (scripts/_bench_json.py), which
scripts/bench_report.py turns into charts and bench/REPORT.md.

Sizes are hfconnect's (scripts/_bench_common.py: 1GB = 10**9 bytes, 1GiB = 1024**3); throughput is reported in MB/s
(10**6 bytes per second).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import _bench_cdn
import _bench_json
import _bench_spark_phases as phases
from _bench_common import parse_size
from _bench_order import round_order, wait_group_gone

REPO = "bench/read"
MANY_REPO = "bench/many"
TOKEN = "hf_w"
RESULT_TAG = "BENCH_RESULT "
MB = 1_000_000
ROW_GROUP_BYTES = 32 << 20
SELECT_FRACTION = 0.01
DEFAULT_PSH_PYTHON = "/tmp/bench-venvs/psh/bin/python"
PSH_PACKAGES = ("pyspark_huggingface==2.1.0",)


# ---- variants -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    name: str
    section: str  # a-all, a-agg, b, c, d
    engine: str  # what must import for it to run: see ENGINE_PROBES
    runner: str  # the child function (latency variants reuse the 0 ms one)
    latency: bool = False
    remote: bool = True  # reads through the hub (bytes served are meaningful)
    real: bool = False  # against the hub in real-Hub mode (redirects to signed URLs, rate limits)
    cdn_rate: float = 0.0  # real-Hub mode: bytes/s per connection to the CDN/bridge (0: uncapped)


REAL_HUB_VARIANTS = ("spark-hfconnect-all", "daft-hfconnect-all", "daft-hfconnect-reader-all", "daft-native-all",
                     "spark-psh-all")


def build_variants(latency_ms: int, real_hub: bool = False, cdn_rates: list[float] | None = None) -> list[Variant]:
    lat = f"@{latency_ms}ms"
    rows = [
        ("spark-hfconnect-all", "a-all", "spark-hf"), ("spark-psh-all", "a-all", "spark-psh"),
        ("spark-parquet-all", "a-all", "spark"), ("spark-pyds-local-all", "a-all", "spark"),
        ("daft-hfconnect-all", "a-all", "daft-hf"),
        ("daft-native-all", "a-all", "daft"), ("pyarrow-all", "a-all", "pyarrow"),
        ("spark-hfconnect-agg", "a-agg", "spark-hf"), ("spark-psh-agg", "a-agg", "spark-psh"),
        ("spark-parquet-agg", "a-agg", "spark"), ("daft-hfconnect-agg", "a-agg", "daft-hf"),
        ("daft-native-agg", "a-agg", "daft"), ("pyarrow-agg", "a-agg", "pyarrow"),
        ("spark-hfconnect-sel", "b", "spark-hf"), ("spark-psh-sel", "b", "spark-psh"),
        ("daft-hfconnect-sel", "b", "daft-hf"), ("daft-native-sel", "b", "daft"),
        ("plan-hfconnect-many", "c", "hf-core"), ("spark-hfconnect-first", "c", "spark-hf"),
        ("daft-hfconnect-first", "c", "daft-hf"),
    ]
    # These read the generated files from local disk, not through the hub.
    local = ("spark-parquet-", "spark-pyds-local-", "pyarrow-")
    out = [Variant(n, s, e, n, remote=not n.startswith(local)) for n, s, e in rows]
    out += [Variant(f"spark-hfconnect-all{lat}", "d", "spark-hf", "spark-hfconnect-all", latency=True),
            Variant(f"daft-hfconnect-all{lat}", "d", "daft-hf", "daft-hfconnect-all", latency=True)]
    if real_hub:
        engines = {"spark-hfconnect-all": "spark-hf", "daft-hfconnect-all": "daft-hf", "daft-native-all": "daft",
                   "spark-psh-all": "spark-psh", "daft-hfconnect-reader-all": "daft-hf"}
        out += [Variant(f"{n}@hub{_bench_cdn.label(rate)}", "e", engines[n], n, latency=True, real=True, cdn_rate=rate)
                for rate in (cdn_rates or [0.0]) for n in REAL_HUB_VARIANTS]
    return out


ENGINE_PROBES: dict[str, str] = {
    "spark-hf": "from hfconnect.spark import HuggingFaceDataSource; import pyspark",
    "daft-hf": "from hfconnect.daft import read_huggingface",
    "hf-core": "from hfconnect.plan import plan_read; from hfconnect.options import ReadOptions",
    "spark": "import pyspark",
    "daft": "import daft",
    "pyarrow": "import pyarrow.parquet",
    "spark-psh": "import pyspark, pyspark_huggingface, datasets",
}


# ---- child side: one variant, one process ----------------------------------------------------------------------

def _spark_session(app: str) -> Any:
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName(app)
             .config("spark.driver.memory", "4g")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.sql.python.filterPushdown.enabled", "true")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.range(1).count()  # JVM and executor warm-up: part of session start, not of the timed action
    return spark


def _hf_spark_reader(spark: Any, ctx: dict[str, Any], schema: str | None = None) -> Any:
    from hfconnect.spark import HuggingFaceDataSource

    spark.dataSource.register(HuggingFaceDataSource)
    reader = spark.read.format("huggingface").option("endpoint", ctx["endpoint"]).option("token", ctx["token"])
    return reader.schema(schema) if schema else reader


def _psh_spark_reader(spark: Any, ctx: dict[str, Any], schema: str | None = None) -> Any:
    reader = spark.read.format("huggingface").option("endpoint", ctx["endpoint"]).option("token", ctx["token"])
    return reader.schema(schema) if schema else reader


def _spark_agg(df: Any) -> dict[str, Any]:
    from pyspark.sql import functions as F

    row = df.agg(F.count(F.lit(1)).alias("n"), F.sum("f").alias("s")).collect()[0]
    return {"rows": int(row["n"]), "sum": float(row["s"] or 0.0)}


def _spark_sel(df: Any, ctx: dict[str, Any]) -> dict[str, Any]:
    from pyspark.sql import functions as F

    return _spark_agg(df.where((F.col("id") >= ctx["lo"]) & (F.col("id") < ctx["hi"])))


def _local_python_source(spark: Any, local_dir: str) -> Any:
    """The ceiling for any Spark Python data source on this data: a minimal one (one partition per row group,
    pyarrow reading the LOCAL files, batches handed to Spark as they are). The gap between it and
    spark.read.parquet is what Spark's Python data source path itself costs (Python workers, Arrow to rows)."""
    import pyarrow.parquet as pq
    from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

    class RowGroup(InputPartition):
        def __init__(self, path: str, index: int) -> None:
            super().__init__(index)
            self.path = path

    class LocalReader(DataSourceReader):
        def partitions(self) -> list[RowGroup]:
            paths = sorted(Path(local_dir).glob("*.parquet"))
            return [RowGroup(str(p), i) for p in paths for i in range(pq.ParquetFile(p).num_row_groups)]

        def read(self, partition: RowGroup) -> Any:
            yield from pq.ParquetFile(partition.path).iter_batches(batch_size=65_536, row_groups=[partition.value])

    class LocalParquetSource(DataSource):
        @classmethod
        def name(cls) -> str:
            return "bench_local_parquet"

        def schema(self) -> str:
            return "id long, text string, label long, f double, emb array<float>, flag boolean"

        def reader(self, schema: Any) -> LocalReader:
            return LocalReader()

    spark.dataSource.register(LocalParquetSource)
    return spark.read.format("bench_local_parquet").load()


def _noop(df: Any) -> dict[str, Any]:
    df.write.format("noop").mode("overwrite").save()
    return {}


def _daft_io(ctx: dict[str, Any]) -> Any:
    from daft.io import HTTPConfig, IOConfig

    return IOConfig(http=HTTPConfig(bearer_token=ctx["token"]))


def _daft_hf(ctx: dict[str, Any], repo: str | None = None, **kw: Any) -> Any:
    from hfconnect.daft import read_huggingface

    return read_huggingface(repo or ctx["repo"], endpoint=ctx["endpoint"], token=ctx["token"], split="train", **kw)


def _daft_native(ctx: dict[str, Any]) -> Any:
    import daft

    return daft.read_parquet(ctx["urls"], io_config=_daft_io(ctx))


def _daft_agg(df: Any) -> dict[str, Any]:
    import daft

    out = df.agg(daft.col("f").count("all").alias("n"), daft.col("f").sum().alias("s")).to_pydict()
    return {"rows": int(out["n"][0]), "sum": float(out["s"][0] or 0.0)}


def _daft_sel(df: Any, ctx: dict[str, Any]) -> dict[str, Any]:
    import daft
    import pyarrow.compute as pc

    table = df.where((daft.col("id") >= ctx["lo"]) & (daft.col("id") < ctx["hi"])).select("id", "f").to_arrow()
    return {"rows": table.num_rows, "sum": float(pc.sum(table["f"]).as_py() or 0.0)}


def _arrow_rows(table: Any) -> dict[str, Any]:
    return {"rows": table.num_rows}


def _pyarrow_all(ctx: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    import pyarrow.parquet as pq

    return lambda: _arrow_rows(pq.read_table(ctx["local_dir"]))


def _pyarrow_agg(ctx: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    def run() -> dict[str, Any]:
        t = pq.read_table(ctx["local_dir"], columns=["f"])
        return {"rows": t.num_rows, "sum": float(pc.sum(t["f"]).as_py())}
    return run


def _plan_many(ctx: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    from hfconnect.options import ReadOptions
    from hfconnect.plan import plan_read

    def run() -> dict[str, Any]:
        plan = plan_read(ReadOptions.build(repo=ctx["many_repo"], endpoint=ctx["endpoint"], token=ctx["token"]))
        return {"files": plan.total_files, "shards": len(plan.shards)}
    return run


def _psh_sel_reader(spark: Any, ctx: dict[str, Any]) -> Any:
    """pyspark_huggingface's documented pushdown: `columns` and `filters` options, given to datasets' reader."""
    filters = f'[("id", ">=", {ctx["lo"]}), ("id", "<", {ctx["hi"]})]'
    return _psh_spark_reader(spark, ctx, "id long, f double").option("columns", '["id", "f"]') \
        .option("filters", filters)


def prepare(name: str, ctx: dict[str, Any]) -> tuple[Callable[[], dict[str, Any]], Callable[[], None]]:
    """Set up the engine for `name` (untimed) and return (timed action, cleanup)."""
    nothing: Callable[[], None] = lambda: None  # noqa: E731
    if name.startswith("spark-"):
        spark = _spark_session(name)
        hf = name.startswith("spark-hfconnect")
        if hf:
            _hf_spark_reader(spark, ctx)  # registration happens here, outside the timing
        readers: dict[str, Callable[[], dict[str, Any]]] = {
            "spark-hfconnect-all": lambda: _noop(_hf_spark_reader(spark, ctx).load(ctx["repo"])),
            "spark-hfconnect-agg": lambda: _spark_agg(_hf_spark_reader(spark, ctx, "f double").load(ctx["repo"])),
            "spark-hfconnect-sel": lambda: _spark_sel(  # .where() pushdown is opt-in in hfconnect's Spark source
                _hf_spark_reader(spark, ctx, "id long, f double").option("pushdown_filters", "true")
                .load(ctx["repo"]), ctx),
            "spark-hfconnect-first": lambda: {
                "rows": len(_hf_spark_reader(spark, ctx).load(ctx["many_repo"]).limit(1).collect())},
            "spark-psh-all": lambda: _noop(_psh_spark_reader(spark, ctx).load(ctx["repo"])),
            "spark-psh-agg": lambda: _spark_agg(_psh_spark_reader(spark, ctx, "f double").load(ctx["repo"])),
            "spark-psh-sel": lambda: _spark_sel(_psh_sel_reader(spark, ctx).load(ctx["repo"]), ctx),
            "spark-parquet-all": lambda: _noop(spark.read.parquet(ctx["local_dir"])),
            "spark-pyds-local-all": lambda: _noop(_local_python_source(spark, ctx["local_dir"])),
            "spark-parquet-agg": lambda: _spark_agg(spark.read.parquet(ctx["local_dir"]).select("f")),
        }
        return readers[name], spark.stop
    if name.startswith("daft-"):
        import daft  # noqa: F401  (import time is engine start, not the action)

        if "hfconnect" in name:
            import hfconnect.daft  # noqa: F401
        actions: dict[str, Callable[[], dict[str, Any]]] = {
            "daft-hfconnect-all": lambda: _arrow_rows(_daft_hf(ctx).to_arrow()),
            "daft-hfconnect-reader-all": lambda: _arrow_rows(_daft_hf(ctx, reader="hfconnect").to_arrow()),
            "daft-hfconnect-agg": lambda: _daft_agg(_daft_hf(ctx)),
            "daft-hfconnect-sel": lambda: _daft_sel(_daft_hf(ctx), ctx),
            "daft-hfconnect-first": lambda: _arrow_rows(_daft_hf(ctx, ctx["many_repo"]).limit(1).to_arrow()),
            "daft-native-all": lambda: _arrow_rows(_daft_native(ctx).to_arrow()),
            "daft-native-agg": lambda: _daft_agg(_daft_native(ctx)),
            "daft-native-sel": lambda: _daft_sel(_daft_native(ctx), ctx),
        }
        return actions[name], nothing
    if name == "pyarrow-all":
        return _pyarrow_all(ctx), nothing
    if name == "pyarrow-agg":
        return _pyarrow_agg(ctx), nothing
    if name == "plan-hfconnect-many":
        return _plan_many(ctx), nothing
    raise SystemExit(f"unknown variant {name!r}")


def phase_child_main(spec: str, ctx_path: str) -> int:
    """(f): one `case:reader` of the phase benchmark in this fresh process."""
    ctx = json.loads(Path(ctx_path).read_text())
    spark = _spark_session(f"phase-{spec}")
    try:
        out = phases.child(spec, ctx, spark)
    finally:
        spark.stop()
    print(RESULT_TAG + json.dumps(out), flush=True)
    return 0


def run_phases(args: argparse.Namespace, tmp: Path, api: Any, ctx: dict[str, Any], base_env: dict[str, str],
               exp: dict[str, Any]) -> tuple[Any, ...] | None:
    """(f): Spark phase by phase, fresh and warm, each run in a fresh process; rounds interleave the variants.
    Returns what phases.print_section prints, or None when no variant of (f) was asked for."""
    names = [(n, spec) for n, spec in phases.variant_names(bool(args.baseline_src))
             if not args.only or re.search(args.only, n)]
    if not names:
        return None
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    ctx = dict(ctx)
    expected: dict[str, dict[str, Any]] = {"main": {"rows": exp["rows"], "sum": exp["sum"]}}
    for case, make in (("small", lambda d: phases.generate_small(d, make_table, args.seed)),
                       ("empty", lambda d: phases.generate_empty(d, make_table))):
        if any(spec.startswith(case + ":") for _, spec in names):
            paths = make(tmp / case)
            upload(api, f"bench/{case}", paths)
            ctx[f"{case}_repo"], ctx[f"{case}_dir"] = f"bench/{case}", str(tmp / case)
            t = pq.read_table(tmp / case, columns=["f"])
            expected[case] = {"rows": t.num_rows, "sum": float(pc.sum(t["f"]).as_py() or 0.0)}
    ctx_path = tmp / "ctx-phases.json"
    ctx_path.write_text(json.dumps(ctx))
    fn = probe(sys.executable, "import hfconnect.spark as s; assert hasattr(s, 'read'), 'no hfconnect.spark.read'",
               base_env)
    unavailable = {n: fn for n, spec in names if spec.endswith(":hfconnect-fn") and fn}
    runnable = [(n, spec) for n, spec in names if n not in unavailable]
    results: dict[str, list[dict[str, Any]]] = {n: [] for n, _ in runnable}
    errors: dict[str, list[str]] = {}
    load: list[str] = []
    for rnd in range(args.phase_rounds):
        for name, spec in round_order(runnable, rnd, args.seed):
            uptime = f"{os.getloadavg()[0]:.1f}"
            load.append(uptime)
            cmd = [sys.executable, os.path.abspath(__file__), "--phase-child", spec, "--ctx", str(ctx_path)]
            # Spark's Python workers import the local ceilings' module from here; a @base variant imports hfconnect
            # from the baseline tree first (Spark passes PYTHONPATH on to its workers).
            paths = [str(Path(__file__).resolve().parent)]
            if name.endswith(phases.BASE):
                paths.insert(0, str(Path(args.baseline_src).resolve()))
            env = dict(base_env, PYTHONPATH=os.pathsep.join([*paths, base_env.get("PYTHONPATH", "")]).rstrip(":"))
            log = tmp / "logs" / f"{name}-r{rnd}.log"
            with open(log, "wb") as err:
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, start_new_session=True)
                try:
                    stdout, _ = proc.communicate(timeout=args.timeout)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    stdout = b""
                wait_group_gone(proc.pid)  # its JVM and Python workers too, before the next variant starts
            res = next((json.loads(ln[len(RESULT_TAG):]) for ln in stdout.decode(errors="replace").splitlines()
                        if ln.startswith(RESULT_TAG)), None)
            if res is None:
                errors.setdefault(name, []).append(
                    f"exit {proc.returncode}: {last_error(log.read_text(errors='replace'))}")
                print(f"  round {rnd + 1}/{args.phase_rounds} {name:<30} n/a ({errors[name][-1]})", flush=True)
                continue
            results[name].append(res)
            shown = {q: f"{res[q]['total']:.2f}s" for q in ("fresh", "warm", "warm_narrow", "warm_wide") if q in res}
            print(f"  round {rnd + 1}/{args.phase_rounds} {name:<30} {shown}  (load {uptime})", flush=True)
    return results, errors, unavailable, expected, sorted(set(load)), args.phase_rounds


def child_main(name: str, ctx_path: str) -> int:
    ctx = json.loads(Path(ctx_path).read_text())
    action, cleanup = prepare(name, ctx)
    try:
        start = time.perf_counter()
        out = action()
        seconds = time.perf_counter() - start
    finally:
        cleanup()
    print(RESULT_TAG + json.dumps({"variant": name, "seconds": seconds, **out}), flush=True)
    return 0


# ---- data ------------------------------------------------------------------------------------------------------

def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([("id", pa.int64()), ("text", pa.string()), ("label", pa.int64()), ("f", pa.float64()),
                      ("emb", pa.list_(pa.float32())), ("flag", pa.bool_())])


def make_table(rng: Any, start: int, n: int) -> Any:
    """Rows [start, start + n): sorted ids, random 150-250 byte text (mean 200), label, f, 16 floats, flag."""
    import numpy as np
    import pyarrow as pa

    alphabet = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz     ", dtype=np.uint8)
    lengths = rng.integers(150, 251, n)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    chars = alphabet[rng.integers(0, len(alphabet), int(offsets[-1]), dtype=np.uint8)]
    text = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars))
    emb = pa.ListArray.from_arrays(pa.array(np.arange(0, 16 * n + 1, 16, dtype=np.int32)),
                                   pa.array(rng.standard_normal(16 * n, dtype=np.float32)))
    return pa.Table.from_arrays(
        [pa.array(np.arange(start, start + n, dtype=np.int64)), text, pa.array(rng.integers(0, 10, n)),
         pa.array(rng.random(n)), emb, pa.array(rng.random(n) < 0.5)], schema=_schema())


def _bytes_per_row(seed: int, n: int) -> float:
    import io

    import numpy as np
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(make_table(np.random.default_rng([seed, 999_999]), 0, n), buf)
    return buf.tell() / n


def generate_dataset(out: Path, size: int, files: int, seed: int) -> dict[str, Any]:
    """`files` Parquet files of about size/files bytes each, ids sorted across files; row groups ~32 MiB."""
    import numpy as np
    import pyarrow.parquet as pq

    out.mkdir(parents=True)
    # Bytes per row depend on the row-group size (pyarrow drops dictionary encoding of id and f once the
    # dictionary outgrows 1 MiB), so measure at the real row-group size; 1% margin so the data is >= size.
    bpr = _bytes_per_row(seed, 20_000)
    for _ in range(2):
        rows_per_file = max(1, math.ceil(size / bpr / files))
        rg_rows = max(1, min(rows_per_file, int(ROW_GROUP_BYTES / bpr)))
        bpr = _bytes_per_row(seed, rg_rows)
    rows_per_file = max(1, math.ceil(size * 1.01 / bpr / files))
    rg_rows = max(1, min(rows_per_file, int(ROW_GROUP_BYTES / bpr)))
    for i in range(files):
        rng = np.random.default_rng([seed, i])
        with pq.ParquetWriter(out / f"train-{i:05d}-of-{files:05d}.parquet", _schema()) as writer:
            for off in range(0, rows_per_file, rg_rows):
                n = min(rg_rows, rows_per_file - off)
                writer.write_table(make_table(rng, i * rows_per_file + off, n), row_group_size=n)
    paths = sorted(out.glob("*.parquet"))
    return {"rows": rows_per_file * files, "bytes": sum(p.stat().st_size for p in paths),
            "paths": paths, "row_groups": math.ceil(rows_per_file / rg_rows) * files}


def generate_many(out: Path, count: int, seed: int) -> list[Path]:
    """`count` tiny Parquet files (10 rows each) of the same schema, for the planning benchmark."""
    import numpy as np
    import pyarrow.parquet as pq

    out.mkdir(parents=True)
    rng = np.random.default_rng([seed, 424242])
    table = make_table(rng, 0, 10 * count)
    width = max(5, len(str(count)))
    for i in range(count):
        pq.write_table(table.slice(10 * i, 10), out / f"train-{i:0{width}d}-of-{count:0{width}d}.parquet")
    return sorted(out.glob("*.parquet"))


def expected_values(local_dir: Path, lo: int, hi: int) -> dict[str, Any]:
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    t = ds.dataset(local_dir).to_table(columns=["id", "f"])
    sel = t.filter((pc.field("id") >= lo) & (pc.field("id") < hi))
    return {"rows": t.num_rows, "sum": pc.sum(t["f"]).as_py(), "sel_rows": sel.num_rows,
            "sel_sum": pc.sum(sel["f"]).as_py() or 0.0}


def upload(api: Any, repo: str, paths: list[Path]) -> str:
    from huggingface_hub import CommitOperationAdd

    api.create_repo(repo, repo_type="dataset", exist_ok=True)
    ops = [CommitOperationAdd(path_in_repo=f"data/{p.name}", path_or_fileobj=str(p)) for p in paths]
    info = api.create_commit(repo, repo_type="dataset", operations=ops, commit_message=f"{len(paths)} files")
    return str(info.oid)


# ---- parent side: runs, table, goals ---------------------------------------------------------------------------

@dataclass
class Run:
    seconds: float | None = None
    error: str | None = None
    served: int = 0
    api_calls: int = 0
    gets: int = 0
    result: dict[str, Any] = field(default_factory=dict)
    real: dict[str, int] = field(default_factory=dict)  # real-Hub mode: resolver/API/CDN requests, limited, leaks
    tasks: dict[str, Any] = field(default_factory=dict)  # hfconnect's reader: what its tasks held (_bench_cdn)


@dataclass
class Row:
    variant: Variant
    runs: list[Run] = field(default_factory=list)
    unavailable: str | None = None

    @property
    def times(self) -> list[float]:
        return [r.seconds for r in self.runs if r.seconds is not None]

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    def reason(self) -> str:
        if self.unavailable:
            return self.unavailable
        errors = [r.error for r in self.runs if r.error]
        return errors[0] if errors else "no run"


def child_env(python: str, hf_home: Path, endpoint: str) -> dict[str, str]:
    env = dict(os.environ)
    for key in ("HF_TOKEN", "PYSPARK_SUBMIT_ARGS", "SPARK_HOME"):
        env.pop(key, None)
    env.update(PYSPARK_PYTHON=python, PYSPARK_DRIVER_PYTHON=python, SPARK_LOCAL_IP="127.0.0.1",
               HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1",
               HF_DATASETS_DISABLE_PROGRESS_BARS="1", HF_HOME=str(hf_home), HF_ENDPOINT=endpoint,
               TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    return env


def last_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if re.search(r"(Error|Exception|error:)", ln) and not ln.startswith("File "):
            return ln[:160]
    return lines[-1][:160] if lines else "no output"


def run_child(python: str, name: str, ctx_path: Path, env: dict[str, str], timeout: float,
              log: Path) -> tuple[dict[str, Any] | None, str | None]:
    cmd = [python, os.path.abspath(__file__), "--child", name, "--ctx", str(ctx_path)]
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, start_new_session=True)
        try:
            stdout, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the child's own group: its JVM and Python workers
            proc.wait()
            return None, f"timeout after {timeout:.0f}s"
        wait_group_gone(proc.pid)  # its JVM and Python workers too, before the next variant starts
    for line in stdout.decode(errors="replace").splitlines():
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):]), None
    return None, f"exit {proc.returncode}: {last_error(log.read_text(errors='replace'))}"


def probe(python: str, code: str, env: dict[str, str]) -> str | None:
    if not Path(python).exists():
        return f"{python} missing (see --setup-psh)"
    try:
        proc = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, timeout=180)
    except subprocess.TimeoutExpired:
        return "import timed out"
    return None if proc.returncode == 0 else last_error(proc.stderr)


def check(v: Variant, res: dict[str, Any], exp: dict[str, Any], many: int) -> str | None:
    """None if the result is right (or not checkable), else what is wrong."""
    def close(a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)

    if v.runner == "plan-hfconnect-many":
        return None if res.get("files") == many else f"planned {res.get('files')} files, expected {many}"
    if v.runner.endswith("-first"):
        return None if res.get("rows") == 1 else f"{res.get('rows')} rows, expected 1"
    rows, total = ("sel_rows", "sel_sum") if v.section == "b" else ("rows", "sum")
    if "rows" in res and res["rows"] != exp[rows]:
        return f"{res['rows']} rows, expected {exp[rows]}"
    if "sum" in res and not close(res["sum"], exp[total]):
        return f"sum(f)={res['sum']!r}, expected {exp[total]!r}"
    return None


def fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def print_table(rows: list[Row], data_bytes: int, exp: dict[str, Any], many: int,
                rounds: int) -> list[dict[str, Any]]:
    """Print the results table; return its rows as records for --json."""
    titles = {"a-all": "(a) scan, all columns", "a-agg": "(a) projected aggregate count+sum(f)",
              "b": "(b) selective: 1% id range, 2 of 6 columns", "c": f"(c) planning a {many:,}-file repo",
              "d": "(d) all columns, latency injected on api+resolve",
              "e": "(e) all columns, real-Hub mode: 302 to signed URLs, rate-limit windows, latency on api+resolve+cdn"}
    head = (f"{'variant':<28} {'min s':>7} {'med s':>7} {'max s':>7} {'MB/s':>7} {'served MB':>10} "
            f"{'% data':>7} {'API':>5} {'GETs':>6}  notes")
    print()
    print(f"Results: {rounds} round(s); dataset {data_bytes / MB:,.1f} MB ({data_bytes / (1 << 30):.2f} GiB), "
          f"{exp['rows']:,} rows")
    print("=" * len(head))
    print(head)
    section = ""
    records: list[dict[str, Any]] = []
    for row in rows:
        v = row.variant
        if v.section != section:
            section = v.section
            print(f"-- {titles[section]}")
        times = row.times
        record: dict[str, Any] = {
            "name": v.name, "label": v.name, "kind": _bench_json.kind_of(v.name), "section": v.section,
            "section_title": titles[v.section], "runs": len(row.runs), "seconds": _bench_json.seconds_stats(times),
            "mb_per_s": None, "remote": v.remote, "served_bytes": None, "served_pct": None, "api_calls": None,
            "gets": None, "real": None, "errors": [r.error for r in row.runs if r.error],
            "unavailable": None if times else row.reason(), "notes": []}
        records.append(record)
        if not times:
            print(f"{v.name:<28} {'n/a (' + row.reason() + ')'}")
            continue
        ok_runs = [r for r in row.runs if r.seconds is not None]
        med = statistics.median(times)
        served = statistics.median(r.served for r in ok_runs)
        api = max(r.api_calls for r in ok_runs)
        gets = statistics.median(r.gets for r in ok_runs)
        mbps = data_bytes / MB / med if v.section in ("a-all", "d", "e") else None
        notes = []
        bad = {check(v, r.result, exp, many) for r in ok_runs} - {None}
        notes += [f"WRONG: {b}" for b in sorted(bad)]
        failed = [r.error for r in row.runs if r.seconds is None]
        if failed:
            notes.append(f"{len(failed)} run(s) failed: {failed[0]}")
        if v.runner == "plan-hfconnect-many" and ok_runs:
            notes.append(f"{ok_runs[0].result.get('shards')} shards")
        remote = v.remote
        share = f"{100 * served / data_bytes:.2f}" if remote and v.section != "c" else "-"  # (c): another repo
        record.update(mb_per_s=mbps, notes=notes, checked=not bad)
        if remote:
            record.update(served_bytes=served, api_calls=api, gets=gets,
                          served_pct=100 * served / data_bytes if v.section != "c" else None)
        if v.real:
            record["real"] = {k: statistics.median(r.real.get(k, 0) for r in ok_runs)
                              for k in ("resolvers", "api", "cdn")}
            record["real"].update({k: max(r.real.get(k, 0) for r in ok_runs) for k in ("limited", "token_at_cdn")})
        print(f"{v.name:<28} {fmt(min(times)):>7} {fmt(med):>7} {fmt(max(times)):>7} {fmt(mbps, 0):>7} "
              f"{(f'{served / MB:,.1f}' if remote else '-'):>10} "
              f"{share:>7} "
              f"{(str(api) if remote else '-'):>5} {(f'{gets:.0f}' if remote else '-'):>6}  {'; '.join(notes)}")
    print("=" * len(head))
    return records


def print_goals(rows: list[Row], data_bytes: int, latency_ms: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Print the goal lines; return them (and the info lines' figures) for --json."""
    by = {r.variant.name: r for r in rows}

    def med(name: str) -> float | None:
        row = by.get(name)
        return row.median if row else None

    def speedup(ours: str, peer: str) -> float | None:
        a, b = med(ours), med(peer)
        return None if a is None or b is None else b / a

    def served_pct(name: str) -> float | None:
        row = by.get(name)
        ok = [r for r in row.runs if r.seconds is not None] if row else []
        return 100 * max(r.served for r in ok) / data_bytes if ok else None

    def plan_calls() -> float | None:
        row = by.get("plan-hfconnect-many")
        ok = [r for r in row.runs if r.seconds is not None] if row else []
        return max(r.api_calls for r in ok) if ok else None

    lat = f"@{latency_ms}ms"
    sa, da = "spark-hfconnect-all", "daft-hfconnect-all"
    # (id, description, measured, unit, threshold, higher is better, metric, variant, baseline)
    goals: list[tuple[str, str, float | None, str, float, bool, str, str, str | None]] = [
        ("spark-vs-psh", "hfconnect-Spark all-columns vs pyspark_huggingface", speedup(sa, "spark-psh-all"),
         "x", 4.0, True, "throughput", sa, "spark-psh-all"),
        ("spark-vs-parquet", "hfconnect-Spark all-columns vs spark.read.parquet (local)",
         speedup(sa, "spark-parquet-all"), "x", 0.8, True, "throughput", sa, "spark-parquet-all"),
        ("daft-vs-native", "hfconnect-Daft all-columns vs Daft native read_parquet",
         speedup(da, "daft-native-all"), "x", 1.0, True, "throughput", da, "daft-native-all"),
        ("daft-agg-vs-native", "hfconnect-Daft count+sum(f) vs Daft native read_parquet",
         speedup("daft-hfconnect-agg", "daft-native-agg"), "x", 1.0, True, "throughput", "daft-hfconnect-agg",
         "daft-native-agg"),
        ("daft-vs-pyarrow", "hfconnect-Daft all-columns vs pyarrow read_table (local)",
         speedup(da, "pyarrow-all"), "x", 0.8, True, "throughput", da, "pyarrow-all"),
        ("spark-sel-served", "(b) hfconnect-Spark selective: bytes served", served_pct("spark-hfconnect-sel"), "%",
         3.0, False, "served_pct", "spark-hfconnect-sel", None),
        ("daft-sel-served", "(b) hfconnect-Daft selective: bytes served", served_pct("daft-hfconnect-sel"), "%",
         3.0, False, "served_pct", "daft-hfconnect-sel", None),
        ("plan-api-calls", "(c) planning: API calls (max over rounds)", plan_calls(), "", 15, False, "api_calls",
         "plan-hfconnect-many", None),
        ("plan-seconds", "(c) planning: seconds (median)", med("plan-hfconnect-many"), "s", 5.0, False, "seconds",
         "plan-hfconnect-many", None),
        ("spark-latency", f"(d) hfconnect-Spark throughput {lat} vs 0 ms", speedup(f"{sa}{lat}", sa), "x", 0.6,
         True, "throughput", f"{sa}{lat}", sa),
        ("daft-latency", f"(d) hfconnect-Daft throughput {lat} vs 0 ms", speedup(f"{da}{lat}", da), "x", 0.6, True,
         "throughput", f"{da}{lat}", da),
    ]
    print("Goals (ratios are throughput ratios from median times: peer time / hfconnect time)")
    for _, desc, value, unit, threshold, higher, *_ in goals:
        if value is None:
            verdict, shown = "n/a ", "n/a"
        else:
            verdict = "PASS" if (value >= threshold if higher else value <= threshold) else "MISS"
            shown = f"{value:.2f}{unit}"
        print(f"  {verdict}  {desc:<58} {shown:>9}  (goal {'>=' if higher else '<='} {threshold:g}{unit})")
    info = [(n, served_pct(n)) for n in ("daft-native-sel", "spark-psh-sel")]
    print("  info  (b) bytes served by peers: " + ", ".join(
        f"{n} {'n/a' if p is None else f'{p:.2f}%'}" for n, p in info))
    ceiling = speedup("spark-hfconnect-all", "spark-pyds-local-all")
    print("  info  (a) hfconnect-Spark vs a minimal Python data source over the LOCAL files (the ceiling of "
          f"Spark's Python data source path): {'n/a' if ceiling is None else f'{ceiling:.2f}x'}")
    ttfr = [(n, med(n)) for n in ("spark-hfconnect-first", "daft-hfconnect-first")]
    print("  info  (c) time to first row: " + ", ".join(f"{n} {fmt(t)} s" for n, t in ttfr))
    sections = {v.name: v.section for v in build_variants(latency_ms)}
    records = [_bench_json.goal(gid, desc, value, unit, threshold, ">=" if higher else "<=", metric=metric,
                                variant=variant, baseline=baseline, section=sections[variant])
               for gid, desc, value, unit, threshold, higher, metric, variant, baseline in goals]
    return records, {"served_pct_peers": dict(info), "spark_vs_python_source_ceiling": ceiling,
                     "time_to_first_row_s": dict(ttfr)}


# The Hub's quotas per 5-minute window (hub-docs rate-limits.md): resolver requests and API calls.
PLANS = {"anonymous": (3_000, 500), "free": (5_000, 1_000), "PRO": (12_000, 2_500), "Enterprise": (50_000, 6_000)}


def print_real_hub(rows: list[Row], data_bytes: int,
                   latency_ms: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(e): requests per GB each reader costs on huggingface.co, what that lets each plan read per window, and
    hfconnect's throughput with redirects against without (same latency). Returns the goals and figures."""
    real = [r for r in rows if r.variant.real and r.times]
    if not real:
        return [], {}
    gb = data_bytes / 1e9
    by = {r.variant.name: r for r in rows}
    print()
    print(f"Real-Hub mode ({latency_ms} ms latency on api, resolve and the CDN; requests are medians per run)")
    head = (f"{'variant':<26} {'med s':>7} {'MB/s':>6} {'resolver':>9} {'/GB':>7} {'API':>5} {'/GB':>6} "
            f"{'CDN':>6} {'429s':>5} {'token@CDN':>9}")
    print(head)
    per_gb: dict[str, tuple[float, float]] = {}
    for row in real:
        ok = [r for r in row.runs if r.seconds is not None]
        res = statistics.median(r.real.get("resolvers", 0) for r in ok)
        api = statistics.median(r.real.get("api", 0) for r in ok)
        per_gb[row.variant.name] = (res / gb, api / gb)
        print(f"{row.variant.name:<26} {fmt(row.median):>7} {data_bytes / MB / row.median:>6.0f} {res:>9.0f} "
              f"{res / gb:>7.1f} {api:>5.0f} {api / gb:>6.1f} "
              f"{statistics.median(r.real.get('cdn', 0) for r in ok):>6.0f} "
              f"{max(r.real.get('limited', 0) for r in ok):>5} {max(r.real.get('token_at_cdn', 0) for r in ok):>9}")
    print("GB each reader can read per 5-minute window (min of resolver quota / resolvers per GB and API quota / "
          "API calls per GB):")
    print(f"  {'variant':<26}" + "".join(f"{plan:>12}" for plan in PLANS))
    gb_per_window: dict[str, dict[str, float | None]] = {}
    for name, (res_gb, api_gb) in per_gb.items():
        cells = []
        gb_per_window[name] = {}
        for plan, (res_q, api_q) in PLANS.items():
            limit = min(res_q / res_gb if res_gb else math.inf, api_q / api_gb if api_gb else math.inf)
            cells.append("unbounded" if math.isinf(limit) else f"{limit:,.0f}")
            gb_per_window[name][plan] = None if math.isinf(limit) else limit
        print(f"  {name:<26}" + "".join(f"{c:>12}" for c in cells))

    def ratio(a: str, b: str) -> float | None:
        """Throughput of `a` relative to `b`: b's median time over a's."""
        ra, rb = by.get(a), by.get(b)
        return None if not ra or not rb or ra.median is None or rb.median is None else rb.median / ra.median

    native = per_gb.get("daft-native-all@hub", (None, None))[0]
    goals = []
    records = []
    for ours in ("spark-hfconnect-all@hub", "daft-hfconnect-all@hub"):
        mine = per_gb.get(ours, (None, None))[0]
        fewer = None if mine is None or native is None else (native / mine if mine else math.inf)
        goals.append((f"{ours}: resolver requests per GB, x fewer than Daft native", fewer, 10.0))
        records.append(_bench_json.goal(f"{ours.split('-')[0]}-hub-resolvers", goals[-1][0], fewer, "x", 10.0,
                                        ">=", section="e", metric="resolvers_fewer", variant=ours,
                                        baseline="daft-native-all@hub"))
        plain = ours.replace("@hub", f"@{latency_ms}ms")
        goals.append((f"{ours}: throughput vs {plain} (no redirects)", ratio(ours, plain), 0.8))
        records.append(_bench_json.goal(f"{ours.split('-')[0]}-hub-throughput", goals[-1][0], goals[-1][1], "x",
                                        0.8, ">=", section="e", metric="throughput", variant=ours, baseline=plain))
    for desc, value, threshold in goals:
        verdict = "n/a " if value is None else ("PASS" if value >= threshold else "MISS")
        shown = "n/a" if value is None else f"{value:.2f}x"
        print(f"  {verdict}  {desc:<75} {shown:>8}  (goal >= {threshold:g}x)")
    figures = {"per_gb": {n: {"resolvers": r, "api": a} for n, (r, a) in per_gb.items()},
               "gb_per_window": gb_per_window, "plans": {p: {"resolvers": r, "api": a} for p, (r, a) in PLANS.items()}}
    return records, figures


def setup_psh(python: str) -> None:
    """Create the separate venv for pyspark_huggingface with the project's pyspark/huggingface_hub versions."""
    from importlib.metadata import version

    venv = Path(python).parent.parent
    if venv.resolve() == Path(sys.prefix).resolve():
        raise SystemExit("--psh-python must not be this venv's python: pyspark_huggingface would replace hfconnect "
                         "as Spark's 'huggingface' source")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pins = [f"{p}=={version(p)}" for p in ("pyspark", "huggingface_hub", "datasets", "pyarrow", "numpy")]
    subprocess.run([python, "-m", "pip", "install", "-q", *PSH_PACKAGES, *pins], check=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    # A size is parsed after the child modes return: a peer's child runs in a venv without hfconnect.
    ap.add_argument("--size", default="2GB", help="dataset size (default 2GB)")
    ap.add_argument("--files", type=int, default=16, help="Parquet files in the dataset (default 16)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="(c) with 1,000 files instead of 10,000")
    ap.add_argument("--many-files", type=int, default=None, help="files in the (c) repo (overrides --quick)")
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--real-hub", action="store_true",
                    help="add (e): the main readers against the hub in real-Hub mode (redirects, rate limits)")
    ap.add_argument("--cdn-rates", type=_bench_cdn.parse_rates, default=[0.0], metavar="RATE,...",
                    help="with --real-hub: per-connection rates of the CDN/bridge host to run the real-Hub variants "
                    "at, e.g. 0,25MB (0: uncapped; default 0)")
    ap.add_argument("--real-window", type=float, default=60.0,
                    help="real-Hub mode: rate-limit window in seconds; a free user's quotas are scaled to it")
    ap.add_argument("--only", default=None, help="regex: run only the variants whose name matches")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per variant run")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--workdir", default=None, help="where the temp dir goes (default: the system temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (data, hub, logs)")
    ap.add_argument("--psh-python", default=os.environ.get("BENCH_PSH_PYTHON", DEFAULT_PSH_PYTHON),
                    help="python of a venv with pyspark_huggingface (never the project's venv)")
    ap.add_argument("--setup-psh", action="store_true", help="create that venv with pip, then run")
    ap.add_argument("--json", default=None, metavar="PATH",
                    help="also write the results and goals as JSON to PATH (for scripts/bench_report.py)")
    ap.add_argument("--baseline-src", default=None, metavar="DIR",
                    help="(f) also runs hfconnect's format reader from this source tree (a dir holding hfconnect/ and "
                         "pyspark_hfconnect/, e.g. `git archive main connector | tar -x -C /tmp/base`): before/after "
                         "in one run")
    ap.add_argument("--phase-rounds", type=int, default=2,
                    help="rounds of section (f), Spark phase by phase (fresh processes; default 2)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--phase-child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--ctx", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child_main(args.child, args.ctx)
    if args.phase_child:
        return phase_child_main(args.phase_child, args.ctx)
    try:
        args.size = parse_size(args.size)
    except argparse.ArgumentTypeError as exc:
        ap.error(f"argument --size: {exc}")
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # 10,000 upload bars would bury the table
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    if args.setup_psh:
        setup_psh(args.psh_python)
    many = args.many_files or (1000 if args.quick else 10_000)
    variants = build_variants(args.latency_ms, args.real_hub, args.cdn_rates)
    if args.only:
        variants = [v for v in variants if re.search(args.only, v.name)]
    wall = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="bench-read-", dir=args.workdir))
    hub = real_hub = None
    real_hubs: dict[float, Any] = {}
    try:
        from huggingface_hub import HfApi

        from hfconnect.localhub import HubMode, LocalHub

        t = time.monotonic()
        data = generate_dataset(tmp / "data", args.size, args.files, args.seed)
        need_many = any(v.section == "c" for v in variants)
        many_paths = generate_many(tmp / "many", many, args.seed) if need_many else []
        print(f"hfconnect source at {_bench_json.git_commit()}; Python {sys.version.split()[0]}", flush=True)
        print(f"generated {data['bytes'] / MB:,.1f} MB, {data['rows']:,} rows in {args.files} files "
              f"({data['row_groups']} row groups){f' + {many:,} tiny files' if need_many else ''} "
              f"in {time.monotonic() - t:.1f}s", flush=True)
        hub = LocalHub(root=tmp / "hub", tokens={TOKEN: "write"}).start()
        api = HfApi(endpoint=hub.endpoint, token=TOKEN)
        t = time.monotonic()
        sha = upload(api, REPO, data["paths"])
        if need_many:
            upload(api, MANY_REPO, many_paths)
        print(f"uploaded to {hub.endpoint} in {time.monotonic() - t:.1f}s", flush=True)
        lo = int(data["rows"] * 0.37)
        hi = lo + max(1, int(data["rows"] * SELECT_FRACTION))
        exp = expected_values(tmp / "data", lo, hi)
        ctx = {"endpoint": hub.endpoint, "token": TOKEN, "repo": REPO, "many_repo": MANY_REPO, "sha": sha,
               "local_dir": str(tmp / "data"), "lo": lo, "hi": hi,
               "urls": [f"{hub.endpoint}/datasets/{REPO}/resolve/{sha}/data/{p.name}" for p in data["paths"]]}
        ctx_path = tmp / "ctx.json"
        ctx_path.write_text(json.dumps(ctx))
        (tmp / "logs").mkdir()
        hf_home = tmp / "hf-home"
        envs = {"project": child_env(sys.executable, hf_home, hub.endpoint),
                "psh": child_env(args.psh_python, hf_home, hub.endpoint)}
        pythons = {"project": sys.executable, "psh": args.psh_python}
        if any(v.real for v in variants):
            # The same storage served by a second hub in real-Hub mode: a free user's quotas, scaled to the window.
            scale = args.real_window / 300
            mode = HubMode.real_hub(window=args.real_window,
                                    quotas={"api": int(1000 * scale), "resolvers": int(5000 * scale)},
                                    anonymous_quotas={"api": int(500 * scale), "resolvers": int(3000 * scale)})
            for rate in sorted({v.cdn_rate for v in variants if v.real}):  # one hub per per-connection CDN rate
                real_hub = real_hubs[rate] = LocalHub(root=tmp / "hub", tokens={TOKEN: "write"},
                                                      mode=replace(mode, cdn_connection_rate=rate)).start()
                real_ctx = dict(ctx, endpoint=real_hub.endpoint,
                                urls=[u.replace(hub.endpoint, real_hub.endpoint) for u in ctx["urls"]])
                (tmp / f"ctx-real{_bench_cdn.label(rate)}.json").write_text(json.dumps(real_ctx))
                envs[f"project-real{_bench_cdn.label(rate)}"] = child_env(sys.executable, hf_home, real_hub.endpoint)
                envs[f"psh-real{_bench_cdn.label(rate)}"] = child_env(args.psh_python, hf_home, real_hub.endpoint)
        missing: dict[str, str | None] = {}
        for engine in sorted({v.engine for v in variants}):
            side = "psh" if engine == "spark-psh" else "project"
            missing[engine] = probe(pythons[side], ENGINE_PROBES[engine], envs[side])
        rows = [Row(v, unavailable=missing[v.engine]) for v in variants]
        runnable = [r for r in rows if r.unavailable is None]
        for rnd in range(args.rounds):
            for row in round_order(runnable, rnd, args.seed):
                v = row.variant
                side = "psh" if v.engine == "spark-psh" else "project"
                target = real_hubs[v.cdn_rate] if v.real else hub
                assert target is not None
                target.reset_counters()
                if v.real:
                    target.reset_limits()
                routes = ("resolve", "api", "cdn") if v.real else ("resolve", "api")
                if v.latency:
                    target.set_faults([{"route": route, "action": "latency", "latency_ms": args.latency_ms}
                                       for route in routes])
                try:
                    log = tmp / "logs" / f"{v.name}-r{rnd}.log"
                    tasks_log = _bench_cdn.stats_path(tmp / "logs", v.name, rnd)
                    cap = _bench_cdn.label(v.cdn_rate)
                    res, err = run_child(pythons[side], v.runner,
                                         tmp / f"ctx-real{cap}.json" if v.real else ctx_path,
                                         dict(envs[f"{side}-real{cap}" if v.real else side],
                                              **{_bench_cdn.STATS_ENV: str(tasks_log)}), args.timeout, log)
                finally:
                    if v.latency:
                        target.clear_faults()
                c = target.counters()
                b = c["rate_limits"]
                real = {"resolvers": b["resolvers"]["requests"] + b["resolvers"]["limited"],
                        "api": b["api"]["requests"] + b["api"]["limited"],
                        "cdn": c["cdn"]["requests"] + c["bridge"]["requests"],
                        "limited": b["resolvers"]["limited"] + b["api"]["limited"],
                        "token_at_cdn": c["cdn"]["authorized"] + c["bridge"]["authorized"]} if v.real else {}
                # bytes come from /resolve/ (LFS files), the cas-bridge (Xet files) or the CDN (real-Hub mode)
                downloads = ("resolve", "bridge", "cdn")
                run = Run(seconds=res["seconds"] if res else None, error=err,
                          served=sum(c[r]["bytes_sent"] for r in downloads), api_calls=c["api"]["requests"],
                          gets=sum(c[r]["requests"] for r in downloads), result=res or {}, real=real,
                          tasks=_bench_cdn.task_stats(tasks_log))
                row.runs.append(run)
                shown = f"{run.seconds:.2f}s" if run.seconds is not None else f"n/a ({err})"
                print(f"  round {rnd + 1}/{args.rounds} {v.name:<28} {shown}  served "
                      f"{run.served / MB:,.1f} MB, {run.api_calls} API calls", flush=True)
        phase_runs = run_phases(args, tmp, api, ctx, envs["project"], exp)
        records = print_table(rows, data["bytes"], exp, many, args.rounds) if rows else []
        goals, info = print_goals(rows, data["bytes"], args.latency_ms) if rows else ([], {})
        real_goals, real_info = print_real_hub(rows, data["bytes"], args.latency_ms)
        cdn_goals, cdn_info = _bench_cdn.print_cdn_table(rows, data["bytes"], args.cdn_rates)
        real_goals += cdn_goals
        real_info["cdn_rates"] = cdn_info
        phase_records, phase_goals, phase_info = phases.print_section(*phase_runs) if phase_runs else ([], [], {})
        total = time.monotonic() - wall
        print(f"total wall time {total:.0f}s (generation, upload and all runs)")
        if args.json:
            params = {"size": args.size, "data_bytes": data["bytes"], "rows": data["rows"], "files": args.files,
                      "row_groups": data["row_groups"], "rounds": args.rounds, "quick": args.quick,
                      "many_files": many, "latency_ms": args.latency_ms, "real_hub": args.real_hub,
                      "real_window": args.real_window, "cdn_rates": args.cdn_rates, "only": args.only,
                      "seed": args.seed,
                      "select_fraction": SELECT_FRACTION, "wall_seconds": total,
                      "phase_rounds": args.phase_rounds}
            _bench_json.write(args.json, _bench_json.document(
                "read", params, records + phase_records, goals + real_goals + phase_goals,
                dict(info, real_hub=real_info, phases=phase_info)))
    finally:
        for started in real_hubs.values():
            started.stop()
        if hub is not None:
            hub.close()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
