"""What of huggingface.co's behaviour the local hub models: Xet storage (on by default, `xet=False` for the
LFS-only variant), redirects and rate limits (off by default).

A commit request on the Hub has 60 s (hub-docs storage-limits.md: "a timeout of 60s is set on the request"); the
docs set no hard cap on operations per commit but recommend 50-100 files, because each operation is checked
server-side and a bigger commit runs past the timeout. Past it the client gets a 504 Gateway Time-out, and "in rare
cases" the commit still lands: `commit_limits` models exactly that.

The real Hub answers `/resolve/` of an LFS file with a 302 to a signed URL on another host (a CDN) that
expires, and rate-limits every token (or IP, when anonymous) per 5-minute fixed window in three buckets:
API calls, resolver requests and commits per repo. A client that works against the plain local hub can still
fail against the Hub; this mode is how the tests find out first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["BUCKETS", "FREE_USER", "ANONYMOUS", "HubMode", "parse_quotas"]

BUCKETS = ("api", "resolvers")
# The Hub's documented quotas per 5-minute window (hub-docs rate-limits.md, Sept 2025).
FREE_USER = {"api": 1000, "resolvers": 5000}
ANONYMOUS = {"api": 500, "resolvers": 3000}


@dataclass(frozen=True)
class HubMode:
    """Redirects to an expiring CDN URL and per-token rate-limit windows (both off unless switched on), and Xet
    (on unless switched off: every Hub repo is stored on Xet now)."""

    redirects: bool = False
    cdn_host: str = "127.0.0.2"  # another loopback address: clients must see another host
    url_expiry: float = 3600.0  # seconds a signed CDN URL stays valid
    # Bytes per second each TCP connection to the other host (CDN, Xet bridge, xorb reads) is served at, across its
    # keep-alive requests; 0: as fast as the loopback goes. A CDN edge serves a connection at tens of MB/s, which is
    # why readers keep many ranges in flight (localhub.throttle).
    cdn_connection_rate: float = 0.0
    rate_limits: bool = False
    window: float = 300.0  # fixed window, seconds
    quotas: dict[str, int] = field(default_factory=lambda: dict(FREE_USER))  # per token
    anonymous_quotas: dict[str, int] = field(default_factory=lambda: dict(ANONYMOUS))  # per client IP
    commit_quota: int = 100  # commits per repo per commit window (the Hub's limit is of this order)
    commit_window: float = 3600.0
    xet: bool = True  # as on huggingface.co: uploads and downloads through Xet (token endpoints + a CAS)
    xet_token_expiry: float = 3600.0  # seconds a Xet access token is valid (the clients refresh it)
    # Each Xet file's sha256 claim is checked against its bytes before a commit may name it: our guard against a
    # client bug, which the protocol does not require (the CAS can serve without it). Off, the claim is trusted:
    # the benchmarks' throughput figures, where the stand-in hub shares the writer's cores.
    check_sha256: bool = True
    commit_limits: bool = False  # a commit request past its time answers 504 (the Hub's gateway timeout)
    commit_timeout: float = 60.0  # seconds a commit request may take (the Hub's documented 60 s)
    commit_max_operations: int = 0  # >0: a commit of more operations runs past the timeout (Hub guidance: <100)
    commit_timeout_lands: bool = False  # whether a commit that timed out still lands (the Hub's "rare cases")

    def __post_init__(self) -> None:
        if not all(0 < t < math.inf for t in (self.url_expiry, self.window, self.commit_window)):  # NaN fails too
            raise ValueError("url expiry and rate-limit windows must be positive, finite numbers of seconds")
        if not 0 <= self.cdn_connection_rate < math.inf:  # NaN fails too
            raise ValueError("the CDN connection rate must be a finite number of bytes per second >= 0 (0: uncapped)")
        if not 0 < self.xet_token_expiry < math.inf:
            raise ValueError("the Xet token expiry must be a positive, finite number of seconds")
        for quotas in (self.quotas, self.anonymous_quotas):
            unknown = set(quotas) - set(BUCKETS)
            if unknown:
                raise ValueError(f"unknown rate-limit bucket(s) {sorted(unknown)}: use {', '.join(BUCKETS)}")
            if any(not isinstance(v, int) or v < 1 for v in quotas.values()):
                raise ValueError("rate-limit quotas must be whole numbers >= 1")
        if self.commit_quota < 1:
            raise ValueError("the commit quota must be >= 1")
        if not 0 < self.commit_timeout < math.inf:
            raise ValueError("the commit timeout must be a positive, finite number of seconds")
        if not isinstance(self.commit_max_operations, int) or self.commit_max_operations < 0:
            raise ValueError("the commit operation cap must be a whole number >= 0 (0: no cap)")

    @classmethod
    def real_hub(cls, **overrides: Any) -> HubMode:
        """Everything on, with a free user's quotas: how huggingface.co treats a logged-in client."""
        return replace(cls(redirects=True, rate_limits=True, commit_limits=True), **overrides)

    def public(self) -> dict[str, Any]:
        return {"redirects": self.redirects, "cdn_host": self.cdn_host, "url_expiry": self.url_expiry,
                "rate_limits": self.rate_limits, "window": self.window, "quotas": dict(self.quotas),
                "anonymous_quotas": dict(self.anonymous_quotas), "commit_quota": self.commit_quota,
                "commit_window": self.commit_window, "xet": self.xet, "xet_token_expiry": self.xet_token_expiry,
                "commit_limits": self.commit_limits, "commit_timeout": self.commit_timeout,
                "commit_max_operations": self.commit_max_operations,
                "commit_timeout_lands": self.commit_timeout_lands, "check_sha256": self.check_sha256,
                "cdn_connection_rate": self.cdn_connection_rate}


def parse_quotas(spec: str) -> dict[str, int]:
    """`api=1000,resolvers=5000` -> {"api": 1000, "resolvers": 5000} (CLI form)."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, sep, value = part.partition("=")
        if not sep or key.strip() not in BUCKETS:
            raise ValueError(f"quota {part!r}: expected BUCKET=N with BUCKET one of {', '.join(BUCKETS)}")
        try:
            out[key.strip()] = int(value)
        except ValueError:
            raise ValueError(f"quota {part!r}: {value!r} is not a whole number") from None
    return out
