"""File bytes over real HTTP from an in-process stand-in: redirects followed once and remembered, the token
never sent to the other host, expired URLs renewed, retries as the policy says, a dropped body resumed."""

from __future__ import annotations

import re
import time

import pytest

from hfconnect.errors import AuthenticationError, HubRequestError
from hfconnect.hub import HubClient
from hfconnect.hub.http import expiry_of, signed_urls
from tests.unit.hub.conftest import DATA, fast_policy


@pytest.fixture(autouse=True)
def _fresh_cache():
    signed_urls._targets.clear()
    yield
    signed_urls._targets.clear()


def _client(standin, **policy) -> tuple[HubClient, str]:
    client = HubClient(standin.endpoint, "hf_tok", fast_policy(**policy))
    return client, f"{standin.endpoint}/datasets/o/r/resolve/{'a' * 40}/f.bin"


def test_one_resolve_then_every_range_from_the_signed_url_without_the_token(standin) -> None:
    client, url = _client(standin)
    assert client.read_range(url, 10, 20) == DATA[10:20]
    assert client.read_range(url, 5000, 9000) == DATA[5000:9000]
    kinds = [(kind, auth) for kind, _, auth in standin.script.seen]
    assert kinds == [("resolve", True), ("cdn", False), ("cdn", False)]


def test_a_server_without_redirects_is_read_at_the_resolve_url_with_the_token(standin) -> None:
    standin.script.redirect = False
    client, url = _client(standin)
    assert client.read_range(url, 0, 100) == DATA[:100]
    assert client.download_target(url).signed is False
    assert all(kind == "resolve" and auth for kind, _, auth in standin.script.seen)


def test_an_expired_signed_url_is_resolved_again(standin) -> None:
    client, url = _client(standin)
    standin.script.expires_in = -10  # every URL refused as soon as it is issued: a clock problem, said so
    with pytest.raises(HubRequestError, match="refused 4 times right after it was issued; check the system clock"):
        client.read_range(url, 0, 10)
    standin.script.expires_in = 3600
    target = client.download_target(url)
    signed_urls.put(url, target.__class__(target.url.replace("Expires=", "Expires=1"), True,
                                          time.time() + 3600, time.time()))  # looks fresh, is expired
    assert client.read_range(url, 100, 200) == DATA[100:200]
    assert [kind for kind, _, _ in standin.script.seen][-3:] == ["cdn", "resolve", "cdn"]


def test_retryable_answers_wait_then_succeed(standin) -> None:
    client, url = _client(standin)
    standin.script.resolve_status = [(503, {}), (429, {"RateLimit": '"resolvers";r=0;t=0'})]
    standin.script.cdn_status = [(500, {"Retry-After": "0"})]
    assert client.read_range(url, 0, 50) == DATA[:50]


def test_a_constant_503_gives_up_within_the_budget_naming_the_file(standin) -> None:
    client, url = _client(standin, attempts=4)
    standin.script.resolve_status = [(503, {})] * 10
    started = time.monotonic()
    with pytest.raises(HubRequestError, match=r"GET /datasets/o/r/resolve/a+/f.bin: giving up after 4 failed "
                                              r"attempt\(s\).*HTTP 503 x4"):
        client.read_range(url, 0, 50)
    assert time.monotonic() - started < 2


def test_a_dropped_body_resumes_from_its_last_byte(standin) -> None:
    client, url = _client(standin, attempts=2)
    standin.script.cdn_drop_after = [300_000, 300_000, 300_000]  # three drops: more than attempts, but progress
    assert client.read_range(url, 0, len(DATA)) == DATA
    assert len([kind for kind, _, _ in standin.script.seen if kind == "cdn"]) == 4


def test_refusals_are_clear_errors(standin) -> None:
    client, url = _client(standin)
    standin.script.resolve_status = [(401, {})]
    with pytest.raises(AuthenticationError, match="HTTP 401: the token is not valid") as exc:
        client.read_range(url, 0, 1)
    assert "hf_tok" not in str(exc.value)


def test_expiry_is_read_from_the_signed_url() -> None:
    assert expiry_of("http://cdn/x?Expires=1800000000&Signature=s", 0) == 1_800_000_000
    assert expiry_of("http://cdn/x?X-Amz-Date=20260101T000000Z&X-Amz-Expires=3600", 0) == 1767225600 + 3600
    assert expiry_of("http://cdn/x?sig=1", 100.0) == 100.0 + 50 * 60


@pytest.mark.parametrize("how", ["refused", "about to expire"])
def test_reads_in_flight_renew_an_expired_url_with_one_resolver_request(standin, how: str) -> None:
    """A task keeps several ranges of a file in flight: when its signed URL is refused (or is about to expire),
    one of them asks `/resolve/` again and the others take its answer."""
    import threading

    client, url = _client(standin)
    assert client.read_range(url, 0, 10) == DATA[:10]
    old = signed_urls.get(url)
    assert old is not None
    if how == "refused":  # looks fresh to us, the CDN refuses it
        stale = old.__class__(re.sub(r"Expires=\d+", "Expires=1", old.url), True, time.time() + 3600, time.time())
    else:  # our clock says it expires within the margin: renewed before use
        stale = old.__class__(old.url, True, time.time() + 1, time.time() - 3600)
    signed_urls.put(url, stale)
    before = len([k for k, _, _ in standin.script.seen if k == "resolve"])
    got: dict[int, bytes] = {}
    start = threading.Barrier(8)

    def read(i: int) -> None:
        start.wait()
        got[i] = bytes(client.read_range(url, i * 1000, i * 1000 + 1000))

    threads = [threading.Thread(target=read, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(got[i] == DATA[i * 1000:(i + 1) * 1000] for i in range(8))
    assert len([k for k, _, _ in standin.script.seen if k == "resolve"]) == before + 1
    assert signed_urls.get(url) not in (None, stale)
