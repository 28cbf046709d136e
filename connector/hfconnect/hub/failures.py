"""ONE mapping from a Hub answer (status, `X-Error-Code`, message) to hfconnect's errors.

Every path that talks to the Hub (range reads, HfApi calls, uploads, commits) ends here, so the same answer
gives the same error with the same advice, naming the repo, revision or file and never the token.
"""

from __future__ import annotations

from typing import Any

from ..errors import (
    AuthenticationError,
    HfConnectError,
    HubRequestError,
    RepoNotFoundError,
    RevisionNotFoundError,
)

__all__ = ["error_for_answer", "error_for_exception", "hf_answer"]


def error_for_answer(status: int, *, where: str, code: str = "", message: str = "",
                     has_token: bool = False, **details: Any) -> HfConnectError:
    """The error for a non-retryable (or no longer retried) answer about `where` (repo@rev, or a file)."""
    details.setdefault("status", status)
    if status in (401, 404) and code in ("RepoNotFound", "GatedRepo"):  # the Hub says 401 for these anonymously
        hint = ("check the name, or that this token can read it" if has_token else
                "the repo may be private: pass a token with read access (option token, HF_TOKEN or `hf auth "
                "login`)")
        return RepoNotFoundError(f"{where}: not found on the Hub: {hint}", **details)
    if status == 401:
        hint = ("the token is not valid: pass a valid token (option token, HF_TOKEN or `hf auth login`)"
                if has_token else "it needs a token: pass one (option token, HF_TOKEN or `hf auth login`)")
        return AuthenticationError(f"{where}: HTTP 401: {hint}", **details)
    if status == 403:
        return AuthenticationError(f"{where}: HTTP 403: the token lacks the rights needed (a read token cannot "
                                   "write; gated datasets need their terms accepted)", **details)
    if status == 404 and code == "RevisionNotFound":
        return RevisionNotFoundError(f"{where}: revision not found: use a branch, tag, refs/convert/parquet, "
                                     "refs/pr/N or a commit sha that exists", **details)
    if status == 404 and code == "EntryNotFound":
        return RepoNotFoundError(f"{where}: no such file at this revision", **details)
    text = f": {message}" if message else ""
    return HubRequestError(f"{where}: the Hub answered HTTP {status} {code}{text}".rstrip(), **details)


def hf_answer(exc: BaseException) -> tuple[int, str, str] | None:
    """(status, X-Error-Code, message) of a huggingface_hub HTTP error, or None if it carries no answer."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if not isinstance(status, int):
        return None
    headers = getattr(response, "headers", {}) or {}
    code = headers.get("X-Error-Code", "") or ""
    message = headers.get("X-Error-Message", "") or getattr(exc, "server_message", "") or ""
    return status, code, str(message).replace("\n", " ")[:300]


def error_for_exception(exc: BaseException, *, where: str, has_token: bool) -> HfConnectError | None:
    """Our error for a huggingface_hub HTTP error (None when `exc` is not one)."""
    answer = hf_answer(exc)
    if answer is None:
        return None
    status, code, message = answer
    return error_for_answer(status, where=where, code=code, message=message, has_token=has_token)
