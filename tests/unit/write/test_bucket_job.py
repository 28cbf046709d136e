"""BucketWriteJob's decisions from a listing (no hub): the files a reader sees, fresh names, what an append keeps."""

from __future__ import annotations

import pytest

from hfconnect.errors import HfConnectError
from hfconnect.hub.bucket_manifest import Manifest, ManifestFile, manifest_path
from hfconnect.options import WriteOptions
from hfconnect.write.bucket_job import BucketState, BucketWriteJob
from hfconnect.write.bucket_target import BucketTarget

H1, H2, H3 = "a" * 64, "b" * 64, "c" * 64


def _job(mode: str = "append", prefix: str = "p") -> BucketWriteJob:
    options = WriteOptions.build(repo="ns/b", endpoint="http://127.0.0.1:9", token="hf_unit", mode=mode)
    return BucketWriteJob(options, BucketTarget("ns/b", prefix), job_id="0123456789abcdef")


def test_without_a_manifest_the_parquet_files_are_the_data() -> None:
    state = BucketState("p", {"p/a.parquet": (1, H1), "p/readme.md": (2, H2)})
    assert state.data_files() == ["p/a.parquet"]
    job = _job()
    assert [f.path for f in job._kept(state, set())] == ["a.parquet"]  # an append adopts them
    assert job._kept(state, set())[0].rows is None


def test_an_append_keeps_what_the_manifest_lists_and_is_still_there() -> None:
    manifest = Manifest("ns/b", "p", "old", "append", (ManifestFile("a.parquet", 1, H1, 3),
                                                       ManifestFile("gone.parquet", 1, H2, 4),
                                                       ManifestFile("c.parquet", 1, H3, 5)))
    state = BucketState("p", {"p/a.parquet": (1, H1), "p/c.parquet": (9, H2), "p/orphan.parquet": (1, H3),
                              manifest_path("p"): (5, H1)}, manifest)
    assert state.data_files() == ["p/a.parquet", "p/gone.parquet", "p/c.parquet"]
    kept = _job()._kept(state, set())
    assert [(f.path, f.size, f.xet_hash, f.rows) for f in kept] == [("a.parquet", 1, H1, 3),
                                                                     ("c.parquet", 9, H2, None)]


def test_names_are_fresh_per_job() -> None:
    job = _job()
    names = job._names(2, BucketState("p", {}))
    assert names == ["p/part-00000-of-00002-01234567.parquet", "p/part-00001-of-00002-01234567.parquet"]
    taken = BucketState("p", {names[0]: (1, H1)})
    assert job._names(2, taken)[0] == "p/part-00000-of-00002-0123456789abcdef.parquet"
    with pytest.raises(HfConnectError, match="already holds files named after job"):
        job._names(1, BucketState("p", {"p/part-00000-of-00001-01234567.parquet": (1, H1),
                                        "p/part-00000-of-00001-0123456789abcdef.parquet": (1, H1)}))
    assert _job(prefix="")._names(1, BucketState("", {})) == ["part-00000-of-00001-01234567.parquet"]


def test_mode_recheck() -> None:
    full = BucketState("p", {"p/a.parquet": (1, H1)})
    with pytest.raises(HfConnectError, match="got data from another writer"):
        _job("error")._recheck_mode(full)
    job = _job("ignore")
    assert job._recheck_mode(full) and job.skip
    assert not _job("error")._recheck_mode(BucketState("p", {"p/notes.txt": (1, H1)}))


def test_an_append_needs_the_manifests_columns() -> None:
    import pyarrow as pa

    from hfconnect.errors import SchemaMismatchError

    manifest = Manifest("ns/b", "p", "old", "append", (ManifestFile("a.parquet", 1, H1, 3),), "id:int64")
    state = BucketState("p", {"p/a.parquet": (1, H1)}, manifest)
    _job()._check_schema(state, pa.schema([("id", pa.int64())]))
    _job("overwrite")._check_schema(state, pa.schema([("id", pa.int32())]))
    with pytest.raises(SchemaMismatchError, match=r"columns \[id:int64\] but the new rows have \[id:int32\]"):
        _job()._check_schema(state, pa.schema([("id", pa.int32())]))


def test_an_overwrite_of_the_bucket_root_is_refused_before_any_request() -> None:
    """It would delete every file of the bucket (other prefixes' data and manifests): refused in begin(), before
    Xet, the token or the bucket are looked at (the endpoint is unreachable: no request was made)."""
    from hfconnect.errors import OptionError

    with pytest.raises(OptionError, match=r"buckets/ns/b: an overwrite of a bucket's root .* write to a prefix"):
        _job("overwrite", prefix="").begin()


def test_a_delete_that_is_gone_counts_as_done(tmp_path) -> None:  # noqa: ANN001 - pytest's tmp_path
    """A retried delete of a path already deleted: the local hub's own answer (its bucket store, not a copy of
    its wording) counts as gone; so does a 404 status field, whatever the text; another failure does not."""
    from hfconnect.localhub.buckets import BucketOp, BucketStore
    from hfconnect.localhub.storage import Storage
    from hfconnect.write.bucket_job import is_gone

    store = BucketStore(Storage(tmp_path / "hub"))
    store.create("ns/b", private=False, author="u")
    failures = store.apply("ns/b", [BucketOp("deleteFile", "p/x.parquet")], admit=lambda op: ("", 0))
    assert len(failures) == 1 and is_gone(failures[0]), failures
    assert is_gone({"path": "p/x", "error": "Not there", "status": 404})
    assert is_gone({"path": "p/x", "error": "?", "statusCode": "404"})
    assert not is_gone({"path": "p/x", "error": "quota exceeded", "status": 403})
    assert not is_gone({"path": "p/x", "error": "internal error"})
