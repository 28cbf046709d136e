"""The local hub's real-Hub mode behaves as huggingface.co does, and the Hub's own clients cope with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest
import requests

from tests.conftest import READ_TOKEN, WRITE_TOKEN
from tests.realhub.conftest import publish, start_hub

pytestmark = pytest.mark.integration


def _resolve(hub, repo_id: str, path: str, token: str | None = WRITE_TOKEN, method: str = "GET") -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{hub.endpoint}/datasets/{repo_id}/resolve/main/{path}", headers=headers,
                            allow_redirects=False, timeout=30)


def test_resolve_redirects_lfs_files_to_signed_urls_on_another_host(real_hub, dataset) -> None:
    path = "data/train-00000-of-00004.parquet"
    for method in ("HEAD", "GET"):
        r = _resolve(real_hub, dataset.repo_id, path, method=method)
        assert r.status_code == 302
        for header in ("X-Repo-Commit", "X-Linked-Etag", "X-Linked-Size", "ETag"):
            assert r.headers[header]
        assert r.headers["Location"].startswith(real_hub.cdn_endpoint)
        assert real_hub.cdn_endpoint.split(":")[1] != real_hub.endpoint.split(":")[1]  # another host
    body = requests.get(r.headers["Location"], headers={"Range": "bytes=0-3"}, timeout=30)
    assert body.status_code == 206 and body.content == b"PAR1"
    assert body.headers["Content-Range"].endswith(f"/{r.headers['X-Linked-Size']}")
    assert requests.get(r.headers["Location"].replace("Signature=", "Signature=0"), timeout=30).status_code == 403
    readme = _resolve(real_hub, dataset.repo_id, ".gitattributes")  # a small regular file: served directly
    assert readme.status_code == 200 and b"filter=lfs" in readme.content


def test_signed_urls_expire(tmp_path) -> None:
    hub = start_hub(tmp_path / "hub", url_expiry=1)
    try:
        ds = publish(hub, files=1, rows=100)
        location = _resolve(hub, ds.repo_id, "data/train-00000-of-00001.parquet").headers["Location"]
        assert requests.get(location, timeout=30).status_code == 200
        time.sleep(1.5)
        expired = requests.get(location, timeout=30)
        assert expired.status_code == 403 and b"expired" in expired.content
        assert hub.counters()["bridge"]["errors"] == 1  # a Xet file: the cas-bridge's URL
    finally:
        hub.close()


def test_rate_limits_answer_429_with_both_headers_until_the_window_resets(tmp_path) -> None:
    hub = start_hub(tmp_path / "hub", window=3, quotas={"api": 1000, "resolvers": 3},
                    anonymous_quotas={"api": 500, "resolvers": 2})
    try:
        ds = publish(hub, files=1, rows=100)
        hub.reset_limits()
        path = "data/train-00000-of-00001.parquet"
        answers = [_resolve(hub, ds.repo_id, path) for _ in range(4)]
        assert [a.status_code for a in answers] == [302, 302, 302, 429]
        assert [a.headers["RateLimit"].split(";")[1] for a in answers] == ["r=2", "r=1", "r=0", "r=0"]
        refused = answers[-1]
        reset = int(refused.headers["RateLimit"].split("t=")[1])
        assert 1 <= reset <= 3
        assert refused.headers["RateLimit-Policy"] == '"fixed window";"resolvers";q=3;w=3'
        # Anonymous callers have their own (per-IP) bucket and quota.
        assert [_resolve(hub, ds.repo_id, path, token=None).status_code for _ in range(3)] == [302, 302, 429]
        time.sleep(reset + 0.2)
        assert _resolve(hub, ds.repo_id, path).status_code == 302
        # CDN requests are not counted: the limited token still downloads from signed URLs it holds.
        assert requests.get(answers[0].headers["Location"], timeout=30).status_code == 200
        buckets = hub.counters()["rate_limits"]
        assert buckets["resolvers"]["limited"] == 2
    finally:
        hub.close()


def test_commits_are_limited_per_repo(tmp_path) -> None:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    hub = start_hub(tmp_path / "hub", commit_quota=2)
    try:
        api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)
        repo = f"real/commits-{uuid.uuid4().hex[:6]}"
        api.create_repo(repo, repo_type="dataset")
        for i in range(2):
            api.upload_file(path_or_fileobj=f"{i}".encode(), path_in_repo=f"f{i}.txt", repo_id=repo,
                            repo_type="dataset")
        with pytest.raises(HfHubHTTPError) as exc:
            api.upload_file(path_or_fileobj=b"x", path_in_repo="f2.txt", repo_id=repo, repo_type="dataset")
        assert exc.value.response.status_code == 429
        assert exc.value.response.headers["RateLimit"].startswith('"commits";r=0;')
        assert api.list_repo_files(repo, repo_type="dataset") == [".gitattributes", "f0.txt", "f1.txt"]
    finally:
        hub.close()


def test_unknown_token_is_refused_even_on_a_public_repo(real_hub, dataset) -> None:
    assert _resolve(real_hub, dataset.repo_id, "data/train-00000-of-00004.parquet", token="hf_nobody").status_code \
        == 401
    info = requests.get(f"{real_hub.endpoint}/api/datasets/{dataset.repo_id}",
                        headers={"Authorization": "Bearer hf_nobody"}, timeout=30)
    assert info.status_code == 401
    assert requests.get(f"{real_hub.endpoint}/api/datasets/{dataset.repo_id}", timeout=30).status_code == 200


def test_huggingface_hub_downloads_follow_redirects_without_leaking_the_token(real_hub, dataset) -> None:
    from huggingface_hub import HfFileSystem, hf_hub_download

    real_hub.reset_counters()
    path = "data/train-00001-of-00004.parquet"
    local = hf_hub_download(dataset.repo_id, path, repo_type="dataset", endpoint=real_hub.endpoint,
                            token=READ_TOKEN, cache_dir=os.environ["HF_HOME"] + f"/dl-{uuid.uuid4().hex[:6]}")
    with open(local, "rb") as f:
        assert f.read(4) == b"PAR1"
    fs = HfFileSystem(endpoint=real_hub.endpoint, token=READ_TOKEN)
    with fs.open(f"datasets/{dataset.repo_id}/{path}", "rb") as f:
        f.seek(-4, 2)
        assert f.read(4) == b"PAR1"
    c = real_hub.counters()  # hf_hub_download through hf_xet (ranged xorb reads); HfFileSystem's range: the bridge
    assert c["xorb"]["requests"] >= 1 and c["bridge"]["requests"] >= 1
    assert c["cdn"]["authorized"] == c["bridge"]["authorized"] == c["xorb"]["authorized"] == 0


def test_datasets_and_pandas_read_in_real_hub_mode(real_hub, dataset, tmp_path) -> None:
    """`datasets` and pandas read HF_ENDPOINT at import, so they run in a process of their own."""
    code = f"""
import json, datasets, pandas as pd
repo = {dataset.repo_id!r}
full = datasets.load_dataset(repo, split="train")
stream = sum(1 for _ in datasets.load_dataset(repo, split="train", streaming=True))
frame = pd.read_parquet(f"hf://datasets/{{repo}}/data/train-00000-of-00004.parquet")
print(json.dumps({{"rows": full.num_rows, "stream": stream, "pandas": len(frame)}}))
"""
    env = dict(os.environ, HF_ENDPOINT=real_hub.endpoint, HF_HOME=str(tmp_path / "home"), HF_TOKEN=READ_TOKEN)
    real_hub.reset_counters()
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"rows": dataset.table.num_rows, "stream": dataset.table.num_rows, "pandas": 20_000}
    assert real_hub.counters()["cdn"]["authorized"] == 0
