"""The hub's Xet store without any server: xorbs verified and kept by hash, shards checked against them (a
xorb the CAS lacks, wrong hashes, terms outside their xorb are refused, naming what is wrong), files found in the
object store by sha256 (read from their xorbs, never copied), and everything found again by a store reopened on the
same root (a restarted hub)."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import lz4.frame
import pytest

from hfconnect.localhub import xet_format as xf
from hfconnect.localhub.errors import HubError
from hfconnect.localhub.storage import Storage
from hfconnect.localhub.xet_shard import Shard, ShardChunk, ShardFile, ShardTerm, ShardXorb, shard_bytes
from hfconnect.localhub.xet_store import XetStore

RNG = random.Random(7)


def make_xorb(chunks: list[bytes]) -> tuple[str, bytes, ShardXorb]:
    """A footer-less xorb as a client uploads it (alternating LZ4 and uncompressed chunks) and its CAS info."""
    body, items, infos, start = b"", [], [], 0
    for i, chunk in enumerate(chunks):
        payload, scheme = (lz4.frame.compress(chunk), 1) if i % 2 else (chunk, 0)
        body += bytes([0]) + len(payload).to_bytes(3, "little") + bytes([scheme]) + len(chunk).to_bytes(3, "little")
        body += payload
        h = xf.chunk_hash(chunk)
        items.append((h, len(chunk)))
        infos.append(ShardChunk(xf.hash_hex(h), start, len(chunk), 1 << 31))
        start += len(chunk)
    name = xf.hash_hex(xf.xorb_hash(items))
    return name, body, ShardXorb(name, 0, tuple(infos), start, len(body))


def shard_file(parts: list[tuple[ShardXorb, int, int]], sha256: str | None = "auto") -> ShardFile:
    """A file made of chunk ranges [start, end) of xorbs, with its true file hash (and sha256 unless told)."""
    items, terms = [], []
    for info, start, end in parts:
        chunks = info.chunks[start:end]
        items += [(xf.hash_from_hex(c.chunk_hash), c.unpacked_bytes) for c in chunks]
        terms.append(ShardTerm(info.xorb_hash, 0, sum(c.unpacked_bytes for c in chunks), start, end))
    return ShardFile(xf.hash_hex(xf.file_hash(items)), tuple(terms), sha256)


def with_sha(f: ShardFile, data: bytes) -> ShardFile:
    return ShardFile(f.file_hash, f.terms, hashlib.sha256(data).hexdigest())


A_CHUNKS = [RNG.randbytes(n) for n in (1000, 2500, 700, 4096, 3)]
B_CHUNKS = [bytes(3000), RNG.randbytes(1234), b"x" * 999]
A_NAME, A_BODY, A_INFO = make_xorb(A_CHUNKS)
B_NAME, B_BODY, B_INFO = make_xorb(B_CHUNKS)
# A file of A's chunks 1..4 then all of B: two terms, as a file deduplicated against an earlier one is.
FILE_DATA = b"".join(A_CHUNKS[1:4]) + b"".join(B_CHUNKS)
FILE = with_sha(shard_file([(A_INFO, 1, 4), (B_INFO, 0, 3)]), FILE_DATA)


@pytest.fixture
def store(tmp_path: Path) -> XetStore:
    s = XetStore(Storage(tmp_path))
    assert s.put_xorb(A_NAME, A_BODY) and s.put_xorb(B_NAME, B_BODY)
    return s


def test_xorbs_are_verified_and_kept_once(tmp_path: Path) -> None:
    s = XetStore(Storage(tmp_path))
    with pytest.raises(xf.XetFormatError, match=f"not {B_NAME}"):
        s.put_xorb(B_NAME, A_BODY)
    assert not s.has_xorb(B_NAME)
    assert s.put_xorb(A_NAME, A_BODY) is True
    assert s.put_xorb(A_NAME, A_BODY) is False
    assert s.xorb_path(A_NAME).read_bytes() == A_BODY
    index = s.xorb_index(A_NAME)
    assert index.sizes == tuple(len(c) for c in A_CHUNKS) and index.offsets[-1] == len(A_BODY)
    assert s.read_chunks(A_NAME, 1, 3) == A_CHUNKS[1:3]
    assert not list((tmp_path / "tmp").iterdir())  # nothing half-written left behind


def test_a_shard_publishes_its_files_and_dedup_info(store: XetStore) -> None:
    data = shard_bytes(Shard((FILE,), (A_INFO, B_INFO)))
    assert store.put_shard(data)[0] is True
    assert store.put_shard(data)[0] is False  # the same shard again: accepted, nothing new
    sha = FILE.sha256
    body = store.storage.open_object(sha) if sha else None
    assert body is not None and body.path is None and b"".join(body.iter_range(0, body.size)) == FILE_DATA
    assert not store.storage.object_path(sha).exists()  # stored once: in the xorbs
    assert store.file_hash_for_sha256(sha) == FILE.file_hash
    found = store.file(FILE.file_hash)
    assert found is not None and (found.size, found.sha256) == (len(FILE_DATA), sha)
    assert store.xorb_for_chunk(B_INFO.chunks[2].chunk_hash) == B_NAME
    assert store.casinfo(A_NAME) == A_INFO
    # global dedup: a chunk of either xorb answers the CAS info of both (the shard that described them)
    assert store.dedup_xorbs(B_INFO.chunks[2].chunk_hash) == store.dedup_xorbs(A_INFO.chunks[0].chunk_hash)
    assert set(store.dedup_xorbs(A_INFO.chunks[0].chunk_hash)) == {A_INFO, B_INFO}
    assert store.dedup_xorbs("ab" * 32) == []


def test_a_restarted_store_finds_everything(store: XetStore) -> None:
    store.put_shard(shard_bytes(Shard((FILE,), (A_INFO, B_INFO))))
    again = XetStore(Storage(store.storage.root))
    assert again.has_xorb(A_NAME) and again.file_hash_for_sha256(FILE.sha256 or "") == FILE.file_hash
    assert again.xorb_for_chunk(A_INFO.chunks[0].chunk_hash) == A_NAME
    assert again.casinfo(B_NAME) == B_INFO and again.file(FILE.file_hash) == store.file(FILE.file_hash)
    assert set(again.dedup_xorbs(B_INFO.chunks[0].chunk_hash)) == {A_INFO, B_INFO}


def _refused(store: XetStore, shard: Shard, message: str) -> None:
    with pytest.raises(HubError, match=message) as exc:
        store.put_shard(shard_bytes(shard))
    assert exc.value.status == 400
    assert store.file_hash_for_sha256(FILE.sha256 or "") is None and store.file(FILE.file_hash) is None
    assert not list((store.storage.root / "xet" / "shards").iterdir())


def test_a_shard_naming_an_unknown_xorb_is_refused(tmp_path: Path) -> None:
    s = XetStore(Storage(tmp_path))
    s.put_xorb(A_NAME, A_BODY)
    _refused(s, Shard((FILE,), ()), f"xorb {B_NAME} is not in the CAS")
    _refused(s, Shard((), (B_INFO,)), f"xorb {B_NAME} is not in the CAS")


def test_shards_with_wrong_claims_are_refused(store: XetStore) -> None:
    bad_sha = ShardFile(FILE.file_hash, FILE.terms, "0" * 64)
    _refused(store, Shard((bad_sha,), ()),
             f"file {FILE.file_hash}: its chunks hash to sha256 {FILE.sha256}, not {'0' * 64}")
    _refused(store, Shard((ShardFile(FILE.file_hash, FILE.terms, None),), ()), "carries no sha256")
    wrong_name = "ab" * 32
    _refused(store, Shard((ShardFile(wrong_name, FILE.terms, FILE.sha256),), ()),
             f"the chunks of file {wrong_name} hash to {FILE.file_hash}")
    outside = ShardTerm(A_NAME, 0, 1, 3, 9)
    _refused(store, Shard((ShardFile(FILE.file_hash, (outside,), FILE.sha256),), ()),
             rf"term #0 of file {FILE.file_hash} names chunks \[3, 9\) of xorb {A_NAME}, which has 5")
    short = ShardTerm(A_NAME, 0, 5, 0, 2)
    _refused(store, Shard((ShardFile(FILE.file_hash, (short,), FILE.sha256),), ()),
             "says 5 bytes, its chunks hold 3500")
    lying = ShardXorb(A_NAME, 0, B_INFO.chunks, 1, 1)
    _refused(store, Shard((), (lying,)), f"CAS info for xorb {A_NAME} does not match")
    with pytest.raises(HubError, match="Invalid shard: malformed shard"):
        store.put_shard(b"not a shard")


def test_a_sha256_claim_is_checked_even_when_those_bytes_are_stored(store: XetStore) -> None:
    """Bytes stored before (an LFS upload) under a sha256 do not make a shard's claim of that sha256 true: a file
    whose chunks are other bytes must not be tied to them (hf_xet and /resolve/ readers would get different
    bytes for one file)."""
    other = bytes(len(FILE_DATA))
    sha = store.storage.put_bytes(other)
    _refused(store, Shard((ShardFile(FILE.file_hash, FILE.terms, sha),), ()), f"chunks hash to sha256 {FILE.sha256}")
    store.storage.put_bytes(FILE_DATA)  # the true bytes, stored by LFS first: the claim checks out, once
    assert store.put_shard(shard_bytes(Shard((FILE,), ())))[0]
    assert store.file_hash_for_sha256(FILE.sha256 or "") == FILE.file_hash


def test_a_store_that_trusts_sha256_claims_records_them_unread(tmp_path: Path) -> None:
    """HubMode.check_sha256=False (the benchmarks' throughput hub): the claim is taken as it is, the file hash and
    the terms are still checked against the stored chunks."""
    s = XetStore(Storage(tmp_path), check_sha256=False)
    assert s.put_xorb(A_NAME, A_BODY) and s.put_xorb(B_NAME, B_BODY)
    claim = "0" * 64
    _refused(s, Shard((ShardFile("ab" * 32, FILE.terms, claim),), ()), f"hash to {FILE.file_hash}")
    assert s.put_shard(shard_bytes(Shard((ShardFile(FILE.file_hash, FILE.terms, claim),), ())), defer=True)[0]
    assert s.check_of(claim) is None and s.file_hash_for_sha256(claim) == FILE.file_hash


def test_a_bucket_shard_without_sha256_gets_it_from_its_chunks(store: XetStore) -> None:
    """huggingface_hub uploads bucket files with SKIP_SHA256: with fill_sha256 the store computes it (and finds
    the file by it); without, such a shard stays refused (a repo commit names the sha256)."""
    bare = Shard((ShardFile(FILE.file_hash, FILE.terms, None),), (A_INFO, B_INFO))
    _refused(store, bare, "carries no sha256")
    assert store.put_shard(shard_bytes(bare), fill_sha256=True)[0]
    found = store.file(FILE.file_hash)
    assert found is not None and found.sha256 == hashlib.sha256(FILE_DATA).hexdigest() == FILE.sha256
    assert store.file_hash_for_sha256(FILE.sha256 or "") == FILE.file_hash
    unknown = ShardFile(FILE.file_hash, (ShardTerm("c" * 64, 0, 10, 0, 1),), None)
    with pytest.raises(HubError, match="not in the CAS"):
        store.put_shard(shard_bytes(Shard((unknown,), ())), fill_sha256=True)


def test_a_deferred_sha256_check_records_the_file_once_it_holds(store: XetStore) -> None:
    """With `defer` (repo shards), the answer does not wait for the sha256 check: the file is found by its sha256
    once the check held, and the shard is marked accepted then."""
    data = shard_bytes(Shard((FILE,), (A_INFO, B_INFO)))
    assert store.put_shard(data, defer=True)[0] is True
    assert store.xorb_for_chunk(A_INFO.chunks[0].chunk_hash) == A_NAME  # dedup answers at once
    check = store.check_of(FILE.sha256 or "")
    if check is not None:
        assert check.result(timeout=30) == FILE.sha256
    assert store.check_of(FILE.sha256 or "") is None
    assert store.file_hash_for_sha256(FILE.sha256 or "") == FILE.file_hash
    for _ in range(100):  # the shard's mark is written by the check's callback, just after it
        if list((store.storage.root / "xet" / "shards").iterdir()):
            break
        __import__("time").sleep(0.05)
    assert store.put_shard(data, defer=True)[0] is False


def test_a_deferred_check_of_a_false_claim_fails_and_records_nothing(store: XetStore) -> None:
    """A claim the bytes do not hash to: the shard's structure is accepted, its check fails naming both hashes,
    the file is never found by that sha256, and a second upload of the shard checks it again."""
    lie = ShardFile(FILE.file_hash, FILE.terms, "0" * 64)
    assert store.put_shard(shard_bytes(Shard((lie,), ())), defer=True)[0] is True
    check = store.check_of("0" * 64)
    assert check is not None
    with pytest.raises(HubError, match=f"its chunks hash to sha256 {FILE.sha256}, not {'0' * 64}") as exc:
        check.result(timeout=30)
    assert exc.value.status == 400
    assert store.file_hash_for_sha256("0" * 64) is None and store.file(FILE.file_hash) is None
    assert not list((store.storage.root / "xet" / "shards").iterdir())
    assert store.put_shard(shard_bytes(Shard((lie,), ())), defer=True)[0] is True
    again = store.check_of("0" * 64)
    assert again is not None and again is not check
    with pytest.raises(HubError):
        again.result(timeout=30)


def test_a_true_file_after_a_false_claim_of_its_sha256_is_not_blocked(store: XetStore) -> None:
    """A false claim's failed check must not refuse, forever, the commits of the true file with that sha256 (here
    recorded by a shard checked at once, as a bucket's is)."""
    b_sha = hashlib.sha256(b"".join(B_CHUNKS)).hexdigest()
    lie = ShardFile(FILE.file_hash, FILE.terms, b_sha)  # FILE's chunks claiming B's bytes' sha256
    assert store.put_shard(shard_bytes(Shard((lie,), ())), defer=True)[0]
    failed = store.check_of(b_sha)
    assert failed is not None and failed.exception(timeout=30) is not None
    truth = with_sha(shard_file([(B_INFO, 0, 3)]), b"".join(B_CHUNKS))
    assert store.put_shard(shard_bytes(Shard((truth,), ())))[0]
    assert store.check_of(b_sha) is None  # a commit naming b_sha no longer meets the false claim's failure
    assert store.file_hash_for_sha256(b_sha) == truth.file_hash
