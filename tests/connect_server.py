"""Local Spark Connect servers for the tests (tests/connect and tests/stream share them).

A server is `spark-submit --class ...SparkConnectServer --master local[2]` (the jars pip's pyspark ships; the
pip package has no sbin/start-connect-server.sh) listening on 127.0.0.1, in its own process group so stopping
it stops its JVM and Python workers. Its Python workers run `python`: this venv's (hfconnect installed, as a
server set up for it would be) or `python_without_hfconnect()` (a shared server a client ships hfconnect to).
The session hub's HF_ENDPOINT/HF_TOKEN are not passed on: clients give the endpoint as an option and the token
as an option or through the server's own environment (`running(..., env=...)`).

Clients run in child processes (`sc://127.0.0.1:PORT`): a Connect session and a classic session do not share a
process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
START_TIMEOUT = 180

__all__ = ["ConnectServer", "VENV", "python_without_hfconnect", "running"]


@dataclass
class ConnectServer:
    name: str
    url: str
    process: subprocess.Popen
    log: Path

    def client(self, script: str, *args: str, timeout: float = 300) -> list[dict]:
        """Run `script` (Python: `spark` is a Connect session, `URL` the server's, `say(**kv)` reports) in a child
        process; the JSON lines it said."""
        prelude = (f"import json, sys\nfrom pyspark.sql import SparkSession\nURL = {self.url!r}\n"
                   "spark = SparkSession.builder.remote(URL).getOrCreate()\n"
                   "def say(**kv):\n    print('RESULT ' + json.dumps(kv), flush=True)\n")
        env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
        out = subprocess.run([sys.executable, "-c", prelude + script, *args], capture_output=True, text=True,
                             timeout=timeout, env=env)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
        return [json.loads(line[7:]) for line in out.stdout.splitlines() if line.startswith("RESULT ")]


def python_without_hfconnect(home: Path) -> Path:
    """A venv reaching this venv's packages through a .pth line (which does not run their .pth files, so the
    editable hfconnect install is not among them)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True)
    site = next((home / "lib").glob("python3*/site-packages"))
    (site / "project-dependencies.pth").write_text(f"{next((VENV / 'lib').glob('python3*/site-packages'))}\n")
    return home / "bin" / "python"


def _start(name: str, python: Path, tmp: Path, env_extra: dict[str, str]) -> ConnectServer:
    port = free_port()
    log = tmp / f"{name}.log"
    env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HF_ENDPOINT", "PYSPARK_DRIVER_PYTHON")}
    env.update(PYSPARK_PYTHON=str(python), SPARK_LOCAL_IP="127.0.0.1", **env_extra)
    with open(log, "wb") as fh:
        process = subprocess.Popen(
            [str(VENV / "bin" / "spark-submit"), "--class", SERVER_CLASS, "--master", "local[2]",
             "--conf", f"spark.connect.grpc.binding.port={port}",
             "--conf", "spark.connect.grpc.binding.address=127.0.0.1", "--conf", "spark.ui.enabled=false",
             "--conf", "spark.sql.shuffle.partitions=2",
             "--conf", "spark.sql.python.filterPushdown.enabled=true",
             "--conf", f"spark.local.dir={tmp / name}"],
            stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=tmp, start_new_session=True)
    return ConnectServer(name, f"sc://127.0.0.1:{port}", process, log)


def _wait(server: ConnectServer, deadline: float) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    while time.monotonic() < deadline:
        assert server.process.poll() is None, f"{server.name} exited:\n{server.log.read_text()[-3000:]}"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    pytest.fail(f"Spark Connect server {server.name} not listening after {START_TIMEOUT} s")


def _stop(server: ConnectServer) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=30)


@contextmanager
def running(name: str, python: Path, tmp: Path, env: dict[str, str] | None = None) -> Iterator[ConnectServer]:
    """A server listening until the block ends, then stopped with everything it started. `env`: more of the
    server's environment (e.g. HF_TOKEN, which then never travels in a plan)."""
    import grpc  # noqa: F401 - the Connect client's dependency (pyspark[connect], test extras): fail, never skip

    server = _start(name, python, tmp, env or {})
    try:
        t0 = time.monotonic()
        _wait(server, t0 + START_TIMEOUT)
        print(f"\nSpark Connect server {name!r} listening after {time.monotonic() - t0:.1f} s")
        yield server
    finally:
        _stop(server)
