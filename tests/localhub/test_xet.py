"""The local hub speaks Xet as huggingface.co does, checked with the REAL clients (huggingface_hub + hf_xet):
uploads go through the token endpoint and the CAS, commits remember the Xet file hash, downloads go through
hf_xet (reconstruction + ranged xorb reads) or, for plain HTTP clients, a 302 to the bridge on the other
listener; no token ever reaches the xorb or bridge URLs; tokens' rights hold; bad shards are refused; LFS files
stay readable beside Xet files; the LFS-only variant still works; a restarted hub still serves everything; and
no client request ever hits a route the hub does not know (protocol drift fails here, not silently).

The suite runs with Xet on (tests/conftest.py), as huggingface_hub does against huggingface.co.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from hfconnect.localhub import HubMode, LocalHub
from hfconnect.localhub.xet_shard import Shard, ShardFile, ShardTerm, shard_bytes
from tests.conftest import READ_TOKEN, WRITE_TOKEN

pytestmark = pytest.mark.integration

_RNG = __import__("random").Random(19)
BLOB = _RNG.randbytes(600_000) + bytes(200_000)  # random + compressible: more than one chunk, two schemes
_CLIENT_ENV = {"HF_XET_CLIENT_RETRY_BASE_DELAY": "100ms", "HF_XET_CLIENT_RETRY_MAX_ATTEMPTS": "2",
               "NO_PROXY": "127.0.0.1,localhost"}


def _parquet() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"id": list(range(20_000)), "text": [f"row {i} " * 3 for i in range(20_000)]})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


@pytest.fixture(scope="module", autouse=True)
def xet_client() -> Iterator[None]:
    """The clients in this process must use Xet. Quick retries while this module runs (hf_xet reads them when its
    session starts, so they matter only if this module starts it); the environment is restored after."""
    import huggingface_hub.constants as constants

    assert not constants.HF_HUB_DISABLE_XET, "Xet is off in this process (HF_HUB_DISABLE_XET is set)"
    import hf_xet  # noqa: F401 - huggingface_hub uploads through Xet only when it imports

    saved = {key: os.environ.get(key) for key in _CLIENT_ENV}
    for key, value in _CLIENT_ENV.items():
        os.environ.setdefault(key, value)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def xhub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHub]:
    """A Xet hub of this module (its counters are this module's); each test resets them first."""
    root = tmp_path_factory.mktemp("xet-hub")
    with LocalHub(root / "hub", tokens={WRITE_TOKEN: "write", READ_TOKEN: "read"},
                  log_file=root / "hub.log") as hub:
        yield hub
        assert hub.counters()["unknown_routes"] == []


@pytest.fixture
def hub(xhub: LocalHub) -> LocalHub:
    xhub.reset_counters()
    return xhub


def _api(hub: LocalHub, token: str | None = WRITE_TOKEN):
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub.endpoint, token=token or False)


def _repo(hub: LocalHub) -> str:
    rid = f"xet/ds-{uuid.uuid4().hex[:8]}"
    _api(hub).create_repo(rid, repo_type="dataset")
    return rid


def _clean(counters: dict[str, Any]) -> None:
    """What must hold after any client traffic: no token at xorb/bridge URLs, no unknown route."""
    assert counters["xorb"]["authorized"] == 0 and counters["bridge"]["authorized"] == 0, counters
    assert counters["unknown_routes"] == [], counters["unknown_routes"]


