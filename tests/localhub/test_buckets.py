"""Storage Buckets on the local hub, checked with the REAL clients (huggingface_hub + hf_xet): bytes uploaded
through the bucket's Xet write token come back byte for byte through `download_bucket_files` (hf_xet), HfFileSystem
(ranges through the bridge) and `resolve`; tree listings carry size, xetHash and mtime as the client parses them;
rights are the repos' (private buckets invisible to anonymous callers); a bucket's Xet token reconstructs only the
files the bucket holds now; the real-Hub mode redirects and rate-limits bucket traffic; fault rules hit bucket
routes; a restarted hub still serves its buckets; and no client request reaches a route the hub does not know."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from hfconnect.localhub import HubMode, LocalHub
from tests.conftest import READ_TOKEN, WRITE_TOKEN
from tests.localhub.test_xet import xet_client  # noqa: F401 - the same autouse fixture: Xet on, quick retries

pytestmark = pytest.mark.integration

_RNG = random.Random(23)
BLOB = _RNG.randbytes(700_000) + bytes(100_000)  # more than one chunk, two compression schemes


@pytest.fixture(scope="module")
def bhub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHub]:
    """A hub of this module (its counters are this module's)."""
    root = tmp_path_factory.mktemp("bucket-hub")
    with LocalHub(root / "hub", tokens={WRITE_TOKEN: "write", READ_TOKEN: "read"},
                  log_file=root / "hub.log") as hub:
        yield hub
        assert hub.counters()["unknown_routes"] == []


def _api(hub: LocalHub, token: str | None = WRITE_TOKEN):
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub.endpoint, token=token or False)


def _fs(hub: LocalHub, token: str | None = WRITE_TOKEN):
    from huggingface_hub import HfFileSystem

    return HfFileSystem(endpoint=hub.endpoint, token=token or False, skip_instance_cache=True)


def _bucket(hub: LocalHub, private: bool = False) -> str:
    return _api(hub).create_bucket(f"me/b-{uuid.uuid4().hex[:8]}", private=private).bucket_id


def _clean(counters: dict[str, Any]) -> None:
    """No token at xorb/bridge URLs, no unknown route."""
    assert counters["xorb"]["authorized"] == 0 and counters["bridge"]["authorized"] == 0, counters
    assert counters["unknown_routes"] == [], counters["unknown_routes"]


def test_upload_list_and_read_back_byte_for_byte(bhub: LocalHub, tmp_path: Path) -> None:
    from huggingface_hub import BucketFile, BucketFolder

    api, bid = _api(bhub), _bucket(bhub, private=True)
    before = time.time()
    api.batch_bucket_files(bid, add=[(BLOB, "data/sub/blob.bin"), (b"hello", "top.txt")])
    c = bhub.counters()
    assert c["cas_routes"]["POST /v1/shards"]["errors"] == 0 and c["commit"]["errors"] == 0

    top = list(api.list_bucket_tree(bid))
    assert [(type(e), e.path) for e in top] == [(BucketFolder, "data"), (BucketFile, "top.txt")]
    files = {e.path: e for e in api.list_bucket_tree(bid, recursive=True)}
    assert sorted(files) == ["data/sub/blob.bin", "top.txt"]
    blob = files["data/sub/blob.bin"]
    assert blob.size == len(BLOB) and len(blob.xet_hash) == 64
    assert blob.mtime is not None and abs(blob.mtime.timestamp() - before) < 60 and blob.uploaded_at is not None
    assert [e.path for e in api.list_bucket_tree(bid, prefix="data/sub")] == ["data/sub/blob.bin"]
    infos = list(api.get_bucket_paths_info(bid, ["top.txt", "missing.txt", "data"]))
    assert [(i.path, i.size) for i in infos] == [("top.txt", 5)]
    info = api.bucket_info(bid)
    assert (info.id, info.private, info.size, info.total_files) == (bid, True, len(BLOB) + 5, 2)
    assert bid in [b.id for b in api.list_buckets(search=bid.split("/")[1])]

    meta = api.get_bucket_file_metadata(bid, "data/sub/blob.bin")
    assert meta.size == len(BLOB) and meta.xet_file_data.file_hash == blob.xet_hash
    api.download_bucket_files(bid, [("data/sub/blob.bin", tmp_path / "blob.bin"), (files["top.txt"], tmp_path / "t")])
    assert (tmp_path / "blob.bin").read_bytes() == BLOB and (tmp_path / "t").read_bytes() == b"hello"

    fs = _fs(bhub, READ_TOKEN)
    assert fs.ls(f"buckets/{bid}/data", detail=False) == [f"buckets/{bid}/data/sub"]
    assert fs.cat(f"buckets/{bid}/data/sub/blob.bin") == BLOB
    with fs.open(f"buckets/{bid}/data/sub/blob.bin", "rb", block_size=64 * 1024) as f:
        f.seek(123_456)
        assert f.read(200_000) == BLOB[123_456:323_456]
    fs.get(f"buckets/{bid}/top.txt", str(tmp_path / "got.txt"))
    assert (tmp_path / "got.txt").read_bytes() == b"hello"

    # mutable, without commits: HfFileSystem overwrites and removes in place
    wfs = _fs(bhub)
    with wfs.open(f"buckets/{bid}/top.txt", "wb") as f:
        f.write(b"replaced")
    wfs.rm(f"buckets/{bid}/data/sub/blob.bin")
    assert _fs(bhub, READ_TOKEN).cat(f"buckets/{bid}/top.txt") == b"replaced"
    assert [e.path for e in api.list_bucket_tree(bid, recursive=True)] == ["top.txt"]
    c = bhub.counters()
    assert c["bridge"]["requests"] >= 1 and c["cas_routes"]["GET /v1/reconstructions"]["requests"] >= 1
    _clean(c)


