"""Xet shards (MDB shard files): parse what clients upload, build what global dedup answers.

A shard is little-endian throughout (xet-core `xet_core_structures/src/metadata_shard/shard_format.rs`,
`file_structs.rs`, `xorb_structs.rs`; hub-docs `shard.md`):

* header, 48 bytes: tag[32], u64 version (2), u64 footer_size (0 in an upload, 200 when a footer follows);
* file-info section: per file a 48-byte header (file_hash[32], u32 flags, u32 num_entries, 8 reserved), the
  entries (xorb_hash[32], u32 cas_flags, u32 unpacked_bytes, u32 chunk_start, u32 chunk_end exclusive), then, as
  the flags say, one verification entry per term (range_hash[32] + 16 reserved) and one metadata extension
  (sha256[32] + 16 reserved); closed by a bookend (hash of 32 x 0xFF, 16 zero bytes);
* CAS-info section: per xorb a 48-byte header (xorb_hash[32], u32 flags, u32 num_chunks, u32 num_bytes_in_cas,
  u32 num_bytes_on_disk) and per chunk 48 bytes (chunk_hash[32], u32 byte_start, u32 unpacked_bytes, u32 flags,
  u32 reserved); closed by a bookend;
* only in the footer form (what hf_xet keeps in its shard cache and what GET /v1/chunks must answer): the file,
  xorb and chunk lookup tables, then the 200-byte footer (`MDBShardFileFooter`).

Hashes are kept in Xet's string form (`xet_format.hash_hex`); the sha256 in the metadata extension is stored with
the same word rule, so its string form IS the ordinary hashlib hex digest.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .xet_format import hash_from_hex, hash_hex

__all__ = [
    "FOOTER_SIZE",
    "KEY_EXPIRY_NEVER",
    "Shard",
    "ShardChunk",
    "ShardFile",
    "ShardFooter",
    "ShardTerm",
    "ShardXorb",
    "dedup_shard_bytes",
    "parse_shard",
    "read_footer",
    "read_lookup_tables",
    "shard_bytes",
]

HEADER_TAG = b"HFRepoMetaData\x00" + bytes(
    [85, 105, 103, 69, 106, 123, 129, 87, 131, 165, 189, 217, 92, 205, 209, 74, 169])  # shard_format.rs L43-46
HEADER_VERSION = 2
FOOTER_VERSION = 1
HEADER_SIZE = 48
ENTRY_SIZE = 48  # every record of both info sections, bookends included
FOOTER_SIZE = 200
FILE_FLAG_VERIFICATION = 1 << 31  # file_structs.rs MDB_FILE_FLAG_WITH_VERIFICATION
FILE_FLAG_METADATA_EXT = 1 << 30  # file_structs.rs MDB_FILE_FLAG_WITH_METADATA_EXT
CHUNK_FLAG_GLOBAL_DEDUP = 1 << 31  # xorb_structs.rs MDB_CHUNK_WITH_GLOBAL_DEDUP_FLAG
KEY_EXPIRY_NEVER = (1 << 64) - 1  # MDBShardFileFooter::default(): shard_key_expiry = u64::MAX
_BOOKEND_HASH = b"\xff" * 32
_BOOKEND = _BOOKEND_HASH + bytes(16)
_U32_MAX = (1 << 32) - 1

_HEADER = struct.Struct("<32sQQ")
_REC = struct.Struct("<32sIIII")  # both sections' headers and entries: a hash and four u32
_REC_EXT = struct.Struct("<32s16x")  # verification entry and metadata extension: a hash and 16 reserved bytes
_FILE_HEADER = struct.Struct("<32sIIQ")
# version, file_info_offset, xorb_info_offset, file/xorb/chunk lookup (offset, count) x3, hmac_key[32],
# creation timestamp, key expiry, 6 reserved u64, stored_bytes_on_disk, materialized_bytes, stored_bytes,
# footer_offset (shard_format.rs MDBShardFileFooter::serialize)
_FOOTER = struct.Struct("<9Q32sQQ6QQQQQ")
assert _FOOTER.size == FOOTER_SIZE


@dataclass(frozen=True)
class ShardTerm:
    """One term of a file: chunks [chunk_start, chunk_end) of a xorb, `unpacked_bytes` long once decompressed."""

    xorb_hash: str
    cas_flags: int
    unpacked_bytes: int
    chunk_start: int
    chunk_end: int


@dataclass(frozen=True)
class ShardFile:
    """A file's reconstruction; `sha256` is hashlib's hex digest, `verification` one range hash per term."""

    file_hash: str
    terms: tuple[ShardTerm, ...]
    sha256: str | None = None
    verification: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShardChunk:
    """A chunk of a xorb: where its bytes start in the xorb's unpacked data and how many there are."""

    chunk_hash: str
    byte_start: int
    unpacked_bytes: int
    flags: int = 0


