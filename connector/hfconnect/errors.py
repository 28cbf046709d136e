"""One exception hierarchy for hfconnect. Every error says what was wrong and what to do about it.

Errors cross process boundaries (Spark executors, Ray workers), so they hold only plain attributes and
rebuild from them when unpickled. Builtin bases (ValueError, FileNotFoundError, PermissionError) let
callers catch them the usual way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "AuthenticationError",
    "CommitConflictError",
    "ConfigNotFoundError",
    "DataFileError",
    "HfConnectError",
    "HubRequestError",
    "OptionError",
    "RepoNotFoundError",
    "RevisionNotFoundError",
    "SchemaMismatchError",
    "SplitNotFoundError",
    "UpstreamRewriteError",
    "WorkerPythonError",
    "find_hfconnect_error",
]


class HfConnectError(Exception):
    """Base of every error hfconnect raises on purpose."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        for key, value in details.items():
            setattr(self, key, value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.details))

    def __str__(self) -> str:
        return self.message


def find_hfconnect_error(exc: BaseException) -> HfConnectError | None:
    """Our error under an engine's wrapping (Daft's RuntimeError from a task, Ray's RayTaskError.cause, any
    `raise ... from`), or None: what to show the user instead of the wrapper."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, HfConnectError):
            return e
        todo += [c for c in (e.__cause__, e.__context__, getattr(e, "cause", None)) if isinstance(c, BaseException)]
    return None


def _rebuild(cls: type[HfConnectError], message: str, details: dict[str, Any]) -> HfConnectError:
    return cls(message, **details)


class OptionError(HfConnectError, ValueError):
    """An option is unknown, or its value cannot be parsed."""


class RepoNotFoundError(HfConnectError, FileNotFoundError):
    """The repo does not exist, or is private and no (valid) token was given."""


class RevisionNotFoundError(HfConnectError, FileNotFoundError):
    """The branch, tag, pull request or commit does not exist in the repo."""


class ConfigNotFoundError(HfConnectError, ValueError):
    """The requested config is not one of the dataset's configs."""


class SplitNotFoundError(HfConnectError, ValueError):
    """The requested split is not one of the config's splits."""


class DataFileError(HfConnectError, ValueError):
    """A data file cannot be read (corrupt, truncated, unsupported): the message names the file."""


class SchemaMismatchError(HfConnectError, ValueError):
    """A data file's schema cannot be merged with the others of the split: the message names the file."""


class AuthenticationError(HfConnectError, PermissionError):
    """The token is missing, invalid or lacks the rights the operation needs."""

    # Details (keywords of the constructor, kept as attributes; these are their defaults when not given).
    status: int | None = None  # the HTTP status that said so (401, 403), when one did
    request: str = ""  # the request that was refused (a Xet upload's)
    xet: str = ""  # hf_xet's kind of failure, when hf_xet refused it
    route: str = ""  # the Xet storage route that refused the token
    repo: str = ""  # the repo or bucket the operation was for


class HubRequestError(HfConnectError, OSError):
    """A Hub request kept failing after retries (network, 5xx, 429), or an upload failed in hf_xet (Xet storage,
    after hf_xet's own retries): the message names the URL path or the file, and what failed."""

    # Details (keywords of the constructor, kept as attributes; these are their defaults when not given).
    status: int | None = None  # the last HTTP status; None when the connection failed or none was had
    headers: Mapping[str, str] | None = None  # that answer's headers (a 429's RateLimit, Retry-After)
    request: str = ""  # which request kept failing
    attempts: int = 0  # how many times it failed
    causes: Mapping[str, int] | None = None  # how it failed: cause -> times
    url_path: str = ""  # the URL path of a failed range read
    xet: str = ""  # hf_xet's kind of failure: set, the failure is final (hf_xet retried it already)
    route: str = ""  # the Xet storage route that failed
    stale_xet_cache: bool = False  # the Xet storage refused a shard a stale hf_xet cache named
    maybe_published: bool = False  # a commit or publish failed ambiguously: it may have landed
    pr_num: int | None = None  # the pull request a staged write's merge may have landed through
    repo: str = ""  # the repo or bucket the operation was for


class CommitConflictError(HfConnectError):
    """The branch moved under the job and the commit could not be rebased within the retry budget."""


class UpstreamRewriteError(HfConnectError):
    """A commit a stream follows deleted or rewrote files it may already have read (an overwrite upstream)."""


class WorkerPythonError(HfConnectError, ImportError):
    """The Python an engine starts its workers with cannot import hfconnect (e.g. Spark's `python3` from PATH
    while hfconnect is installed in a virtualenv that is not activated): the message names that Python."""
