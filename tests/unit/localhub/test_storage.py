"""The hub's on-disk storage, in process on a temp dir: paths, repo names, objects, refs and commits."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hfconnect.localhub.errors import HubError
from hfconnect.localhub.objects import FileBody
from hfconnect.localhub.storage import (
    GITATTRIBUTES,
    Operation,
    Storage,
    git_blob_oid,
    lfs_pointer,
    ref_full_name,
)


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    st = Storage(tmp_path)
    assert st.create_repo("dataset", "a/b", private=False, author="u")
    return st


def _commit(st: Storage, *ops: Operation, revision: str = "main", **kwargs):
    return st.apply_commit("dataset", "a/b", revision, list(ops), title="t", message="", author="u", **kwargs)


def test_a_new_repo_has_one_commit_holding_gitattributes(storage: Storage) -> None:
    head, ref = storage.resolve("dataset", "a/b", "main")
    assert ref == "main"
    commit = storage.commit(head)
    assert commit.parents == [] and commit.title == "initial commit"
    assert set(commit.files) == {".gitattributes"}
    entry = commit.files[".gitattributes"]
    assert entry.oid == git_blob_oid(GITATTRIBUTES.encode()) and not entry.lfs
    assert "*.parquet filter=lfs" in GITATTRIBUTES
    assert not storage.create_repo("dataset", "a/b", private=True, author="v")  # exists: unchanged
    assert storage.repo_meta("dataset", "a/b")["private"] is False
    assert storage.list_repos("dataset") == ["a/b"] and storage.list_repos("model") == []


@pytest.mark.parametrize("repo_id", ["a/b/c", "-a/b", "a/.b", "a/b..c", "a/" + "x" * 97, "a b/c", ""])
def test_bad_repo_names_are_refused(tmp_path: Path, repo_id: str) -> None:
    with pytest.raises(HubError, match=r"^Invalid repo name") as exc:
        Storage(tmp_path).create_repo("dataset", repo_id, private=False, author="u")
    assert exc.value.status == 400


def test_commit_is_all_or_nothing_and_survives_a_restart(storage: Storage, tmp_path: Path) -> None:
    head, _ = storage.resolve("dataset", "a/b", "main")
    first, pr = _commit(storage, Operation("file", "x.txt", content=b"x"), parent_commit=head)
    assert pr is None and first.parents == [head]
    with pytest.raises(HubError, match="The branch was updated since") as exc:  # stale parent
        _commit(storage, Operation("file", "y.txt", content=b"y"), parent_commit=head)
    assert (exc.value.status, exc.value.code) == (412, "PreconditionFailed")
    with pytest.raises(HubError, match=r"^Cannot delete missing\.txt: file does not exist\.$") as exc:
        _commit(storage, Operation("file", "z.txt", content=b"z"), Operation("deletedFile", "missing.txt"))
    assert exc.value.status == 404  # ... and z.txt, the valid first operation, did not land either
    with pytest.raises(HubError, match="absolute paths"):  # paths are checked before anything is applied
        _commit(storage, Operation("file", "ok.txt", content=b"z"), Operation("file", "/abs", content=b"z"))
    assert storage.resolve("dataset", "a/b", "main")[0] == first.id
    assert set(storage.commit(first.id).files) == {".gitattributes", "x.txt"}
    again = Storage(tmp_path)
    assert again.resolve("dataset", "a/b", "main")[0] == first.id
    assert again.commit(first.id).files["x.txt"].size == 1
    assert [c.id for c in again.history(first.id)] == [first.id, head]


def test_a_sha_resolves_only_in_the_repo_that_made_it(storage: Storage) -> None:
    first, _ = _commit(storage, Operation("file", "x.txt", content=b"x"))
    assert storage.resolve("dataset", "a/b", first.id) == (first.id, None)
    storage.create_repo("dataset", "a/other", private=False, author="u")
    with pytest.raises(HubError, match=rf"^Invalid rev id: {first.id}$") as exc:
        storage.resolve("dataset", "a/other", first.id)
    assert (exc.value.status, exc.value.code) == (404, "RevisionNotFound")
    with pytest.raises(HubError, match="Cannot commit to a commit sha"):
        _commit(storage, Operation("file", "y.txt", content=b"y"), revision=first.id)


def test_lfs_files_need_their_object_first(storage: Storage) -> None:
    data = b"PAR1" + bytes(100)
    sha = hashlib.sha256(data).hexdigest()
    with pytest.raises(HubError, match=rf"LFS object {sha} for 'd\.parquet' \(size 104\) was never uploaded") as exc:
        _commit(storage, Operation("lfsFile", "d.parquet", sha256=sha, size=len(data)))
    assert exc.value.status == 422
    with pytest.raises(HubError, match="needs a sha256 oid"):
        _commit(storage, Operation("lfsFile", "d.parquet", sha256="nothex", size=1))
    assert storage.put_bytes(data) == sha and storage.put_bytes(data) == sha  # content-addressed, once
    commit, _ = _commit(storage, Operation("lfsFile", "d.parquet", sha256=sha, size=len(data)),
                        Operation("lfsFile", "copy.parquet", sha256=sha))  # a copy names the oid only
    entry = commit.files["d.parquet"]
    assert (entry.sha256, entry.size, entry.lfs, entry.oid) == (sha, 104, True, git_blob_oid(lfs_pointer(sha, 104)))
    assert commit.files["copy.parquet"] == entry
    assert storage.object_path(sha).read_bytes() == data


def test_deleting_a_folder_and_unknown_operations(storage: Storage) -> None:
    _commit(storage, *(Operation("file", p, content=b"1") for p in ("d/a", "d/e/b", "dd/c")))
    commit, _ = _commit(storage, Operation("deletedFolder", "d/"))
    assert set(commit.files) == {".gitattributes", "dd/c"}
    with pytest.raises(HubError, match=r"^Cannot delete folder d: it does not exist\.$"):
        _commit(storage, Operation("deletedFolder", "d"))
    with pytest.raises(HubError, match=r"^Unknown commit operation 'rename'\.$"):
        _commit(storage, Operation("rename", "dd/c"))


def test_uploads_are_verified_before_they_become_objects(storage: Storage) -> None:
    f, tmp = storage.new_upload()
    f.write(b"abc")
    with pytest.raises(HubError, match=r"^Uploaded content hashes to x, not y\.$"):
        storage.finish_upload(f, tmp, "y", "x", 3)
    assert not tmp.exists() and not storage.has_object("y")
    f, tmp = storage.new_upload()
    f.write(b"abc")
    sha = hashlib.sha256(b"abc").hexdigest()
    storage.finish_upload(f, tmp, sha, sha, 3)
    assert storage.has_object(sha, 3) and not storage.has_object(sha, 4) and not tmp.exists()


def test_branches_tags_and_pull_requests(storage: Storage) -> None:
    first, _ = _commit(storage, Operation("file", "x.txt", content=b"x"))
    storage.create_ref("dataset", "a/b", "branches", "dev", "main")
    storage.create_ref("dataset", "a/b", "tags", "v1", "main")
    storage.create_ref("dataset", "a/b", "branches", "refs/convert/parquet", first.id)
    with pytest.raises(HubError, match=r"^Reference already exists: dev$") as exc:
        storage.create_ref("dataset", "a/b", "branches", "dev", "main")
    assert exc.value.status == 409
    with pytest.raises(HubError, match=r"^Tag already exists: v1$"):
        storage.create_ref("dataset", "a/b", "tags", "v1", "main")
    pr_commit, pr = _commit(storage, Operation("file", "p.txt", content=b"p"), create_pr=True)
    assert pr == 1 and storage.resolve("dataset", "a/b", "refs/pr/1") == (pr_commit.id, "refs/pr/1")
    assert storage.resolve("dataset", "a/b", "main")[0] == first.id  # a PR leaves the branch alone
    assert _commit(storage, Operation("file", "q.txt", content=b"q"), create_pr=True)[1] == 2
    for revision in ("dev", "refs/heads/dev", "v1", "refs/tags/v1", "refs/convert/parquet"):
        assert storage.resolve("dataset", "a/b", revision)[0] == first.id, revision
    with pytest.raises(HubError, match=r"^Cannot commit to tag v1: name a branch\.$"):
        _commit(storage, Operation("file", "t.txt", content=b"t"), revision="v1")
    with pytest.raises(HubError, match=r"^Cannot delete the default branch main\.$") as exc:
        storage.delete_ref("dataset", "a/b", "branches", "main")
    assert exc.value.status == 403
    storage.delete_ref("dataset", "a/b", "tags", "v1")
    with pytest.raises(HubError, match=r"^Invalid rev id: v1$"):
        storage.delete_ref("dataset", "a/b", "tags", "v1")
    assert set(storage.refs("dataset", "a/b")["converts"]) == {"parquet"}
    assert [ref_full_name(k, "x") for k in ("branches", "tags", "converts", "prs")] == [
        "refs/heads/x", "refs/tags/x", "refs/convert/x", "refs/pr/x"]


def test_private_and_deleted_repos(storage: Storage, tmp_path: Path) -> None:
    storage.set_private("dataset", "a/b", True)
    assert Storage(tmp_path).repo_meta("dataset", "a/b")["private"] is True
    storage.delete_repo("dataset", "a/b")
    assert storage.repo_meta("dataset", "a/b") is None and storage.list_repos("dataset") == []
    with pytest.raises(HubError, match=r"^Repository a/b not found\.$") as exc:
        storage.refs("dataset", "a/b")
    assert (exc.value.status, exc.value.code) == (404, "RepoNotFound")
    assert storage.create_repo("dataset", "a/b", private=False, author="u")  # the name is free again
    assert list(Path(tmp_path, "tmp").iterdir()) == []


def test_temp_files_left_by_a_crash_are_removed_at_start(tmp_path: Path) -> None:
    Storage(tmp_path)
    (tmp_path / "tmp" / "half-written").write_bytes(b"x")
    (tmp_path / "tmp" / "dir").mkdir()
    Storage(tmp_path)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_objects_another_store_holds_are_found_committed_and_read(storage: Storage, tmp_path: Path) -> None:
    """A source registered by another store (the Xet store) answers for sha256s objects/ lacks: commits accept them
    (a copy that names the oid only gets their size) and open_object reads them there; objects/ is asked first."""
    data = b"held elsewhere"
    sha = hashlib.sha256(data).hexdigest()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(data)
    asked: list[str] = []

    def source(sha256: str) -> FileBody | None:
        asked.append(sha256)
        return FileBody(elsewhere) if sha256 == sha else None

    assert storage.open_object(sha) is None
    storage.add_object_source(source)
    assert storage.has_object(sha, len(data)) and not storage.has_object(sha, 1) and not storage.has_object("zz")
    commit, _ = _commit(storage, Operation("lfsFile", "copy.bin", sha256=sha))
    assert commit.files["copy.bin"].size == len(data) and not storage.object_path(sha).exists()
    body = storage.open_object(sha)
    assert body is not None and b"".join(body.iter_range(0, body.size)) == data
    own = storage.put_bytes(b"own")
    asked.clear()
    assert storage.open_object(own) is not None and asked == []  # found under objects/: no other store asked
