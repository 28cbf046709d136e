"""hub.buckets: the bucket path spellings (and the near misses, refused with how to spell them), the pin a bucket
file's resolve URL carries and the check of a resolve answer against it, and the listing of a prefix against the
local hub's own app run in-process (files uploaded with batch_bucket_files through hf_xet)."""

from __future__ import annotations

import pytest

from hfconnect.errors import DataFileError, OptionError, RepoNotFoundError
from hfconnect.hub.buckets import (
    BucketPath,
    bucket_path,
    changed_error,
    check_answer,
    list_bucket_files,
    pin_of,
    pinned_url,
    resolve_url,
)
from hfconnect.hub.client import HubClient
from hfconnect.hub.retry import RetryPolicy
from hfconnect.hub.snapshot import Snapshot
from tests.unit.inprocess_hub import READ_TOKEN, WRITE_TOKEN, InProcessHub

H1, H2 = "a" * 64, "b" * 64
URL = pinned_url(resolve_url("http://hub.invalid", "ns/b", "runs/x y.parquet"), H1, 1234)
FAST = RetryPolicy(attempts=3, base=0.01, cap=0.05, budget=1.0)


@pytest.mark.parametrize(("text", "want"), [
    ("buckets/ns/b", BucketPath("ns/b")),
    ("buckets/ns/b/", BucketPath("ns/b")),
    ("hf://buckets/ns/b/runs/2024/", BucketPath("ns/b", "runs/2024")),
    ("buckets/ns/b//runs//a.parquet", BucketPath("ns/b", "runs/a.parquet")),
    ("org/dataset", None),
    ("bucket/name", None),  # a dataset of a user called "bucket"
])
def test_bucket_path_spellings(text: str, want: BucketPath | None) -> None:
    assert bucket_path(text) == want


@pytest.mark.parametrize(("text", "says"), [
    ("bucket/ns/b/x", "plural"), ("buckets/ns", "namespace and name"), ("hf://buckets/ns", "namespace and name"),
    ("hf://ns/b", "Storage Buckets only"), ("hf://datasets/org/name", "load('org/name')"),
    ("buckets/ns/b/../c", "'..'"), ("buckets/n s/b", "namespace and name"),
])
def test_near_misses_say_how_to_spell_a_bucket_path(text: str, says: str) -> None:
    with pytest.raises(OptionError, match="buckets/<namespace>/<name>|'..'") as err:
        bucket_path(text)
    assert says in str(err.value)


def test_str_of_a_bucket_path_is_its_spelling() -> None:
    assert str(BucketPath("ns/b", "p/q")) == "buckets/ns/b/p/q" and str(BucketPath("ns/b")) == "buckets/ns/b"


def test_pin_rides_in_the_fragment() -> None:
    assert f"http://hub.invalid/buckets/ns/b/resolve/runs/x%20y.parquet#xet={H1}&size=1234" == URL
    assert pin_of(URL) == (H1, 1234) and pin_of(URL.split("#")[0]) is None and pin_of("http://h/x#junk") is None


def test_client_file_url_of_a_bucket_is_pinned_by_the_snapshot() -> None:
    client = HubClient("http://hub.invalid/")
    snapshot = Snapshot("ns/b", "", "runs", client.endpoint, "bucket", pins={"runs/a": (H1, 5)})
    assert client.file_url(snapshot, "runs/a") == f"http://hub.invalid/buckets/ns/b/resolve/runs/a#xet={H1}&size=5"
    assert client.file_url(snapshot, "runs/b") == "http://hub.invalid/buckets/ns/b/resolve/runs/b"


@pytest.mark.parametrize("headers", [
    {"X-Xet-Hash": H1, "X-Linked-Size": "1234"}, {"ETag": f'"{H1}"'}, {"Content-Range": "bytes 0-9/1234"}, {},
    {"ETag": '"not-a-xet-hash"', "X-Linked-Size": "1234"},
])
def test_an_answer_naming_the_planned_file_passes(headers: dict[str, str]) -> None:
    check_answer(URL, headers)
    check_answer(URL.split("#")[0], {"X-Xet-Hash": H2})  # an unpinned URL (a repo file) is not checked


@pytest.mark.parametrize(("headers", "says"), [
    ({"X-Xet-Hash": H2, "X-Linked-Size": "1234"}, "Xet hash bbbbbbbbbbbb..., planned aaaaaaaaaaaa..."),
    ({"ETag": f'W/"{H2}"'}, "Xet hash bbbb"),
    ({"X-Xet-Hash": H1, "X-Linked-Size": "99"}, "99 bytes, planned 1,234"),
    ({"Content-Range": "bytes 0-9/77"}, "77 bytes"),
])
def test_an_answer_naming_another_file_is_refused_naming_the_file(headers: dict[str, str], says: str) -> None:
    with pytest.raises(DataFileError) as err:
        check_answer(URL, headers)
    text = str(err.value)
    assert text.startswith("buckets/ns/b/runs/x y.parquet: changed since the read was planned") and says in text
    assert "re-run the read" in text and err.value.changed and err.value.path == "buckets/ns/b/runs/x y.parquet"


def test_changed_error_pickles() -> None:
    import pickle

    err = pickle.loads(pickle.dumps(changed_error(URL, "no longer there")))
    assert isinstance(err, DataFileError) and "no longer there" in str(err)


def test_listing_a_prefix_keeps_its_folder_or_its_file(inproc_hub: InProcessHub) -> None:
    api = inproc_hub.api()
    bucket_id = api.create_bucket("me/unit").bucket_id
    api.batch_bucket_files(bucket_id, add=[(b"1", "d/a.jsonl"), (b"22", "d/sub/b.jsonl"), (b"333", "d2/c.jsonl"),
                                           (b"4", "top.csv")])
    client = HubClient(inproc_hub.endpoint, WRITE_TOKEN, FAST)
    files = list_bucket_files(client, BucketPath(bucket_id, "d"))
    assert [(f.path, f.size) for f in files] == [("d/a.jsonl", 1), ("d/sub/b.jsonl", 2)]  # not d2/: a folder
    assert all(len(f.oid) == 64 for f in files)  # the Xet hash
    assert [f.path for f in list_bucket_files(client, BucketPath(bucket_id, "d/a.jsonl"))] == ["d/a.jsonl"]
    assert len(list_bucket_files(client, BucketPath(bucket_id))) == 4
    assert list_bucket_files(client, BucketPath(bucket_id, "nothing")) == ()


def test_a_missing_or_hidden_bucket_is_named_with_what_to_check(inproc_hub: InProcessHub) -> None:
    api = inproc_hub.api()
    private = api.create_bucket("me/hidden", private=True).bucket_id
    namespace = private.split("/")[0]
    anonymous = HubClient(inproc_hub.endpoint, None, FAST)
    with pytest.raises(RepoNotFoundError, match=f"bucket {private} not found on .*a private bucket needs a token"):
        list_bucket_files(anonymous, BucketPath(private))
    reader = HubClient(inproc_hub.endpoint, READ_TOKEN, FAST)
    assert list_bucket_files(reader, BucketPath(private)) == ()
    with pytest.raises(RepoNotFoundError, match=rf"bucket {namespace}/nope not found .*check its name and that this "
                                                rf"token can read it \(HfApi\(\).list_buckets\('{namespace}'\)"):
        list_bucket_files(reader, BucketPath(f"{namespace}/nope"))