def test_upload_commit_list_and_download_through_xet(hub: LocalHub, tmp_path: Path) -> None:
    from huggingface_hub import CommitOperationAdd, hf_hub_download

    rid, parquet = _repo(hub), _parquet()
    api = _api(hub)
    api.upload_file(path_or_fileobj=BLOB, path_in_repo="data/blob.bin", repo_id=rid, repo_type="dataset")
    info = api.create_commit(rid, repo_type="dataset", commit_message="parquet", operations=[
        CommitOperationAdd("data/train.parquet", parquet), CommitOperationAdd("README.md", b"# small\n")])
    c = hub.counters()
    assert c["xet-token"]["requests"] >= 1 and c["cas_routes"]["POST /v1/shards"]["requests"] == 2
    assert c["cas_routes"]["POST /v1/xorbs"]["requests"] >= 2 and c["xet"]["xorbs_new"] >= 2
    assert c["xet"]["file_bytes_committed"] == len(BLOB) + len(parquet)
    assert c["upload"]["requests"] == 2  # the two preupload calls: no LFS batch, no LFS PUT

    tree = {f.path: f for f in api.list_repo_tree(rid, repo_type="dataset", recursive=True)}
    for path, data in (("data/blob.bin", BLOB), ("data/train.parquet", parquet)):
        entry = tree[path]
        assert entry.xet_hash and len(entry.xet_hash) == 64, entry
        assert entry.lfs.sha256 == hashlib.sha256(data).hexdigest() and entry.size == len(data)
    assert tree["README.md"].xet_hash is None  # small text: inline in the commit, as on the Hub
    infos = {p.path: p for p in api.get_paths_info(rid, ["data/blob.bin", "data/train.parquet"], repo_type="dataset",
                                                   revision=info.oid)}
    assert infos["data/train.parquet"].xet_hash == tree["data/train.parquet"].xet_hash

    hub.reset_counters()
    for path, data in (("data/blob.bin", BLOB), ("data/train.parquet", parquet)):
        got = hf_hub_download(rid, path, repo_type="dataset", endpoint=hub.endpoint, token=WRITE_TOKEN,
                              cache_dir=tmp_path / "cache")
        assert Path(got).read_bytes() == data
    c = hub.counters()
    assert c["cas_routes"]["GET /v1/reconstructions"]["requests"] >= 2 and c["xorb"]["requests"] >= 2
    assert c["bridge"]["requests"] == 0  # hf_xet read through the CAS, not the bridge
    _clean(c)


def test_resolve_redirects_to_the_bridge_which_serves_ranges_without_a_token(hub: LocalHub) -> None:
    rid = _repo(hub)
    commit = _api(hub).upload_file(path_or_fileobj=BLOB, path_in_repo="blob.bin", repo_id=rid,
                                   repo_type="dataset").oid
    url = f"{hub.endpoint}/datasets/{rid}/resolve/main/blob.bin"
    auth = {"Authorization": f"Bearer {WRITE_TOKEN}"}
    head = requests.head(url, headers=auth, allow_redirects=False)
    assert head.status_code == 302
    h = head.headers
    xet_hash = h["X-Xet-Hash"]
    assert len(xet_hash) == 64 and h["X-Linked-Size"] == str(len(BLOB)) and h["X-Repo-Commit"] == commit
    assert h["X-Linked-Etag"] == f'"{hashlib.sha256(BLOB).hexdigest()}"' and h["ETag"]
    assert h["Link"] == (f'<{hub.endpoint}/api/datasets/{rid}/xet-read-token/{commit}>; rel="xet-auth"')
    location = h["Location"]
    assert location.startswith(f"{hub.cas_endpoint}/bridge/") and hub.cas_endpoint != hub.endpoint
    mode = requests.get(f"{hub.endpoint}/_admin/mode").json()
    assert (mode["xet"], mode["cas_endpoint"], mode["xet_token_expiry"]) == (True, hub.cas_endpoint, 3600.0)

    # a plain client: GET with Range, follow the redirect (requests drops the token on another origin)
    r = requests.get(url, headers={**auth, "Range": "bytes=599990-600009"})
    assert r.status_code == 206 and r.content == BLOB[599990:600010]
    assert r.history[0].status_code == 302
    assert r.headers["Content-Range"] == f"bytes 599990-600009/{len(BLOB)}"
    bridge_head = requests.head(location)
    assert bridge_head.status_code == 200 and bridge_head.headers["Content-Length"] == str(len(BLOB))
    assert requests.get(location, headers={"Range": f"bytes={len(BLOB)}-"}).status_code == 416
    assert requests.get(location).content == BLOB
    c = hub.counters()
    assert c["bridge"]["requests"] == 4
    _clean(c)

    # the read token, as huggingface_hub reads it (headers) and hf_xet (JSON)
    tok = requests.get(f"{hub.endpoint}/api/datasets/{rid}/xet-read-token/{commit}")
    assert tok.status_code == 200  # a public repo: anonymous may read
    body = tok.json()
    assert body["casUrl"] == tok.headers["X-Xet-Cas-Url"] == hub.cas_endpoint
    assert body["accessToken"] == tok.headers["X-Xet-Access-Token"]
    assert body["exp"] == int(tok.headers["X-Xet-Token-Expiration"])
    # ...and a reconstruction with it, trimmed at chunk boundaries, 416 past the end
    recon = f"{hub.cas_endpoint}/v1/reconstructions/{xet_hash}"
    bearer = {"Authorization": f"Bearer {body['accessToken']}"}
    r = requests.get(recon, headers={**bearer, "Range": "bytes=700000-700009"})
    assert r.status_code == 200 and 0 < r.json()["offset_into_first_range"] < 128 * 1024
    assert requests.get(recon, headers={**bearer, "Range": f"bytes={len(BLOB)}-"}).status_code == 416
    assert requests.get(recon).status_code == 401
    assert requests.get(recon, headers={"Authorization": "Bearer xet_forged.0000"}).status_code == 401


