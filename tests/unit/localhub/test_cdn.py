"""The signed-URL host of the real-Hub mode, run in-process: `/resolve/` of an LFS file redirects to it; it
serves ranges without a token while the signature is valid and unexpired (else 403, as S3/CloudFront answer),
on another host, and counts the requests that carried a token anyway."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from hfconnect.localhub.cdn import signed_url
from hfconnect.localhub.mode import HubMode
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub, request, running_hub

BLOB = bytes(range(256)) * 40  # 10240 bytes, every position recognisable
PATH = "data/train-00000-of-00001.parquet"  # an LFS path on a new repo (.gitattributes)


@pytest.fixture
def cdn_hub() -> Iterator[InProcessHub]:
    with running_hub(mode=HubMode(redirects=True)) as hub:
        hub.dataset("o/cdn", {PATH: BLOB, "notes.txt": b"small text"}, lfs=True)  # LFS: the CDN, not the bridge
        yield hub


def _signed(hub: InProcessHub, path: str = PATH) -> str:
    status, headers, _ = request("GET", f"{hub.endpoint}/datasets/o/cdn/resolve/main/{path}", token=WRITE_TOKEN)
    assert status == 302, status
    return headers["Location"]


def test_lfs_files_redirect_to_another_host_that_serves_ranges_without_a_token(cdn_hub: InProcessHub) -> None:
    location = _signed(cdn_hub)
    parts = urlsplit(location)
    assert f"http://{parts.hostname}:{parts.port}" == cdn_hub.cdn_endpoint != cdn_hub.endpoint
    assert parts.hostname == "127.0.0.2"
    assert set(parse_qs(parts.query)) == {"Expires", "Signature"}
    assert int(parse_qs(parts.query)["Expires"][0]) > time.time() + 3000  # the mode's url_expiry, 3600 s
    status, headers, body = request("GET", location, headers={"Range": "bytes=1000-1099"})
    assert (status, body) == (206, BLOB[1000:1100])
    assert headers["Content-Range"] == f"bytes 1000-1099/{len(BLOB)}"
    status, headers, body = request("GET", location)
    assert (status, body, headers["Accept-Ranges"]) == (200, BLOB, "bytes")
    status, headers, body = request("HEAD", location)
    assert (status, body, int(headers["Content-Length"])) == (200, b"", len(BLOB))
    assert headers["ETag"].strip('"') == parts.path.split("/")[2]  # the object's sha256
    assert cdn_hub.counters()["cdn"]["authorized"] == 0


def test_small_regular_files_are_served_by_the_hub_itself(cdn_hub: InProcessHub) -> None:
    status, _, body = request("GET", f"{cdn_hub.endpoint}/datasets/o/cdn/resolve/main/notes.txt")
    assert (status, body) == (200, b"small text")
    assert cdn_hub.counters()["cdn"]["requests"] == 0


def test_a_token_sent_to_the_cdn_is_counted(cdn_hub: InProcessHub) -> None:
    """A client that follows the redirect must drop the token: the count is how tests see that one did not."""
    assert request("GET", _signed(cdn_hub), token=WRITE_TOKEN)[0] == 200
    assert cdn_hub.counters()["cdn"]["authorized"] == 1


@pytest.mark.parametrize("tamper", ["signature", "expires", "no expires", "other object"])
def test_a_url_that_is_not_the_one_signed_is_403(cdn_hub: InProcessHub, tamper: str) -> None:
    location = _signed(cdn_hub)
    parts = urlsplit(location)
    query = parse_qs(parts.query)
    expires, signature = query["Expires"][0], query["Signature"][0]
    path = parts.path
    if tamper == "signature":
        signature = ("0" if signature[0] != "0" else "1") + signature[1:]
    elif tamper == "expires":
        expires = str(int(expires) + 3600)  # a longer life is another signature
    elif tamper == "other object":
        path = path.replace(path.split("/")[2], "f" * 64)
    url = f"{parts.scheme}://{parts.netloc}{path}?Signature={signature}"
    if tamper != "no expires":
        url += f"&Expires={expires}"
    status, headers, body = request("GET", url)
    assert status == 403
    assert b"<Code>AccessDenied</Code>" in body and headers["Content-Type"].startswith("application/xml")
    assert cdn_hub.counters()["cdn"]["errors"] == 1


def test_an_expired_url_is_403(cdn_hub: InProcessHub) -> None:
    from dataclasses import replace

    sha = urlsplit(_signed(cdn_hub)).path.split("/")[2]
    cdn_hub.state.mode = replace(cdn_hub.state.mode, url_expiry=0.001)  # what a URL minted long ago looks like
    while True:
        url = signed_url(cdn_hub.state, sha, "x.parquet")
        if int(parse_qs(urlsplit(url).query)["Expires"][0]) <= time.time():
            break
        time.sleep(0.005)
    status, _, body = request("GET", url)
    assert status == 403 and b"Request has expired" in body


def test_unsatisfiable_ranges_unknown_paths_and_injected_faults(cdn_hub: InProcessHub) -> None:
    location = _signed(cdn_hub)
    status, headers, _ = request("GET", location, headers={"Range": f"bytes={len(BLOB)}-"})
    assert (status, headers["Content-Range"]) == (416, f"bytes */{len(BLOB)}")
    assert request("GET", f"{cdn_hub.cdn_endpoint}/elsewhere")[0] == 404
    cdn_hub.set_faults([{"route": "cdn", "action": "status", "status": 503, "times": 1}])
    status, _, body = request("GET", location)
    assert (status, body) == (503, b"Injected fault (503).")
    assert request("GET", location)[2] == BLOB
    assert cdn_hub.counters()["cdn"]["faults"] == 1


def test_without_redirects_the_hub_serves_lfs_files_itself() -> None:
    with running_hub() as hub:
        hub.dataset("o/plain", {PATH: BLOB}, lfs=True)
        status, _, body = request("GET", f"{hub.endpoint}/datasets/o/plain/resolve/main/{PATH}",
                                  headers={"Range": "bytes=-16"})
        assert (status, body) == (206, BLOB[-16:])
        assert hub.cdn_endpoint == ""


def test_a_hub_bound_to_every_address_hands_out_the_host_the_client_used() -> None:
    """In a container the hub listens on 0.0.0.0: its CAS, bridge and CDN URLs must name the host name clients
    reach it by (`hub` in docker compose), never 0.0.0.0; a hub on one address keeps it."""
    from aiohttp.test_utils import make_mocked_request

    from hfconnect.localhub.cdn import reachable

    request = make_mocked_request("GET", "/api/x", headers={"Host": "hub:8000"})
    assert reachable("http://0.0.0.0:8001", request) == "http://hub:8001"
    assert reachable("http://127.0.0.2:5000", request) == "http://127.0.0.2:5000"
    assert reachable("http://0.0.0.0:8001", None) == "http://0.0.0.0:8001"
