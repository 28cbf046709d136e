"""Per-request context and per-server state: who the caller is (open mode, read and write tokens, unknown
tokens), what they may see (private repos), how a request's raw path parts read, and the Hub's error shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp.test_utils import make_mocked_request

from hfconnect.localhub.context import HubState, RequestContext, error_response
from hfconnect.localhub.errors import HubError
from hfconnect.localhub.faults import Decision, FaultPlan
from tests.unit.inprocess_hub import READ_TOKEN, WRITE_TOKEN, InProcessHub, request, running_hub


def _create(hub: InProcessHub, name: str, token: str | None, **body: object) -> tuple[int, dict, bytes]:
    payload = json.dumps({"name": name, "organization": "o", "type": "dataset", **body}).encode()
    return request("POST", f"{hub.endpoint}/api/repos/create", body=payload, token=token,
                   headers={"Content-Type": "application/json"})


def test_write_read_anonymous_and_unknown_tokens(inproc_hub: InProcessHub) -> None:
    assert _create(inproc_hub, "w", WRITE_TOKEN)[0] == 200
    status, headers, body = _create(inproc_hub, "r", READ_TOKEN)
    assert (status, headers["X-Error-Code"]) == (403, "Forbidden")
    assert json.loads(body) == {"error": "This token is read-only: use a token with the 'write' role."}
    status, _, body = _create(inproc_hub, "a", None)
    assert status == 401 and b"You must be authenticated with a write token to do this." in body
    # A wrong token is 401 even where anonymous may read: the Hub does not fall back to anonymous.
    assert request("GET", f"{inproc_hub.endpoint}/api/datasets/o/w")[0] == 200
    status, headers, _ = request("GET", f"{inproc_hub.endpoint}/api/datasets/o/w", token="hf_not_a_token")
    assert (status, headers["X-Error-Message"]) == (401, "Invalid credentials in Authorization header.")


def test_private_repos_are_invisible_without_a_token(inproc_hub: InProcessHub) -> None:
    assert _create(inproc_hub, "secret", WRITE_TOKEN, private=True)[0] == 200
    status, headers, body = request("GET", f"{inproc_hub.endpoint}/api/datasets/o/secret")
    assert (status, headers["X-Error-Code"]) == (404, "RepoNotFound")
    assert b"Repository Not Found" in body
    assert request("GET", f"{inproc_hub.endpoint}/api/datasets/o/secret", token=READ_TOKEN)[0] == 200


def test_with_no_tokens_configured_anyone_may_write() -> None:
    """A single-user dev server: anonymous and any bearer string act as the local writer."""
    with running_hub(tokens=()) as hub:
        assert hub.state.open_mode
        assert _create(hub, "a", None)[0] == 200
        assert _create(hub, "b", "hf_anything")[0] == 200


@pytest.mark.parametrize(("body", "message"), [
    (b"{not json", "Malformed JSON body: "), (b"[1, 2]", "Expected a JSON object in the request body."),
])
def test_bad_json_bodies_are_400_naming_what_is_wrong(inproc_hub: InProcessHub, body: bytes, message: str) -> None:
    status, headers, answer = request("POST", f"{inproc_hub.endpoint}/api/repos/create", body=body,
                                      token=WRITE_TOKEN)
    assert (status, headers["X-Error-Code"]) == (400, "BadRequest")
    assert json.loads(answer)["error"].startswith(message)


def test_error_response_is_the_hubs_shape() -> None:
    err = HubError(416, "RangeNotSatisfiable", "line one\nline two", headers={"Content-Range": "bytes */10"})
    resp = error_response(err, {"RateLimit": '"api";r=3;t=9'})
    assert resp.status == 416
    assert resp.headers["X-Error-Code"] == "RangeNotSatisfiable"
    assert resp.headers["X-Error-Message"] == "line one line two"  # a header cannot hold a newline
    assert (resp.headers["Content-Range"], resp.headers["RateLimit"]) == ("bytes */10", '"api";r=3;t=9')
    assert json.loads(resp.body) == {"error": "line one\nline two"}


@pytest.mark.parametrize(("groups", "repo_type", "repo_id", "revision"), [
    ({"types": "datasets", "repo": "o/n", "rev": "main"}, "dataset", "o/n", "main"),
    ({"types": "spaces", "repo": "o/n"}, "space", "o/n", "main"),
    ({"types": "models", "repo": "gpt2", "rev": "v1"}, "model", "gpt2", "v1"),
    ({"types": None, "repo": "o%2Fn", "rev": "refs%2Fconvert%2Fparquet"}, "model", "o/n", "refs/convert/parquet"),
    ({"types": "datasets", "repo": "o/n", "rev": "refs%2Fpr%2F3"}, "dataset", "o/n", "refs/pr/3"),
])
def test_raw_path_parts_read_as_the_hub_means_them(tmp_path: Path, groups: dict, repo_type: str, repo_id: str,
                                                   revision: str) -> None:
    state = HubState.open(tmp_path, {}, FaultPlan([]))
    ctx = RequestContext(make_mocked_request("GET", "/x", headers={"Host": "127.0.0.1:9"}), state, groups, "api",
                         Decision())
    assert (ctx.repo_type, ctx.repo_id, ctx.revision) == (repo_type, repo_id, revision)
    assert ctx.base_url == "http://127.0.0.1:9"


def test_upload_signatures_bind_object_size_and_server(tmp_path: Path) -> None:
    one = HubState.open(tmp_path / "one", {}, FaultPlan([]))
    two = HubState.open(tmp_path / "two", {}, FaultPlan([]))
    assert len(one.upload_secret) == 32
    assert one.sign_upload("a" * 64, 10) == one.sign_upload("a" * 64, 10)
    assert one.sign_upload("a" * 64, 10) != one.sign_upload("a" * 64, 11)
    assert one.sign_upload("a" * 64, 10) != two.sign_upload("a" * 64, 10)
