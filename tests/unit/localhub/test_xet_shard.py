"""Xet shard format: round trips, malformed input, and shards the real hf_xet client wrote.

The real shards come from hf_xet's in-process `local://` CAS (no network, no hub), run in a subprocess because
hf_xet reads its environment once per process.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import struct
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import blake3
import pytest

from hfconnect.localhub.xet_format import hash_from_hex, hash_hex
from hfconnect.localhub.xet_shard import (
    FOOTER_SIZE,
    KEY_EXPIRY_NEVER,
    Shard,
    ShardChunk,
    ShardFile,
    ShardTerm,
    ShardXorb,
    dedup_shard_bytes,
    parse_shard,
    read_footer,
    read_lookup_tables,
    shard_bytes,
)

# merklehash/data_hash.rs L272 and metadata_shard/chunk_verification.rs: the keys of chunk and range hashes.
DATA_KEY = bytes([102, 151, 245, 119, 91, 149, 80, 222, 49, 53, 203, 172, 165, 151, 24, 28, 157, 228, 33, 16, 155,
                  235, 43, 88, 180, 208, 176, 75, 147, 173, 242, 41])
VERIFICATION_KEY = bytes([127, 24, 87, 214, 206, 86, 237, 102, 18, 127, 249, 19, 231, 165, 195, 243, 164, 205, 38,
                          213, 181, 219, 73, 230, 65, 36, 152, 127, 40, 251, 148, 195])


def h(seed: int) -> str:
    """A deterministic hash string."""
    return hash_hex(hashlib.sha256(seed.to_bytes(8, "little")).digest())


def xorb(seed: int, n_chunks: int = 3, flags: int = 0) -> ShardXorb:
    chunks, start = [], 0
    for i in range(n_chunks):
        size = 1000 + 7 * i
        chunks.append(ShardChunk(h(seed * 100 + i), start, size, (1 << 31) if i == 0 else 0))
        start += size
    return ShardXorb(h(seed), flags, tuple(chunks), start, start // 2)


def sample_shard() -> Shard:
    x1, x2 = xorb(1), xorb(2, 5)
    files = (
        ShardFile(h(10), (ShardTerm(x1.xorb_hash, 0, 3021, 0, 3),), hashlib.sha256(b"a").hexdigest(), (h(11),)),
        ShardFile(h(20), (ShardTerm(x2.xorb_hash, 0, 2007, 1, 3), ShardTerm(x1.xorb_hash, 0, 1000, 0, 1)), None, ()),
        ShardFile(h(30), (), hashlib.sha256(b"").hexdigest(), ()),
    )
    return Shard(files, (x1, x2))


# ----------------------------------------------------------------------------------------------- round trips


def test_upload_form_round_trips() -> None:
    shard = sample_shard()
    data = shard_bytes(shard)
    assert struct.unpack_from("<Q", data, 40)[0] == 0  # footer_size 0: what a client POSTs
    assert parse_shard(data) == shard


def test_empty_shard_round_trips() -> None:
    assert parse_shard(shard_bytes(Shard((), ()))) == Shard((), ())
    data = dedup_shard_bytes([])
    assert parse_shard(data) == Shard((), ())
    assert len(data) == 48 + 2 * 48 + FOOTER_SIZE


def test_sha256_is_stored_word_reversed_and_read_back_as_hashlib_hex() -> None:
    digest = hashlib.sha256(b"payload").hexdigest()
    shard = Shard((ShardFile(h(1), (), digest, ()),), ())
    data = shard_bytes(shard)
    stored = data[48 + 48:48 + 48 + 32]
    assert stored == hash_from_hex(digest) and stored != bytes.fromhex(digest)
    assert parse_shard(data).files[0].sha256 == digest


def test_dedup_shard_round_trips_sorted_with_footer_and_tables() -> None:
    shard = sample_shard()
    data = dedup_shard_bytes(shard.xorbs[::-1], shard.files[::-1], created=1234)
    parsed = parse_shard(data)
    assert parsed.xorbs == tuple(sorted(shard.xorbs, key=lambda x: x.xorb_hash))
    assert parsed.files == tuple(sorted(shard.files, key=lambda f: f.file_hash))

    footer = read_footer(data)
    assert struct.unpack_from("<Q", data, 40)[0] == FOOTER_SIZE
    assert footer.hmac_key == bytes(32) and footer.key_expiry == KEY_EXPIRY_NEVER
    assert footer.creation_timestamp == 1234 and footer.footer_offset == len(data) - FOOTER_SIZE
    assert footer.stored_bytes == sum(x.num_bytes_in_cas for x in shard.xorbs)
    assert footer.stored_bytes_on_disk == sum(x.num_bytes_on_disk for x in shard.xorbs)
    assert footer.materialized_bytes == sum(t.unpacked_bytes for f in shard.files for t in f.terms)

    file_table, xorb_table, chunk_table = read_lookup_tables(data)
    for table in (file_table, xorb_table, chunk_table):
        assert [row[0] for row in table] == sorted(row[0] for row in table)
    # Each lookup row points at the 48-byte record that starts its file / xorb / chunk.
    for key, index in file_table:
        raw = data[footer.file_info_offset + 48 * index:][:32]
        assert int(hash_hex(raw)[:16], 16) == key
    for key, index in xorb_table:
        assert int(hash_hex(data[footer.xorb_info_offset + 48 * index:][:32])[:16], 16) == key
    assert len(chunk_table) == sum(len(x.chunks) for x in shard.xorbs)
    for key, index, offset in chunk_table:
        raw = data[footer.xorb_info_offset + 48 * (index + 1 + offset):][:32]
        assert int(hash_hex(raw)[:16], 16) == key


def test_dedup_shard_drops_duplicate_xorbs() -> None:
    x = xorb(7)
    assert parse_shard(dedup_shard_bytes([x, x])).xorbs == (x,)


def test_writer_refuses_values_outside_u32_and_mismatched_verification() -> None:
    with pytest.raises(ValueError, match="u32"):
        shard_bytes(Shard((), (replace(xorb(1), num_bytes_in_cas=1 << 32),)))
    with pytest.raises(ValueError, match="verification"):
        shard_bytes(Shard((ShardFile(h(1), (), None, (h(2),)),), ()))


# ----------------------------------------------------------------------------------------------- malformed


def _corrupt(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new):]


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d[:40], "truncated header"),
    (lambda d: b"X" + d[1:], "bad header tag"),
    (lambda d: _corrupt(d, 32, struct.pack("<Q", 3)), "header version 3"),
    (lambda d: _corrupt(d, 40, struct.pack("<Q", 7)), "footer_size 7"),
    (lambda d: d[:48 + 48 + 20], "file .* claims 1 entries"),
    (lambda d: d[:48 + 4 * 48 + 20], "truncated file-info header #1"),
    (lambda d: d[:48], "missing file-info bookend"),
    (lambda d: d[:-48], "missing CAS-info bookend"),
    (lambda d: d[:-60], "xorb .* claims 5 entries"),
    (lambda d: d + b"\0" * 48, "48 unexpected bytes"),
    (lambda d: _corrupt(d, 48 + 36, struct.pack("<I", 10**9)), "claims 1000000000 entries"),
    (lambda d: _corrupt(d, 48 + 48 + 40, struct.pack("<II", 5, 2)), r"chunk range \[5, 2\)"),
])
def test_malformed_upload_shards_are_refused(mutate: Callable[[bytes], bytes], message: str) -> None:
    data = shard_bytes(sample_shard())
    parse_shard(data)  # the unmutated shard is fine
    with pytest.raises(ValueError, match=message):
        parse_shard(mutate(data))


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: _corrupt(d, len(d) - FOOTER_SIZE, struct.pack("<Q", 2)), "footer version 2"),
    (lambda d: _corrupt(d, len(d) - 8, struct.pack("<Q", 5)), "footer_offset 5"),
    (lambda d: _corrupt(d, len(d) - FOOTER_SIZE + 32, struct.pack("<Q", 99)), "lookup table spans"),
    (lambda d: _corrupt(d, len(d) - FOOTER_SIZE + 16, struct.pack("<Q", 96)), "xorb_info_offset"),
    (lambda d: _corrupt(d, len(d) - FOOTER_SIZE + 8, struct.pack("<Q", 0)), "out of order"),
    (lambda d: d[:300], "too short|footer"),
])
def test_malformed_footers_are_refused(mutate: Callable[[bytes], bytes], message: str) -> None:
    data = dedup_shard_bytes(sample_shard().xorbs, sample_shard().files)
    parse_shard(data)
    with pytest.raises(ValueError, match=message):
        parse_shard(mutate(data))


# ----------------------------------------------------------------------------------------------- the real client

_CLIENT = textwrap.dedent("""
    import json, sys, hf_xet
    cas, paths = sys.argv[1], sys.argv[2:]
    session = hf_xet.XetSession()
    with session.new_upload_commit(endpoint="local://" + cas) as commit:
        handles = [commit.start_upload_file(p) for p in paths]
    print(json.dumps([handle.result().xet_info.hash for handle in handles]))
