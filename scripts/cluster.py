"""A cluster you can start here: Spark standalone (master + 2 workers of 1 core), Ray (head + 1 worker), local hub.

    scripts/cluster [--run-dir DIR] up        start everything on 127.0.0.1 (free ports), wait until ready, then
                                              publish the demo datasets to the hub (what `seed` does)
    scripts/cluster [--run-dir DIR] seed      publish demo/reviews and demo/raw (again), the datasets docs/cluster.md's
                                              cluster commands read
    scripts/cluster [--run-dir DIR] status    what runs, where; exit 1 if anything is down
    scripts/cluster [--run-dir DIR] env       shell exports for submitting jobs: eval "$(scripts/cluster env)"
    scripts/cluster [--run-dir DIR] down      stop everything `up` started, and only that

State lives in the run folder (default .cluster/): state.json (commands, pids, ports), logs/, the hub's data
and tokens (files readable by you only), the Spark workers' work dirs. The Spark executors and Ray workers run
`python/bin/python`, a Python with the project's dependencies but NOT hfconnect, as on a cluster where nothing
of the project is installed: jobs must ship it (--py-files for Spark, runtime_env for Ray). Every process gets
HFCONNECT_CLUSTER_RUN=<run folder> in its environment, so `down` also finds what they started.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
MARKER = "HFCONNECT_CLUSTER_RUN"
READY_TIMEOUT = 120.0
SPARK_WORKERS = 2
WORKER_CORES = "1"
WORKER_MEMORY = "1g"
RAY_OBJECT_STORE = str(150 * 1000 * 1000)
RAY_WORKER_PORTS = 16  # ports each Ray node may give its worker processes

# The demo datasets `seed` publishes, which docs/cluster.md's commands (and tests/cluster) read. Every value of
# row i is a function of its id, so any slice is predictable. demo/reviews (Parquet): validation repeats 10,000
# train rows and test 5,000 validation rows, by id, so by text (unique per id): what jobs/dedup.py drops; ids below
# 20,000 are all in train. Train comes in 2 files of 12 row groups (~2.8 MB each): big enough that footers (read in
# 64 KiB tails) weigh little next to the data, as on the Hub. demo/raw (JSON Lines) is what jobs/convert.py reads.
REVIEWS = "demo/reviews"
REVIEWS_SPLITS = {"train": (0, 240_000), "validation": (230_000, 20_000), "test": (245_000, 20_000)}  # first id, rows
REVIEWS_TRAIN_FILE_ROWS = 120_000
REVIEWS_ROW_GROUP_ROWS = 10_000
RAW = "demo/raw"
RAW_SPLITS = {"train": 2_000, "test": 500}  # rows, ids from 0


def _hex(i: int) -> str:
    """24 hex digits that differ from row to row: text that barely compresses."""
    return uuid.UUID(int=(i * 2654435761) % (1 << 128) | (1 << 127)).hex[:24]


# column -> (Arrow type name, value of row i)
DEMO_COLUMNS: dict[str, tuple[str, Callable[[int], Any]]] = {
    "id": ("int64", lambda i: i),
    "text": ("string", lambda i: f"text {i} " + "x" * (i % 50)),
    "hex": ("string", _hex),
    "label": ("int32", lambda i: i % 5),
    "score": ("float64", lambda i: i / 7),
    "flag": ("bool_", lambda i: i % 2 == 0),
}
REVIEWS_COLUMNS = ("id", "text", "hex", "label", "score", "flag")
RAW_COLUMNS = ("id", "text", "score")


@dataclass
class Component:
    name: str
    argv: list[str]
    env: dict[str, str]  # what the cluster sets, on top of the caller's environment (no secrets: paths only)
    after: str | None = None  # started once this one is ready
    pid: int | None = None
    log: str = ""
    ports: dict[str, int] = field(default_factory=dict)


def free_ports(n: int) -> list[int]:
    """n distinct ports free right now on 127.0.0.1."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Cluster:
    def __init__(self, run_dir: Path) -> None:
        self.run = run_dir.resolve()
        self.state_file = self.run / "state.json"

    # ---- paths ------------------------------------------------------------------------------------
    @property
    def python(self) -> Path:
        """The executors' and Ray nodes' Python: the project's dependencies, not hfconnect."""
        return self.run / "python" / "bin" / "python"

    def inherited_env(self) -> dict[str, str]:
        """This shell's environment without what must not leak into the cluster (the caller's token, endpoint,
        Python paths, Ray settings)."""
        return {k: v for k, v in os.environ.items()
                if k not in ("HF_TOKEN", "HF_ENDPOINT", "PYTHONPATH", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")
                and not k.startswith(("RAY_", "SPARK_", "HF_HUB_"))}

    def common_env(self) -> dict[str, str]:
        """What every component gets (docker/compose.*.yaml set the same, tests/cluster/test_docker.py checks)."""
        return {
            MARKER: str(self.run),
            "PATH": f"{VENV / 'bin'}:{os.environ.get('PATH', '')}",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "HF_HOME": str(self.run / "hf-home"),
        }

    def spark_env(self) -> dict[str, str]:
        return {"SPARK_LOCAL_IP": "127.0.0.1", "SPARK_DAEMON_MEMORY": "512m"}

    def ray_env(self) -> dict[str, str]:
        return {
            "RAY_USAGE_STATS_ENABLED": "0",
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN_PATH": str(self.run / "ray-auth-token"),
            "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",  # no Serve replicas to drain: `down` stops at once
        }

    # ---- up -----------------------------------------------------------------------------------------
    def components(self, ray_tmp: str) -> list[Component]:
        ports = iter(free_ports(10 + 2 * SPARK_WORKERS + 16 + 2 * RAY_WORKER_PORTS))
        p = lambda: next(ports)  # noqa: E731
        hub_port, cas_port = p(), p()
        hub = Component("hub", [str(VENV / "bin" / "hfconnect"), "localhub", "serve", "--root",
                                str(self.run / "hub" / "data"), "--host", "127.0.0.1", "--port", str(hub_port),
                                "--cas-port", str(cas_port), "--token-file", str(self.run / "hub" / "tokens"),
                                "--ready-file", str(self.run / "hub" / "ready.json")], self.common_env(),
                        ports={"http": hub_port, "xet cas": cas_port})
        master_port, master_ui = p(), p()
        spark_class = str(VENV / "bin" / "spark-class")
        master = Component("spark-master", [spark_class, "org.apache.spark.deploy.master.Master", "--host",
                                            "127.0.0.1", "--port", str(master_port), "--webui-port", str(master_ui)],
                           {**self.common_env(), **self.spark_env()}, ports={"rpc": master_port, "webui": master_ui})
        workers = []
        for i in range(1, SPARK_WORKERS + 1):
            port, ui = p(), p()
            workers.append(Component(f"spark-worker-{i}", [
                spark_class, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--port", str(port),
                "--webui-port", str(ui), "--cores", WORKER_CORES, "--memory", WORKER_MEMORY, "--work-dir",
                str(self.run / "spark" / f"worker-{i}"), f"spark://127.0.0.1:{master_port}"],
                {**self.common_env(), **self.spark_env()}, after="spark-master",
                ports={"rpc": port, "webui": ui}))
        ray = str(self.python.parent / "ray")
        head_port = p()
        node_ports = lambda: ["--object-manager-port", str(p()), "--node-manager-port", str(p()),  # noqa: E731
                              "--dashboard-agent-listen-port", str(p()), "--dashboard-agent-grpc-port", str(p()),
                              "--runtime-env-agent-port", str(p()), "--metrics-export-port", str(p()),
                              "--worker-port-list", ",".join(str(p()) for _ in range(RAY_WORKER_PORTS))]
        head = Component("ray-head", [ray, "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port",
                                      str(head_port), "--ray-client-server-port", str(p()),
                                      "--dashboard-port", str(p()), *node_ports(),
                                      "--num-cpus", "1", "--object-store-memory", RAY_OBJECT_STORE,
                                      "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", ray_tmp],
                         {**self.common_env(), **self.ray_env()}, ports={"gcs": head_port})
        ray_worker = Component("ray-worker", [ray, "start", "--block", "--address", f"127.0.0.1:{head_port}",
                                              "--node-ip-address", "127.0.0.1", *node_ports(), "--num-cpus", "1",
                                              "--object-store-memory", RAY_OBJECT_STORE, "--disable-usage-stats"],
                               {**self.common_env(), **self.ray_env()}, after="ray-head")
        return [hub, master, *workers, head, ray_worker]

    def up(self) -> int:
        t0 = time.monotonic()
        if self.state_file.exists():
            alive = self._alive(self._load())
            if alive and all(alive.values()):
                print(f"cluster already up (run folder {self.run})")
                return self.status()
            if any(alive.values()):
                print(f"cluster in {self.run} is partly down: run `scripts/cluster down` first", file=sys.stderr)
                return 1
            self._cleanup(self._load())
        self._prepare()
        ray_tmp = tempfile.mkdtemp(prefix="hfc-ray-")  # short: Ray's socket paths must stay under 107 bytes
        comps = self.components(ray_tmp)
        state = {"run_dir": str(self.run), "ray_tmp": ray_tmp, "started": time.time(),
                 "components": {c.name: asdict(c) for c in comps}}
        self._save(state)
        env = self.inherited_env()
        ready: set[str] = set()
        try:
            while len(ready) < len(comps):
                for c in comps:
                    if c.pid is None and (c.after is None or c.after in ready):
                        self._start(c, env)
                        state["components"][c.name] = asdict(c)
                        self._save(state)
                    elif c.pid is not None and c.name not in ready:
                        if self._ready(c, state):
                            ready.add(c.name)
                            print(f"  {c.name:<15} ready after {time.monotonic() - t0:5.1f} s", flush=True)
                        elif not _group_alive(c.pid):
                            raise RuntimeError(f"{c.name} exited while starting; its log ({c.log}) ends with:\n"
                                               + _tail(Path(c.log)))
                if time.monotonic() - t0 > READY_TIMEOUT:
                    waiting = [c.name for c in comps if c.name not in ready]
                    raise RuntimeError(f"not ready after {READY_TIMEOUT:.0f} s: {', '.join(waiting)} (logs in "
                                       f"{self.run / 'logs'})")
                time.sleep(0.2)
        except BaseException as exc:
            print(f"scripts/cluster up: {exc}", file=sys.stderr)
            self.down(quiet=True)
            return 1
        state["up_seconds"] = round(time.monotonic() - t0, 1)
        self._save(state)
        print(f"cluster up in {state['up_seconds']} s")
        seeded = self.seed()
        return self.status() or seeded

    def _prepare(self) -> None:
        for sub in ("logs", "hub", "spark", "hf-home"):
            (self.run / sub).mkdir(parents=True, exist_ok=True)
        token = f"hf_cluster_{secrets.token_hex(12)}"
        _private_file(self.run / "hub" / "write-token", token + "\n")
        _private_file(self.run / "hub" / "tokens", f"# tokens of the cluster's local hub\n{token}:write:cluster\n")
        _private_file(self.run / "ray-auth-token", secrets.token_hex(32) + "\n")
        self._make_python()

    def _make_python(self) -> None:
        """A venv whose site-packages reach the project venv's packages through a .pth line, which adds that
        directory without running its .pth files: the editable hfconnect install is not among them."""
        home = self.run / "python"
        if not self.python.exists():
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True)
        site = next((home / "lib").glob("python3*/site-packages"))
        project_site = next((VENV / "lib").glob("python3*/site-packages"))
        (site / "project-dependencies.pth").write_text(f"{project_site}\n")
        launcher = home / "bin" / "ray"
        launcher.write_text(f"#!{self.python}\nimport sys\n\nfrom ray.scripts.scripts import main\n\n"
                            "sys.exit(main())\n")
        launcher.chmod(0o755)
        check = subprocess.run([str(self.python), "-c", "import importlib.util as u, pyspark, ray, pyarrow; "
                                "print(u.find_spec('hfconnect') is None)"], capture_output=True, text=True)
        if check.stdout.strip() != "True":
            raise RuntimeError(f"the cluster's Python {self.python} is not as expected: {check.stderr[-2000:]}")

    def _start(self, c: Component, env: dict[str, str]) -> None:
        c.log = str(self.run / "logs" / f"{c.name}.log")
        with open(c.log, "ab") as log:
            proc = subprocess.Popen(c.argv, env={**env, **c.env}, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=self.run, start_new_session=True)
        c.pid = proc.pid

    def _ready(self, c: Component, state: dict) -> bool:
        if c.name == "hub":
            return (self.run / "hub" / "ready.json").exists()
        if c.name.startswith("spark-"):
            master = state["components"]["spark-master"]["ports"]["webui"]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{master}/json/", timeout=2) as resp:
                    info = json.load(resp)
            except (OSError, ValueError):  # not listening yet, or a starting master's empty/partial answer
                return False
            if c.name == "spark-master":
                return info.get("status") == "ALIVE"
            port = c.ports["rpc"]
            return any(w.get("state") == "ALIVE" and str(w.get("port")) == str(port) for w in info.get("workers", []))
        return "Ray runtime started" in Path(c.log).read_text(errors="replace")

    # ---- seed ---------------------------------------------------------------------------------------
    def seed(self) -> int:
        """Publish the demo datasets to the cluster's hub (`up` does it once everything is ready)."""
        if not self.state_file.exists():
            print(f"no cluster in {self.run}: run `scripts/cluster up` first", file=sys.stderr)
            return 1
        state = self._load()
        if not self._alive(state).get("hub"):
            print("the cluster's hub is down: `scripts/cluster down`, then `scripts/cluster up`", file=sys.stderr)
            return 1
        t0 = time.monotonic()
        endpoint = self.endpoints(state)["hub endpoint"]
        token = (self.run / "hub" / "write-token").read_text().strip()
        try:
            lines = publish(endpoint, token, demo_files())
        except Exception as exc:  # noqa: BLE001 - one line, and what to do: the cluster itself is fine
            print(f"scripts/cluster seed: publishing the demo datasets to {endpoint} failed: "
                  f"{type(exc).__name__}: {exc} (try again: scripts/cluster seed)", file=sys.stderr)
            return 1
        print(f"published to the hub in {time.monotonic() - t0:.1f} s (again: scripts/cluster seed):")
        for line in lines:
            print(f"  {line}")
        return 0

    # ---- status / env -------------------------------------------------------------------------------
    def status(self) -> int:
        if not self.state_file.exists():
            print(f"no cluster in {self.run}")
            return 1
        state = self._load()
        alive = self._alive(state)
        comps = state["components"]
        for name, ok in alive.items():
            c = comps[name]
            ports = ", ".join(f"{k} {v}" for k, v in c["ports"].items())
            print(f"  {name:<15} {'up  ' if ok else 'DOWN'} pid {c['pid']:<8} {ports:<28} log {c['log']}")
        for key, value in self.endpoints(state).items():
            print(f"  {key:<15} {value}")
        if "up_seconds" in state:
            print(f"  started in {state['up_seconds']} s; stop with: scripts/cluster down")
        return 0 if all(alive.values()) else 1

    def endpoints(self, state: dict) -> dict[str, str]:
        comps = state["components"]
        return {
            "spark master": f"spark://127.0.0.1:{comps['spark-master']['ports']['rpc']}",
            "spark ui": f"http://127.0.0.1:{comps['spark-master']['ports']['webui']}",
            "ray address": f"127.0.0.1:{comps['ray-head']['ports']['gcs']}",
            "hub endpoint": f"http://127.0.0.1:{comps['hub']['ports']['http']}",
            "hub token": f"in {self.run / 'hub' / 'write-token'} (write access)",
            "python": f"{self.python} (no hfconnect: ship it with the job)",
        }

    def env(self) -> int:
        if not self.state_file.exists():
            print(f"no cluster in {self.run}: run `scripts/cluster up` first", file=sys.stderr)
            return 1
        e = self.endpoints(self._load())
        exports = {
            "SPARK_MASTER": e["spark master"],
            "RAY_ADDRESS": e["ray address"],
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN_PATH": str(self.run / "ray-auth-token"),
            "HF_ENDPOINT": e["hub endpoint"],
            "PYSPARK_PYTHON": str(self.python),
            "PYSPARK_DRIVER_PYTHON": str(self.python),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        }
        print(f'export PATH="{VENV / "bin"}:$PATH"  # spark-submit, and a python with hfconnect for Daft jobs')
        for key, value in exports.items():
            print(f"export {key}={value}")
        print(f'export HF_TOKEN="$(cat {self.run / "hub" / "write-token"})"')
        return 0

    # ---- down ---------------------------------------------------------------------------------------
    def down(self, quiet: bool = False) -> int:
        if not self.state_file.exists():
            if not quiet:
                print(f"no cluster in {self.run}")
            return 0
        state = self._load()
        pids = [c["pid"] for c in reversed(list(state["components"].values())) if c.get("pid")]
        for pid in pids:
            _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (any(_group_alive(p) for p in pids) or _marked(self.run)):
            time.sleep(0.2)
        for pid in pids:
            _signal_group(pid, signal.SIGKILL)
        for pid in _marked(self.run):  # anything they started in a session of its own
            _signal(pid, signal.SIGKILL)
        self._cleanup(state)
        if not quiet:
            print(f"cluster in {self.run} stopped")
        return 0

    def _cleanup(self, state: dict) -> None:
        shutil.rmtree(state.get("ray_tmp") or "/nonexistent", ignore_errors=True)
        self.state_file.unlink(missing_ok=True)

    # ---- state --------------------------------------------------------------------------------------
    def _load(self) -> dict:
        return json.loads(self.state_file.read_text())

    def _save(self, state: dict) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.state_file)

    @staticmethod
    def _alive(state: dict) -> dict[str, bool]:
        return {name: bool(c.get("pid")) and _group_alive(c["pid"]) for name, c in state["components"].items()}


