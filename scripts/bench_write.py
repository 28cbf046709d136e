"""Write benchmark: hfconnect's Spark and Daft writers against Daft's own write_huggingface,
pyspark_huggingface 2.0.0 (own venv) and the limit (pyarrow writing the same data to local disk + sha256).

Why: a write is only as good as its slowest part (encode, upload, commit); the limit shows what is left on
the table, the peers show where we stand. Also measured: commits per job, peak RSS of one write task at two
file sizes (memory must not grow with the file), and how much of a re-written dataset's bytes are new to a
content-defined-chunk store (Xet-like, FastCDC ~64 KiB) with CDC on and off.

    python scripts/bench_write.py --size 1GB --rounds 3 [--json PATH]

`--json PATH` also writes every figure and goal printed to PATH (scripts/_bench_json.py), which
scripts/bench_report.py turns into charts and bench/REPORT.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _bench_json
from _bench_common import parse_size
from _bench_order import round_order, wait_group_gone

HERE = Path(__file__).resolve().parent
TOKEN = "hf_bench_write"
PSH_VENV = Path(tempfile.gettempdir()) / "hfconnect-bench-venvs" / "psh200"


# ---- data --------------------------------------------------------------------------------------------------
def make_data(out_dir: Path, size: int, files: int, seed: int = 0) -> tuple[int, int]:
    """The read benchmark's shape: sorted id, ~200-byte text, label, float, list<float32>[16], bool."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    rows = size // 300
    per_file = -(-rows // files)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "kappa", "lambda", "sigma"])
    written = 0
    for f in range(files):
        n = min(per_file, rows - f * per_file)
        if n <= 0:
            break
        ids = np.arange(f * per_file, f * per_file + n, dtype=np.int64)
        picks = rng.integers(0, len(words), size=(n, 30))
        text = [" ".join(row) for row in words[picks]]
        emb = rng.standard_normal((n, 16), dtype=np.float32)
        table = pa.table({
            "id": ids, "text": text, "label": rng.integers(0, 10, n, dtype=np.int32),
            "score": rng.random(n), "embedding": pa.FixedSizeListArray.from_arrays(emb.reshape(-1), 16).cast(
                pa.list_(pa.float32())), "flag": rng.random(n) < 0.5,
        })
        pq.write_table(table, out_dir / f"part-{f:05d}.parquet")
        written += n
    return written, sum(p.stat().st_size for p in out_dir.glob("*.parquet"))


def _null_python_sink(spark: Any) -> None:
    """The ceiling of Spark's Python data source write path: a writer that only counts the Arrow batches it is
    handed. Its time is what moving the rows from the JVM to Python workers costs, before any encoding."""
    from pyspark.sql.datasource import DataSource, DataSourceArrowWriter, WriterCommitMessage

    class Counted(WriterCommitMessage):
        def __init__(self, rows: int) -> None:
            self.rows = rows

    class NullWriter(DataSourceArrowWriter):
        def write(self, iterator: Any) -> Counted:
            return Counted(sum(batch.num_rows for batch in iterator))

    class NullSink(DataSource):
        @classmethod
        def name(cls) -> str:
            return "bench_null"

        def writer(self, schema: Any, overwrite: bool) -> NullWriter:
            return NullWriter()

    spark.dataSource.register(NullSink)


# Local-disk writers on Spark's two Python paths (the ceilings the Spark sink is measured against): pyarrow with
# hfconnect's Parquet options, and hfconnect's own RollingParquetWriter (its CDC row groups and dictionary choice),
# each through a DataSourceArrowWriter ("pyds") and through mapInArrow. hfconnect's sink = pyds-hfwriter + upload
# + commit, so the differences say where its time goes.
LOCAL_WRITERS = ("spark-mapinarrow-pyarrow", "spark-pyds-pyarrow-local", "spark-mapinarrow-hfwriter",
                 "spark-pyds-hfwriter-local")


def _write_local(batches: Any, out_dir: str, kind: str) -> int:
    """One task's batches to one local file (or several, hfconnect's writer rolls): `pyarrow` buffers 128 MiB
    row groups like hfconnect and writes them with its options (zstd, CDC pages, page index), then hashes the
    file as the upload would; `hfwriter` is hfconnect's writer (hashes while writing). Returns rows."""
    import hashlib
    import uuid

    import pyarrow as pa
    import pyarrow.parquet as pq

    from hfconnect.write.parquet_writer import CDC_DEFAULTS, WriterSettings, write_batches

    first = next(iter(batches := iter(batches)), None)
    if first is None:
        return 0

    def chained() -> Any:
        yield first
        yield from batches

    if kind == "hfwriter":
        files = write_batches(chained(), first.schema, WriterSettings(max_file_size=256 * 10**6), tmp_dir=out_dir)
        for f in files:
            os.unlink(f.local_path)
        return sum(f.rows for f in files)
    path = os.path.join(out_dir, f"ceiling-{uuid.uuid4().hex}.parquet")
    rows = 0
    with pq.ParquetWriter(path, first.schema, compression="zstd", write_page_index=True,
                          use_content_defined_chunking=dict(CDC_DEFAULTS), store_schema=True) as writer:
        buf: list[Any] = []
        nbytes = 0
        for batch in chained():
            buf.append(batch)
            nbytes += batch.nbytes
            rows += batch.num_rows
            if nbytes >= WriterSettings().row_group_bytes:
                table = pa.Table.from_batches(buf)
                writer.write_table(table, row_group_size=table.num_rows)
                buf, nbytes = [], 0
        if buf:
            table = pa.Table.from_batches(buf)
            writer.write_table(table, row_group_size=table.num_rows)
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    os.unlink(path)
    return rows


def _local_ceiling(spark: Any, df: Any, name: str, out_dir: str) -> int:
    kind = "hfwriter" if name.endswith(("hfwriter", "hfwriter-local")) else "pyarrow"
    if "mapinarrow" in name:
        def task(batches: Any) -> Any:
            import pyarrow as pa

            yield pa.RecordBatch.from_pydict({"rows": [_write_local(batches, out_dir, kind)]})

        return int(df.mapInArrow(task, "rows long").groupBy().sum("rows").collect()[0][0])
    from pyspark.sql.datasource import DataSource, DataSourceArrowWriter, WriterCommitMessage

    class Written(WriterCommitMessage):
        def __init__(self, rows: int) -> None:
            self.rows = rows

    class LocalWriter(DataSourceArrowWriter):
        def write(self, iterator: Any) -> Written:
            return Written(_write_local(iterator, out_dir, kind))

    class LocalSink(DataSource):
        @classmethod
        def name(cls) -> str:
            return "bench_local_write"

        def writer(self, schema: Any, overwrite: bool) -> LocalWriter:
            return LocalWriter()

    spark.dataSource.register(LocalSink)
    df.write.format("bench_local_write").mode("append").save()
    return -1


# ---- variants (each runs in a fresh process) ---------------------------------------------------------------
def variant_main(name: str, data_dir: str, endpoint: str, repo: str, extra: dict[str, Any]) -> dict[str, Any]:
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["HF_ENDPOINT"] = endpoint
    os.environ["HF_TOKEN"] = TOKEN
    if name.startswith("spark"):
        from pyspark.sql import SparkSession

        spark = (SparkSession.builder.master("local[2]").config("spark.driver.memory", "6g")
                 .config("spark.ui.enabled", "false").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        df = spark.read.parquet(data_dir).repartition(2).persist()
        df.count()
        t0 = time.perf_counter()
        if name == "spark-null-sink":
            _null_python_sink(spark)
            df.write.format("bench_null").mode("append").save()
        elif name in LOCAL_WRITERS:
            out = tempfile.mkdtemp(prefix="ceiling-", dir=extra.get("tmp"))
            _local_ceiling(spark, df, name, out)
        elif name == "spark-hfconnect-fn":
            import hfconnect.spark as hs

            hs.write(df, repo, mode="overwrite", endpoint=endpoint, token=TOKEN,
                     max_file_size=extra.get("max_file_size", "256MB"))
        elif name == "spark-hfconnect":
            (df.write.format("huggingface").mode("overwrite").option("endpoint", endpoint).option("token", TOKEN)
             .option("max_file_size", extra.get("max_file_size", "256MB")).save(repo))
        else:  # pyspark_huggingface (its own venv), same Spark
            df.write.format("huggingface").mode("overwrite").save(repo)
        seconds = time.perf_counter() - t0
        spark.stop()
        return {"seconds": seconds}
    import daft

    df = daft.read_parquet(f"{data_dir}/*.parquet").collect()
    t0 = time.perf_counter()
    if name == "daft-hfconnect":
        from hfconnect.daft import write_huggingface

        write_huggingface(df, repo, endpoint=endpoint, token=TOKEN, mode="overwrite")
    elif name == "daft-native":
        from daft.io import HuggingFaceConfig, IOConfig

        df.write_huggingface(repo, overwrite=True, io_config=IOConfig(hf=HuggingFaceConfig(token=TOKEN)))
    return {"seconds": time.perf_counter() - t0}


def limit_main(data_dir: str, out_dir: str) -> dict[str, Any]:
    """pyarrow, same options as hfconnect (zstd, CDC, page index, 128 MiB row groups), to local disk + sha256."""
    import hashlib

    import pyarrow.dataset as ds

    from hfconnect.write.parquet_writer import WriterSettings, write_batches

    table = ds.dataset(data_dir).to_table()
    t0 = time.perf_counter()
    files = write_batches(iter(table.to_batches()), table.schema, WriterSettings(max_file_size=256 * 10**6),
                          tmp_dir=out_dir)
    for f in files:  # the write already hashed; re-read to show hashing cost is inside the limit too
        h = hashlib.sha256()
        with open(f.local_path, "rb") as fh:
            while chunk := fh.read(1 << 22):
                h.update(chunk)
        os.unlink(f.local_path)
    return {"seconds": time.perf_counter() - t0}


def generated_batches(rows: int, batch_rows: int = 10_000, seed: int = 3) -> Any:
    """The benchmark's shape, generated batch by batch: the input itself holds one batch at a time."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "kappa", "lambda", "sigma"])
    for start in range(0, rows, batch_rows):
        n = min(batch_rows, rows - start)
        text = [" ".join(row) for row in words[rng.integers(0, len(words), size=(n, 30))]]
        emb = rng.standard_normal((n, 16), dtype=np.float32)
        yield pa.record_batch({
            "id": np.arange(start, start + n, dtype=np.int64), "text": text,
            "label": rng.integers(0, 10, n, dtype=np.int32), "score": rng.random(n),
            "embedding": pa.FixedSizeListArray.from_arrays(emb.reshape(-1), 16).cast(pa.list_(pa.float32())),
            "flag": rng.random(n) < 0.5,
        })


def rss_main(rows: str, endpoint: str, repo: str, max_file_size: str, row_group: str) -> dict[str, Any]:
    """Peak RSS of ONE write task streaming `rows` rows in 10k-row batches (as Spark hands them), generated on
    the fly so that only the writer holds data. VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec."""
    from hfconnect.options import WriteOptions
    from hfconnect.write import WriteJob, write_task

    def hwm() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0

    batches = generated_batches(int(rows))
    first = next(batches)
    options = WriteOptions.build(repo=repo, endpoint=endpoint, token=TOKEN, mode="overwrite",
                                 max_file_size=max_file_size, row_group_bytes=row_group)
    job = WriteJob(options)
    job.begin(first.schema)
    base = hwm()

    def stream() -> Any:
        yield first
        yield from batches

    msg = write_task(stream(), first.schema, options, job_id=job.job_id, partition_id=0)
    job.commit([msg], first.schema)
    return {"peak_rss": hwm(), "base_rss": base, "files": len(msg.files)}


# ---- CDC dedup ---------------------------------------------------------------------------------------------
def chunk_hashes(paths: list[Path]) -> list[tuple[bytes, int]]:
    """The files' content-defined chunks (digest, length), in order, repeats included."""
    import hashlib

    from fastcdc import fastcdc

    out: list[tuple[bytes, int]] = []
    for p in paths:
        for chunk in fastcdc(str(p), min_size=16 * 1024, avg_size=64 * 1024, max_size=256 * 1024, fat=True):
            out.append((hashlib.sha256(chunk.data).digest(), chunk.length))
    return out


CDC_PATTERNS = {
    "append": "1% new rows appended at the end, whole dataset re-written (the issue's goal)",
    "runs": "1% new rows inserted as 10 contiguous runs at random places (everything after shifts)",
    "interleaved": "1% copies of existing rows interleaved one by one in 10 places",
}


def _grown(table: Any, pattern: str) -> Any:
    """The old table (ids 0, G, 2G, ... with G = 10,000) plus 1% new rows, placed as `pattern` says."""
    import numpy as np
    import pyarrow as pa

    gap = 10_000
    n_new = max(10, table.num_rows // 100)
    per = n_new // 10
    rng = np.random.default_rng(7)
    fresh = pa.Table.from_batches(list(generated_batches(n_new, seed=99))).cast(table.schema)
    if pattern == "append":
        ids = pa.array(np.arange(n_new, dtype=np.int64) * gap + table.num_rows * gap, pa.int64())
        return pa.concat_tables([table, fresh.set_column(0, "id", ids)])
    starts = np.sort(rng.choice(table.num_rows - per, 10, replace=False))
    if pattern == "interleaved":  # copies right after their originals (odd offsets)
        picks = np.concatenate([np.arange(s, s + per) for s in starts])
        extra = table.take(pa.array(picks)).set_column(0, "id", pa.array(picks * gap + 1, pa.int64()))
        return pa.concat_tables([table, extra]).sort_by("id")
    pieces, prev = [], 0
    for k, s in enumerate(starts):  # runs: fresh rows with ids between the old ids at s - 1 and s
        pieces.append(table.slice(prev, s - prev))
        ids = pa.array(s * gap - per + np.arange(per, dtype=np.int64), pa.int64())
        pieces.append(fresh.slice(k * per, per).set_column(0, "id", ids))
        prev = s
    pieces.append(table.slice(prev))
    return pa.concat_tables(pieces)


def cdc_main(data_dir: str, out_dir: str, cdc: bool) -> dict[str, Any]:
    """Old data written; then, per pattern, the old data plus 1% new rows re-written whole: how many of the new
    files' bytes are chunks a content-defined-chunk store (FastCDC ~64 KiB, like Xet) has never seen?"""
    import pyarrow as pa
    import pyarrow.dataset as ds

    from hfconnect.write.parquet_writer import WriterSettings, write_batches

    table = ds.dataset(data_dir).to_table().sort_by("id")
    table = table.set_column(0, "id", pa.array(range(0, 10_000 * table.num_rows, 10_000), pa.int64()))
    settings = WriterSettings(cdc=cdc, max_file_size=64 * 10**6, row_group_bytes=32 * 1024 * 1024)

    def write(t: Any) -> list[Path]:
        return [Path(f.local_path) for f in write_batches(iter(t.to_batches(max_chunksize=10_000)), t.schema,
                                                          settings, tmp_dir=out_dir)]

    old = write(table)
    known = {digest for digest, _ in chunk_hashes(old)}
    out: dict[str, Any] = {}
    for pattern in CDC_PATTERNS:
        t0 = time.perf_counter()
        new = write(_grown(table, pattern))
        seconds = time.perf_counter() - t0
        chunks = chunk_hashes(new)
        total = sum(n for _, n in chunks)
        uploaded = dict(chunks)  # a chunk store uploads a new chunk once, however often it repeats
        new_bytes = sum(n for d, n in uploaded.items() if d not in known)
        out[pattern] = {"new_share": new_bytes / total, "bytes": total, "seconds": seconds}
        for p in new:
            p.unlink()
    for p in old:
        p.unlink()
    return out


# ---- driver ------------------------------------------------------------------------------------------------
def run_child(args: list[str], python: str = sys.executable, timeout: int = 1800) -> dict[str, Any]:
    env = dict(os.environ, PYSPARK_PYTHON=python, SPARK_LOCAL_IP="127.0.0.1")
    proc = subprocess.Popen([python, str(Path(__file__).resolve()), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    finally:
        wait_group_gone(proc.pid, timeout=0 if proc.returncode is None else 30)  # its JVM and workers too
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"error": (stderr or stdout)[-400:].strip().replace("\n", " ")}


def ensure_psh_venv() -> str | None:
    """pyspark_huggingface 2.0.0 (the last version that writes dataset repos) in its own venv."""
    python = PSH_VENV / "bin" / "python"
    if not python.exists():
        PSH_VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(PSH_VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        if subprocess.run([*pip, "pyspark_huggingface==2.0.0", "pyspark==4.3.0", "pyarrow", "numpy"]).returncode:
            return None
    return str(python)


def fmt(values: list[float]) -> str:
    return f"{min(values):7.2f} {statistics.median(values):7.2f} {max(values):7.2f}" if values else "    n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1GB")
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20240601, help="the order of the variants in each round")
    parser.add_argument("--cdc-size", default="200MB", help="data size for the CDC dedup measurement")
    parser.add_argument("--skip-peer", action="store_true", help="skip pyspark_huggingface 2.0.0")
    parser.add_argument("--only-rss", action="store_true", help="only the peak-RSS measurement")
    parser.add_argument("--only", default=None, help="regex: run only the write variants whose name matches")
    parser.add_argument("--json", default=None, metavar="PATH",
                        help="also write the results and goals as JSON to PATH (for scripts/bench_report.py)")
    args = parser.parse_args()
    from hfconnect.localhub import LocalHub

    with tempfile.TemporaryDirectory(prefix="hfconnect-bench-write-") as tmp, \
            LocalHub(Path(tmp) / "hub", tokens={TOKEN: "write"}) as hub:
        data = Path(tmp) / "data"
        data.mkdir()
        rows, nbytes = make_data(data, parse_size(args.size), args.files)
        print(f"data: {rows:,} rows, {nbytes / 1e6:.0f} MB in {args.files} files; hub {hub.endpoint}", flush=True)
        psh = None if args.skip_peer or args.only_rss else ensure_psh_venv()
        variants = [] if args.only_rss else ["limit", "spark-null-sink", *LOCAL_WRITERS, "spark-hfconnect",
                                             "spark-hfconnect-fn", "daft-hfconnect", "daft-native"] + (
            ["spark-psh200"] if psh else [])
        if args.only:
            variants = [v for v in variants if re.search(args.only, v)]
        times: dict[str, list[float]] = {v: [] for v in variants}
        commits: dict[str, list[int]] = {v: [] for v in variants}
        errors: dict[str, str] = {}
        for r in range(args.rounds):
            for v in round_order(variants, r, args.seed):
                repo = f"bench/{v}-{r}"
                if v != "limit":  # Daft's own sink and pyspark_huggingface expect the repo to exist
                    from huggingface_hub import HfApi

                    HfApi(endpoint=hub.endpoint, token=TOKEN).create_repo(repo, repo_type="dataset", exist_ok=True)
                before = hub.counters()["commits"]
                if v == "limit":
                    res = run_child(["--limit", str(data), tmp])
                else:
                    res = run_child(["--variant", v, str(data), hub.endpoint, repo, json.dumps({"tmp": tmp})],
                                    python=psh if v == "spark-psh200" else sys.executable)
                if "seconds" in res:
                    times[v].append(res["seconds"])
                    commits[v].append(hub.counters()["commits"] - before)
                else:
                    errors[v] = res.get("error", "?")
                print(f"  round {r + 1} {v}: {res} (load {os.getloadavg()[0]:.1f})", flush=True)
        rss = {}
        for label, mfs in (("128MB files", "128MB"), ("512MB files", "512MB")):
            rss[label] = run_child(["--rss", str(rows), hub.endpoint, f"bench/rss-{mfs}", mfs, "64MiB"])
        cdc: dict[bool, dict[str, Any]] = {}
        if not args.only_rss:
            cdc_data = Path(tmp) / "cdc"
            cdc_data.mkdir()
            make_data(cdc_data, parse_size(args.cdc_size), 4, seed=1)
            cdc = {on: run_child(["--cdc", str(cdc_data), tmp, str(on)]) for on in (True, False)}

    mb = nbytes / 1e6
    print("\n" + "=" * 100)
    print(f"write benchmark: {rows:,} rows, {mb:.0f} MB Parquet input, {args.rounds} interleaved rounds, 2 cores")
    print(f"{'variant':<34} {'min s':>7} {'median':>7} {'max s':>7} {'MB/s':>7}  commits/job")
    for v in variants:
        med = statistics.median(times[v]) if times[v] else None
        speed = f"{mb / med:7.0f}" if med else "    n/a"
        note = "" if v != "limit" else "(local disk + sha256, CDC + page index)"
        print(f"{v:<34} {fmt(times[v])} {speed}  {commits[v] if v != 'limit' else note}"
              + (f"  ERROR {errors[v][:150]}" if v in errors else ""))
    med = {v: statistics.median(t) for v, t in times.items() if t}
    print("-" * 100)

    def ratio(a: str, b: str) -> float | None:
        return med[b] / med[a] if a in med and b in med else None

    goals = [
        ("hfconnect-Spark >= 3x pyspark_huggingface 2.0.0", ratio("spark-hfconnect", "spark-psh200"), 3.0),
        ("hfconnect.spark.write >= 1.2x pyspark_huggingface 2.0.0 (issue 13)",
         ratio("spark-hfconnect-fn", "spark-psh200"), 1.2),
        ("hfconnect.spark.write >= 0.9x mapInArrow + pyarrow, same options, local disk (issue 13)",
         ratio("spark-hfconnect-fn", "spark-mapinarrow-pyarrow"), 0.9),
        ("hfconnect-Daft >= 1.0x Daft write_huggingface", ratio("daft-hfconnect", "daft-native"), 1.0),
        ("hfconnect-Spark >= 0.7x the pyarrow limit", ratio("spark-hfconnect", "limit"), 0.7),
        ("hfconnect-Daft >= 0.7x the pyarrow limit", ratio("daft-hfconnect", "limit"), 0.7),
    ]
    for label, value, goal in goals:
        shown = "n/a" if value is None else f"{value:.2f}x"
        verdict = "n/a" if value is None else ("PASS" if value >= goal else "MISS")
        print(f"  {label:<52} {shown:>8}  {verdict}")
    for label, a, b in (
            ("format(\"huggingface\") vs pyspark_huggingface 2.0.0", "spark-hfconnect", "spark-psh200"),
            ("format(\"huggingface\") vs mapInArrow + pyarrow to local disk", "spark-hfconnect",
             "spark-mapinarrow-pyarrow"),
            ("hfconnect.spark.write vs format(\"huggingface\") (the function API's gain)", "spark-hfconnect-fn",
             "spark-hfconnect"),
            ("hfconnect.spark.write vs its own writer to local disk on mapInArrow (upload + commit)",
             "spark-hfconnect-fn", "spark-mapinarrow-hfwriter"),
            ("DataSourceArrowWriter vs mapInArrow, same pyarrow writer (Spark's part)", "spark-pyds-pyarrow-local",
             "spark-mapinarrow-pyarrow"),
            ("hfconnect's Parquet writer vs plain pyarrow, same options, on mapInArrow (our encoding)",
             "spark-mapinarrow-hfwriter", "spark-mapinarrow-pyarrow"),
            ("hfconnect's sink vs its own writer to local disk on the same path (upload + commit)",
             "spark-hfconnect", "spark-pyds-hfwriter-local")):
        share = ratio(a, b)
        print(f"  info: {label}: {'n/a' if share is None else f'{share:.2f}x'} throughput")
    ceiling = ratio("spark-hfconnect", "spark-null-sink")
    print(f"  info: hfconnect-Spark vs a Python sink that only counts the rows Spark hands it (the ceiling of "
          f"Spark's Python data source write path): {'n/a' if ceiling is None else f'{ceiling:.2f}x'}")
    one = all(c == [1] * len(c) for v, c in commits.items() if "hfconnect" in v)
    print(f"  exactly 1 commit per hfconnect job: {'PASS' if one else 'MISS'}")
    for label, res in rss.items():
        if "peak_rss" in res:
            print(f"  peak RSS of one write task, 64 MiB row groups, {label}: {res['peak_rss'] / 2**20:.0f} MiB "
                  f"(after imports {res['base_rss'] / 2**20:.0f} MiB; limit 2 x 64 + 200 = 328 MiB; "
                  f"{res['files']} file(s) written)")
        else:
            print(f"  peak RSS {label}: error {res}")
    for pattern, what in CDC_PATTERNS.items():
        shares = {on: res.get(pattern, {}).get("new_share") for on, res in cdc.items()}
        if None in shares.values() or not shares:
            print(f"  CDC {pattern}: error {cdc}")
            continue
        on, off = 100 * shares[True], 100 * shares[False]
        goal = f"  {'PASS' if on <= 10 else 'MISS'} (goal <= 10% with CDC on)" if pattern == "append" else ""
        print(f"  dedup, {what}: new bytes {on:.1f}% with CDC on, {off:.1f}% off{goal}")
    print("=" * 100)
    if args.json:
        write_json(args, rows, nbytes, variants, times, commits, errors, goals, ceiling, one, rss, cdc)
    return 0


GOAL_IDS = ("spark-vs-psh200", "spark-fn-vs-psh200", "spark-fn-vs-mapinarrow", "daft-vs-native", "spark-vs-limit",
            "daft-vs-limit")


def write_json(args: argparse.Namespace, rows: int, nbytes: int, variants: list[str], times: dict[str, list[float]],
               commits: dict[str, list[int]], errors: dict[str, str],
               goals: list[tuple[str, float | None, float]], ceiling: float | None, one: bool,
               rss: dict[str, dict[str, Any]], cdc: dict[bool, dict[str, Any]]) -> None:
    """The printed figures as JSON (scripts/_bench_json.py); the verdicts are the printed ones."""
    mb = nbytes / 1e6
    records = []
    for v in variants:
        stats = _bench_json.seconds_stats(times[v])
        records.append({
            "name": v, "label": v, "kind": _bench_json.kind_of(v), "section": "write", "runs": args.rounds,
            "seconds": stats, "mb_per_s": mb / stats["median"] if stats and stats["median"] else None,
            "commits": commits[v] if v != "limit" else None, "errors": [errors[v]] if v in errors else [],
            "unavailable": None if times[v] else errors.get(v, "no run")})
    pairs = [("spark-hfconnect", "spark-psh200"), ("spark-hfconnect-fn", "spark-psh200"),
             ("spark-hfconnect-fn", "spark-mapinarrow-pyarrow"), ("daft-hfconnect", "daft-native"),
             ("spark-hfconnect", "limit"), ("daft-hfconnect", "limit")]
    out = [_bench_json.goal(gid, label, value, "x", threshold, ">=", section="write", metric="throughput",
                            variant=ours, baseline=peer)
           for gid, (label, value, threshold), (ours, peer) in zip(GOAL_IDS, goals, pairs, strict=True)]
    hf_commits = [c for v, cs in commits.items() if "hfconnect" in v for c in cs]
    worst = max(hf_commits, key=lambda c: abs(c - 1)) if hf_commits else None
    out.append(_bench_json.goal("one-commit", "exactly 1 commit per hfconnect job", worst, "", 1, "==",
                                section="write", metric="commits", verdict_="PASS" if one else "MISS"))
    shares = {pattern: {("on" if on else "off"): (100 * res[pattern]["new_share"] if pattern in res else None)
                        for on, res in cdc.items()} for pattern in CDC_PATTERNS}
    append_on = shares["append"].get("on")
    out.append(_bench_json.goal("cdc-append", "dedup after a 1% append: new bytes with CDC on", append_on, "%", 10,
                                "<=", section="cdc", metric="new_share_pct", variant="append"))
    info = {"ceiling_vs_null_sink": ceiling, "rss": rss, "rss_limit_bytes": (2 * 64 + 200) * 2**20,
            "cdc": {p: {"description": CDC_PATTERNS[p], "new_share_pct": shares[p]} for p in CDC_PATTERNS}}
    params = {"size": parse_size(args.size), "data_bytes": nbytes, "rows": rows, "files": args.files,
              "rounds": args.rounds, "cdc_size": parse_size(args.cdc_size), "skip_peer": args.skip_peer,
              "only": args.only, "only_rss": args.only_rss}
    _bench_json.write(args.json, _bench_json.document("write", params, records, out, info))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--variant":
        print(json.dumps(variant_main(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], json.loads(sys.argv[6]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "--limit":
        print(json.dumps(limit_main(sys.argv[2], sys.argv[3])))
    elif len(sys.argv) > 1 and sys.argv[1] == "--rss":
        print(json.dumps(rss_main(*sys.argv[2:7])))
    elif len(sys.argv) > 1 and sys.argv[1] == "--cdc":
        print(json.dumps(cdc_main(sys.argv[2], sys.argv[3], sys.argv[4] == "True")))
    else:
        sys.exit(main())
