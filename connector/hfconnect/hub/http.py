"""Byte-range reads of `/resolve/<sha>/...` URLs, with the retry policy the Hub asks for.

Why our own small client rather than HfFileSystem for data: the reader needs exact ranges, retries that
honour Retry-After on 429/5xx, and a dropped connection that resumes where it stopped instead of
restarting the whole range. urllib3 gives pooled keep-alive connections at low per-request cost.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Any
from urllib.parse import quote, urlsplit

import urllib3

from ..errors import AuthenticationError, DataFileError, HubRequestError

__all__ = ["HubHttp", "RetryPolicy"]

log = logging.getLogger("hfconnect.hub.http")
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_pools: dict[int, urllib3.PoolManager] = {}
_pools_lock = threading.Lock()


class RetryPolicy:
    """Exponential backoff with full jitter; a server's Retry-After wins (capped)."""

    def __init__(self, attempts: int = 8, base: float = 0.25, cap: float = 20.0, retry_after_cap: float = 60.0):
        self.attempts, self.base, self.cap, self.retry_after_cap = attempts, base, cap, retry_after_cap

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self.retry_after_cap)
            except ValueError:
                pass
        return random.uniform(0, min(self.cap, self.base * 2**attempt))


def _pool() -> urllib3.PoolManager:
    """One pool per process (forked Spark workers must not share a parent's sockets)."""
    import os

    pid = os.getpid()
    with _pools_lock:
        if pid not in _pools:
            _pools[pid] = urllib3.PoolManager(num_pools=8, maxsize=64, retries=False,
                                              timeout=urllib3.Timeout(connect=10, read=60))
        return _pools[pid]


class HubHttp:
    """Range GETs against one endpoint with one (hidden) token; counts what it fetched."""

    def __init__(self, endpoint: str, token: str | None = None, policy: RetryPolicy | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._token = token
        self.policy = policy or RetryPolicy()
        self.requests = 0
        self.bytes_fetched = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HubHttp(endpoint={self.endpoint!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "token": self._token, "policy": self.policy}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["endpoint"], state["token"], state["policy"])  # type: ignore[misc]

    def resolve_url(self, repo_id: str, sha: str, path: str, repo_type: str = "dataset") -> str:
        prefix = {"dataset": "datasets/", "space": "spaces/"}.get(repo_type, "")
        return f"{self.endpoint}/{prefix}{repo_id}/resolve/{sha}/{quote(path)}"

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"user-agent": "hfconnect"}
        if self._token:
            headers["authorization"] = f"Bearer {self._token}"
        headers.update(extra or {})
        return headers

    def get_range(self, url: str, start: int, end: int) -> bytearray:
        """Bytes [start, end) of `url` in a new buffer."""
        out = bytearray(max(0, end - start))
        self.get_range_into(url, start, end, memoryview(out))
        return out

    def get_range_into(self, url: str, start: int, end: int, out: memoryview) -> None:
        """Fill `out` with bytes [start, end) of `url`, straight from the socket (no intermediate copies).
        A dropped body resumes from the last byte received; 429/5xx wait (Retry-After wins) and retry."""
        total = end - start
        got = 0
        attempt = 0
        while got < total:
            pos = start + got
            try:
                resp = _pool().request("GET", url, headers=self._headers({"range": f"bytes={pos}-{end - 1}"}),
                                       preload_content=False, redirect=True)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                attempt = self._backoff(url, attempt, f"{type(exc).__name__}: {exc}")
                continue
            try:
                self._count(requests=1)
                if resp.status in RETRY_STATUSES:
                    resp.drain_conn()
                    attempt = self._backoff(url, attempt, f"HTTP {resp.status}", resp.headers.get("Retry-After"))
                    continue
                if resp.status not in (200, 206):
                    self._raise_for(url, resp)
                if resp.status == 200 and pos > 0:
                    raise HubRequestError(f"{_path(url)}: the server ignored the Range header; it must honour "
                                          "Range requests (206) to be read in parallel", url_path=_path(url))
                before = got
                try:
                    while got < total:
                        n = resp.readinto(out[got:])
                        if not n:
                            break
                        got += n
                except (urllib3.exceptions.HTTPError, OSError) as exc:
                    self._count(bytes_fetched=got - before)
                    attempt = 0 if got > before else attempt  # progress: a fresh budget for the rest
                    attempt = self._backoff(url, attempt, f"connection dropped mid-body ({type(exc).__name__})")
                    continue
                self._count(bytes_fetched=got - before)
                if got < total:
                    attempt = self._backoff(url, attempt, "short body")
            finally:
                resp.release_conn()

    def get(self, url: str, size: int) -> bytes:
        return bytes(self.get_range(url, 0, size)) if size else b""

    def _count(self, requests: int = 0, bytes_fetched: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.bytes_fetched += bytes_fetched

    def _backoff(self, url: str, attempt: int, why: str, retry_after: str | None = None) -> int:
        if attempt + 1 >= self.policy.attempts:
            raise HubRequestError(f"{_path(url)}: giving up after {attempt + 1} attempts ({why}); check the "
                                  "endpoint and your network, or retry later", url_path=_path(url))
        delay = self.policy.delay(attempt, retry_after)
        log.info("retrying %s in %.2fs after %s", _path(url), delay, why)
        time.sleep(delay)
        return attempt + 1

    def _raise_for(self, url: str, resp: urllib3.BaseHTTPResponse) -> None:
        code = resp.headers.get("X-Error-Code", "")
        message = resp.headers.get("X-Error-Message", "")
        resp.drain_conn()
        path = _path(url)
        if resp.status in (401, 403) or (resp.status == 404 and code == "RepoNotFound"):
            raise AuthenticationError(f"{path}: HTTP {resp.status} {code} — the repo is private or the token "
                                      "lacks read access; pass a valid token (option token or HF_TOKEN)",
                                      url_path=path, status=resp.status)
        raise DataFileError(f"{path}: HTTP {resp.status} {code} {message}".strip(), url_path=path,
                            status=resp.status)


def _path(url: str) -> str:
    """The URL without scheme/host: what errors show (never a token: tokens only travel in headers)."""
    return urlsplit(url).path
