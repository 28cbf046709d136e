"""Image and audio folders through `hfconnect.daft.read_huggingface`: the rows plan/read.mediafolder build (checked
against `datasets` by tests/read/test_mediafolder_parity.py), every split with its `split` column, and Daft's
projection and filter pushed down: a label read fetches no media, a filtered read only the kept rows' media."""

from __future__ import annotations

import daft
import pytest
from huggingface_hub import HfApi

from hfconnect.daft import read_huggingface
from hfconnect.errors import OptionError
from tests.conftest import READ_TOKEN, WRITE_TOKEN
from tests.read.test_mediafolder_parity import ours
from tests.spark.test_media_folders import captioned_files, pets_files, publish

pytestmark = pytest.mark.integration


def rows(df: daft.DataFrame) -> list[dict]:
    return df.to_arrow().to_pylist()


def test_an_image_folder_reads_as_plan_mediafolder_builds_it(hub, api) -> None:
    repo = publish(api, pets_files())
    _, tables = ours(hub.endpoint, repo)
    train = read_huggingface(repo, split="train")
    assert train.column_names == ["image", "label"]
    assert rows(train) == tables["train"].to_pylist()
    every = read_huggingface(repo)  # every split, a `split` column
    got = rows(every.sort(["split", "label"]))
    assert [(r["split"], r["label"]) for r in got] == sorted(
        [("train", 0)] * 4 + [("train", 1)] * 4 + [("test", 0), ("test", 1)])
    assert read_huggingface(repo, format="imagefolder").count_rows() == 10
    with pytest.raises(OptionError, match=r"format='parquet': .* holds imagefolder data"):
        read_huggingface(repo, format="parquet")


def test_metadata_rows_with_the_hfconnect_reader_and_drop_metadata(hub, api) -> None:
    repo = publish(api, captioned_files())
    _, tables = ours(hub.endpoint, repo)
    df = read_huggingface(repo, split="train", reader="hfconnect", batch_size=2)
    assert rows(df) == tables["train"].to_pylist()
    assert read_huggingface(repo, split="train", drop_metadata=True).column_names == ["image"]
    assert read_huggingface(repo, split="train", drop_metadata=True).count_rows() == 7


def test_pushdowns_decide_which_media_are_fetched(own_hub) -> None:
    api = HfApi(endpoint=own_hub.endpoint, token=WRITE_TOKEN)
    repo = publish(api, {p: b for p, b in pets_files().items() if p != "README.md"})  # no card to read
    df = read_huggingface(repo, split="train", endpoint=own_hub.endpoint, token=READ_TOKEN)
    own_hub.reset_counters()
    assert df.select("label").to_pydict() == {"label": [0] * 4 + [1] * 4}
    counters = own_hub.counters()
    assert counters["resolve"]["requests"] + counters["cdn"]["requests"] + counters["bridge"]["requests"] == 0
    own_hub.reset_counters()
    cats = df.where(daft.col("label") == 0).select("image").to_arrow()
    assert [f.name for f in cats.column("image").type] == ["bytes", "path"]  # Daft hands large_binary/string
    assert [v["path"] for v in cats.column("image").to_pylist()] == [f"{i}.png" for i in range(4)]
    assert own_hub.counters()["resolve"]["requests"] == 4  # the cats' images only
