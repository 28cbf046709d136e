"""A WebDataset repo in the real-Hub mode (signed CDN URLs, resolver quotas): Spark and Daft read `datasets`' rows;
planning a large tar indexes its headers with ranged requests and resolves it once; the token never reaches the
CDN."""

from __future__ import annotations

import uuid

import pytest

from hfconnect.daft import read_huggingface
from hfconnect.options import ReadOptions
from hfconnect.plan import plan_read
from tests.conftest import READ_TOKEN, WRITE_TOKEN
from tests.read.test_webdataset import plain, signs_tar
from tests.realhub.conftest import counts

pytestmark = pytest.mark.integration

FILES = {"train/0000.tar": (0, 40), "train/0001.tar": (40, 40)}


@pytest.fixture(scope="module")
def repo(real_hub) -> str:
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(endpoint=real_hub.endpoint, token=WRITE_TOKEN)
    repo_id = f"real/wds-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo_id, repo_type="dataset")
    ops = [CommitOperationAdd(path, signs_tar(start, n, image=72)) for path, (start, n) in FILES.items()]
    api.create_commit(repo_id, repo_type="dataset", operations=ops, commit_message="shards")
    return repo_id


def keys() -> list[str]:
    return [f"shots.v2/cam-{i % 3:02d}/img_{i:04d}" for i in range(80)]


def test_planning_a_large_tar_costs_header_reads_and_one_resolve_per_file(real_hub, repo) -> None:
    from hfconnect.hub.http import signed_urls

    signed_urls._targets.clear()
    real_hub.reset_counters()
    plan = plan_read(ReadOptions.build(repo=repo, endpoint=real_hub.endpoint, token=READ_TOKEN, shard_size="100KB"))
    c = counts(real_hub)
    assert len(plan.shards) >= 4 and all(p.members for s in plan.shards for p in s.parts)
    assert c["resolvers"] <= len(FILES) + 1 and c["cdn_with_token"] == 0 and c["limited"] == 0  # + the card
    index = next(n for n in plan.notes if n.startswith("webdataset"))
    assert "2 large tar(s) indexed" in index
    assert c["cdn"] <= 2 * 40 + 2 + 2, (c, index)  # about one header window per sample, + the schema read


def test_spark_and_daft_read_every_sample(spark, real_hub, repo) -> None:
    real_hub.reset_counters()
    df = (spark.read.format("huggingface").option("endpoint", real_hub.endpoint).option("token", READ_TOKEN)
          .option("shard_size", "100KB").load(repo))
    rows = plain([r.asDict(recursive=True) for r in df.select("__key__", "cls", "json").collect()])
    assert [r["__key__"] for r in rows] == keys() and [r["cls"] for r in rows] == [i % 4 for i in range(80)]
    daft_df = read_huggingface(repo, split="train", endpoint=real_hub.endpoint, token=READ_TOKEN)
    got = daft_df.select("__key__", "jpg").to_pydict()
    assert got["__key__"] == keys() and all(j["bytes"][:2] == b"\xff\xd8" for j in got["jpg"])
    assert counts(real_hub)["cdn_with_token"] == 0


def test_a_webdataset_write_lands_in_one_commit_and_reads_back(real_hub) -> None:
    """format="webdataset" in the real-Hub mode: tars uploaded through Xet, ONE commit within the commit quota,
    read back by hfconnect through signed URLs on the other host, no token there, nothing rate-limited."""
    import daft
    from huggingface_hub import HfApi

    from hfconnect.daft import write_huggingface
    from tests.data import png_bytes

    repo_id = f"real/wds-write-{uuid.uuid4().hex[:8]}"
    shots = daft.from_pydict({"__key__": [f"cam_{i % 2}/shot{i:03d}" for i in range(12)],
                              "png": [png_bytes((i * 20, 0, 0)) for i in range(12)],
                              "cls": [i % 3 for i in range(12)]})
    real_hub.reset_counters()
    result = write_huggingface(shots, repo_id, endpoint=real_hub.endpoint, token=WRITE_TOKEN, format="webdataset")
    c = counts(real_hub)
    assert result.rows == 12 and all(f.endswith(".tar") for f in result.files)
    assert c["commits"] == 1 and c["limited"] == 0 and c["xet_tokens"] >= 1
    files = HfApi(endpoint=real_hub.endpoint, token=WRITE_TOKEN).list_repo_files(repo_id, repo_type="dataset")
    assert not [f for f in files if f.endswith(".parquet")]
    real_hub.reset_counters()
    got = read_huggingface(repo_id, endpoint=real_hub.endpoint, token=READ_TOKEN).select("__key__", "cls", "png")
    rows = got.to_pydict()
    assert sorted(zip(rows["__key__"], rows["cls"], strict=True)) == sorted(
        (f"cam_{i % 2}/shot{i:03d}", i % 3) for i in range(12))
    assert all(p["bytes"][:4] == b"\x89PNG" for p in rows["png"])
    c = counts(real_hub)
    assert c["cdn"] >= 1 and c["cdn_with_token"] == 0 and c["limited"] == 0
