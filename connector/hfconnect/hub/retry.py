"""ONE retry policy for every Hub request hfconnect makes: range reads, HfApi calls, uploads, commits.

What it retries: 408/429/5xx answers and dropped connections. How long it waits: what the Hub asks for when it
says (`RateLimit: "<bucket>";r=0;t=<seconds>` on a 429, or `Retry-After`), else an exponential backoff with
jitter. When it gives up: after `attempts` failures, or once its own backoff would pass `budget` seconds; a
rate-limit window the Hub told us to wait out does not count against those (it is bounded by
`max_server_wait`), because waiting it out is the only way through. Every wait longer than `warn_after` is
logged at WARNING with how long and why; the error on giving up says which request failed, how often and how.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import HubRequestError

__all__ = ["RETRY_STATUSES", "Retrier", "RetryPolicy", "server_wait"]

log = logging.getLogger("hfconnect.hub")
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_RATELIMIT = re.compile(r'"?(?P<bucket>[^";]+)"?\s*;\s*r\s*=\s*(?P<r>\d+)\s*;\s*t\s*=\s*(?P<t>\d+)')


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one Hub request tries. Small, frozen and picklable: it travels to every task."""

    attempts: int = 8  # failures tolerated per request (rate-limit waits the Hub asked for excluded)
    base: float = 0.5  # first backoff, seconds; doubles per failure, up to `cap`, with jitter
    cap: float = 16.0
    budget: float = 60.0  # seconds of our own backoff one request may spend before it fails
    max_server_wait: float = 900.0  # seconds of waits the Hub asked for (three 5-minute windows)
    warn_after: float = 5.0  # waits longer than this are logged at WARNING

    def backoff(self, failures: int) -> float:
        """The n-th backoff: half fixed, half random (equal jitter), so parallel tasks spread out."""
        step = min(self.cap, self.base * 2 ** max(0, failures - 1))
        return step / 2 + random.uniform(0, step / 2)


def server_wait(status: int | None, headers: Mapping[str, str] | None) -> tuple[float, str] | None:
    """Seconds the server asked us to wait, and why: a 429's RateLimit reset, else Retry-After."""
    if not headers:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    if status == 429 and (m := _RATELIMIT.search(lower.get("ratelimit", ""))) and int(m["r"]) == 0:
        return float(m["t"]), f"the Hub's {m['bucket']!r} rate limit is used up until its window resets"
    retry_after = lower.get("retry-after")
    if retry_after:
        try:
            return max(0.0, float(retry_after)), "the server asked to retry later (Retry-After)"
        except ValueError:
            when = email.utils.parsedate_to_datetime(retry_after) if retry_after else None
            if when is not None:
                return max(0.0, when.timestamp() - time.time()), "the server asked to retry later (Retry-After)"
    return None


class Retrier:
    """The retry state of ONE request (or one operation made of several): failures, time spent, causes.

    `failed()` waits before the next try or raises HubRequestError naming the request, how many times and how
    it failed. Thread-safe, so the parts of one operation may share it.
    """

    def __init__(self, policy: RetryPolicy, what: str) -> None:
        self.policy = policy
        self.what = what
        self.failures = 0
        self.backoff_spent = 0.0
        self.server_waited = 0.0
        self.causes: Counter[str] = Counter()
        self.rate_limited_out = ""  # why the last rate-limit wait was refused
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def progressed(self) -> None:
        """Bytes arrived since the last failure: the next failure starts a fresh count."""
        with self._lock:
            self.failures = 0
            self.backoff_spent = 0.0

    def failed(self, why: str, *, status: int | None = None, headers: Mapping[str, str] | None = None) -> None:
        """Record a retryable failure, then sleep before the next try, or raise if the policy is spent."""
        delay, reason = self._next_delay(why, status, headers)
        if delay is None:
            raise self.give_up()
        level = logging.WARNING if delay >= self.policy.warn_after else logging.DEBUG
        log.log(level, "hfconnect: %s failed (%s); retrying in %.1fs: %s", self.what, why, delay, reason)
        time.sleep(delay)

    def _next_delay(self, why: str, status: int | None,
                    headers: Mapping[str, str] | None) -> tuple[float | None, str]:
        p = self.policy
        told = server_wait(status, headers)
        with self._lock:
            self.causes[why] += 1
            if told is not None and told[1].startswith("the Hub's"):
                # A rate-limit window: waiting it out is the way through, not a failure of ours.
                wait = told[0] + random.uniform(0.05, 0.5)  # spread the tasks that all waited for the reset
                if self.server_waited + wait > p.max_server_wait:
                    self.rate_limited_out = f"{told[1]} in {told[0]:.0f}s"
                    return None, told[1]
                self.server_waited += wait
                return wait, f"{told[1]} ({told[0]:.0f}s)"
            self.failures += 1
            if self.failures >= p.attempts:
                return None, ""
            if told is not None:
                wait = max(0.0, min(told[0], p.max_server_wait - self.server_waited))
                self.server_waited += wait
                return wait, told[1]
            wait = p.backoff(self.failures)
            if self.backoff_spent + wait > p.budget:
                return None, ""
            self.backoff_spent += wait
            return wait, "backing off"

    def out_of_budget(self) -> bool:
        """Whether this request has already spent everything the policy allows (checked before a re-send)."""
        p = self.policy
        with self._lock:
            return self.failures >= p.attempts or self.backoff_spent >= p.budget

    def give_up(self) -> HubRequestError:
        elapsed = time.monotonic() - self.started
        causes = ", ".join(f"{cause} x{n}" for cause, n in self.causes.most_common())
        hint = (f"{self.rate_limited_out}, later than the {self.policy.max_server_wait:.0f}s hfconnect waits: retry "
                "later, or use a token with a higher quota" if self.rate_limited_out else
                "check the endpoint and your network, or retry later (option retry_budget allows more time)")
        return HubRequestError(f"{self.what}: giving up after {sum(self.causes.values())} failed attempt(s) in "
                               f"{elapsed:.0f}s ({causes}); {hint}", request=self.what, attempts=sum(
                                   self.causes.values()), causes=dict(self.causes))
