"""The started cluster: `scripts/cluster up` once per session (its own run folder, its own hub, the `demo/*` datasets
the commands of docs/cluster.md use, which `up` publishes), the artifacts of `scripts/package`, and those commands
themselves.

Jobs run from a workspace folder where `jobs` links to the project's jobs and `dist` holds what scripts/package
built, in the environment `eval "$(scripts/cluster env)"` gives: exactly what a reader of docs/cluster.md does.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_PAGE = ROOT / "docs" / "cluster.md"  # "Run on a cluster": the commands these tests run
JOB_TIMEOUT = 420


@dataclass
class Run:
    """A finished command: its exit code, output and the `done:` line's fields."""

    command: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def done(self) -> dict[str, str]:
        line = next((ln for ln in self.stdout.splitlines() if ": done: " in ln), None)
        assert line is not None, f"no done line from {self.command}\n{self.stdout[-3000:]}\n{self.stderr[-5000:]}"
        return dict(item.split("=", 1) for item in line.split(": done: ", 1)[1].split())

    def lines(self, prefix: str) -> list[str]:
        return [ln for ln in self.stdout.splitlines() if ln.startswith(prefix)]


@dataclass
class Cluster:
    run_dir: Path
    state: dict
    env: dict[str, str]
    workspace: Path
    up_seconds: float
    up_output: str  # what `scripts/cluster up` printed

    @property
    def endpoint(self) -> str:
        return self.env["HF_ENDPOINT"]

    def api(self):  # noqa: ANN201 - huggingface_hub.HfApi
        from huggingface_hub import HfApi

        return HfApi(endpoint=self.endpoint, token=self.env["HF_TOKEN"])

    def run(self, command: str, timeout: float = JOB_TIMEOUT) -> Run:
        """A shell command line as docs/cluster.md writes it, from the workspace, in the cluster's environment."""
        t0 = time.monotonic()
        proc = subprocess.run(["bash", "-c", command], cwd=self.workspace, env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        return Run(command, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - t0)

    def admin(self, method: str, path: str, body: object = None) -> object:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.endpoint}/_admin/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())


def scripts_cluster(run_dir: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ROOT / "scripts" / "cluster"), "--run-dir", str(run_dir), *args], capture_output=True,
                          text=True, timeout=timeout, env=_clean_env())


def _clean_env() -> dict[str, str]:
    """The test process's environment without the session hub's settings."""
    return {k: v for k, v in os.environ.items() if k not in ("HF_ENDPOINT", "HF_TOKEN", "PYTEST_ADDOPTS")}


def exported_env(run_dir: Path) -> dict[str, str]:
    """The environment after `eval "$(scripts/cluster env)"`."""
    out = subprocess.run(["bash", "-c", f'eval "$({ROOT}/scripts/cluster --run-dir {run_dir} env)" && env -0'],
                         capture_output=True, text=True, timeout=120, env=_clean_env(), check=True)
    return dict(item.split("=", 1) for item in out.stdout.split("\0") if "=" in item)


def marked_processes(run_dir: Path) -> list[int]:
    needle = f"HFCONNECT_CLUSTER_RUN={run_dir}\0".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """`scripts/cluster up` in a run folder of its own (it also publishes the demo datasets the jobs read); `down` at
    the end, which must leave no process behind."""
    run_dir = tmp_path_factory.mktemp("cluster")
    t0 = time.monotonic()
    up = scripts_cluster(run_dir, "up")
    up_seconds = time.monotonic() - t0
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-5000:]
        workspace = tmp_path_factory.mktemp("workspace")
        (workspace / "jobs").symlink_to(ROOT / "jobs")
        built = subprocess.run([str(ROOT / "scripts" / "package"), "--out", str(workspace / "dist")],
                               capture_output=True, text=True, timeout=300, env=_clean_env())
        assert built.returncode == 0, built.stderr[-3000:]
        state = json.loads((run_dir / "state.json").read_text())
        found = Cluster(run_dir, state, exported_env(run_dir), workspace, up_seconds, up.stdout)
        print(f"\nscripts/cluster up: {up_seconds:.1f} s wall ({state['up_seconds']} s by its own clock)")
        yield found
    finally:
        down = scripts_cluster(run_dir, "down")
        assert down.returncode == 0, down.stderr[-3000:]
        assert marked_processes(run_dir) == [], "scripts/cluster down left processes behind"


def readme_commands(section: str) -> list[str]:
    """The command lines of a `## section` of docs/cluster.md, "Run on a cluster" (continuation lines joined)."""
    text = CLUSTER_PAGE.read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", body, flags=re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+", " ", line.split("  #")[0]).strip()
            if line:
                commands.append(line)
    return commands


def job_argv(command: str) -> tuple[str, list[str]]:
    """(job name, its arguments) of a spark-submit or python command line."""
    words = shlex.split(command)
    at = next(i for i, w in enumerate(words) if re.search(r"jobs/\w+\.py$", w))
    return Path(words[at]).stem, words[at + 1:]


def files_of(cluster: Cluster, repo: str, revision: str = "main") -> list[str]:
    return sorted(cluster.api().list_repo_files(repo, repo_type="dataset", revision=revision))


def parquet_schema(cluster: Cluster, repo: str, path: str, revision: str = "main") -> pa.Schema:
    import io

    import pyarrow.parquet as pq

    url = f"{cluster.endpoint}/datasets/{repo}/resolve/{revision.replace('/', '%2F')}/{path}"
    with urllib.request.urlopen(url, timeout=60) as resp:
        return pq.read_schema(io.BytesIO(resp.read()))
