"""Xet's byte-level formats the local hub's CAS must read: hash strings, hashes, chunk headers, chunk compression.

Facts from the Xet protocol (xet-core's `merklehash/src/data_hash.rs` and `aggregated_hashes.rs`, and
`cas_object/src/cas_chunk_format.rs`, under `xet_core_structures/src/` in newer xet-core; hub-docs `xet/api.md`,
`xet/hashing.md` and `xet/xorb.md`): a hash is 32 bytes, printed as four little-endian u64 words of 16 hex digits
each (so `raw.hex()` is NOT the string form, the word-reversed one is).
Chunk, xorb and file hashes are keyed blake3 over the chunk bytes or over a merkle aggregation of the chunk
hashes; an uploaded xorb is a bare sequence of (8-byte header, compressed chunk) pairs, no footer. The hub
recomputes the xorb hash of every upload, so a client (or a bug) cannot store bytes under the wrong name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import blake3
import lz4.frame

__all__ = [
    "CHUNK_HEADER_SIZE",
    "MAX_CHUNK_SIZE",
    "ChunkHeader",
    "ChunkSpan",
    "XetFormatError",
    "XorbReader",
    "aggregated_hash",
    "chunk_data",
    "chunk_hash",
    "decompress_chunk",
    "file_hash",
    "hash_from_hex",
    "hash_hex",
    "is_hash_hex",
    "parse_chunk_header",
    "verify_xorb",
    "walk_xorb",
    "xorb_hash",
]

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
CHUNK_HEADER_SIZE = 8
MAX_CHUNK_SIZE = 128 * 1024  # hub-docs xorb.md: chunks are at most 128 KiB uncompressed
# merklehash/data_hash.rs: the blake3 keys of leaf (chunk) hashes and internal merkle nodes.
DATA_KEY = bytes([102, 151, 245, 119, 91, 149, 80, 222, 49, 53, 203, 172, 165, 151, 24, 28, 157, 228, 33, 16, 155,
                  235, 43, 88, 180, 208, 176, 75, 147, 173, 242, 41])
NODE_KEY = bytes([1, 126, 197, 199, 165, 71, 41, 150, 253, 148, 102, 102, 180, 138, 2, 230, 93, 221, 83, 111, 55, 199,
                  109, 210, 248, 99, 82, 230, 74, 83, 113, 63])
_FILE_SALT = bytes(32)
_MEAN_BRANCHING = 4  # aggregated_hashes.rs: groups end where word3 % 4 == 0, between 2 and 9 children
_MAX_CHILDREN = 2 * _MEAN_BRANCHING + 1
SCHEME_NONE, SCHEME_LZ4, SCHEME_BG4_LZ4 = 0, 1, 2


class XetFormatError(ValueError):
    """Bytes that are not what the Xet format says (a malformed xorb, an unknown compression scheme...)."""


def hash_hex(raw: bytes) -> str:
    """32 raw hash bytes -> Xet's string form (each 8-byte word as a little-endian u64, 16 hex digits)."""
    if len(raw) != 32:
        raise ValueError(f"a Xet hash is 32 bytes, not {len(raw)}")
    return "".join(f"{int.from_bytes(raw[i:i + 8], 'little'):016x}" for i in range(0, 32, 8))


def hash_from_hex(text: str) -> bytes:
    """Xet's string form -> the 32 raw bytes (the inverse of `hash_hex`)."""
    if not is_hash_hex(text):
        raise ValueError(f"{text!r} is not a Xet hash (64 lowercase hex digits)")
    return b"".join(int(text[i:i + 16], 16).to_bytes(8, "little") for i in range(0, 64, 16))


def is_hash_hex(text: str) -> bool:
    return bool(_HEX64.match(text or ""))


# ---- hashes -------------------------------------------------------------------------------------------------
def chunk_hash(data: bytes | memoryview) -> bytes:
    """The raw hash of one uncompressed chunk."""
    return blake3.blake3(data, key=DATA_KEY).digest()


def _node_hash(items: Sequence[tuple[bytes, int]]) -> tuple[bytes, int]:
    text = "".join(f"{hash_hex(h)} : {size}\n" for h, size in items)
    return blake3.blake3(text.encode(), key=NODE_KEY).digest(), sum(size for _, size in items)


