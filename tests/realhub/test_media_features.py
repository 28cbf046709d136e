"""Image columns against the real-Hub mode (signed, expiring redirects; rate limits): a Spark write with option
`features` puts the Image feature in the files and the card; Spark reads it back with the feature in the field's
metadata, and Daft's native reader (on the signed URLs) gives the same bytes."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from huggingface_hub import HfApi

from hfconnect.daft import read_huggingface
from tests.conftest import WRITE_TOKEN
from tests.realhub.conftest import counts

pytestmark = pytest.mark.integration


def _png(i: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (i, 2 * i, 3)).save(buf, "PNG")
    return buf.getvalue()


def test_spark_writes_images_that_spark_and_daft_read_back(spark, real_hub) -> None:
    from PIL import Image

    repo = f"real/media-{uuid.uuid4().hex[:6]}"
    df = spark.createDataFrame([(i, _png(i)) for i in range(120)], "id long, image binary")
    real_hub.reset_counters()
    (df.repartition(2).write.format("huggingface").mode("append").option("endpoint", real_hub.endpoint)
     .option("token", WRITE_TOKEN).option("features", "image=Image").save(repo))
    assert counts(real_hub)["commits"] == 1 and counts(real_hub)["limited"] == 0
    api = HfApi(endpoint=real_hub.endpoint, token=WRITE_TOKEN)
    files = [f for f in api.list_repo_files(repo, repo_type="dataset") if f.endswith(".parquet")]
    for name in files:
        schema = pq.read_schema(api.hf_hub_download(repo, name, repo_type="dataset"))
        assert json.loads(schema.metadata[b"huggingface"]) == {"info": {"features": {"image": {"_type": "Image"}}}}
    card = Path(api.hf_hub_download(repo, "README.md", repo_type="dataset")).read_text()
    assert "dtype: image" in card

    real_hub.reset_counters()
    back = (spark.read.format("huggingface").option("endpoint", real_hub.endpoint).option("token", WRITE_TOKEN)
            .load(repo))
    assert json.loads(back.schema["image"].metadata["huggingface.feature"]) == {"_type": "Image"}
    rows = sorted(back.collect(), key=lambda r: r.id)
    assert Image.open(io.BytesIO(rows[77].image.bytes)).getpixel((1, 1)) == (77, 154, 3)
    assert counts(real_hub)["limited"] == 0 and counts(real_hub)["cdn_with_token"] == 0
    native = read_huggingface(repo, split="train", endpoint=real_hub.endpoint, token=WRITE_TOKEN).to_pydict()
    assert sorted(zip(native["id"], (im["bytes"] for im in native["image"]), strict=True)) == \
        [(r.id, r.image.bytes) for r in rows]
