"""upload_to_bucket against the local hub's own app in-process (its Xet CAS): bytes and files land in the bucket's
Xet storage under their Xet hash, named by no path of the bucket; the same bytes twice are one stored file; a
process that does not upload through Xet is refused with the fix named, before any request."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hfconnect.errors import HubRequestError
from hfconnect.hub import xet
from hfconnect.hub.bucket_upload import BucketUpload, upload_to_bucket
from hfconnect.hub.client import HubClient
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub

DATA = bytes(range(256)) * 300


def test_bytes_and_files_land_in_the_buckets_xet_storage_at_no_path(inproc_hub: InProcessHub,
                                                                     tmp_path: Path) -> None:
    api = inproc_hub.api()
    bucket_id = api.create_bucket("me/up").bucket_id
    client = HubClient(inproc_hub.endpoint, WRITE_TOKEN)
    sent = upload_to_bucket(client, bucket_id, DATA, sha256=hashlib.sha256(DATA).hexdigest(), job_id="j1",
                            what="upload of test bytes")
    assert isinstance(sent, BucketUpload) and sent.size == len(DATA)
    stored = inproc_hub.state.xet_store.file(sent.xet_hash)
    assert stored is not None and stored.sha256 == hashlib.sha256(DATA).hexdigest()
    path = tmp_path / "f.bin"
    path.write_bytes(DATA)
    again = upload_to_bucket(client, bucket_id, str(path), sha256=None, job_id="j1", what="upload of a test file")
    assert again == sent  # the same bytes: the same Xet file
    assert list(api.list_bucket_tree(bucket_id, recursive=True)) == []  # nothing published


def test_a_process_without_xet_is_refused_naming_the_fix(inproc_hub: InProcessHub,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xet, "in_use", lambda: False)  # as with HF_HUB_DISABLE_XET=1 or no hf_xet
    before = inproc_hub.counters().get("xet", {})
    with pytest.raises(HubRequestError, match=r"^upload of x: Storage Buckets store files through Xet only.*"
                                              r"HF_HUB_DISABLE_XET"):
        upload_to_bucket(HubClient(inproc_hub.endpoint, WRITE_TOKEN), "me/none", b"x", sha256=None, job_id="j",
                         what="upload of x")
    assert inproc_hub.counters().get("xet", {}) == before