""")


@pytest.fixture(scope="module")
def real_shards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Two files uploaded by hf_xet into a `local://` CAS: the shards it kept in its cache and its CAS."""
    pytest.importorskip("hf_xet")
    root = tmp_path_factory.mktemp("xet-real")
    rng = random.Random(5)
    payloads = [rng.randbytes(300_000), rng.randbytes(200_000)]
    paths = []
    for i, payload in enumerate(payloads):
        paths.append(root / f"f{i}.bin")
        paths[-1].write_bytes(payload)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_XET")}
    env.update(HF_XET_CACHE=str(root / "cache"), HF_XET_TELEMETRY_ENABLED="false")
    out = subprocess.run([sys.executable, "-c", _CLIENT, str(root / "cas"), *map(str, paths)], env=env,
                         capture_output=True, text=True, timeout=120, check=True)
    file_hashes = json.loads(out.stdout.strip().splitlines()[-1])
    shards = sorted(Path(root / "cas").rglob("*.mdb"))
    return {"payloads": payloads, "file_hashes": file_hashes,
            "cache": [p.read_bytes() for p in shards if "shard-cache" in p.parts],
            "stored": [p.read_bytes() for p in shards if "shard-cache" not in p.parts]}


def test_parser_reads_the_real_clients_shards(real_shards: dict) -> None:
    payloads, file_hashes = real_shards["payloads"], real_shards["file_hashes"]
    assert real_shards["cache"] and real_shards["stored"]
    for data in real_shards["cache"] + real_shards["stored"]:
        shard = parse_shard(data)
        by_hash = {f.file_hash: f for f in shard.files}
        assert set(by_hash) == set(file_hashes)
        xorbs = {x.xorb_hash: x for x in shard.xorbs}
        for payload, file_hash in zip(payloads, file_hashes, strict=True):
            shard_file = by_hash[file_hash]
            assert shard_file.sha256 == hashlib.sha256(payload).hexdigest()
            assert sum(t.unpacked_bytes for t in shard_file.terms) == len(payload)
            assert len(shard_file.verification) == len(shard_file.terms)
            # Every term's chunks are the payload's bytes: chunk hashes and range hashes recomputed from them.
            pos = 0
            for term, range_hash in zip(shard_file.terms, shard_file.verification, strict=True):
                chunks = xorbs[term.xorb_hash].chunks[term.chunk_start:term.chunk_end]
                assert sum(c.unpacked_bytes for c in chunks) == term.unpacked_bytes
                for chunk in chunks:
                    piece = payload[pos:pos + chunk.unpacked_bytes]
                    assert hash_hex(blake3.blake3(piece, key=DATA_KEY).digest()) == chunk.chunk_hash
                    pos += chunk.unpacked_bytes
                concat = b"".join(hash_from_hex(c.chunk_hash) for c in chunks)
                assert hash_hex(blake3.blake3(concat, key=VERIFICATION_KEY).digest()) == range_hash
            assert pos == len(payload)
        for x in shard.xorbs:
            assert x.num_bytes_in_cas == sum(c.unpacked_bytes for c in x.chunks)
            assert [c.byte_start for c in x.chunks] == [sum(c.unpacked_bytes for c in x.chunks[:i])
                                                        for i in range(len(x.chunks))]


def test_serializer_rebuilds_the_clients_cache_shard_byte_for_byte(real_shards: dict) -> None:
    """The cache shards carry footer and lookup tables: what a GET /v1/chunks answer must look like."""
    for data in real_shards["cache"]:
        footer = read_footer(data)
        assert footer.chunk_lookup_count > 0 and footer.hmac_key == bytes(32)
        shard = parse_shard(data)
        rebuilt = dedup_shard_bytes(shard.xorbs, shard.files, created=footer.creation_timestamp,
                                    expiry=footer.key_expiry)
        assert read_lookup_tables(rebuilt) == read_lookup_tables(data)
        assert rebuilt == data


def test_parser_reads_the_upload_form_the_client_posts(real_shards: dict) -> None:
    """What hf_xet POSTs to /v1/shards: its shard cut at file_lookup_offset, footer_size set to 0
    (xet_data shard_interface/native.rs read_shard_to_bytes_remove_footer)."""
    for data in real_shards["cache"]:
        upload = _corrupt(data[:read_footer(data).file_lookup_offset], 40, struct.pack("<Q", 0))
        assert parse_shard(upload) == parse_shard(data)
        assert shard_bytes(parse_shard(upload)) == upload
