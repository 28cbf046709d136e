"""The CAS listener over real HTTP, in-process (no client library): Xet tokens and their rights, every route's
answer (the fallbacks the client relies on included), counters per CAS route, the dedup query, signed xorb
URLs that expire, fault rules on every new route class (a xorb upload dropped mid-body included), and requests
no route knows recorded on both listeners."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from hfconnect.localhub.mode import HubMode
from hfconnect.localhub.xet_shard import Shard, shard_bytes
from tests.unit.inprocess_hub import READ_TOKEN, WRITE_TOKEN, InProcessHub, request, running_hub
from tests.unit.localhub.test_xet_store import A_BODY, A_INFO, A_NAME, B_BODY, B_INFO, B_NAME, FILE, FILE_DATA


@pytest.fixture
def hub() -> Iterator[InProcessHub]:
    with running_hub() as h:
        h.api().create_repo("o/x", repo_type="dataset")
        yield h


def _token(hub: InProcessHub, kind: str = "write", token: str | None = WRITE_TOKEN) -> dict:
    status, headers, body = request("GET", f"{hub.endpoint}/api/datasets/o/x/xet-{kind}-token/main", token=token)
    assert status == 200, body
    out = json.loads(body)
    assert (headers["X-Xet-Access-Token"], headers["X-Xet-Cas-Url"], int(headers["X-Xet-Token-Expiration"])) == (
        out["accessToken"], out["casUrl"], out["exp"])
    return out


def _cas(hub: InProcessHub, method: str, path: str, token: str | None, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return request(method, f"{hub.cas_endpoint}{path}", token=token, body=body, headers=headers)


def _upload_all(hub: InProcessHub, token: str) -> None:
    for name, body in ((A_NAME, A_BODY), (B_NAME, B_BODY)):
        status, _, out = _cas(hub, "POST", f"/v1/xorbs/default/{name}", token, body)
        assert (status, json.loads(out)) == (200, {"was_inserted": True})
    status, _, out = _cas(hub, "POST", "/v1/shards", token, shard_bytes(Shard((FILE,), (A_INFO, B_INFO))))
    assert (status, json.loads(out)) == (200, {"result": 1})
    _commit_file(hub, "o/x")


def _commit_file(hub: InProcessHub, repo: str) -> None:
    """Commit the shard's file to `repo` as the client does after its upload: an lfsFile naming its sha256."""
    lines = [{"key": "header", "value": {"summary": "add f.bin"}},
             {"key": "lfsFile", "value": {"path": "f.bin", "algo": "sha256", "oid": FILE.sha256,
                                          "size": len(FILE_DATA)}}]
    body = "\n".join(json.dumps(line) for line in lines).encode()
    status, _, out = request("POST", f"{hub.endpoint}/api/datasets/{repo}/commit/main", token=WRITE_TOKEN, body=body,
                             headers={"Content-Type": "application/x-ndjson"})
    assert status == 200, out


def test_tokens_follow_the_callers_rights(hub: InProcessHub) -> None:
    write = _token(hub)
    assert write["casUrl"] == hub.cas_endpoint and write["exp"] > time.time() + 3000
    assert request("GET", f"{hub.endpoint}/api/datasets/o/x/xet-write-token/main", token=READ_TOKEN)[0] == 403
    assert request("GET", f"{hub.endpoint}/api/datasets/o/x/xet-write-token/main")[0] == 401
    assert request("GET", f"{hub.endpoint}/api/datasets/o/nope/xet-read-token/main", token=WRITE_TOKEN)[0] == 404
    _token(hub, "read", token=None)  # public repo
    hub.api().update_repo_settings("o/x", private=True, repo_type="dataset")
    assert request("GET", f"{hub.endpoint}/api/datasets/o/x/xet-read-token/main")[0] == 404
    _token(hub, "read", token=READ_TOKEN)
    assert hub.counters()["xet-token"]["requests"] == 7


def test_cas_auth(hub: InProcessHub) -> None:
    read, write = _token(hub, "read")["accessToken"], _token(hub)["accessToken"]
    path = f"/v1/xorbs/default/{A_NAME}"
    assert _cas(hub, "POST", path, None, A_BODY)[0] == 401
    assert _cas(hub, "POST", path, "xet_e30." + "0" * 64, A_BODY)[0] == 401
    assert _cas(hub, "POST", path, write[:-1] + ("0" if write[-1] != "0" else "1"), A_BODY)[0] == 401
    assert _cas(hub, "POST", path, read, A_BODY)[0] == 403
    assert _cas(hub, "POST", path, write, A_BODY)[0] == 200
    assert hub.counters()["cas_routes"]["POST /v1/xorbs"] == {"requests": 5, "errors": 4, "authorized": 4}


