"""hfconnect and hf_xet, the client huggingface_hub uploads through (Xet storage) whenever it is importable.

hf_xet brings its own HTTP client, token refresh, retries and errors. This module keeps them under hfconnect's
one policy:
  retries  hf_xet retries every CAS request itself; `xet_environment` derives its HF_XET_CLIENT_RETRY_* settings
           from the RetryPolicy so a CAS that stays down fails within `budget`, and `prepare_process` sets them
           in each process that uploads, before its first transfer, never over a value the user set.
  errors   `xet_failure` reads what hf_xet raised (a builtin ConnectionError/TimeoutError/RuntimeError with the
           status only in its text, or hf_xet's own exceptions) so `failures.error_for_xet` makes it ours; hf_xet
           has retried already, so nothing retries it again.
  cache    hf_xet remembers the xorbs it uploaded in a shard cache under HF_XET_CACHE, read at each upload; a
           cache naming xorbs the Hub no longer has makes it skip uploading them (the Hub then refuses the
           shard). `cache_scope` gives each job its own cache in a per-process temp dir that is removed when
           the process moves to another job or exits, and a fresh one after such a refusal.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from .retry import RetryPolicy

__all__ = ["CacheScope", "XetFailure", "XetRetry", "cache_scope", "exception_chain", "in_use", "mark_started",
           "prepare_process", "scrub", "shorten", "xet_environment", "xet_failure", "xet_retry"]

log = logging.getLogger("hfconnect.hub")

# Retry series a failing upload can wait through one after another: a CAS that is down fails each global-dedup
# query hf_xet makes before its first xorb upload (a few per file, at most one per 256 chunks: the counts measured
# are in bench/MEASUREMENTS.md), then the xorb upload itself.
XET_SERIES = 4
_GROWING_BASE = 2.0  # hf_xet multiplies each delay by its base's whole seconds: 2 s is the smallest base that grows
RETRY_KEYS = ("HF_XET_CLIENT_RETRY_MAX_ATTEMPTS", "HF_XET_CLIENT_RETRY_BASE_DELAY", "HF_XET_CLIENT_RETRY_MAX_DURATION")
OURS = "HFCONNECT_XET_SET"  # the HF_XET_* names hfconnect set: a child process tells them from the user's
CACHE = "HF_XET_CACHE"
_ROOT_PREFIX = "hfconnect-xet-"


@dataclass(frozen=True)
class XetRetry:
    """hf_xet's retry settings: `retries` after the first try, delays from `base`, each capped at `cap` seconds."""

    base: float
    retries: int
    cap: float

    def delays(self) -> list[float]:
        """hf_xet's delays before jitter (it waits a uniform [0, d) of each): base * m^(i-1) capped, m the whole
        seconds of base (at least 1), so a base under 2 s never grows (hf_xet 1.8 `exponential_retry_delays`)."""
        m = max(1, int(self.base))
        return [min(self.cap, self.base * m**i) for i in range(self.retries)]

    def worst(self) -> float:
        return sum(self.delays())

    def environment(self) -> dict[str, str]:
        return dict(zip(RETRY_KEYS, (str(self.retries), _ms(self.base), _ms(self.cap)), strict=True))