@dataclass(frozen=True)
class ShardXorb:
    """A xorb's chunk list (CAS-info block)."""

    xorb_hash: str
    flags: int
    chunks: tuple[ShardChunk, ...]
    num_bytes_in_cas: int
    num_bytes_on_disk: int = 0


@dataclass(frozen=True)
class Shard:
    """A shard's content: file reconstructions and xorb chunk lists, in the order the bytes hold them."""

    files: tuple[ShardFile, ...]
    xorbs: tuple[ShardXorb, ...]


@dataclass(frozen=True)
class ShardFooter:
    """The footer's fields, for tests and diagnostics (`read_footer`)."""

    file_info_offset: int
    xorb_info_offset: int
    file_lookup_offset: int
    file_lookup_count: int
    xorb_lookup_offset: int
    xorb_lookup_count: int
    chunk_lookup_offset: int
    chunk_lookup_count: int
    hmac_key: bytes
    creation_timestamp: int
    key_expiry: int
    stored_bytes_on_disk: int
    materialized_bytes: int
    stored_bytes: int
    footer_offset: int


# ---------------------------------------------------------------------------------------------------- parsing


class _Reader:
    """A cursor over the shard that names what was being read when the data ran out."""

    def __init__(self, data: bytes, end: int) -> None:
        self.data = data
        self.pos = 0
        self.end = end

    def take(self, size: int, what: str) -> memoryview:
        if self.pos + size > self.end:
            raise ValueError(f"malformed shard: truncated {what} at byte {self.pos} "
                             f"(needs {size} bytes, {max(self.end - self.pos, 0)} left)")
        view = memoryview(self.data)[self.pos:self.pos + size]
        self.pos += size
        return view

    def need(self, count: int, what: str) -> None:
        """Refuse counts the remaining bytes cannot hold before looping over them (no huge allocations)."""
        if count * ENTRY_SIZE > self.end - self.pos:
            raise ValueError(f"malformed shard: {what} claims {count} entries of {ENTRY_SIZE} bytes at byte "
                             f"{self.pos}, only {max(self.end - self.pos, 0)} bytes left")


def parse_shard(data: bytes) -> Shard:
    """Parse a shard in the upload form (footer_size 0) or the footer form (on-disk / dedup answer).

    Raises ValueError naming what is malformed: a shard from a client is untrusted input, and the CAS answers 400.
    """
    data = bytes(data)
    if len(data) < HEADER_SIZE:
        raise ValueError(f"malformed shard: truncated header ({len(data)} bytes, needs {HEADER_SIZE})")
    tag, version, footer_size = _HEADER.unpack_from(data, 0)
    if tag != HEADER_TAG:
        raise ValueError("malformed shard: bad header tag (not an MDB shard)")
    if version != HEADER_VERSION:
        raise ValueError(f"malformed shard: unsupported header version {version} (expected {HEADER_VERSION})")
    if footer_size not in (0, FOOTER_SIZE):
        raise ValueError(f"malformed shard: footer_size {footer_size} (expected 0 or {FOOTER_SIZE})")
    footer = read_footer(data) if footer_size else None
    end = footer.file_lookup_offset if footer else len(data)
    if footer and footer.file_info_offset != HEADER_SIZE:
        raise ValueError(f"malformed shard: footer file_info_offset {footer.file_info_offset} "
                         f"(expected {HEADER_SIZE})")
    reader = _Reader(data, end)
    reader.pos = HEADER_SIZE
    files = _parse_files(reader)
    if footer and reader.pos != footer.xorb_info_offset:
        raise ValueError(f"malformed shard: file-info section ends at byte {reader.pos} but the footer's "
                         f"xorb_info_offset is {footer.xorb_info_offset}")
    xorbs = _parse_xorbs(reader)
    if reader.pos != end:
        where = "the footer's file_lookup_offset" if footer else "the end of the data"
        raise ValueError(f"malformed shard: CAS-info bookend at byte {reader.pos - ENTRY_SIZE} is not followed by "
                         f"{where} ({end}): {end - reader.pos} unexpected bytes")
    return Shard(files=tuple(files), xorbs=tuple(xorbs))


