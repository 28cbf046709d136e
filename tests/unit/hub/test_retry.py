"""The one retry policy: which waits it takes, when it gives up, what it logs and says."""

from __future__ import annotations

import logging
import time

import pytest

from hfconnect.errors import HubRequestError
from hfconnect.hub.retry import Retrier, RetryPolicy, server_wait


def test_server_wait_reads_ratelimit_reset_only_when_the_bucket_is_empty() -> None:
    assert server_wait(429, {"RateLimit": '"resolvers";r=0;t=42'}) == (
        42.0, "the Hub's 'resolvers' rate limit is used up until its window resets")
    assert server_wait(429, {"ratelimit": '"api";r=3;t=42'}) is None  # not used up: not a window wait
    assert server_wait(503, {"Retry-After": "7"}) == (7.0, "the server asked to retry later (Retry-After)")
    assert server_wait(429, {"RateLimit": '"api";r=0;t=5', "Retry-After": "1"})[0] == 5.0  # RateLimit wins
    when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 < server_wait(503, {"Retry-After": when})[0] <= 30
    assert server_wait(503, {}) is None and server_wait(503, None) is None


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    p = RetryPolicy(base=1.0, cap=4.0)
    for n, step in ((1, 1.0), (2, 2.0), (3, 4.0), (6, 4.0)):
        waits = [p.backoff(n) for _ in range(50)]
        assert all(step / 2 <= w <= step for w in waits) and max(waits) > min(waits)


def test_gives_up_after_the_attempts_naming_the_request_and_the_causes() -> None:
    r = Retrier(RetryPolicy(attempts=3, base=0.001, cap=0.001), "GET /datasets/o/r/resolve/x/f.parquet")
    r.failed("HTTP 503", status=503)
    r.failed("ConnectionResetError")
    with pytest.raises(HubRequestError) as exc:
        r.failed("HTTP 503", status=503)
    text = str(exc.value)
    assert text.startswith("GET /datasets/o/r/resolve/x/f.parquet: giving up after 3 failed attempt(s)")
    assert "HTTP 503 x2, ConnectionResetError x1" in text and "retry_budget" in text
    assert isinstance(exc.value, OSError) and exc.value.attempts == 3


def test_gives_up_when_the_backoff_budget_would_be_passed() -> None:
    r = Retrier(RetryPolicy(attempts=100, base=0.2, cap=0.2, budget=0.3), "GET /x")
    started = time.monotonic()
    with pytest.raises(HubRequestError, match="giving up after"):
        for _ in range(100):
            r.failed("HTTP 500", status=500)
    assert time.monotonic() - started < 0.5 and r.backoff_spent <= 0.3


def test_rate_limit_waits_do_not_use_up_attempts_but_are_bounded() -> None:
    r = Retrier(RetryPolicy(attempts=2, max_server_wait=2.0), "GET /x")
    for _ in range(3):
        r.failed("HTTP 429", status=429, headers={"RateLimit": '"api";r=0;t=0'})
    assert r.failures == 0 and r.server_waited > 0
    with pytest.raises(HubRequestError, match=r"'api' rate limit is used up until its window resets in 5s, later "
                                              r"than the 2s hfconnect waits"):
        r.failed("HTTP 429", status=429, headers={"RateLimit": '"api";r=0;t=5'})


def test_progress_gives_a_fresh_count() -> None:
    r = Retrier(RetryPolicy(attempts=2, base=0.001, cap=0.001), "GET /x")
    r.failed("connection dropped mid-body")
    r.progressed()
    r.failed("connection dropped mid-body")  # would be the 2nd failure without the progress in between
    assert r.failures == 1


def test_long_waits_are_logged_at_warning_with_the_reason(caplog, monkeypatch) -> None:
    monkeypatch.setattr(time, "sleep", lambda s: None)  # the wait itself is not what this test measures
    r = Retrier(RetryPolicy(warn_after=5.0), "GET /datasets/o/r/resolve/x/f.parquet")
    with caplog.at_level(logging.DEBUG, logger="hfconnect"):
        r.failed("HTTP 429", status=429, headers={"RateLimit": '"resolvers";r=0;t=120'})
        r.failed("HTTP 503", status=503, headers={"Retry-After": "1"})
    long, short = caplog.records
    assert long.levelno == logging.WARNING and "retrying in 12" in long.getMessage()
    assert "'resolvers' rate limit" in long.getMessage() and "f.parquet" in long.getMessage()
    assert short.levelno == logging.DEBUG
