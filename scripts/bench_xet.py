"""Dedup through Xet, measured at the CAS: how many bytes each writer makes the hub's CAS store as new when a
dataset is written, then re-written after a small change; and what Xet costs in write throughput against LFS.

Why: content-defined Parquet exists so that a re-write uploads little. The figure that matters is the one a real
Xet CAS sees from the real client (huggingface_hub + hf_xet, chunking and global dedup included), not a simulated
chunk store: here every writer uploads to the local hub's CAS, which counts the xorb bytes it did not hold.

Cases, each written in full with mode overwrite into the writer's repo (replacing the previous case's files):
  base        the first write (--size of data: rows of ~300 bytes in memory, bench_write.py's shape)
  append      the same rows + 1% new rows at the end
  insert      the base rows + 1% new rows inserted at 10 evenly spaced places
  add-column  the base rows + one new float32 column
Follow-ups are the base transformed (not chained), so each one's new bytes are what that one change costs; the CAS
still holds every earlier case's chunks, as the Hub would. The input is split into files at the base's row
boundaries, each file one Spark partition: every writer sees the rows in the same order, only where they changed
do its inputs differ.

Writers (each with its own hub, so no writer dedupes against another's chunks; each write in a fresh process
with its own EMPTY HF_XET_CACHE, so only the CAS's global dedup helps, as on a cluster):
  hfconnect-daft   hfconnect.daft.write_huggingface, defaults: "hfconnect (defaults)" of the goals
  hfconnect-spark  df.write.format("huggingface") (hfconnect's Spark sink), defaults
  pyarrow          pyarrow.parquet.write_table defaults, one file, uploaded with HfApi.upload_file
  daft-native      Daft's own DataFrame.write_huggingface
  spark-psh        pyspark_huggingface 2.0.0 (2.1.0 cannot write a dataset repo with huggingface_hub 2.x: it calls
                   list_repo_tree(data_dir=...)), installed once with `pip --no-deps --target` next to
                   bench_write.py's venv and put on PYTHONPATH: it runs on this venv's pyspark, huggingface_hub and
                   hf_xet, the same clients as every other writer

Reading the figures: with an empty cache, hf_xet asks the CAS (GET /v1/chunks) only about chunk 0 of each file
and about chunks whose hash is 0 mod 1024 (~1 per 64 MB), 256+ chunks apart; "dedup hit/query" counts those
questions and the CAS's "known" answers. A file smaller than ~64 MB whose first ~64 KB changed dedupes nothing,
whatever its layout; a hit lets the client skip only the chunks the answered shard describes. "sent" is the xorb
bytes the client uploaded, "new" those the CAS did not hold (the goals' figure); "new %" is new / the Parquet bytes
the write left in the repo.

Throughput: the same hfconnect-daft write of the base data (collected first, the write timed) to a fresh Xet hub
and to a fresh LFS-only hub (client with HF_HUB_DISABLE_XET=1), --rounds rounds in shuffled order.

    python scripts/bench_xet.py --size 1GB --rounds 3 [--writers a,b] [--cases append,insert] [--json PATH]

`--json PATH` writes every figure and goal printed to PATH (scripts/_bench_json.py contract, benchmark "xet").
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
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
from bench_read import last_error
from bench_write import PSH_VENV, generated_batches, make_data

TOKEN = "hf_bench_xet"
MB = 1_000_000
WRITERS = ("hfconnect-daft", "hfconnect-spark", "pyarrow", "daft-native", "spark-psh")
HFCONNECT = ("hfconnect-daft", "hfconnect-spark")
DEFAULTS_WRITER = "hfconnect-daft"  # "hfconnect (defaults)" in the goals; also the throughput write
CASES = ("base", "append", "insert", "add-column")
FOLLOW_UPS = CASES[1:]
PSH_VERSION = "2.0.0"  # as bench_write.py's: the last that writes dataset repos
PSH_TARGET = PSH_VENV.parent / f"psh{PSH_VERSION.replace('.', '')}-peer"
PSH_COMMIT_TITLE = "Upload using PySpark"  # how we know pyspark_huggingface, not hfconnect, made the commit
XET_KEYS = ("xorb_bytes_received", "xorb_bytes_new", "xorbs_new", "xorbs_known", "shards", "file_bytes_committed",
            "dedup_hits", "dedup_misses")
GOAL_APPEND_PCT, GOAL_INSERT_PCT, GOAL_VS_PYARROW, GOAL_XET_VS_LFS = 3.0, 12.0, 5.0, 0.9


# ---- data (child process) ------------------------------------------------------------------------------------
def _fresh_rows(n: int, first_id: int, schema: Any, seed: int) -> Any:
    """n new rows of the base's shape (bench_write.generated_batches), ids first_id.. (never an old row's id)."""
    import numpy as np
    import pyarrow as pa

    table = pa.Table.from_batches(list(generated_batches(n, seed=seed))).cast(schema)
    return table.set_column(0, "id", pa.array(np.arange(first_id, first_id + n, dtype=np.int64)))


def make_cases(root: str, size: int, files: int, cases: list[str]) -> dict[str, Any]:
    """The base data (bench_write.make_data) and each follow-up case's input, split at the base's file
    boundaries: a file whose rows did not change is the base's own file (hard link)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = Path(root) / "base"
    base.mkdir(parents=True)
    rows, _ = make_data(base, size, files)
    paths = sorted(base.glob("*.parquet"))
    counts = [pq.ParquetFile(p).metadata.num_rows for p in paths]
    starts = np.cumsum([0, *counts[:-1]])
    n_new = max(10, rows // 100)
    per_place = n_new // 10
    places = [int((k + 0.5) * rows / 10) for k in range(10)]  # global row index each run goes before
    out: dict[str, Any] = {"base": {"rows": rows, "input_bytes": sum(p.stat().st_size for p in paths)}}
    for case in cases:
        if case == "base":
            continue
        target = Path(root) / case
        target.mkdir()
        added = 0
        for i, p in enumerate(paths):
            table = None
            if case == "append" and i == len(paths) - 1:
                t = pq.read_table(p)
                table = pa.concat_tables([t, _fresh_rows(n_new, rows, t.schema, seed=99)])
                added += n_new
            elif case == "insert" and any(starts[i] <= q < starts[i] + counts[i] for q in places):
                t = pq.read_table(p)
                pieces, prev = [], 0
                for k, q in enumerate(places):
                    if not starts[i] <= q < starts[i] + counts[i]:
                        continue
                    local = int(q - starts[i])
                    pieces += [t.slice(prev, local - prev),
                               _fresh_rows(per_place, rows + n_new + k * per_place, t.schema, seed=200 + k)]
                    prev = local
                    added += per_place
                table = pa.concat_tables([*pieces, t.slice(prev)])
            elif case == "add-column":
                t = pq.read_table(p)
                values = np.random.default_rng(1000 + i).random(t.num_rows, dtype=np.float32)
                table = t.append_column("quality", pa.array(values))
            if table is None:
                os.link(p, target / p.name)
            else:
                pq.write_table(table, target / p.name)
        out[case] = {"rows": rows + added, "input_bytes": sum(f.stat().st_size for f in target.glob("*.parquet"))}
    return out


# ---- writers (child process: hf_xet reads its settings once per process) -------------------------------------
def _spark(writer: str) -> Any:
    """local[2]; one input file = one partition (no packing of small files by size), as Daft reads them."""
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").config("spark.driver.memory", "4g")
             .config("spark.ui.enabled", "false").config("spark.sql.files.maxPartitionBytes", "64g")
             .config("spark.sql.files.openCostInBytes", "64g").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    if writer == "spark-psh":  # an explicit registration wins over hfconnect's automatic one
        from pyspark_huggingface.huggingface import HuggingFaceDatasets

        spark.dataSource.register(HuggingFaceDatasets)
    return spark


def writer_main(ctx: dict[str, Any]) -> dict[str, Any]:
    """One write of ctx["data"] by ctx["writer"] into ctx["repo"] (overwrite); seconds from reading the input to the
    commit, or (ctx["timed"] == "write") of the write alone, the input collected first."""
    writer, data, endpoint, repo = ctx["writer"], ctx["data"], ctx["endpoint"], ctx["repo"]
    t0 = time.perf_counter()
    if writer in ("hfconnect-daft", "daft-native"):
        import daft

        df = daft.read_parquet(f"{data}/*.parquet").collect()  # file order, as the others read it
        if ctx.get("timed") == "write":
            t0 = time.perf_counter()
        if writer == "hfconnect-daft":
            from hfconnect.daft import write_huggingface

            write_huggingface(df, repo, endpoint=endpoint, token=TOKEN, mode="overwrite")
        else:
            from daft.io import HuggingFaceConfig, IOConfig

            df.write_huggingface(repo, overwrite=True, io_config=IOConfig(hf=HuggingFaceConfig(token=TOKEN)))
    elif writer == "pyarrow":
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq
        from huggingface_hub import HfApi

        table = ds.dataset(sorted(str(p) for p in Path(data).glob("*.parquet")), format="parquet").to_table()
        local = Path(ctx["tmp"]) / "train-00000-of-00001.parquet"
        pq.write_table(table, local)  # every default: what a user's to_parquet gives
        del table
        HfApi(endpoint=endpoint, token=TOKEN).upload_file(
            path_or_fileobj=str(local), path_in_repo="data/train-00000-of-00001.parquet", repo_id=repo,
            repo_type="dataset")  # a path (not a file object): huggingface_hub uploads it through Xet
        local.unlink()
    elif writer in ("hfconnect-spark", "spark-psh"):
        spark = _spark(writer)
        df = spark.read.parquet(data)
        df.write.format("huggingface").mode("overwrite").option("endpoint", endpoint).option("token", TOKEN) \
            .save(repo)
        spark.stop()
        if writer == "spark-psh":
            from huggingface_hub import HfApi

            title = HfApi(endpoint=endpoint, token=TOKEN).list_repo_commits(repo, repo_type="dataset")[0].title
            if not title.startswith(PSH_COMMIT_TITLE):
                raise RuntimeError(f"the last commit is {title!r}: format('huggingface') was not pyspark_huggingface")
    else:
        raise ValueError(f"unknown writer {writer}")
    return {"seconds": time.perf_counter() - t0}


# ---- driver --------------------------------------------------------------------------------------------------
def child_env(home: Path, endpoint: str, xet: bool, writer: str) -> dict[str, str]:
    """A writer's environment: Xet on (HF_HUB_DISABLE_XET removed, should the caller's shell set it) unless this is
    the LFS baseline; its own empty HF_HOME and HF_XET_CACHE (no local shard cache: global dedup only)."""
    env = dict(os.environ)
    for key in ("HF_HUB_DISABLE_XET", "HF_TOKEN", "PYSPARK_SUBMIT_ARGS", "SPARK_HOME"):
        env.pop(key, None)
    (home / "xet").mkdir(parents=True)
    env.update(HF_HOME=str(home), HF_XET_CACHE=str(home / "xet"), HF_XET_TELEMETRY_ENABLED="false",
               HF_ENDPOINT=endpoint, HF_TOKEN=TOKEN, HF_HUB_DISABLE_PROGRESS_BARS="1", HF_HUB_DISABLE_TELEMETRY="1",
               PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1",
               NO_PROXY="127.0.0.1,127.0.0.2,localhost", PYTHONUNBUFFERED="1")
    if not xet:
        env["HF_HUB_DISABLE_XET"] = "1"
    if writer == "spark-psh":  # its Python workers inherit it
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PSH_TARGET), env.get("PYTHONPATH")]))
    return env