def test_hf_filesystem_reads_ranges_and_whole_files(hub: LocalHub, tmp_path: Path) -> None:
    from huggingface_hub import HfFileSystem

    rid = _repo(hub)
    _api(hub).upload_file(path_or_fileobj=BLOB, path_in_repo="data/blob.bin", repo_id=rid, repo_type="dataset")
    fs = HfFileSystem(endpoint=hub.endpoint, token=WRITE_TOKEN, skip_instance_cache=True)
    path = f"datasets/{rid}/data/blob.bin"
    with fs.open(path, "rb", block_size=64 * 1024) as f:
        f.seek(123_456)
        assert f.read(1000) == BLOB[123_456:124_456]
    fs.get_file(path, str(tmp_path / "copy.bin"))
    assert (tmp_path / "copy.bin").read_bytes() == BLOB
    c = hub.counters()
    assert c["bridge"]["requests"] >= 1  # the ranged read went through /resolve/ -> bridge
    _clean(c)


def test_a_re_upload_of_the_same_bytes_sends_no_new_xorb(hub: LocalHub) -> None:
    rid = _repo(hub)
    data = _RNG.randbytes(300_000)
    _api(hub).upload_file(path_or_fileobj=data, path_in_repo="a.bin", repo_id=rid, repo_type="dataset")
    first = hub.counters()["xet"]
    assert first["xorbs_new"] == 1 and first["xorb_bytes_new"] >= len(data)
    hub.reset_counters()
    _api(hub).upload_file(path_or_fileobj=data, path_in_repo="b.bin", repo_id=rid, repo_type="dataset")
    again = hub.counters()
    assert again["xet"]["xorbs_new"] == 0 and again["xet"]["xorb_bytes_new"] == 0, again["xet"]
    assert again["xet"]["file_bytes_committed"] == len(data)
    _clean(again)


