"""Reading a Storage Bucket prefix through the engine-free planner and reader, against the real local hub over
HTTP, with data uploaded by huggingface_hub's `batch_bucket_files` (hf_xet): parity with pyarrow on the same
bytes (dictionary columns, nulls), projection and filter pushdown, JSON Lines and CSV, the spellings, each file
pinned by its Xet hash and size (a file replaced between planning and reading fails the read, naming it), the
errors a user can act on, a private bucket, and the real-Hub mode with faults on the bucket routes."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from hfconnect.errors import DataFileError, HfConnectError, OptionError, RepoNotFoundError
from hfconnect.hub import HubClient
from hfconnect.hub.http import signed_urls
from hfconnect.localhub import LocalHub
from hfconnect.options import ReadOptions
from hfconnect.plan import plan_read
from hfconnect.read import read_shard
from tests.conftest import READ_TOKEN, WRITE_TOKEN
from tests.data import parquet_bytes
from tests.read.buckets import PREFIX, Bucket, by_id, part_table, replace_file, upload
from tests.realhub.conftest import counts, start_hub

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bucket(hub: LocalHub) -> Bucket:
    return upload(hub.endpoint)


def opts(endpoint: str, repo: str, **kw: object) -> ReadOptions:
    return ReadOptions.build(repo=repo, endpoint=endpoint, **kw)


def read_all(plan) -> pa.Table:  # noqa: ANN001 - ReadPlan
    """Every shard, each read as a task would: from a pickled plan, in order."""
    batches = [b for shard in plan.shards for b in read_shard(pickle.loads(pickle.dumps(plan)), shard)]
    return pa.Table.from_batches(batches, schema=plan.schema)


def forget_signed_urls(plan) -> None:  # noqa: ANN001 - ReadPlan
    """As in a fresh task process: no signed URL of the plan's files known beyond what its shards carry."""
    for part in plan.files():
        url = plan.client.file_url(plan.snapshot_for([part]), part.path)
        target = signed_urls.get(url, margin=0)
        if target is not None:
            signed_urls.drop(url, target)


def test_prefix_reads_equal_pyarrow_with_dictionaries_and_nulls(hub: LocalHub, bucket: Bucket) -> None:
    plan = plan_read(opts(hub.endpoint, bucket.path(), min_shards=3))
    assert plan.snapshot.is_bucket and plan.snapshot.sha == "" and plan.snapshot.repo_id == bucket.bucket_id
    assert plan.total_files == 3 and len(plan.shards) >= 3  # runs/2024x and _SUCCESS are not under the prefix
    assert all(part.version and len(part.version) == 64 for part in plan.files())  # each file pinned by Xet hash
    assert not plan.snapshot.pins  # the plan keeps pins on its parts, not once more per task in its snapshot
    assert pa.types.is_dictionary(plan.schema.field("kind").type)
    table = read_all(plan)
    assert table.num_rows == bucket.parquet.num_rows and table.column("text").null_count > 0
    assert by_id(table).equals(by_id(bucket.parquet))
    text = plan.explain()
    assert f"bucket {bucket.bucket_id}, prefix '{PREFIX}'" in text and "Xet hash" in text
    assert WRITE_TOKEN not in text and WRITE_TOKEN not in repr(plan)


def test_projection_and_filter_pushdown(hub: LocalHub, bucket: Bucket) -> None:
    expr = (pc.field("id") >= 2_500) & (pc.field("id") < 4_200)
    plan = plan_read(opts(hub.endpoint, bucket.path(), columns=["id", "kind"]), filter=expr)
    assert plan.footers_read == 3 and any("statistics kept" in n for n in plan.notes)
    kept = sum(len(p.row_groups or ()) for s in plan.shards for p in s.parts)
    assert 0 < kept < 9  # row groups outside [2500, 4200) never fetched
    want = bucket.parquet.filter(expr).select(["id", "kind"])
    assert by_id(read_all(plan)).equals(by_id(want))
    dnf = plan_read(opts(hub.endpoint, bucket.path(), filters='[["label", "=", 3]]', columns="id,label"))
    assert by_id(read_all(dnf)).equals(by_id(bucket.parquet.filter(pc.field("label") == 3).select(["id", "label"])))


