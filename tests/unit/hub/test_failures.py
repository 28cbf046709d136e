"""One mapping from a Hub answer to hfconnect's errors."""

from __future__ import annotations

import pickle

import pytest

from hfconnect.errors import AuthenticationError, HubRequestError, RepoNotFoundError, RevisionNotFoundError
from hfconnect.hub.failures import error_for_answer


@pytest.mark.parametrize(("status", "code", "token", "kind", "says"), [
    (401, "", True, AuthenticationError, "the token is not valid"),
    (401, "", False, AuthenticationError, "it needs a token"),
    (401, "RepoNotFound", False, RepoNotFoundError, "may be private"),  # the Hub's answer to anonymous callers
    (403, "", True, AuthenticationError, "lacks the rights"),
    (404, "RepoNotFound", True, RepoNotFoundError, "check the name"),
    (404, "GatedRepo", False, RepoNotFoundError, "may be private"),
    (404, "RevisionNotFound", True, RevisionNotFoundError, "revision not found"),
    (404, "EntryNotFound", True, RepoNotFoundError, "no such file"),
    (400, "BadRequest", True, HubRequestError, "HTTP 400 BadRequest: bad yaml"),
    (412, "", True, HubRequestError, "HTTP 412"),
])
def test_answers_map_to_one_error_each(status, code, token, kind, says) -> None:
    err = error_for_answer(status, where="dataset o/r@main", code=code, message="bad yaml" if status == 400 else "",
                           has_token=token)
    assert type(err) is kind and says in str(err) and str(err).startswith("dataset o/r@main")
    assert err.status == status
    again = pickle.loads(pickle.dumps(err))  # errors cross process boundaries
    assert type(again) is kind and str(again) == str(err) and again.status == status
