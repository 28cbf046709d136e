"""The local hub's records: git blob ids, LFS pointers and the paths a commit may hold."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hfconnect.localhub.errors import HubError
from hfconnect.localhub.records import git_blob_oid, lfs_pointer, validate_repo_path


def test_git_blob_oid_matches_git(tmp_path: Path) -> None:
    assert git_blob_oid(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    assert git_blob_oid(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"
    blob = tmp_path / "blob"
    blob.write_bytes(bytes(range(256)) * 3)
    try:
        out = subprocess.run(["git", "hash-object", str(blob)], capture_output=True, text=True, check=True).stdout
    except FileNotFoundError:
        pytest.skip("git is not installed")
    assert git_blob_oid(blob.read_bytes()) == out.strip()


def test_lfs_pointer_is_the_git_lfs_spec() -> None:
    want = f"version https://git-lfs.github.com/spec/v1\noid sha256:{'ab' * 32}\nsize 12\n"
    assert lfs_pointer("ab" * 32, 12) == want.encode()


@pytest.mark.parametrize("path", ["a.txt", "data/train-00000-of-00001.parquet", "x/.gitattributes", "a..b", ".x/y"])
def test_valid_paths(path: str) -> None:
    assert validate_repo_path(path) == path


@pytest.mark.parametrize(("path", "why"), [
    ("", "A file path in the commit is empty."), ("n\x00ul", "NUL bytes are not allowed"),
    ("/abs", "absolute paths are not allowed"), ("\\\\share", "absolute paths are not allowed"),
    ("C:/win", "absolute paths are not allowed"), ("..", "'.' and '..' segments are not allowed"),
    ("a/../b", "segments are not allowed"), ("a//b", "segments are not allowed"), ("./a", "segments are not allowed"),
    ("a/", "segments are not allowed"), (".git/x", "'.git' is reserved"), ("a/.git/b", "'.git' is reserved"),
])
def test_invalid_paths_are_400_naming_why(path: str, why: str) -> None:
    with pytest.raises(HubError, match=why.replace("(", r"\(").replace(".", r"\.")) as exc:
        validate_repo_path(path)
    assert (exc.value.status, exc.value.code) == (400, "BadRequest")
