"""Xet byte formats as the real client writes them: hf_xet (in this process, against its own `local://` CAS, no
server) produces xorbs; our walker, decompressors and hashes must name them as hf_xet does (xorb hash = the
file name it stores, file hash = `hf_xet.hash_files`), for every compression scheme it uses."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import lz4.frame
import pytest

from hfconnect.localhub import xet_format as xf

RNG = random.Random(19)
RANDOM = RNG.randbytes(150_000)  # incompressible: stored with scheme 0
ZEROS = bytes(150_000)  # LZ4
FLOATS = b"".join(struct.pack("<f", RNG.random()) for _ in range(40_000))  # byte-grouped under bg4-lz4
DATA = RANDOM + ZEROS + FLOATS


def _xorbs(tmp: Path, policy: str | None) -> tuple[list[tuple[str, bytes]], str]:
    """Upload DATA with hf_xet into a local:// CAS: [(xorb hash, footer-less body)], and hf_xet's file hash."""
    import hf_xet

    config = hf_xet.XetConfig()
    if policy:
        config = config.with_config("xorb.compression_policy", policy)
    session = hf_xet.XetSession(config=config)
    with session.new_upload_commit(endpoint=f"local://{tmp}", token="t", token_expiry_unix_secs=2**40) as commit:
        commit.start_upload_bytes(DATA)
    out = []
    for path in sorted((tmp / "xet" / "xorbs" / "xorbs").glob("default.*")):
        if not xf.is_hash_hex(path.name.removeprefix("default.")):
            continue  # its .tagset
        stored = path.read_bytes()
        out.append((path.name.removeprefix("default."), stored[:stored.rindex(b"XETBLOB")]))  # drop the footer
    source = tmp / "data.bin"
    source.write_bytes(DATA)
    return out, hf_xet.hash_files([str(source)])[0].hash


@pytest.fixture(scope="module", params=[None, "bg4-lz4"], ids=["default-policy", "bg4-lz4"])
def produced(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    return _xorbs(tmp_path_factory.mktemp("lcas"), request.param), request.param


def test_xorbs_hash_to_their_names_and_the_file_to_hf_xets_hash(produced) -> None:
    (xorbs, want_file_hash), policy = produced
    assert xorbs
    all_chunks: list[tuple[bytes, int]] = []
    data = b""
    schemes = set()
    for name, body in xorbs:
        for span in xf.walk_xorb(body):
            schemes.add(span.header.scheme)
            chunk = xf.chunk_data(body, span)
            data += chunk
            all_chunks.append((xf.chunk_hash(chunk), len(chunk)))
        chunks = xf.verify_xorb(body, name)
        assert [size for _, size, _ in chunks] == [s.header.uncompressed_size for s in xf.walk_xorb(body)]
    assert data == DATA
    assert xf.hash_hex(xf.file_hash(all_chunks)) == want_file_hash
    # every scheme the client uses, decoded (incompressible chunks stay uncompressed under either policy)
    assert schemes == ({0, 1} if policy is None else {0, 2}), schemes


def test_a_wrong_name_or_a_damaged_body_is_refused(produced) -> None:
    (xorbs, _), _ = produced
    name, body = xorbs[0]
    other = name[:-1] + ("0" if name[-1] != "0" else "1")
    with pytest.raises(xf.XetFormatError, match=f"hash to {name}, not {other}"):
        xf.verify_xorb(body, other)
    with pytest.raises(xf.XetFormatError, match="runs past the end"):
        xf.verify_xorb(body[:-1], name)
    with pytest.raises(xf.XetFormatError, match="truncated chunk header"):
        xf.verify_xorb(body + b"\0\0\0", name)
    flipped = bytearray(body)
    flipped[100] ^= 0xFF  # inside the first chunk's payload: decodes to other bytes, or not at all
    with pytest.raises(xf.XetFormatError):
        xf.verify_xorb(bytes(flipped), name)
    with pytest.raises(xf.XetFormatError, match="no chunk"):
        xf.verify_xorb(b"", name)


def test_chunk_headers() -> None:
    raw = bytes([0]) + (300).to_bytes(3, "little") + bytes([1]) + (4096).to_bytes(3, "little")
    assert xf.parse_chunk_header(raw) == xf.ChunkHeader(0, 300, 1, 4096)
    with pytest.raises(xf.XetFormatError, match="version 1"):
        xf.parse_chunk_header(b"\x01" + raw[1:])
    with pytest.raises(xf.XetFormatError, match="scheme 7"):
        xf.parse_chunk_header(raw[:4] + b"\x07" + raw[5:])
    with pytest.raises(xf.XetFormatError, match="out of range"):
        xf.parse_chunk_header(raw[:5] + (xf.MAX_CHUNK_SIZE + 1).to_bytes(3, "little"))
    with pytest.raises(xf.XetFormatError, match="8 bytes"):
        xf.parse_chunk_header(raw[:7])


def test_decompression_checks_the_announced_size() -> None:
    payload = lz4.frame.compress(b"abc" * 100)
    assert xf.decompress_chunk(xf.ChunkHeader(0, len(payload), 1, 300), payload) == b"abc" * 100
    with pytest.raises(xf.XetFormatError, match="decompressed to 300 bytes, its header says 301"):
        xf.decompress_chunk(xf.ChunkHeader(0, len(payload), 1, 301), payload)
    with pytest.raises(xf.XetFormatError, match="LZ4"):
        xf.decompress_chunk(xf.ChunkHeader(0, 5, 1, 300), b"12345")
    # BG4: four byte planes, plane i = bytes i, i+4, ... (odd lengths put the extra bytes in the first planes)
    original = bytes(range(10))
    planes = b"".join(original[i::4] for i in range(4))
    assert xf.decompress_chunk(xf.ChunkHeader(0, 1, 2, 10), lz4.frame.compress(planes)) == original


def test_hash_strings_reverse_each_word() -> None:
    raw = bytes(range(32))
    text = xf.hash_hex(raw)
    assert text[:16] == "0706050403020100" and xf.hash_from_hex(text) == raw and xf.is_hash_hex(text)
    assert not xf.is_hash_hex(text.upper()) and not xf.is_hash_hex(text[:-1])
    assert xf.file_hash([]) == xf.aggregated_hash([]) == bytes(32)


def test_a_xorb_fed_in_any_pieces_verifies_as_a_whole(produced) -> None:
    """The CAS verifies an upload as it streams in: pieces cut inside headers and payloads give the same chunks."""
    (xorbs, _), _ = produced
    name, body = xorbs[0]
    whole = xf.verify_xorb(body, name)
    for step in (1, 7, 8, 4096, 1 << 20):
        if step == 1 and len(body) > 200_000:
            body_part = body[:200_000]  # byte by byte: a prefix is enough, then the rest at once
            reader = xf.XorbReader()
            for i in range(len(body_part)):
                reader.feed(body_part[i:i + 1])
            reader.feed(body[200_000:])
        else:
            reader = xf.XorbReader()
            for i in range(0, len(body), step):
                reader.feed(body[i:i + step])
        assert reader.finish(name) == whole