def _next_cut(items: Sequence[tuple[bytes, int]], start: int) -> int:
    """End (exclusive) of the group starting at `start`: after the first child i >= 2 whose last word is 0 mod 4."""
    n = len(items) - start
    if n <= 2:
        return len(items)
    end = min(_MAX_CHILDREN, n)
    for i in range(2, end):
        if int.from_bytes(items[start + i][0][24:32], "little") % _MEAN_BRANCHING == 0:
            return start + i + 1
    return start + end


def aggregated_hash(items: Sequence[tuple[bytes, int]]) -> bytes:
    """The merkle root over (raw chunk hash, chunk size) pairs, Xet's variable-branching aggregation."""
    if not items:
        return bytes(32)
    level = list(items)
    while len(level) > 1:
        nxt, i = [], 0
        while i < len(level):
            cut = _next_cut(level, i)
            nxt.append(_node_hash(level[i:cut]))
            i = cut
        level = nxt
    return level[0][0]


def xorb_hash(items: Sequence[tuple[bytes, int]]) -> bytes:
    """A xorb's name: the aggregated hash of its chunks."""
    return aggregated_hash(items)


def file_hash(items: Sequence[tuple[bytes, int]]) -> bytes:
    """A file's Xet id: the aggregated hash of all its chunks, keyed-hashed once more with a zero salt."""
    if not items:
        return bytes(32)
    return blake3.blake3(aggregated_hash(items), key=_FILE_SALT).digest()


# ---- chunks and xorbs ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChunkHeader:
    version: int
    compressed_size: int
    scheme: int
    uncompressed_size: int


@dataclass(frozen=True)
class ChunkSpan:
    """One chunk of a serialized xorb: where its header starts, its header, and its position in the xorb."""

    index: int
    offset: int  # of the 8-byte header in the serialized xorb
    header: ChunkHeader

    @property
    def end(self) -> int:
        """Offset just past this chunk's compressed bytes (the next chunk's header)."""
        return self.offset + CHUNK_HEADER_SIZE + self.header.compressed_size


def parse_chunk_header(raw: bytes | memoryview) -> ChunkHeader:
    """`u8 version | u24 LE compressed size | u8 scheme | u24 LE uncompressed size`."""
    if len(raw) != CHUNK_HEADER_SIZE:
        raise XetFormatError(f"a chunk header is {CHUNK_HEADER_SIZE} bytes, got {len(raw)}")
    header = ChunkHeader(raw[0], int.from_bytes(raw[1:4], "little"), raw[4], int.from_bytes(raw[5:8], "little"))
    if header.version != 0:
        raise XetFormatError(f"unknown chunk header version {header.version}")
    if header.scheme not in (SCHEME_NONE, SCHEME_LZ4, SCHEME_BG4_LZ4):
        raise XetFormatError(f"unknown chunk compression scheme {header.scheme}")
    if not 0 < header.uncompressed_size <= MAX_CHUNK_SIZE or header.compressed_size == 0:
        raise XetFormatError(f"chunk sizes out of range (compressed {header.compressed_size}, "
                             f"uncompressed {header.uncompressed_size}; at most {MAX_CHUNK_SIZE})")
    return header


def walk_xorb(body: bytes | memoryview) -> Iterator[ChunkSpan]:
    """The chunks of a footer-less serialized xorb, in order; XetFormatError if the headers do not tile the body."""
    offset, index = 0, 0
    while offset < len(body):
        if offset + CHUNK_HEADER_SIZE > len(body):
            raise XetFormatError(f"truncated chunk header at byte {offset} of {len(body)}")
        header = parse_chunk_header(body[offset:offset + CHUNK_HEADER_SIZE])
        span = ChunkSpan(index, offset, header)
        if span.end > len(body):
            raise XetFormatError(f"chunk {index} at byte {offset} runs past the end of the xorb ({len(body)} bytes)")
        yield span
        offset, index = span.end, index + 1


