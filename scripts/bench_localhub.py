"""Benchmark `hfconnect.localhub` reads against reading the same file from local disk.

Why this exists: the connector's read benchmarks (Spark / Daft pulling a dataset through the Hub API) run
against the local hub. If the server is slower than the disk it serves from, those benchmarks measure the
server and not the connector. So the server must never be what limits a read benchmark: this script checks
that one full GET and 8 parallel ranged readers get a good share of hot-page-cache disk throughput, and that
the metadata API (`/api/datasets/{repo}/revision/main`) sustains enough requests/s.

Everything is measured hot: the file is read once before timing, so disk and server both read from the page
cache (nothing is dropped from it). Throughput variants run `--rounds` times, interleaved. Reference rows send
the same file over loopback TCP from a bare sendfile loop in a child process (no HTTP, no event loop): roughly
what the transport and a Python client allow on this machine, which tells a slow server from a slow transport.

    .venv/bin/python scripts/bench_localhub.py [--size 1GB] [--rounds 3] [--api-seconds 5] [--json PATH]

`--json PATH` also writes every figure and goal printed to PATH (scripts/_bench_json.py), which
scripts/bench_report.py turns into charts and bench/REPORT.md.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.util
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _bench_json
import aiohttp
import requests
from _bench_common import parse_size

from hfconnect.localhub import LocalHub

MiB = 1 << 20
MB = 1_000_000  # throughput is reported in MB/s (10^6 bytes per second)
READERS = 8
SEQ_CHUNK = 1 * MiB
PREAD_CHUNK = 8 * MiB
HTTP_CHUNK = 8 * MiB
RANGE_SIZE = 64 * MiB
API_CONCURRENCY = 8
REPO_ID = "bench/big"
FILENAME = "big.bin"
TOKEN = "hf_w"
GOAL_RATIO = 0.5
GOAL_MBPS = 500.0
GOAL_RPS = 500.0


def human(n: int) -> str:
    """Bytes in the units --size takes (1GB = 10**9 bytes)."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 1000)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} B"


