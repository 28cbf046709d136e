"""hfconnect.spark.read(spark, repo, ...): the same rows as format("huggingface"), pinned, pruned by `filters`."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from tests.conftest import WRITE_TOKEN
from tests.data import hub_with_one_file, publish_multi_config

pytestmark = pytest.mark.integration


def test_same_rows_as_the_format_for_each_config_and_split(spark, hub, multi_config) -> None:
    import hfconnect.spark as hs

    for (config, split), table in multi_config.tables.items():
        df = hs.read(spark, multi_config.repo_id, config=config, split=split, endpoint=hub.endpoint,
                     min_shards=3)
        if (config, split) == ("reviews", "train"):  # 3 files: 3 shards, 3 partitions
            assert df.rdd.getNumPartitions() == 3
        got = df.toArrow().sort_by("id")
        assert got.equals(table), (config, split)


def test_columns_and_filters_prune_and_stay_exact(spark, own_hub, own_api) -> None:
    import hfconnect.spark as hs

    published = publish_multi_config(own_api)
    table = published.tables[("reviews", "train")]
    own_hub.reset_counters()
    df = hs.read(spark, published.repo_id, config="reviews", endpoint=own_hub.endpoint, columns=["id", "score"],
                 filters=json.dumps([["id", ">=", 30_000], ["id", "<", 30_010]]))
    assert df.columns == ["id", "score"]
    assert [r.id for r in df.orderBy("id").collect()] == list(range(30_000, 30_010))
    served = own_hub.counters()["resolve"]["bytes_sent"]
    assert served < sum(len(b) for p, b in published.files.items() if p.startswith("reviews/train")) / 2
    want = table.filter(pa.compute.field("id") >= 30_000).num_rows
    assert hs.read(spark, published.repo_id, config="reviews", endpoint=own_hub.endpoint,
                   filters=json.dumps([["id", ">=", 30_000]])).count() == want


def test_pinned_to_the_commit_planned(spark, tmp_path: Path) -> None:
    """A commit after the DataFrame is made changes nothing it reads."""
    from huggingface_hub import HfApi

    import hfconnect.spark as hs
    from tests.data import make_table, parquet_bytes

    with hub_with_one_file(tmp_path / "hub", rows=10_000) as (hub, table):
        df = hs.read(spark, "f/ds", endpoint=hub.endpoint, token=WRITE_TOKEN)
        HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN).upload_file(
            path_or_fileobj=parquet_bytes(make_table(500, 10_000)), path_in_repo="data/train-00001-of-00002.parquet",
            repo_id="f/ds", repo_type="dataset")
        assert df.count() == table.num_rows
        assert WRITE_TOKEN not in df._jdf.queryExecution().toString()