def test_token_rights(hub: LocalHub) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    rid = _repo(hub)
    url = f"{hub.endpoint}/api/datasets/{rid}/xet-write-token/main"
    assert requests.get(url, headers={"Authorization": f"Bearer {READ_TOKEN}"}).status_code == 403
    assert requests.get(url).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer hf_unknown"}).status_code == 401
    pr = requests.get(f"{hub.endpoint}/api/datasets/{rid}/xet-write-token/None?create_pr=1",
                      headers={"Authorization": f"Bearer {WRITE_TOKEN}"})
    assert pr.status_code == 200 and pr.json()["accessToken"]
    with pytest.raises((HfHubHTTPError, PermissionError, ConnectionError, RuntimeError)):
        _api(hub, READ_TOKEN).upload_file(path_or_fileobj=BLOB, path_in_repo="x.bin", repo_id=rid,
                                          repo_type="dataset")
    assert "x.bin" not in _api(hub).list_repo_files(rid, repo_type="dataset")
    # a read token does not upload to the CAS either
    read = requests.get(f"{hub.endpoint}/api/datasets/{rid}/xet-read-token/main").json()["accessToken"]
    r = requests.post(f"{hub.cas_endpoint}/v1/xorbs/default/{'0' * 64}", data=b"x",
                      headers={"Authorization": f"Bearer {read}"})
    assert r.status_code == 403
    assert hub.counters()["cas_routes"]["POST /v1/xorbs"] == {"requests": 1, "errors": 1, "authorized": 1}


