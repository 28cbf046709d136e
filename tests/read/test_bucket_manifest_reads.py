"""Reading a bucket prefix hfconnect wrote, through the engine-free planner and reader against the real local hub:
the prefix's manifest decides the files (an orphan of a killed job is never read, an overwrite's old rows never
appear), each pinned to the Xet hash and size the manifest recorded; a file changed by hand and a manifest that
does not parse are errors naming them; a prefix without manifest reads every data file."""

from __future__ import annotations

import pickle

import pyarrow as pa
import pytest

from hfconnect.errors import DataFileError, HfConnectError
from hfconnect.hub.bucket_manifest import MANIFEST_NAME, ManifestError
from hfconnect.localhub import LocalHub
from hfconnect.options import ReadOptions
from hfconnect.plan import plan_read
from hfconnect.read import read_shard
from tests.conftest import WRITE_TOKEN
from tests.data import parquet_bytes
from tests.read.buckets import add_orphan, api, ids_table, replace_file, write_job, written_bucket
from tests.realhub.conftest import counts, start_hub

pytestmark = pytest.mark.integration


def _plan(endpoint: str, path: str, **kw: object):  # noqa: ANN202 - ReadPlan
    return plan_read(ReadOptions.build(repo=path, endpoint=endpoint, **kw))


def _ids(plan) -> list[int]:  # noqa: ANN001 - ReadPlan
    batches = [b for shard in plan.shards for b in read_shard(pickle.loads(pickle.dumps(plan)), shard)]
    return sorted(pa.Table.from_batches(batches, schema=plan.schema).column("id").to_pylist())


def test_the_manifest_decides_the_files_and_orphans_are_never_read(hub: LocalHub) -> None:
    bucket_id = written_bucket(hub.endpoint, "manifest-reads")
    plan = _plan(hub.endpoint, f"buckets/{bucket_id}/t")
    assert _ids(plan) == list(range(400))  # the job's rows, not the orphan's
    assert plan.total_files == 2 and all(p.version and len(p.version) == 64 for p in plan.files())
    assert "manifest t/_hfconnect_manifest.json of job" in plan.explain()
    assert not any(p.path.endswith(MANIFEST_NAME) or "0rphan" in p.path for p in plan.files())
    # data_files / data_dir select within the manifest's files
    first = _plan(hub.endpoint, f"buckets/{bucket_id}/t", data_files="part-00000-*.parquet")
    assert first.total_files == 1 and len(_ids(first)) == 200
    with pytest.raises(HfConnectError, match="matching data_files"):
        _plan(hub.endpoint, f"buckets/{bucket_id}/t", data_files="*0rphan*")
    # the whole bucket: t/ by its manifest, plain/ (no manifest) every data file
    assert _ids(_plan(hub.endpoint, f"buckets/{bucket_id}")) == sorted([*range(400), *range(30)])
    assert _ids(_plan(hub.endpoint, f"buckets/{bucket_id}/plain")) == list(range(30))


def test_after_an_append_and_an_overwrite_old_rows_never_appear(hub: LocalHub) -> None:
    bucket_id = written_bucket(hub.endpoint, "manifest-overwrite")
    write_job(hub.endpoint, f"buckets/{bucket_id}/t", range(400, 500), mode="append")
    assert _ids(_plan(hub.endpoint, f"buckets/{bucket_id}/t")) == list(range(500))  # the orphan stays out
    planned_before = _plan(hub.endpoint, f"buckets/{bucket_id}/t")
    write_job(hub.endpoint, f"buckets/{bucket_id}/t", range(1_000, 1_100), mode="overwrite")
    assert _ids(_plan(hub.endpoint, f"buckets/{bucket_id}/t")) == list(range(1_000, 1_100))
    # a read planned before the overwrite reads what it planned (through the signed URLs planning got, which
    # serve that content), or fails naming a file: never the new rows mixed in
    assert _ids(planned_before) == list(range(500))


def test_a_file_of_the_manifest_replaced_by_hand_fails_naming_it(hub: LocalHub) -> None:
    bucket_id = written_bucket(hub.endpoint, "manifest-changed")
    result = write_job(hub.endpoint, f"buckets/{bucket_id}/t", range(0, 10), mode="overwrite")
    path = result.files[1]
    replace_file(hub.endpoint, bucket_id, path, parquet_bytes(ids_table(range(7_000, 7_005))))
    with pytest.raises(DataFileError, match=rf"buckets/{bucket_id}/{path}: changed since the manifest "
                                            rf"buckets/{bucket_id}/t/{MANIFEST_NAME} was written") as err:
        _plan(hub.endpoint, f"buckets/{bucket_id}/t")
    assert err.value.changed is True and "re-run the read" in str(err.value)
    api(hub.endpoint).batch_bucket_files(bucket_id, delete=[path])
    with pytest.raises(DataFileError, match=rf"{path}: the manifest .* names this file, which is missing"):
        _plan(hub.endpoint, f"buckets/{bucket_id}/t")


def test_a_manifest_that_does_not_parse_fails_naming_it(hub: LocalHub) -> None:
    bucket_id = written_bucket(hub.endpoint, "manifest-bad")
    api(hub.endpoint).batch_bucket_files(bucket_id, add=[(b'{"format": "hfconnect-bucket-manifest", "version": 1',
                                                          f"t/{MANIFEST_NAME}")])
    with pytest.raises(ManifestError, match=rf"buckets/{bucket_id}/t/{MANIFEST_NAME} is not a valid hfconnect bucket "
                                            r"manifest: not JSON .*mode overwrite.*delete the manifest") as err:
        _plan(hub.endpoint, f"buckets/{bucket_id}/t")
    assert WRITE_TOKEN not in str(err.value)
    api(hub.endpoint).batch_bucket_files(bucket_id, delete=[f"t/{MANIFEST_NAME}"])
    # without a manifest: every data file, the orphan included (as any reader of the prefix)
    assert _ids(_plan(hub.endpoint, f"buckets/{bucket_id}/t")) == [*range(400), *range(5_000, 5_050)]


def test_a_prefix_holding_a_sub_prefix_written_by_hfconnect(hub: LocalHub) -> None:
    """Reading `buckets/ns/b/data` when a job wrote `data/events`: events/ is read by its manifest (its orphan
    excluded), the rest of data/ as without one."""
    bucket_id = written_bucket(hub.endpoint, "manifest-nested")
    write_job(hub.endpoint, f"buckets/{bucket_id}/data/events", range(100, 150), mode="overwrite")
    add_orphan(hub.endpoint, bucket_id, "data/events", range(9_000, 9_010))
    api(hub.endpoint).batch_bucket_files(bucket_id, add=[(parquet_bytes(ids_table(range(3))), "data/loose.parquet")])
    assert _ids(_plan(hub.endpoint, f"buckets/{bucket_id}/data")) == [0, 1, 2, *range(100, 150)]


def test_real_hub_mode_costs_one_resolve_for_the_manifest(tmp_path_factory: pytest.TempPathFactory) -> None:
    real = start_hub(tmp_path_factory.mktemp("manifest-realhub"))
    try:
        bucket_id = written_bucket(real.endpoint, "manifest-real")
        real.reset_counters()
        plan = _plan(real.endpoint, f"buckets/{bucket_id}/t", token=WRITE_TOKEN)
        cost = counts(real)
        assert cost["api"] == 1, cost  # the listing
        assert cost["resolvers"] <= 1 + plan.footers_read, cost  # the manifest once, then the footers planning reads
        assert _ids(plan) == list(range(400))
    finally:
        real.close()
