"""The plain values of the hub package."""

from __future__ import annotations

import pickle

from hfconnect.hub import Changes, HubClient, RepoFileInfo


def test_changes_between_two_listings() -> None:
    old = (RepoFileInfo("a", 1, "x"), RepoFileInfo("b", 1, "y"), RepoFileInfo("c", 1, "z"))
    new = (RepoFileInfo("b", 1, "y"), RepoFileInfo("c", 2, "z2"), RepoFileInfo("d", 1, "w"))
    changes = Changes.between("s1", old, "s2", new)
    assert [f.path for f in changes.added] == ["c", "d"]
    assert [f.path for f in changes.removed] == ["a", "c"]


def test_client_pickles_to_its_value_and_never_shows_the_token() -> None:
    client = HubClient("http://h:1/", "hf_secret_token")
    again = pickle.loads(pickle.dumps(client))
    assert again == client and again.endpoint == "http://h:1" and again.token == "hf_secret_token"
    assert "hf_secret_token" not in repr(client)
    assert client.http_settings(_target(signed=True))["bearer_token"] is None
    assert client.http_settings(_target(signed=False))["bearer_token"] == "hf_secret_token"


def _target(signed: bool):
    from hfconnect.hub.http import Target

    return Target("http://cdn/x" if signed else "http://h:1/datasets/o/r/resolve/s/x", signed)
