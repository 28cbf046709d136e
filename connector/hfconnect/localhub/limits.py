"""Fixed-window rate limits as huggingface.co applies them, with the headers it sends.

A key's window starts at its first request and lasts `window` seconds (then the next request starts a new one),
so tests see the same reset times whenever they run; every answer in a bucket carries
`RateLimit: "<bucket>";r=<remaining>;t=<seconds to reset>` and
`RateLimit-Policy: "fixed window";"<bucket>";q=<quota>;w=<window>`, and a request over the quota gets 429
with the same two headers (huggingface_hub >= 1.2 waits `t`, then retries).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Admission", "RateLimiter"]


@dataclass(frozen=True)
class Admission:
    """The limiter's answer for one request in one bucket."""

    allowed: bool
    bucket: str
    remaining: int
    reset_in: int  # whole seconds until the window resets (>= 1)
    quota: int
    window: float

    def headers(self) -> dict[str, str]:
        return {"RateLimit": f'"{self.bucket}";r={self.remaining};t={self.reset_in}',
                "RateLimit-Policy": f'"fixed window";"{self.bucket}";q={self.quota};w={self.window:g}'}


class RateLimiter:
    """Counts requests per (bucket, key) in the current fixed window; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], tuple[float, int]] = {}  # (bucket, key) -> (window start, used)

    def admit(self, bucket: str, key: str, quota: int, window: float) -> Admission:
        """Count one request if the window has room; otherwise refuse it (it is not counted)."""
        now = self._clock()
        with self._lock:
            start, used = self._counts.get((bucket, key), (now, 0))
            if now >= start + window:
                start, used = now, 0
            allowed = used < quota
            if allowed:
                used += 1
            self._counts[(bucket, key)] = (start, used)
        reset_in = max(1, math.ceil(start + window - now))
        return Admission(allowed, bucket, max(0, quota - used), reset_in, quota, window)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
