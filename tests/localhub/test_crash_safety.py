"""kill -9 in the middle of a stream of commits: after a restart every ref points to a complete commit, every
acknowledged commit is there, and every file of every commit reads back intact."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time

import pytest
import requests
from huggingface_hub import CommitOperationAdd, HfApi

from hfconnect.localhub import LocalHub
from tests.conftest import WRITE_TOKEN

pytestmark = pytest.mark.integration

# A writer in its own process prints each commit id once the hub acknowledged it.
WRITER = """
import os, sys
from huggingface_hub import CommitOperationAdd, HfApi
api = HfApi(endpoint=sys.argv[1], token=sys.argv[2])
for i in range(10_000):
    info = api.create_commit("crash/ds", repo_type="dataset", commit_message=f"{sys.argv[3]}-{i}", operations=[
        CommitOperationAdd(f"data/{sys.argv[3]}-{i:04d}.parquet", os.urandom(300_000 + i)),
        CommitOperationAdd("latest.txt", f"{sys.argv[3]}-{i}".encode()),
    ])
    print(info.oid, flush=True)
"""


def _verify_repo(endpoint: str, repo: str) -> int:
    """Every commit lists; each distinct content is downloaded and hashed once; the heads resolve whole."""
    api = HfApi(endpoint=endpoint, token=WRITE_TOKEN)
    verified: set[str] = set()
    checked = 0
    for ref in api.list_repo_refs(repo, repo_type="dataset").branches:
        for commit in api.list_repo_commits(repo, repo_type="dataset", revision=ref.target_commit):
            for entry in api.list_repo_tree(repo, repo_type="dataset", revision=commit.commit_id, recursive=True):
                if entry.__class__.__name__ != "RepoFile":
                    continue
                url = f"{endpoint}/datasets/{repo}/resolve/{commit.commit_id}/{entry.path}"
                if entry.blob_id in verified:  # same content already read back through another commit
                    if commit.commit_id == ref.target_commit:
                        head = requests.head(url)
                        assert head.status_code == 200 and int(head.headers["Content-Length"]) == entry.size
                    continue
                body = requests.get(url).content
                assert len(body) == entry.size, entry.path
                if entry.lfs:
                    assert hashlib.sha256(body).hexdigest() == entry.lfs.sha256, entry.path
                else:
                    assert hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest() == entry.blob_id
                verified.add(entry.blob_id)
                checked += 1
    return checked


@pytest.mark.parametrize("kill_after", [1.0, 2.3])
def test_kill_9_mid_commit_stream(tmp_path, kill_after: float) -> None:
    root = tmp_path / "hub"
    hub = LocalHub(root, tokens={WRITE_TOKEN: "write"})
    hub.start()
    writers: list[subprocess.Popen[str]] = []
    try:
        HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN).create_repo("crash/ds", repo_type="dataset")
        writers = [subprocess.Popen([sys.executable, "-c", WRITER, hub.endpoint, WRITE_TOKEN, f"w{n}"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                   for n in range(2)]
        time.sleep(kill_after)
        hub.kill()
        acked = []
        for w in writers:
            w.kill()
            acked += w.communicate()[0].split()
        assert acked, "no commit landed before the kill: the test proves nothing"
        hub.start()  # same root, fresh process
        api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)
        history = {c.commit_id for c in api.list_repo_commits("crash/ds", repo_type="dataset")}
        assert set(acked) <= history  # every acknowledged commit survived
        assert _verify_repo(hub.endpoint, "crash/ds") >= len(acked)
        assert not list((root / "tmp").iterdir())  # the crash's temp files were swept at start
        api.create_commit("crash/ds", repo_type="dataset", commit_message="after",
                          operations=[CommitOperationAdd("after.txt", b"ok")])
    finally:
        for w in writers:
            if w.poll() is None:
                w.kill()
                w.wait()
        hub.close()
