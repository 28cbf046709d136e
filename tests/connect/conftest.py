"""Two local Spark Connect servers (`spark-submit --class ...SparkConnectServer`, the jars pip's pyspark ships),
started together once per session and stopped at the end:

- `installed`: its Python workers have hfconnect installed (this venv), as a server set up for it would;
- `bare`: its Python has hfconnect's dependencies but not hfconnect, as a shared server would: a client ships
  hfconnect with `spark.addArtifacts(zip, pyfile=True)`.

Clients run in child processes (`sc://127.0.0.1:PORT`): a Connect session and the suite's classic session do
not share a process.
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
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
START_TIMEOUT = 180


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen
    log: Path

    def client(self, script: str, *args: str, timeout: float = 300) -> list[dict]:
        """Run `script` (Python, `spark` is the Connect session) in a child process; its JSON lines back."""
        prelude = ("import json, sys\nfrom pyspark.sql import SparkSession\n"
                   f"spark = SparkSession.builder.remote({self.url!r}).getOrCreate()\n"
                   "def say(**kv):\n    print('RESULT ' + json.dumps(kv), flush=True)\n")
        env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
        out = subprocess.run([sys.executable, "-c", prelude + script, *args], capture_output=True, text=True,
                             timeout=timeout, env=env)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
        return [json.loads(line[7:]) for line in out.stdout.splitlines() if line.startswith("RESULT ")]


def _python_without_hfconnect(home: Path) -> Path:
    """A venv reaching this venv's packages through a .pth line (which does not run their .pth files, so the
    editable hfconnect install is not among them)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True)
    site = next((home / "lib").glob("python3*/site-packages"))
    (site / "project-dependencies.pth").write_text(f"{next((VENV / 'lib').glob('python3*/site-packages'))}\n")
    return home / "bin" / "python"


def _start(name: str, python: Path, tmp: Path) -> Server:
    port = free_port()
    log = tmp / f"{name}.log"
    env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HF_ENDPOINT", "PYSPARK_DRIVER_PYTHON")}
    env.update(PYSPARK_PYTHON=str(python), SPARK_LOCAL_IP="127.0.0.1", HF_HUB_DISABLE_XET="1")
    with open(log, "wb") as fh:
        process = subprocess.Popen(
            [str(VENV / "bin" / "spark-submit"), "--class", SERVER_CLASS, "--master", "local[2]",
             "--conf", f"spark.connect.grpc.binding.port={port}",
             "--conf", "spark.connect.grpc.binding.address=127.0.0.1", "--conf", "spark.ui.enabled=false",
             "--conf", "spark.sql.python.filterPushdown.enabled=true",
             "--conf", f"spark.local.dir={tmp / name}"],
            stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=tmp, start_new_session=True)
    return Server(name, f"sc://127.0.0.1:{port}", process, log)


def _wait(server: Server, deadline: float) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    while time.monotonic() < deadline:
        assert server.process.poll() is None, f"{server.name} exited:\n{server.log.read_text()[-3000:]}"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    pytest.fail(f"Spark Connect server {server.name} not listening after {START_TIMEOUT} s")


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=30)


@pytest.fixture(scope="session")
def connect_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    tmp = tmp_path_factory.mktemp("connect")
    servers = {"installed": _start("installed", VENV / "bin" / "python", tmp),
               "bare": _start("bare", _python_without_hfconnect(tmp / "bare-python"), tmp)}
    try:
        t0 = time.monotonic()
        for server in servers.values():
            _wait(server, t0 + START_TIMEOUT)
        print(f"\nSpark Connect servers listening after {time.monotonic() - t0:.1f} s")
        yield servers
    finally:
        for server in servers.values():
            _stop(server)


@pytest.fixture(scope="session")
def hfconnect_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    env = {k: v for k, v in os.environ.items() if k not in ("HF_ENDPOINT", "HF_TOKEN")}
    built = subprocess.run([str(ROOT / "scripts" / "package"), "--out", str(out)], capture_output=True, text=True,
                           timeout=300, env=env)
    assert built.returncode == 0, built.stderr[-3000:]
    return out / "hfconnect.zip"
