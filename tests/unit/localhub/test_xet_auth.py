"""Xet access tokens without a server: what issue_token signs verify_token gives back (repo, rights, expiry);
a forged, malformed, non-ASCII or expired token is a 401, never a crash; a token lives at least what was asked."""

from __future__ import annotations

import time

import pytest

from hfconnect.localhub.errors import HubError
from hfconnect.localhub.xet_auth import XetGrant, issue_token, verify_token

SECRET = b"s" * 32


def test_a_token_carries_its_repo_rights_and_expiry() -> None:
    before = time.time()
    token, exp = issue_token(SECRET, "dataset/o/x", True, 10.2)
    assert exp >= before + 10.2 and token.startswith("xet_")
    assert verify_token(SECRET, token) == XetGrant("dataset/o/x", True, exp)
    read, _ = issue_token(SECRET, "model/m", False, 60)
    assert verify_token(SECRET, read).write is False


@pytest.mark.parametrize("token", ["", "xet_", "bearer", "xet_e30." + "0" * 64, "xet_ünïcode.ß", "xet_%%%.abc"])
def test_bad_tokens_are_401(token: str) -> None:
    with pytest.raises(HubError) as exc:
        verify_token(SECRET, token)
    assert exc.value.status == 401


def test_a_token_signed_with_another_secret_or_edited_is_401() -> None:
    token, _ = issue_token(SECRET, "dataset/o/x", True, 60)
    for bad in (token[:-1] + ("0" if token[-1] != "0" else "1"), token.replace("xet_", "xet_A", 1)):
        with pytest.raises(HubError, match="Invalid Xet access token"):
            verify_token(SECRET, bad)
    with pytest.raises(HubError, match="Invalid Xet access token"):
        verify_token(b"t" * 32, token)


def test_an_expired_token_is_401_saying_so() -> None:
    token, exp = issue_token(SECRET, "dataset/o/x", True, 5)
    assert verify_token(SECRET, token, now=exp - 1).exp == exp
    with pytest.raises(HubError, match="expired") as exc:
        verify_token(SECRET, token, now=exp)
    assert exc.value.status == 401
