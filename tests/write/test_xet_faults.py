"""hfconnect writes through Xet under its one retry policy, against a local hub whose CAS misbehaves: a burst of
503s and a xorb upload dropped mid-body are ridden out (one commit); a Xet token expiring mid-job is renewed; a
401 from the CAS fails fast as AuthenticationError; a CAS that stays down fails within retry_budget naming the
file; a failed job commits nothing. A shard cache naming xorbs the hub lost costs one more try, not the job.

Each write runs in a process of its own, as a job's driver or executor does: huggingface_hub makes one Xet
session per process and hf_xet reads its settings once per session, so only a fresh process shows what
hfconnect sets before the first transfer (this pytest process may have made its session long before).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hfconnect.localhub import HubMode, LocalHub
from tests.conftest import WRITE_TOKEN, free_port

pytestmark = pytest.mark.integration

# One write job: begin, N tasks (one file each, the same rows every run), one commit; or abort on failure. Prints
# one JSON line: what happened, how long the tasks and commit took, and the hf_xet settings the process had.
CLIENT = textwrap.dedent("""
    import json, os, random, sys, time
    import pyarrow as pa
    from hfconnect.options import WriteOptions
    from hfconnect.write import WriteJob, write_task

    args = json.loads(sys.argv[1])
    options = WriteOptions.build(repo=args["repo"], endpoint=args["endpoint"], token=args["token"],
                                 retry_budget=args.get("budget", 60.0))
    rng = random.Random(7)
    table = pa.table({"id": pa.array(range(400), pa.int64()),
                      "blob": pa.array([rng.randbytes(1024) for _ in range(400)], pa.binary())})  # no compression
    job = WriteJob(options, job_id=args.get("job_id"))
    out = {"ok": False}
    started = time.monotonic()
    try:
        job.begin(table.schema)
        started = time.monotonic()
        messages = []
        for partition in range(args.get("tasks", 1)):
            if partition and args.get("pause"):
                print("PAUSED", flush=True)
                sys.stdin.readline()
            messages.append(write_task(table.to_batches(), table.schema, options, job_id=job.job_id,
                                       partition_id=partition))
        if args.get("pause"):  # the hub was replaced meanwhile: the job begins again on the new one
            job = WriteJob(options, job_id=job.job_id)
            job.begin(table.schema)
        result = job.commit(messages[args.get("commit_from", 0):], table.schema)
        out.update(ok=True, commit=result.commit_sha, rows=result.rows)
    except Exception as exc:
        job.abort([])
        out.update(error=type(exc).__name__, message=str(exc), details=sorted(getattr(exc, "details", {})))
    out["elapsed"] = round(time.monotonic() - started, 2)
    out["env"] = {k: v for k, v in os.environ.items() if k.startswith("HF_XET_CLIENT_RETRY")}
    print(json.dumps(out), flush=True)
""")


def _env(**extra: str) -> dict[str, str]:
    """This process's environment without any HF_XET_* setting: the client starts as a user's process would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_XET", "HFCONNECT_XET"))}
    env.update(NO_PROXY="127.0.0.1,127.0.0.2,localhost", **extra)
    return env


def _write(hub: LocalHub, repo: str, *, env: dict[str, str] | None = None, **args: Any) -> dict[str, Any]:
    spec = json.dumps({"endpoint": hub.endpoint, "token": WRITE_TOKEN, "repo": repo, **args})
    run = subprocess.run([sys.executable, "-c", CLIENT, spec], env=env or _env(), capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def _api(hub: LocalHub) -> Any:
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)


def _repo_with_one_commit(hub: LocalHub) -> tuple[str, str]:
    """A repo that exists before the job (a failed job keeps it), and its head."""
    repo = f"xet/faults-{uuid.uuid4().hex[:8]}"
    api = _api(hub)
    api.create_repo(repo, repo_type="dataset")
    api.upload_file(path_or_fileobj=b"kept\n", path_in_repo="notes.txt", repo_id=repo, repo_type="dataset")
    return repo, api.list_repo_commits(repo, repo_type="dataset")[0].commit_id


def _head(hub: LocalHub, repo: str) -> tuple[str, list[str]]:
    api = _api(hub)
    return (api.list_repo_commits(repo, repo_type="dataset")[0].commit_id,
            sorted(api.list_repo_files(repo, repo_type="dataset")))