def _private_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _marked(run: Path) -> list[int]:
    """Processes whose environment carries this run folder's marker: ours, wherever they ended up."""
    needle = f"{MARKER}={run}\0".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def demo_table(first: int, rows: int, columns: tuple[str, ...]):  # noqa: ANN201 - pyarrow.Table
    """Rows first..first+rows-1 of the demo datasets, in `columns`."""
    import pyarrow as pa

    ids = range(first, first + rows)
    return pa.table({name: pa.array([DEMO_COLUMNS[name][1](i) for i in ids], getattr(pa, DEMO_COLUMNS[name][0])())
                     for name in columns})


def demo_files() -> dict[str, dict[str, bytes]]:
    """repo -> path -> bytes of the demo datasets."""
    import io

    import pyarrow.parquet as pq

    reviews = {}
    for split, (first, rows) in REVIEWS_SPLITS.items():
        per_file = REVIEWS_TRAIN_FILE_ROWS if split == "train" else rows
        n = rows // per_file
        for i in range(n):
            buf = io.BytesIO()
            pq.write_table(demo_table(first + i * per_file, per_file, REVIEWS_COLUMNS), buf,
                           row_group_size=REVIEWS_ROW_GROUP_ROWS)
            reviews[f"data/{split}-{i:05d}-of-{n:05d}.parquet"] = buf.getvalue()
    raw = {}
    for split, rows in RAW_SPLITS.items():
        records = demo_table(0, rows, RAW_COLUMNS).to_pylist()
        raw[f"data/{split}.jsonl"] = ("\n".join(json.dumps(r) for r in records) + "\n").encode()
    return {REVIEWS: reviews, RAW: raw}