def test_spellings_whole_bucket_data_files_and_single_file(hub: LocalHub, bucket: Bucket) -> None:
    want = by_id(bucket.parquet)
    assert by_id(read_all(plan_read(opts(hub.endpoint, bucket.path(hf=True))))).equals(want)
    assert by_id(read_all(plan_read(opts(hub.endpoint, bucket.path() + "/")))).equals(want)
    # the whole bucket: globs relative to its root; a prefix: globs relative to the prefix
    whole = plan_read(opts(hub.endpoint, bucket.path(""), data_files=f"{PREFIX}/*.parquet"))
    assert by_id(read_all(whole)).equals(want)
    two = plan_read(opts(hub.endpoint, bucket.path(), data_files=["train=part-[01].parquet", "test=part-2.parquet"],
                         split="all"))
    assert two.splits == ("train", "test") and two.layout_source == "data_files"
    got = read_all(two)
    assert pc.sum(pc.equal(got.column("split"), "test")).as_py() == 3_000 and got.num_rows == 9_000
    one = plan_read(opts(hub.endpoint, bucket.path(f"{PREFIX}/part-1.parquet")))
    assert one.total_files == 1 and one.layout_source == "bucket file"
    assert by_id(read_all(one)).equals(by_id(part_table(1)))
    assert by_id(read_all(plan_read(opts(hub.endpoint, bucket.path(), data_dir="")))).equals(want)


def test_jsonl_and_csv_prefixes(hub: LocalHub, bucket: Bucket) -> None:
    jsonl = read_all(plan_read(opts(hub.endpoint, bucket.path("json"), min_shards=2)))
    assert jsonl.sort_by("id").equals(bucket.jsonl.sort_by("id"))
    filtered = plan_read(opts(hub.endpoint, bucket.path("json"), filters='[["id", "<", 10]]', columns=["id", "score"]))
    assert read_all(filtered).sort_by("id").equals(bucket.jsonl.filter(pc.field("id") < 10).select(["id", "score"]))
    csv = read_all(plan_read(opts(hub.endpoint, bucket.path("csv"))))
    assert csv.sort_by("id").equals(bucket.csv.sort_by("id"))


@pytest.mark.parametrize("change", ["replaced", "same size", "deleted"])
def test_a_file_changed_after_planning_fails_the_read_naming_it(hub: LocalHub, change: str) -> None:
    fresh = upload(hub.endpoint, name="changing")
    plan = plan_read(opts(hub.endpoint, fresh.path()))
    forget_signed_urls(plan)  # the tasks run elsewhere: they resolve the files they read
    path = f"{PREFIX}/part-1.parquet"
    if change == "deleted":
        from tests.read.buckets import api

        api(hub.endpoint).batch_bucket_files(fresh.bucket_id, delete=[path])
    else:
        rows = part_table(1, 500) if change == "replaced" else part_table(1).set_column(
            0, "id", pa.array(range(100_000, 103_000), pa.int64()))
        data = parquet_bytes(rows, row_group_size=1_000)
        if change == "same size":
            assert len(data) == len(fresh.files[path])  # only the Xet hash tells the new file from the old
        replace_file(hub.endpoint, fresh.bucket_id, path, data)
    with pytest.raises(DataFileError, match="changed since the read was planned") as err:
        read_all(plan)
    assert f"buckets/{fresh.bucket_id}/{path}" in str(err.value) and "re-run the read" in str(err.value)
    assert err.value.changed is True
    if change != "deleted":  # a new plan reads the bucket as it is now
        again = read_all(plan_read(opts(hub.endpoint, fresh.path())))
        assert again.num_rows == (6_500 if change == "replaced" else 9_000)


def test_a_planned_file_already_resolved_reads_the_planned_bytes(hub: LocalHub) -> None:
    """A task holding the signed URL planning got for a file reads that file's bytes (the URL is content-addressed)
    even after the path was overwritten: old and new bytes never mix within a read."""
    fresh = upload(hub.endpoint, name="pinned")
    plan = plan_read(opts(hub.endpoint, fresh.path(f"{PREFIX}/part-0.parquet")))
    assert any(shard.targets for shard in plan.shards)  # the footer read resolved it while planning
    replace_file(hub.endpoint, fresh.bucket_id, f"{PREFIX}/part-0.parquet", parquet_bytes(part_table(0, 10)))
    assert by_id(read_all(plan)).equals(by_id(part_table(0)))