def _read_ids(hub: LocalHub, repo: str) -> list[int]:
    import pyarrow as pa

    from hfconnect.options import ReadOptions
    from hfconnect.plan import plan_read
    from hfconnect.read import read_shard

    plan = plan_read(ReadOptions.build(repo=repo, endpoint=hub.endpoint, token=WRITE_TOKEN))
    table = pa.Table.from_batches([b for s in plan.shards for b in read_shard(plan, s)], schema=plan.schema)
    return sorted(table.column("id").to_pylist())


def _clean(counters: dict[str, Any]) -> None:
    assert counters["unknown_routes"] == [], counters["unknown_routes"]
    assert counters["xorb"]["authorized"] == 0 and counters["bridge"]["authorized"] == 0


@pytest.fixture
def xet_hub(tmp_path: Path) -> Iterator[LocalHub]:
    with LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write"}, log_file=tmp_path / "hub.log") as hub:
        assert hub.cas_endpoint, "the hub does not speak Xet"
        yield hub


def test_a_burst_of_cas_503s_is_ridden_out_in_one_commit(xet_hub: LocalHub) -> None:
    repo, _ = _repo_with_one_commit(xet_hub)
    xet_hub.reset_counters()
    xet_hub.set_faults([{"route": "cas", "action": "status", "status": 503, "times": 3, "match": "/v1/xorbs/"},
                        {"route": "cas", "action": "status", "status": 503, "times": 2, "match": "/v1/shards"}])
    out = _write(xet_hub, repo, budget=12.0)
    assert out["ok"], out
    c = xet_hub.counters()
    assert c["cas"]["faults"] == 5 and c["commits"] == 1 and c["xet"]["shards"] == 1
    assert c["cas_routes"]["POST /v1/xorbs"]["requests"] == 4  # hf_xet retried; nothing retried hf_xet
    assert _read_ids(xet_hub, repo) == list(range(400))
    _clean(c)


def test_a_xorb_upload_dropped_mid_body_is_sent_again(xet_hub: LocalHub) -> None:
    repo, _ = _repo_with_one_commit(xet_hub)
    xet_hub.reset_counters()
    xet_hub.set_faults([{"route": "cas", "action": "reset_after", "after_bytes": 100_000, "times": 1,
                         "match": "/v1/xorbs/"}])
    out = _write(xet_hub, repo, budget=12.0)
    assert out["ok"], out
    c = xet_hub.counters()
    assert c["cas"]["faults"] == 1 and c["cas_routes"]["POST /v1/xorbs"]["requests"] == 2 and c["commits"] == 1
    assert _read_ids(xet_hub, repo) == list(range(400))
    _clean(c)


def test_a_xet_token_expiring_mid_job_is_renewed(tmp_path: Path) -> None:
    with LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write"}, mode=HubMode(xet_token_expiry=2.0),
                  log_file=tmp_path / "hub.log") as hub:
        repo, _ = _repo_with_one_commit(hub)
        hub.reset_counters()
        hub.set_faults([{"route": "cas", "action": "latency", "latency_ms": 1200, "match": "/v1/xorbs/"}])
        out = _write(hub, repo, tasks=3, budget=12.0)  # ~4 s of uploads: tokens of 2 s expire in between
        assert out["ok"], out
        c = hub.counters()
        assert c["commits"] == 1 and c["xet"]["shards"] == 3
        assert c["xet-token"]["requests"] > 3, c["xet-token"]  # renewed within uploads, not just one per file
        assert c["cas_routes"]["POST /v1/xorbs"]["errors"] == 0 and c["cas_routes"]["POST /v1/shards"]["errors"] == 0
        assert _read_ids(hub, repo) == sorted(list(range(400)) * 3)
        _clean(c)


def test_a_401_from_the_cas_fails_fast_and_commits_nothing(xet_hub: LocalHub) -> None:
    repo, head = _repo_with_one_commit(xet_hub)
    before = _head(xet_hub, repo)
    xet_hub.reset_counters()
    xet_hub.set_faults([{"route": "cas", "action": "status", "status": 401, "match": "/v1/xorbs/"}])
    out = _write(xet_hub, repo, budget=60.0)
    assert out["error"] == "AuthenticationError", out
    assert "the Xet storage refused the write token the Hub issued (HTTP 401" in out["message"]
    assert "upload of a " in out["message"] and ".parquet)" in out["message"]
    assert out["elapsed"] < 10, out  # no retry: hf_xet takes a 401 as final, and so does hfconnect
    c = xet_hub.counters()
    assert c["cas_routes"]["POST /v1/xorbs"]["requests"] == 1 and c["commits"] == 0
    assert _head(xet_hub, repo) == before and before[0] == head
    _clean(c)