def test_rights_are_the_repos(bhub: LocalHub) -> None:
    from huggingface_hub.errors import BucketNotFoundError, HfHubHTTPError

    private, public = _bucket(bhub, private=True), _bucket(bhub)
    for bid in (private, public):
        _api(bhub).batch_bucket_files(bid, add=[(b"x" * 1000, "f.bin")])
    anon, reader = _api(bhub, None), _api(bhub, READ_TOKEN)
    with pytest.raises(BucketNotFoundError):
        anon.bucket_info(private)
    assert requests.head(f"{bhub.endpoint}/buckets/{private}/resolve/f.bin").status_code == 404
    assert requests.get(f"{bhub.endpoint}/api/buckets/{private}/xet-read-token").status_code == 404
    assert private not in [b.id for b in anon.list_buckets(namespace=private.split("/")[0])]
    assert reader.bucket_info(private).private and _fs(bhub, None).cat(f"buckets/{public}/f.bin") == b"x" * 1000
    for call in (lambda: reader.create_bucket("me/nope"), lambda: reader.delete_bucket(public),
                 lambda: reader.batch_bucket_files(public, delete=["f.bin"])):
        with pytest.raises(HfHubHTTPError) as err:
            call()
        assert err.value.response.status_code == 403
    with pytest.raises(ConnectionError, match="403 Forbidden"):  # hf_xet asks the Xet write token itself
        reader.batch_bucket_files(public, add=[(b"y", "y.bin")])
    with pytest.raises(HfHubHTTPError) as err:
        anon.create_bucket("someone/nope")
    assert err.value.response.status_code == 401
    bogus = requests.get(f"{bhub.endpoint}/api/buckets/{public}", headers={"Authorization": "Bearer hf_unknown"})
    assert bogus.status_code == 401 and "hf_unknown" not in bogus.text
    _api(bhub).update_bucket_settings(private, private=False)
    assert anon.bucket_info(private).private is False
    _api(bhub).delete_bucket(public)
    _api(bhub).delete_bucket(public, missing_ok=True)
    with pytest.raises(BucketNotFoundError):
        reader.bucket_info(public)


def _reconstruct(hub: LocalHub, bid: str, xet_hash: str) -> int:
    token = requests.get(f"{hub.endpoint}/api/buckets/{bid}/xet-read-token",
                         headers={"Authorization": f"Bearer {READ_TOKEN}"}).json()
    r = requests.get(f"{token['casUrl']}/v1/reconstructions/{xet_hash}",
                     headers={"Authorization": f"Bearer {token['accessToken']}"})
    return r.status_code


def test_a_bucket_token_reconstructs_only_what_the_bucket_holds_and_copies_need_a_source(bhub: LocalHub) -> None:
    from huggingface_hub.errors import BucketBatchError

    api = _api(bhub)
    mine, other = _bucket(bhub), _bucket(bhub, private=True)
    secret = _RNG.randbytes(50_000)
    api.batch_bucket_files(other, add=[(secret, "secret.bin")])
    (entry,) = api.get_bucket_paths_info(other, ["secret.bin"])
    assert _reconstruct(bhub, other, entry.xet_hash) == 200
    assert _reconstruct(bhub, mine, entry.xet_hash) == 404  # global dedup, but not global reads
    # a copy names its source: from a bucket that holds the hash it works, server-side
    api.batch_bucket_files(mine, copy=[("bucket", other, entry.xet_hash, "copied.bin")])
    assert _reconstruct(bhub, mine, entry.xet_hash) == 200
    assert _fs(bhub).cat(f"buckets/{mine}/copied.bin") == secret
    # ... from a source that does not hold it, it fails (the rest of the batch applies)
    rid = f"me/ds-{uuid.uuid4().hex[:8]}"
    api.create_repo(rid, repo_type="dataset", private=True)
    with pytest.raises(BucketBatchError) as err:
        api.batch_bucket_files(mine, copy=[("dataset", rid, entry.xet_hash, "stolen.bin")], delete=["copied.bin"])
    assert [f["path"] for f in err.value.failures] == ["stolen.bin"]
    # ... nor does an add of the bare hash: it names only bytes uploaded with this bucket's token (or held by it)
    from huggingface_hub._buckets import _BucketAddFile

    with pytest.raises(BucketBatchError) as err:
        api.batch_bucket_files(mine, add=[_BucketAddFile(source=b"", destination="added.bin",
                                                         xet_hash=entry.xet_hash, size=entry.size)])
    assert [f["path"] for f in err.value.failures] == ["added.bin"] and "was not uploaded for bucket" in str(
        err.value.failures)
    # deleted from the bucket: its token no longer reconstructs the file
    assert _reconstruct(bhub, mine, entry.xet_hash) == 404
    _clean(bhub.counters())


