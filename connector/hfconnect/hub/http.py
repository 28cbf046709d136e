"""File bytes from the Hub: each file resolved once, every range read from where `/resolve/` sent us.

On huggingface.co, `/resolve/<sha>/<path>` of a stored file answers 302 to a signed URL on another host (the
cas-bridge for Xet files, a CDN for LFS ones) that serves ranges without auth for about an hour, then 403. So a file's
first request goes to `/resolve/` (with the token) and is not followed blindly: the signed URL is kept, per
process, and every later range of that file goes there without the token (it must never reach another host). A 403
from the signed URL means it expired: resolve again. Resolver requests are rate-limited per token; CDN requests are
not. Servers that answer `/resolve/` directly (small regular files; LFS files on the local hub outside its real-Hub
mode) are read at the resolve URL itself.

Why urllib3 here rather than huggingface_hub's httpx session: bodies land straight in the caller's buffer
(`readinto`, no intermediate copies) and a dropped body resumes from its last byte.
"""

from __future__ import annotations

import calendar
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import urllib3

from ..errors import DataFileError, HubRequestError
from .buckets import changed_error, check_answer, pin_of
from .failures import error_for_answer
from .retry import RETRY_STATUSES, Retrier

if TYPE_CHECKING:
    from .client import HubClient

__all__ = ["Cancelled", "Target", "expiry_of", "get_range_into", "resolve_target", "resolve_url", "signed_urls",
           "url_path"]


class Cancelled(Exception):
    """A prefetch nobody waits for any more: stopped, not retried."""


REDIRECTS = frozenset({301, 302, 303, 307, 308})
READ_CHUNK = 256 * 1024
MAX_REFRESHES = 3  # re-resolutions of one read after its signed URL expired (403)
ASSUMED_LIFETIME = 50 * 60.0  # a signed URL whose expiry we cannot read: assume 50 minutes
_pools: dict[int, urllib3.PoolManager] = {}
_pools_lock = threading.Lock()


def _pool() -> urllib3.PoolManager:
    """One pool per process (forked Spark workers must not share a parent's sockets). No automatic retries and
    no automatic redirects: both are decided here."""
    pid = os.getpid()
    with _pools_lock:
        if pid not in _pools:
            _pools[pid] = urllib3.PoolManager(num_pools=16, maxsize=64, retries=False,
                                              timeout=urllib3.Timeout(connect=10, read=60))
        return _pools[pid]


@dataclass(frozen=True)
class Target:
    """Where a file's bytes are read from: a signed URL (no token) or the resolve URL itself (token)."""

    url: str
    signed: bool
    expires_at: float = float("inf")  # time.time() after which it is no use (inf for resolve URLs)
    issued_at: float = 0.0

    def fresh(self, margin: float = 60.0) -> bool:
        """Still usable for `margin` seconds (or a quarter of its lifetime, for URLs that live less)."""
        lifetime = self.expires_at - self.issued_at
        return time.time() + min(margin, lifetime / 4) < self.expires_at


