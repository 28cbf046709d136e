"""Image and audio folders through `spark.read.format("huggingface")`: the rows, order, columns and features of
plan/read.mediafolder (which tests/read/test_mediafolder_parity.py checks against `datasets`), labels and
metadata rows, splits, the new options; and what a narrow or filtered read fetches (no media / the kept rows'
media only), counted on a hub of the test's own."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from huggingface_hub import CommitOperationAdd, HfApi

from tests.conftest import READ_TOKEN, WRITE_TOKEN
from tests.read.test_mediafolder_parity import ours

pytestmark = pytest.mark.integration


def png(seed: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (3, 2), (seed * 20 % 256, 7, 255 - seed)).save(buf, "PNG")
    return buf.getvalue()


def pets_files() -> dict[str, bytes]:
    """Class folders in split folders (a label), one file in `test/dog` only."""
    files = {f"train/{c}/{i}.png": png(i + 10 * k) for k, c in enumerate(("cat", "dog")) for i in range(4)}
    files |= {"test/cat/7.png": png(40), "test/dog/8.png": png(41), "README.md": b"# pets\n"}
    return files


def captioned_files() -> dict[str, bytes]:
    """Images with a metadata.jsonl: a row per image but one, which no row names (not read, as in `datasets`)."""
    meta = [{"file_name": f"img/{i}.png", "caption": f"a {'dog' if i % 2 else 'cat'} {i}", "stars": i % 5}
            for i in range(6)]
    files = {f"img/{i}.png": png(i) for i in range(7)}
    files["metadata.jsonl"] = "".join(json.dumps(m) + "\n" for m in meta).encode()
    return files


def publish(api: HfApi, files: dict[str, bytes], repo_id: str | None = None) -> str:
    repo_id = repo_id or f"tests/mf-{uuid.uuid4().hex[:10]}"
    api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
    api.create_commit(repo_id, repo_type="dataset", commit_message="media",
                      operations=[CommitOperationAdd(p, b) for p, b in files.items()])
    return repo_id


def plain(rows: list[Any]) -> list[dict[str, Any]]:
    """Spark Rows as dicts of Python values (binary as bytes)."""
    def value(v: Any) -> Any:
        if isinstance(v, bytearray):
            return bytes(v)
        if isinstance(v, dict):
            return {k: value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [value(x) for x in v]
        return v

    return [value(r.asDict(recursive=True)) for r in rows]


@pytest.fixture(scope="module")
def pets(api) -> str:
    return publish(api, pets_files())


@pytest.fixture(scope="module")
def captioned(api) -> str:
    return publish(api, captioned_files())


def test_an_image_folder_with_labels_reads_as_plan_mediafolder_builds_it(spark, hub, pets) -> None:
    plan, tables = ours(hub.endpoint, pets)
    df = spark.read.format("huggingface").load(pets)
    assert df.columns == ["image", "label"]
    assert plan.label_names == ("cat", "dog")
    assert json.loads(df.schema["label"].metadata["huggingface.feature"]) == {"names": ["cat", "dog"],
                                                                              "_type": "ClassLabel"}
    assert json.loads(df.schema["image"].metadata["huggingface.feature"]) == {"_type": "Image"}
    assert plain(df.collect()) == tables["train"].to_pylist()
    test = spark.read.format("huggingface").option("split", "test").load(pets)
    assert plain(test.collect()) == tables["test"].to_pylist()
    every = spark.read.format("huggingface").option("split", "all").option("columns", "label,split").load(pets)
    assert sorted((r["split"], r["label"]) for r in every.collect()) == sorted(
        [("train", 0)] * 4 + [("train", 1)] * 4 + [("test", 0), ("test", 1)])


def test_the_split_error_lists_the_folders_splits(spark, pets) -> None:
    from pyspark.errors import AnalysisException

    with pytest.raises(AnalysisException, match=r"split 'validation' not found in config 'default'; its splits are: "
                                                r"train, test"):
        spark.read.format("huggingface").option("split", "validation").load(pets).collect()


def test_metadata_rows_and_the_drop_options(spark, hub, captioned) -> None:
    plan, tables = ours(hub.endpoint, captioned)
    df = spark.read.format("huggingface").load(captioned)
    assert df.columns == ["image", "caption", "stars"]
    assert plain(df.collect()) == tables["train"].to_pylist()  # 6 rows: img/6.png has no row
    hits = spark.read.format("huggingface").option("filters", '[["stars", ">=", 3]]').load(captioned)
    assert [r["caption"] for r in hits.collect()] == ["a dog 3", "a cat 4"]
    every_file = spark.read.format("huggingface").option("drop_metadata", "true").load(captioned)
    assert every_file.columns == ["image"] and every_file.count() == 7
    pets_like = spark.read.format("huggingface").option("drop_labels", "true").load(captioned)
    assert pets_like.columns == ["image", "caption", "stars"]  # metadata wins over labels anyway


def test_a_label_read_fetches_no_media_and_a_filtered_read_only_the_kept_rows(spark, own_hub) -> None:
    api = HfApi(endpoint=own_hub.endpoint, token=WRITE_TOKEN)
    repo = publish(api, {p: b for p, b in pets_files().items() if p != "README.md"})  # no card to read

    def read(**options: str) -> list[dict[str, Any]]:
        own_hub.reset_counters()
        reader = spark.read.format("huggingface").option("endpoint", own_hub.endpoint).option("token", READ_TOKEN)
        for key, value in options.items():
            reader = reader.option(key, value)
        return plain(reader.load(repo).collect())

    def fetched() -> int:
        c = own_hub.counters()
        return c["resolve"]["requests"] + c["cdn"]["requests"] + c["bridge"]["requests"]

    assert read(columns="label") == [{"label": 0}] * 4 + [{"label": 1}] * 4
    assert fetched() == 0
    cats = read(filters='[["label", "=", 0]]')
    assert [r["image"]["path"] for r in cats] == [f"{i}.png" for i in range(4)]
    assert own_hub.counters()["resolve"]["requests"] == 4  # one resolve per kept image, none for the dogs


def test_spark_filters_on_the_media_column_are_evaluated_by_spark(spark, pets) -> None:
    """With pushdown_filters, Spark offers `image IS NOT NULL` too: the media column's bytes are fetched after the
    rows are filtered, so that filter is handed back to Spark (the read works) while the label one is pushed."""
    df = spark.read.format("huggingface").option("pushdown_filters", "true").load(pets)
    everything = df.count()
    assert df.where("image is not null and label = 0").count() == df.where("label = 0").count() > 0
    assert df.where("image.path is not null").count() == everything