def run_child(args: list[str], env: dict[str, str], log: Path, timeout: float, script: str = __file__,
              ) -> dict[str, Any]:
    """`script` (this one by default) in a fresh process group (its JVM and workers gone before the next starts);
    the last JSON line it prints, or {"error": ...} from its log."""
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, str(Path(script).resolve()), *args], stdout=subprocess.PIPE,
                                stderr=err, env=env, start_new_session=True)
        try:
            stdout, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            wait_group_gone(proc.pid, timeout=0)  # kills what is left of the group
            proc.wait()
            return {"error": f"no result after {timeout:.0f} s (log {log})"}
        wait_group_gone(proc.pid)
    for line in reversed(stdout.decode(errors="replace").splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"error": f"{last_error(log.read_text(errors='replace'))} (log {log})"}


def ensure_psh() -> str | None:
    """pyspark_huggingface in PSH_TARGET (installed once, without dependencies); None, or why it is not there."""
    marker = PSH_TARGET / f".installed-{PSH_VERSION}"
    if marker.is_file():
        return None
    shutil.rmtree(PSH_TARGET, ignore_errors=True)
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                          "--target", str(PSH_TARGET), f"pyspark_huggingface=={PSH_VERSION}"],
                         capture_output=True, text=True)
    if pip.returncode or not (PSH_TARGET / "pyspark_huggingface").is_dir():
        return f"pip could not install pyspark_huggingface=={PSH_VERSION}: {last_error(pip.stderr + pip.stdout)}"
    marker.touch()
    return None