def decompress_chunk(header: ChunkHeader, payload: bytes | memoryview) -> bytes | memoryview:
    """A chunk's original bytes from its compressed payload (schemes none, LZ4 frame, BG4 + LZ4 frame); an
    uncompressed payload comes back as it was given (a memoryview stays a view: no copy)."""
    if header.scheme == SCHEME_NONE:
        data = payload
    else:
        try:
            data = lz4.frame.decompress(payload)
        except RuntimeError as exc:
            raise XetFormatError(f"chunk does not LZ4-decompress: {exc}") from None
        if header.scheme == SCHEME_BG4_LZ4:
            data = _bg4_regroup(data)
    if len(data) != header.uncompressed_size:
        raise XetFormatError(f"chunk decompressed to {len(data)} bytes, its header says {header.uncompressed_size}")
    return data


def _bg4_regroup(planes: bytes) -> bytes:
    """Undo byte grouping: the payload is four byte planes; plane i holds bytes i, i+4, i+8, ... of the chunk."""
    n = len(planes)
    out = bytearray(n)
    pos = 0
    for i in range(4):
        length = n // 4 + (1 if i < n % 4 else 0)
        out[i::4] = planes[pos:pos + length]
        pos += length
    return bytes(out)


def chunk_data(body: bytes | memoryview, span: ChunkSpan) -> bytes | memoryview:
    """The original bytes of one chunk of a serialized xorb."""
    start = span.offset + CHUNK_HEADER_SIZE
    return decompress_chunk(span.header, body[start:span.end])


class XorbReader:
    """Walks, decompresses and hashes a footer-less xorb as its bytes arrive (`feed`), so an upload is verified
    while it streams in, not read back from disk afterwards; `finish` checks the whole against the xorb's name."""

    def __init__(self) -> None:
        self._pending = bytearray()  # bytes of a chunk not complete yet
        self._offset = 0  # where `_pending` starts in the xorb
        self.chunks: list[tuple[int, int, bytes]] = []  # (header offset, uncompressed size, raw chunk hash)

    def feed(self, data: bytes | memoryview) -> None:
        """Take the next bytes; XetFormatError as soon as a chunk header or payload is malformed."""
        self._pending += data
        used = self._take_chunks()
        del self._pending[:used]
        self._offset += used

    def _take_chunks(self) -> int:
        """Hash every complete chunk in `_pending`; how many bytes they took."""
        view, pos = memoryview(self._pending), 0
        with view:
            while len(view) - pos >= CHUNK_HEADER_SIZE:
                header = parse_chunk_header(view[pos:pos + CHUNK_HEADER_SIZE])
                end = pos + CHUNK_HEADER_SIZE + header.compressed_size
                if end > len(view):
                    break
                size, digest = _hashed(decompress_chunk(header, view[pos + CHUNK_HEADER_SIZE:end]))
                self.chunks.append((self._offset + pos, size, digest))
                pos = end
        return pos

    def finish(self, expected_hex: str) -> list[tuple[int, int, bytes]]:
        """The chunks, once the body is complete and hashes to `expected_hex`; XetFormatError otherwise."""
        total = self._offset + len(self._pending)
        if len(self._pending) >= CHUNK_HEADER_SIZE:
            raise XetFormatError(f"chunk {len(self.chunks)} at byte {self._offset} runs past the end of the xorb "
                                 f"({total} bytes)")
        if self._pending:
            raise XetFormatError(f"truncated chunk header at byte {self._offset} of {total}")
        if not self.chunks:
            raise XetFormatError("the xorb holds no chunk")
        got = hash_hex(xorb_hash([(h, size) for _, size, h in self.chunks]))
        if got != expected_hex:
            raise XetFormatError(f"the xorb's chunks hash to {got}, not {expected_hex}")
        return self.chunks


def _hashed(data: bytes | memoryview) -> tuple[int, bytes]:
    with memoryview(data) as view:  # a view into the reader's buffer must be gone before it is resized
        return len(view), chunk_hash(view)


def verify_xorb(body: bytes | memoryview, expected_hex: str) -> list[tuple[int, int, bytes]]:
    """Walk, decompress and hash every chunk; the (header offset, uncompressed size, raw chunk hash) of each.

    XetFormatError when the body is malformed, empty, or its chunks hash to another xorb hash than `expected_hex`.
    """
    reader = XorbReader()
    reader.feed(body)
    return reader.finish(expected_hex)
