"""NDJSON commit bodies parsed and checked whole before anything applies; which files go through LFS."""

from __future__ import annotations

import base64
import json

import pytest

from hfconnect.localhub.api_upload import LFS_THRESHOLD, parse_ndjson_commit, upload_mode
from hfconnect.localhub.errors import HubError
from hfconnect.localhub.storage import Operation


def _body(*lines: object) -> bytes:
    return b"\n".join(line if isinstance(line, bytes) else json.dumps(line).encode() for line in lines)


HEADER = {"key": "header", "value": {"summary": "s", "description": "", "parentCommit": "p" * 40}}


def test_every_operation_kind() -> None:
    sha = "ab" * 32
    header, ops = parse_ndjson_commit(_body(
        HEADER,
        {"key": "file", "value": {"path": "a.txt", "content": base64.b64encode(b"hi").decode(), "encoding": "base64"}},
        {"key": "lfsFile", "value": {"path": "d.parquet", "algo": "sha256", "oid": sha, "size": 12}},
        {"key": "lfsFile", "value": {"path": "copy.parquet", "oid": sha}},
        {"key": "deletedFile", "value": {"path": "old.txt"}},
        {"key": "deletedFolder", "value": {"path": "old/"}},
        b"   ",
    ))
    assert header == HEADER["value"]
    assert ops == [Operation("file", "a.txt", content=b"hi"), Operation("lfsFile", "d.parquet", sha256=sha, size=12),
                   Operation("lfsFile", "copy.parquet", sha256=sha, size=None), Operation("deletedFile", "old.txt"),
                   Operation("deletedFolder", "old/")]


@pytest.mark.parametrize(("lines", "message"), [
    ((b"not json",), r"^Malformed NDJSON commit: line 1 is not \{\"key\": \.\.\., \"value\": \{\.\.\.\}\}\.$"),
    ((HEADER, {"value": {}}), "line 2 is not"),
    ((HEADER, {"key": "file", "value": "x"}), r"^Malformed NDJSON commit: line 2 value is not an object\.$"),
    ((HEADER, {"key": "file", "value": {"path": "a", "content": "x", "encoding": "utf-8"}}),
     r"^Line 2: only base64 encoding is supported\.$"),
    ((HEADER, {"key": "file", "value": {"path": "a", "content": "***"}}), r"^Line 2: 'content' is not valid base64\.$"),
    ((HEADER, {"key": "lfsFile", "value": {"path": "a", "algo": "md5", "oid": "x"}}),
     r"^Line 2: only sha256 LFS oids are supported\.$"),
    ((HEADER, {"key": "rename", "value": {}}), r"^Line 2: unknown commit line key 'rename'\.$"),
    (({"key": "deletedFile", "value": {"path": "a"}},), r"^Malformed NDJSON commit: the header line is missing\.$"),
    ((), "the header line is missing"),
])
def test_malformed_bodies_are_400_naming_the_line(lines: tuple, message: str) -> None:
    with pytest.raises(HubError, match=message) as exc:
        parse_ndjson_commit(_body(*lines))
    assert (exc.value.status, exc.value.code) == (400, "BadRequest")


@pytest.mark.parametrize(("path", "size", "sample", "mode"), [
    ("notes.txt", 10, b"hello", "regular"), ("data.parquet", 10, b"PAR1", "lfs"), ("DATA.PARQUET", 1, b"", "lfs"),
    ("big.txt", LFS_THRESHOLD, b"x", "lfs"), ("small.txt", LFS_THRESHOLD - 1, b"x", "regular"),
    ("blob.dat", 5, b"a\0b", "lfs"), ("model.safetensors", 1, b"", "lfs"), ("README.md", 1, b"#", "regular"),
])
def test_upload_mode_follows_the_hub(path: str, size: int, sample: bytes, mode: str) -> None:
    """LFS for large files, binary samples and the suffixes of a new repo's .gitattributes; regular otherwise."""
    assert upload_mode(path, size, sample) == mode


def test_every_lfs_pattern_of_a_new_repo_is_uploaded_as_lfs() -> None:
    """One list: what .gitattributes sends through LFS is what preupload answers 'lfs' for, whatever the size."""
    from hfconnect.localhub.storage import GITATTRIBUTES

    suffixes = [line.split()[0].removeprefix("*") for line in GITATTRIBUTES.splitlines() if line.startswith("*.")]
    assert ".parquet" in suffixes and len(suffixes) > 30
    assert {upload_mode(f"data/x{s}", 10, b"text") for s in suffixes} == {"lfs"}
    assert upload_mode("notes.txt", 10, b"text") == "regular"
