"""A per-connection rate for the other host (the CDN, the Xet bridge and presigned xorb reads): each TCP connection
is served at most `HubMode.cdn_connection_rate` bytes per second, across its keep-alive requests.

Why: a CDN edge serves each connection at a bounded rate (tens of MB/s across the internet), which is why Daft's
native reader, hf_xet and hf_transfer read many ranges at once. On loopback every connection is as fast as the
disk, so a reader that keeps one request in flight looks as good as one that keeps eight; with the cap it does not.

A token bucket per connection: a response's pieces take tokens, a piece that overdraws the bucket waits until the
rate has paid the debt. Each connection records its bytes, its waits and the seconds they took (`Throttle.stats`),
which the tests read instead of timing anything.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any

__all__ = ["BURST", "THROTTLED_ROUTES", "ConnectionPace", "Throttle", "throttle_for"]

KEEP = 10_000  # connections whose stats a throttle keeps (the latest)
BURST = 256 * 1024  # bytes a connection may send at once after being idle (one piece of the paced path)
THROTTLED_ROUTES = frozenset({"cdn", "bridge", "xorb"})  # the routes of the other host that serve bytes


@dataclass
class ConnectionPace:
    """One connection's token bucket: `rate` bytes per second, at most `burst` bytes saved up while idle."""

    rate: float
    burst: float
    tokens: float = 0.0
    stamp: float = 0.0  # when `tokens` was last brought up to date (the event loop's clock)
    bytes: int = 0  # sent over this connection (every request on it)
    requests: int = 0
    sleeps: int = 0  # pieces that had to wait
    slept: float = 0.0  # seconds those waits took in total

    @classmethod
    def start(cls, rate: float, now: float, burst: float = BURST) -> ConnectionPace:
        return cls(rate=float(rate), burst=float(burst), tokens=float(burst), stamp=now)

    def take(self, n: int, now: float) -> float:
        """Take `n` bytes at time `now`: the seconds to wait before sending them (0 when the bucket holds them).
        Debt is allowed: the wait is what the rate needs to pay it, so over any stretch the connection sends at
        most `burst + rate * seconds` bytes."""
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= n
        self.bytes += n
        if self.tokens >= 0:
            return 0.0
        wait = -self.tokens / self.rate
        self.sleeps += 1
        self.slept += wait
        return wait

    def public(self) -> dict[str, Any]:
        return {"bytes": self.bytes, "requests": self.requests, "sleeps": self.sleeps, "slept": self.slept}


class Throttle:
    """The buckets of one listener's connections, by transport (a connection's keep-alive requests share one)."""

    def __init__(self, rate: float, burst: float = BURST) -> None:
        if not rate > 0:
            raise ValueError("a throttle needs a positive rate")
        self.rate, self.burst = rate, burst
        self._live: weakref.WeakKeyDictionary[Any, ConnectionPace] = weakref.WeakKeyDictionary()
        self._all: deque[ConnectionPace] = deque(maxlen=KEEP)  # connections seen, closed ones too (for stats)

    def pace(self, transport: Any, now: float) -> ConnectionPace:
        """The bucket of this connection (a new one, full, for a connection not seen before)."""
        pace = self._live.get(transport)
        if pace is None:
            pace = self._live[transport] = ConnectionPace.start(self.rate, now, self.burst)
            self._all.append(pace)
        return pace

    async def send(self, pace: ConnectionPace, n: int) -> None:
        """Wait until `n` more bytes may go over this connection."""
        wait = pace.take(n, asyncio.get_running_loop().time())
        if wait > 0:
            await asyncio.sleep(wait)

    def stats(self) -> list[dict[str, Any]]:
        """Per connection, in the order they were first seen: bytes, requests, waits and seconds waited."""
        return [p.public() for p in self._all]


_throttles: weakref.WeakKeyDictionary[Any, Throttle] = weakref.WeakKeyDictionary()


def throttle_for(app: Any, rate: float) -> Throttle | None:
    """The throttle of this listener (its aiohttp app), or None when `rate` is 0 (uncapped)."""
    if not rate:
        return None
    throttle = _throttles.get(app)
    if throttle is None or throttle.rate != rate:
        throttle = _throttles[app] = Throttle(rate)
    return throttle
