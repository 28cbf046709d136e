"""Pure pieces of the local hub: path validation, Range parsing, fault decisions, storage CAS."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

from hfconnect.localhub.api_files import parse_range
from hfconnect.localhub.errors import HubError
from hfconnect.localhub.faults import FaultPlan, FaultRule, parse_size
from hfconnect.localhub.storage import Operation, Storage, git_blob_oid, validate_repo_path


def test_git_blob_oid_matches_git() -> None:
    assert git_blob_oid(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    assert git_blob_oid(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"


@pytest.mark.parametrize("path", ["a.txt", "data/train-00000-of-00001.parquet", "x/.gitattributes", "a..b"])
def test_valid_paths(path: str) -> None:
    assert validate_repo_path(path) == path


@pytest.mark.parametrize("path", ["", "/abs", "..", "a/../b", "a//b", "./a", ".git/x", "a/.git/b", "n\x00ul",
                                  "C:/win", "\\\\share"])
def test_invalid_paths(path: str) -> None:
    with pytest.raises(HubError) as exc:
        validate_repo_path(path)
    assert exc.value.status == 400


@pytest.mark.parametrize(("header", "size", "want"), [
    (None, 10, None), ("bytes=0-4", 10, (0, 4)), ("bytes=5-", 10, (5, 9)), ("bytes=-3", 10, (7, 9)),
    ("bytes=8-100", 10, (8, 9)), ("bytes=0-1,3-4", 10, None), ("items=0-1", 10, None),
])
def test_parse_range(header, size, want) -> None:
    assert parse_range(header, size) == want


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=-0", "bytes=5-2"])
def test_parse_range_unsatisfiable(header: str) -> None:
    with pytest.raises(HubError) as exc:
        parse_range(header, 10)
    assert exc.value.status == 416 and exc.value.headers["Content-Range"] == "bytes */10"


def test_hub_error_pickles() -> None:
    err = pickle.loads(pickle.dumps(HubError(404, "EntryNotFound", "nope", headers={"X-Repo-Commit": "a"})))
    assert (err.status, err.code, err.message, err.headers) == (404, "EntryNotFound", "nope", {"X-Repo-Commit": "a"})


def test_parse_size() -> None:
    assert parse_size("64KB") == 64_000 and parse_size("10MiB") == 10 * 2**20 and parse_size(5) == 5
    with pytest.raises(ValueError):
        parse_size("lots")


def test_fault_every_and_one_failure_per_request() -> None:
    plan = FaultPlan([FaultRule("api", "status", status=500, every=2),
                      FaultRule("api", "reset", every=2),
                      FaultRule("api", "latency", latency_ms=5)])
    decisions = [plan.decide("api", "GET", "/api/x") for _ in range(4)]
    assert [d.status for d in decisions] == [None, 500, None, 500]
    # The reset rule is not consulted while the status rule fires, so its own count reaches 2 on request 3.
    assert [d.reset for d in decisions] == [False, False, True, False]
    assert all(d.latency_s == 0.005 for d in decisions)
    assert plan.decide("resolve", "GET", "/x").status is None


def test_storage_commit_is_all_or_nothing(tmp_path) -> None:
    st = Storage(tmp_path)
    assert st.create_repo("dataset", "a/b", private=False, author="u")
    assert not st.create_repo("dataset", "a/b", private=False, author="u")
    head, _ = st.resolve("dataset", "a/b", "main")
    first, _ = st.apply_commit("dataset", "a/b", "main", [Operation("file", "x.txt", content=b"x")],
                               title="t", message="", author="u", parent_commit=head)
    with pytest.raises(HubError) as exc:  # stale parent
        st.apply_commit("dataset", "a/b", "main", [Operation("file", "y.txt", content=b"y")],
                        title="t", message="", author="u", parent_commit=head)
    assert exc.value.status == 412
    with pytest.raises(HubError):  # second op invalid: the first must not land either
        st.apply_commit("dataset", "a/b", "main", [Operation("file", "z.txt", content=b"z"),
                                                   Operation("deletedFile", "missing.txt")],
                        title="t", message="", author="u")
    assert st.resolve("dataset", "a/b", "main")[0] == first.id
    assert set(st.commit(first.id).files) == {".gitattributes", "x.txt"}
    # A restarted storage (new object) sees the same state.
    again = Storage(tmp_path)
    assert again.resolve("dataset", "a/b", "main")[0] == first.id
    assert again.commit(first.id).files["x.txt"].size == 1
    # A sha resolves only in the repo that made it.
    again.create_repo("dataset", "a/other", private=False, author="u")
    with pytest.raises(HubError):
        again.resolve("dataset", "a/other", first.id)


def test_core_imports_no_engine() -> None:
    code = ("import sys, hfconnect, hfconnect.localhub, hfconnect.cli; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('pyspark', 'daft', 'ray')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
