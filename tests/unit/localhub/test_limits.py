"""Fixed-window rate limits as huggingface.co applies them: a window per (bucket, key) that starts at the key's
first request, the RateLimit headers huggingface_hub parses, and 429 past the quota (refused requests are not
counted)."""

from __future__ import annotations

import threading

from huggingface_hub.utils import parse_ratelimit_headers

from hfconnect.hub.retry import server_wait
from hfconnect.localhub.limits import Admission, RateLimiter
from hfconnect.localhub.mode import HubMode
from tests.unit.inprocess_hub import READ_TOKEN, WRITE_TOKEN, request, running_hub


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_window_starts_at_the_keys_first_request_and_refuses_past_the_quota() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    got = [limiter.admit("api", "token:a", 3, 10.0) for _ in range(4)]
    assert [(a.allowed, a.remaining, a.reset_in) for a in got] == [(True, 2, 10), (True, 1, 10), (True, 0, 10),
                                                                   (False, 0, 10)]
    clock.now += 4.5
    assert limiter.admit("api", "token:a", 3, 10.0).reset_in == 6  # whole seconds, rounded up
    clock.now += 5.4
    assert limiter.admit("api", "token:a", 3, 10.0).reset_in == 1  # never 0: "retry now" would spin
    clock.now += 0.1  # the window is over: a fresh one starts at this request
    fresh = limiter.admit("api", "token:a", 3, 10.0)
    assert (fresh.allowed, fresh.remaining, fresh.reset_in) == (True, 2, 10)


def test_keys_and_buckets_have_windows_of_their_own() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert limiter.admit("api", "token:a", 1, 300).allowed
    assert not limiter.admit("api", "token:a", 1, 300).allowed
    assert limiter.admit("api", "token:b", 1, 300).allowed
    assert limiter.admit("resolvers", "token:a", 1, 300).allowed
    clock.now += 100
    later = limiter.admit("api", "ip:127.0.0.1", 1, 300)
    assert (later.allowed, later.reset_in) == (True, 300)  # its own window, not token a's
    assert limiter.admit("api", "token:a", 1, 300).reset_in == 200


def test_refused_requests_are_not_counted_and_reset_starts_afresh() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    limiter.admit("api", "k", 2, 60)
    for _ in range(5):
        limiter.admit("api", "k", 2, 60)  # 1 allowed, then 4 refused
    clock.now += 60
    assert limiter.admit("api", "k", 2, 60).remaining == 1
    limiter.admit("api", "k", 2, 60)
    assert not limiter.admit("api", "k", 2, 60).allowed
    limiter.reset()
    assert limiter.admit("api", "k", 2, 60).allowed


def test_concurrent_requests_never_exceed_the_quota() -> None:
    limiter = RateLimiter()
    allowed: list[bool] = []
    lock = threading.Lock()

    def burst() -> None:
        mine = [limiter.admit("api", "k", 250, 300).allowed for _ in range(100)]
        with lock:
            allowed.extend(mine)

    threads = [threading.Thread(target=burst) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 250 and len(allowed) == 600


def test_headers_are_what_huggingface_hub_and_our_retry_policy_read() -> None:
    admission = Admission(False, "api", 0, 55, 500, 300.0)
    headers = admission.headers()
    assert headers == {"RateLimit": '"api";r=0;t=55', "RateLimit-Policy": '"fixed window";"api";q=500;w=300'}
    info = parse_ratelimit_headers(headers)
    assert info is not None
    assert (info.resource_type, info.remaining, info.reset_in_seconds, info.limit, info.window_seconds) == (
        "api", 0, 55, 500, 300)
    wait = server_wait(429, headers)
    assert wait is not None and wait[0] == 55.0 and "'api' rate limit" in wait[1]


def test_the_hub_answers_429_with_the_headers_per_token_and_per_ip() -> None:
    mode = HubMode(rate_limits=True, window=300, quotas={"api": 2, "resolvers": 5}, anonymous_quotas={"api": 1},
                   commit_quota=1)
    with running_hub(mode=mode) as hub:
        url = f"{hub.endpoint}/api/whoami-v2"
        first = request("GET", url, token=WRITE_TOKEN)
        assert first[0] == 200 and first[1]["RateLimit"] == '"api";r=1;t=300'
        assert first[1]["RateLimit-Policy"] == '"fixed window";"api";q=2;w=300'
        assert request("GET", url, token=WRITE_TOKEN)[1]["RateLimit"] == '"api";r=0;t=300'
        status, headers, body = request("GET", url, token=WRITE_TOKEN)
        assert status == 429
        assert headers["RateLimit"] == '"api";r=0;t=300'
        assert headers["X-Error-Code"] == "RateLimited"
        assert b"You have exceeded the rate limit for api requests (2 per 300s). Retry in 300s." in body
        # Another token, and anonymous callers (per IP, with their own quota), have windows of their own.
        assert request("GET", url, token=READ_TOKEN)[0] == 200
        assert request("GET", f"{hub.endpoint}/api/datasets")[0] == 200
        assert request("GET", f"{hub.endpoint}/api/datasets")[0] == 429
        # Admin routes are never limited.
        assert request("GET", f"{hub.endpoint}/_admin/health")[0] == 200
        buckets = hub.counters()["rate_limits"]
        # admitted, refused; of which anonymous (the Hub limits anonymous callers per IP)
        assert buckets["api"] == {"requests": 4, "limited": 2, "anonymous_requests": 1, "anonymous_limited": 1}