def publish(endpoint: str, token: str, datasets: dict[str, dict[str, bytes]]) -> list[str]:
    """Each dataset in ONE commit to its repo's main (created if missing), which then holds exactly these files
    (and .gitattributes): publishing again restores them. One line per dataset."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi

    api = HfApi(endpoint=endpoint, token=token)
    lines = []
    for repo, files in datasets.items():
        api.create_repo(repo, repo_type="dataset", exist_ok=True)
        stale = [f for f in api.list_repo_files(repo, repo_type="dataset") if f not in files
                 and f != ".gitattributes"]
        ops: list[Any] = [CommitOperationAdd(path, data) for path, data in files.items()]
        ops += [CommitOperationDelete(path) for path in stale]
        commit = api.create_commit(repo, repo_type="dataset", operations=ops,
                                   commit_message=f"{repo}: the demo dataset (scripts/cluster seed)")
        size = sum(len(b) for b in files.values())
        lines.append(f"{repo}@{commit.oid[:12]}: {len(files)} files, {size / 1e6:.1f} MB ({_rows(repo)})")
    return lines


def _rows(repo: str) -> str:
    splits = {split: rows for split, (_, rows) in REVIEWS_SPLITS.items()} if repo == REVIEWS else RAW_SPLITS
    return ", ".join(f"{split} {rows:,}" for split, rows in splits.items()) + " rows"


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/cluster", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", type=Path, default=ROOT / ".cluster", help="state, logs and data (default "
                        ".cluster/ in the project)")
    parser.add_argument("command", choices=["up", "seed", "down", "status", "env"])
    args = parser.parse_args(argv)
    cluster = Cluster(args.run_dir)
    return {"up": cluster.up, "seed": cluster.seed, "down": cluster.down, "status": cluster.status,
            "env": cluster.env}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
