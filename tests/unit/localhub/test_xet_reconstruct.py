"""The reconstruction answer without any server: for any byte range, the terms a client (hf_xet) fetches are
trimmed to whole chunks at both ends, `offset_into_first_range` points into the first chunk, chunk ranges are
end-exclusive and `url_range`s end-inclusive, and the bytes the client assembles are exactly the range."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfconnect.localhub import xet_format as xf
from hfconnect.localhub.storage import Storage
from hfconnect.localhub.xet_reconstruct import reconstruction
from hfconnect.localhub.xet_shard import Shard, shard_bytes
from hfconnect.localhub.xet_store import XetStore
from tests.unit.localhub.test_xet_store import (
    A_BODY,
    A_CHUNKS,
    A_INFO,
    A_NAME,
    B_BODY,
    B_CHUNKS,
    B_INFO,
    B_NAME,
    FILE,
    FILE_DATA,
)


@pytest.fixture
def store(tmp_path: Path) -> XetStore:
    """Both xorbs and the shard of FILE stored."""
    s = XetStore(Storage(tmp_path))
    assert s.put_xorb(A_NAME, A_BODY) and s.put_xorb(B_NAME, B_BODY)
    s.put_shard(shard_bytes(Shard((FILE,), (A_INFO, B_INFO))))
    return s


def _client_read(store: XetStore, answer: dict, length: int) -> bytes:
    """What hf_xet does with a reconstruction: fetch each url_range, decode its chunks, join the terms."""
    out = b""
    for term in answer["terms"]:
        xorb, rng = term["hash"], term["range"]
        entry = next(e for e in answer["fetch_info"][xorb] if e["range"]["start"] <= rng["start"]
                     and rng["end"] <= e["range"]["end"])
        raw = store.xorb_path(xorb).read_bytes()[entry["url_range"]["start"]:entry["url_range"]["end"] + 1]
        chunks = [xf.chunk_data(raw, span) for span in xf.walk_xorb(raw)]
        data = b"".join(chunks[rng["start"] - entry["range"]["start"]:rng["end"] - entry["range"]["start"]])
        assert len(data) == term["unpacked_length"]
        out += data
    return out[answer["offset_into_first_range"]:][:length]


@pytest.mark.parametrize(("first", "last"), [
    (0, len(FILE_DATA) - 1),  # all of it
    (0, 0), (2499, 2500), (2500, 2500),  # across the first chunk boundary of the file
    (3000, 9000),  # from inside a chunk of A into B
    (len(FILE_DATA) - 10, len(FILE_DATA) - 1),  # the tail, inside B's last chunk only
    (7296, 7296),  # the first byte of the second term exactly
])
def test_reconstructions_are_trimmed_at_chunk_boundaries(store: XetStore, first: int, last: int) -> None:
    found = store.file(FILE.file_hash)
    assert found is not None
    answer = reconstruction(store, found, (first, last), lambda x: f"http://cas/{x}")
    assert _client_read(store, answer, last - first + 1) == FILE_DATA[first:last + 1]
    assert answer["offset_into_first_range"] < max(len(c) for c in A_CHUNKS + B_CHUNKS)
    sizes = {B_NAME: [len(c) for c in B_CHUNKS], A_NAME: [len(c) for c in A_CHUNKS]}
    at = 0
    for i, term in enumerate(answer["terms"]):  # no chunk beyond what the range needs, at either end
        rng, term_sizes = term["range"], sizes[term["hash"]]
        assert rng["end"] > rng["start"]
        if i == 0:
            assert answer["offset_into_first_range"] < term_sizes[rng["start"]]
        at += term["unpacked_length"]
        if i == len(answer["terms"]) - 1:
            assert at - term_sizes[rng["end"] - 1] < answer["offset_into_first_range"] + (last - first + 1)
    if (first, last) == (len(FILE_DATA) - 10, len(FILE_DATA) - 1):
        assert answer["terms"] == [{"hash": B_NAME, "unpacked_length": 999, "range": {"start": 2, "end": 3}}]
        assert answer["fetch_info"][B_NAME][0]["url_range"]["end"] == len(B_BODY) - 1
    whole = reconstruction(store, found, None, lambda x: f"http://cas/{x}")
    assert whole["offset_into_first_range"] == 0 and [t["range"] for t in whole["terms"]] == [
        {"start": 1, "end": 4}, {"start": 0, "end": 3}]
