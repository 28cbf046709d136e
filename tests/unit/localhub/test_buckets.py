"""The bucket store without any server: buckets created once, listed, made private, deleted whole; a batch applies
each operation on its own (failures listed, the rest kept); `holds` follows the map as it is now; and everything is
found again by a store reopened on the same root (a restarted hub)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hfconnect.localhub.buckets import BucketOp, BucketStore, check_bucket_id, store_for
from hfconnect.localhub.errors import HubError
from hfconnect.localhub.storage import Storage

H1, H2 = "1" * 64, "2" * 64
SIZES = {H1: 10, H2: 20}


def admit(op: BucketOp) -> tuple[str, int]:
    """What the API layer does: only files the CAS knows (here: H1, H2) may be added."""
    if op.xet_hash not in SIZES:
        raise HubError(404, "EntryNotFound", "not in the CAS")
    return op.xet_hash, SIZES[op.xet_hash]


def add(path: str, h: str, mtime: int | None = 1_700_000_000_000) -> BucketOp:
    return BucketOp("addFile", path, h, mtime)


@pytest.fixture
def store(tmp_path: Path) -> BucketStore:
    s = BucketStore(Storage(tmp_path))
    assert s.create("me/b", private=True, author="me")
    return s


def test_create_list_settings_delete(store: BucketStore, tmp_path: Path) -> None:
    assert not store.create("me/b", private=False, author="me")  # exists: unchanged
    assert store.meta("me/b")["private"] is True
    assert store.create("me/a", private=False, author="me") and store.create("you/c", private=False, author="you")
    assert store.list_ids("me") == ["me/a", "me/b"] and store.list_ids("nobody") == []
    store.set_private("me/b", False)
    assert store.meta("me/b")["private"] is False
    store.delete("me/b")
    assert store.meta("me/b") is None and store.list_ids("me") == ["me/a"]
    with pytest.raises(HubError) as err:
        store.files("me/b")
    assert err.value.status == 404 and err.value.code == "RepoNotFound"
    assert not list((tmp_path / "tmp").iterdir())  # the deleted bucket's files are gone, nothing half-written


@pytest.mark.parametrize("bad", ["me", "me/b/c", "../b", "me/..", "me/.x", "me/", "/b", "me/b c"])
def test_bucket_ids_are_checked(bad: str) -> None:
    with pytest.raises(HubError) as err:
        check_bucket_id(bad)
    assert err.value.status == 400


def test_a_batch_applies_each_operation_and_lists_failures(store: BucketStore) -> None:
    failed = store.apply("me/b", [add("a/x.bin", H1), add("bad.bin", "f" * 64), add("../up", H1),
                                  BucketOp("deleteFile", "missing"), add("b.txt", H2, None)], admit)
    assert [f["path"] for f in failed] == ["bad.bin", "../up", "missing"]
    files = store.files("me/b")
    assert sorted(files) == ["a/x.bin", "b.txt"]
    assert files["a/x.bin"].size == 10 and files["a/x.bin"].mtime == 1_700_000_000_000
    assert files["b.txt"].mtime > 1_700_000_000_000  # no mtime sent: the hub's clock
    assert store.holds("me/b", H1) and store.holds("me/b", H2)
    # mutable: an add overwrites, a delete forgets (and the bucket no longer holds the file)
    assert store.apply("me/b", [add("a/x.bin", H2), BucketOp("deleteFile", "b.txt")], admit) == []
    assert store.files("me/b")["a/x.bin"].xet_hash == H2 and not store.holds("me/b", H1)
    assert not store.holds("me/other", H2) and not store.holds("me/b", "3" * 64)


def test_a_reopened_store_finds_everything(store: BucketStore, tmp_path: Path) -> None:
    store.apply("me/b", [add("k.bin", H1)], admit)
    again = BucketStore(Storage(tmp_path))
    assert again.meta("me/b")["private"] is True and again.holds("me/b", H1)
    assert again.files("me/b")["k.bin"].size == 10
    on_disk = json.loads((tmp_path / "buckets" / "me" / "b" / "files.json").read_bytes())
    assert on_disk["k.bin"]["xetHash"] == H1


def test_one_store_per_storage(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    assert store_for(storage) is store_for(storage)
    assert store_for(Storage(tmp_path)) is not store_for(storage)


def test_batch_lines_are_parsed_as_the_client_sends_them() -> None:
    op = BucketOp.from_json({"type": "copyFile", "path": "p", "xetHash": H1, "mtime": 5, "sourceRepoType": "bucket",
                             "sourceRepoId": "o/b"})
    assert (op.kind, op.source_type, op.source_id, op.mtime) == ("copyFile", "bucket", "o/b", 5)
    with pytest.raises(HubError):
        BucketOp.from_json({"type": "rename", "path": "p"})
    with pytest.raises(HubError):
        BucketOp.from_json(["addFile"])
