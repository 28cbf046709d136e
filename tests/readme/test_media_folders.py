"""The "Image and audio folders" examples of docs/media.md, run as written on the session hub (HF_ENDPOINT):
me/pet-photos (class folders in split folders) and me/captioned (images and a metadata.jsonl). The copies here are
the text the page holds: its blocks must equal them."""

from __future__ import annotations

import pytest

from tests.readme.blocks import section_blocks
from tests.spark.test_media_folders import captioned_files, pets_files, publish

pytestmark = pytest.mark.integration

PAGE = "docs/media.md"
README_SECTION = "Image and audio folders"
MARKER = "tests/readme/test_media_folders.py"

SPARK_EXAMPLE = '''\
# spark: a SparkSession (see Quickstart). me/pet-photos holds train/cat/*.png, train/dog/*.png, test/cat/*.png, ...
pets = spark.read.format("huggingface").load("me/pet-photos")
pets.printSchema()  # image: struct<bytes, path> (Image), label: long (ClassLabel: cat, dog)
labels = spark.read.format("huggingface").option("columns", "label").load("me/pet-photos")
labels.groupBy("label").count().orderBy("label").show()  # fetches no image
cats = spark.read.format("huggingface").option("filters", '[["label", "=", 0]]').load("me/pet-photos")
print(cats.select("image.path").count())  # fetches only the cats' images
'''

DAFT_EXAMPLE = '''\
import daft
from hfconnect.daft import read_huggingface

# me/captioned: images and a metadata.jsonl of {"file_name", "caption", "stars"} rows
captions = read_huggingface("me/captioned", split="train")
print(captions.schema())  # image: struct<bytes, path>, caption: string, stars: int64
best = captions.where(daft.col("stars") >= 4).select("image", "caption")  # fetches only those rows' images
print(best.to_pylist()[0]["caption"])
'''


@pytest.fixture(scope="module")
def repos(api) -> None:
    publish(api, pets_files(), "me/pet-photos")
    publish(api, captioned_files(), "me/captioned")


def test_the_page_holds_these_examples() -> None:
    found = [b.text for b in section_blocks(README_SECTION, PAGE) if b.marker and MARKER in b.marker[1]]
    assert found == [SPARK_EXAMPLE, DAFT_EXAMPLE], "docs/media.md's examples and this test's copies differ"


def test_the_spark_example(spark, hub, repos, capsys) -> None:
    exec(SPARK_EXAMPLE, {"spark": spark})  # noqa: S102 - the README's example, verbatim
    out = capsys.readouterr().out
    assert "image: struct" in out and "label: long" in out
    flat = out.replace(" ", "")
    assert "|0|4|" in flat and "|1|4|" in flat  # the label counts of train
    assert out.strip().splitlines()[-1] == "4"


def test_the_daft_example(hub, repos, capsys) -> None:
    exec(DAFT_EXAMPLE, {})  # noqa: S102 - the README's example, verbatim
    out = capsys.readouterr().out
    assert "caption" in out and "stars" in out
    assert out.strip().splitlines()[-1] == "a cat 4"