def hub_xet_support() -> bool:
    from hfconnect.localhub import HubMode

    return "xet" in {f.name for f in dataclasses.fields(HubMode)}


@contextlib.contextmanager
def started_hub(root: Path, xet: bool, keep: bool, check_sha256: bool = True) -> Any:
    """A fresh local hub (Xet storage, or LFS only) on its own root: its CAS holds only what this run uploads."""
    from hfconnect.localhub import HubMode, LocalHub

    mode = HubMode(xet=xet, check_sha256=check_sha256) if hub_xet_support() else HubMode()  # else LFS only
    hub = LocalHub(root, tokens={TOKEN: "write"}, mode=mode)
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def snapshot(hub: Any) -> dict[str, int]:
    """The counters a write is judged by: the CAS's (xet) and LFS upload bytes, commits."""
    c = hub.counters()
    xet = c.get("xet") or {}
    out = {k: int(v) for k, v in xet.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    out["lfs_bytes_received"] = int(c.get("upload", {}).get("bytes_received", 0))
    out["commits"] = int(c.get("commits", 0))
    return out


def repo_parquet(endpoint: str, repo: str) -> tuple[int, int]:
    """(files, bytes) of the Parquet files in the repo now: what this write left, old files replaced."""
    from huggingface_hub import HfApi

    entries = HfApi(endpoint=endpoint, token=TOKEN).list_repo_tree(repo, repo_type="dataset", recursive=True)
    sizes = [e.size for e in entries if e.path.endswith(".parquet") and getattr(e, "size", None) is not None]
    return len(sizes), sum(sizes)


def run_writer(writer: str, cases: list[str], data: Path, tmp: Path, xet: bool, args: argparse.Namespace,
               ) -> dict[str, dict[str, Any]]:
    """All cases of one writer, in order, against one hub of its own; per case the counters' deltas."""
    from huggingface_hub import HfApi

    results: dict[str, dict[str, Any]] = {}
    with started_hub(tmp / "hubs" / writer, xet, args.keep) as hub:
        repo = f"bench/{writer}"
        HfApi(endpoint=hub.endpoint, token=TOKEN).create_repo(repo, repo_type="dataset", exist_ok=True)
        for case in cases:
            home = tmp / "homes" / f"{writer}-{case}"
            work = tmp / "work" / f"{writer}-{case}"
            work.mkdir(parents=True)
            before = snapshot(hub)
            ctx = {"writer": writer, "data": str(data / case), "endpoint": hub.endpoint, "repo": repo,
                   "tmp": str(work), "timed": "all"}
            res = run_child(["--child", json.dumps(ctx)], child_env(home, hub.endpoint, xet, writer),
                            tmp / "logs" / f"{writer}-{case}.log", args.timeout)
            after = snapshot(hub)
            delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
            if "seconds" in res:
                files, nbytes = repo_parquet(hub.endpoint, repo)
                new = delta.get("xorb_bytes_new") if xet else delta["lfs_bytes_received"]
                res.update(files=files, file_bytes=nbytes, new_bytes=new, counters=delta,
                           new_pct=100 * new / nbytes if new is not None and nbytes else None)
            results[case] = res
            shown = {k: res[k] for k in ("seconds", "files", "file_bytes", "new_bytes", "error") if k in res}
            print(f"  {writer} {case}: {shown} (load {os.getloadavg()[0]:.1f})", flush=True)
            if not args.keep:
                shutil.rmtree(home, ignore_errors=True)
                shutil.rmtree(work, ignore_errors=True)
            if "error" in res and case == "base":
                break  # the follow-ups would measure against nothing
    return results


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used so far, from /proc (0.0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_throughput(data: Path, tmp: Path, args: argparse.Namespace) -> tuple[dict[str, list[float]],
                                                                              dict[str, list[tuple[float, float]]]]:
    """hfconnect-daft writing the base data to a fresh Xet hub and a fresh LFS-only hub, alternating: each write
    meets an empty store (a repeat would dedupe against the previous round). Seconds per round, and the CPU
    seconds the writer process and the hub used: on a small machine the stand-in hub shares the writer's cores,
    which the Hub's servers do not."""
    times: dict[str, list[float]] = {"xet": [], "lfs": []}
    cpu: dict[str, list[tuple[float, float]]] = {"xet": [], "lfs": []}
    for r in range(args.rounds):
        for storage in round_order(["xet", "lfs"], r, args.seed):
            xet = storage == "xet"
            name = f"throughput-{storage}-{r}"
            with started_hub(tmp / "hubs" / name, xet, args.keep, args.hub_checks_sha256) as hub:
                ctx = {"writer": DEFAULTS_WRITER, "data": str(data / "base"), "endpoint": hub.endpoint,
                       "repo": "bench/throughput", "tmp": str(tmp), "timed": "write"}
                hub_before, before = process_cpu(hub.proc.pid), os.times()
                res = run_child(["--child", json.dumps(ctx)],
                                child_env(tmp / "homes" / name, hub.endpoint, xet, DEFAULTS_WRITER),
                                tmp / "logs" / f"{name}.log", args.timeout)
                hub_cpu, after = process_cpu(hub.proc.pid) - hub_before, os.times()
                counters = snapshot(hub)
            writer_cpu = (after.children_user - before.children_user) + (after.children_system
                                                                         - before.children_system)
            if "seconds" in res:
                times[storage].append(res["seconds"])
                cpu[storage].append((writer_cpu, hub_cpu))
            print(f"  throughput round {r + 1} {storage}: {res} (CPU s: writer {writer_cpu:.1f}, hub {hub_cpu:.1f}; "
                  f"xorb bytes {counters.get('xorb_bytes_received')}, LFS bytes {counters['lfs_bytes_received']}; "
                  f"load {os.getloadavg()[0]:.1f})", flush=True)
            if not args.keep:
                shutil.rmtree(tmp / "homes" / name, ignore_errors=True)
    return times, cpu


def counter_checks(results: dict[str, dict[str, dict[str, Any]]], xet: bool) -> list[str]:
    """What in the hub's counters does not add up (printed, so a wrong figure is not taken at face value)."""
    notes = []
    for writer, cases in results.items():
        for case, res in cases.items():
            c = res.get("counters")
            if not c:
                continue
            where = f"{writer} {case}"
            if not xet:
                continue
            if not any(k in c for k in XET_KEYS):
                notes.append(f"{where}: the hub's counters have no 'xet' figures")
                continue
            if c.get("lfs_bytes_received", 0) > 0.01 * res["file_bytes"]:  # preupload calls count there too
                notes.append(f"{where}: {c['lfs_bytes_received']:,} bytes came through LFS, not Xet")
            if c.get("xorb_bytes_new", 0) > c.get("xorb_bytes_received", 0):
                notes.append(f"{where}: xorb_bytes_new {c['xorb_bytes_new']:,} > xorb_bytes_received "
                             f"{c['xorb_bytes_received']:,}")
            committed = c.get("file_bytes_committed")
            if committed is not None and committed != res["file_bytes"]:
                notes.append(f"{where}: file_bytes_committed {committed:,} != the repo's Parquet bytes "
                             f"{res['file_bytes']:,}")
            if case == "base" and res["file_bytes"] and c.get("xorb_bytes_new", 0) < 0.5 * res["file_bytes"]:
                notes.append(f"{where}: a first write into an empty CAS stored only {c.get('xorb_bytes_new', 0):,} "
                             f"new bytes for {res['file_bytes']:,} file bytes")
    return notes


def fmt_mb(n: float | None) -> str:
    return "n/a" if n is None else f"{n / MB:,.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1GB", help="data size in memory of the base case (rows of ~300 bytes)")
    parser.add_argument("--files", type=int, default=8, help="input files (= Spark partitions)")
    parser.add_argument("--rounds", type=int, default=3, help="Xet vs LFS throughput rounds (0: skip)")
    parser.add_argument("--writers", default=",".join(WRITERS), help=f"subset of {','.join(WRITERS)}")
    parser.add_argument("--cases", default=",".join(CASES),
                        help=f"subset of {','.join(CASES)} (base is always written first)")
    parser.add_argument("--hub-checks-sha256", action="store_true",
                        help="the throughput rounds' Xet hub checks each file's sha256 claim against its bytes "
                             "(the tests' guard, which the protocol does not require; default: off, so the "
                             "stand-in hub spends on the writer's cores only what a CAS must: xorb hashes)")
    parser.add_argument("--seed", type=int, default=20240601, help="the order of the throughput rounds")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds before a writer process is killed")
    parser.add_argument("--lfs-only", action="store_true",
                        help="the cases over an LFS-only hub, clients with HF_HUB_DISABLE_XET=1 (checks the writers; "
                             "'new' is then the LFS bytes uploaded: whole files the hub lacked)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (data, hubs, logs, Xet caches)")
    parser.add_argument("--workdir", default=None, help="where the temp dir goes (default: the system temp dir)")
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the results and goals as JSON")
    args = parser.parse_args()
    writers = [w.strip() for w in args.writers.split(",") if w.strip()]
    asked = {c.strip() for c in args.cases.split(",") if c.strip()}
    cases = ["base", *[c for c in FOLLOW_UPS if c in asked]]
    unknown = (set(writers) - set(WRITERS)) | (asked - set(CASES))
    if unknown:
        parser.error(f"unknown writer(s) or case(s): {sorted(unknown)}")
    xet = not args.lfs_only
    if xet and not hub_xet_support():
        parser.error("this local hub speaks no Xet yet (HubMode has no `xet`): run with --lfs-only")
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="hfconnect-bench-xet-", dir=args.workdir))
    for sub in ("logs", "homes", "work", "hubs"):
        (tmp / sub).mkdir()
    try:
        data = tmp / "data"
        made = run_child(["--make-data", str(data), str(parse_size(args.size)), str(args.files), ",".join(cases)],
                         dict(os.environ), tmp / "logs" / "make-data.log", args.timeout)
        if "error" in made:
            print(f"data generation failed: {made['error']}", file=sys.stderr)
            return 1
        print(f"data in {time.perf_counter() - started:.0f} s: " + ", ".join(
            f"{c} {m['rows']:,} rows / {fmt_mb(m['input_bytes'])} MB" for c, m in made.items())
              + f"; storage {'Xet' if xet else 'LFS only'}; tmp {tmp}", flush=True)
        errors: dict[str, str] = {}
        if "spark-psh" in writers and (why := ensure_psh()):
            errors["spark-psh"] = why
        phases = {"data": time.perf_counter() - started}
        results: dict[str, dict[str, dict[str, Any]]] = {}
        for writer in writers:
            if writer not in errors:
                t0 = time.perf_counter()
                results[writer] = run_writer(writer, cases, data, tmp, xet, args)
                phases[writer] = time.perf_counter() - t0
        t0 = time.perf_counter()
        times, cpu = run_throughput(data, tmp, args) if xet and args.rounds > 0 else ({"xet": [], "lfs": []}, {})
        phases["throughput"] = time.perf_counter() - t0
        report(args, made, writers, cases, results, errors, times, cpu, xet, phases)
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def report(args: argparse.Namespace, made: dict[str, Any], writers: list[str], cases: list[str],
           results: dict[str, dict[str, dict[str, Any]]], errors: dict[str, str], times: dict[str, list[float]],
           cpu: dict[str, list[tuple[float, float]]], xet: bool, phases: dict[str, float]) -> None:
    """The table, the goals and (--json) the same figures as JSON."""
    new_label = "new MB (CAS)" if xet else "new MB (LFS)"
    print("\n" + "=" * 121)
    print(f"Xet dedup benchmark: base {made['base']['rows']:,} rows, {fmt_mb(made['base']['input_bytes'])} MB Parquet "
          f"input in {args.files} files; each write in a fresh process, empty HF_XET_CACHE; one hub per writer; "
          f"{'Xet' if xet else 'LFS only'}")
    print(f"{'writer':<16} {'case':<11} {'files':>5} {'file MB':>9} {'sent MB':>8} {new_label:>13} {'new %':>7} "
          f"{'pyarrow/this':>12} {'dedup hit/query':>15} {'seconds':>8}")

    def new_of(writer: str, case: str) -> int | None:
        return results.get(writer, {}).get(case, {}).get("new_bytes")

    def vs_pyarrow(writer: str, case: str) -> float | None:
        ours, theirs = new_of(writer, case), new_of("pyarrow", case)
        if case == "base" or writer == "pyarrow" or ours is None or theirs is None:
            return None
        return theirs / ours if ours else float("inf")

    def queries(c: dict[str, int]) -> str:
        """The client's global dedup queries that the CAS answered with a shard / all it asked."""
        hits = c.get("dedup_hits", 0)
        return f"{hits}/{hits + c.get('dedup_misses', 0)}" if xet else ""

    records: list[dict[str, Any]] = []
    for writer in writers:
        for case in cases:
            res = results.get(writer, {}).get(case)
            if res is None:
                res = {"error": errors.get(writer, "not run")}
            ratio = vs_pyarrow(writer, case)
            if "error" in res:
                print(f"{writer:<16} {case:<11} ERROR {res['error'][:150]}")
            else:
                pct = res.get("new_pct")
                sent = res["counters"].get("xorb_bytes_received") if xet else res["counters"]["lfs_bytes_received"]
                print(f"{writer:<16} {case:<11} {res['files']:>5} {fmt_mb(res['file_bytes']):>9} {fmt_mb(sent):>8} "
                      f"{fmt_mb(res['new_bytes']):>13} {'n/a' if pct is None else f'{pct:.2f}':>7} "
                      f"{'' if ratio is None else f'{ratio:.1f}x':>12} "
                      f"{queries(res['counters']):>15} {res['seconds']:>8.1f}")
            records.append({
                "name": f"{writer}/{case}", "label": f"{writer}, {case}", "section": f"dedup-{case}",
                "kind": "hfconnect" if writer in HFCONNECT else "peer", "writer": writer, "case": case, "runs": 1,
                "seconds": _bench_json.seconds_stats([res["seconds"]]) if "seconds" in res else None,
                "mb_per_s": None, "files": res.get("files"), "file_bytes": res.get("file_bytes"),
                "new_bytes": res.get("new_bytes"), "new_pct": res.get("new_pct"), "pyarrow_ratio": ratio,
                "counters": res.get("counters"), "errors": [res["error"]] if "error" in res else [],
                "unavailable": res.get("error")})
    print("-" * 121)
    mb = made["base"]["input_bytes"] / MB
    med = {s: statistics.median(t) for s, t in times.items() if t}
    for storage in ("xet", "lfs") if xet else ():
        t = times[storage]
        speed = f"{mb / med[storage]:.0f} MB/s" if storage in med else "n/a"
        print(f"  throughput, {DEFAULTS_WRITER} write of the base data through {storage.upper():<3} "
              f"({len(t)} rounds, fresh hub each): s {', '.join(f'{x:.1f}' for x in t) or 'n/a'}; median {speed}")
        if cpu.get(storage):
            print(f"    CPU s, median: writer {statistics.median(w for w, _ in cpu[storage]):.1f}, hub "
                  f"{statistics.median(h for _, h in cpu[storage]):.1f}"
                  + (" (sha256 claims checked)" if storage == "xet" and args.hub_checks_sha256 else ""))
        stats = _bench_json.seconds_stats(t)
        records.append({"name": f"{DEFAULTS_WRITER}-{storage}", "label": f"{DEFAULTS_WRITER} through {storage}",
                        "section": "throughput", "kind": "hfconnect", "runs": len(t), "seconds": stats,
                        "mb_per_s": mb / stats["median"] if stats and stats["median"] else None, "errors": [],
                        "unavailable": None if t else "not run"})
    xet_vs_lfs = med["lfs"] / med["xet"] if "xet" in med and "lfs" in med else None

    goals: list[dict[str, Any]] = []

    def goal(gid: str, label: str, value: float | None, unit: str, threshold: float, direction: str,
             metric: str, variant: str, baseline: str | None = None) -> None:
        g = _bench_json.goal(gid, label, value, unit, threshold, direction, section=metric.split(":")[0],
                             metric=metric.split(":")[-1], variant=variant, baseline=baseline)
        goals.append(g)
        shown = "n/a" if value is None else f"{value:.2f}{unit}"
        print(f"  goal: {label:<84} {shown:>9}  {g['verdict']}")

    for writer in [w for w in HFCONNECT if w in writers]:
        tag = "" if writer == DEFAULTS_WRITER else f"-{writer.split('-')[1]}"
        for case, limit in (("append", GOAL_APPEND_PCT), ("insert", GOAL_INSERT_PCT)):
            if case not in cases:
                continue
            res = results.get(writer, {}).get(case, {})
            goal(f"xet-{case}-new{tag}", f"{writer}: new bytes after the {case} <= {limit:g}% of the write",
                 res.get("new_pct") if xet else None, "%", limit, "<=", "dedup:new_pct", f"{writer}/{case}")
            goal(f"xet-{case}-vs-pyarrow{tag}", f"{writer}: pyarrow defaults' new bytes / ours after the {case} "
                 f">= {GOAL_VS_PYARROW:g}x", vs_pyarrow(writer, case) if xet else None, "x", GOAL_VS_PYARROW, ">=",
                 "dedup:pyarrow_ratio", f"{writer}/{case}", f"pyarrow/{case}")
    goal("xet-vs-lfs", f"{DEFAULTS_WRITER}: write throughput through Xet >= {GOAL_XET_VS_LFS:g}x through LFS",
         xet_vs_lfs, "x", GOAL_XET_VS_LFS, ">=", "throughput:throughput", f"{DEFAULTS_WRITER}-xet",
         f"{DEFAULTS_WRITER}-lfs")
    notes = counter_checks(results, xet)
    for note in notes:
        print(f"  check: {note}")
    elapsed = sum(phases.values())
    print(f"  time: {elapsed:.0f} s in all (" + ", ".join(f"{k} {v:.0f} s" for k, v in phases.items()) + ")")
    print("=" * 121)
    if args.json:
        params = {"size": parse_size(args.size), "data_bytes": made["base"]["input_bytes"],
                  "rows": made["base"]["rows"], "files": args.files, "rounds": args.rounds, "writers": writers,
                  "cases": cases, "storage": "xet" if xet else "lfs"}
        info = {"data": made, "xet_vs_lfs": xet_vs_lfs, "throughput_seconds": times, "counter_checks": notes,
                "throughput_cpu_seconds": cpu, "hub_checks_sha256": args.hub_checks_sha256,
                "total_seconds": elapsed, "phase_seconds": phases, "defaults_writer": DEFAULTS_WRITER}
        _bench_json.write(args.json, _bench_json.document("xet", params, records, goals, info))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(writer_main(json.loads(sys.argv[2]))))
    elif len(sys.argv) > 2 and sys.argv[1] == "--make-data":
        print(json.dumps(make_cases(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5].split(","))))
    else:
        sys.exit(main())
