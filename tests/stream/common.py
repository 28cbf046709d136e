"""What the streaming tests share: a streaming driver in its own process (to kill -9), the rows and commits a
repo holds, read with huggingface_hub and pyarrow (not with hfconnect), and upstream writers."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from hfconnect.stream.history import _MARKER
from tests.conftest import WRITE_TOKEN

ROOT = Path(__file__).resolve().parents[2]


class Driver:
    """`tests.stream.driver` in its own process group: a Spark driver (Python and its JVM) to kill for real."""

    def __init__(self, config: dict[str, Any], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        full_env = {**os.environ, **(env or {})}
        self._out = open(log, "ab")  # noqa: SIM115 - closed in wait()/kill()
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.stream.driver", json.dumps(config)], cwd=ROOT,
                                     env=full_env, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        """kill -9 the driver and everything it started (JVM, Python workers)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._out.close()

    def wait(self, timeout: float) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the driver did not finish within {timeout:.0f}s:\n{self.output()[-4000:]}") from None
        self._out.close()
        return code

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_for(condition: Callable[[], Any], timeout: float, what: str, driver: Driver | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if driver is not None and driver.proc.poll() is not None:
            raise AssertionError(f"the driver exited ({driver.proc.returncode}) while waiting for {what}:\n"
                                 f"{driver.output()[-4000:]}")
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}" +
                         (f":\n{driver.output()[-4000:]}" if driver else ""))


def patiently(call: Callable[[], Any], budget: float = 60.0) -> Any:
    """call(), again after each 429 once the window the hub names (RateLimit's t=) is over: the tests' own checks
    are a client of a rate-limited hub too, and huggingface_hub does not wait on 429 for reads such as repo_info."""
    deadline = time.monotonic() + budget
    while True:
        try:
            return call()
        except Exception as exc:
            wait = _limited_for(exc)
            if wait is None or time.monotonic() + wait > deadline:
                raise
            time.sleep(wait)


def _limited_for(exc: BaseException | None) -> float | None:
    """Seconds to wait before asking again, if exc (or what caused it) is a 429: what the hub said (RateLimit's
    reset, else Retry-After; as hfconnect's own retries read it), else a second."""
    from hfconnect.hub.retry import server_wait

    while exc is not None:
        answer = getattr(exc, "response", None)
        if answer is not None and answer.status_code == 429:
            said = server_wait(429, answer.headers)
            return (said[0] if said else 1.0) + 0.1
        exc = exc.__cause__ or exc.__context__
    return None


def stream_batches(api: Any, repo: str) -> list[tuple[str, int]]:
    """(query id, batch id) of every streaming commit on main, oldest first ([] while the repo does not exist)."""
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        commits = patiently(lambda: api.list_repo_commits(repo, repo_type="dataset"))
    except RepositoryNotFoundError:
        return []
    out = []
    for c in reversed(commits):
        out += [(m["query"], int(m["batch"])) for m in _MARKER.finditer(c.message or "")]
    return out


def repo_rows(endpoint: str, repo: str, token: str | bool = WRITE_TOKEN, split: str = "train") -> pa.Table:
    """Every row of the split's Parquet files at the head of main, read with HfFileSystem and pyarrow (again from
    the start after a 429)."""
    from huggingface_hub import HfFileSystem

    def read() -> pa.Table:
        fs = HfFileSystem(endpoint=endpoint, token=token, skip_instance_cache=True)
        paths = sorted(p for p in fs.glob(f"datasets/{repo}/data/{split}-*.parquet"))
        tables = [pq.read_table(p, filesystem=fs) for p in paths]
        return pa.concat_tables(tables, promote_options="permissive") if tables else pa.table({})

    return patiently(read)


def write_inputs(directory: Path, tables: list[pa.Table]) -> None:
    """Parquet files for Spark's file source, with increasing modification times: it reads them in that order."""
    directory.mkdir(parents=True, exist_ok=True)
    start = time.time() - 1000
    for i, table in enumerate(tables):
        path = directory / f"part-{i:04d}.parquet"
        path.write_bytes(parquet_file(table))
        os.utime(path, (start + i, start + i))


def parquet_file(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def rows_table(start: int, count: int) -> pa.Table:
    ids = list(range(start, start + count))
    return pa.table({"id": pa.array(ids, pa.int64()), "text": pa.array([f"row {i}" for i in ids], pa.string())})
