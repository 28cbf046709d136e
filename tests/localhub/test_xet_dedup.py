"""Global dedup through the hub's Xet CAS, with the real huggingface_hub + hf_xet clients.

Two client processes, each with its OWN empty hf_xet cache (so the second cannot dedup from a local shard cache):
the first uploads ~8 MB, the second the same bytes with 100 bytes inserted in the middle. The second finds the first
one's xorb only by asking GET /v1/chunks/default/{chunk} (its first chunk is always queried) and loading the shard
the hub answers (`xet_shard.dedup_shard_bytes`); then it must upload only a small fraction of new bytes.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests
from huggingface_hub import HfApi

from hfconnect.localhub import LocalHub
from tests.conftest import WRITE_TOKEN

pytest.importorskip("hf_xet")
pytestmark = [pytest.mark.integration, pytest.mark.slow]

SIZE = 8_000_000
INSERT = 100

_UPLOAD = textwrap.dedent("""
    import sys
    from huggingface_hub import HfApi
    endpoint, token, repo_id, path, name = sys.argv[1:]
    HfApi(endpoint=endpoint, token=token).upload_file(
        path_or_fileobj=path, path_in_repo=name, repo_id=repo_id, repo_type="dataset")
""")


def _upload(hub: LocalHub, repo_id: str, path: Path, name: str, home: Path) -> None:
    """Upload through Xet in a fresh process: hf_xet reads its environment (cache dir included) once per process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_XET", "HF_HUB_DISABLE_XET"))}
    env.update(
        HF_HOME=str(home),
        HF_XET_CACHE=str(home / "xet"),  # empty: nothing to dedup against but what the hub answers
        HF_XET_TELEMETRY_ENABLED="false",
        HF_XET_CLIENT_RETRY_BASE_DELAY="100ms",
        HF_XET_CLIENT_RETRY_MAX_ATTEMPTS="2",
        NO_PROXY="127.0.0.1,localhost",
    )
    run = subprocess.run([sys.executable, "-c", _UPLOAD, hub.endpoint, WRITE_TOKEN, repo_id, str(path), name],
                         env=env, capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        xet_logs = "".join(p.read_text()[-4000:] for p in sorted((home / "xet").glob("logs/*.log")))
        pytest.fail(f"upload of {name} failed:\n{run.stdout}\n{run.stderr[-4000:]}\nhf_xet log:\n{xet_logs}")


def _xet(hub: LocalHub) -> dict[str, int]:
    return dict(hub.counters()["xet"])


def test_second_client_dedups_globally_against_the_first(own_hub: LocalHub, tmp_path: Path) -> None:
    rng = random.Random(20261207)
    original = rng.randbytes(SIZE)
    middle = SIZE // 2
    changed = original[:middle] + rng.randbytes(INSERT) + original[middle:]
    (tmp_path / "a.bin").write_bytes(original)
    (tmp_path / "b.bin").write_bytes(changed)
    repo_id = "dedup/ds"
    HfApi(endpoint=own_hub.endpoint, token=WRITE_TOKEN).create_repo(repo_id, repo_type="dataset")

    before = _xet(own_hub)
    _upload(own_hub, repo_id, tmp_path / "a.bin", "a.bin", tmp_path / "client-1")
    after_first = _xet(own_hub)
    first_new = after_first["xorb_bytes_new"] - before["xorb_bytes_new"]
    # The first upload is all new (random bytes do not compress: xorb bytes ~ file bytes).
    assert first_new >= SIZE * 0.9, (before, after_first)

    _upload(own_hub, repo_id, tmp_path / "b.bin", "b.bin", tmp_path / "client-2")
    after_second = _xet(own_hub)
    second_new = after_second["xorb_bytes_new"] - after_first["xorb_bytes_new"]
    # Only the chunks around the insert are new: a chunk is ~64 KiB on average, so a few hundred KB at most.
    assert after_second["dedup_hits"] > after_first["dedup_hits"], (after_first, after_second)
    assert second_new < SIZE * 0.05, f"second upload sent {second_new} new xorb bytes of {len(changed)}"

    # The deduplicated file reads back exactly: its terms span the first upload's xorb and the new one.
    for name, payload in (("a.bin", original), ("b.bin", changed)):
        got = requests.get(f"{own_hub.endpoint}/datasets/{repo_id}/resolve/main/{name}", timeout=60)
        assert got.status_code == 200 and got.content == payload, name
