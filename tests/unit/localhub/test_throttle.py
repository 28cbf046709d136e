"""The per-connection rate of the other host (localhub.throttle): a token bucket per TCP connection, shared by its
keep-alive requests. The arithmetic is checked on a clock the test moves; over HTTP (the hub's own apps in-process)
each connection's recorded bytes and waits show the pacing, so nothing here times anything."""

from __future__ import annotations

import http.client
import threading
from urllib.parse import urlsplit

import pytest

from hfconnect.localhub.app import build_app
from hfconnect.localhub.cas import build_cas_app
from hfconnect.localhub.context import HubState
from hfconnect.localhub.faults import FaultPlan
from hfconnect.localhub.mode import HubMode
from hfconnect.localhub.server import parse_token_spec
from hfconnect.localhub.throttle import BURST, THROTTLED_ROUTES, ConnectionPace, Throttle, throttle_for
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub, serving

RATE = 1_000_000.0


def test_a_full_bucket_sends_its_burst_without_waiting() -> None:
    pace = ConnectionPace.start(RATE, now=10.0, burst=1000)
    assert pace.take(1000, 10.0) == 0.0
    assert (pace.bytes, pace.sleeps, pace.slept) == (1000, 0, 0.0)


def test_an_overdraft_waits_for_the_rate_to_pay_it() -> None:
    pace = ConnectionPace.start(RATE, now=0.0, burst=1000)
    assert pace.take(1000, 0.0) == 0.0
    assert pace.take(500_000, 0.0) == pytest.approx(0.5)  # 500 kB at 1 MB/s
    assert pace.take(250_000, 0.5) == pytest.approx(0.25)  # the debt was paid by then: only the new bytes wait
    assert (pace.bytes, pace.sleeps) == (751_000, 2)
    assert pace.slept == pytest.approx(0.75)


def test_idle_time_refills_the_bucket_only_up_to_the_burst() -> None:
    pace = ConnectionPace.start(RATE, now=0.0, burst=1000)
    pace.take(1000, 0.0)
    assert pace.take(1000, 100.0) == 0.0  # a long pause saves up one burst, not 100 s worth
    assert pace.take(1000, 100.0) == pytest.approx(0.001)


def test_over_any_stretch_a_connection_sends_at_most_burst_plus_rate_times_time() -> None:
    pace = ConnectionPace.start(RATE, now=0.0, burst=BURST)
    clock, sent = 0.0, 0
    for n in [BURST, 100_000, 3_000_000, 1, 777_777, 2_000_000]:
        clock += pace.take(n, clock)  # each piece goes once its wait is over
        sent += n
        assert sent <= BURST + RATE * clock + 1e-6
    assert pace.slept == pytest.approx(clock)  # back to back: all the time was waiting
    assert clock == pytest.approx((sent - BURST) / RATE)


def test_each_connection_has_its_own_bucket() -> None:
    throttle = Throttle(RATE, burst=1000)
    a, b = _Transport(), _Transport()
    assert throttle.pace(a, 0.0) is throttle.pace(a, 5.0)
    assert throttle.pace(b, 0.0) is not throttle.pace(a, 0.0)
    throttle.pace(a, 0.0).take(2000, 0.0)
    assert [s["bytes"] for s in throttle.stats()] == [2000, 0]


class _Transport:
    """Stands for a connection's transport (the throttle holds them weakly)."""


def test_no_rate_no_throttle_and_a_throttle_needs_a_rate() -> None:
    app = _Transport()
    assert throttle_for(app, 0) is None
    assert throttle_for(app, RATE) is throttle_for(app, RATE)
    with pytest.raises(ValueError, match="positive rate"):
        Throttle(0)
    assert set(THROTTLED_ROUTES) == {"cdn", "bridge", "xorb"}  # the other host's byte routes; /resolve/ is the Hub's


def _get(conn: http.client.HTTPConnection, url: str, start: int, end: int) -> bytes:
    parts = urlsplit(url)
    conn.request("GET", f"{parts.path}?{parts.query}", headers={"Range": f"bytes={start}-{end - 1}"})
    resp = conn.getresponse()
    assert resp.status == 206
    return resp.read()


@pytest.mark.parametrize("lfs", [True, False], ids=["cdn", "bridge"])
def test_signed_urls_are_paced_per_connection_across_keep_alive_requests(tmp_path, lfs: bool) -> None:
    """One connection reading the file in two requests is one bucket; two connections are two buckets that pace
    at the same time, so together they get twice one connection's rate. `/resolve/` itself is never paced."""
    data = bytes(range(256)) * 4096  # 1 MiB
    rate = 4 * 1024 * 1024
    state = HubState.open(tmp_path, dict([parse_token_spec(f"{WRITE_TOKEN}:write")]), FaultPlan([]),
                          HubMode.real_hub(cdn_connection_rate=rate))
    main, other = build_app(state), build_cas_app(state)
    with serving([(main, "127.0.0.1"), (other, state.mode.cdn_host)]) as (endpoint, other_base):
        state.cdn_base = state.cas_base = other_base
        hub = InProcessHub(state, endpoint, other_base, other_base)
        hub.dataset("o/paced", {"f.bin": data}, lfs=lfs)
        status, headers, _ = _plain(f"{endpoint}/datasets/o/paced/resolve/main/f.bin")
        assert status == 302
        url = headers["Location"]
        half = len(data) // 2

        one = http.client.HTTPConnection(urlsplit(url).hostname, urlsplit(url).port, timeout=30)
        got = _get(one, url, 0, half) + _get(one, url, half, len(data))  # keep-alive: one connection
        one.close()
        assert got == data

        pieces: dict[int, bytes] = {}

        def fetch(i: int) -> None:
            conn = http.client.HTTPConnection(urlsplit(url).hostname, urlsplit(url).port, timeout=30)
            pieces[i] = _get(conn, url, i * half, (i + 1) * half)
            conn.close()

        threads = [threading.Thread(target=fetch, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert pieces[0] + pieces[1] == data

        stats = throttle_for(other, rate).stats()  # type: ignore[union-attr]
        assert throttle_for(main, 0) is None
    assert [(s["bytes"], s["requests"]) for s in stats] == [(len(data), 2), (half, 1), (half, 1)]
    alone, *pair = stats
    # A connection waits for what it sends past its first burst, (bytes - burst) / rate seconds, less whatever the
    # server spent between pieces (the bucket refills meanwhile): never more, and here most of it.
    for s, sent in [(alone, len(data)), *((p, half) for p in pair)]:
        owed = (sent - BURST) / rate
        assert 0.5 * owed <= s["slept"] <= owed + 1e-3, (s, owed)
    # The two halves were paced each on its own bucket, side by side: each owed half of what the one connection did.


def _plain(url: str) -> tuple[int, dict[str, str], bytes]:
    from tests.unit.inprocess_hub import request

    return request("GET", url, token=WRITE_TOKEN)
