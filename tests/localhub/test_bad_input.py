"""Bad requests get the Hub's status and error code, and change nothing."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
import requests
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError

from tests.conftest import READ_TOKEN, WRITE_TOKEN

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}


def _state(api: HfApi, repo_id: str) -> tuple[str, list[str]]:
    return api.dataset_info(repo_id).sha, sorted(api.list_repo_files(repo_id, repo_type="dataset"))


def _commit(hub, repo_id: str, lines: list[dict] | bytes, headers=AUTH) -> requests.Response:
    body = lines if isinstance(lines, bytes) else "\n".join(json.dumps(line) for line in lines).encode()
    return requests.post(f"{hub.endpoint}/api/datasets/{repo_id}/commit/main", data=body,
                         headers={**headers, "Content-Type": "application/x-ndjson"})


HEADER = {"key": "header", "value": {"summary": "bad", "description": ""}}


def _file(path: str, content: bytes = b"x") -> dict:
    return {"key": "file", "value": {"path": path, "content": base64.b64encode(content).decode(),
                                     "encoding": "base64"}}


def test_unknown_repo_revision_path_codes(hub, repo_id: str) -> None:
    ep = hub.endpoint
    r = requests.get(f"{ep}/api/datasets/tests/nope-{uuid.uuid4().hex}")
    assert (r.status_code, r.headers["X-Error-Code"]) == (404, "RepoNotFound")
    r = requests.get(f"{ep}/api/datasets/{repo_id}/revision/nope")
    assert (r.status_code, r.headers["X-Error-Code"]) == (404, "RevisionNotFound")
    r = requests.head(f"{ep}/datasets/{repo_id}/resolve/main/nope.txt")
    assert (r.status_code, r.headers["X-Error-Code"]) == (404, "EntryNotFound")
    assert len(r.headers["X-Repo-Commit"]) == 40
    r = requests.get(f"{ep}/api/datasets/{repo_id}/tree/main/nope")
    assert (r.status_code, r.headers["X-Error-Code"]) == (404, "EntryNotFound")


@pytest.mark.parametrize("body", [
    b"{not json",
    b'{"key": "header"}',
    b'["a list"]\n',
    json.dumps({"key": "file", "value": {"path": "a.txt", "content": "!!notbase64!!"}}).encode(),
    json.dumps({"key": "mystery", "value": {}}).encode(),
    json.dumps(_file("a.txt")).encode(),  # no header line
], ids=["not-json", "no-value", "not-object", "bad-base64", "unknown-key", "no-header"])
def test_malformed_ndjson_commit(api, hub, repo_id: str, body: bytes) -> None:
    before = _state(api, repo_id)
    r = _commit(hub, repo_id, body)
    assert r.status_code == 400 and r.headers["X-Error-Code"] == "BadRequest"
    assert _state(api, repo_id) == before


def test_malformed_json_bodies(hub, repo_id: str) -> None:
    for url in (f"{hub.endpoint}/api/repos/create", f"{hub.endpoint}/api/datasets/{repo_id}/preupload/main",
                f"{hub.endpoint}/datasets/{repo_id}.git/info/lfs/objects/batch"):
        r = requests.post(url, data=b"{oops", headers=AUTH)
        assert r.status_code == 400, url
        assert "Malformed JSON" in r.json()["error"]


def test_commit_naming_missing_lfs_object_changes_nothing(api, hub, repo_id: str) -> None:
    before = _state(api, repo_id)
    r = _commit(hub, repo_id, [HEADER, _file("ok.txt"),
                               {"key": "lfsFile", "value": {"path": "x.parquet", "algo": "sha256",
                                                            "oid": "ab" * 32, "size": 10}}])
    assert r.status_code == 422 and "never uploaded" in r.json()["error"]
    assert _state(api, repo_id) == before


def test_deleting_missing_file_is_entry_not_found(api, hub, repo_id: str) -> None:
    before = _state(api, repo_id)
    r = _commit(hub, repo_id, [HEADER, _file("new.txt"), {"key": "deletedFile", "value": {"path": "nope.txt"}}])
    assert (r.status_code, r.headers["X-Error-Code"]) == (404, "EntryNotFound")
    assert _state(api, repo_id) == before


@pytest.mark.parametrize("path", ["../escape.txt", "a/../../b.txt", "/etc/passwd", "a\x00b.txt",
                                  ".git/config", "sub/.git/HEAD", "a//b.txt", "./a.txt"])
def test_path_traversal_rejected(api, hub, repo_id: str, path: str) -> None:
    before = _state(api, repo_id)
    r = _commit(hub, repo_id, [HEADER, _file("fine.txt"), _file(path)])
    assert r.status_code == 400, path
    assert _state(api, repo_id) == before
    r = requests.post(f"{hub.endpoint}/api/datasets/{repo_id}/preupload/main", headers=AUTH,
                      json={"files": [{"path": path, "sample": "", "size": 1}]})
    assert r.status_code == 400


def test_writes_need_a_write_token(api, hub, repo_id: str) -> None:
    before = _state(api, repo_id)
    for headers, status in (({}, 401), ({"Authorization": f"Bearer {READ_TOKEN}"}, 403),
                            ({"Authorization": "Bearer hf_not_a_token"}, 401)):
        assert _commit(hub, repo_id, [HEADER, _file("w.txt")], headers=headers).status_code == status
        r = requests.post(f"{hub.endpoint}/api/repos/create", headers=headers,
                          json={"name": "nope", "organization": "tests", "type": "dataset"})
        assert r.status_code == status
    reader = HfApi(endpoint=hub.endpoint, token=READ_TOKEN)
    with pytest.raises(HfHubHTTPError) as exc:
        reader.create_commit(repo_id, repo_type="dataset", commit_message="no",
                             operations=[CommitOperationAdd("w.parquet", b"PAR1")])
    assert exc.value.response.status_code == 403
    assert _state(api, repo_id) == before
    assert requests.get(f"{hub.endpoint}/api/datasets/tests/nope").status_code == 404


def test_lfs_upload_with_wrong_content_or_signature_is_refused(hub, repo_id: str) -> None:
    import hashlib

    data = b"real content" * 100
    oid = hashlib.sha256(data).hexdigest()
    batch = requests.post(f"{hub.endpoint}/datasets/{repo_id}.git/info/lfs/objects/batch", headers=AUTH,
                          json={"operation": "upload", "transfers": ["basic"],
                                "objects": [{"oid": oid, "size": len(data)}]}).json()
    href = batch["objects"][0]["actions"]["upload"]["href"]
    assert requests.put(href, data=b"X" * len(data)).status_code == 400  # hashes differently
    assert requests.put(href.replace("sig=", "sig=0"), data=data).status_code == 403
    assert requests.put(href, data=data).status_code == 200


def test_private_repo_is_invisible_without_token(api, hub) -> None:
    rid = f"tests/priv-{uuid.uuid4().hex[:8]}"
    api.create_repo(rid, repo_type="dataset", private=True)
    for url in (f"/api/datasets/{rid}", f"/api/datasets/{rid}/tree/main",
                f"/datasets/{rid}/resolve/main/.gitattributes", f"/api/datasets/{rid}/refs"):
        r = requests.get(hub.endpoint + url)
        assert (r.status_code, r.headers["X-Error-Code"]) == (404, "RepoNotFound"), url
        assert requests.get(hub.endpoint + url, headers={"Authorization": f"Bearer {READ_TOKEN}"}).ok