def _parse_files(reader: _Reader) -> list[ShardFile]:
    files: list[ShardFile] = []
    while True:
        raw_hash, flags, num_entries, _reserved = _FILE_HEADER.unpack(
            reader.take(ENTRY_SIZE, f"file-info header #{len(files)} (or missing file-info bookend)"))
        if raw_hash == _BOOKEND_HASH:
            return files
        file_hash = hash_hex(raw_hash)
        reader.need(num_entries, f"file {file_hash}")
        terms = []
        for i in range(num_entries):
            xorb, cas_flags, unpacked, start, stop = _REC.unpack(reader.take(ENTRY_SIZE, f"term #{i} of {file_hash}"))
            if stop < start:
                raise ValueError(f"malformed shard: term #{i} of file {file_hash} has chunk range [{start}, {stop})")
            terms.append(ShardTerm(hash_hex(xorb), cas_flags, unpacked, start, stop))
        verification: tuple[str, ...] = ()
        if flags & FILE_FLAG_VERIFICATION:
            reader.need(num_entries, f"verification of file {file_hash}")
            verification = tuple(
                hash_hex(_REC_EXT.unpack(reader.take(ENTRY_SIZE, f"verification entry #{i} of {file_hash}"))[0])
                for i in range(num_entries))
        sha256 = None
        if flags & FILE_FLAG_METADATA_EXT:
            sha256 = hash_hex(_REC_EXT.unpack(reader.take(ENTRY_SIZE, f"metadata extension of {file_hash}"))[0])
        files.append(ShardFile(file_hash, tuple(terms), sha256, verification))


def _parse_xorbs(reader: _Reader) -> list[ShardXorb]:
    xorbs: list[ShardXorb] = []
    while True:
        raw_hash, flags, num_chunks, in_cas, on_disk = _REC.unpack(
            reader.take(ENTRY_SIZE, f"xorb-info header #{len(xorbs)} (or missing CAS-info bookend)"))
        if raw_hash == _BOOKEND_HASH:
            return xorbs
        xorb_hash = hash_hex(raw_hash)
        reader.need(num_chunks, f"xorb {xorb_hash}")
        chunks = []
        for i in range(num_chunks):
            chunk, start, unpacked, chunk_flags, _reserved = _REC.unpack(
                reader.take(ENTRY_SIZE, f"chunk #{i} of xorb {xorb_hash}"))
            chunks.append(ShardChunk(hash_hex(chunk), start, unpacked, chunk_flags))
        xorbs.append(ShardXorb(xorb_hash, flags, tuple(chunks), in_cas, on_disk))


def read_footer(data: bytes) -> ShardFooter:
    """The footer of a footer-form shard, with its offsets checked against the data's length."""
    if len(data) < HEADER_SIZE + 2 * ENTRY_SIZE + FOOTER_SIZE:
        raise ValueError(f"malformed shard: {len(data)} bytes is too short for a shard with a footer")
    fields = _FOOTER.unpack_from(data, len(data) - FOOTER_SIZE)
    (version, file_info, xorb_info, file_lookup, file_count, xorb_lookup, xorb_count, chunk_lookup, chunk_count,
     hmac_key, created, expiry, *_reserved, on_disk, materialized, stored, footer_offset) = fields
    if version != FOOTER_VERSION:
        raise ValueError(f"malformed shard: unsupported footer version {version} (expected {FOOTER_VERSION})")
    footer = ShardFooter(file_info, xorb_info, file_lookup, file_count, xorb_lookup, xorb_count, chunk_lookup,
                         chunk_count, hmac_key, created, expiry, on_disk, materialized, stored, footer_offset)
    if footer_offset != len(data) - FOOTER_SIZE:
        raise ValueError(f"malformed shard: footer_offset {footer_offset} but the footer starts at byte "
                         f"{len(data) - FOOTER_SIZE}")
    # The sections must follow each other in order, and each lookup table must fill its span exactly.
    if not HEADER_SIZE <= file_info <= xorb_info <= file_lookup <= xorb_lookup <= chunk_lookup <= footer_offset:
        raise ValueError("malformed shard: footer offsets out of order")
    for name, start, stop, count, size in (("file", file_lookup, xorb_lookup, file_count, 12),
                                           ("xorb", xorb_lookup, chunk_lookup, xorb_count, 12),
                                           ("chunk", chunk_lookup, footer_offset, chunk_count, 16)):
        if stop - start != count * size:
            raise ValueError(f"malformed shard: {name} lookup table spans {stop - start} bytes for {count} entries")
    return footer