@pytest.mark.parametrize("budget", [6.0, pytest.param(60.0, marks=pytest.mark.slow)])
def test_a_cas_that_stays_down_fails_within_the_budget_naming_the_file(xet_hub: LocalHub, budget: float) -> None:
    repo, _ = _repo_with_one_commit(xet_hub)
    before = _head(xet_hub, repo)
    xet_hub.reset_counters()
    xet_hub.set_faults([{"route": "cas", "action": "status", "status": 503}])
    out = _write(xet_hub, repo, budget=budget)
    print(f"\nCAS down, retry_budget={budget:.0f}s: the write failed after {out['elapsed']:.1f}s "
          f"(hf_xet settings {out['env']})")
    assert out["error"] == "HubRequestError", out
    message = out["message"]
    assert message.startswith("upload of a ") and f"-byte file to {repo} (data/train-" in message, message
    assert "failed through Xet storage (hf_xet: Server error" in message and "503 Service Unavailable" in message
    assert WRITE_TOKEN not in message
    assert out["elapsed"] <= budget, out
    c = xet_hub.counters()
    assert c["commits"] == 0 and _head(xet_hub, repo) == before
    assert c["cas"]["requests"] >= 2  # hf_xet retried
    _clean(c)


@pytest.mark.parametrize("users_cache", [False, True])
def test_a_cache_naming_xorbs_the_hub_lost_costs_one_more_try(tmp_path: Path, users_cache: bool) -> None:
    """Task 1 uploads; the hub then loses everything (restarted empty on the same ports, so hf_xet keys the same
    cache); task 2 uploads the same bytes: hf_xet's cache says they are stored, the hub refuses the shard, and
    hfconnect sends the file again with a fresh cache (or, when the user set HF_XET_CACHE, says how to clear it)."""
    port, cas_port = free_port(), free_port()
    tokens = {WRITE_TOKEN: "write"}
    first = LocalHub(tmp_path / "hub-1", tokens=tokens, port=port, cas_port=cas_port).start()
    repo = f"xet/stale-{uuid.uuid4().hex[:8]}"
    env = _env(HF_XET_CACHE=str(tmp_path / "users-cache")) if users_cache else _env()
    spec = json.dumps({"endpoint": first.endpoint, "token": WRITE_TOKEN, "repo": repo, "tasks": 2, "pause": True,
                       "commit_from": 1, "job_id": "stalejob", "budget": 6.0})
    client = subprocess.Popen([sys.executable, "-c", CLIENT, spec], env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second: LocalHub | None = None
    try:
        assert client.stdout is not None and client.stdin is not None
        assert client.stdout.readline().strip() == "PAUSED", client.stderr and client.stderr.read()[-3000:]
        first.stop()
        second = LocalHub(tmp_path / "hub-2", tokens=tokens, port=port, cas_port=cas_port).start()
        _api(second).create_repo(repo, repo_type="dataset")
        stdout, stderr = client.communicate("\n", timeout=300)
        assert client.returncode == 0, stderr[-3000:]
        out = json.loads(stdout.strip().splitlines()[-1])
        c = second.counters()
        assert c["cas_routes"]["POST /v1/shards"]["errors"] == 1, c["cas_routes"]  # the stale shard, refused
        if users_cache:
            assert out["error"] == "HubRequestError", out
            assert "refused the file's shard (HTTP 400)" in out["message"]
            assert "HF_XET_CACHE is set" in out["message"] and "remove the shard cache" in out["message"]
            assert c["commits"] == 0
        else:
            assert out["ok"], out
            assert c["xet"]["xorbs_new"] >= 1 and c["xet"]["shards"] == 1 and c["commits"] == 1
            assert _read_ids(second, repo) == list(range(400))
        _clean(c)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
        first.close()
        if second is not None:
            second.close()
