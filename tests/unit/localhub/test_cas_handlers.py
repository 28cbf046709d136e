"""The CAS handlers over real HTTP, in-process (no client library): xorb uploads kept once, shards checked, the
global-dedup answer (a shard hf_xet loads), reconstructions that hf_xet can follow (ranges, 416, signed xorb URLs
that expire, then a fresh reconstruction), and a Xet token that reconstructs only files its own repo holds."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from urllib.parse import urlsplit

from hfconnect.localhub.xet_shard import parse_shard
from tests.unit.inprocess_hub import READ_TOKEN, InProcessHub, request
from tests.unit.localhub.test_cas import _cas, _token, _upload_all
from tests.unit.localhub.test_cas import hub as hub  # noqa: F401 - the fixture
from tests.unit.localhub.test_xet_store import A_BODY, A_INFO, A_NAME, B_BODY, B_INFO, FILE, FILE_DATA


def test_a_token_reconstructs_only_files_its_repo_holds(hub: InProcessHub) -> None:
    """A Xet token names one repo: another repo's token (a public one's, anonymous) cannot reconstruct a file of a
    private repo, though global dedup stays global."""
    _upload_all(hub, _token(hub)["accessToken"])
    hub.api().update_repo_settings("o/x", private=True, repo_type="dataset")
    hub.api().create_repo("o/public", repo_type="dataset")
    status, _, body = request("GET", f"{hub.endpoint}/api/datasets/o/public/xet-read-token/main")
    other = json.loads(body)["accessToken"]
    assert status == 200 and _cas(hub, "GET", f"/v1/reconstructions/{FILE.file_hash}", other)[0] == 404
    own = _token(hub, "read", token=READ_TOKEN)["accessToken"]
    assert _cas(hub, "GET", f"/v1/reconstructions/{FILE.file_hash}", own)[0] == 200
    chunk = A_INFO.chunks[0].chunk_hash
    assert _cas(hub, "GET", f"/v1/chunks/default/{chunk}", other)[0] == 200


def test_upload_dedup_and_reconstruct(hub: InProcessHub) -> None:
    token = _token(hub)["accessToken"]
    chunk = A_INFO.chunks[0].chunk_hash
    assert _cas(hub, "GET", f"/v1/chunks/default/{chunk}", token)[0] == 404
    _upload_all(hub, token)
    status, _, out = _cas(hub, "POST", f"/v1/xorbs/default/{A_NAME}", token, A_BODY)
    assert (status, json.loads(out)) == (200, {"was_inserted": False})
    status, headers, out = _cas(hub, "GET", f"/v1/chunks/default-merkledb/{chunk}", token)
    # the answer describes every xorb of the upload that stored the chunk: one query teaches all of it
    assert status == 200 and set(parse_shard(out).xorbs) == {A_INFO, B_INFO}
    xet = hub.counters()["xet"]
    assert xet == {"xorb_bytes_received": len(A_BODY) * 2 + len(B_BODY), "xorb_bytes_new": len(A_BODY) + len(B_BODY),
                   "xorbs_new": 2, "xorbs_known": 1, "shards": 1, "file_bytes_committed": len(FILE_DATA),
                   "dedup_hits": 1, "dedup_misses": 1}

    status, _, out = _cas(hub, "GET", f"/v1/reconstructions/{FILE.file_hash}", token,
                          headers={"Range": "bytes=10-20"})
    answer = json.loads(out)
    assert status == 200 and answer["offset_into_first_range"] == 10
    [term] = answer["terms"]
    assert term == {"hash": A_NAME, "unpacked_length": 2500, "range": {"start": 1, "end": 2}}
    [fetch] = answer["fetch_info"][A_NAME]
    url = urlsplit(fetch["url"])
    assert f"{url.scheme}://{url.netloc}" == hub.cas_endpoint
    start, end = fetch["url_range"]["start"], fetch["url_range"]["end"]
    status, headers, raw = request("GET", fetch["url"], headers={"Range": f"bytes={start}-{end}"})
    assert (status, raw) == (206, A_BODY[start:end + 1])
    assert _cas(hub, "GET", f"/v1/reconstructions/{FILE.file_hash}", token,
                headers={"Range": f"bytes={len(FILE_DATA)}-"})[0] == 416
    assert _cas(hub, "GET", f"/v1/reconstructions/{'0' * 64}", token)[0] == 404
    c = hub.counters()
    assert c["xorb"] == {"requests": 1, "bytes_sent": end - start + 1, "bytes_received": 0, "errors": 0,
                         "faults": 0, "authorized": 0}
    # an expired xorb URL is 403 (the client then asks for a fresh reconstruction)
    hub.state.mode = replace(hub.state.mode, url_expiry=0.001)
    status, _, out = _cas(hub, "GET", f"/v1/reconstructions/{FILE.file_hash}", token)
    time.sleep(0.01)
    assert request("GET", json.loads(out)["fetch_info"][A_NAME][0]["url"])[0] == 403
