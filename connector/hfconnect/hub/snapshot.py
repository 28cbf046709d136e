"""Pin a read to ONE commit: repo + revision -> sha, and list that commit's files with their sizes.

API calls: one to resolve the revision, then one tree page per 1000 files (the Hub rate-limits API calls,
not downloads, so sizes come from the listing and never from a request per file).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ..errors import AuthenticationError, HubRequestError, RepoNotFoundError, RevisionNotFoundError

__all__ = ["RepoFileInfo", "Snapshot", "hub_api", "list_files", "resolve_snapshot"]

log = logging.getLogger("hfconnect.hub")


@dataclass(frozen=True)
class RepoFileInfo:
    path: str
    size: int


@dataclass(frozen=True)
class Snapshot:
    """A repo at one commit. Small and picklable; holds no token."""

    repo_id: str
    sha: str
    revision: str
    endpoint: str
    repo_type: str = "dataset"


def hub_api(endpoint: str, token: str | None) -> Any:
    from huggingface_hub import HfApi

    return HfApi(endpoint=endpoint, token=token or False, library_name="hfconnect")


def resolve_snapshot(repo_id: str, revision: str, *, endpoint: str, token: str | None) -> Snapshot:
    """Resolve a branch, tag, `refs/convert/parquet`, `refs/pr/N` or sha to its commit sha (1 API call)."""
    api = hub_api(endpoint, token)
    with hub_errors(repo_id, revision, token):
        info = api.dataset_info(repo_id, revision=revision)
    if not info.sha:
        raise HubRequestError(f"{endpoint} did not report a commit sha for {repo_id}@{revision}")
    return Snapshot(repo_id=repo_id, sha=info.sha, revision=revision, endpoint=endpoint)


def list_files(snapshot: Snapshot, token: str | None, path: str = "") -> list[RepoFileInfo]:
    """Every file under `path` at the snapshot's sha, with sizes (one API call per 1000 entries)."""
    from huggingface_hub.hf_api import RepoFile

    api = hub_api(snapshot.endpoint, token)
    with hub_errors(snapshot.repo_id, snapshot.sha, token, path=path):
        entries = api.list_repo_tree(snapshot.repo_id, path_in_repo=path or None, repo_type=snapshot.repo_type,
                                     revision=snapshot.sha, recursive=True)
        return [RepoFileInfo(e.path, e.size) for e in entries if isinstance(e, RepoFile)]


class hub_errors:  # noqa: N801 - used as a context manager, reads as a phrase
    """Map huggingface_hub's errors to ours, naming repo, revision and path, never the token."""

    def __init__(self, repo_id: str, revision: str, token: str | None, path: str = "") -> None:
        self.repo_id, self.revision, self.token, self.path = repo_id, revision, token, path

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None:
            return False
        from huggingface_hub.errors import (
            EntryNotFoundError,
            HfHubHTTPError,
            RepositoryNotFoundError,
        )
        from huggingface_hub.errors import RevisionNotFoundError as HfRevisionNotFound

        where = f"{self.repo_id}@{self.revision}"
        if isinstance(exc, HfRevisionNotFound):
            raise RevisionNotFoundError(
                f"revision {self.revision!r} not found in dataset {self.repo_id}: use a branch, tag, "
                "refs/convert/parquet, refs/pr/N or a commit sha that exists", repo=self.repo_id,
                revision=self.revision) from None
        if isinstance(exc, RepositoryNotFoundError):
            hint = ("the repo may be private: pass a token with read access (option token or HF_TOKEN)"
                    if not self.token else "check the name, or that this token can read it")
            raise RepoNotFoundError(f"dataset {self.repo_id} not found on the Hub: {hint}",
                                    repo=self.repo_id) from None
        if isinstance(exc, EntryNotFoundError):
            raise RepoNotFoundError(f"path {self.path!r} not found in {where}", repo=self.repo_id,
                                    path=self.path) from None
        if isinstance(exc, HfHubHTTPError):
            status = exc.response.status_code if exc.response is not None else None
            if status in (401, 403):
                raise AuthenticationError(f"{where}: HTTP {status}: the token is invalid or lacks the rights "
                                          "needed", repo=self.repo_id, status=status) from None
            raise HubRequestError(f"{where}: Hub request failed with HTTP {status}", repo=self.repo_id,
                                  status=status) from None
        return False
