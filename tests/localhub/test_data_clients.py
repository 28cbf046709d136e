"""`datasets`, pandas, dask, Daft and polars reading what the local hub serves, over real HTTP."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub import CommitOperationAdd

from tests.conftest import WRITE_TOKEN
from tests.data import make_table, parquet_bytes

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def parquet_repo(api) -> tuple[str, dict[str, pa.Table]]:
    """A dataset laid out the Hub's way: data/{split}-NNNNN-of-NNNNN.parquet."""
    import uuid

    rid = f"tests/clients-{uuid.uuid4().hex[:8]}"
    api.create_repo(rid, repo_type="dataset")
    splits = {"train": make_table(300), "test": make_table(50, 1000)}
    ops = []
    for split, table in splits.items():
        half = table.num_rows // 2
        for i, part in enumerate((table.slice(0, half), table.slice(half))):
            ops.append(CommitOperationAdd(f"data/{split}-{i:05d}-of-00002.parquet", parquet_bytes(part)))
    api.create_commit(rid, repo_type="dataset", operations=ops, commit_message="data")
    return rid, splits


def test_datasets_push_to_hub_then_load_dataset(api, hub) -> None:
    import uuid

    import datasets

    rid = f"tests/pushed-{uuid.uuid4().hex[:8]}"
    dd = datasets.DatasetDict({
        "train": datasets.Dataset.from_dict({"text": [f"t{i}" for i in range(200)], "label": list(range(200))}),
        "validation": datasets.Dataset.from_dict({"text": ["v0", "v1"], "label": [7, 8]}),
    })
    dd.push_to_hub(rid, token=WRITE_TOKEN)
    files = api.list_repo_files(rid, repo_type="dataset")
    assert "README.md" in files and any(f.startswith("data/train-") for f in files)
    loaded = datasets.load_dataset(rid)
    assert set(loaded) == {"train", "validation"}
    assert loaded["train"].to_dict() == dd["train"].to_dict()
    assert loaded["validation"].to_dict() == dd["validation"].to_dict()
    streamed = datasets.load_dataset(rid, split="train", streaming=True)
    assert list(streamed) == list(dd["train"])


def test_load_dataset_by_file_name_conventions(parquet_repo) -> None:
    import datasets

    rid, splits = parquet_repo
    loaded = datasets.load_dataset(rid)
    assert set(loaded) == {"train", "test"}
    for split, table in splits.items():
        assert loaded[split].to_dict() == table.to_pydict()


def test_pandas_and_dask_read_hf_paths(parquet_repo) -> None:
    import dask.dataframe as dd
    import pandas as pd

    rid, splits = parquet_repo
    df = pd.read_parquet(f"hf://datasets/{rid}/data/train-00000-of-00002.parquet")
    assert df["id"].tolist() == list(range(150))
    ddf = dd.read_parquet(f"hf://datasets/{rid}/data/test-*.parquet")
    got = ddf.compute().sort_values("id")
    assert got["id"].tolist() == splits["test"]["id"].to_pylist()


def test_daft_native_reader_over_resolve_urls(parquet_repo, hub) -> None:
    import daft

    rid, splits = parquet_repo
    sha = __import__("huggingface_hub").HfApi(endpoint=hub.endpoint).dataset_info(rid).sha
    urls = [f"{hub.endpoint}/datasets/{rid}/resolve/{sha}/data/train-{i:05d}-of-00002.parquet" for i in range(2)]
    got = daft.read_parquet(urls).sort("id").to_arrow()
    assert got.column("id").to_pylist() == splits["train"]["id"].to_pylist()
    assert got.column("text").to_pylist() == splits["train"]["text"].to_pylist()
    projected = daft.read_parquet(urls).where(daft.col("id") < 10).select("label").to_arrow()
    assert projected.num_rows == 10


def test_polars_over_resolve_url(parquet_repo, hub) -> None:
    import polars as pl

    rid, splits = parquet_repo
    url = f"{hub.endpoint}/datasets/{rid}/resolve/main/data/test-00001-of-00002.parquet"
    df = pl.read_parquet(url)
    assert df["id"].to_list() == splits["test"]["id"].to_pylist()[25:]


def test_pyarrow_reads_through_hf_file_system(parquet_repo) -> None:
    from huggingface_hub import HfFileSystem

    rid, splits = parquet_repo
    fs = HfFileSystem()
    table = pq.read_table(f"datasets/{rid}/data", filesystem=fs)
    assert sorted(table.column("id").to_pylist()) == sorted(
        splits["train"]["id"].to_pylist() + splits["test"]["id"].to_pylist())