def read_lookup_tables(data: bytes) -> tuple[list[tuple[int, int]], list[tuple[int, int]],
                                             list[tuple[int, int, int]]]:
    """The footer form's file, xorb and chunk lookup tables, as written (for tests and diagnostics)."""
    footer = read_footer(data)
    file_table = [struct.unpack_from("<QI", data, footer.file_lookup_offset + 12 * i)
                  for i in range(footer.file_lookup_count)]
    xorb_table = [struct.unpack_from("<QI", data, footer.xorb_lookup_offset + 12 * i)
                  for i in range(footer.xorb_lookup_count)]
    chunk_table = [struct.unpack_from("<QII", data, footer.chunk_lookup_offset + 16 * i)
                   for i in range(footer.chunk_lookup_count)]
    return file_table, xorb_table, chunk_table


# ---------------------------------------------------------------------------------------------------- writing


def _u32(value: int, what: str) -> int:
    if not 0 <= value <= _U32_MAX:
        raise ValueError(f"{what} {value} does not fit a u32")
    return value


def _file_records(shard_file: ShardFile) -> list[bytes]:
    if shard_file.verification and len(shard_file.verification) != len(shard_file.terms):
        raise ValueError(f"file {shard_file.file_hash}: {len(shard_file.verification)} verification hashes for "
                         f"{len(shard_file.terms)} terms")
    flags = (FILE_FLAG_VERIFICATION if shard_file.verification else 0) | (
        FILE_FLAG_METADATA_EXT if shard_file.sha256 is not None else 0)
    records = [_FILE_HEADER.pack(hash_from_hex(shard_file.file_hash), flags,
                                 _u32(len(shard_file.terms), "term count"), 0)]
    for term in shard_file.terms:
        records.append(_REC.pack(hash_from_hex(term.xorb_hash), _u32(term.cas_flags, "cas_flags"),
                                 _u32(term.unpacked_bytes, "unpacked_bytes"), _u32(term.chunk_start, "chunk_start"),
                                 _u32(term.chunk_end, "chunk_end")))
    records.extend(_REC_EXT.pack(hash_from_hex(h)) for h in shard_file.verification)
    if shard_file.sha256 is not None:
        records.append(_REC_EXT.pack(hash_from_hex(shard_file.sha256)))
    return records


def _xorb_records(xorb: ShardXorb) -> list[bytes]:
    records = [_REC.pack(hash_from_hex(xorb.xorb_hash), _u32(xorb.flags, "xorb flags"),
                         _u32(len(xorb.chunks), "chunk count"), _u32(xorb.num_bytes_in_cas, "num_bytes_in_cas"),
                         _u32(xorb.num_bytes_on_disk, "num_bytes_on_disk"))]
    records.extend(_REC.pack(hash_from_hex(c.chunk_hash), _u32(c.byte_start, "byte_start"),
                             _u32(c.unpacked_bytes, "unpacked_bytes"), _u32(c.flags, "chunk flags"), 0)
                   for c in xorb.chunks)
    return records


