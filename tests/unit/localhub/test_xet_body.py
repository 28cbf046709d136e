"""A Xet file's bytes read from its xorbs: every byte range of a file made of two xorbs' chunks (LZ4 and plain)
equals the same range of the original bytes, whatever the piece size, past the end included."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfconnect.localhub import xet_body
from hfconnect.localhub.storage import Storage
from hfconnect.localhub.xet_shard import Shard, shard_bytes
from hfconnect.localhub.xet_store import XetStore

from .test_xet_store import A_BODY, A_INFO, A_NAME, B_BODY, B_INFO, B_NAME, FILE, FILE_DATA


@pytest.fixture
def body(tmp_path: Path) -> xet_body.XetBody:
    store = XetStore(Storage(tmp_path))
    store.put_xorb(A_NAME, A_BODY)
    store.put_xorb(B_NAME, B_BODY)
    store.put_shard(shard_bytes(Shard((FILE,), (A_INFO, B_INFO))))
    found = store.body(FILE.sha256 or "")
    assert found is not None
    return found


@pytest.mark.parametrize("piece", [1, 1500, 256 * 1024])
def test_every_range_is_the_original_bytes(body: xet_body.XetBody, piece: int, monkeypatch: pytest.MonkeyPatch,
                                           ) -> None:
    monkeypatch.setattr(xet_body, "PIECE", piece)
    n = len(FILE_DATA)
    assert (body.size, body.path) == (n, None)
    for start in (0, 1, 999, 1000, 2500, 3199, 3200, 7296, 7297, n - 1):
        for length in (1, 2, 700, 3000, n):
            got = b"".join(body.iter_range(start, length))
            assert got == FILE_DATA[start:start + length], (start, length)
    assert b"".join(body.iter_range(n, 10)) == b"" and b"".join(body.iter_range(3, 0)) == b""


def test_unknown_bytes_have_no_body(tmp_path: Path) -> None:
    assert XetStore(Storage(tmp_path)).body("ab" * 32) is None
