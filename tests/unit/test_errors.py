"""hfconnect's errors: catchable by their builtin bases, printed as their message, and rebuilt whole (class,
message, details) when unpickled, because they cross from Spark executors and Ray workers to the driver."""

from __future__ import annotations

import pickle

import pytest

from hfconnect import errors
from hfconnect.errors import (
    AuthenticationError,
    CommitConflictError,
    ConfigNotFoundError,
    DataFileError,
    HfConnectError,
    HubRequestError,
    OptionError,
    RepoNotFoundError,
    RevisionNotFoundError,
    SchemaMismatchError,
    SplitNotFoundError,
    UpstreamRewriteError,
    WorkerPythonError,
    find_hfconnect_error,
)

BUILTIN_BASES = [
    (OptionError, ValueError), (RepoNotFoundError, FileNotFoundError), (RevisionNotFoundError, FileNotFoundError),
    (ConfigNotFoundError, ValueError), (SplitNotFoundError, ValueError), (DataFileError, ValueError),
    (SchemaMismatchError, ValueError), (AuthenticationError, PermissionError), (HubRequestError, OSError),
    (CommitConflictError, HfConnectError), (UpstreamRewriteError, HfConnectError), (WorkerPythonError, ImportError),
]


def test_every_exported_error_is_listed_here() -> None:
    exported = {name for name in errors.__all__ if isinstance(getattr(errors, name), type)}
    assert {cls.__name__ for cls, _ in BUILTIN_BASES} | {"HfConnectError"} == exported


@pytest.mark.parametrize(("cls", "base"), BUILTIN_BASES, ids=[c.__name__ for c, _ in BUILTIN_BASES])
def test_callers_catch_them_the_usual_way(cls: type[HfConnectError], base: type[BaseException]) -> None:
    with pytest.raises(base, match=r"^what went wrong; what to do$"):
        raise cls("what went wrong; what to do", path="data/x.parquet")
    assert issubclass(cls, HfConnectError)


@pytest.mark.parametrize(("cls", "base"), BUILTIN_BASES, ids=[c.__name__ for c, _ in BUILTIN_BASES])
def test_they_pickle_with_their_class_message_and_details(cls: type[HfConnectError], base: type) -> None:
    err = cls("the file is truncated", path="data/a.parquet", status=416, causes={"HTTP 503": 2})
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert (str(back), back.message, back.details) == (str(err), err.message, err.details)
    assert (back.path, back.status, back.causes) == ("data/a.parquet", 416, {"HTTP 503": 2})
    assert back.args == ("the file is truncated",)


def test_details_are_attributes_and_str_is_the_message_alone() -> None:
    err = HubRequestError("tree listing: giving up after 3 failed attempt(s)", request="tree listing", attempts=3)
    assert (err.request, err.attempts) == ("tree listing", 3)
    assert str(err) == "tree listing: giving up after 3 failed attempt(s)"
    assert repr(pickle.loads(pickle.dumps(HfConnectError("plain")))) == repr(HfConnectError("plain"))
    assert HfConnectError("plain").details == {}


class _RayTaskError(Exception):
    """Ray's wrapper keeps the task's exception as `.cause`, not as __cause__."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__("task failed")
        self.cause = cause


def test_our_error_is_found_under_an_engines_wrapping() -> None:
    ours = OptionError("split_column 'x' is not a column")
    try:
        try:
            raise ours
        except OptionError as exc:
            raise RuntimeError("DataSink.safe_write failed") from exc  # Daft
    except RuntimeError as wrapped:
        assert find_hfconnect_error(wrapped) is ours
    assert find_hfconnect_error(_RayTaskError(ours)) is ours
    assert find_hfconnect_error(ours) is ours
    assert find_hfconnect_error(RuntimeError("not ours")) is None


def test_hub_errors_declare_their_details_with_defaults() -> None:
    """HubRequestError and AuthenticationError carry status, headers and the rest as typed attributes: read them
    plainly, whether or not the raiser gave them (defaults: None, "", False), and after a pickle round trip."""
    bare = HubRequestError("a request failed")
    assert (bare.status, bare.headers, bare.xet, bare.maybe_published, bare.stale_xet_cache, bare.pr_num) == \
        (None, None, "", False, False, None)
    given = pickle.loads(pickle.dumps(HubRequestError("HTTP 429", status=429, headers={"Retry-After": "1"},
                                                      maybe_published=True)))
    assert (given.status, dict(given.headers or {}), given.maybe_published) == (429, {"Retry-After": "1"}, True)
    assert HubRequestError("x").details == {}  # the defaults are not details
    auth = AuthenticationError("HTTP 403", status=403, repo="o/r")
    assert (AuthenticationError("no token").status, auth.status, auth.repo, auth.xet) == (None, 403, "o/r", "")