def _ms(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def xet_retry(policy: RetryPolicy) -> XetRetry:
    """Settings whose worst case (every delay at its maximum, in every retry series a failing upload waits
    through) fits in `policy.budget`: doubling from 2 s like our own backoff when the budget's share allows two
    retries or more, else constant delays (a base under 2 s does not grow)."""
    share = max(0.0, policy.budget) / XET_SERIES
    most = max(0, policy.attempts - 1)
    cap = max(0.001, min(policy.cap, share))
    retries = 0
    while retries < most and XetRetry(_GROWING_BASE, retries + 1, cap).worst() <= share:
        retries += 1
    if retries >= 2:
        return XetRetry(_GROWING_BASE, retries, cap)
    if share < 0.05 or most == 0:
        return XetRetry(0.001, 0, cap)
    return XetRetry(min(1.0, share / most), most, cap)


def xet_environment(policy: RetryPolicy) -> dict[str, str]:
    """The HF_XET_CLIENT_RETRY_* values hfconnect wants for this policy (see `xet_retry`)."""
    return xet_retry(policy).environment()


@functools.cache
def in_use() -> bool:
    """Whether huggingface_hub uploads through hf_xet in this process (it decides so without asking the server)."""
    import importlib.util

    from huggingface_hub import constants

    return not constants.HF_HUB_DISABLE_XET and importlib.util.find_spec("hf_xet") is not None


# ---- the process's settings ---------------------------------------------------------------------------------
@dataclass
class _Process:
    pid: int
    wanted: dict[str, str] | None = None  # what the last prepare_process asked for
    effective: dict[str, str] | None = None  # the HF_XET_CLIENT_RETRY_* values then in the environment
    started: dict[str, str] | None = None  # those values when this process's first Xet upload began
    preloaded: bool = False  # hf_xet was imported before hfconnect prepared this process


_proc = _Process(pid=-1)
_lock = threading.RLock()


def _current() -> _Process:
    global _proc
    if _proc.pid != os.getpid():  # first use, or a forked child: huggingface_hub makes it a new session too
        _proc = _Process(pid=os.getpid(), preloaded="hf_xet" in sys.modules)
    return _proc


def prepare_process(policy: RetryPolicy) -> dict[str, str]:
    """Put hf_xet's retry settings for `policy` in this process's environment before its first Xet transfer.

    huggingface_hub makes one Xet session per process, and a session reads these settings once, when it is made:
    later changes reach only sessions made later (a forked child's). A variable the user set is kept; one
    hfconnect set (listed in HFCONNECT_XET_SET, which child processes inherit) may change. Returns the values in
    effect (empty when uploads do not go through Xet)."""
    if not in_use():
        return {}
    wanted = xet_environment(policy)
    with _lock:
        proc = _current()
        if proc.wanted == wanted and proc.effective is not None:
            return proc.effective
        ours = set(filter(None, os.environ.get(OURS, "").split(",")))
        for key, value in wanted.items():
            if key in os.environ and key not in ours:
                continue  # the user's
            os.environ[key] = value
            ours.add(key)
        os.environ[OURS] = ",".join(sorted(ours))
        effective = {key: os.environ[key] for key in wanted}
        if proc.started is not None and proc.started != effective:
            log.warning("hfconnect: hf_xet already started in this process with %s: those settings stay in force for "
                        "every Xet upload of this process, as hf_xet reads them once per process (when its first "
                        "transfer starts); %s applies only to processes started later", _describe(proc.started),
                        _describe(effective))
        elif proc.preloaded and proc.effective is None:
            log.debug("hfconnect: hf_xet was loaded in this process before hfconnect set %s: a Xet session made "
                      "before keeps the settings it was made with", _describe(effective))
        proc.wanted, proc.effective = wanted, effective
    import hf_xet  # noqa: F401 - loaded now, its log directory follows the user's HF_XET_CACHE, not a job's cache

    return effective


def _describe(values: dict[str, str]) -> str:
    return ", ".join(f"{k.removeprefix('HF_XET_CLIENT_')}={v}" for k, v in values.items())


def mark_started() -> None:
    """A Xet transfer starts (called by the Xet upload path only, `write.task`, right before it): huggingface_hub
    makes its session now, with the settings now in effect, and keeps it for the process."""
    with _lock:
        proc = _current()
        if proc.started is None:
            proc.started = {key: os.environ.get(key, "") for key in RETRY_KEYS}


# ---- errors --------------------------------------------------------------------------------------------------
# hf_xet's error categories: the start of every message its extension raises (xet_pkg error.rs, hf_xet 1.8).
CATEGORIES = ("Authentication error", "Network error", "Rate limited", "Server error", "Timeout", "Not found",
              "Data integrity error", "Configuration error", "I/O error", "Internal error", "Task error",
              "Previous task error", "Operation cancelled", "User cancelled", "Wrong runtime mode",
              "Already completed")
_BUILTINS = (ConnectionError, TimeoutError, RuntimeError, OSError, ValueError)
_STATUS = re.compile(r"\((\d{3})(?: [^)]*)?\)")  # "HTTP status client error (401 Unauthorized), domain: <url>"
_URL = re.compile(r"(?:domain: |for url \()(?P<url>[a-z][a-z0-9+.-]*://[^\s),]+)")
_QUERY = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s?),]*)\?[^\s),]*")
_SECRETS = (
    re.compile(r"(?i)\bbearer\s+[^\s,)]+"),
    re.compile(r"\bhf_[A-Za-z0-9_]{6,}"),  # Hub tokens, also those with `_` in them (hf_dev_write_...)
    re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),  # JWTs (the Hub's Xet access tokens)
    re.compile(r"\bxet_[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # the local hub's Xet access tokens: xet_<b64>.<hmac>
)
_LONG_HEX = re.compile(r"\b([0-9a-f]{12})[0-9a-f]{20,}\b")
MESSAGE_LIMIT = 300


