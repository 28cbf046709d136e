"""The real huggingface_hub client (HfApi, hf_hub_download, HfFileSystem) against the local hub over HTTP."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from pathlib import Path

import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationCopy,
    CommitOperationDelete,
    HfApi,
    HfFileSystem,
    hf_hub_download,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.conftest import READ_TOKEN, WRITE_TOKEN

pytestmark = pytest.mark.integration


def _head(api: HfApi, repo_id: str, revision: str = "main") -> str:
    return api.dataset_info(repo_id, revision=revision).sha


def test_create_repo_public_private_exist_ok(api: HfApi, hub) -> None:
    name = f"tests/create-{uuid.uuid4().hex[:8]}"
    url = api.create_repo(name, repo_type="dataset")
    assert url.repo_id == name and url.endpoint == hub.endpoint
    again = api.create_repo(name, repo_type="dataset", exist_ok=True)
    assert again.repo_id == name
    with pytest.raises(HfHubHTTPError) as exc:
        api.create_repo(name, repo_type="dataset")
    assert exc.value.response.status_code == 409
    private = f"{name}-private"
    api.create_repo(private, repo_type="dataset", private=True)
    assert api.dataset_info(private).private is True
    assert api.dataset_info(name).private is False
    # A model repo lives in its own namespace of routes.
    api.create_repo(name, repo_type="model")
    assert api.model_info(name).id == name
    assert api.list_repo_files(name) == [".gitattributes"]


def test_create_repo_without_namespace_uses_token_user(api: HfApi) -> None:
    name = f"solo-{uuid.uuid4().hex[:8]}"
    url = api.create_repo(name, repo_type="dataset")
    assert url.repo_id == f"{api.whoami()['name']}/{name}"


def test_upload_file_and_download(api: HfApi, repo_id: str, tmp_path) -> None:
    info = api.upload_file(path_or_fileobj=b"hello hub\n", path_in_repo="notes/hello.txt",
                           repo_id=repo_id, repo_type="dataset", commit_message="add hello")
    assert len(info.oid) == 40
    path = hf_hub_download(repo_id, "notes/hello.txt", repo_type="dataset", cache_dir=tmp_path)
    assert Path(path).read_bytes() == b"hello hub\n"
    assert api.file_exists(repo_id, "notes/hello.txt", repo_type="dataset")
    assert not api.file_exists(repo_id, "notes/missing.txt", repo_type="dataset")


def test_create_commit_regular_lfs_delete_copy(api: HfApi, repo_id: str, tmp_path) -> None:
    big = os.urandom(12 * 1024 * 1024)  # above the LFS threshold
    api.create_commit(repo_id, repo_type="dataset", commit_message="first", operations=[
        CommitOperationAdd("README.md", b"# card\n"),
        CommitOperationAdd("data/train-00000-of-00001.parquet", b"PAR1" + os.urandom(1000) + b"PAR1"),
        CommitOperationAdd("blobs/big.bin", io.BytesIO(big)),
        CommitOperationAdd("old/a.txt", b"a"),
        CommitOperationAdd("old/b.txt", b"b"),
    ])
    tree = {f.path: f for f in api.list_repo_tree(repo_id, repo_type="dataset", recursive=True)}
    assert tree["blobs/big.bin"].lfs.sha256 == hashlib.sha256(big).hexdigest()
    assert tree["blobs/big.bin"].size == len(big)
    assert tree["data/train-00000-of-00001.parquet"].lfs is not None  # .parquet always goes to LFS
    assert tree["README.md"].lfs is None
    api.create_commit(repo_id, repo_type="dataset", commit_message="second", operations=[
        CommitOperationDelete("old/"),
        CommitOperationDelete("README.md"),
        CommitOperationCopy("blobs/big.bin", "blobs/copy.bin"),
    ])
    files = set(api.list_repo_files(repo_id, repo_type="dataset"))
    assert files == {".gitattributes", "data/train-00000-of-00001.parquet", "blobs/big.bin", "blobs/copy.bin"}
    got = hf_hub_download(repo_id, "blobs/copy.bin", repo_type="dataset", cache_dir=tmp_path)
    assert hashlib.sha256(Path(got).read_bytes()).hexdigest() == hashlib.sha256(big).hexdigest()


def test_stale_parent_commit_gives_412_and_changes_nothing(api: HfApi, repo_id: str) -> None:
    base = _head(api, repo_id)
    api.upload_file(path_or_fileobj=b"1", path_in_repo="one.txt", repo_id=repo_id, repo_type="dataset")
    head = _head(api, repo_id)
    with pytest.raises(HfHubHTTPError) as exc:
        api.create_commit(repo_id, repo_type="dataset", commit_message="stale", parent_commit=base,
                          operations=[CommitOperationAdd("two.txt", b"2")])
    assert exc.value.response.status_code == 412
    assert _head(api, repo_id) == head
    assert "two.txt" not in api.list_repo_files(repo_id, repo_type="dataset")
    ok = api.create_commit(repo_id, repo_type="dataset", commit_message="fresh", parent_commit=head,
                           operations=[CommitOperationAdd("two.txt", b"2")])
    assert ok.oid == _head(api, repo_id)


def test_branches_tags_refs_and_commits(api: HfApi, repo_id: str) -> None:
    api.upload_file(path_or_fileobj=b"v1", path_in_repo="f.txt", repo_id=repo_id, repo_type="dataset")
    v1 = _head(api, repo_id)
    api.create_branch(repo_id, repo_type="dataset", branch="dev")
    api.create_tag(repo_id, repo_type="dataset", tag="v1.0", revision="main")
    with pytest.raises(HfHubHTTPError, match="Reference already exists: dev") as exc:
        api.create_branch(repo_id, repo_type="dataset", branch="dev")  # exists
    assert exc.value.response.status_code == 409
    api.create_branch(repo_id, repo_type="dataset", branch="refs/convert/parquet")
    api.upload_file(path_or_fileobj=b"v2", path_in_repo="f.txt", repo_id=repo_id, repo_type="dataset",
                    revision="dev")
    refs = api.list_repo_refs(repo_id, repo_type="dataset")
    branches = {b.name: b.target_commit for b in refs.branches}
    assert branches["main"] == v1 and branches["dev"] != v1
    assert {t.name: t.target_commit for t in refs.tags} == {"v1.0": v1}
    assert [c.ref for c in refs.converts] == ["refs/convert/parquet"]
    commits = api.list_repo_commits(repo_id, repo_type="dataset", revision="dev")
    assert [c.commit_id for c in commits][1] == v1
    assert commits[-1].title == "initial commit"
    assert api.dataset_info(repo_id, revision="v1.0").sha == v1
    assert api.dataset_info(repo_id, revision=v1).sha == v1
    api.delete_branch(repo_id, repo_type="dataset", branch="dev")
    api.delete_tag(repo_id, repo_type="dataset", tag="v1.0")
    refs = api.list_repo_refs(repo_id, repo_type="dataset")
    assert [b.name for b in refs.branches] == ["main"] and refs.tags == []


def test_list_commits_paginates(api: HfApi, repo_id: str) -> None:
    for i in range(55):
        api.create_commit(repo_id, repo_type="dataset", commit_message=f"c{i}",
                          operations=[CommitOperationAdd("n.txt", str(i).encode())])
    commits = api.list_repo_commits(repo_id, repo_type="dataset")
    assert len(commits) == 56 and commits[0].title == "c54"


def test_create_pr_makes_pr_ref(api: HfApi, repo_id: str) -> None:
    main = _head(api, repo_id)
    info = api.create_commit(repo_id, repo_type="dataset", commit_message="proposal", create_pr=True,
                             operations=[CommitOperationAdd("pr.txt", b"pr")])
    assert info.pr_num == 1 and info.pr_revision == "refs/pr/1"
    assert _head(api, repo_id) == main
    assert "pr.txt" in api.list_repo_files(repo_id, repo_type="dataset", revision="refs/pr/1")
    refs = api.list_repo_refs(repo_id, repo_type="dataset", include_pull_requests=True)
    assert [p.ref for p in refs.pull_requests] == ["refs/pr/1"]
    api.create_commit(repo_id, repo_type="dataset", commit_message="more", revision="refs/pr/1",
                      operations=[CommitOperationAdd("pr2.txt", b"pr2")])
    assert {"pr.txt", "pr2.txt"} <= set(api.list_repo_files(repo_id, repo_type="dataset", revision="refs/pr/1"))


def test_list_repo_tree_over_1000_files_paginates(own_api: HfApi, own_hub) -> None:
    api, repo_id = own_api, "tests/many"  # a hub of its own: it counts the pages' requests
    api.create_repo(repo_id, repo_type="dataset")
    ops = [CommitOperationAdd(f"many/part-{i:05d}.txt", f"{i}".encode()) for i in range(2100)]
    api.create_commit(repo_id, repo_type="dataset", commit_message="many", operations=ops)
    own_hub.reset_counters()
    entries = list(api.list_repo_tree(repo_id, path_in_repo="many", repo_type="dataset"))
    assert len(entries) == 2100
    assert own_hub.counters()["api"]["requests"] == 3  # 1000 + 1000 + 100
    recursive = [e.path for e in api.list_repo_tree(repo_id, repo_type="dataset", recursive=True)]
    assert len(recursive) == 2100 + 2  # + .gitattributes + the "many" directory
    assert len(api.list_repo_files(repo_id, repo_type="dataset")) == 2101


def test_get_paths_info(api: HfApi, repo_id: str) -> None:
    api.create_commit(repo_id, repo_type="dataset", commit_message="x", operations=[
        CommitOperationAdd("d/a.txt", b"a"), CommitOperationAdd("d/b.parquet", b"b" * 10)])
    infos = {i.path: i for i in api.get_paths_info(repo_id, ["d/a.txt", "d", "nope.txt", "d/b.parquet"],
                                                   repo_type="dataset")}
    assert set(infos) == {"d/a.txt", "d", "d/b.parquet"}
    assert infos["d/b.parquet"].lfs.size == 10
    assert type(infos["d"]).__name__ == "RepoFolder"


def test_private_repo_needs_a_token(api: HfApi, hub, tmp_path) -> None:
    rid = f"tests/private-{uuid.uuid4().hex[:8]}"
    api.create_repo(rid, repo_type="dataset", private=True)
    api.upload_file(path_or_fileobj=b"secret", path_in_repo="s.txt", repo_id=rid, repo_type="dataset")
    anonymous = HfApi(endpoint=hub.endpoint, token=False)
    with pytest.raises(RepositoryNotFoundError, match=f"/api/datasets/{rid}"):
        anonymous.dataset_info(rid)
    with pytest.raises(RepositoryNotFoundError, match=f"/datasets/{rid}/resolve/main/s.txt"):
        hf_hub_download(rid, "s.txt", repo_type="dataset", cache_dir=tmp_path, token=False)
    reader = HfApi(endpoint=hub.endpoint, token=READ_TOKEN)
    assert reader.dataset_info(rid).private
    path = hf_hub_download(rid, "s.txt", repo_type="dataset", cache_dir=tmp_path, token=READ_TOKEN)
    assert Path(path).read_bytes() == b"secret"
    api.update_repo_settings(rid, repo_type="dataset", private=False)
    assert anonymous.dataset_info(rid).private is False


def test_delete_repo(api: HfApi) -> None:
    rid = f"tests/gone-{uuid.uuid4().hex[:8]}"
    api.create_repo(rid, repo_type="dataset")
    api.delete_repo(rid, repo_type="dataset")
    with pytest.raises(RepositoryNotFoundError, match=f"/api/datasets/{rid}"):
        api.dataset_info(rid)


def test_unknown_repo_revision_path_map_to_client_errors(api: HfApi, repo_id: str, tmp_path) -> None:
    with pytest.raises(RepositoryNotFoundError, match="/api/datasets/tests/does-not-exist"):
        api.dataset_info("tests/does-not-exist")
    with pytest.raises(RevisionNotFoundError, match="Invalid rev id: no-such-branch"):
        api.dataset_info(repo_id, revision="no-such-branch")
    with pytest.raises(RevisionNotFoundError, match=f"Invalid rev id: {'0' * 40}"):
        api.dataset_info(repo_id, revision="0" * 40)
    with pytest.raises(EntryNotFoundError, match=f"/datasets/{repo_id}/resolve/main/missing.bin"):
        hf_hub_download(repo_id, "missing.bin", repo_type="dataset", cache_dir=tmp_path)
    with pytest.raises(EntryNotFoundError, match="missing-dir"):
        list(api.list_repo_tree(repo_id, path_in_repo="missing-dir", repo_type="dataset"))


def test_hf_file_system_at_sha_and_convert_branch(api: HfApi, repo_id: str) -> None:
    payload = bytes(range(256)) * 400
    api.create_commit(repo_id, repo_type="dataset", commit_message="data", operations=[
        CommitOperationAdd("data/train-00000-of-00002.parquet", payload),
        CommitOperationAdd("data/train-00001-of-00002.parquet", payload[::-1]),
    ])
    sha = _head(api, repo_id)
    api.create_branch(repo_id, repo_type="dataset", branch="refs/convert/parquet")
    api.create_commit(repo_id, repo_type="dataset", revision="refs/convert/parquet", commit_message="convert",
                      operations=[CommitOperationAdd("default/train/0000.parquet", payload)])
    # A later commit on main must not change what the sha shows.
    api.upload_file(path_or_fileobj=b"later", path_in_repo="data/later.txt", repo_id=repo_id,
                    repo_type="dataset")
    fs = HfFileSystem(endpoint=api.endpoint, token=False)
    base = f"datasets/{repo_id}@{sha}"
    assert sorted(fs.ls(f"{base}/data", detail=False)) == [
        f"{base}/data/train-00000-of-00002.parquet", f"{base}/data/train-00001-of-00002.parquet"]
    assert len(fs.glob(f"{base}/data/*.parquet")) == 2
    assert fs.info(f"{base}/data/train-00000-of-00002.parquet")["size"] == len(payload)
    with fs.open(f"{base}/data/train-00000-of-00002.parquet", "rb", block_size=4096) as f:
        f.seek(1000)
        assert f.read(500) == payload[1000:1500]
    assert fs.cat_file(f"{base}/data/train-00001-of-00002.parquet", start=-100) == payload[::-1][-100:]
    for rev in ("refs%2Fconvert%2Fparquet", "refs/convert/parquet"):
        conv = f"datasets/{repo_id}@{rev}"
        assert fs.ls(f"{conv}/default/train", detail=False)[0].endswith("default/train/0000.parquet")
        assert fs.cat_file(f"{conv}/default/train/0000.parquet", start=10, end=20) == payload[10:20]


def test_parquet_listing_api(api: HfApi, repo_id: str, hub) -> None:
    import requests

    api.create_branch(repo_id, repo_type="dataset", branch="refs/convert/parquet")
    api.create_commit(repo_id, repo_type="dataset", revision="refs/convert/parquet", commit_message="c",
                      operations=[CommitOperationAdd("default/train/0000.parquet", b"t0"),
                                  CommitOperationAdd("default/train/0001.parquet", b"t1"),
                                  CommitOperationAdd("default/partial-test/0000.parquet", b"p0"),
                                  CommitOperationAdd("other/validation/0000.parquet", b"v0")])
    url = f"{hub.endpoint}/api/datasets/{repo_id}/parquet"
    listing = requests.get(url).json()
    assert set(listing) == {"default", "other"}
    assert set(listing["default"]) == {"train", "test"} and len(listing["default"]["train"]) == 2
    assert requests.get(f"{url}/default").json() == listing["default"]
    assert requests.get(f"{url}/default/train").json() == listing["default"]["train"]
    assert requests.get(listing["default"]["train"][1]).content == b"t1"  # redirect to resolve
    missing = requests.get(f"{url}/nope")
    assert missing.status_code == 404 and "default" in missing.headers["X-Error-Message"]


def test_whoami_and_token_roles(hub) -> None:
    assert HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN).whoami()["auth"]["accessToken"]["role"] == "write"
    assert HfApi(endpoint=hub.endpoint, token=READ_TOKEN).whoami()["auth"]["accessToken"]["role"] == "read"
    with pytest.raises(HfHubHTTPError) as exc:
        HfApi(endpoint=hub.endpoint, token="hf_unknown").whoami()
    assert exc.value.response.status_code == 401
