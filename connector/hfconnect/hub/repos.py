"""A repo's life as a write sees it: the token's role, the repo (info, exists, create, delete), its refs and
branches, and the uploads and commit that change it. Every call goes through `HubClient.call` (the one retry
policy and error mapping) and answers in plain values or huggingface_hub's own types, never `Any`.

`where` names what a call is about in its error (`dataset o/r`, `dataset o/r@main`, ...) and `what` the request
in a retry's give-up message: callers pass their own when the wording matters to them. A commit is never
retried here (`retry=False`): a 5xx may have landed, so its caller decides (see `write.commit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import AuthenticationError, HubRequestError

if TYPE_CHECKING:
    from huggingface_hub import CommitOperation, CommitOperationAdd, GitRefs

    from .client import HubClient

__all__ = ["Committed", "create_branch", "create_commit", "create_repo", "delete_branch", "delete_repo",
           "list_refs", "preupload", "repo_exists", "repo_sha", "require_write_token", "token_role"]


@dataclass(frozen=True)
class Committed:
    """What a commit made: its sha, and with `create_pr` the URL of the pull request it opened."""

    sha: str
    pr_url: str | None = None


def _where(repo_id: str, repo_type: str) -> str:
    return f"{repo_type} {repo_id}"


def token_role(client: HubClient, *, where: str) -> str | None:
    """The client's token's role as `whoami` says it ("read", "write", "fineGrained"), None when not said."""
    me: dict[str, Any] = client.call("whoami", client.api().whoami, where=where)
    role = me.get("auth", {}).get("accessToken", {}).get("role")
    return role if isinstance(role, str) else None


def require_write_token(client: HubClient, *, target: str, repo: str) -> None:
    """Fail before any row is computed when the client's token cannot write to `target` (none, or read-only);
    when `whoami` itself fails, the upload will tell. AuthenticationError names `target` and the fix."""
    if not client.token:
        raise AuthenticationError(f"writing to {target} needs a token with write access: pass option token, set "
                                  "HF_TOKEN or log in with `hf auth login`", repo=repo)
    try:
        role = token_role(client, where=f"the token given for {target}")
    except AuthenticationError:
        raise
    except HubRequestError:
        return  # whoami unavailable: the upload itself will tell
    if role == "read":
        raise AuthenticationError(f"the token given for {target} is read-only: writing needs a write token",
                                  repo=repo)


def repo_sha(client: HubClient, repo_id: str, *, where: str | None = None, repo_type: str = "dataset") -> str | None:
    """The commit the repo's default branch is at (None when the Hub does not say); RepoNotFoundError when
    there is no such repo (or the token may not see it)."""
    info = client.call("repo info", client.api().repo_info, repo_id, repo_type=repo_type,
                       where=where or _where(repo_id, repo_type))
    return info.sha


def repo_exists(client: HubClient, repo_id: str, *, where: str | None = None, repo_type: str = "dataset") -> bool:
    """Whether the repo exists (and the token may see it)."""
    return bool(client.call("repo exists", client.api().repo_exists, repo_id, repo_type=repo_type,
                            where=where or _where(repo_id, repo_type)))


def create_repo(client: HubClient, repo_id: str, *, private: bool = False, where: str | None = None,
                repo_type: str = "dataset") -> None:
    """Create the repo (a 409 when it exists is the caller's to read)."""
    client.call("create repo", client.api().create_repo, repo_id, repo_type=repo_type, private=private,
                where=where or _where(repo_id, repo_type))


def delete_repo(client: HubClient, repo_id: str, *, missing_ok: bool = False, where: str | None = None,
                repo_type: str = "dataset") -> None:
    client.call("delete repo", client.api().delete_repo, repo_id, repo_type=repo_type, missing_ok=missing_ok,
                where=where or _where(repo_id, repo_type))


def list_refs(client: HubClient, repo_id: str, *, pull_requests: bool = False, what: str = "list refs",
              where: str | None = None, repo_type: str = "dataset") -> GitRefs:
    """The repo's branches, tags (and with `pull_requests` its `refs/pr/N`), each with its commit."""
    return client.call(what, client.api().list_repo_refs, repo_id, repo_type=repo_type,
                       include_pull_requests=pull_requests, where=where or _where(repo_id, repo_type))


def create_branch(client: HubClient, repo_id: str, branch: str, *, revision: str | None = None,
                  where: str | None = None, repo_type: str = "dataset") -> None:
    """Create `branch` at `revision` (None: the default branch's head)."""
    client.call("create branch", client.api().create_branch, repo_id, branch=branch, revision=revision,
                repo_type=repo_type, where=where or _where(repo_id, repo_type))


def delete_branch(client: HubClient, repo_id: str, branch: str, *, where: str | None = None,
                  repo_type: str = "dataset") -> None:
    client.call("delete branch", client.api().delete_branch, repo_id, branch=branch, repo_type=repo_type,
                where=where or _where(repo_id, repo_type))


def preupload(client: HubClient, repo_id: str, additions: list[CommitOperationAdd], *, revision: str, what: str,
              where: str, xet: bool | None = None, repo_type: str = "dataset") -> None:
    """Upload these files' contents (through Xet or LFS, as the Hub says) without committing them; `xet` as
    `HubClient.call` takes it (whether hf_xet may carry the call)."""
    # The bound method itself, not a wrapper: `call` knows an upload by its name (hfapi.UPLOADING_CALLS).
    client.call(what, client.api().preupload_lfs_files, repo_id, additions=additions, repo_type=repo_type,
                revision=revision, where=where, xet=xet)


def create_commit(client: HubClient, repo_id: str, *, revision: str, operations: Sequence[CommitOperation],
                  parent_commit: str | None, message: str, description: str, create_pr: bool = False,
                  what: str = "commit", where: str, repo_type: str = "dataset") -> Committed:
    """ONE commit of `operations` on `revision` (or, with `create_pr`, a pull request against it), only if
    `revision` is still at `parent_commit` (else HTTP 412). Never retried: a 5xx or a dropped connection raises
    HubRequestError (`status`, `headers`; None when the connection dropped) for the caller, since it may have
    landed."""
    info = client.call(what, client.api().create_commit, repo_id, repo_type=repo_type, revision=revision,
                       operations=list(operations), parent_commit=parent_commit, create_pr=create_pr, retry=False,
                       where=where, commit_message=message, commit_description=description)
    return Committed(str(info.oid), info.pr_url)