def shard_bytes(shard: Shard) -> bytes:
    """The upload form (footer_size 0, no lookup tables), files and xorbs in the given order: what a client POSTs
    to /v1/shards, so tests can build one without running a client."""
    parts = [_HEADER.pack(HEADER_TAG, HEADER_VERSION, 0)]
    for shard_file in shard.files:
        parts.extend(_file_records(shard_file))
    parts.append(_BOOKEND)
    for xorb in shard.xorbs:
        parts.extend(_xorb_records(xorb))
    parts.append(_BOOKEND)
    return b"".join(parts)


def _word0(hex_hash: str) -> int:
    """`truncate_hash` (metadata_shard/utils.rs): a hash's first u64 word, the lookup tables' key."""
    return int(hex_hash[:16], 16)


def dedup_shard_bytes(xorbs: Sequence[ShardXorb], files: Sequence[ShardFile] = (), *,
                      created: int | None = None, expiry: int = KEY_EXPIRY_NEVER) -> bytes:
    """A complete footer-form shard, laid out as `MDBShardInfo::serialize_from` writes one (shard_format.rs
    L305-374): hf_xet stores the 200 answer of GET /v1/chunks in its shard cache and reads it by its footer and
    lookup tables, so these must be exact. Files and xorbs are written sorted by hash (the client's BTreeMap order:
    `DataHash` compares its u64 words, i.e. the string form's order), which also sorts the file and xorb tables; the
    HMAC key is zero ("no key"), so chunk hashes are stored and matched unkeyed."""
    files_sorted = sorted({f.file_hash: f for f in files}.values(), key=lambda f: f.file_hash)
    xorbs_sorted = sorted({x.xorb_hash: x for x in xorbs}.values(), key=lambda x: x.xorb_hash)
    parts = [_HEADER.pack(HEADER_TAG, HEADER_VERSION, FOOTER_SIZE)]
    pos = HEADER_SIZE

    file_info_offset = pos
    file_table: list[tuple[int, int]] = []
    index = 0
    materialized = 0
    for shard_file in files_sorted:
        records = _file_records(shard_file)
        file_table.append((_word0(shard_file.file_hash), index))
        index += len(records)
        parts.extend(records)
        materialized += sum(t.unpacked_bytes for t in shard_file.terms)
    parts.append(_BOOKEND)
    pos += (index + 1) * ENTRY_SIZE

    xorb_info_offset = pos
    xorb_table: list[tuple[int, int]] = []
    chunk_table: list[tuple[int, int, int]] = []
    index = 0
    stored = stored_on_disk = 0
    for xorb in xorbs_sorted:
        xorb_table.append((_word0(xorb.xorb_hash), index))
        chunk_table.extend((_word0(c.chunk_hash), index, i) for i, c in enumerate(xorb.chunks))
        records = _xorb_records(xorb)
        parts.extend(records)
        index += len(records)
        stored += xorb.num_bytes_in_cas
        stored_on_disk += xorb.num_bytes_on_disk
    parts.append(_BOOKEND)
    pos += (index + 1) * ENTRY_SIZE
    # A stable sort on the key alone, like the client's `sort_unstable_by_key`: equal truncated hashes are
    # all found by its search, whatever their order.
    chunk_table.sort(key=lambda entry: entry[0])

    file_lookup_offset = pos
    parts.extend(struct.pack("<QI", key, idx) for key, idx in file_table)
    pos += 12 * len(file_table)
    xorb_lookup_offset = pos
    parts.extend(struct.pack("<QI", key, idx) for key, idx in xorb_table)
    pos += 12 * len(xorb_table)
    chunk_lookup_offset = pos
    parts.extend(struct.pack("<QII", key, idx, off) for key, idx, off in chunk_table)
    pos += 16 * len(chunk_table)

    parts.append(_FOOTER.pack(
        FOOTER_VERSION, file_info_offset, xorb_info_offset,
        file_lookup_offset, len(file_table), xorb_lookup_offset, len(xorb_table),
        chunk_lookup_offset, len(chunk_table),
        bytes(32),  # HMAC key zero: "no key", chunk hashes are matched as they are
        int(time.time()) if created is None else created,
        expiry,  # the client keeps using a cached shard while now <= expiry (shard_file_handle.rs L216)
        0, 0, 0, 0, 0, 0,
        stored_on_disk, materialized, stored,
        pos))
    return b"".join(parts)