def test_an_expired_token_is_401(hub: InProcessHub) -> None:
    hub.state.mode = replace(hub.state.mode, xet_token_expiry=0.001)
    token = _token(hub)
    while token["exp"] > time.time():
        time.sleep(0.01)
    status, _, body = _cas(hub, "GET", f"/v1/reconstructions/{FILE.file_hash}", token["accessToken"])
    assert status == 401 and b"expired" in body


def test_fallback_routes_and_unknown_routes(hub: InProcessHub) -> None:
    token = _token(hub)["accessToken"]
    assert _cas(hub, "POST", f"/v1/xorb-grants/default/{A_NAME}", token, b"{}")[0] == 404
    assert _cas(hub, "POST", "/v2/shards", token, b"")[0] == 404
    assert _cas(hub, "GET", f"/v2/reconstructions/{A_NAME}", token)[0] == 404
    assert _cas(hub, "POST", "/v1/telemetry", token, b"{}")[0] == 200
    assert hub.counters()["unknown_routes"] == []
    assert _cas(hub, "GET", "/v3/something", token)[0] == 404
    assert request("GET", f"{hub.endpoint}/api/datasets/o/x/unknown-thing")[0] == 404
    assert hub.counters()["unknown_routes"] == ["GET /v3/something", "GET /api/datasets/o/x/unknown-thing"]


@pytest.mark.parametrize("route", ["cas", "xet-token"])
def test_status_and_latency_faults_on_new_routes(hub: InProcessHub, route: str) -> None:
    hub.set_faults([{"route": route, "action": "status", "status": 503, "times": 1},
                    {"route": route, "action": "latency", "latency_ms": 150, "times": 1}])
    url = (f"{hub.cas_endpoint}/v1/telemetry" if route == "cas"
           else f"{hub.endpoint}/api/datasets/o/x/xet-read-token/main")
    method = "POST" if route == "cas" else "GET"
    t0 = time.monotonic()
    assert request(method, url, body=b"{}" if route == "cas" else None)[0] == 503
    assert time.monotonic() - t0 >= 0.15
    assert request(method, url, body=b"{}" if route == "cas" else None)[0] == 200
    assert hub.counters()[route]["faults"] == 1


def test_a_xorb_upload_dropped_mid_body(hub: InProcessHub) -> None:
    token = _token(hub)["accessToken"]
    hub.set_faults([{"route": "cas", "action": "reset_after", "after_bytes": 1000, "times": 1,
                     "match": "/v1/xorbs/"}])
    parts = urlsplit(hub.cas_endpoint)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        conn.request("POST", f"/v1/xorbs/default/{A_NAME}", body=A_BODY,
                     headers={"Authorization": f"Bearer {token}"})
        conn.getresponse().read()
    conn.close()
    c = hub.counters()
    assert c["cas"]["faults"] == 1 and 0 < c["xet"]["xorb_bytes_received"] <= len(A_BODY)
    assert c["xet"]["xorbs_new"] == 0 and not hub.state.xet_store.has_xorb(A_NAME)
    assert _cas(hub, "POST", f"/v1/xorbs/default/{A_NAME}", token, A_BODY)[0] == 200  # the retry lands


def test_faults_on_xorb_reads_and_the_bridge(hub: InProcessHub) -> None:
    token = _token(hub)["accessToken"]
    _upload_all(hub, token)
    _, _, out = _cas(hub, "GET", f"/v1/reconstructions/{FILE.file_hash}", token)
    xorb_url = json.loads(out)["fetch_info"][A_NAME][0]["url"]
    from hfconnect.localhub.cdn import bridge_url

    bridge = bridge_url(hub.state, FILE.sha256 or "", "f.bin")
    assert request("GET", bridge)[2] == FILE_DATA
    hub.set_faults([{"route": "xorb", "action": "status", "status": 500, "times": 1},
                    {"route": "bridge", "action": "reset_after", "after_bytes": 100, "times": 1}])
    assert request("GET", xorb_url)[0] == 500
    assert request("GET", xorb_url)[0] == 200
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        request("GET", bridge)
    c = hub.counters()
    assert (c["xorb"]["faults"], c["bridge"]["faults"], c["bridge"]["authorized"]) == (1, 1, 0)


def test_lfs_only_hub_has_no_cas() -> None:
    with running_hub(mode=HubMode(xet=False)) as hub:
        hub.api().create_repo("o/x", repo_type="dataset")
        assert hub.cas_endpoint == ""
        assert request("GET", f"{hub.endpoint}/api/datasets/o/x/xet-write-token/main", token=WRITE_TOKEN)[0] == 404
