"""`HubClient`: the one owner of hfconnect's Hub I/O, a small picklable value made from (endpoint, token).

The planner, the reader, write tasks, the commit and both engine adapters all talk to the Hub through it: the
HfApi calls (under the one retry policy and error mapping), file bytes (resolved once, read from the signed
URL), the head of a branch with its files and card, the files changed between two commits, and the HTTP
settings Daft's native reader gets. It pickles to (endpoint, token, policy); what it caches (HfApi objects,
signed URLs, pooled connections) lives per process, never in the value.

Only the hub package calls HfApi (`api()`): the rest of hfconnect goes through this client's methods and the hub
modules that take it, one per concern, each with typed answers: `repos` (the token's role, a repo's life, refs,
branches, uploads and the commit), `pulls` (pull requests), `history` (the ONE walk through a revision's
commits), `buckets` (a bucket's listing and manifest) and `bucket_admin` (a bucket's life and its batches).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from ..errors import HubRequestError
from . import hfapi
from .http import Target, get_range_into, resolve_target, resolve_url, signed_urls
from .retry import RetryPolicy

if TYPE_CHECKING:
    from huggingface_hub import HfApi
from .snapshot import Changes, Head, RepoFileInfo, Snapshot

__all__ = ["HubClient", "resolve_token"]

T = TypeVar("T")
log = logging.getLogger("hfconnect.hub")
# lasting_targets: signed URLs go to a reader that cannot renew them only when they will outlive its read with
# room to spare, judged at this (conservative) rate.
LASTING_MIN_URL_LIFETIME = 600.0  # seconds
LASTING_ASSUMED_BYTES_PER_SECOND = 50_000_000


def resolve_token(token: str | None) -> str | None:
    """The token to use: the one given, else HF_TOKEN, else the login saved by `hf auth login` (found by
    huggingface_hub's own `get_token`). The empty token means anonymous on purpose: no fallback. Called on the
    driver; tasks get the result inside the plan."""
    if token is not None:
        return token
    if os.environ.get("HF_TOKEN"):
        return os.environ["HF_TOKEN"]
    from huggingface_hub import get_token

    return get_token() or None


class HttpSettings(TypedDict):
    """Daft `HTTPConfig` keywords (`HubClient.http_settings`)."""

    bearer_token: str | None
    num_tries: int
    retry_initial_backoff_ms: int


@dataclass(frozen=True)
class HubClient:
    endpoint: str
    token: str | None = field(default=None, repr=False)
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        object.__setattr__(self, "endpoint", self.endpoint.rstrip("/"))

    # ---- HfApi --------------------------------------------------------------------------------------
    def api(self) -> HfApi:
        """The huggingface_hub HfApi for this endpoint and token (one per process). For the hub package only:
        outside it, hfconnect calls the Hub through this client's methods and the hub modules."""
        return hfapi.api_for(self.endpoint, self.token)

    def call(self, what: str, fn: Callable[..., T], *args: Any, where: str, retry: bool = True,
             **kwargs: Any) -> T:  # args and kwargs go to fn as they are
        """Run one HfApi call under the retry policy; its errors come out as hfconnect's, about `where` (and
        never with the token in them)."""
        return hfapi.call(self.policy, what, fn, *args, where=where, has_token=bool(self.token), retry=retry,
                          secrets=(self.token,), **kwargs)

    # ---- commits and files -----------------------------------------------------------------------------
    def snapshot(self, repo_id: str, revision: str, repo_type: str = "dataset") -> Snapshot:
        """A branch, tag, `refs/convert/parquet`, `refs/pr/N` or sha pinned to its commit sha (1 API call)."""
        where = f"dataset {repo_id}@{revision}"
        info = self.call("repo info", self.api().repo_info, repo_id, revision=revision, repo_type=repo_type,
                         where=where)
        if not info.sha:
            raise HubRequestError(f"{self.endpoint} did not report a commit sha for {repo_id}@{revision}")
        return Snapshot(repo_id=repo_id, sha=info.sha, revision=revision, endpoint=self.endpoint,
                        repo_type=repo_type)

    def list_files(self, snapshot: Snapshot, path: str = "") -> tuple[RepoFileInfo, ...]:
        """Every file under `path` at the snapshot's sha, with sizes and content ids (1 API call per 1000)."""
        from huggingface_hub.hf_api import RepoFile

        def listing() -> list[RepoFileInfo]:
            entries = self.api().list_repo_tree(snapshot.repo_id, path_in_repo=path or None, recursive=True,
                                                repo_type=snapshot.repo_type, revision=snapshot.sha)
            return [RepoFileInfo(e.path, e.size, e.lfs.sha256 if e.lfs else e.blob_id)
                    for e in entries if isinstance(e, RepoFile)]

        where = f"{snapshot.repo_id}@{snapshot.sha}" + (f" path {path!r}" if path else "")
        return tuple(self.call("tree listing", listing, where=where))

    def head(self, repo_id: str, revision: str, *, with_card: bool = True, sha: str | None = None) -> Head:
        """A revision's commit, every file in it and the dataset card: what a planner and a write job need.
        With `sha` (a commit of `revision` already known) the revision is not resolved again."""
        snapshot = (Snapshot(repo_id, sha, revision, self.endpoint) if sha else self.snapshot(repo_id, revision))
        files = self.list_files(snapshot)
        readme = next((f for f in files if f.path == "README.md"), None)
        card = None
        if with_card and readme is not None:
            card = self.read_file(snapshot, readme.path, readme.size).decode("utf-8", errors="replace")
        return Head(snapshot, files, card)

    def changes(self, repo_id: str, old_sha: str, new_revision: str) -> tuple[Snapshot, Changes]:
        """The files added and removed between commit `old_sha` and the current commit of `new_revision`."""
        new = self.snapshot(repo_id, new_revision)
        old = Snapshot(repo_id, old_sha, old_sha, self.endpoint)
        before = self.list_files(old) if old_sha != new.sha else ()
        after = self.list_files(new) if old_sha != new.sha else ()
        return new, Changes.between(old_sha, before, new.sha, after)

    # ---- bytes ------------------------------------------------------------------------------------
    def file_url(self, snapshot: Snapshot, path: str) -> str:
        """The `/resolve/<sha>/<path>` URL of a file of the snapshot (what a read of it starts from); a bucket
        file's `/buckets/<id>/resolve/<path>`, pinned to the Xet hash and size the plan listed (hub.buckets)."""
        if snapshot.is_bucket:
            from . import buckets

            url = buckets.resolve_url(self.endpoint, snapshot.repo_id, path)
            pin = snapshot.pins.get(path)
            return buckets.pinned_url(url, *pin) if pin else url
        return resolve_url(self.endpoint, snapshot.repo_id, snapshot.sha, path, snapshot.repo_type)

    def read_range_into(self, url: str, start: int, end: int, out: memoryview,
                        cancelled: Callable[[], bool] | None = None) -> None:
        get_range_into(self, url, start, end, out, cancelled)

    def read_range(self, url: str, start: int, end: int) -> bytearray:
        out = bytearray(max(0, end - start))
        if out:
            get_range_into(self, url, start, end, memoryview(out))
        return out

    def read_file(self, snapshot: Snapshot, path: str, size: int) -> bytes:
        """A whole (small) file: a card, a JSON Lines or CSV data file."""
        return bytes(self.read_range(self.file_url(snapshot, path), 0, size))

    def known_targets(self, urls: list[str]) -> tuple[tuple[str, Target], ...]:
        """The signed URLs this process already holds for these files (to hand to tasks with the plan)."""
        return tuple((u, t) for u in urls if (t := signed_urls.get(u, margin=300.0)) is not None and t.signed)

    def remember(self, targets: tuple[tuple[str, Target], ...]) -> None:
        """Take signed URLs obtained elsewhere (the planner's), so this process reads without resolving."""
        for url, target in targets:
            if target.fresh() and signed_urls.get(url) is None:
                signed_urls.put(url, target)

    def download_target(self, url: str) -> Target:
        """Where a reader that cannot follow redirects or refresh (Daft's native one) should read a file."""
        return resolve_target(self, url)

    def lasting_targets(self, snapshot: Snapshot, files: list[tuple[str, int]],
                        concurrency: int = 16) -> list[Target] | None:
        """Where a reader that can neither follow redirects nor renew a URL (Daft's native one, which makes every
        task before it runs any) reads each (path, size): the signed URL `/resolve/` redirects it to (one resolver
        request per file, none for URLs planning got), or `/resolve/` itself for a file the endpoint serves
        directly (an LFS file on a hub without redirects; files of one repo may differ: Xet files always
        redirect). None when the signed URLs would expire before a read of these bytes ends with room to spare
        (judged at a conservative rate): a reader that renews URLs must take the files."""
        from concurrent.futures import ThreadPoolExecutor

        urls = [self.file_url(snapshot, path) for path, _ in files]
        if not urls:
            return []
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(urls)))) as pool:
            targets = list(pool.map(self.download_target, urls))
        signed = [t for t in targets if t.signed]
        if not signed:
            return targets
        remaining = min(t.expires_at for t in signed) - time.time()
        needed = sum(size for _, size in files) / LASTING_ASSUMED_BYTES_PER_SECOND
        if remaining < LASTING_MIN_URL_LIFETIME or needed > remaining / 2:
            log.info("hfconnect: signed URLs of %s expire in %.0fs, too soon for a reader that cannot renew them "
                     "to read %d files in", snapshot.repo_id, remaining, len(files))
            return None
        return targets

    def http_settings(self, target: Target) -> HttpSettings:
        """Daft `HTTPConfig` keywords for reading `target`: the token only for the endpoint's own host, and
        tries/backoff from the retry policy so Daft gives up within the same budget."""
        p = self.policy
        # Daft backs off from `base`, doubling, with jitter (up to ~1.5x): as many tries as fit in the budget.
        tries = 1 + int(math.log2(p.budget / (1.5 * p.base) + 1))
        return {"bearer_token": None if target.signed else self.token,
                "num_tries": max(1, min(p.attempts, tries)), "retry_initial_backoff_ms": int(p.base * 1000)}
