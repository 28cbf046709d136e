"""Image datasets through hfconnect (issue 21): the same images as a WebDataset repo (`.tar` shards) and as a
Parquet repo with an Image feature, read by Spark and Daft through hfconnect, against `datasets` streaming and
Daft's own `read_webdataset`; throughput and Hub requests per GB, on the local hub and in its real-Hub mode.

Why: most large Hub datasets are images, and they come as WebDataset tars or as Parquet with an Image column.
hfconnect must read both at the engines' speed, and cut a tar into tasks by member offsets, with a number of Hub
requests that stays small per GB (every resolver request counts against the Hub's rate limits).

The data: --size of JPEG images (noise over a gradient, ~100 KB each, generated once, deterministically), a label
(`cls`) and a caption (`txt`) per image; as tars (data/train-NNNNN.tar, --tars of them, members `<key>.jpg`,
`<key>.cls`, `<key>.txt`) in the repo bench/wds, and as Parquet (the same rows: struct `jpg` {bytes, path} with the
Image feature in the `huggingface` schema metadata, `cls`, `txt`, `__key__`; row groups of 100 rows, as the Hub
advises for media) in bench/parquet. Both uploaded through Xet, to a hub in the default mode and one in real-Hub
mode (`HubMode.real_hub()`: redirects to signed URLs, rate limits).

Measured, each in a fresh process (this script with `--child`) with its own empty HF_HOME, the engine started
before the clock (Spark session and warm-up; Daft, datasets imports) and the read alone timed, every column read:
  spark-{wds,parquet}          spark.read.format("huggingface").load(repo), written to Spark's noop sink (local[2])
  daft-{wds,parquet}           hfconnect.daft.read_huggingface(repo).to_arrow()
  datasets-{wds,parquet}       datasets.load_dataset(repo, streaming=True), images not decoded, every row iterated
  daft-read-webdataset-wds     daft.read_webdataset(a tar's resolve URL).to_arrow() per tar, one after another
                               (Daft 0.7 deadlocks on several HTTP tars in one call); its media columns are
                               lazy File references, so it fetches no image bytes: not a like-for-like figure
Printed: seconds per round, median MB/s (the repo's data bytes / median seconds), Hub requests per GB read (all
route classes, and resolver requests alone), per hub mode; checks that each read returned every row.

    python scripts/bench_media.py [--size 1GB] [--tars 8] [--rounds 2] [--modes local,real] [--only REGEX]
                                  [--json PATH]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import _bench_json
import bench_xet
from _bench_common import parse_size, start_hub
from _bench_order import round_order

TOKEN = bench_xet.TOKEN
MB = 1_000_000
GB = 1_000_000_000
REPOS = {"wds": "bench/wds", "parquet": "bench/parquet"}
VARIANTS = ("spark-wds", "spark-parquet", "daft-wds", "daft-parquet", "datasets-wds", "datasets-parquet",
            "daft-read-webdataset-wds")
LABELS = {"spark": "Spark format(\"huggingface\") (hfconnect)", "daft": "Daft read_huggingface (hfconnect)",
          "datasets": "datasets streaming (peer)", "daft-read-webdataset": "Daft read_webdataset (peer)"}
MODES = ("local", "real")
IMAGE_SIDE = 256
ROW_GROUP_ROWS = 100
FEATURES = {"__key__": {"dtype": "string", "_type": "Value"}, "jpg": {"_type": "Image"},
            "cls": {"dtype": "int64", "_type": "Value"}, "txt": {"dtype": "string", "_type": "Value"}}


# ---- data -----------------------------------------------------------------------------------------------------
def _jpeg(rng: Any, i: int) -> bytes:
    import numpy as np
    from PIL import Image

    base = np.linspace(0, 255, IMAGE_SIDE, dtype=np.float32)
    img = (base[None, :, None] * (i % 7 + 1) / 7 + rng.normal(0, 40, (IMAGE_SIDE, IMAGE_SIDE, 3))).clip(0, 255)
    out = io.BytesIO()
    Image.fromarray(img.astype("uint8"), "RGB").save(out, format="JPEG", quality=90)
    return out.getvalue()


def make_data(out: Path, size: int, tars: int, seed: int = 21) -> dict[str, Any]:
    """The images as `tars` tar shards under out/wds/data and as Parquet under out/parquet/data (one file per
    tar, the same rows in the same order); the number of rows and the bytes of each layout."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    (out / "wds" / "data").mkdir(parents=True)
    (out / "parquet" / "data").mkdir(parents=True)
    rows, made, shard = 0, 0, 0
    per_tar = size / tars
    meta = {b"huggingface": json.dumps({"info": {"features": FEATURES}}).encode()}
    schema = pa.schema([("__key__", pa.string()), ("jpg", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
                        ("cls", pa.int64()), ("txt", pa.string())], metadata=meta)
    while shard < tars:
        keys, images, labels, captions = [], [], [], []
        name = f"train-{shard:05d}-of-{tars:05d}"
        with tarfile.open(out / "wds" / "data" / f"{name}.tar", "w", format=tarfile.GNU_FORMAT) as tar:
            written = 0
            while written < per_tar:
                key, jpg = f"s{rows:08d}", _jpeg(rng, rows)
                label, caption = rows % 10, f"image {rows} of class {rows % 10}"
                for ext, data in (("jpg", jpg), ("cls", str(label).encode()), ("txt", caption.encode())):
                    info = tarfile.TarInfo(f"{key}.{ext}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
                keys.append(key)
                images.append({"bytes": jpg, "path": f"{key}.jpg"})
                labels.append(label)
                captions.append(caption)
                written += len(jpg) + 1536
                rows += 1
        table = pa.table({"__key__": keys, "jpg": images, "cls": labels, "txt": captions}, schema=schema)
        pq.write_table(table, out / "parquet" / "data" / f"{name}.parquet", row_group_size=ROW_GROUP_ROWS,
                       compression="none")  # JPEG bytes do not compress
        made += 1
        shard += 1
    sizes = {layout: sum(p.stat().st_size for p in (out / layout / "data").iterdir()) for layout in REPOS}
    return {"rows": rows, "bytes": sizes}


# ---- child process: one read, timed ---------------------------------------------------------------------------
def _spark() -> Any:
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").config("spark.driver.memory", "4g")
             .config("spark.ui.enabled", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.range(1).count()  # engine start, not the read
    return spark


def _tar_urls(endpoint: str, repo: str) -> list[str]:
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint, token=TOKEN)
    sha = api.dataset_info(repo).sha
    files = sorted(api.list_repo_files(repo, repo_type="dataset"))
    return [f"{endpoint}/datasets/{repo}/resolve/{sha}/{f}" for f in files if f.endswith(".tar")]


def read_main(ctx: dict[str, Any]) -> dict[str, Any]:
    """One read of every column of ctx["repo"] by ctx["reader"]; its seconds and row count."""
    reader, repo, endpoint = ctx["reader"], ctx["repo"], ctx["endpoint"]
    if reader == "spark":
        from hfconnect.spark import HuggingFaceDataSource

        spark = _spark()
        spark.dataSource.register(HuggingFaceDataSource)
        t0 = time.perf_counter()
        df = spark.read.format("huggingface").option("endpoint", endpoint).option("token", TOKEN).load(repo)
        df.write.format("noop").mode("overwrite").save()
        seconds = time.perf_counter() - t0
        rows = df.count()  # after the clock: the noop sink reports no count
        spark.stop()
        return {"seconds": seconds, "rows": rows}
    if reader == "daft":
        import daft  # noqa: F401

        from hfconnect.daft import read_huggingface

        t0 = time.perf_counter()
        table = read_huggingface(repo, endpoint=endpoint, token=TOKEN).to_arrow()
        return {"seconds": time.perf_counter() - t0, "rows": table.num_rows}
    if reader == "daft-read-webdataset":
        import daft
        from daft.io import HTTPConfig, IOConfig

        io_config = IOConfig(http=HTTPConfig(bearer_token=TOKEN))
        t0 = time.perf_counter()
        # One call per shard, one after another: Daft 0.7's read_webdataset deadlocks on several HTTP shards at
        # once (File.exists in its async threads). Its media columns are lazy File references: no image bytes.
        rows = sum(daft.read_webdataset(url, io_config=io_config).to_arrow().num_rows
                   for url in _tar_urls(endpoint, repo))
        return {"seconds": time.perf_counter() - t0, "rows": rows}
    if reader == "datasets":
        import datasets

        t0 = time.perf_counter()
        ds = datasets.load_dataset(repo, split="train", streaming=True, token=TOKEN)
        ds = ds.cast_column("jpg", datasets.Image(decode=False))
        rows = sum(1 for _ in ds)
        return {"seconds": time.perf_counter() - t0, "rows": rows}
    raise ValueError(f"unknown reader {reader!r}")


def upload_main(ctx: dict[str, Any]) -> dict[str, Any]:
    """Both layouts into their repos, one commit each, through Xet (files uploaded from paths)."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=ctx["endpoint"], token=TOKEN)
    for layout, repo in REPOS.items():
        api.create_repo(repo, repo_type="dataset", exist_ok=True)
        api.upload_folder(folder_path=str(Path(ctx["data"]) / layout), repo_id=repo, repo_type="dataset",
                          commit_message=f"bench_media.py {layout} data")
    return {"ok": True}


# ---- driver ---------------------------------------------------------------------------------------------------
def split_variant(name: str) -> tuple[str, str]:
    """`daft-read-webdataset-wds` -> ("daft-read-webdataset", "wds")."""
    reader, _, layout = name.rpartition("-")
    return reader, layout


def requests_of(counters: dict[str, Any]) -> dict[str, int]:
    """All requests the read made (every route class) and the resolver's alone."""
    total = sum(int(row.get("requests", 0)) for row in counters.values()
                if isinstance(row, dict) and "requests" in row)
    return {"all": total, "resolve": int(counters.get("resolve", {}).get("requests", 0))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1GB", help="bytes of JPEG images")
    parser.add_argument("--tars", type=int, default=8, help="tar shards (and Parquet files) the images are in")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--modes", default="local,real", help="hub modes: local (default mode), real (real-Hub mode)")
    parser.add_argument("--seed", type=int, default=20240601, help="the order of the variants in each round")
    parser.add_argument("--only", default=None, help="regex: run only the variants whose name matches")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (data, hubs, logs)")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the figures and goals as JSON")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if set(modes) - set(MODES):
        parser.error(f"--modes: use {', '.join(MODES)}")
    variants = [v for v in VARIANTS if not args.only or re.search(args.only, v)]
    if not variants:
        parser.error(f"--only {args.only!r} matches none of {', '.join(VARIANTS)}")
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="hfconnect-bench-media-", dir=args.workdir))
    for sub in ("logs", "homes", "hubs"):
        (tmp / sub).mkdir()
    hubs: dict[str, Any] = {}
    try:
        made = make_data(tmp / "data", parse_size(args.size), args.tars)
        print(f"data: {made['rows']:,} images; tars {made['bytes']['wds'] / MB:,.1f} MB, Parquet "
              f"{made['bytes']['parquet'] / MB:,.1f} MB ({time.perf_counter() - started:.0f} s); tmp {tmp}", flush=True)
        for mode in modes:
            hubs[mode] = start_hub(tmp / "hubs" / mode, TOKEN, real_hub=mode == "real")
            env = bench_xet.child_env(tmp / "homes" / f"upload-{mode}", hubs[mode].endpoint, True, "")
            ctx = {"op": "upload", "data": str(tmp / "data"), "endpoint": hubs[mode].endpoint}
            up = bench_xet.run_child(["--child", json.dumps(ctx)], env, tmp / "logs" / f"upload-{mode}.log",
                                     args.timeout, script=__file__)
            if "error" in up:
                print(f"upload to the {mode} hub failed: {up['error']}", file=sys.stderr)
                return 1
        results: dict[tuple[str, str], list[dict[str, Any]]] = {(m, v): [] for m in modes for v in variants}
        for r in range(args.rounds):
            for mode in modes:
                for v in round_order(variants, r, args.seed):
                    hub = hubs[mode]
                    hub.reset_counters()
                    if mode == "real":
                        hub.reset_limits()
                    reader, layout = split_variant(v)
                    run = f"{mode}-{v}-{r}"
                    ctx = {"op": "read", "reader": reader, "repo": REPOS[layout], "endpoint": hub.endpoint}
                    res = bench_xet.run_child(["--child", json.dumps(ctx)],
                                              bench_xet.child_env(tmp / "homes" / run, hub.endpoint, True, ""),
                                              tmp / "logs" / f"{run}.log", args.timeout, script=__file__)
                    res["requests"] = requests_of(hub.counters())
                    results[(mode, v)].append(res)
                    shutil.rmtree(tmp / "homes" / run, ignore_errors=True)
                    shown = {k: res[k] for k in ("seconds", "rows", "requests", "error") if k in res}
                    print(f"  round {r + 1} {mode} {v}: {shown} (load {os.getloadavg()[0]:.1f})", flush=True)
        report(args, modes, variants, results, made, time.perf_counter() - started)
    finally:
        for hub in hubs.values():
            hub.stop()
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def report(args: argparse.Namespace, modes: list[str], variants: list[str],
           results: dict[tuple[str, str], list[dict[str, Any]]], made: dict[str, Any], elapsed: float) -> None:
    width = 120
    print("\n" + "=" * width)
    print(f"media benchmark: {made['rows']:,} JPEG images, tars {made['bytes']['wds'] / MB:,.0f} MB, Parquet "
          f"{made['bytes']['parquet'] / MB:,.0f} MB; {args.rounds} round(s); every read in a fresh process")
    print(f"{'mode':<6} {'variant':<26} {'seconds per round':<24} {'MB/s':>8} {'req/GB':>8} {'resolve/GB':>11}  "
          f"{'vs datasets':>11}")
    records: list[dict[str, Any]] = []
    checks: list[str] = []
    speeds: dict[tuple[str, str], float | None] = {}
    for mode in modes:
        for v in variants:
            runs = results[(mode, v)]
            t = [res["seconds"] for res in runs if "seconds" in res]
            _, layout = split_variant(v)
            nbytes = made["bytes"][layout]
            speeds[(mode, v)] = nbytes / statistics.median(t) / MB if t else None
    for mode in modes:
        for v in variants:
            runs = results[(mode, v)]
            reader, layout = split_variant(v)
            t = [res["seconds"] for res in runs if "seconds" in res]
            nbytes = made["bytes"][layout]
            good = [res for res in runs if "seconds" in res]
            per_gb = statistics.median(res["requests"]["all"] for res in good) * GB / nbytes if good else None
            resolve_gb = statistics.median(res["requests"]["resolve"] for res in good) * GB / nbytes if good else None
            peer = speeds.get((mode, f"datasets-{layout}"))
            vs = speeds[(mode, v)] / peer if speeds[(mode, v)] and peer else None
            errors = [res["error"] for res in runs if "error" in res]
            for i, res in enumerate(runs):
                if "rows" in res and res["rows"] != made["rows"]:
                    checks.append(f"{mode} {v} run {i + 1}: {res['rows']:,} rows, the data has {made['rows']:,}")
            shown_t = ", ".join(f"{s:.2f}" for s in t) or "n/a"
            speed = speeds[(mode, v)]
            print(f"{mode:<6} {v:<26} {shown_t:<24} {(f'{speed:.1f}' if speed else 'n/a'):>8} "
                  f"{(f'{per_gb:.0f}' if per_gb is not None else 'n/a'):>8} "
                  f"{(f'{resolve_gb:.1f}' if resolve_gb is not None else 'n/a'):>11}  "
                  f"{(f'{vs:.2f}x' if vs else ''):>11} {('ERROR ' + errors[0][:80]) if errors else ''}")
            records.append({"name": f"{mode}-{v}", "label": f"{LABELS[reader]}, {layout}, {mode} hub",
                            "kind": "hfconnect" if reader in ("spark", "daft") else "peer", "section": mode,
                            "runs": len(t), "seconds": _bench_json.seconds_stats(t), "mb_per_s": speed,
                            "requests_per_gb": per_gb, "resolve_per_gb": resolve_gb, "errors": errors,
                            "unavailable": None if t else (errors[0] if errors else "no run")})
    print("-" * width)
    for note in checks:
        print(f"  check: {note}")
    print(f"  time: {elapsed:.0f} s in all")
    print("=" * width)
    if args.json:
        params = {"size": parse_size(args.size), "tars": args.tars, "rounds": args.rounds, "modes": modes,
                  "rows": made["rows"], "bytes": made["bytes"]}
        _bench_json.write(args.json, _bench_json.document("media", params, records, [], {"checks": checks}))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        ctx = json.loads(sys.argv[2])
        print(json.dumps(upload_main(ctx) if ctx["op"] == "upload" else read_main(ctx)))
    else:
        sys.exit(main())
