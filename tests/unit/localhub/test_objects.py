"""An object stored as one file: its size, its path for sendfile, and ranges read in pieces."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfconnect.localhub import objects
from hfconnect.localhub.objects import FileBody


def test_ranges_of_a_file_in_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = bytes(range(256)) * 40
    path = tmp_path / "obj"
    path.write_bytes(data)
    monkeypatch.setattr(objects, "PIECE", 1000)
    body = FileBody(path)
    assert (body.size, body.path) == (len(data), str(path))
    pieces = list(body.iter_range(10, 2500))
    assert [len(p) for p in pieces] == [1000, 1000, 500] and b"".join(pieces) == data[10:2510]
    assert b"".join(body.iter_range(len(data) - 5, 100)) == data[-5:]  # a range past the end stops at the end


def test_a_missing_file_has_no_body(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        FileBody(tmp_path / "nope")
