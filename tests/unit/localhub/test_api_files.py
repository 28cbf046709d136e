"""The tree-entry JSON the hub answers with."""

from __future__ import annotations

from hfconnect.localhub.api_files import file_json
from hfconnect.localhub.storage import FileEntry, lfs_pointer


def test_file_json_regular_and_lfs() -> None:
    assert file_json("a.txt", FileEntry("o" * 40, "s" * 64, 3, False)) == {
        "type": "file", "oid": "o" * 40, "size": 3, "path": "a.txt"}
    sha = "ab" * 32
    assert file_json("d.parquet", FileEntry("o" * 40, sha, 1000, True)) == {
        "type": "file", "oid": "o" * 40, "size": 1000, "path": "d.parquet",
        "lfs": {"oid": sha, "size": 1000, "pointerSize": len(lfs_pointer(sha, 1000))}}