def test_a_restarted_hub_still_serves_its_buckets(tmp_path: Path) -> None:
    hub = LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write"}, log_file=tmp_path / "hub.log").start()
    try:
        bid = _api(hub).create_bucket("me/kept", private=True).bucket_id
        _api(hub).batch_bucket_files(bid, add=[(BLOB, "blob.bin")])
        hub.stop()
        hub.start()
        assert _api(hub).bucket_info(bid).total_files == 1
        assert _fs(hub).cat(f"buckets/{bid}/blob.bin") == BLOB
        _api(hub).download_bucket_files(bid, [("blob.bin", tmp_path / "out.bin")])
        assert (tmp_path / "out.bin").read_bytes() == BLOB
        _clean(hub.counters())
    finally:
        hub.close()


def test_the_real_hub_mode_redirects_and_rate_limits_bucket_traffic(tmp_path: Path) -> None:
    mode = HubMode.real_hub(quotas={"api": 1000, "resolvers": 4}, commit_quota=2)
    with LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write"}, mode=mode, log_file=tmp_path / "hub.log") as hub:
        api = _api(hub)
        bid = api.create_bucket("me/rh").bucket_id
        api.batch_bucket_files(bid, add=[(BLOB, "blob.bin")])
        auth = {"Authorization": f"Bearer {WRITE_TOKEN}"}
        r = requests.head(f"{hub.endpoint}/buckets/{bid}/resolve/blob.bin", headers=auth, allow_redirects=False)
        assert r.status_code == 302 and r.headers["Location"].startswith(hub.cas_endpoint)
        assert r.headers["X-Xet-Hash"] and int(r.headers["X-Linked-Size"]) == len(BLOB)
        assert f"/api/buckets/{bid}/xet-read-token" in r.headers["Link"] and r.headers["RateLimit"].startswith(
            '"resolvers";r=3')
        got = requests.get(f"{hub.endpoint}/buckets/{bid}/resolve/blob.bin", headers={**auth, "Range": "bytes=5-9"})
        assert got.status_code == 206 and got.content == BLOB[5:10] and got.url.startswith(hub.cas_endpoint)
        assert api.get_bucket_file_metadata(bid, "blob.bin").size == len(BLOB)
        requests.head(f"{hub.endpoint}/buckets/{bid}/resolve/blob.bin", headers=auth)
        over = requests.head(f"{hub.endpoint}/buckets/{bid}/resolve/blob.bin", headers=auth)
        assert over.status_code == 429 and over.headers["RateLimit"].startswith('"resolvers";r=0')
        # a batch is the bucket's write: it counts in the bucket's commit window
        api.batch_bucket_files(bid, delete=["blob.bin"])
        r = requests.post(f"{hub.endpoint}/api/buckets/{bid}/batch", data=b"", headers=auth)
        assert r.status_code == 429
        c = hub.counters()
        assert c["rate_limits"]["resolvers"]["limited"] == 1 and c["rate_limits"]["commits"]["limited"] == 1
        assert c["rate_limits"]["api"]["requests"] >= 3
        _clean(c)


def test_fault_rules_hit_bucket_routes_and_the_client_rides_them_out(tmp_path: Path) -> None:
    with LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write"}, log_file=tmp_path / "hub.log") as hub:
        api = _api(hub)
        bid = api.create_bucket("me/faulty").bucket_id
        hub.set_faults([{"route": "commit", "match": "^/api/buckets/", "action": "status", "status": 503,
                         "times": 1},
                        {"route": "resolve", "match": "^/buckets/", "action": "status", "status": 503, "times": 1},
                        {"route": "cas", "match": "/v1/shards", "action": "status", "status": 503, "times": 1}])
        api.batch_bucket_files(bid, add=[(BLOB, "blob.bin")])
        assert _fs(hub).cat(f"buckets/{bid}/blob.bin") == BLOB
        c = hub.counters()
        assert c["commit"]["faults"] == 1 and c["resolve"]["faults"] == 1 and c["cas"]["faults"] == 1
        assert [e.path for e in api.list_bucket_tree(bid)] == ["blob.bin"]
        _clean(c)
