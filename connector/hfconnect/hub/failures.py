"""ONE mapping from a Hub answer (status, `X-Error-Code`, message) to hfconnect's errors.

Every path that talks to the Hub (range reads, HfApi calls, uploads, commits) ends here, so the same answer
gives the same error with the same advice, naming the repo, revision or file and never the token. Uploads
through Xet storage fail inside hf_xet, whose exceptions carry the status only in their text: `xet.xet_failure`
reads them and `error_for_xet` maps them here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import (
    AuthenticationError,
    HfConnectError,
    HubRequestError,
    RepoNotFoundError,
    RevisionNotFoundError,
)
from .retry import RETRY_STATUSES

if TYPE_CHECKING:
    from .xet import XetFailure

__all__ = ["error_for_answer", "error_for_exception", "error_for_xet", "hf_answer"]
XET_RETRIED = "hf_xet retried it within hfconnect's retry budget"
_TRANSIENT_KINDS = ("Server error", "Rate limited", "Network error", "Timeout", "ConnectionError", "TimeoutError")


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


def error_for_xet(failure: XetFailure, *, what: str, where: str, has_token: bool,
                  secrets: tuple[str | None, ...] = ()) -> HfConnectError:
    """Our error for what hf_xet raised during `what` (an upload through Xet; see `xet.xet_failure`). hf_xet
    retried what it retries already (with settings derived from our policy), so this error is final. What it
    takes from hf_xet's text is scrubbed of `secrets` (the caller's token) and of anything like a token."""
    from .xet import scrub

    failure = replace(failure, message=scrub(failure.message, secrets), route=scrub(failure.route, secrets))
    status = failure.status
    details: dict[str, Any] = {"request": what, "xet": failure.kind, "route": failure.route}
    said = f"hf_xet: {failure.message}"
    if failure.token_endpoint and status in (401, 403):  # the Hub refused the user's token a Xet write token
        return error_for_answer(status, where=f"{what}: Xet write token for {where}", has_token=has_token, **details)
    details["status"] = status
    if failure.refused:
        return AuthenticationError(f"{what}: no Xet write token for {where} ({said}): check that the token can write "
                                   "to it", **details)
    if status in (401, 403):
        return AuthenticationError(f"{what}: the Xet storage refused the write token the Hub issued (HTTP {status} "
                                   f"on {failure.route or 'the CAS'}); hf_xet does not renew a refused token: check "
                                   f"that the token can write to {where} and retry ({said})", **details)
    if failure.stale_cache:
        return HubRequestError(f"{what}: the Xet storage refused the file's shard (HTTP 400), which names data it "
                               f"does not have, as a stale hf_xet cache makes it do ({said})", stale_xet_cache=True,
                               **details)
    if failure.kind in _TRANSIENT_KINDS and (status is None or status in RETRY_STATUSES):
        return HubRequestError(f"{what}: failed through Xet storage ({said}); {XET_RETRIED}: check the endpoint "
                               "and your network, or retry later (option retry_budget allows more time)", **details)
    return HubRequestError(f"{what}: failed through Xet storage ({said})", **details)