@dataclass(frozen=True)
class XetFailure:
    """What hf_xet says failed, readable without its exception: for `failures.error_for_xet`."""

    kind: str  # hf_xet's category ("Server error", ...) or the exception's class name
    message: str  # shortened; URL queries and anything like a token removed
    status: int | None = None  # the HTTP status hf_xet's text names, if any
    route: str = ""  # the path of the request that failed, e.g. /v1/xorbs/default/<hash> or .../xet-write-token/main
    refused: bool = False  # hf_xet.XetAuthenticationError: the Hub refused a Xet token

    @property
    def token_endpoint(self) -> bool:
        return "/xet-write-token" in self.route or "/xet-read-token" in self.route

    @property
    def stale_cache(self) -> bool:
        """The CAS refused a shard: what a cache naming xorbs the CAS no longer has leads to."""
        return self.status == 400 and "/shards" in self.route


def _xet_types() -> tuple[type[BaseException], ...]:
    try:
        import hf_xet
    except ImportError:
        return ()
    return tuple(t for t in (getattr(hf_xet, "XetAuthenticationError", None),
                             getattr(hf_xet, "XetObjectNotFoundError", None)) if isinstance(t, type))


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, then its causes and contexts, each once (huggingface_hub and hf_xet wrap errors)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is not None and id(e) not in seen:
            seen.add(id(e))
            yield e
            todo += [e.__cause__, e.__context__]


def _from_http_client(e: BaseException) -> bool:
    return type(e).__module__.split(".")[0] in ("httpx", "httpx2", "httpcore", "urllib3", "requests")


def xet_failure(exc: BaseException, *, xet_path: bool = False,
                secrets: tuple[str | None, ...] = ()) -> XetFailure | None:
    """What hf_xet raised, read; None when `exc` is not hf_xet's (e.g. huggingface_hub's HTTP client failed).

    hf_xet's errors are its two exception classes, or a builtin of the exact types its extension raises whose
    text starts with one of its categories; on the Xet path (`xet_path`: the call uploads through hf_xet) a bare
    builtin ConnectionError/TimeoutError/RuntimeError counts too, in case a newer hf_xet words them otherwise.
    Any exception of an HTTP client library in the chain means the failure was not hf_xet's. `secrets` (the
    caller's token) never reach the failure, nor does anything that looks like a token."""
    chain = list(exception_chain(exc))
    if any(_from_http_client(e) for e in chain):
        return None
    types = _xet_types()
    for e in chain:
        text = str(e)
        if isinstance(e, types) or (type(e) in _BUILTINS and text.startswith(CATEGORIES)) or (
                xet_path and type(e) in (ConnectionError, TimeoutError, RuntimeError)):
            kind = next((c for c in CATEGORIES if text.startswith(c)), type(e).__name__)
            status = _STATUS.search(text)
            url = _URL.search(text)
            route = _LONG_HEX.sub(r"\1…", scrub(_path(url["url"]), secrets)) if url else ""
            refused = type(e).__name__ == "XetAuthenticationError" and isinstance(e, PermissionError)
            return XetFailure(kind, shorten(text, secrets), int(status[1]) if status else None, route, refused)
    return None


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path