def test_a_shard_naming_an_unknown_xorb_is_refused(hub: LocalHub) -> None:
    rid = _repo(hub)
    token = requests.get(f"{hub.endpoint}/api/datasets/{rid}/xet-write-token/main",
                         headers={"Authorization": f"Bearer {WRITE_TOKEN}"}).json()["accessToken"]
    missing = "ab" * 32
    shard = Shard((ShardFile("cd" * 32, (ShardTerm(missing, 0, 10, 0, 1),), "ef" * 32),), ())
    r = requests.post(f"{hub.cas_endpoint}/v1/shards", data=shard_bytes(shard),
                      headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400 and missing in r.json()["error"]
    r = requests.post(f"{hub.cas_endpoint}/v1/xorbs/default/{missing}", data=b"\0" * 16,
                      headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400 and missing in r.json()["error"]
    assert hub.counters()["xet"]["shards"] == 0


def test_a_commit_naming_a_false_sha256_claim_is_refused(hub: LocalHub) -> None:
    """The CAS answers a shard before it has checked its sha256 claims (the check runs in the background); a
    commit naming a claim its bytes do not hash to waits for the check and is refused, naming both hashes, with
    the repo unchanged. The true claim then commits."""
    import json

    from tests.unit.localhub.test_xet_store import A_BODY, A_CHUNKS, A_INFO, A_NAME, shard_file

    rid = _repo(hub)
    auth = {"Authorization": f"Bearer {WRITE_TOKEN}"}
    token = requests.get(f"{hub.endpoint}/api/datasets/{rid}/xet-write-token/main", headers=auth).json()
    cas = {"Authorization": f"Bearer {token['accessToken']}"}
    assert requests.post(f"{hub.cas_endpoint}/v1/xorbs/default/{A_NAME}", data=A_BODY, headers=cas).ok
    true_sha = hashlib.sha256(b"".join(A_CHUNKS)).hexdigest()
    before = _api(hub).dataset_info(rid).sha
    for claim, status in (("0" * 64, 400), (true_sha, 200)):
        f = shard_file([(A_INFO, 0, len(A_CHUNKS))], claim)
        r = requests.post(f"{hub.cas_endpoint}/v1/shards", data=shard_bytes(Shard((f,), (A_INFO,))), headers=cas)
        assert r.ok, r.text
        lines = [{"key": "header", "value": {"summary": "xet file"}},
                 {"key": "lfsFile", "value": {"path": "a.bin", "algo": "sha256", "oid": claim,
                                              "size": len(b"".join(A_CHUNKS))}}]
        r = requests.post(f"{hub.endpoint}/api/datasets/{rid}/commit/main", headers=auth,
                          data="\n".join(json.dumps(line) for line in lines))
        assert r.status_code == status, r.text
        if status == 400:
            assert f"hash to sha256 {true_sha}, not {claim}" in r.json()["error"]
            assert _api(hub).dataset_info(rid).sha == before
    assert requests.get(f"{hub.endpoint}/datasets/{rid}/resolve/main/a.bin").content == b"".join(A_CHUNKS)


_LFS_CLIENT = textwrap.dedent("""
    import hashlib, sys, tempfile
    from huggingface_hub import HfApi, hf_hub_download
    endpoint, token, repo_id, name, size, *others = sys.argv[1:]
    data = bytes(range(256)) * (int(size) // 256)
    api = HfApi(endpoint=endpoint, token=token)
    api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
    api.upload_file(path_or_fileobj=data, path_in_repo=name, repo_id=repo_id, repo_type="dataset")
    for path in (name, *others):
        got = hf_hub_download(repo_id, path, repo_type="dataset", endpoint=endpoint, token=token,
                              cache_dir=tempfile.mkdtemp())
        print(hashlib.sha256(open(got, "rb").read()).hexdigest())
""")


def _lfs_client(hub: LocalHub, rid: str, name: str, size: int, *others: str) -> list[str]:
    """An LFS-only client (HF_HUB_DISABLE_XET=1) in its own process: upload `name`, then download it and
    `others`; the sha256 of each download (checked for `name`)."""
    env = {**os.environ, **_CLIENT_ENV, "HF_HUB_DISABLE_XET": "1"}
    run = subprocess.run([sys.executable, "-c", _LFS_CLIENT, hub.endpoint, WRITE_TOKEN, rid, name, str(size),
                          *others], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    shas = run.stdout.split()
    assert shas[0] == hashlib.sha256(bytes(range(256)) * (size // 256)).hexdigest()
    return shas[1:]


def test_lfs_files_stay_readable_beside_xet_files(hub: LocalHub, tmp_path: Path) -> None:
    from huggingface_hub import hf_hub_download

    rid = _repo(hub)
    _api(hub).upload_file(path_or_fileobj=BLOB, path_in_repo="new.bin", repo_id=rid, repo_type="dataset")
    hub.reset_counters()
    # an LFS-only client writes through LFS, and reads the Xet file through the 302 to the bridge
    assert _lfs_client(hub, rid, "old.bin", 256 * 1000, "new.bin") == [hashlib.sha256(BLOB).hexdigest()]
    c = hub.counters()
    assert c["upload"]["requests"] >= 2 and c["bridge"]["requests"] >= 1  # preupload + LFS batch (+ PUT)
    tree = {f.path: f for f in _api(hub).list_repo_tree(rid, repo_type="dataset")}
    assert tree["old.bin"].xet_hash is None and tree["new.bin"].xet_hash
    for name, data in (("old.bin", bytes(range(256)) * 1000), ("new.bin", BLOB)):
        got = hf_hub_download(rid, name, repo_type="dataset", endpoint=hub.endpoint, cache_dir=tmp_path / "c")
        assert Path(got).read_bytes() == data
    old = requests.get(f"{hub.endpoint}/datasets/{rid}/resolve/main/old.bin", headers={"Range": "bytes=0-9"},
                       allow_redirects=False)
    assert old.status_code == 206 and "X-Xet-Hash" not in old.headers  # served by the hub itself, as before
    _clean(hub.counters())


def test_the_lfs_only_hub(tmp_path: Path) -> None:
    with LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write"}, mode=HubMode(xet=False),
                  log_file=tmp_path / "hub.log") as hub:
        assert hub.cas_endpoint == ""
        _api(hub).create_repo("lfs/ds", repo_type="dataset")
        r = requests.get(f"{hub.endpoint}/api/datasets/lfs/ds/xet-write-token/main",
                         headers={"Authorization": f"Bearer {WRITE_TOKEN}"})
        assert r.status_code == 404
        _lfs_client(hub, "lfs/ds", "data.bin", 256 * 400)
        assert requests.get(f"{hub.endpoint}/_admin/mode").json()["xet"] is False
        assert hub.counters()["unknown_routes"] == ["GET /api/datasets/lfs/ds/xet-write-token/main"]


def test_a_restarted_hub_still_serves_xet_files(tmp_path: Path) -> None:
    from huggingface_hub import hf_hub_download

    root = tmp_path / "hub"
    hub = LocalHub(root, tokens={WRITE_TOKEN: "write"}, log_file=tmp_path / "hub.log").start()
    try:
        _api(hub).create_repo("re/ds", repo_type="dataset")
        _api(hub).upload_file(path_or_fileobj=BLOB, path_in_repo="blob.bin", repo_id="re/ds", repo_type="dataset")
        hub.stop()
        hub.start()
        got = hf_hub_download("re/ds", "blob.bin", repo_type="dataset", endpoint=hub.endpoint,
                              cache_dir=tmp_path / "cache")
        assert Path(got).read_bytes() == BLOB
        r = requests.get(f"{hub.endpoint}/datasets/re/ds/resolve/main/blob.bin", headers={"Range": "bytes=5-9"})
        assert r.status_code == 206 and r.content == BLOB[5:10]
        # and the restarted CAS still dedups: the same bytes again upload no xorb
        _api(hub).upload_file(path_or_fileobj=BLOB, path_in_repo="again.bin", repo_id="re/ds", repo_type="dataset")
        c = hub.counters()
        assert c["cas_routes"]["GET /v1/reconstructions"]["requests"] >= 1 and c["xet"]["xorbs_new"] == 0
        _clean(c)
    finally:
        hub.close()


def test_the_real_hub_mode_puts_the_cas_on_the_other_host(tmp_path: Path) -> None:
    """As on huggingface.co: the CAS and bridge on another host (127.0.0.2); the token endpoints count as API
    calls in the rate-limit bucket, the CAS routes in none."""
    from huggingface_hub import hf_hub_download

    with LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write"}, mode=HubMode.real_hub(),
                  log_file=tmp_path / "hub.log") as hub:
        assert hub.cas_endpoint == hub.cdn_endpoint and hub.cas_endpoint.startswith("http://127.0.0.2:")
        _api(hub).create_repo("rh/ds", repo_type="dataset")
        _api(hub).upload_file(path_or_fileobj=BLOB, path_in_repo="blob.bin", repo_id="rh/ds", repo_type="dataset")
        got = hf_hub_download("rh/ds", "blob.bin", repo_type="dataset", endpoint=hub.endpoint, token=WRITE_TOKEN,
                              cache_dir=tmp_path / "cache")
        assert Path(got).read_bytes() == BLOB
        r = requests.get(f"{hub.endpoint}/datasets/rh/ds/resolve/main/blob.bin", headers={"Range": "bytes=0-3"})
        assert r.status_code == 206 and r.content == BLOB[:4] and r.url.startswith(hub.cas_endpoint)
        c = hub.counters()
        api_calls = c["rate_limits"]["api"]["requests"]
        assert c["xet-token"]["requests"] >= 2 and api_calls >= c["xet-token"]["requests"]
        assert sum(row["requests"] for row in c["cas_routes"].values()) > 0
        _clean(c)


def test_the_client_rides_out_cas_503s_and_a_xorb_upload_dropped_mid_body(tmp_path: Path) -> None:
    with LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write"}, log_file=tmp_path / "hub.log") as hub:
        _api(hub).create_repo("f/ds", repo_type="dataset")
        hub.set_faults([{"route": "cas", "action": "reset_after", "after_bytes": 50_000, "times": 1,
                         "match": "/v1/xorbs/"},
                        {"route": "cas", "action": "status", "status": 503, "times": 1, "match": "/v1/shards"}])
        _api(hub).upload_file(path_or_fileobj=BLOB, path_in_repo="blob.bin", repo_id="f/ds", repo_type="dataset")
        c = hub.counters()
        assert c["cas"]["faults"] == 2 and c["cas_routes"]["POST /v1/xorbs"]["requests"] >= 2
        assert c["xet"]["xorbs_new"] >= 1 and c["xet"]["shards"] == 1
        assert requests.get(f"{hub.endpoint}/datasets/f/ds/resolve/main/blob.bin").content == BLOB
        _clean(c)