class SignedUrls:
    """Per process: resolve URL -> its current Target, so a file is resolved once whatever reads it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._targets: dict[str, Target] = {}

    def get(self, resolve_url: str, margin: float = 60.0) -> Target | None:
        with self._lock:
            target = self._targets.get(resolve_url)
        return target if target is not None and target.fresh(margin) else None

    def last(self, resolve_url: str) -> Target | None:
        """The target held for `resolve_url`, fresh or not."""
        with self._lock:
            return self._targets.get(resolve_url)

    def put(self, resolve_url: str, target: Target) -> None:
        with self._lock:
            self._targets[resolve_url] = target

    def drop(self, resolve_url: str, target: Target) -> None:
        with self._lock:
            if self._targets.get(resolve_url) == target:
                del self._targets[resolve_url]


signed_urls = SignedUrls()


def url_path(url: str) -> str:
    """The URL without scheme, host and query: what messages show (never a token or a signature)."""
    return urlsplit(url).path


def resolve_url(endpoint: str, repo_id: str, revision: str, path: str, repo_type: str = "dataset") -> str:
    prefix = {"dataset": "datasets/", "space": "spaces/"}.get(repo_type, "")
    return f"{endpoint}/{prefix}{repo_id}/resolve/{quote(revision, safe='')}/{quote(path)}"


def expiry_of(url: str, now: float) -> float:
    """When a signed URL stops working, read from its query (CloudFront `Expires`, S3 `X-Amz-Date` +
    `X-Amz-Expires`), else assumed."""
    query = {k.lower(): v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    try:
        if "expires" in query:
            return float(query["expires"])
        if "x-amz-date" in query and "x-amz-expires" in query:
            start = calendar.timegm(time.strptime(query["x-amz-date"], "%Y%m%dT%H%M%SZ"))
            return start + float(query["x-amz-expires"])
    except (ValueError, OverflowError):
        pass
    return now + ASSUMED_LIFETIME


def _same_host(a: str, b: str) -> bool:
    sa, sb = urlsplit(a), urlsplit(b)
    return (sa.scheme, sa.netloc) == (sb.scheme, sb.netloc)


def _headers(client: HubClient, url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"user-agent": "hfconnect"}
    if client.token and _same_host(url, client.endpoint):  # the token never goes to another host
        headers["authorization"] = f"Bearer {client.token}"
    headers.update(extra or {})
    return headers


def _target_for(client: HubClient, resolve_url_: str) -> Target:
    """Where a read of the file starts: its signed URL while fresh; once it is about to expire, a new one (one
    resolver request whatever the reads in flight); a file never redirected, `/resolve/` itself."""
    known = signed_urls.get(resolve_url_)
    if known is not None:
        return known
    stale = signed_urls.last(resolve_url_)
    if stale is not None and stale.signed:
        return _renewed(client, resolve_url_, stale)
    return Target(resolve_url_, False)


def _redirected(client: HubClient, resolve_url_: str, at: str, location: str) -> Target:
    """Record where `/resolve/` sent us; the next request goes there."""
    url = urljoin(at, location)
    now = time.time()
    target = Target(url, not _same_host(url, client.endpoint), expiry_of(url, now), now)
    signed_urls.put(resolve_url_, target)
    return target


def resolve_target(client: HubClient, resolve_url_: str) -> Target:
    """The URL a reader that cannot refresh (Daft's native reader) should read a file from: resolved now, with
    a HEAD (one resolver request) unless a fresh one is known."""
    known = signed_urls.get(resolve_url_, margin=300.0)
    if known is not None:
        return known
    return _resolve_now(client, resolve_url_)


def _resolve_now(client: HubClient, resolve_url_: str) -> Target:
    """Ask `/resolve/` where the file is (a HEAD: one resolver request) and record the answer."""
    retrier = Retrier(client.policy, f"HEAD {url_path(resolve_url_)}")
    while True:
        try:
            resp = _pool().request("HEAD", resolve_url_, headers=_headers(client, resolve_url_), redirect=False)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            retrier.failed(type(exc).__name__)
            continue
        if resp.status in REDIRECTS and resp.headers.get("Location"):
            check_answer(resolve_url_, resp.headers)  # a bucket file: the one planned, or an error
            return _redirected(client, resolve_url_, resolve_url_, resp.headers["Location"])
        if resp.status in (200, 206):
            check_answer(resolve_url_, resp.headers)
            return Target(resolve_url_.partition("#")[0], False)
        if resp.status in RETRY_STATUSES:
            retrier.failed(f"HTTP {resp.status}", status=resp.status, headers=resp.headers)
            continue
        raise _answer_error(client, resolve_url_, resp)


_renewals: dict[tuple[int, str], threading.Lock] = {}  # (pid, file) -> the lock of its renewal under way


def _renewed(client: HubClient, resolve_url_: str, stale: Target) -> Target:
    """Where to read a file after its signed URL `stale` was refused. The reads of one file in flight (a task keeps
    several) meet the expiry together: one of them asks `/resolve/` again, the others wait and take its answer, so
    a renewal is one resolver request per file, as the first resolution was."""
    key = (os.getpid(), resolve_url_)  # a lock held while a process forked stays held in the child: not shared
    with _pools_lock:
        lock = _renewals.setdefault(key, threading.Lock())
    try:
        with lock:
            known = signed_urls.get(resolve_url_)
            if known is not None and known != stale:  # another read renewed it meanwhile
                return known
            target = _resolve_now(client, resolve_url_)  # one HEAD of /resolve/: the new signed URL, recorded
            if not target.signed:  # the file is served by /resolve/ itself now: the stale URL is no use any more
                signed_urls.drop(resolve_url_, stale)
            return target
    finally:
        with _pools_lock:  # kept only while a renewal may be under way: a long reader does not grow it
            if _renewals.get(key) is lock:
                del _renewals[key]


def get_range_into(client: HubClient, resolve_url_: str, start: int, end: int, out: memoryview,
                   cancelled: Callable[[], bool] | None = None) -> None:
    """Fill `out` with bytes [start, end) of the file behind `resolve_url_`, straight from the socket.

    Redirects are recorded (not followed blindly), an expired signed URL is resolved again, a dropped body
    resumes from its last byte, 408/429/5xx wait as the retry policy says. A prefetch whose reader went away
    (`cancelled()` turns true) stops retrying.
    """
    total = end - start
    got = 0
    refreshes = 0
    hops = 0
    retrier = Retrier(client.policy, f"GET {url_path(resolve_url_)}")
    target = _target_for(client, resolve_url_)
    while got < total:
        if cancelled is not None and cancelled():
            raise Cancelled(f"{url_path(resolve_url_)}: read abandoned")
        pos = start + got
        try:
            resp = _pool().request("GET", target.url, headers=_headers(client, target.url,
                                                                        {"range": f"bytes={pos}-{end - 1}"}),
                                   preload_content=False, redirect=False)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            retrier.failed(f"{type(exc).__name__}")
            continue
        try:
            if resp.status in REDIRECTS and resp.headers.get("Location"):
                hops += 1
                if hops > 5:
                    raise HubRequestError(f"{url_path(resolve_url_)}: too many redirects", url_path=url_path(
                        resolve_url_))
                resp.drain_conn()
                if not target.signed:  # the resolver's answer names the file: a bucket's must be the planned one
                    check_answer(resolve_url_, resp.headers)
                target = _redirected(client, resolve_url_, target.url, resp.headers["Location"])
                continue
            if resp.status == 403 and target.signed:  # the signed URL expired: ask /resolve/ for a new one
                resp.drain_conn()
                refreshes += 1
                if refreshes > MAX_REFRESHES:
                    signed_urls.drop(resolve_url_, target)
                    raise HubRequestError(f"{url_path(resolve_url_)}: the signed download URL was refused {refreshes}"
                                          " times right after it was issued; check the system clock",
                                          url_path=url_path(resolve_url_))
                target = _renewed(client, resolve_url_, target)
                continue
            if resp.status in RETRY_STATUSES:
                headers = dict(resp.headers)
                resp.drain_conn()
                retrier.failed(f"HTTP {resp.status}", status=resp.status, headers=headers)
                continue
            if resp.status not in (200, 206):
                raise _answer_error(client, resolve_url_, resp)
            if not target.signed:  # served by the resolver itself: each answer names the file it is
                try:
                    check_answer(resolve_url_, resp.headers)
                except DataFileError:
                    resp.close()  # not the planned bytes: not read, the connection not reused
                    raise
            if resp.status == 200 and pos > 0:
                raise HubRequestError(f"{url_path(resolve_url_)}: the server ignored the Range header; it must "
                                      "honour Range requests (206) to be read in parallel",
                                      url_path=url_path(resolve_url_))
            before = got
            try:
                while got < total:  # in chunks: a dropped connection loses at most one chunk of what came
                    n = resp.readinto(out[got:got + READ_CHUNK])
                    if not n:
                        break
                    got += n
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if got > before:
                    retrier.progressed()  # progress: a fresh budget for the rest
                retrier.failed(f"connection dropped mid-body ({type(exc).__name__})")
                continue
            if got < total:
                retrier.failed("short body")
        finally:
            resp.release_conn()


def _answer_error(client: HubClient, resolve_url_: str, resp: urllib3.BaseHTTPResponse) -> Exception:
    code = resp.headers.get("X-Error-Code", "")
    message = resp.headers.get("X-Error-Message", "")
    resp.drain_conn()
    path = url_path(resolve_url_)
    if resp.status == 404 and code in ("EntryNotFound", "") and pin_of(resolve_url_) is not None:
        # a planned bucket file deleted since (the bucket itself gone or hidden is RepoNotFound, below)
        return changed_error(resolve_url_, "no longer there")
    if resp.status in (401, 403, 404):
        return error_for_answer(resp.status, where=path, code=code, message=message,
                                has_token=bool(client.token), url_path=path)
    return DataFileError(f"{path}: HTTP {resp.status} {code} {message}".strip(), url_path=path, status=resp.status)