def scrub(text: str, secrets: tuple[str | None, ...] = ()) -> str:
    """`text` without the given `secrets` (the caller's token), URL queries (signatures) or anything like a token."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _QUERY.sub(r"\1", text)
    for pattern in _SECRETS:
        text = pattern.sub("***", text)
    return text


def shorten(text: str, secrets: tuple[str | None, ...] = ()) -> str:
    """One line of at most MESSAGE_LIMIT characters, without the given `secrets`, URL queries (signatures) or
    anything like a token."""
    text = _LONG_HEX.sub(r"\1…", " ".join(scrub(text, secrets).split()))
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT - 1] + "…"


# ---- the cache -----------------------------------------------------------------------------------------------
class _Caches:
    """Per process: a temp root holding one shard cache per job; HF_XET_CACHE points at the cache of the job
    whose uploads run (hf_xet reads it when each upload starts). It stays set between uploads: the environment
    is only ever changed in place, as hf_xet's threads may be reading it.

    Uploads are counted per cache directory they may be using (not per job: a job that starts while another's
    uploads run shares that job's directory), and a job's caches are removed only when no upload may be using
    any of them."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.root = ""
        self.location = ""  # the cache directory HF_XET_CACHE points at
        self.inflight: Counter[str] = Counter()  # cache directory -> uploads that may be using it
        self.scopes: list[CacheScope] = []  # the uploads running with one of these caches
        self.generation: Counter[str] = Counter()
        self.jobs: set[str] = set()  # jobs with a cache under the root

    def point_at(self, job: str) -> None:
        if not self.root:
            _sweep(tempfile.gettempdir())
            self.root = tempfile.mkdtemp(prefix=f"{_ROOT_PREFIX}{os.getpid()}-")
            atexit.register(_remove_root, self.root, os.getpid())
        path = os.path.join(self.root, _safe(job), str(self.generation[job]))
        os.makedirs(path, exist_ok=True)
        os.environ[CACHE] = path
        self.location = path
        self.jobs.add(job)

    def enter(self, scope: CacheScope) -> None:
        self.scopes.append(scope)
        self._hold(scope, scope.location)

    def leave(self, scope: CacheScope) -> None:
        self.scopes = [s for s in self.scopes if s is not scope]
        for path in scope.held:
            self.inflight[path] -= 1
            if self.inflight[path] <= 0:
                del self.inflight[path]
        scope.held = []

    def renewed(self, scope: CacheScope) -> None:
        """HF_XET_CACHE moved to `scope`'s fresh cache: its next upload uses that one only; any other running
        upload may not have read HF_XET_CACHE yet, so it may use that one too (its earlier one stays counted)."""
        for other in self.scopes:
            if other is not scope and self.location not in other.held:
                self._hold(other, self.location)
        self.leave(scope)
        self.enter(scope)

    def _hold(self, scope: CacheScope, path: str) -> None:
        scope.held.append(path)
        self.inflight[path] += 1

    def prune(self) -> None:
        """Drop the caches of jobs none of whose directories an upload may be using, but the one HF_XET_CACHE
        points at."""
        used = [path for path, n in self.inflight.items() if n > 0] + [self.location]
        for job in list(self.jobs):
            directory = os.path.join(self.root, _safe(job))
            if any(_within(path, directory) for path in used):
                continue
            shutil.rmtree(directory, ignore_errors=True)
            self.jobs.discard(job)
            self.generation.pop(job, None)

    def busy(self) -> bool:
        return any(n > 0 for n in self.inflight.values())


def _within(path: str, directory: str) -> bool:
    return os.path.normpath(path).startswith(os.path.normpath(directory) + os.sep)


_caches = _Caches()


def _safe(job: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", job)[:80] or "job"


def _ours(path: str) -> bool:
    """A cache hfconnect made (<tmp>/hfconnect-xet-<pid>-*/<job>/<n>), e.g. inherited from a forking parent."""
    return os.path.basename(os.path.dirname(os.path.dirname(os.path.normpath(path)))).startswith(_ROOT_PREFIX)


def _remove_root(root: str, pid: int) -> None:
    if os.getpid() == pid:  # not a forked child's exit: the root is its parent's
        shutil.rmtree(root, ignore_errors=True)


def _sweep(tmp: str, min_age: float = 600.0) -> None:
    """Remove roots left by processes that exited without cleaning up (Spark's Python workers end with os._exit)."""
    with contextlib.suppress(OSError):
        for name in os.listdir(tmp):
            if not name.startswith(_ROOT_PREFIX):
                continue
            path = os.path.join(tmp, name)
            with contextlib.suppress(OSError, ValueError):
                pid = int(name[len(_ROOT_PREFIX):].split("-")[0])
                if not _alive(pid) and time.time() - os.path.getmtime(path) > min_age:
                    shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


@dataclass
class CacheScope:
    """One upload's view of the Xet cache: `renew()` gives the job a fresh, empty cache (after a stale one)."""

    job: str
    owned: bool  # False: the user set HF_XET_CACHE, and hfconnect leaves it alone
    location: str  # the cache this upload's next transfer uses
    held: list[str] = field(default_factory=list, repr=False)  # the caches it is counted in (may be using)

    def renew(self) -> bool:
        if not self.owned:
            return False
        with _lock:
            _caches.generation[self.job] += 1
            _caches.point_at(self.job)
            self.location = _caches.location
            _caches.renewed(self)
        log.info("hfconnect: hf_xet's cache for job %s named data the Hub no longer has: uploading again with a "
                 "fresh cache", self.job)
        return True


@contextlib.contextmanager
def cache_scope(job: str) -> Iterator[CacheScope]:
    """Run one Xet upload of `job` with the job's own cache (unless the user set HF_XET_CACHE)."""
    global _caches
    with _lock:
        if _caches.pid != os.getpid():
            _caches = _Caches()  # a forked child: its parent's root is not its own
        given = os.environ.get(CACHE)
        if given and not _caches.busy() and not _ours(given):
            scope = CacheScope(job, False, given)
        else:
            # Uploads (of any job) that may be using the cache HF_XET_CACHE points at: share it meanwhile, as
            # moving HF_XET_CACHE would move those whose transfer has not read it yet.
            if not _caches.inflight[_caches.location]:
                _caches.point_at(job)
                _caches.prune()
            scope = CacheScope(job, True, _caches.location)
            _caches.enter(scope)
    try:
        yield scope
    finally:
        if scope.owned:
            with _lock:
                _caches.leave(scope)