def slices(size: int, parts: int) -> list[tuple[int, int]]:
    """`parts` contiguous [start, end) slices covering [0, size)."""
    bounds = [size * i // parts for i in range(parts + 1)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


# ---- CPU accounting: who is busy while a variant runs --------------------------------------------------------
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_cpu_seconds(pid: int) -> float | None:
    """user+system CPU seconds of `pid` (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


@dataclass
class Sample:
    seconds: float
    nbytes: int
    server_cpu: float | None  # share of one core, 1.0 = 100 %
    client_cpu: float

    @property
    def mbps(self) -> float:
        return self.nbytes / self.seconds / MB


def measure(fn: Callable[[], int], server_pid: int) -> Sample:
    s0, c0, t0 = proc_cpu_seconds(server_pid), time.process_time(), time.perf_counter()
    nbytes = fn()
    t1, c1, s1 = time.perf_counter(), time.process_time(), proc_cpu_seconds(server_pid)
    wall = t1 - t0
    server = (s1 - s0) / wall if s0 is not None and s1 is not None else None
    return Sample(wall, nbytes, server, (c1 - c0) / wall)


# ---- setup ---------------------------------------------------------------------------------------------------
def generate(path: Path, size: int) -> str:
    """Write `size` random bytes to `path`; return their sha256."""
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(PREAD_CHUNK, left))
            digest.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def upload(endpoint: str, path: Path) -> None:
    # huggingface_hub reads these at import time, so it is imported only here, after they are set.
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(endpoint=endpoint, token=TOKEN)
    api.create_repo(REPO_ID, repo_type="dataset")
    api.create_commit(REPO_ID, repo_type="dataset", commit_message="benchmark file",
                      operations=[CommitOperationAdd(path_in_repo=FILENAME, path_or_fileobj=str(path))])


# ---- local disk baselines ------------------------------------------------------------------------------------
def disk_sequential(path: Path) -> int:
    total = 0
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(SEQ_CHUNK):
            total += len(chunk)
    return total


def disk_parallel(path: Path, size: int) -> int:
    fd = os.open(path, os.O_RDONLY)
    try:
        def read_slice(bounds: tuple[int, int]) -> int:
            pos, end, got = bounds[0], bounds[1], 0
            while pos < end:
                n = len(os.pread(fd, min(PREAD_CHUNK, end - pos), pos))
                if n == 0:
                    raise OSError(f"unexpected EOF at {pos}")
                pos += n
                got += n
            return got

        with ThreadPoolExecutor(READERS) as pool:
            return sum(pool.map(read_slice, slices(size, READERS)))
    finally:
        os.close(fd)


def sha256_range(path: Path, start: int, end: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        f.seek(start)
        left = end - start
        while left:
            chunk = f.read(min(PREAD_CHUNK, left))
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


# ---- transport reference: loopback TCP with sendfile and no HTTP ----------------------------------------------
_SENDER = """
import socket, sys, threading
server = socket.create_server(("127.0.0.1", 0), backlog=64)
print(server.getsockname()[1], flush=True)
def handle(conn):
    with conn, open(sys.argv[1], "rb") as f:
        line = b""
        while not line.endswith(b"\\n"):
            line += conn.recv(64) or b"\\n"
        start, length = map(int, line.split())
        conn.sendfile(f, start, length)
while True:
    threading.Thread(target=handle, args=(server.accept()[0],), daemon=True).start()
"""


class TcpSender:
    """A child process that answers `START LENGTH\\n` on a fresh connection with those bytes of one file (via
    sendfile, thread per connection) and closes: a server with no HTTP and no event loop, for reference."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0

    def __enter__(self) -> TcpSender:
        self.proc = subprocess.Popen([sys.executable, "-c", _SENDER, str(self.path)], stdout=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def read(self, size: int, conns: int) -> int:
        """Fetch the whole file as `conns` parallel slices; drain each with recv_into."""

        def receive(bounds: tuple[int, int]) -> int:
            buf = memoryview(bytearray(HTTP_CHUNK))
            got = 0
            with socket.create_connection(("127.0.0.1", self.port)) as sock:
                sock.sendall(f"{bounds[0]} {bounds[1] - bounds[0]}\n".encode())
                while n := sock.recv_into(buf):
                    got += n
            return got

        with ThreadPoolExecutor(conns) as pool:
            return sum(pool.map(receive, slices(size, conns)))


# ---- through the server --------------------------------------------------------------------------------------
def server_full(url: str, size: int, digest: hashlib._Hash | None = None) -> int:
    """One GET of the whole file, body streamed in HTTP_CHUNK reads; optionally hashed."""
    total = 0
    with requests.Session() as session, session.get(url, stream=True, timeout=60) as resp:
        if resp.status_code != 200:
            raise RuntimeError(f"full GET answered {resp.status_code}: {resp.text[:200]}")
        for chunk in resp.iter_content(HTTP_CHUNK):
            total += len(chunk)
            if digest is not None:
                digest.update(chunk)
    if total != size:
        raise RuntimeError(f"full GET returned {total} bytes, expected {size}")
    return total


def server_ranged(url: str, size: int, digests: list[hashlib._Hash] | None = None) -> int:
    """READERS threads, each with its own session, GET their 1/READERS slice in RANGE_SIZE ranges (206 each)."""

    def read_slice(index: int, bounds: tuple[int, int]) -> int:
        start, end = bounds
        got = 0
        with requests.Session() as session:
            for lo in range(start, end, RANGE_SIZE):
                hi = min(lo + RANGE_SIZE, end) - 1
                with session.get(url, headers={"Range": f"bytes={lo}-{hi}"}, stream=True, timeout=60) as resp:
                    if resp.status_code != 206:
                        raise RuntimeError(f"range {lo}-{hi} answered {resp.status_code}, expected 206")
                    expected = f"bytes {lo}-{hi}/{size}"
                    if resp.headers.get("Content-Range") != expected:
                        raise RuntimeError(f"Content-Range {resp.headers.get('Content-Range')!r} != {expected!r}")
                    n = 0
                    for chunk in resp.iter_content(HTTP_CHUNK):
                        n += len(chunk)
                        if digests is not None:
                            digests[index].update(chunk)
                    if n != hi - lo + 1:
                        raise RuntimeError(f"range {lo}-{hi} returned {n} bytes, expected {hi - lo + 1}")
                    got += n
        return got

    with ThreadPoolExecutor(READERS) as pool:
        total = sum(pool.map(read_slice, range(READERS), slices(size, READERS)))
    if total != size:
        raise RuntimeError(f"ranged readers returned {total} bytes in all, expected {size}")
    return total


def verify_full(url: str, size: int, sha256: str) -> int:
    """Untimed check: one full GET returns exactly the file's bytes (sha256 computed while streaming)."""
    digest = hashlib.sha256()
    total = server_full(url, size, digest)
    if digest.hexdigest() != sha256:
        raise RuntimeError(f"full GET sha256 {digest.hexdigest()} != local {sha256}")
    return total


def verify_ranged(url: str, path: Path, size: int) -> int:
    """Untimed check: every ranged reader's slice hashes like the same slice of the local file."""
    parts = slices(size, READERS)
    digests = [hashlib.sha256() for _ in parts]
    total = server_ranged(url, size, digests)
    for (start, end), got in zip(parts, digests, strict=True):
        want = sha256_range(path, start, end)
        if got.hexdigest() != want:
            raise RuntimeError(f"ranged slice {start}-{end} sha256 {got.hexdigest()} != local {want}")
    return total


# ---- API requests/s ------------------------------------------------------------------------------------------
@dataclass
class ApiResult:
    requests: int
    errors: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    server_cpu: float | None = None
    client_cpu: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        """Latency percentile in milliseconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))] * 1000


async def _api_async(url: str, seconds: float) -> ApiResult:
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=API_CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector, headers={"Authorization": f"Bearer {TOKEN}"}) as session:
        async def one() -> None:
            async with session.get(url) as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"API answered {resp.status}")

        await asyncio.gather(*(one() for _ in range(API_CONCURRENCY)))  # open the connections, untimed

        async def worker(deadline: float) -> None:
            nonlocal errors
            while (t0 := time.perf_counter()) < deadline:
                try:
                    await one()
                except (aiohttp.ClientError, RuntimeError):
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(worker(start + seconds) for _ in range(API_CONCURRENCY)))
        wall = time.perf_counter() - start
    return ApiResult(len(latencies), errors, wall, latencies)


def api_bench(url: str, seconds: float, server_pid: int) -> ApiResult:
    s0, c0 = proc_cpu_seconds(server_pid), time.process_time()
    result = asyncio.run(_api_async(url, seconds))
    s1, c1 = proc_cpu_seconds(server_pid), time.process_time()
    result.server_cpu = (s1 - s0) / result.seconds if s0 is not None and s1 is not None else None
    result.client_cpu = (c1 - c0) / result.seconds
    return result


# ---- report --------------------------------------------------------------------------------------------------
def pct_cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def report(args: argparse.Namespace, size: int, results: dict[str, list[Sample]], api: ApiResult,
           verify_sample: Sample, counters_ok: str) -> str:
    med = {k: statistics.median(s.mbps for s in v) for k, v in results.items()}
    uvloop = "yes" if importlib.util.find_spec("uvloop") else "no (asyncio)"
    width = 96
    lines = [
        "=" * width,
        f"hfconnect.localhub read benchmark: {human(size)} file, {args.rounds} interleaved rounds, "
        f"{os.cpu_count()} CPUs, uvloop: {uvloop}, load average at start: {args.load_before:.2f}",
        "HOT page cache: the file was read once before timing; nothing was dropped. MB = 10^6 bytes.",
        "cpu columns: median CPU use of the serving process / of this client process, 100% = one core.",
        "ref rows: a bare thread-per-connection sendfile loop in a child process (no HTTP) -> recv_into: what the "
        "transport allows.",
        "-" * width,
        f"{'variant':<44}{'min MB/s':>10}{'median':>10}{'max':>10}{'srv cpu':>10}{'cli cpu':>10}",
    ]
    for key, label in LABELS.items():
        samples = results[key]
        mbps = [s.mbps for s in samples]
        srv = [s.server_cpu for s in samples if s.server_cpu is not None]
        lines.append(f"{label:<44}{min(mbps):>10.0f}{statistics.median(mbps):>10.0f}{max(mbps):>10.0f}"
                     f"{pct_cell(statistics.median(srv) if srv else None):>10}"
                     f"{pct_cell(statistics.median(s.client_cpu for s in samples)):>10}")
    lines.append(f"{'server full GET + sha256 (verify pass, 1 run)':<44}{'':>10}{verify_sample.mbps:>10.0f}"
                 f"{'':>10}{pct_cell(verify_sample.server_cpu):>10}{pct_cell(verify_sample.client_cpu):>10}")
    lines += [
        "-" * width,
        f"{'API GET revision/main, concurrency ' + str(API_CONCURRENCY):<44}{'req/s':>10}{'p50 ms':>10}"
        f"{'p99 ms':>10}{'srv cpu':>10}{'cli cpu':>10}",
        f"{f'  {args.api_seconds:g}s, {api.requests} requests, {api.errors} errors':<44}{api.rps:>10.0f}"
        f"{api.pct(0.50):>10.2f}{api.pct(0.99):>10.2f}{pct_cell(api.server_cpu):>10}{pct_cell(api.client_cpu):>10}",
        "-" * width,
        f"ratio server/disk, full GET vs sequential read (medians):   {med['srv_full'] / med['disk_seq']:.2f}",
        f"ratio server/disk, 8 ranged readers vs 8 pread threads:     {med['srv_8'] / med['disk_8']:.2f}",
        f"ratio server/raw sendfile reference, full GET vs 1 conn:    {med['srv_full'] / med['tcp_1']:.2f}",
        f"ratio server/raw sendfile reference, 8 readers vs 8 conns:  {med['srv_8'] / med['tcp_8']:.2f}",
        f"server byte counters: {counters_ok}",
        "-" * width,
    ]
    ratio_ok = med["srv_8"] >= GOAL_RATIO * med["disk_8"]
    abs_ok = med["srv_8"] >= GOAL_MBPS
    lines += [
        f"goal: 8 readers >= {GOAL_RATIO:.0%} of disk throughput and >= {GOAL_MBPS:.0f} MB/s  "
        f"[{med['srv_8']:.0f} MB/s = {med['srv_8'] / med['disk_8']:.0%} of disk]  "
        f"{'PASS' if ratio_ok and abs_ok else 'MISS'}",
        f"goal: >= {GOAL_RPS:.0f} API requests/s  [{api.rps:.0f} req/s]  {'PASS' if api.rps >= GOAL_RPS else 'MISS'}",
        "=" * width,
    ]
    return "\n".join(lines)


def results_doc(args: argparse.Namespace, size: int, results: dict[str, list[Sample]], api: ApiResult,
                verify_sample: Sample, counters_ok: str) -> dict[str, Any]:
    """The figures report() prints, as JSON (scripts/_bench_json.py)."""
    med = {k: statistics.median(s.mbps for s in v) for k, v in results.items()}
    variants = []
    for key, label in LABELS.items():
        samples = results[key]
        srv = [s.server_cpu for s in samples if s.server_cpu is not None]
        variants.append({
            "name": key, "label": label, "kind": "hfconnect" if key.startswith("srv") else "limit",
            "section": "throughput", "runs": len(samples),
            "seconds": _bench_json.seconds_stats(s.seconds for s in samples),
            "mb_per_s": med[key], "mb_per_s_min": min(s.mbps for s in samples),
            "mb_per_s_max": max(s.mbps for s in samples), "bytes": size,
            "server_cpu": statistics.median(srv) if srv else None,
            "client_cpu": statistics.median(s.client_cpu for s in samples), "errors": [], "unavailable": None})
    threshold = max(GOAL_MBPS, GOAL_RATIO * med["disk_8"])  # both halves of the goal in one number
    goals = [
        _bench_json.goal("ranged-vs-disk", f"8 readers >= {GOAL_RATIO:.0%} of disk throughput and >= "
                         f"{GOAL_MBPS:.0f} MB/s", med["srv_8"], "MB/s", threshold, ">=", section="throughput",
                         metric="mb_per_s", variant="srv_8", baseline="disk_8"),
        _bench_json.goal("api-rps", f">= {GOAL_RPS:.0f} API requests/s", api.rps, "req/s", GOAL_RPS, ">=",
                         section="api", metric="rps", variant="api"),
    ]
    info = {
        "verify_full_get": {"mb_per_s": verify_sample.mbps, "server_cpu": verify_sample.server_cpu,
                            "client_cpu": verify_sample.client_cpu},
        "api": {"concurrency": API_CONCURRENCY, "seconds": api.seconds, "requests": api.requests,
                "errors": api.errors, "rps": api.rps, "p50_ms": api.pct(0.50), "p99_ms": api.pct(0.99),
                "server_cpu": api.server_cpu, "client_cpu": api.client_cpu},
        "ratios": {"full_vs_disk_seq": med["srv_full"] / med["disk_seq"],
                   "ranged_vs_disk_8": med["srv_8"] / med["disk_8"],
                   "full_vs_tcp_1": med["srv_full"] / med["tcp_1"], "ranged_vs_tcp_8": med["srv_8"] / med["tcp_8"]},
        "counters": counters_ok, "uvloop": importlib.util.find_spec("uvloop") is not None,
        "load_average_at_start": args.load_before,
    }
    params = {"size": size, "rounds": args.rounds, "files": 1, "api_seconds": args.api_seconds, "readers": READERS,
              "range_size": RANGE_SIZE}
    return _bench_json.document("localhub", params, variants, goals, info)


LABELS = {
    "disk_seq": "disk: sequential read, 1 MiB reads",
    "disk_8": f"disk: {READERS} threads os.pread, 8 MiB chunks",
    "srv_full": "server: 1 full GET, iter_content(8 MiB)",
    "srv_8": f"server: {READERS} ranged readers, 64 MiB ranges",
    "tcp_1": "ref: raw sendfile over TCP, 1 conn",
    "tcp_8": f"ref: raw sendfile over TCP, {READERS} conns",
}


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=lambda text: parse_size(text, minimum=READERS), default=parse_size("1GB"),
                        help="file size, e.g. 1GB, 256MB, 512MiB (1GB = 10**9 bytes; default 1GB)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per throughput variant (default 3)")
    parser.add_argument("--api-seconds", type=float, default=5.0, help="duration of the API test (default 5)")
    parser.add_argument("--json", default=None, metavar="PATH",
                        help="also write the results and goals as JSON to PATH (for scripts/bench_report.py)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.api_seconds <= 0:
        parser.error("--rounds must be >= 1 and --api-seconds > 0")
    args.load_before = os.getloadavg()[0]  # anything else running skews every figure: shown in the header

    with tempfile.TemporaryDirectory(prefix="hfconnect-bench-") as tmp:
        hub_log = Path(tmp) / "hub.log"
        try:
            table, doc = run(args, Path(tmp), hub_log)
        except BaseException:
            if hub_log.exists():
                print(f"---- last lines of the hub's log ({hub_log}) ----\n{hub_log.read_text()[-3000:]}",
                      file=sys.stderr)
            raise
    print(table)
    if args.json:
        _bench_json.write(args.json, doc)
    return 0


def probe(url: str, path: Path) -> None:
    """Fail in seconds, not at the first read timeout, if the server does not deliver a small range correctly."""
    with open(path, "rb") as f:
        want = f.read(4096)
    try:
        resp = requests.get(url, headers={"Range": f"bytes=0-{len(want) - 1}"}, timeout=(5, 10))
    except requests.RequestException as exc:
        raise RuntimeError(f"probe GET of {len(want)} bytes failed ({type(exc).__name__})") from exc
    if resp.status_code != 206 or resp.content != want:
        raise RuntimeError(f"probe GET of the first {len(want)} bytes answered {resp.status_code} with other bytes "
                           f"than the file's: {resp.content[:60]!r}")


def run(args: argparse.Namespace, tmp: Path, hub_log: Path) -> tuple[str, dict[str, Any]]:
    size: int = args.size
    src = tmp / FILENAME
    log(f"writing {human(size)} of random bytes to {src}")
    sha256 = generate(src, size)
    with LocalHub(root=tmp / "hub", tokens={TOKEN: "write"}, log_file=hub_log) as hub, ExitStack() as stack:
        assert hub.proc is not None
        pid = hub.proc.pid
        log(f"hub at {hub.endpoint} (pid {pid}); uploading")
        t0 = time.perf_counter()
        upload(hub.endpoint, src)
        log(f"uploaded in {time.perf_counter() - t0:.1f}s")
        # The disk baselines read the very file the server sends when it is an LFS object (both read the same
        # pages; the source copy is dropped to keep one copy in the page cache). A Xet upload is stored in its
        # xorbs, which the bridge reads chunk by chunk: the baselines then read the source file.
        obj = tmp / "hub" / "objects" / sha256[:2] / sha256[2:]
        if obj.exists():
            src.unlink()
        else:
            obj = src
        sender = stack.enter_context(TcpSender(obj))
        assert sender.proc is not None
        sender_pid = sender.proc.pid
        api_url = f"{hub.endpoint}/api/datasets/{REPO_ID}/revision/main"
        resolve_url = f"{hub.endpoint}/datasets/{REPO_ID}/resolve/main/{FILENAME}"
        # A Xet file: /resolve/ redirects to the bridge; readers resolve once, then read there (as hfconnect does)
        url = requests.head(resolve_url, timeout=30).headers.get("Location", resolve_url)
        requests.get(api_url, timeout=30).raise_for_status()
        probe(url, obj)

        log("warming the page cache (one untimed read)")
        disk_sequential(obj)
        log("verification pass (not part of the timed rounds): sha256 of the full GET and of every range")
        verify_sample = measure(lambda: verify_full(url, size, sha256), pid)
        verify_ranged(url, obj, size)
        log("verified: the full GET and every ranged slice match the local file byte for byte")

        variants: dict[str, Callable[[], int]] = {
            "disk_seq": lambda: disk_sequential(obj),
            "disk_8": lambda: disk_parallel(obj, size),
            "srv_full": lambda: server_full(url, size),
            "srv_8": lambda: server_ranged(url, size),
            "tcp_1": lambda: sender.read(size, 1),
            "tcp_8": lambda: sender.read(size, READERS),
        }
        results: dict[str, list[Sample]] = {k: [] for k in variants}
        hub.reset_counters()
        for r in range(args.rounds):
            for key, fn in variants.items():
                sample = measure(fn, sender_pid if key.startswith("tcp") else pid)
                if sample.nbytes != size:
                    raise RuntimeError(f"{key} read {sample.nbytes} bytes, expected {size}")
                results[key].append(sample)
                log(f"round {r + 1}/{args.rounds} {key:<9} {sample.mbps:8.0f} MB/s  ({sample.seconds:.2f}s)")
        counters = {key: sum(hub.counters()[route][key] for route in ("resolve", "bridge"))
                    for key in ("bytes_sent", "errors")}
        expected_bytes = args.rounds * 2 * size
        counters_ok = (f"OK (resolve/bridge sent {counters['bytes_sent']} bytes, {counters['errors']} errors)"
                       if counters["bytes_sent"] == expected_bytes and counters["errors"] == 0
                       else f"MISMATCH: {counters} (expected bytes_sent={expected_bytes})")

        log(f"API: {args.api_seconds:g}s of GET {api_url}, concurrency {API_CONCURRENCY}")
        api = api_bench(api_url, args.api_seconds, pid)
    return (report(args, size, results, api, verify_sample, counters_ok),
            results_doc(args, size, results, api, verify_sample, counters_ok))


if __name__ == "__main__":
    sys.exit(main())