def test_errors_a_user_can_act_on(hub: LocalHub, bucket: Bucket) -> None:
    namespace = bucket.bucket_id.split("/")[0]
    for token in (None, READ_TOKEN):
        with pytest.raises(RepoNotFoundError, match=f"bucket {namespace}/no-such-bucket not found") as err:
            plan_read(opts(hub.endpoint, f"buckets/{namespace}/no-such-bucket/x", token=token or ""))
        assert ("token" in str(err.value)) and "list_buckets" in str(err.value)
    with pytest.raises(HfConnectError, match="no Parquet, JSON Lines or CSV data files under this prefix") as err:
        plan_read(opts(hub.endpoint, bucket.path("nothing/here")))
    assert "no file at all" in str(err.value)
    with pytest.raises(HfConnectError, match="under this prefix matching data_files"):
        plan_read(opts(hub.endpoint, bucket.path(), data_files="*.csv"))
    for wrong, says in [(f"bucket/{bucket.bucket_id}/{PREFIX}", "plural"), ("buckets/onlyname", "namespace and name"),
                        (f"hf://{bucket.bucket_id}", "Storage Buckets only"),
                        ("hf://datasets/org/name", "pass its id alone")]:
        with pytest.raises(OptionError, match=says):
            plan_read(opts(hub.endpoint, wrong))
    with pytest.raises(OptionError, match="a bucket has no revisions"):
        plan_read(opts(hub.endpoint, bucket.path(), revision="v1"))


def test_private_bucket_needs_a_token(hub: LocalHub) -> None:
    private = upload(hub.endpoint, private=True, name="private")
    with pytest.raises(RepoNotFoundError, match="a private bucket needs a token") as err:
        plan_read(opts(hub.endpoint, private.path(), token=""))
    assert private.bucket_id in str(err.value)
    plan = plan_read(opts(hub.endpoint, private.path(), token=READ_TOKEN))
    assert READ_TOKEN not in plan.explain() and READ_TOKEN not in repr(plan)
    assert by_id(read_all(plan)).equals(by_id(private.parquet))
    anonymous_task = dataclasses.replace(plan, client=HubClient(hub.endpoint, None))
    forget_signed_urls(plan)
    with pytest.raises(RepoNotFoundError):  # a task without the token cannot read it either
        read_all(anonymous_task)


# ---- real-Hub mode: redirects to the other host, rate limits, faults on the bucket routes -------------------
@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalHub, Bucket]]:
    hub = start_hub(tmp_path_factory.mktemp("bucket-realhub"))
    try:
        yield hub, upload(hub.endpoint, private=True, name="real")
    finally:
        hub.close()


def test_real_hub_mode_reads_through_the_other_host(real: tuple[LocalHub, Bucket]) -> None:
    hub, data = real
    hub.reset_counters()
    plan = plan_read(opts(hub.endpoint, data.path(), token=READ_TOKEN, min_shards=3))
    forget_signed_urls(plan)
    assert by_id(read_all(plan)).equals(by_id(data.parquet))
    cost = counts(hub)
    assert cost["cdn"] > 0 and cost["cdn_with_token"] == 0 and cost["limited"] == 0, cost
    assert cost["resolvers"] <= 3 + plan.footers_read, cost  # each file resolved once per process that reads it
    assert cost["api"] == 1, cost  # one listing


@pytest.mark.parametrize("rules", [
    [{"route": "api", "match": "^/api/buckets/", "action": "status", "status": 503, "times": 3}],
    [{"route": "resolve", "match": "^/buckets/", "action": "status", "status": 503, "times": 4},
     {"route": "bridge", "action": "status", "status": 503, "every": 3, "times": 4}],
    [{"route": "resolve", "action": "status", "status": 429, "retry_after": 0.2, "times": 2},
     {"route": "bridge", "action": "reset_after", "after_bytes": 2_000, "times": 2}],
], ids=["api-503-burst", "resolve-and-bridge-503", "429-and-reset"])
def test_real_hub_faults_are_ridden_out(real: tuple[LocalHub, Bucket], rules: list[dict]) -> None:
    hub, data = real
    hub.reset_counters()
    hub.set_faults(rules, seed=7)
    try:
        options = opts(hub.endpoint, data.path(), token=READ_TOKEN, min_shards=3, retry_budget=30)
        plan = plan_read(options)
        forget_signed_urls(plan)
        assert by_id(read_all(plan)).equals(by_id(data.parquet))
        counters = hub.counters()
        assert sum(counters[route]["faults"] for route in ("api", "resolve", "bridge")) >= 2, counters
    finally:
        hub.clear_faults()


def test_listing_pages_and_many_files(tmp_path: Path, own_hub: LocalHub) -> None:
    """More files than one tree page (1000): every file listed, planned and read once."""
    from tests.read.buckets import api

    client = api(own_hub.endpoint)
    bucket_id = client.create_bucket("me/many").bucket_id
    files = [(f'{{"id": {i}}}\n'.encode(), f"d/{i:05d}.jsonl") for i in range(1_050)]
    client.batch_bucket_files(bucket_id, add=files)
    plan = plan_read(opts(own_hub.endpoint, f"buckets/{bucket_id}/d"))
    assert plan.total_files == 1_050
    assert sorted(read_all(plan).column("id").to_pylist()) == list(range(1_050))

