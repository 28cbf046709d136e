"""A job of many files in real-Hub mode (rate limits, the commit request timeout, the repo's hourly commit quota):
staged on a pull request and merged in one step, against a direct single commit of the same files on a hub
without limits.

Prints wall time, Hub requests (the local hub's counters), commits and staging commits of each, and the ratios.
Run alone on the machine for figures: `python scripts/bench_large_job.py --files 10000`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from hfconnect.localhub import LocalHub
from hfconnect.localhub.mode import HubMode
from hfconnect.options import WriteOptions
from hfconnect.write import WriteJob, write_task

TOKEN = "hf_bench_write"


def _requests(counters: dict[str, Any]) -> int:
    """Every request the hub and its CAS served (route classes with a request count)."""
    return sum(v["requests"] for v in counters.values() if isinstance(v, dict) and "requests" in v)


def run(root: Path, *, files: int, tasks: int, limits: bool, budget: int) -> dict[str, Any]:
    """One job writing `files` one-row files in `tasks` tasks; its figures."""
    mode = HubMode.real_hub() if limits else HubMode()
    with LocalHub(root, tokens={TOKEN: "write"}, mode=mode) as hub:
        repo = "bench/large"
        from huggingface_hub import HfApi

        HfApi(endpoint=hub.endpoint, token=TOKEN).create_repo(repo, repo_type="dataset")
        hub.reset_counters()
        options = WriteOptions.build(repo=repo, endpoint=hub.endpoint, token=TOKEN, max_file_size=1,
                                     row_group_size=1, max_commit_operations=budget)
        table = pa.table({"id": pa.array(range(files), pa.int64())})
        started = time.perf_counter()
        job = WriteJob(options)
        job.begin(table.schema)
        per = -(-files // tasks)
        messages = [write_task(table.slice(i * per, per).to_batches(), table.schema, options, job_id=job.job_id,
                               partition_id=i) for i in range(tasks)]
        uploaded = time.perf_counter()
        result = job.commit(messages, table.schema)
        done = time.perf_counter()
        counters = hub.counters()
        assert len(result.files) == files and result.commit_sha
        commits = counters["commits"]
        return {"wall_s": round(done - started, 2), "upload_s": round(uploaded - started, 2),
                "commit_s": round(done - uploaded, 2), "requests": _requests(counters), "commits": commits,
                "staging_commits": commits - 1 if len(result.files) + 1 > budget else 0,
                "limited": sum(b.get("limited", 0) for b in counters.get("rate_limits", {}).values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--budget", type=int, default=100, help="max_commit_operations of the staged job")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-large-") as tmp:
        staged = run(Path(tmp) / "staged", files=args.files, tasks=args.tasks, limits=True, budget=args.budget)
        direct = run(Path(tmp) / "direct", files=args.files, tasks=args.tasks, limits=False,
                     budget=args.files + 10)
    ratios = {k: round(staged[k] / direct[k], 2) if direct[k] else None
              for k in ("wall_s", "upload_s", "commit_s", "requests", "commits")}
    print(json.dumps({"files": args.files, "tasks": args.tasks, "budget": args.budget, "staged": staged,
                      "direct": direct, "staged_over_direct": ratios}, indent=2))


if __name__ == "__main__":
    main()
