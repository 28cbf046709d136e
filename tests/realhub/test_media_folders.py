"""Image folders in the real-Hub mode (signed CDN URLs, resolver quotas): Spark and Daft read every image with at
most one resolve per media file and never send the token to the CDN; a read of labels (or metadata columns)
fetches no media byte, planning reads only the metadata files."""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi

from hfconnect.daft import read_huggingface
from tests.conftest import READ_TOKEN, WRITE_TOKEN
from tests.realhub.conftest import counts
from tests.spark.test_media_folders import captioned_files, pets_files, plain, publish

pytestmark = pytest.mark.integration

PETS = {p: b for p, b in pets_files().items() if p != "README.md"}  # no card: every request is a media one


@pytest.fixture(scope="module")
def repos(real_hub) -> dict[str, str]:
    api = HfApi(endpoint=real_hub.endpoint, token=WRITE_TOKEN)
    return {"pets": publish(api, PETS), "captioned": publish(api, captioned_files())}


def fresh(real_hub) -> None:
    """Counters at zero and no signed URL remembered by this process (Daft's tasks run here)."""
    from hfconnect.hub.http import signed_urls

    signed_urls._targets.clear()
    real_hub.reset_counters()


def test_spark_and_daft_read_every_image_with_one_resolve_each_at_most(spark, real_hub, repos) -> None:
    train = sorted(p for p in PETS if p.startswith("train/"))
    fresh(real_hub)
    df = (spark.read.format("huggingface").option("endpoint", real_hub.endpoint).option("token", READ_TOKEN)
          .option("shard_size", "300B").load(repos["pets"]))  # several tasks
    got = plain(df.collect())
    assert [r["image"]["bytes"] for r in got] == [PETS[p] for p in train]
    c = counts(real_hub)
    assert c["resolvers"] <= len(train) and c["cdn"] >= len(train), c
    assert c["cdn_with_token"] == 0 and c["limited"] == 0
    fresh(real_hub)
    got = read_huggingface(repos["pets"], split="train", endpoint=real_hub.endpoint, token=READ_TOKEN).to_pydict()
    assert [i["bytes"] for i in got["image"]] == [PETS[p] for p in train]
    c = counts(real_hub)
    assert c["resolvers"] <= len(train) and c["cdn_with_token"] == 0 and c["limited"] == 0, c


def test_label_and_metadata_reads_fetch_no_media(spark, real_hub, repos) -> None:
    fresh(real_hub)
    labels = (spark.read.format("huggingface").option("endpoint", real_hub.endpoint).option("token", READ_TOKEN)
              .option("columns", "label").load(repos["pets"]))
    assert sorted(r["label"] for r in labels.collect()) == [0] * 4 + [1] * 4
    df = read_huggingface(repos["pets"], endpoint=real_hub.endpoint, token=READ_TOKEN)
    assert df.select("label").count_rows() == 10
    c = counts(real_hub)
    assert c["resolvers"] == 0 and c["cdn"] == 0, c
    fresh(real_hub)
    captions = read_huggingface(repos["captioned"], split="train", endpoint=real_hub.endpoint, token=READ_TOKEN)
    assert captions.select("caption").to_pydict()["caption"] == [f"a {'dog' if i % 2 else 'cat'} {i}"
                                                                 for i in range(6)]
    c = counts(real_hub)
    assert c["resolvers"] == 1 and c["cdn"] <= 1 and c["cdn_with_token"] == 0, c  # metadata.jsonl, to plan
