"""What the server takes before it runs: token specs, its per-server state; errors that pickle."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from hfconnect.localhub.context import HubState, Token
from hfconnect.localhub.errors import HubError
from hfconnect.localhub.faults import FaultPlan
from hfconnect.localhub.server import DEFAULT_USER, LocalHub, parse_token_spec


@pytest.mark.parametrize(("spec", "want"), [
    ("hf_abc:read", ("hf_abc", Token(DEFAULT_USER, "read"))),
    ("hf_abc:write", ("hf_abc", Token(DEFAULT_USER, "write"))),
    ("hf_abc:write:alice", ("hf_abc", Token("alice", "write"))),
    ("hf_abc:read:", ("hf_abc", Token(DEFAULT_USER, "read"))),
])
def test_token_specs(spec: str, want: tuple[str, Token]) -> None:
    assert parse_token_spec(spec) == want


@pytest.mark.parametrize(("spec", "parts"), [("hf_secret", 1), ("hf_secret:admin", 2), (":write", 2),
                                             ("hf_secret:write:u:x", 4)])
def test_bad_token_specs_never_echo_the_token(spec: str, parts: int) -> None:
    with pytest.raises(ValueError, match=rf"^token spec must be TOKEN:read, TOKEN:write or TOKEN:ROLE:USER "
                                         rf"\(got a {parts}-part value\)") as exc:
        parse_token_spec(spec)
    assert "hf_secret" not in str(exc.value)


def test_local_hub_knows_its_tokens_before_it_starts(tmp_path: Path) -> None:
    hub = LocalHub(tmp_path, tokens={"hf_r": "read", "hf_w": "write:alice"}, port=1234)
    assert (hub.write_token, hub.read_token, hub.port, hub.endpoint, hub.proc) == ("hf_w", "hf_r", 1234, "", None)
    assert LocalHub(tmp_path).write_token is None
    hub.stop()  # nothing to stop: a no-op
    scratch = LocalHub()
    assert scratch.root.is_dir()
    scratch.close()
    assert not scratch.root.exists()


def test_hub_state_keeps_its_upload_secret_across_restarts(tmp_path: Path) -> None:
    state = HubState.open(tmp_path, {}, FaultPlan())
    again = HubState.open(tmp_path, {"t": Token("u", "read")}, FaultPlan())
    assert state.upload_secret == again.upload_secret and len(state.upload_secret) == 32
    assert state.sign_upload("ab" * 32, 10) == again.sign_upload("ab" * 32, 10) != state.sign_upload("ab" * 32, 11)
    assert state.open_mode and not again.open_mode  # no tokens configured: a single-user dev server


def test_hub_errors_pickle() -> None:
    err = pickle.loads(pickle.dumps(HubError(404, "EntryNotFound", "nope", headers={"X-Repo-Commit": "a"})))
    assert (err.status, err.code, err.message, err.headers) == (404, "EntryNotFound", "nope", {"X-Repo-Commit": "a"})
    assert str(err) == "nope"
